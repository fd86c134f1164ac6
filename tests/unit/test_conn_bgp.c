/*
 * test_conn_bgp.c - connections joined to BGP peers: the peer states the
 * BMP side publishes (bmp_rib_snap_peers, bmp_rib_publish_peers),
 * the announcing peer of a flow's route (rib_enrich.h, Loc-RIB by next
 * hop), the merger's per-connection memory and bgp_state (conn_bgp.h).
 * BMP input is hand-built (RFC 7854 Peer Up / Down, Route Monitoring;
 * RFC 9069 Loc-RIB peer type 3); every expectation is what the vectors
 * say.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wirebuf.h"

#include "agg/conn_bgp.h"
#include "peerscope/flow.h"
#include "peerscope/sflow.h"
#include "rib/rib_enrich.h"
#include "bmp/bmp_rib.h"
#include "rib/rib_lookup.h"

#define PEER_UP_TS   1795679300u
#define PEER_DOWN_TS 1795679360u

/* Common header and per-peer header: peer 10.77.0.x, type, flags. */
static void head(struct buf *b, unsigned type, size_t len, unsigned ptype,
		 unsigned flags, unsigned peer, uint32_t asn, uint32_t ts)
{
	b->n = 0;
	p8(b, 3);
	p32(b, (uint32_t)len);
	p8(b, type);
	p8(b, ptype);
	p8(b, flags);
	p32(b, 0);
	p32(b, 0);
	for (int i = 0; i < 12; i++)
		p8(b, 0);
	p32(b, peer != 0 ? 0x0a4d0000 | peer : 0);
	p32(b, asn);
	p32(b, 0xc0000200 | peer);
	p32(b, ts);
	p32(b, 0);
}

static void bgp_open(struct buf *b, unsigned asn, uint32_t id)
{
	for (int i = 0; i < 16; i++)
		p8(b, 0xff);
	p16(b, 29);
	p8(b, 1); /* OPEN */
	p8(b, 4);
	p16(b, asn);
	p16(b, 90);
	p32(b, id);
	p8(b, 0);
}

static void peer_up(struct buf *b, unsigned peer, uint32_t asn)
{
	head(b, 3, 6 + 42 + 20 + 2 * 29, 0, 0, peer, asn, PEER_UP_TS);
	for (int i = 0; i < 12; i++)
		p8(b, 0);
	p32(b, 0xc0000209); /* local address */
	p16(b, 179);
	p16(b, 40000 + peer);
	bgp_open(b, 64512, 0xc0000209);
	bgp_open(b, asn, 0xc0000200 | peer);
}

static void peer_down(struct buf *b, unsigned peer, uint32_t asn)
{
	head(b, 2, 6 + 42 + 1, 0, 0, peer, asn, PEER_DOWN_TS);
	p8(b, 4); /* closed, no NOTIFICATION */
}

/* One UPDATE: AS_PATH {asn, origin}, NEXT_HOP nh, one IPv4 prefix. */
static void rm(struct buf *b, unsigned ptype, unsigned flags, unsigned peer,
	       uint32_t asn, uint32_t origin, uint32_t nh,
	       const uint8_t *nlri, size_t nlen)
{
	struct buf a = { .n = 0 };
	size_t bgp_len;

	p8(&a, 0x40); /* ORIGIN IGP */
	p8(&a, 1);
	p8(&a, 1);
	p8(&a, 0);
	p8(&a, 0x40); /* AS_PATH, one AS_SEQUENCE of two 4-byte ASNs */
	p8(&a, 2);
	p8(&a, 10);
	p8(&a, 2);
	p8(&a, 2);
	p32(&a, asn);
	p32(&a, origin);
	p8(&a, 0x40); /* NEXT_HOP */
	p8(&a, 3);
	p8(&a, 4);
	p32(&a, nh);
	bgp_len = 19 + 4 + a.n + nlen;
	head(b, 0, 6 + 42 + bgp_len, ptype, flags, peer, asn, PEER_UP_TS + 1);
	for (int i = 0; i < 16; i++)
		p8(b, 0xff);
	p16(b, (unsigned)bgp_len);
	p8(b, 2);
	p16(b, 0);
	p16(b, (unsigned)a.n);
	pbytes(b, a.b, a.n);
	pbytes(b, nlri, nlen);
}

