/*
 * test_rib.c - collector/rib/rib.c against a plain array kept beside it.
 *
 * The route table deletes by backward shift, which is easy to get subtly
 * wrong (an entry stranded past a hole is never found again); a seeded
 * random mix of inserts and removes, with a small key space so probe runs
 * are long and wrap around, is checked after every step against a flat
 * array of what should be there.  Attribute reference counts are checked
 * the same way: every set is freed exactly when its last route goes.
 *
 * Each (view, family) stores the narrowest key its routes need and widens
 * when a route needs more (a prefix past 32 bits, a path id, an RD), so a
 * second random run mixes such keys in, with phases of mass withdrawals
 * that shrink and empty the tables; the edge cases (/0, /32, /128, path
 * ids, RDs, views, unknown removes, resizes, clear, the walk) have their
 * own tests with hand-written keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rib/rib.h"

#define KEYS 512

static void key_of(unsigned i, struct rib_key *k)
{
	memset(k, 0, sizeof(*k));
	k->view = (uint8_t)(i % 3);
	k->afs = (uint8_t)(i % 2);
	k->len = 24;
	k->path_id = i / 256;
	k->addr[0] = 10;
	k->addr[1] = (uint8_t)(i >> 8);
	k->addr[2] = (uint8_t)i;
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_against_array(void **state)
{
	static uint32_t want[KEYS]; /* attribute id held per key, 0 = none */
	static uint32_t ids[4];
	const uint8_t attrs[4][3] = { { 1, 2, 3 }, { 4 }, { 5, 6 }, { 7, 8, 9 } };
	struct attr_table at;
	struct rib_table r;
	uint32_t seed = 12345, count = 0;

	(void)state;
	memset(want, 0, sizeof(want));
	attr_table_init(&at);
	rib_table_init(&r);
	/* one base reference per set, held by the test */
	for (int a = 0; a < 4; a++)
		ids[a] = attr_get(&at, attrs[a], a == 1 ? 1u : a == 2 ? 2u : 3u);
	for (int step = 0; step < 200000; step++) {
		unsigned i = rnd(&seed) % KEYS;
		struct rib_key k;

		key_of(i, &k);
		if (rnd(&seed) % 3 != 0) {
			uint32_t id = ids[rnd(&seed) % 4];
			int rc;

			attr_ref(&at, id);
			rc = rib_insert(&r, &at, &k, id, KEYS);
			assert_int_equal(rc, want[i] == 0 ? 1 : 0);
			if (want[i] == 0)
				count++;
			want[i] = id;
		} else {
			assert_int_equal(rib_remove(&r, &at, &k),
					 want[i] != 0 ? 1 : 0);
			if (want[i] != 0)
				count--;
			want[i] = 0;
		}
		assert_int_equal(r.count, count);
		if (step % 997 == 0) {
			for (unsigned j = 0; j < KEYS; j++) {
				key_of(j, &k);
				assert_int_equal(rib_find(&r, &k), want[j]);
			}
		}
	}
	/* references: base + one per route */
	for (int a = 0; a < 4; a++) {
		uint32_t n = 1;

		for (unsigned j = 0; j < KEYS; j++)
			n += want[j] == ids[a];
		assert_int_equal(at.v[ids[a]].refs, n);
	}
	rib_table_clear(&r, &at);
	assert_int_equal(r.count, 0);
	for (int a = 0; a < 4; a++) {
		assert_int_equal(at.v[ids[a]].refs, 1);
		attr_put(&at, ids[a]);
	}
	assert_int_equal(at.live, 0);
	assert_int_equal(at.bytes, 0);
	rib_table_fini(&r, &at);
	attr_table_fini(&at);
}

