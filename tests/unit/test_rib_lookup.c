/*
 * test_rib_lookup.c - the flow workers' RIB reads (rib_lookup.h) and the
 * origin-AS breakdown (rib_enrich.h).  Routes go in as hand-built BMP
 * Route Monitoring and Peer Down messages (RFC 7854, RFC 4271); every
 * expected answer is what the vectors announce.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wirebuf.h"
#include "bmpmsg.h"

#include "rib/rib_enrich.h"
#include "bmp/bmp_rib.h"
#include "rib/rib_lookup.h"

static const struct bmp_router_limits lim = { 16, 1000, 1 << 20, 0 };

/*
 * Router 192.0.2.9.  Peer 11 (AS 65001): pre-policy 10.0.0.0/8 path
 * 65001 3356 13335 and 10.1.0.0/16 path 65001 174; post-policy
 * 10.1.0.0/16 path 65001 6939 (what policy let in differs).  Peer 12
 * (AS 65002): pre-policy 172.16.0.0/12 path 65002 2914 64496.
 */
static void load(struct bmp_router *r)
{
	static const uint32_t pa[] = { 65001, 3356, 13335 };
	static const uint32_t pb[] = { 65001, 174 };
	static const uint32_t pp[] = { 65001, 6939 };
	static const uint32_t pc[] = { 65002, 2914, 64496 };
	static const uint8_t n8[] = { 8, 10 };
	static const uint8_t n16[] = { 16, 10, 1 };
	static const uint8_t n12[] = { 12, 172, 16 };
	struct ps_addr ra = v4(0xc0000209);
	struct buf a, m;

	bmp_router_init(r, "192.0.2.9", &ra, &lim, NULL, NULL);
	path_attrs(&a, pa, 3, 0xc0000201, 0);
	rm(&m, 0, 11, 65001, &a, n8, sizeof(n8));
	assert_int_equal(bmp_router_feed(r, m.b, m.n), 0);
	path_attrs(&a, pb, 2, 0xc0000201, 0);
	rm(&m, 0, 11, 65001, &a, n16, sizeof(n16));
	assert_int_equal(bmp_router_feed(r, m.b, m.n), 0);
	path_attrs(&a, pp, 2, 0xc0000201, 0);
	rm(&m, 0x40, 11, 65001, &a, n16, sizeof(n16));
	assert_int_equal(bmp_router_feed(r, m.b, m.n), 0);
	path_attrs(&a, pc, 3, 0xc0000202, 0);
	rm(&m, 0, 12, 65002, &a, n12, sizeof(n12));
	assert_int_equal(bmp_router_feed(r, m.b, m.n), 0);
}

static void test_lookup_views(void **state)
{
	struct rib_registry *g = rib_registry_new();
	struct ps_addr ra = v4(0xc0000209), other = v4(0xc000020a), a;
	struct rib_route_info ri;
	struct bmp_router r;

	(void)state;
	assert_non_null(g);
	load(&r);
	a = v4(0x0a010203); /* 10.1.2.3 */
	/* nothing published yet */
	assert_int_equal(rib_router_known(g, &ra), 0);
	assert_int_equal(rib_lookup_best(g, 0, &ra, &a, &ri), 0);
	assert_int_equal(bmp_rib_publish(g, &r), 0);
	assert_int_equal(rib_router_known(g, &ra), 1);
	assert_int_equal(rib_router_known(g, &other), 0);
	/* per view */
	assert_int_equal(rib_lookup(g, 0, &ra, BMP_VIEW_PRE_POLICY, &a, &ri),
			 1);
	assert_int_equal(ri.origin_as, 174);
	assert_int_equal(ri.len, 16);
	assert_int_equal(rib_lookup(g, 0, &ra, BMP_VIEW_POST_POLICY, &a, &ri),
			 1);
	assert_int_equal(ri.origin_as, 6939);
	assert_int_equal(rib_lookup(g, 0, &ra, BMP_VIEW_LOC_RIB, &a, &ri), 0);
	/* best: post-policy before pre-policy (no Loc-RIB here) */
	assert_int_equal(rib_lookup_best(g, 1, &ra, &a, &ri), 1);
	assert_int_equal(ri.origin_as, 6939);
	/* 10.200.0.1: only pre-policy's /8 covers it */
	a = v4(0x0ac80001);
	assert_int_equal(rib_lookup_best(g, 1, &ra, &a, &ri), 1);
	assert_int_equal(ri.origin_as, 13335);
	assert_int_equal(ri.len, 8);
	assert_memory_equal(ri.next_hop.bytes, "\xc0\x00\x02\x01", 4);
	/* 172.31.255.255 in 172.16.0.0/12, peer 12 */
	a = v4(0xac1fffff);
	assert_int_equal(rib_lookup_best(g, 2, &ra, &a, &ri), 1);
	assert_int_equal(ri.origin_as, 64496);
	assert_int_equal(ri.peer_as, 65002);
	/* another router, or a reader id out of range: nothing */
	assert_int_equal(rib_lookup_best(g, 0, &other, &a, &ri), 0);
	assert_int_equal(rib_lookup_best(g, RIB_MAX_READERS, &ra, &a, &ri), 0);
	bmp_router_fini(&r);
	rib_registry_free(g);
}