static const struct bmp_router_limits lim = { 16, 1000, 1 << 20, 0 };

static struct ps_addr v4(uint32_t x)
{
	struct ps_addr a;

	memset(&a, 0, sizeof(a));
	a.af = 4;
	a.bytes[0] = (uint8_t)(x >> 24);
	a.bytes[1] = (uint8_t)(x >> 16);
	a.bytes[2] = (uint8_t)(x >> 8);
	a.bytes[3] = (uint8_t)x;
	return a;
}

static void feed(struct bmp_router *r, const struct buf *m)
{
	assert_int_equal(bmp_router_feed(r, m->b, m->n), 0);
}

/*
 * Router 192.0.2.9.  Peer 11 (AS 65001) up: pre-policy 10.0.0.0/8 and
 * 10.1.0.0/16, post-policy 10.1.0.0/16.  Peer 12 (AS 65002) up:
 * pre-policy 172.16.0.0/12.  Loc-RIB: 198.51.100.0/24 via next hop
 * 10.77.0.12 (peer 12), 203.0.113.0/24 via 192.0.2.200 (no peer).
 */
static void load(struct bmp_router *r)
{
	static const uint8_t n8[] = { 8, 10 };
	static const uint8_t n16[] = { 16, 10, 1 };
	static const uint8_t n12[] = { 12, 172, 16 };
	static const uint8_t n24a[] = { 24, 198, 51, 100 };
	static const uint8_t n24b[] = { 24, 203, 0, 113 };
	struct ps_addr ra = v4(0xc0000209);
	struct buf m;

	bmp_router_init(r, "192.0.2.9", &ra, &lim, NULL, NULL);
	peer_up(&m, 11, 65001);
	feed(r, &m);
	peer_up(&m, 12, 65002);
	feed(r, &m);
	rm(&m, 0, 0, 11, 65001, 13335, 0x0a4d000b, n8, sizeof(n8));
	feed(r, &m);
	rm(&m, 0, 0, 11, 65001, 174, 0x0a4d000b, n16, sizeof(n16));
	feed(r, &m);
	rm(&m, 0, 0x40, 11, 65001, 6939, 0x0a4d000b, n16, sizeof(n16));
	feed(r, &m);
	rm(&m, 0, 0, 12, 65002, 64496, 0x0a4d000c, n12, sizeof(n12));
	feed(r, &m);
	rm(&m, 3, 0, 0, 64512, 64497, 0x0a4d000c, n24a, sizeof(n24a));
	feed(r, &m);
	rm(&m, 3, 0, 0, 64512, 64498, 0xc00002c8, n24b, sizeof(n24b));
	feed(r, &m);
}