static void test_cap_and_intern(void **state)
{
	struct attr_table at;
	struct rib_table r;
	struct rib_key k;
	uint32_t a, b;

	(void)state;
	attr_table_init(&at);
	rib_table_init(&r);
	a = attr_get(&at, (const uint8_t *)"abc", 3);
	b = attr_get(&at, (const uint8_t *)"abc", 3);
	assert_int_equal(a, b); /* interned: one copy */
	assert_int_equal(at.live, 1);
	key_of(1, &k);
	assert_int_equal(rib_insert(&r, &at, &k, a, 1), 1);
	key_of(2, &k);
	assert_int_equal(rib_insert(&r, &at, &k, b, 1), -1); /* past cap */
	assert_int_equal(at.v[a].refs, 1);          /* the refused ref went */
	rib_table_fini(&r, &at);
	assert_int_equal(at.live, 0);
	attr_table_fini(&at);
}

/* ---- keys of every layout ---- */

#define MIXED_KEYS 4096

/*
 * Key i, one-to-one: bit 0 view, bit 1 family, bits 2-3 path id, bit 4
 * an RD, bit 5 a prefix byte past the fourth (which: wide_byte); the
 * rest the first prefix bytes and the length.
 */
static void mixed_key_of(unsigned i, struct rib_key *k)
{
	static const uint32_t pid[4] = { 0, 1, 2, 0xffffffff };
	/* both ends of the 8- and the 16-byte layouts' own bytes */
	static const unsigned wide_byte[4] = { 4, 7, 8, 15 };
	unsigned rest = i >> 6;

	memset(k, 0, sizeof(*k));
	k->view = (uint8_t)(i & 1);
	k->afs = (uint8_t)((i >> 1) & 1);
	k->path_id = pid[(i >> 2) & 3];
	k->rd = (i >> 4) & 1 ? 0x0001fde800000064ULL : 0;
	if ((i >> 5) & 1)
		k->addr[wide_byte[rest % 4]] = 1;
	k->addr[0] = (uint8_t)rest;
	k->addr[3] = (uint8_t)(rest * 7);
	k->len = (uint8_t)(rest % 33);
}

/* Walk every sub-table: each route once, with the attribute expected. */
static void check_walk(const struct rib_table *r, const uint32_t *want,
		       unsigned nkeys, uint32_t count,
		       void (*key_fn)(unsigned, struct rib_key *))
{
	uint32_t seen = 0;

	for (unsigned v = 0; v < RIB_VIEWS; v++)
		for (unsigned f = 0; f < RIB_FAMILIES; f++) {
			struct rib_iter it;
			struct rib_key k, e;
			uint32_t attr;

			rib_iter_init(&it, v, f);
			while (rib_iter_next(r, &it, &k, &attr)) {
				unsigned j;

				for (j = 0; j < nkeys; j++) {
					key_fn(j, &e);
					if (memcmp(&e, &k, sizeof(e)) == 0)
						break;
				}
				assert_true(j < nkeys);
				assert_int_equal(attr, want[j]);
				seen++;
			}
		}
	assert_int_equal(seen, count);
}

static void test_mixed_layouts_against_array(void **state)
{
	static uint32_t want[MIXED_KEYS];
	uint32_t ids[3];
	struct attr_table at;
	struct rib_table r;
	uint32_t seed = 777, count = 0;

	(void)state;
	memset(want, 0, sizeof(want));
	attr_table_init(&at);
	rib_table_init(&r);
	ids[0] = attr_get(&at, (const uint8_t *)"a", 1);
	ids[1] = attr_get(&at, (const uint8_t *)"bb", 2);
	ids[2] = attr_get(&at, (const uint8_t *)"ccc", 3);
	for (int step = 0; step < 120000; step++) {
		/* phases: mostly announce, then mostly withdraw, so tables
		 * grow, widen, shrink and empty again */
		unsigned insert_pct = (step / 15000) % 2 == 0 ? 80 : 15;
		unsigned i = rnd(&seed) % MIXED_KEYS;
		struct rib_key k;

		mixed_key_of(i, &k);
		if (rnd(&seed) % 100 < insert_pct) {
			uint32_t id = ids[rnd(&seed) % 3];

			attr_ref(&at, id);
			assert_int_equal(rib_insert(&r, &at, &k, id,
						    MIXED_KEYS),
					 want[i] == 0 ? 1 : 0);
			count += want[i] == 0;
			want[i] = id;
		} else {
			assert_int_equal(rib_remove(&r, &at, &k),
					 want[i] != 0 ? 1 : 0);
			count -= want[i] != 0;
			want[i] = 0;
		}
		assert_int_equal(r.count, count);
		if (step % 4999 == 0) {
			for (unsigned j = 0; j < MIXED_KEYS; j++) {
				mixed_key_of(j, &k);
				assert_int_equal(rib_find(&r, &k), want[j]);
			}
			check_walk(&r, want, MIXED_KEYS, count, mixed_key_of);
		}
	}
	for (int a = 0; a < 3; a++) {
		uint32_t n = 1;

		for (unsigned j = 0; j < MIXED_KEYS; j++)
			n += want[j] == ids[a];
		assert_int_equal(at.v[ids[a]].refs, n);
	}
	rib_table_fini(&r, &at);
	assert_int_equal(rib_table_bytes(&r), 0);
	for (int a = 0; a < 3; a++)
		attr_put(&at, ids[a]);
	assert_int_equal(at.live, 0);
	attr_table_fini(&at);
}

