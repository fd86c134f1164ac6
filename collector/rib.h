/*
 * rib.h - the routes one BMP peer announced, per view and address family,
 * with their attributes interned per router.
 *
 * One route table per peer, on purpose: Peer Down (or the end of the BMP
 * session) drops a peer's routes by releasing that peer's table, a walk
 * over its own entries only, never over the whole router (pmacct walks its
 * trie; Akvorado holds a lock for seconds).
 *
 * A route is (view, family, prefix, length, RD, path id) -> attribute id.
 * The table is open addressing with linear probing and backward-shift
 * deletion (no tombstones, so withdraw-heavy streams never degrade it).
 * Attributes are the raw path attribute bytes, interned: one copy per
 * distinct set, reference counted by the routes that use it.
 *
 * Only the BMP thread reads and writes these tables; readers on other
 * threads use immutable snapshots (rib_snap.h).
 *
 * @thread bmp (owner only).
 */
#ifndef PEERSCOPE_RIB_H
#define PEERSCOPE_RIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rib_key {
	uint8_t view;
	uint8_t afs;  /* bgp_afs_index() */
	uint8_t len;  /* prefix bits */
	uint8_t pad;
	uint32_t path_id;
	uint64_t rd;
	uint8_t addr[16];
};

struct rib_entry {
	struct rib_key key;
	uint32_t attr; /* attr_table id; 0 = slot empty */
	uint32_t hash; /* low bits of the key hash, to skip memcmp */
};

struct rib_table {
	struct rib_entry *e;
	uint32_t cap;   /* power of two, or 0 */
	uint32_t count;
};

struct attr_set {
	uint64_t hash;
	uint32_t refs;  /* 0 = free slot (on the free list) */
	uint32_t len;
	uint8_t *bytes;
	uint32_t next;  /* hash chain, or free list */
};

/* Interned attribute sets of one router. */
struct attr_table {
	struct attr_set *v; /* index 0 unused: id 0 means "none" */
	uint32_t n, cap;
	uint32_t *bucket;   /* hash chains, nbucket a power of two */
	uint32_t nbucket;
	uint32_t free_head;
	uint32_t live;
	uint64_t bytes;     /* attribute bytes held */
};

void attr_table_init(struct attr_table *t);
void attr_table_fini(struct attr_table *t);
/* Reference to the set equal to bytes[0..len), created if new; 0 = OOM. */
uint32_t attr_get(struct attr_table *t, const uint8_t *bytes, uint32_t len);
void attr_put(struct attr_table *t, uint32_t id);
/* One more reference to a live set. */
void attr_ref(struct attr_table *t, uint32_t id);

void rib_table_init(struct rib_table *r);
/* Release every route (their attribute references too). */
void rib_table_clear(struct rib_table *r, struct attr_table *at);
void rib_table_fini(struct rib_table *r, struct attr_table *at);

/*
 * Insert or replace; takes over one reference to `attr`.  Returns 1 when
 * the route is new, 0 when replaced, -1 when out of memory or past
 * max_routes (the reference is dropped).
 */
int rib_insert(struct rib_table *r, struct attr_table *at,
	       const struct rib_key *k, uint32_t attr, uint32_t max_routes);
/* 1 when the route was there and is gone, 0 when it was unknown. */
int rib_remove(struct rib_table *r, struct attr_table *at,
	       const struct rib_key *k);
uint32_t rib_find(const struct rib_table *r, const struct rib_key *k);

size_t rib_table_bytes(const struct rib_table *r);

#endif /* PEERSCOPE_RIB_H */
