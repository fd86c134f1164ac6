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
 * valid only until the next insert or removal.
 *
 * Aging tables (htab_init_aging) are for state that must not fill up for
 * good: per-exporter sequence numbers, sample pools, sampling rates.  They
 * keep their entries in recency order (an intrusive list by slot index,
 * beside the entries), stamped with the owner's clock (ns).  htab_insert()
 * (found or created) and htab_touch() make an entry the most recently
 * used; at max_count an insert evicts the least recently used entry
 * instead of refusing, so a new key always gets a slot (counted in
 * `evicted`); htab_expire() forgets entries untouched since a time.  A
 * flood of one-off keys can then only push out entries that are idle for
 * longer than it takes the flood to fill the table, never the active ones.
 * An entry already used within the table's `touch_ns` stays where it is
 * (one read, no list surgery on most per-sample touches): an active entry
 * is safe while fewer than max_count new keys arrive in touch_ns.
 *
 * @thread owner only (tables belong to one worker or to the merger).
 */
#ifndef PEERSCOPE_HTAB_H
#define PEERSCOPE_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Recency links of an aging table's slot (slot indices). */
struct htab_age {
	uint32_t newer, older; /* HTAB_NONE at the ends */
	uint64_t stamp;	       /* owner's clock when last used */
};

#define HTAB_NONE UINT32_MAX

struct htab {
	uint8_t *entries;  /* capacity * entry_size */
	uint64_t *hashes;  /* per slot: key hash | 1, or 0 when empty */
	uint32_t capacity; /* power of two */
	uint32_t count;
	uint32_t max_count; /* refuse (or, aging, evict) beyond this */
	uint32_t key_len;
	uint32_t entry_size;
	uint64_t refused; /* inserts refused at max_count */
	/* aging tables only (age == NULL otherwise) */
	struct htab_age *age;  /* per slot */
	uint32_t newest, oldest; /* slots, HTAB_NONE when empty */
	const uint64_t *clock; /* the owner's time (ns), read at each use */
	uint64_t touch_ns;     /* used again within this: not moved */
	uint64_t evicted;      /* least recently used, at max_count */
	uint64_t expired;      /* by htab_expire() */
};

int htab_init(struct htab *h, uint32_t key_len, uint32_t entry_size,
	      uint32_t max_count);

/*
 * An aging table (above).  `clock` points at the owner's time in ns
 * (never going back), read when an entry is used; an entry used again
 * within `touch_ns` of its last move keeps its place.
 */
int htab_init_aging(struct htab *h, uint32_t key_len, uint32_t entry_size,
		    uint32_t max_count, const uint64_t *clock,
		    uint64_t touch_ns);
void htab_fini(struct htab *h);

/* Entry with this key, or NULL. */
void *htab_find(const struct htab *h, const void *key);

/*
 * Entry with this key, created zeroed (key copied) when absent; *created
 * tells which.  NULL when the table is at max_count (h->refused++) or out
 * of memory.
 */
void *htab_insert(struct htab *h, const void *key, bool *created);

/* Aging tables: `e` (from find or insert) is the most recently used. */
void htab_touch(struct htab *h, void *e);

/*
 * Remove one entry (from find, insert or next); entries after it may move.
 * Removing while iterating with htab_next() may skip or repeat entries.
 */
void htab_remove(struct htab *h, void *e);

/*
 * Aging tables: remove the entries last used before `before` (owner's
 * clock), least recently used first.  Returns how many went.
 */
uint32_t htab_expire(struct htab *h, uint64_t before);

/* Iterate: for (i = 0; (e = htab_next(h, &i)) != NULL;) */
void *htab_next(const struct htab *h, uint32_t *pos);

/* Bytes held, for memory accounting. */
size_t htab_bytes(const struct htab *h);

uint64_t htab_hash(const void *key, size_t len);

#endif /* PEERSCOPE_HTAB_H */