static void test_peer_down_published(void **state)
{
	struct rib_registry *g = rib_registry_new();
	struct ps_addr ra = v4(0xc0000209), a = v4(0x0a010203);
	struct rib_route_info ri;
	struct bmp_router r;
	struct buf m;

	(void)state;
	load(&r);
	assert_int_equal(bmp_rib_publish(g, &r), 0);
	assert_int_equal(rib_lookup_best(g, 0, &ra, &a, &ri), 1);
	peer_down(&m, 11, 65001);
	assert_int_equal(bmp_router_feed(&r, m.b, m.n), 0);
	/* until the next publication readers keep the old table */
	assert_int_equal(rib_lookup_best(g, 0, &ra, &a, &ri), 1);
	assert_int_equal(bmp_rib_publish(g, &r), 0);
	/* peer 11's routes are gone, peer 12's stay */
	assert_int_equal(rib_lookup_best(g, 0, &ra, &a, &ri), 0);
	a = v4(0xac100001);
	assert_int_equal(rib_lookup_best(g, 0, &ra, &a, &ri), 1);
	assert_int_equal(ri.origin_as, 64496);
	bmp_router_fini(&r);
	rib_registry_free(g);
}

/*
 * rib_dirty tells the live timer which routers need their copy rebuilt:
 * set by a route change, cleared by a publication, left alone by
 * messages that change no route.
 */
static void test_dirty_flag(void **state)
{
	static const uint32_t pa[] = { 65001, 3356, 13335 };
	static const uint8_t n8[] = { 8, 10 };
	struct rib_registry *g = rib_registry_new();
	struct bmp_router r;
	struct buf a, m;

	(void)state;
	load(&r);
	assert_true(r.rib_dirty);
	assert_int_equal(bmp_rib_publish(g, &r), 0);
	assert_false(r.rib_dirty);
	/* an announcement (here the same route again) marks it */
	path_attrs(&a, pa, 3, 0xc0000201, 0);
	rm(&m, 0, 11, 65001, &a, n8, sizeof(n8));
	assert_int_equal(bmp_router_feed(&r, m.b, m.n), 0);
	assert_true(r.rib_dirty);
	assert_int_equal(bmp_rib_publish(g, &r), 0);
	/* Peer Down of a peer with routes marks it ... */
	peer_down(&m, 11, 65001);
	assert_int_equal(bmp_router_feed(&r, m.b, m.n), 0);
	assert_true(r.rib_dirty);
	assert_int_equal(bmp_rib_publish(g, &r), 0);
	/* ... a second one, with nothing left to drop, does not */
	peer_down(&m, 11, 65001);
	assert_int_equal(bmp_router_feed(&r, m.b, m.n), 0);
	assert_false(r.rib_dirty);
	bmp_router_fini(&r);
	rib_registry_free(g);
}

/*
 * Peer states as of a time: the newest publication made before it, from
 * the last RIB_PEER_HISTORY; older questions get the oldest kept and are
 * counted.
 */