/* ---- edge cases, hand-written keys ---- */

static void v4_key(struct rib_key *k, uint8_t view, uint32_t path_id,
		   uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t len)
{
	memset(k, 0, sizeof(*k));
	k->view = view;
	k->afs = 0; /* ipv4_unicast */
	k->path_id = path_id;
	k->addr[0] = a;
	k->addr[1] = b;
	k->addr[2] = c;
	k->addr[3] = d;
	k->len = len;
}

struct fixture {
	struct attr_table at;
	struct rib_table r;
	uint32_t a, b; /* two attribute sets, one base reference each */
};

static void fixture_init(struct fixture *f)
{
	attr_table_init(&f->at);
	rib_table_init(&f->r);
	f->a = attr_get(&f->at, (const uint8_t *)"A", 1);
	f->b = attr_get(&f->at, (const uint8_t *)"B", 1);
}

/* Insert with a fresh reference, as bmp_session.c does. */
static int put(struct fixture *f, const struct rib_key *k, uint32_t id)
{
	attr_ref(&f->at, id);
	return rib_insert(&f->r, &f->at, k, id, 1000000);
}

/* Every route gone, every reference back: only the base ones remain. */
static void fixture_fini(struct fixture *f)
{
	rib_table_fini(&f->r, &f->at);
	assert_int_equal(f->r.count, 0);
	assert_int_equal(rib_table_bytes(&f->r), 0);
	assert_int_equal(f->at.v[f->a].refs, 1);
	assert_int_equal(f->at.v[f->b].refs, 1);
	attr_put(&f->at, f->a);
	attr_put(&f->at, f->b);
	assert_int_equal(f->at.live, 0);
	attr_table_fini(&f->at);
}

