/*
 * bench_bmp.c - the BMP targets of issue 4, measured (not asserted):
 *
 *  1. a full table, 1,000,000 IPv4 + 200,000 IPv6 routes from one peer,
 *     one route per Route Monitoring message (as FRR and GoBGP send),
 *     framed, decoded and stored in the RIB on one core; bytes per route
 *     beyond the interned attributes;
 *  2. that peer's Peer Down: time to drop every route;
 *  3. 100 peers x 10,000 routes, then all 100 Peer Downs together.
 *
 * The stream is synthesised in memory first (not timed), then fed in
 * 64 KiB reads as a socket would deliver it.  Usage: peerscope-bench-bmp
 * [ipv4_routes ipv6_routes].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bmp/bmp_session.h"
#include "bmp/bmp_rib.h"
#include "rib/rib_snap.h"

#define ATTR_POOL 1000

struct out {
	uint8_t *b;
	size_t n, cap;
};

static void grow(struct out *o, size_t need)
{
	if (o->n + need <= o->cap)
		return;
	while (o->n + need > o->cap)
		o->cap = o->cap ? o->cap * 2 : 1 << 20;
	o->b = realloc(o->b, o->cap);
	if (o->b == NULL)
		abort();
}

static void p8(struct out *o, unsigned v)
{
	grow(o, 1);
	o->b[o->n++] = (uint8_t)v;
}

static void p16(struct out *o, unsigned v)
{
	p8(o, v >> 8);
	p8(o, v);
}

static void p32(struct out *o, uint32_t v)
{
	p16(o, v >> 16);
	p16(o, v & 0xffff);
}

static size_t bmp_begin(struct out *o, unsigned type)
{
	size_t at = o->n;

	p8(o, 3);
	p32(o, 0);
	p8(o, type);
	return at;
}

static void bmp_end(struct out *o, size_t at)
{
	uint32_t len = (uint32_t)(o->n - at);

	o->b[at + 1] = (uint8_t)(len >> 24);
	o->b[at + 2] = (uint8_t)(len >> 16);
	o->b[at + 3] = (uint8_t)(len >> 8);
	o->b[at + 4] = (uint8_t)len;
}

static void peer_hdr(struct out *o, uint32_t peer)
{
	p8(o, 0);
	p8(o, 0);
	p32(o, 0);
	p32(o, 0);
	for (int i = 0; i < 12; i++)
		p8(o, 0);
	p32(o, 0x0a000000 | peer);
	p32(o, 65000 + peer);
	p32(o, 0xc0000200 | (peer & 0xff));
	p32(o, 1795679359);
	p32(o, 0);
}

static void bgp_hdr(struct out *o, size_t *at, unsigned type)
{
	*at = o->n;
	for (int i = 0; i < 16; i++)
		p8(o, 0xff);
	p16(o, 0);
	p8(o, type);
}

static void bgp_end(struct out *o, size_t at)
{
	size_t len = o->n - at;

	o->b[at + 16] = (uint8_t)(len >> 8);
	o->b[at + 17] = (uint8_t)len;
}

static void peer_up(struct out *o, uint32_t peer)
{
	size_t at = bmp_begin(o, 3), b;

	peer_hdr(o, peer);
	for (int i = 0; i < 16; i++)
		p8(o, 0);
	p16(o, 179);
	p16(o, 40000);
	for (int k = 0; k < 2; k++) {
		bgp_hdr(o, &b, 1);
		p8(o, 4); p16(o, 23456); p16(o, 90); p32(o, 0x0a000001);
		p8(o, 8); p8(o, 2); p8(o, 6);
		p8(o, 65); p8(o, 4); p32(o, 65000 + peer);
		bgp_end(o, b);
	}
	bmp_end(o, at);
}

static void peer_down(struct out *o, uint32_t peer)
{
	size_t at = bmp_begin(o, 2);

	peer_hdr(o, peer);
	p8(o, 4);
	bmp_end(o, at);
}

/* Shared attributes: ORIGIN, AS_PATH (3 ASNs), MED, COMMUNITIES. */
static void attrs(struct out *o, unsigned pool)
{
	p8(o, 0x40); p8(o, 1); p8(o, 1); p8(o, 0);
	p8(o, 0x40); p8(o, 2); p8(o, 14);
	p8(o, 2); p8(o, 3); p32(o, 65001); p32(o, 3356); p32(o, 64512 + pool);
	p8(o, 0x80); p8(o, 4); p8(o, 4); p32(o, pool);
	p8(o, 0xc0); p8(o, 8); p8(o, 4); p32(o, 0xfde80000 | pool);
}