static void test_peer_states(void **state)
{
	struct rib_registry *g = rib_registry_new();
	struct ps_addr ra = v4(0xc0000209), p11 = v4(0x0a4d000b);
	struct ps_addr p12 = v4(0x0a4d000c), a = v4(0x0a010203);
	struct ps_addr nobody = v4(0x0a4d0063);
	struct rib_peer_state ps;
	struct rib_route_info ri;
	struct bmp_router r;
	struct buf m;

	(void)state;
	load(&r);
	assert_true(r.peers_dirty);
	assert_int_equal(rib_peer_lookup(g, 0, &ra, &p11, &ps), 0);
	assert_int_equal(bmp_rib_publish(g, &r), 0);
	assert_false(r.peers_dirty);
	assert_int_equal(rib_peer_lookup(g, RIB_READER_MERGER, &ra, &p11, &ps),
			 1);
	assert_int_equal(ps.state, BMP_STATE_UP);
	assert_int_equal(ps.peer_as, 65001);
	assert_int_equal(ps.prefixes_pre, 2);
	assert_int_equal(ps.prefixes_post, 1);
	assert_int_equal(ps.flaps, 0);
	assert_true(ps.up_since_ns == PEER_UP_TS * 1000000000ULL);
	assert_int_equal(rib_peer_lookup(g, 0, &ra, &p12, &ps), 1);
	assert_int_equal(ps.prefixes_pre, 1);
	assert_int_equal(ps.prefixes_post, 0);
	/* the Loc-RIB instance (address 0) is no session; strangers neither */
	assert_int_equal(rib_peer_lookup(g, 0, &ra, &nobody, &ps), 0);
	a = v4(0);
	assert_int_equal(rib_peer_lookup(g, 0, &ra, &a, &ps), 0);
	assert_int_equal(rib_peer_lookup(g, RIB_MAX_READERS, &ra, &p11, &ps),
			 0);

	/* Peer Down: the states go out alone, the routes wait their turn */
	peer_down(&m, 11, 65001);
	feed(&r, &m);
	assert_true(r.peers_dirty);
	assert_true(r.rib_dirty);
	assert_int_equal(bmp_rib_publish_peers(g, &r), 0);
	assert_false(r.peers_dirty);
	assert_true(r.rib_dirty);
	assert_int_equal(rib_peer_lookup(g, 1, &ra, &p11, &ps), 1);
	assert_int_equal(ps.state, BMP_STATE_DOWN);
	assert_int_equal(ps.flaps, 1);
	assert_int_equal(ps.prefixes_pre, 0);
	assert_true(ps.up_since_ns == 0);
	a = v4(0x0a010203);
	assert_int_equal(rib_lookup_best(g, 1, &ra, &a, &ri), 1);
	assert_int_equal(ri.peer_as, 65001); /* older routes until publish */
	/* the BMP session ends: states become unknown, to publish */
	bmp_router_close(&r);
	assert_true(r.peers_dirty);
	assert_int_equal(bmp_rib_publish_peers(g, &r), 0);
	assert_int_equal(rib_peer_lookup(g, 1, &ra, &p12, &ps), 1);
	assert_int_equal(ps.state, BMP_STATE_UNKNOWN);
	bmp_router_fini(&r);
	rib_registry_free(g);
}

static struct ps_flow flow_to(uint32_t dst, uint64_t bytes)
{
	struct ps_flow f;

	memset(&f, 0, sizeof(f));
	f.present = FLOW_HAS_DST_ADDR;
	f.dst_addr = v4(dst);
	f.bytes = bytes;
	return f;
}

static void test_announcing_peer(void **state)
{
	struct rib_registry *g = rib_registry_new();
	struct ps_addr ra = v4(0xc0000209), p11 = v4(0x0a4d000b);
	struct ps_addr p12 = v4(0x0a4d000c);
	struct agg_origin o;
	struct ps_flow f;
	struct bmp_router r;

	(void)state;
	memset(&o, 0, sizeof(o));
	load(&r);
	assert_int_equal(bmp_rib_publish(g, &r), 0);
	f = flow_to(0x0a010203, 10); /* 10.1.2.3: post-policy, peer 11 */
	rib_enrich_flow(g, 0, &ra, &f, 100, &o);
	f = flow_to(0xac100001, 20); /* 172.16.0.1: peer 12 */
	rib_enrich_flow(g, 0, &ra, &f, 100, &o);
	f = flow_to(0xc6336401, 3); /* 198.51.100.1: Loc-RIB, nh = peer 12 */
	rib_enrich_flow(g, 0, &ra, &f, 100, &o);
	f = flow_to(0xcb007101, 4); /* 203.0.113.1: Loc-RIB, nh no peer */
	rib_enrich_flow(g, 0, &ra, &f, 100, &o);
	f = flow_to(0xc0000201, 5); /* 192.0.2.1: no route */
	rib_enrich_flow(g, 0, &ra, &f, 100, &o);
	assert_int_equal(o.lookups, 5);
	assert_int_equal(o.peers.n, 2);
	assert_memory_equal(&o.peers.addr[0], &p11, sizeof(p11));
	assert_int_equal(o.peers.peer_as[0], 65001);
	assert_true(o.peers.bytes[0] == 1000.0);
	assert_memory_equal(&o.peers.addr[1], &p12, sizeof(p12));
	assert_int_equal(o.peers.peer_as[1], 65002);
	assert_true(o.peers.bytes[1] == 2300.0);
	assert_true(o.peers.other_bytes == 900.0);
	bmp_router_fini(&r);
	rib_registry_free(g);
}

