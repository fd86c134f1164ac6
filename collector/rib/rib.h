/*
 * rib.h - the routes one BMP peer announced, per view and address family,
 * with their attributes interned per router.
 *
 * One route table per peer, on purpose: Peer Down (or the end of the BMP
 * session) drops a peer's routes by releasing that peer's table, a walk
 * over its own slots only, never over the whole router (pmacct walks its
 * trie; Akvorado holds a lock for seconds).
 *
 * A route is (view, family, prefix, length, RD, path id) -> attribute id.
 * Inside a peer's table, every (view, family) has its own sub-table, so
 * view and family are not stored per route, and each sub-table stores the
 * narrowest key that holds every route it has seen.  A slot is packed
 * bytes, read with memcpy:
 *
 *   | attr id 4 | length 1 | prefix 4, 8 or 16 | [path id 4] | [RD 8] |
 *
 * The prefix is 4 bytes (IPv4, IPv6 up to /32) until a route has a
 * nonzero byte past the fourth, then 8 (IPv6 up to /64: nearly all of a
 * full table), then 16; the path id is stored once a route carries a
 * nonzero one (ADD-PATH), the RD once a route carries a nonzero one
 * (VPN).  An absent field reads as 0, so keys that differ only there stay
 * apart.  Widening rebuilds the sub-table, at most three times; an emptied
 * sub-table is freed and starts narrow again.  Attribute id 0 marks an
 * empty slot.
 *
 * Each sub-table is open addressing with linear probing and backward-shift
 * deletion (no tombstones, so withdraw-heavy streams never degrade it); no
 * hash is stored: a probe compares the packed key bytes, and moving a slot
 * rehashes them (5 to 29 bytes, one to four multiplies).
 *
 * Bytes per route: the slot (IPv4 unicast 9, IPv6 unicast up to /64 13,
 * IPv4 with ADD-PATH 13, VPNv4 17, VPNv6 /64 with ADD-PATH 25, the widest
 * 33) divided by the load, which stays between 3/8 and 3/4 once grown
 * (capacity a power of two, doubled past 3/4, halved below 1/8; at least
 * 16 slots): IPv4 unicast 12-24 B, IPv6 unicast 17-35 B, the widest
 * 44-88 B.  A full table (1 M IPv4 + 200 k IPv6 /48, bench_bmp) takes
 * 2^21 x 9 + 2^19 x 13 bytes = 21.4 B/route.  Attributes are the raw
 * path attribute bytes, interned: one copy per distinct set, reference
 * counted by the routes that use it, not counted in the above.  A peer's
 * fixed cost is the sub-table headers (struct rib_table, about 1 KB).
 *
 * Why not a path-compressed binary trie (the "prefix tree")?  It
 * needs up to two nodes per route, each with two 32-bit child indices,
 * the attribute id, the length and the prefix: about 40 B per IPv4 route
 * and 50-70 B per IPv6 route before pool slack, more with path ids (a
 * list per node) or RDs (a tree per RD); and an insert follows about 20
 * dependent nodes, a cache miss each, where the hash touches about one,
 * which matters for the 2 s full-table budget.  Longest-prefix match,
 * what a tree would add, is served to readers by the snapshots
 * (rib_snap.h), built from a walk of the unicast sub-tables
 * (rib_iter_next).
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

#include "peerscope/bgp.h"
#include "peerscope/bmp.h"

#define RIB_VIEWS    BMP_VIEW_COUNT
#define RIB_FAMILIES BGP_AFS_COUNT

/* What callers pass in and get back; never stored as such. */
struct rib_key {
	uint8_t view; /* < RIB_VIEWS */
	uint8_t afs;  /* bgp_afs_index(), < RIB_FAMILIES */
	uint8_t len;  /* prefix bits */
	uint8_t pad;
	uint32_t path_id;
	uint64_t rd;
	uint8_t addr[16];
};

/* The routes of one (view, family). */
struct rib_sub {
	uint8_t *slot;     /* cap slots of `stride` bytes */
	uint32_t cap;      /* power of two, or 0 */
	uint32_t count;
	uint8_t addr_len;  /* prefix bytes stored: 4, 8 or 16 */
	bool has_path_id;
	bool has_rd;
	uint8_t stride;    /* 4 + 1 + addr_len + 4 * has_path_id + 8 * has_rd */
};

struct rib_table {
	struct rib_sub sub[RIB_VIEWS][RIB_FAMILIES];
	uint32_t count;    /* routes in all sub-tables */
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
 * Insert or replace; takes over one reference to `attr` (nonzero).
 * Returns 1 when the route is new, 0 when replaced, -1 when out of
 * memory, past max_routes (routes in the whole table) or with a view or
 * family out of range (the reference is dropped).  A replace never
 * allocates and is never refused.
 */
int rib_insert(struct rib_table *r, struct attr_table *at,
	       const struct rib_key *k, uint32_t attr, uint32_t max_routes);
/* 1 when the route was there and is gone, 0 when it was unknown. */
int rib_remove(struct rib_table *r, struct attr_table *at,
	       const struct rib_key *k);
/* The route's attribute id, 0 when unknown. */
uint32_t rib_find(const struct rib_table *r, const struct rib_key *k);

/* Slot bytes held by every sub-table (not the interned attributes). */
size_t rib_table_bytes(const struct rib_table *r);

/*
 * Walk the routes of one (view, family) in slot order:
 *
 *   struct rib_iter it;
 *   rib_iter_init(&it, view, afs);
 *   while (rib_iter_next(r, &it, &key, &attr)) ...
 *
 * The table must not change during the walk.
 */
struct rib_iter {
	unsigned view, afs;
	uint32_t slot; /* next slot to look at */
};

void rib_iter_init(struct rib_iter *it, unsigned view, unsigned afs);
/* true with *k (view and afs included) and *attr set; false at the end. */
bool rib_iter_next(const struct rib_table *r, struct rib_iter *it,
		   struct rib_key *k, uint32_t *attr);

#endif /* PEERSCOPE_RIB_H */
