/*
 * test_messages_route.c - `route` messages (collector/bmp/messages_route.c,
 * bmp_session.c's route changes, bmp_pub.c's queueing) from hand-built
 * BMP Route Monitoring messages.  Every expected JSON text below was
 * written from the bytes of the vector, field by field, not produced by
 * running the code: 203.0.113.0/24 with every attribute the message
 * carries, a VPN route with its RD and label, a withdrawal, RFC 7606
 * treat-as-withdraw, a re-announcement that changes nothing, Peer Down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wirebuf.h"

#include "bmp/bmp_pub.h"
#include "bmp/bmp_session.h"
#include "bmp/messages_route.h"

/* A BMP Route Monitoring message from peer 10.77.0.11 (AS 65001, BGP id
 * 192.0.2.1, distinguisher 0:100, time 10.5 s) carrying one UPDATE. */
static void rm(struct buf *b, const void *withdrawn, size_t wlen,
	       const void *attrs, size_t alen, const void *nlri, size_t nlen)
{
	b->n = 0;
	p8(b, 3);
	p32(b, 0); /* length, below */
	p8(b, 0);  /* Route Monitoring */
	p8(b, 0);  /* global peer */
	p8(b, 0);  /* flags: IPv4, pre-policy, 4-octet AS */
	p32(b, 0);
	p32(b, 100);
	for (int i = 0; i < 12; i++)
		p8(b, 0);
	p32(b, 0x0a4d000b);
	p32(b, 65001);
	p32(b, 0xc0000201);
	p32(b, 10);
	p32(b, 500000);
	for (int i = 0; i < 16; i++)
		p8(b, 0xff);
	p16(b, (unsigned)(23 + wlen + alen + nlen));
	p8(b, 2);
	p16(b, (unsigned)wlen);
	pbytes(b, withdrawn, wlen);
	p16(b, (unsigned)alen);
	pbytes(b, attrs, alen);
	pbytes(b, nlri, nlen);
	b->b[1] = (uint8_t)(b->n >> 24);
	b->b[2] = (uint8_t)(b->n >> 16);
	b->b[3] = (uint8_t)(b->n >> 8);
	b->b[4] = (uint8_t)b->n;
}

static const uint8_t pfx203[] = { 24, 203, 0, 113 };

/* Every attribute the message format has a field for. */
static const uint8_t all_attrs[] = {
	0x40, 1, 1, 0,					/* ORIGIN igp */
	0x40, 2, 20,					/* AS_PATH */
	2, 2, 0, 0, 0xfd, 0xe9, 0xfa, 0x56, 0xea, 0x02, /* SEQ 65001 4200000002 */
	1, 2, 0, 0, 0xfb, 0xf4, 0, 0, 0xfb, 0xf5,	/* SET 64500 64501 */
	0x40, 3, 4, 198, 51, 100, 1,			/* NEXT_HOP */
	0x80, 4, 4, 0, 0, 0, 10,			/* MED 10 */
	0x40, 5, 4, 0, 0, 0, 200,			/* LOCAL_PREF 200 */
	0x40, 6, 0,					/* ATOMIC_AGGREGATE */
	0xc0, 7, 8, 0, 0, 0xfb, 0xf4, 192, 0, 2, 9,	/* AGGREGATOR */
	0xc0, 8, 8, 0xfd, 0xe9, 0, 100, 0xff, 0xff, 0xff, 0x01, /* COMM */
	0x80, 9, 4, 10, 0, 0, 1,			/* ORIGINATOR_ID */
	0x80, 10, 8, 10, 0, 0, 2, 10, 0, 0, 3,		/* CLUSTER_LIST */
	0xc0, 16, 16,					/* EXT_COMMUNITIES */
	0x00, 0x02, 0xfd, 0xe9, 0, 0, 0, 100,		/* RT 65001:100 */
	0x01, 0x03, 192, 0, 2, 1, 0, 7,			/* RO 192.0.2.1:7 */
	0xc0, 32, 12, 0, 0, 0xfd, 0xe9, 0, 0, 0, 1, 0, 0, 0, 2, /* LARGE */
};

#define HEAD                                                                \
	"{\"type\":\"route\",\"schema_version\":1,"
#define PEER                                                                \
	"\"session_id\":\"test|0|0000000000000064|10.77.0.11\","            \
	"\"time\":\"1970-01-01T00:00:10.500Z\",\"router\":\"test\","        \
	"\"peer\":{\"address\":\"10.77.0.11\",\"type\":\"global\","         \
	"\"distinguisher\":\"0000000000000064\",\"asn\":65001,"             \
	"\"bgp_id\":\"192.0.2.1\"},"
#define ROUTE203                                                            \
	"\"view\":\"pre_policy\",\"family\":\"ipv4_unicast\",\"afi\":1,"    \
	"\"safi\":1,\"prefix\":\"203.0.113.0/24\",\"path_id\":0,"           \
	"\"rd\":null,\"labels\":null,"