static void route_v4(struct out *o, uint32_t peer, uint32_t i)
{
	size_t at = bmp_begin(o, 0), b;

	peer_hdr(o, peer);
	bgp_hdr(o, &b, 2);
	p16(o, 0);
	p16(o, 4 + 17 + 7 + 7 + 7);
	attrs(o, i % ATTR_POOL);
	p8(o, 0x40); p8(o, 3); p8(o, 4); p32(o, 0x0a000001);
	p8(o, 24);
	p8(o, (i >> 16) & 0xff); p8(o, (i >> 8) & 0xff); p8(o, i & 0xff);
	bgp_end(o, b);
	bmp_end(o, at);
}

static void route_v6(struct out *o, uint32_t peer, uint32_t i)
{
	size_t at = bmp_begin(o, 0), b;

	peer_hdr(o, peer);
	bgp_hdr(o, &b, 2);
	p16(o, 0);
	p16(o, 4 + 17 + 7 + 7 + 3 + 4 + 16 + 1 + 7);
	attrs(o, i % ATTR_POOL);
	p8(o, 0x80); p8(o, 14); p8(o, 4 + 16 + 1 + 7);
	p16(o, 2); p8(o, 1); p8(o, 16);
	p32(o, 0x20010db8); p32(o, 0); p32(o, 0); p32(o, 1);
	p8(o, 0);
	/* 2a0N:1450:iiii::/48: bits past the 32nd set, as in real tables */
	p8(o, 48); p16(o, 0x2a00 | (i >> 16)); p16(o, 0x1450); p16(o, i & 0xffff);
	bgp_end(o, b);
	bmp_end(o, at);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Where the bytes per route come from: each (view, family) sub-table. */
static void print_subtables(const struct rib_table *t)
{
	for (unsigned v = 0; v < RIB_VIEWS; v++)
		for (unsigned f = 0; f < RIB_FAMILIES; f++) {
			const struct rib_sub *s = &t->sub[v][f];

			if (s->cap == 0)
				continue;
			printf("  view %u %s: %u routes, %u slots of %u bytes, "
			       "load %.2f, %.1f bytes/route\n",
			       v, bgp_afs_name((int)f), s->count, s->cap,
			       s->stride, (double)s->count / (double)s->cap,
			       (double)s->cap * s->stride / (double)s->count);
		}
}

static void feed(struct bmp_router *r, const struct out *o, size_t from)
{
	for (size_t off = from; off < o->n; off += 65536) {
		size_t n = o->n - off < 65536 ? o->n - off : 65536;

		if (bmp_router_feed(r, o->b + off, n) == -1)
			abort();
	}
}

int main(int argc, char **argv)
{
	uint32_t n4 = argc > 2 ? (uint32_t)atoi(argv[1]) : 1000000;
	uint32_t n6 = argc > 2 ? (uint32_t)atoi(argv[2]) : 200000;
	struct bmp_router_limits lim = { 4096, 1u << 28, 1u << 24, 0 };
	struct out o = { NULL, 0, 0 };
	struct bmp_router r;
	size_t mark, routes, bytes;
	double t0, t1;

	/* 1. full table */
	peer_up(&o, 1);
	for (uint32_t i = 0; i < n4; i++)
		route_v4(&o, 1, i);
	for (uint32_t i = 0; i < n6; i++)
		route_v6(&o, 1, i);
	mark = o.n;
	peer_down(&o, 1);
	bmp_router_init(&r, "bench", NULL, &lim, NULL, NULL);
	t0 = now();
	for (size_t off = 0; off < mark; off += 65536) {
		size_t n = mark - off < 65536 ? mark - off : 65536;

		if (bmp_router_feed(&r, o.b + off, n) == -1)
			abort();
	}
	t1 = now();
	routes = r.peers[0]->rib.count;
	bytes = rib_table_bytes(&r.peers[0]->rib);
	printf("full table: %zu routes (%u IPv4 + %u IPv6), %zu messages, "
	       "%.1f MB in %.3f s = %.0f routes/s\n",
	       routes, n4, n6, (size_t)r.messages, (double)mark / 1e6,
	       t1 - t0, (double)routes / (t1 - t0));
	printf("RIB: %.1f bytes/route (tables %zu bytes); "
	       "attributes: %u sets, %llu bytes\n",
	       (double)bytes / (double)routes, bytes, r.attrs.live,
	       (unsigned long long)r.attrs.bytes);
	print_subtables(&r.peers[0]->rib);
	/* LPM snapshot for readers: build, then lookups on one core */
	{
		struct rib_route_info ri;
		struct rib_snap *snap;
		struct ps_addr a;
		uint32_t hits = 0;

		t0 = now();
		snap = bmp_rib_snap(&r, BMP_VIEW_PRE_POLICY);
		t1 = now();
		if (snap == NULL)
			abort();
		printf("snapshot: %u routes built in %.0f ms\n",
		       rib_snap_count(snap), (t1 - t0) * 1e3);
		memset(&a, 0, sizeof(a));
		a.af = 4;
		t0 = now();
		for (uint32_t i = 0; i < 1000000; i++) {
			uint32_t x = i * 2654435761u;

			a.bytes[0] = 0;
			a.bytes[1] = (uint8_t)(x >> 24) % 16;
			a.bytes[2] = (uint8_t)(x >> 16);
			a.bytes[3] = (uint8_t)x;
			hits += (uint32_t)rib_snap_lookup(snap, &a, &ri);
		}
		t1 = now();
		printf("lookups: 1,000,000 IPv4 in %.0f ms (%.0f ns each, %u "
		       "hits)\n",
		       (t1 - t0) * 1e3, (t1 - t0) * 1e3, hits);
		rib_snap_free(snap);
	}
	/* 2. Peer Down of that peer */
	t0 = now();
	feed(&r, &o, mark);
	t1 = now();
	printf("peer down: %zu routes dropped in %.1f ms (rib now %u)\n",
	       routes, (t1 - t0) * 1e3, r.peers[0]->rib.count);
	bmp_router_fini(&r);

	/* 3. 100 peers x 10,000 routes, all go down together */
	o.n = 0;
	for (uint32_t p = 1; p <= 100; p++) {
		peer_up(&o, p);
		for (uint32_t i = 0; i < 10000; i++)
			route_v4(&o, p, i);
	}
	mark = o.n;
	for (uint32_t p = 1; p <= 100; p++)
		peer_down(&o, p);
	bmp_router_init(&r, "bench100", NULL, &lim, NULL, NULL);
	t0 = now();
	for (size_t off = 0; off < mark; off += 65536) {
		size_t n = mark - off < 65536 ? mark - off : 65536;

		if (bmp_router_feed(&r, o.b + off, n) == -1)
			abort();
	}
	t1 = now();
	printf("100 peers x 10000 routes loaded in %.3f s\n", t1 - t0);
	t0 = now();
	feed(&r, &o, mark);
	t1 = now();
	printf("100 peers down together: 1,000,000 routes dropped in %.1f ms\n",
	       (t1 - t0) * 1e3);
	bmp_router_fini(&r);
	free(o.b);
	return 0;
}