static void test_zero_and_full_lengths(void **state)
{
	struct fixture f;
	struct rib_key def4, def6, host32, host128, k;

	(void)state;
	fixture_init(&f);
	v4_key(&def4, 0, 0, 0, 0, 0, 0, 0);          /* 0.0.0.0/0 */
	def6 = def4;
	def6.afs = 1;                                 /* ::/0 */
	v4_key(&host32, 0, 0, 255, 255, 255, 255, 32); /* 255.255.255.255/32 */
	memset(&host128, 0, sizeof(host128));
	host128.afs = 1;
	host128.len = 128;
	memset(host128.addr, 0xff, 16);               /* ffff:...:ffff/128 */
	assert_int_equal(put(&f, &def4, f.a), 1);
	assert_int_equal(put(&f, &def6, f.b), 1);
	assert_int_equal(put(&f, &host32, f.b), 1);
	assert_int_equal(put(&f, &host128, f.a), 1);
	assert_int_equal(f.r.count, 4);
	assert_int_equal(rib_find(&f.r, &def4), f.a);
	assert_int_equal(rib_find(&f.r, &def6), f.b);
	assert_int_equal(rib_find(&f.r, &host32), f.b);
	assert_int_equal(rib_find(&f.r, &host128), f.a);
	/* same bytes, other lengths: other routes */
	k = host32;
	k.len = 31;
	assert_int_equal(rib_find(&f.r, &k), 0);
	k = host128;
	k.len = 127;
	assert_int_equal(rib_find(&f.r, &k), 0);
	k = def4;
	k.len = 8;
	assert_int_equal(rib_find(&f.r, &k), 0);
	/* 2001:db8::/32 and 2001:db8:100::/40 differ only in byte 4 */
	memset(&k, 0, sizeof(k));
	k.afs = 1;
	k.addr[0] = 0x20;
	k.addr[1] = 0x01;
	k.addr[2] = 0x0d;
	k.addr[3] = 0xb8;
	k.len = 40;
	assert_int_equal(put(&f, &k, f.b), 1);
	k.addr[4] = 0x01;
	assert_int_equal(put(&f, &k, f.a), 1);
	assert_int_equal(rib_find(&f.r, &k), f.a);
	k.addr[4] = 0;
	assert_int_equal(rib_find(&f.r, &k), f.b);
	assert_int_equal(rib_remove(&f.r, &f.at, &k), 1);
	k.addr[4] = 0x01;
	assert_int_equal(rib_remove(&f.r, &f.at, &k), 1);
	/* /128 with only its last bit different */
	k = host128;
	k.addr[15] = 0xfe;
	assert_int_equal(rib_find(&f.r, &k), 0);
	/* slots: 4 + 1 + 4 bytes for IPv4; 4 + 1 + 16 for the IPv6 table
	 * (::/0 alone would fit in 4, the /128 widened it) */
	assert_int_equal(f.r.sub[0][0].stride, 9);
	assert_int_equal(f.r.sub[0][1].stride, 21);
	assert_int_equal(rib_table_bytes(&f.r), 16 * 9 + 16 * 21);
	assert_int_equal(rib_remove(&f.r, &f.at, &def4), 1);
	assert_int_equal(rib_find(&f.r, &def4), 0);
	assert_int_equal(rib_find(&f.r, &host32), f.b);
	assert_int_equal(rib_remove(&f.r, &f.at, &host128), 1);
	assert_int_equal(rib_find(&f.r, &def6), f.b);
	assert_int_equal(f.r.count, 2);
	fixture_fini(&f);
}

static void test_path_ids_apart(void **state)
{
	struct fixture f;
	struct rib_key k[300], other;

	(void)state;
	fixture_init(&f);
	/* many routes without path ids first, then ADD-PATH arrives */
	for (unsigned i = 0; i < 200; i++) {
		v4_key(&k[i], 0, 0, 10, 0, (uint8_t)i, 0, 24);
		assert_int_equal(put(&f, &k[i], f.a), 1);
	}
	assert_int_equal(f.r.sub[0][0].stride, 9);
	for (unsigned i = 200; i < 300; i++) {
		/* 10.0.(i-200).0/24 again, path ids 1..100 and the top one */
		v4_key(&k[i], 0, i == 299 ? 0xffffffff : i - 199, 10, 0,
		       (uint8_t)(i - 200), 0, 24);
		assert_int_equal(put(&f, &k[i], f.b), 1);
	}
	assert_int_equal(f.r.sub[0][0].stride, 13); /* + 4 for the path id */
	assert_int_equal(f.r.count, 300);
	for (unsigned i = 0; i < 300; i++)
		assert_int_equal(rib_find(&f.r, &k[i]), i < 200 ? f.a : f.b);
	v4_key(&other, 0, 7, 10, 0, 0, 0, 24); /* a path id nobody sent */
	assert_int_equal(rib_find(&f.r, &other), 0);
	assert_int_equal(rib_remove(&f.r, &f.at, &other), 0);
	/* withdrawing path id 0 leaves path id 1 of the same prefix */
	assert_int_equal(rib_remove(&f.r, &f.at, &k[0]), 1);
	assert_int_equal(rib_find(&f.r, &k[0]), 0);
	assert_int_equal(rib_find(&f.r, &k[200]), f.b);
	/* replacing one path leaves the others' attributes alone */
	assert_int_equal(put(&f, &k[201], f.a), 0);
	assert_int_equal(rib_find(&f.r, &k[201]), f.a);
	assert_int_equal(rib_find(&f.r, &k[1]), f.a);
	assert_int_equal(rib_find(&f.r, &k[202]), f.b);
	assert_int_equal(f.r.count, 299);
	fixture_fini(&f);
}

