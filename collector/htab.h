/*
 * htab.h - open-addressing hash table of fixed-size entries stored inline.
 *
 * The key is the first `key_len` bytes of each entry and is compared with
 * memcmp, so callers zero their key structs (padding included) before
 * filling them.  The table grows by doubling up to `max_count` entries;
 * past that, inserts are refused and counted, which is how every per-worker
 * table (connections, exporters, sequence state) keeps a known ceiling
 * under spoofed or hostile input.
 *
 * Growing moves entries: a pointer returned by htab_find/htab_insert is
 * valid only until the next insert.
 *
 * @thread owner only (tables belong to one worker or to the merger).
 */
#ifndef PEERSCOPE_HTAB_H
#define PEERSCOPE_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct htab {
	uint8_t *entries;  /* capacity * entry_size */
	uint64_t *hashes;  /* per slot: key hash | 1, or 0 when empty */
	uint32_t capacity; /* power of two */
	uint32_t count;
	uint32_t max_count; /* refuse inserts beyond this */
	uint32_t key_len;
	uint32_t entry_size;
	uint64_t refused; /* inserts refused at max_count */
};

int htab_init(struct htab *h, uint32_t key_len, uint32_t entry_size,
	      uint32_t max_count);
void htab_fini(struct htab *h);

/* Entry with this key, or NULL. */
void *htab_find(const struct htab *h, const void *key);

/*
 * Entry with this key, created zeroed (key copied) when absent; *created
 * tells which.  NULL when the table is at max_count (h->refused++) or out
 * of memory.
 */
void *htab_insert(struct htab *h, const void *key, bool *created);

/* Iterate: for (i = 0; (e = htab_next(h, &i)) != NULL;) */
void *htab_next(const struct htab *h, uint32_t *pos);

/* Bytes held, for memory accounting. */
size_t htab_bytes(const struct htab *h);

uint64_t htab_hash(const void *key, size_t len);

#endif /* PEERSCOPE_HTAB_H */
