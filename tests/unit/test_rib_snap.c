/*
 * test_rib_snap.c - longest-prefix match over a router's routes and the
 * epoch publication readers use.  Routes go in as hand-built BMP Route
 * Monitoring messages (RFC 7854, RFC 4271, RFC 4760); every expected
 * answer is what the vectors announce.  A reader thread looks up while
 * the writer publishes and reclaims snapshots, so ASan/TSan builds catch
 * a snapshot freed under a reader.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wirebuf.h"
#include "bmpmsg.h"

#include "bmp/bmp_rib.h"
#include "rib/rib_snap.h"

static const struct bmp_router_limits lim = { 16, 1000, 1 << 20, 0 };

static void load(struct bmp_router *r)
{
	static const uint32_t pa[] = { 65001, 3356, 13335 };
	static const uint32_t pb[] = { 65001, 174 };
	static const uint32_t pc[] = { 65002, 2914, 64496 };
	static const uint8_t n8[] = { 8, 10 };
	static const uint8_t n16[] = { 16, 10, 1 };
	static const uint8_t n24[] = { 24, 10, 1, 2 };
	struct buf a, m;

	bmp_router_init(r, "snap", NULL, &lim, NULL, NULL);
	path_attrs(&a, pa, 3, 0xc0000201, 0xfde90064); /* 65001:100 */
	rm(&m, 0, 11, 65001, &a, n8, sizeof(n8));
	assert_int_equal(bmp_router_feed(r, m.b, m.n), 0);
	path_attrs(&a, pb, 2, 0xc0000201, 0);
	rm(&m, 0, 11, 65001, &a, n16, sizeof(n16));
	assert_int_equal(bmp_router_feed(r, m.b, m.n), 0);
	path_attrs(&a, pc, 3, 0xc0000202, 0);
	rm(&m, 0, 12, 65002, &a, n24, sizeof(n24));
	assert_int_equal(bmp_router_feed(r, m.b, m.n), 0);
	/* the same /24 from the first peer too: the first peer's wins */
	path_attrs(&a, pb, 2, 0xc0000201, 0);
	rm(&m, 0, 11, 65001, &a, n24, sizeof(n24));
	assert_int_equal(bmp_router_feed(r, m.b, m.n), 0);
	/* IPv6 2001:db8::/32 in MP_REACH, next hop 2001:db8::1 */
	a.n = 0;
	p8(&a, 0x40); p8(&a, 1); p8(&a, 1); p8(&a, 0);
	p8(&a, 0x40); p8(&a, 2); p8(&a, 6); p8(&a, 2); p8(&a, 1);
	p32(&a, 65003);
	p8(&a, 0x80); p8(&a, 14); p8(&a, 4 + 16 + 1 + 5);
	p16(&a, 2); p8(&a, 1); p8(&a, 16);
	p32(&a, 0x20010db8); p32(&a, 0); p32(&a, 0); p32(&a, 1);
	p8(&a, 0);
	p8(&a, 32); p32(&a, 0x20010db8);
	rm(&m, 0, 11, 65001, &a, NULL, 0);
	assert_int_equal(bmp_router_feed(r, m.b, m.n), 0);
}

static void test_lookup(void **state)
{
	struct bmp_router r;
	struct rib_route_info ri;
	struct rib_snap *s;
	struct ps_addr a;

	(void)state;
	load(&r);
	s = bmp_rib_snap(&r, BMP_VIEW_PRE_POLICY);
	assert_non_null(s);
	assert_int_equal(rib_snap_count(s), 4); /* /8 /16 /24 and v6 /32 */
	a = v4(0x0a010203); /* 10.1.2.3 -> /24, first peer's */
	assert_int_equal(rib_snap_lookup(s, &a, &ri), 1);
	assert_int_equal(ri.len, 24);
	assert_int_equal(ri.peer_as, 65001);
	assert_int_equal(ri.origin_as, 174);
	a = v4(0x0a010909); /* 10.1.9.9 -> /16 */
	assert_int_equal(rib_snap_lookup(s, &a, &ri), 1);
	assert_int_equal(ri.len, 16);
	assert_int_equal(ri.origin_as, 174);
	assert_int_equal(ri.as_path_len, 2);
	a = v4(0x0ac80001); /* 10.200.0.1 -> /8 */
	assert_int_equal(rib_snap_lookup(s, &a, &ri), 1);
	assert_int_equal(ri.len, 8);
	assert_int_equal(ri.origin_as, 13335);
	assert_int_equal(ri.as_path[1], 3356);
	assert_int_equal(ri.next_hop.af, 4);
	assert_memory_equal(ri.next_hop.bytes, "\xc0\x00\x02\x01", 4);
	assert_int_equal(ri.ncomm, 1);
	assert_int_equal(ri.comm[0], 0xfde90064);
	assert_int_equal(ri.peer.bytes[3], 11);
	a = v4(0x0b000001); /* 11.0.0.1: nothing */
	assert_int_equal(rib_snap_lookup(s, &a, &ri), 0);
	memset(&a, 0, sizeof(a));
	a.af = 6;
	memcpy(a.bytes, "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00"
			"\x00\x00\x00\x05", 16);
	assert_int_equal(rib_snap_lookup(s, &a, &ri), 1);
	assert_int_equal(ri.len, 32);
	assert_int_equal(ri.origin_as, 65003);
	assert_int_equal(ri.next_hop.af, 6);
	rib_snap_free(s);
	/* post-policy view is empty */
	s = bmp_rib_snap(&r, BMP_VIEW_POST_POLICY);
	assert_int_equal(rib_snap_count(s), 0);
	rib_snap_free(s);
	bmp_router_fini(&r);
}

struct reader_arg {
	struct rib_epoch *e;
	_Atomic bool stop;
	_Atomic unsigned long lookups;
	unsigned long misses; /* read after join */
};

static void *reader(void *p)
{
	struct reader_arg *x = p;
	struct ps_addr a = v4(0x0a010203);
	struct rib_route_info ri;

	while (!atomic_load(&x->stop)) {
		const struct rib_snap *s = rib_read_begin(x->e, 3);

		if (s != NULL && (rib_snap_lookup(s, &a, &ri) != 1 ||
				  ri.len != 24))
			x->misses++;
		rib_read_end(x->e, 3);
		atomic_fetch_add(&x->lookups, 1);
	}
	return NULL;
}

static void test_epoch_publication(void **state)
{
	struct rib_epoch e;
	struct bmp_router r;
	struct reader_arg x;
	pthread_t t;

	(void)state;
	load(&r);
	rib_epoch_init(&e);
	memset(&x, 0, sizeof(x));
	x.e = &e;
	rib_epoch_publish(&e, bmp_rib_snap(&r, BMP_VIEW_PRE_POLICY));
	assert_int_equal(pthread_create(&t, NULL, reader, &x), 0);
	/* at least 300 publications, and until the reader has looked up a
	 * few thousand times across them (bounded either way) */
	for (int i = 0; i < 300 || (atomic_load(&x.lookups) < 5000 &&
				    i < 200000); i++)
		rib_epoch_publish(&e, bmp_rib_snap(&r, BMP_VIEW_PRE_POLICY));
	atomic_store(&x.stop, true);
	pthread_join(t, NULL);
	assert_int_equal(x.misses, 0);
	assert_true(atomic_load(&x.lookups) > 0);
	/* no reader left: everything retired can go */
	assert_int_equal(rib_epoch_reclaim(&e), 0);
	rib_epoch_fini(&e);
	bmp_router_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_epoch_publication),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