static void test_rds_apart(void **state)
{
	struct fixture f;
	struct rib_key none, rd1, rd2, rd2_pid;

	(void)state;
	fixture_init(&f);
	memset(&none, 0, sizeof(none));
	none.afs = 7; /* ipv6_vpn */
	none.len = 64;
	none.addr[0] = 0x20;
	none.addr[1] = 0x01;
	none.addr[2] = 0x0d;
	none.addr[3] = 0xb8;
	none.addr[7] = 1; /* 2001:db8:0:1::/64 */
	rd1 = none;
	rd1.rd = 0x0000fde800000001ULL; /* 65000:1 */
	rd2 = none;
	rd2.rd = 0x0000fde800000002ULL; /* 65000:2 */
	rd2_pid = rd2;
	rd2_pid.path_id = 9;
	assert_int_equal(put(&f, &rd1, f.a), 1);
	/* a /64: 8 prefix bytes stored, and the RD */
	assert_int_equal(f.r.sub[0][7].stride, 4 + 1 + 8 + 8);
	assert_int_equal(put(&f, &rd2, f.b), 1);
	assert_int_equal(put(&f, &none, f.a), 1);
	assert_int_equal(put(&f, &rd2_pid, f.a), 1);
	assert_int_equal(f.r.sub[0][7].stride, 4 + 1 + 8 + 4 + 8);
	assert_int_equal(rib_find(&f.r, &rd1), f.a);
	assert_int_equal(rib_find(&f.r, &rd2), f.b);
	assert_int_equal(rib_find(&f.r, &none), f.a);
	assert_int_equal(rib_find(&f.r, &rd2_pid), f.a);
	assert_int_equal(rib_remove(&f.r, &f.at, &rd2), 1);
	assert_int_equal(rib_find(&f.r, &rd2), 0);
	assert_int_equal(rib_find(&f.r, &rd1), f.a);
	assert_int_equal(rib_find(&f.r, &rd2_pid), f.a);
	assert_int_equal(f.r.count, 3);
	fixture_fini(&f);
}

static void test_views_apart(void **state)
{
	struct fixture f;
	struct rib_key k;

	(void)state;
	fixture_init(&f);
	for (uint8_t v = 0; v < RIB_VIEWS; v++) {
		v4_key(&k, v, 0, 192, 0, 2, 0, 24);
		assert_int_equal(put(&f, &k, v % 2 ? f.b : f.a), 1);
	}
	assert_int_equal(f.r.count, RIB_VIEWS);
	for (uint8_t v = 0; v < RIB_VIEWS; v++) {
		v4_key(&k, v, 0, 192, 0, 2, 0, 24);
		assert_int_equal(rib_find(&f.r, &k), v % 2 ? f.b : f.a);
	}
	v4_key(&k, 2, 0, 192, 0, 2, 0, 24);
	assert_int_equal(rib_remove(&f.r, &f.at, &k), 1);
	assert_int_equal(rib_find(&f.r, &k), 0);
	v4_key(&k, 1, 0, 192, 0, 2, 0, 24);
	assert_int_equal(rib_find(&f.r, &k), f.b);
	v4_key(&k, 3, 0, 192, 0, 2, 0, 24);
	assert_int_equal(rib_find(&f.r, &k), f.b);
	/* a view or family past the tables is refused, never stored */
	v4_key(&k, RIB_VIEWS, 0, 192, 0, 2, 0, 24);
	assert_int_equal(put(&f, &k, f.a), -1);
	assert_int_equal(rib_find(&f.r, &k), 0);
	k.view = 0;
	k.afs = RIB_FAMILIES;
	assert_int_equal(put(&f, &k, f.a), -1);
	assert_int_equal(rib_remove(&f.r, &f.at, &k), 0);
	assert_int_equal(f.r.count, RIB_VIEWS - 1);
	fixture_fini(&f);
}