static void test_peer_join_slots(void **state)
{
	struct agg_peer_join a, b;
	struct ps_addr p[6];

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	for (int i = 0; i < 6; i++)
		p[i] = v4(0x0a000001u + (uint32_t)i);
	for (int i = 0; i < 5; i++)
		agg_peer_join_add(&a, &p[i], 65000u + (uint32_t)i, 10);
	agg_peer_join_add(&a, &p[0], 65000, 1);
	/* same address, other AS: another peer (slots full) */
	agg_peer_join_add(&a, &p[1], 1, 7);
	agg_peer_join_add(&a, NULL, 0, 2);
	assert_int_equal(a.n, AGG_PEER_SLOTS);
	assert_true(a.bytes[0] == 11.0);
	assert_true(a.other_bytes == 10.0 + 7.0 + 2.0);
	agg_peer_join_add(&b, &p[5], 65005, 4);
	agg_peer_join_add(&b, &p[0], 65000, 4);
	agg_peer_join_merge(&b, &a);
	assert_int_equal(b.n, AGG_PEER_SLOTS);
	assert_true(b.bytes[1] == 15.0);			/* p0 */
	assert_true(b.other_bytes == 19.0 + 10.0); /* and p3 */
}

static struct conn_bgp_memory_entry remembered(void)
{
	struct conn_bgp_memory_entry e;

	memset(&e, 0, sizeof(e));
	e.n = 2;
	e.peer[0].addr = v4(0x0a000001);
	e.peer[0].peer_as = 65001;
	e.peer[0].last_ns = 100;
	e.peer[1].addr = v4(0x0a000002);
	e.peer[1].peer_as = 65002;
	e.peer[1].last_ns = 200;
	return e;
}

static void test_join_memory(void **state)
{
	struct conn_bgp_memory_entry seen = remembered(), keep;
	struct agg_peer_join j;
	struct ps_addr a1 = v4(0x0a000001), a3 = v4(0x0a000003);
	struct conn_bgp out;

	(void)state;
	memset(&j, 0, sizeof(j));
	memset(&out, 0, sizeof(out));
	/* this window: 10.0.0.3 (300), 10.0.0.1 (100), 50 unjoined */
	agg_peer_join_add(&j, &a1, 65001, 100);
	agg_peer_join_add(&j, &a3, 65003, 300);
	agg_peer_join_add(&j, NULL, 0, 50);
	conn_bgp_join(&j, &seen, 1000, &out, &keep);
	assert_int_equal(out.n, 3);
	assert_memory_equal(&out.peer[0].addr, &a3, sizeof(a3));
	assert_true(out.peer[0].bytes == 300.0);
	assert_int_equal(out.peer[1].peer_as, 65001);
	assert_int_equal(out.peer[2].peer_as, 65002); /* remembered */
	assert_true(out.peer[2].bytes == 0.0);
	assert_true(out.looked_up_bytes == 450.0);
	assert_true(out.unjoined_bytes == 50.0);
	assert_int_equal(keep.n, 3);
	assert_true(keep.peer[0].last_ns == 1000);
	assert_true(keep.peer[2].last_ns == 200); /* not refreshed */

	/* a quiet window: both remembered, most recent first */
	memset(&j, 0, sizeof(j));
	conn_bgp_join(&j, &seen, 1000, &out, &keep);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.peer[0].peer_as, 65002);
	assert_int_equal(out.peer[1].peer_as, 65001);
	assert_true(out.looked_up_bytes == 0.0);
	/* past the hold, forgotten: 10.0.0.1 at 100 goes first */
	conn_bgp_join(&j, &seen, 100 + CONN_BGP_HOLD_NS + 1, &out, &keep);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.peer[0].peer_as, 65002);
	/* nothing remembered, nothing joined */
	conn_bgp_join(&j, NULL, 1000, &out, &keep);
	assert_int_equal(out.n, 0);
	assert_int_equal(keep.n, 0);
}

