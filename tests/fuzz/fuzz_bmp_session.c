/*
 * fuzz_bmp_session.c - a BMP byte stream through the whole session layer:
 * framing with a bounded buffer, decoding, the session table, ADD-PATH
 * decisions, the route tables and attribute interning, then the end of
 * the session.  The first input byte picks the read size, so chunking is
 * fuzzed too.  Every bgp_session and route message the stream causes is
 * written and must parse as JSON (json-c): wire strings and attributes
 * never break the output.  Links the collector library.
 */
#include <stddef.h>
#include <stdint.h>

#include "bmp_msg.h"
#include "bmp_session.h"
#include "json.h"
#include "messages.h"

/* json-c's parser, declared here: its header's json_bool type clashes with
 * our writer's json_bool(). */
struct json_object;
struct json_object *json_tokener_parse(const char *str);
int json_object_put(struct json_object *obj);

static struct jbuf out;

static void must_parse(void)
{
	struct json_object *o;

	if (out.failed)
		return; /* out of memory: counted by the real callers */
	o = json_tokener_parse(out.buf);
	if (o == NULL)
		__builtin_trap();
	json_object_put(o);
}

static void on_event(void *ctx, const struct bmp_router *r,
		     const struct bmp_peer *p, const char *event)
{
	char key[512];

	(void)ctx;
	jbuf_reset(&out);
	msg_bgp_session(&out, r, p, event, key, sizeof(key));
	must_parse();
}

static void on_route(void *ctx, struct bmp_router *r, const struct bmp_peer *p,
		     const struct bmp_route_change *c)
{
	char key[512];

	(void)ctx;
	jbuf_reset(&out);
	msg_route(&out, r, p, c, key, sizeof(key));
	must_parse();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bmp_router r; /* large: keep it off the stack */
	const struct bmp_router_limits lim = { 8, 256, 1 << 16, 1024 };
	size_t chunk, off;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 64 + 1;
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