static const char want_announce[] =
	HEAD "\"action\":\"announce\",\"cause\":\"update\"," PEER ROUTE203
	"\"attributes\":{\"origin\":\"igp\",\"as_path\":["
	"{\"type\":\"sequence\",\"asns\":[65001,4200000002]},"
	"{\"type\":\"set\",\"asns\":[64500,64501]}],"
	"\"next_hop\":\"198.51.100.1\",\"med\":10,\"local_pref\":200,"
	"\"communities\":[\"65001:100\",\"65535:65281\"],"
	"\"extended_communities\":["
	"{\"type\":0,\"subtype\":2,\"value\":\"65001:100\"},"
	"{\"type\":1,\"subtype\":3,\"value\":\"192.0.2.1:7\"}],"
	"\"large_communities\":[\"65001:1:2\"],"
	"\"aggregator\":{\"asn\":64500,\"address\":\"192.0.2.9\"},"
	"\"originator_id\":\"10.0.0.1\","
	"\"cluster_list\":[\"10.0.0.2\",\"10.0.0.3\"],"
	"\"atomic_aggregate\":true}}";

static const char want_withdraw[] =
	HEAD "\"action\":\"withdraw\",\"cause\":\"update\"," PEER ROUTE203
	"\"attributes\":null}";

static const char want_bulk[] =
	HEAD "\"action\":\"peer_routes_withdrawn\",\"cause\":\"peer_down\","
	PEER "\"routes_withdrawn\":1,\"views\":{\"pre_policy\":"
	"{\"ipv4_vpn\":1}}}";

struct log {
	char msg[16][2048];
	char key[16][200];
	unsigned n;
};

static void on_route(void *ctx, struct bmp_router *r, const struct bmp_peer *p,
		     const struct bmp_route_change *c)
{
	struct log *l = ctx;
	struct jbuf j;

	jbuf_init(&j);
	assert_true(l->n < 16);
	msg_route(&j, r, p, c, l->key[l->n], sizeof(l->key[0]));
	assert_false(j.failed);
	assert_true(j.len < sizeof(l->msg[0]));
	memcpy(l->msg[l->n], j.buf, j.len);
	l->msg[l->n][j.len] = '\0';
	l->n++;
	jbuf_fini(&j);
}

static const struct bmp_router_limits lim = { 16, 1000, 1 << 20, 0 };

static void feed(struct bmp_router *r, const struct buf *b)
{
	assert_int_equal(bmp_router_feed(r, b->b, b->n), 0);
}

static void test_announce_withdraw(void **state)
{
	struct bmp_router r;
	struct log l = { .n = 0 };
	uint8_t med20[sizeof(all_attrs)];
	struct buf b;

	(void)state;
	bmp_router_init(&r, "test", NULL, &lim, NULL, NULL);
	bmp_router_on_route(&r, on_route, &l);
	rm(&b, NULL, 0, all_attrs, sizeof(all_attrs), pfx203, sizeof(pfx203));
	feed(&r, &b);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.msg[0], want_announce);
	assert_string_equal(l.key[0], "test|0|0000000000000064|10.77.0.11");
	/* the same attributes again: no change, no message */
	feed(&r, &b);
	assert_int_equal(l.n, 1);
	/* MED 10 -> 20: a change */
	memcpy(med20, all_attrs, sizeof(med20));
	med20[40] = 20;
	assert_int_equal(all_attrs[40], 10); /* the MED's value byte */
	rm(&b, NULL, 0, med20, sizeof(med20), pfx203, sizeof(pfx203));
	feed(&r, &b);
	assert_int_equal(l.n, 2);
	assert_non_null(strstr(l.msg[1], "\"med\":20,"));
	assert_non_null(strstr(l.msg[1], "\"action\":\"announce\""));
	/* withdrawn, then withdrawn again: the second changes nothing */
	rm(&b, pfx203, sizeof(pfx203), NULL, 0, NULL, 0);
	feed(&r, &b);
	feed(&r, &b);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.msg[2], want_withdraw);
	bmp_router_fini(&r);
}

static void test_treat_as_withdraw(void **state)
{
	/* ORIGIN 5 is malformed: RFC 7606 §7.1 treat-as-withdraw */
	static const uint8_t bad_origin[] = { 0x40, 1, 1, 5 };
	static const uint8_t origin[] = { 0x40, 1, 1, 2 };
	struct bmp_router r;
	struct log l = { .n = 0 };
	struct buf b;

	(void)state;
	bmp_router_init(&r, "test", NULL, &lim, NULL, NULL);
	bmp_router_on_route(&r, on_route, &l);
	/* not held: nothing to withdraw */
	rm(&b, NULL, 0, bad_origin, sizeof(bad_origin), pfx203,
	   sizeof(pfx203));
	feed(&r, &b);
	assert_int_equal(l.n, 0);
	rm(&b, NULL, 0, origin, sizeof(origin), pfx203, sizeof(pfx203));
	feed(&r, &b);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.msg[0],
			       "\"attributes\":{\"origin\":\"incomplete\","
			       "\"as_path\":null,\"next_hop\":null,"));
	rm(&b, NULL, 0, bad_origin, sizeof(bad_origin), pfx203,
	   sizeof(pfx203));
	feed(&r, &b);
	assert_int_equal(l.n, 2);
	assert_non_null(strstr(l.msg[1], "\"action\":\"withdraw\","
					 "\"cause\":\"treat_as_withdraw\","));
	assert_non_null(strstr(l.msg[1], "\"prefix\":\"203.0.113.0/24\""));
	bmp_router_fini(&r);
}