static void test_remove_unknown(void **state)
{
	struct fixture f;
	struct rib_key k, wide;

	(void)state;
	fixture_init(&f);
	v4_key(&k, 0, 0, 198, 51, 100, 0, 24);
	assert_int_equal(rib_remove(&f.r, &f.at, &k), 0); /* empty table */
	assert_int_equal(put(&f, &k, f.a), 1);
	k.len = 23;
	assert_int_equal(rib_remove(&f.r, &f.at, &k), 0); /* other length */
	/* keys the narrow table cannot hold: unknown, and no widening */
	wide = k;
	wide.len = 24;
	wide.path_id = 5;
	assert_int_equal(rib_remove(&f.r, &f.at, &wide), 0);
	wide.path_id = 0;
	wide.rd = 1;
	assert_int_equal(rib_remove(&f.r, &f.at, &wide), 0);
	wide.rd = 0;
	wide.addr[9] = 1;
	assert_int_equal(rib_remove(&f.r, &f.at, &wide), 0);
	assert_int_equal(f.r.sub[0][0].stride, 9);
	assert_int_equal(f.r.count, 1);
	assert_int_equal(f.at.v[f.a].refs, 2);
	k.len = 24;
	assert_int_equal(rib_remove(&f.r, &f.at, &k), 1);
	assert_int_equal(rib_remove(&f.r, &f.at, &k), 0); /* twice */
	assert_int_equal(f.r.count, 0);
	fixture_fini(&f);
}

static void test_grow_and_shrink(void **state)
{
	enum { N = 20000 };
	struct fixture f;
	struct rib_key k;
	size_t peak;

	(void)state;
	fixture_init(&f);
	for (uint32_t i = 0; i < N; i++) {
		v4_key(&k, 0, 0, 100, (uint8_t)(i >> 8), (uint8_t)i, 0, 24);
		assert_int_equal(put(&f, &k, i % 2 ? f.a : f.b), 1);
		/* load stays at most 3/4 */
		assert_true((uint64_t)f.r.sub[0][0].count * 4 <=
			    (uint64_t)f.r.sub[0][0].cap * 3);
	}
	/* 20000 routes: 32768 slots of 9 bytes (16384 would be past 3/4) */
	assert_int_equal(f.r.sub[0][0].cap, 32768);
	peak = rib_table_bytes(&f.r);
	assert_int_equal(peak, 32768 * 9);
	/* withdraw all but every 100th: the table halves as it empties */
	for (uint32_t i = 0; i < N; i++) {
		if (i % 100 == 0)
			continue;
		v4_key(&k, 0, 0, 100, (uint8_t)(i >> 8), (uint8_t)i, 0, 24);
		assert_int_equal(rib_remove(&f.r, &f.at, &k), 1);
	}
	assert_int_equal(f.r.count, N / 100);
	/* 200 routes shrink to where they are >= 1/8: 1024 slots */
	assert_int_equal(f.r.sub[0][0].cap, 1024);
	for (uint32_t i = 0; i < N; i++) {
		v4_key(&k, 0, 0, 100, (uint8_t)(i >> 8), (uint8_t)i, 0, 24);
		assert_int_equal(rib_find(&f.r, &k),
				 i % 100 != 0 ? 0 : i % 2 ? f.a : f.b);
	}
	/* the last one out frees the sub-table */
	for (uint32_t i = 0; i < N; i += 100) {
		v4_key(&k, 0, 0, 100, (uint8_t)(i >> 8), (uint8_t)i, 0, 24);
		assert_int_equal(rib_remove(&f.r, &f.at, &k), 1);
	}
	assert_int_equal(rib_table_bytes(&f.r), 0);
	fixture_fini(&f);
}

