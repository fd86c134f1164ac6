/*
 * fuzz_bmp_session.c - a BMP byte stream through the whole session layer:
 * framing with a bounded buffer, decoding, the session table, ADD-PATH
 * decisions, the route tables and attribute interning, then the end of
 * the session.  The first input byte picks the read size, so chunking is
 * fuzzed too: below 32, reads of 1 to 32 bytes (headers split at every
 * offset); else 32 bytes to 8 KiB, as sockets deliver.  Route changes go
 * to a callback that counts them (the session does the work it does with
 * bmp.route_messages on); the messages they become are
 * fuzz_bmp_messages.c's business, which keeps this target at session
 * speed (writing and parsing JSON was three quarters of its time).  Links
 * the collector library.
 */
#include <stddef.h>
#include <stdint.h>

#include "bmp/bmp_session.h"

static uint64_t changes;

static void on_event(void *ctx, const struct bmp_router *r,
		     const struct bmp_peer *p, const char *event)
{
	(void)ctx;
	(void)r;
	(void)p;
	changes += event[0];
}

static void on_route(void *ctx, struct bmp_router *r, const struct bmp_peer *p,
		     const struct bmp_route_change *c)
{
	(void)ctx;
	(void)r;
	(void)p;
	(void)c;
	changes++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bmp_router r; /* large: keep it off the stack */
	const struct bmp_router_limits lim = { 8, 256, 1 << 16, 1024 };
	size_t chunk, off;

	if (size < 1)
		return 0;
	chunk = data[0] < 32 ? (size_t)data[0] + 1 :
			       (size_t)32 << (data[0] % 9);
	bmp_router_init(&r, "fuzz", NULL, &lim, on_event, NULL);
	bmp_router_on_route(&r, on_route, NULL);
	for (off = 1; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		(void)bmp_router_feed(&r, data + off, n);
	}
	/* every cap holds whatever came in */
	if (r.npeers > lim.max_peers || r.len > lim.max_buffer ||
	    r.routes_total > lim.max_router_routes)
		__builtin_trap();
	for (uint32_t i = 0; i < r.npeers; i++)
		if (r.peers[i]->rib.count > lim.max_routes)
			__builtin_trap();
	bmp_router_close(&r);
	if (r.routes_total != 0 || r.attrs.live != 0)
		__builtin_trap(); /* the end of a session frees every route */
	bmp_router_fini(&r);
	return 0;
}