/* MP_REACH IPv4 VPN (RFC 4364): RD 0:65000:100, label 16, 10.1.2.0/24. */
static const uint8_t vpn_attrs[] = {
	0x40, 1, 1, 0,			 /* ORIGIN igp */
	0x40, 2, 0,			 /* AS_PATH, empty (iBGP) */
	0x80, 14, 32,			 /* MP_REACH_NLRI */
	0, 1, 128,			 /* AFI 1, SAFI 128 */
	12, 0, 0, 0, 0, 0, 0, 0, 0, 198, 51, 100, 2, /* RD 0 + next hop */
	0,				 /* reserved */
	112,				 /* 24 label + 64 RD + 24 prefix bits */
	0x00, 0x01, 0x01,		 /* label 16, bottom of stack */
	0, 0, 0xfd, 0xe8, 0, 0, 0, 100,	 /* RD type 0, 65000:100 */
	10, 1, 2,
};

static void test_vpn_and_peer_down(void **state)
{
	struct bmp_router r;
	struct log l = { .n = 0 };
	struct buf b;

	(void)state;
	bmp_router_init(&r, "test", NULL, &lim, NULL, NULL);
	bmp_router_on_route(&r, on_route, &l);
	rm(&b, NULL, 0, vpn_attrs, sizeof(vpn_attrs), NULL, 0);
	feed(&r, &b);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.msg[0],
			       "\"view\":\"pre_policy\",\"family\":\"ipv4_vpn\","
			       "\"afi\":1,\"safi\":128,\"prefix\":\"10.1.2.0/24\","
			       "\"path_id\":0,\"rd\":\"65000:100\","
			       "\"labels\":{\"first\":16,\"count\":1},"
			       "\"attributes\":{\"origin\":\"igp\","
			       "\"as_path\":[],\"next_hop\":\"198.51.100.2\","));
	/* Peer Down reason 4: one message for every route, with the counts */
	b.n = 0;
	p8(&b, 3);
	p32(&b, 6 + 42 + 1);
	p8(&b, BMP_PEER_DOWN);
	p8(&b, 0);
	p8(&b, 0);
	p32(&b, 0);
	p32(&b, 100);
	for (int i = 0; i < 12; i++)
		p8(&b, 0);
	p32(&b, 0x0a4d000b);
	p32(&b, 65001);
	p32(&b, 0xc0000201);
	p32(&b, 10);
	p32(&b, 500000);
	p8(&b, 4);
	feed(&r, &b);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.msg[1], want_bulk);
	/* nothing left: the session's end publishes no bulk withdrawal */
	bmp_router_close(&r);
	assert_int_equal(l.n, 2);
	bmp_router_fini(&r);
}

/* Through the ring to the merger's side: type, key, text; off = none. */
static void test_pub(void **state)
{
	struct bmp_pub q;
	struct bmp_router r;
	struct bmp_pub_item *it;
	struct buf b;

	(void)state;
	assert_int_equal(bmp_pub_init(&q, 16), 0);
	bmp_router_init(&r, "test", NULL, &lim, NULL, NULL);
	bmp_pub_routes_attach(&q, &r, false);
	rm(&b, NULL, 0, all_attrs, sizeof(all_attrs), pfx203, sizeof(pfx203));
	feed(&r, &b);
	assert_null(bmp_pub_pop(&q));
	rm(&b, pfx203, sizeof(pfx203), NULL, 0, NULL, 0);
	feed(&r, &b);
	bmp_pub_routes_attach(&q, &r, true);
	rm(&b, NULL, 0, all_attrs, sizeof(all_attrs), pfx203, sizeof(pfx203));
	feed(&r, &b);
	it = bmp_pub_pop(&q);
	assert_non_null(it);
	assert_int_equal(it->type, MSG_ROUTE);
	assert_string_equal(it->key, "test|0|0000000000000064|10.77.0.11");
	assert_string_equal(it->json, want_announce);
	assert_int_equal(it->len, strlen(want_announce));
	free(it);
	assert_null(bmp_pub_pop(&q));
	assert_int_equal(r.st.n[DEC_BMP_ROUTE_MSG_FAILED], 0);
	assert_string_equal(msg_info(MSG_ROUTE)->type, "route");
	bmp_router_fini(&r);
	bmp_pub_fini(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_announce_withdraw),
		cmocka_unit_test(test_treat_as_withdraw),
		cmocka_unit_test(test_vpn_and_peer_down),
		cmocka_unit_test(test_pub),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