static void test_replace_at_cap(void **state)
{
	struct fixture f;
	struct rib_key k1, k2;
	size_t bytes;

	(void)state;
	fixture_init(&f);
	v4_key(&k1, 0, 0, 203, 0, 113, 0, 24);
	v4_key(&k2, 0, 4, 203, 0, 114, 0, 24); /* would widen: path id */
	attr_ref(&f.at, f.a);
	assert_int_equal(rib_insert(&f.r, &f.at, &k1, f.a, 1), 1);
	bytes = rib_table_bytes(&f.r);
	/* at the cap: a replace goes through, a new route does not */
	attr_ref(&f.at, f.b);
	assert_int_equal(rib_insert(&f.r, &f.at, &k1, f.b, 1), 0);
	assert_int_equal(rib_find(&f.r, &k1), f.b);
	assert_int_equal(f.at.v[f.a].refs, 1); /* the replaced ref went */
	attr_ref(&f.at, f.a);
	assert_int_equal(rib_insert(&f.r, &f.at, &k2, f.a, 1), -1);
	assert_int_equal(f.at.v[f.a].refs, 1); /* the refused ref went */
	assert_int_equal(rib_table_bytes(&f.r), bytes); /* not widened */
	assert_int_equal(f.r.sub[0][0].stride, 9);
	assert_int_equal(f.r.count, 1);
	fixture_fini(&f);
}

static void test_clear_and_walk(void **state)
{
	struct fixture f;
	struct rib_key k, got;
	struct rib_iter it;
	uint32_t attr, n = 0;
	bool seen[64];

	(void)state;
	fixture_init(&f);
	memset(seen, 0, sizeof(seen));
	for (uint8_t i = 0; i < 64; i++) {
		v4_key(&k, 1, i % 4, 172, 16, i, 0, 24);
		assert_int_equal(put(&f, &k, f.a), 1);
	}
	k.afs = 1; /* one IPv6 route in the same view */
	assert_int_equal(put(&f, &k, f.b), 1);
	rib_iter_init(&it, 1, 0);
	while (rib_iter_next(&f.r, &it, &got, &attr)) {
		assert_int_equal(got.view, 1);
		assert_int_equal(got.afs, 0);
		assert_int_equal(got.len, 24);
		assert_int_equal(got.addr[0], 172);
		assert_int_equal(got.addr[1], 16);
		assert_true(got.addr[2] < 64);
		assert_int_equal(got.path_id, got.addr[2] % 4u);
		assert_false(seen[got.addr[2]]);
		seen[got.addr[2]] = true;
		assert_int_equal(attr, f.a);
		n++;
	}
	assert_int_equal(n, 64);
	rib_iter_init(&it, 0, 0); /* an empty view */
	assert_false(rib_iter_next(&f.r, &it, &got, &attr));
	rib_iter_init(&it, RIB_VIEWS, 0); /* past the tables */
	assert_false(rib_iter_next(&f.r, &it, &got, &attr));
	assert_int_equal(f.at.v[f.a].refs, 65);
	assert_int_equal(f.at.v[f.b].refs, 2);
	rib_table_clear(&f.r, &f.at);
	assert_int_equal(f.r.count, 0);
	assert_int_equal(f.at.v[f.a].refs, 1);
	assert_int_equal(f.at.v[f.b].refs, 1);
	assert_int_equal(rib_find(&f.r, &k), 0);
	/* a cleared table is usable again */
	assert_int_equal(put(&f, &k, f.a), 1);
	assert_int_equal(rib_find(&f.r, &k), f.a);
	fixture_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_array),
		cmocka_unit_test(test_cap_and_intern),
		cmocka_unit_test(test_mixed_layouts_against_array),
		cmocka_unit_test(test_zero_and_full_lengths),
		cmocka_unit_test(test_path_ids_apart),
		cmocka_unit_test(test_rds_apart),
		cmocka_unit_test(test_views_apart),
		cmocka_unit_test(test_remove_unknown),
		cmocka_unit_test(test_grow_and_shrink),
		cmocka_unit_test(test_replace_at_cap),
		cmocka_unit_test(test_clear_and_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
