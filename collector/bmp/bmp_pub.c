/* bmp_pub.c - see bmp_pub.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bmp/bmp_pub.h"
#include "bmp/messages_route.h"

int bmp_pub_init(struct bmp_pub *q, uint32_t slots)
{
	memset(q, 0, sizeof(*q));
	if (ring_init(&q->ring, slots) == -1)
		return -1;
	bmp_gauges_init(&q->gauges);
	jbuf_init(&q->route_json);
	q->ready = true;
	return 0;
}

void bmp_pub_fini(struct bmp_pub *q)
{
	struct bmp_pub_item *it;

	if (!q->ready)
		return;
	while ((it = ring_pop(&q->ring)) != NULL)
		free(it);
	ring_fini(&q->ring);
	bmp_gauges_fini(&q->gauges);
	jbuf_fini(&q->route_json);
	q->ready = false;
}

int bmp_pub_push(struct bmp_pub *q, enum msg_type type, const char *key,
		 const char *json, size_t len)
{
	struct timespec nap = { .tv_sec = 0, .tv_nsec = 100 * 1000 };
	struct bmp_pub_item *it = malloc(sizeof(*it) + len + 1);

	if (it == NULL)
		return -1;
	it->type = type;
	snprintf(it->key, sizeof(it->key), "%s", key);
	it->len = len;
	memcpy(it->json, json, len);
	it->json[len] = '\0';
	it->next = NULL;
	if (q->divert != NULL) {
		q->divert(q->divert_ctx, it);
		return 0;
	}
	if (!ring_push(&q->ring, it)) {
		atomic_fetch_add_explicit(&q->full_waits, 1,
					  memory_order_relaxed);
		while (!ring_push(&q->ring, it))
			nanosleep(&nap, NULL);
	}
	atomic_fetch_add_explicit(&q->pushed, 1, memory_order_relaxed);
	return 0;
}

bool bmp_pub_try_push(struct bmp_pub *q, struct bmp_pub_item *it)
{
	if (!ring_push(&q->ring, it))
		return false;
	atomic_fetch_add_explicit(&q->pushed, 1, memory_order_relaxed);
	return true;
}

/* @thread producer: bmp_route_fn of every attached session. */
static void route_publish(void *ctx, struct bmp_router *r,
			  const struct bmp_peer *p,
			  const struct bmp_route_change *c)
{
	struct bmp_pub *q = ctx;
	char key[200];

	jbuf_reset(&q->route_json);
	msg_route(&q->route_json, r, p, c, key, sizeof(key));
	if (q->route_json.failed ||
	    bmp_pub_push(q, MSG_ROUTE, key, q->route_json.buf,
			 q->route_json.len) == -1)
		dec_event(&r->st, DEC_BMP_ROUTE_MSG_FAILED);
}

void bmp_pub_routes_attach(struct bmp_pub *q, struct bmp_router *r,
			   bool enabled)
{
	bmp_router_on_route(r, enabled ? route_publish : NULL,
			    enabled ? q : NULL);
}

struct bmp_pub_item *bmp_pub_pop(struct bmp_pub *q)
{
	return q->ready ? ring_pop(&q->ring) : NULL;
}