static void test_peer_history(void **state)
{
	struct rib_registry *g = rib_registry_new();
	struct ps_addr ra = v4(0xc0000209), pa = v4(0x0a4d000b);
	struct rib_peer_state st;
	struct bmp_router r;
	struct buf m;

	(void)state;
	load(&r);
	rib_registry_set_clock(g, 1000);
	assert_int_equal(bmp_rib_publish_peers(g, &r), 0);
	peer_down(&m, 11, 65001);
	assert_int_equal(bmp_router_feed(&r, m.b, m.n), 0);
	rib_registry_set_clock(g, 2000);
	assert_int_equal(bmp_rib_publish_peers(g, &r), 0);
	/* nothing published before 1000 */
	assert_int_equal(rib_router_known_at(g, &ra, 1000), 0);
	assert_int_equal(rib_router_known_at(g, &ra, 1001), 1);
	/* as of 1500: peer 10.77.0.11 still held its two pre-policy routes */
	assert_int_equal(rib_peer_lookup_at(g, 0, &ra, &pa, 1500, &st), 1);
	assert_int_equal(st.prefixes_pre, 2);
	assert_int_not_equal(st.state, BMP_STATE_DOWN);
	/* as of 2500: down, nothing held */
	assert_int_equal(rib_peer_lookup_at(g, 0, &ra, &pa, 2500, &st), 1);
	assert_int_equal(st.state, BMP_STATE_DOWN);
	assert_int_equal(st.prefixes_pre, 0);
	/* RIB_PEER_HISTORY more publications push 1000 and 2000 out */
	for (uint64_t k = 0; k < RIB_PEER_HISTORY; k++) {
		rib_registry_set_clock(g, 3000 + k);
		r.peers_dirty = true;
		assert_int_equal(bmp_rib_publish_peers(g, &r), 0);
	}
	assert_int_equal(atomic_load(&g->peer_history_short), 0);
	assert_int_equal(rib_peer_lookup_at(g, 0, &ra, &pa, 1500, &st), 1);
	assert_int_equal(st.state, BMP_STATE_DOWN); /* the oldest kept */
	assert_int_equal(atomic_load(&g->peer_history_short), 1);
	bmp_router_fini(&r);
	rib_registry_free(g);
}

struct reader_arg {
	struct rib_registry *g;
	_Atomic bool stop;
	_Atomic unsigned long lookups;
	unsigned long misses; /* read after join */
};

static void *reader(void *p)
{
	struct reader_arg *x = p;
	struct ps_addr ra = v4(0xc0000209), a = v4(0xac100001);
	struct rib_route_info ri;

	while (!atomic_load(&x->stop)) {
		if (rib_lookup_best(x->g, 5, &ra, &a, &ri) != 1 ||
		    ri.origin_as != 64496)
			x->misses++;
		atomic_fetch_add(&x->lookups, 1);
	}
	return NULL;
}

/* A worker looks up while the BMP side republishes: under TSan/ASan this
 * catches a table freed under a reader; the route never goes away, so
 * every lookup must find it. */
static void test_concurrent_reader(void **state)
{
	struct rib_registry *g = rib_registry_new();
	struct reader_arg x;
	struct bmp_router r;
	pthread_t t;

	(void)state;
	load(&r);
	assert_int_equal(bmp_rib_publish(g, &r), 0);
	memset(&x, 0, sizeof(x));
	x.g = g;
	assert_int_equal(pthread_create(&t, NULL, reader, &x), 0);
	for (int i = 0;
	     i < 200 || (atomic_load(&x.lookups) < 2000 && i < 100000); i++) {
		assert_int_equal(bmp_rib_publish(g, &r), 0);
		rib_registry_reclaim(g);
	}
	atomic_store(&x.stop, true);
	pthread_join(t, NULL);
	assert_int_equal(x.misses, 0);
	assert_true(atomic_load(&x.lookups) > 0);
	bmp_router_fini(&r);
	rib_registry_free(g);
}

static void test_origin_breakdown(void **state)
{
	struct agg_origin a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	agg_origin_add(&a, 1, 174, 100.0, 1);
	agg_origin_add(&a, 1, 174, 50.0, 1);
	agg_origin_add(&a, 0, 0, 7.0, 1);
	for (uint32_t i = 0; i < AGG_ORIGIN_SLOTS; i++)
		agg_origin_add(&b, 1, 64500 + i, 10.0, 1);
	agg_origin_add(&b, 1, 65000, 3.0, 1); /* no slot left */
	assert_int_equal(b.n, AGG_ORIGIN_SLOTS);
	assert_true(b.other_bytes == 3.0);
	/* merge: 174 takes a's slot 0; b's 8 ASNs fill 7 more, 1 overflows */
	agg_origin_merge(&a, &b);
	assert_int_equal(a.n, AGG_ORIGIN_SLOTS);
	assert_int_equal(a.asn[0], 174);
	assert_true(a.bytes[0] == 150.0);
	assert_int_equal(a.records[0], 2);
	assert_true(a.other_bytes == 3.0 + 10.0);
	assert_true(a.unrouted_bytes == 7.0);
	assert_int_equal(a.lookups, 3 + AGG_ORIGIN_SLOTS + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_views),
		cmocka_unit_test(test_peer_down_published),
		cmocka_unit_test(test_dirty_flag),
		cmocka_unit_test(test_peer_history),
		cmocka_unit_test(test_concurrent_reader),
		cmocka_unit_test(test_origin_breakdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
