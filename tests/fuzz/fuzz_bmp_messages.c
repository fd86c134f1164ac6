/*
 * fuzz_bmp_messages.c - every bgp_session and route message a BMP stream
 * causes must parse as JSON (json-c, an independent parser): wire strings
 * (sysName, Peer Up information, table names) and attributes never break
 * the output.  The stream goes through the session layer in one piece
 * (its chunking is fuzz_bmp_session.c's); the seeds are that target's.
 * Links the collector library.
 */
#include <stddef.h>
#include <stdint.h>

#include "bmp/bmp_msg.h"
#include "bmp/bmp_session.h"
#include "base/json.h"
#include "bmp/messages_route.h"

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

	if (size < 1)
		return 0;
	bmp_router_init(&r, "fuzz", NULL, &lim, on_event, NULL);
	bmp_router_on_route(&r, on_route, NULL);
	/* byte 0 is fuzz_bmp_session's chunk size: the seeds are shared */
	(void)bmp_router_feed(&r, data + 1, size - 1);
	bmp_router_close(&r);
	bmp_router_fini(&r);
	return 0;
}