/*
 * A connection absent from a window (no traffic, no counters) keeps its
 * remembered peers into the next ones, until the hold passes.
 */
static void test_memory_carry(void **state)
{
	struct conn_bgp_memory m;
	struct conn_bgp_memory_entry e = remembered(), *got;
	bool created;

	(void)state;
	assert_int_equal(conn_bgp_memory_init(&m, 16), 0);
	/* window 1 published it: 10.0.0.2 last carried bytes at 200 */
	got = htab_insert(&m.cur, &e.key, &created);
	assert_non_null(got);
	*got = e;
	conn_bgp_memory_rotate(&m, 1000);
	assert_non_null(htab_find(&m.prev, &e.key));
	/* windows 2 and 3 without it: still remembered */
	conn_bgp_memory_rotate(&m, 2000);
	conn_bgp_memory_rotate(&m, 3000);
	got = htab_find(&m.prev, &e.key);
	assert_non_null(got);
	assert_int_equal(got->n, 2);
	assert_true(got->peer[1].last_ns == 200);
	/* the newest peer (200) past the hold: forgotten */
	conn_bgp_memory_rotate(&m, 200 + CONN_BGP_HOLD_NS + 1);
	assert_null(htab_find(&m.prev, &e.key));
	conn_bgp_memory_fini(&m);
}

static void test_state_summary(void **state)
{
	struct conn_bgp b;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.feed = true;
	assert_string_equal(conn_bgp_state(&b), "unknown"); /* no peer */
	b.n = 2;
	b.peer[0].known = true;
	b.peer[0].st.state = BMP_STATE_DOWN;
	b.peer[1].known = true;
	b.peer[1].st.state = BMP_STATE_DOWN;
	assert_string_equal(conn_bgp_state(&b), "down");
	b.peer[1].known = false; /* not in the feed: not known down */
	assert_string_equal(conn_bgp_state(&b), "unknown");
	b.peer[1].known = true;
	b.peer[1].st.state = BMP_STATE_UNKNOWN;
	assert_string_equal(conn_bgp_state(&b), "unknown");
	b.peer[1].st.state = BMP_STATE_UP;
	assert_string_equal(conn_bgp_state(&b), "up");
}

static void test_sflow_destination(void **state)
{
	struct sflow_flow_sample f;
	struct ps_addr a;
	static const uint8_t d6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(rib_enrich_sflow_dst(&f, &a), 0);
	f.present = SFLOW_HAS_IPV4;
	memcpy(f.rec.ipv4.dst_ip, "\xc6\x33\x64\x07", 4);
	assert_int_equal(rib_enrich_sflow_dst(&f, &a), 1);
	assert_int_equal(a.af, 4);
	assert_memory_equal(a.bytes, "\xc6\x33\x64\x07\0\0\0\0", 8);
	/* the sampled header wins over the IPv4 record, when decoded */
	f.present |= SFLOW_HAS_RAW_HEADER;
	f.raw.pkt_ok = true;
	f.raw.pkt.ip.version = 6;
	memcpy(f.raw.pkt.ip.dst, d6, 16);
	assert_int_equal(rib_enrich_sflow_dst(&f, &a), 1);
	assert_int_equal(a.af, 6);
	assert_memory_equal(a.bytes, d6, 16);
	/* a header that did not decode to IP: fall back to the record */
	f.raw.pkt.ip.version = 0;
	assert_int_equal(rib_enrich_sflow_dst(&f, &a), 1);
	assert_int_equal(a.af, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_states),
		cmocka_unit_test(test_announcing_peer),
		cmocka_unit_test(test_peer_join_slots),
		cmocka_unit_test(test_join_memory),
		cmocka_unit_test(test_memory_carry),
		cmocka_unit_test(test_state_summary),
		cmocka_unit_test(test_sflow_destination),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
