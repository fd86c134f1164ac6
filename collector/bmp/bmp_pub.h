/*
 * bmp_pub.h - bgp_session and route messages from the BMP thread to the
 * merger, which alone calls the sinks (sink.h).
 *
 * One SPSC ring (ring.h) of heap items: the BMP thread builds the JSON
 * and pushes; merger_poll pops and publishes.  When the ring is full
 * bmp_pub_push waits (replay), or, when `divert` is set (the live server),
 * hands the item over to be queued for its router, which alone then stops
 * being read (bmp_server.h): TCP backpressure, never a dropped event.
 * Waits are counted.
 *
 * Route messages (bmp.route_messages) take the same ring, so a peer's
 * route changes and its session events keep their order.  They are
 * attached per router session (bmp_pub_routes_attach); when off, the
 * session calls nothing per route.  A route message that cannot be built
 * or queued (out of memory) is counted as bmp.route_messages.failed in
 * the session's reasons; past the ring, the sinks count per type
 * (messages_failed, Kafka's per-topic drops).
 *
 * @thread bmp_pub_push: the BMP thread (or replay's main thread);
 *         bmp_pub_pop: the merger.
 */
#ifndef PEERSCOPE_BMP_PUB_H
#define PEERSCOPE_BMP_PUB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/json.h"
#include "base/msgtype.h"
#include "bmp/bmp_gauge.h"
#include "bmp/bmp_session.h"
#include "xthread/ring.h"

struct bmp_pub_item {
	struct bmp_pub_item *next; /* producer-side queues (bmp_server.c) */
	enum msg_type type;
	char key[200];
	size_t len;
	char json[]; /* len bytes and a NUL */
};

struct bmp_pub {
	struct ring ring;
	bool ready;
	_Atomic uint64_t pushed;     /* written by the producer */
	_Atomic uint64_t full_waits; /* producer waited for the merger */
	struct bmp_gauges gauges;    /* the producer's sessions, routes */
	struct jbuf route_json;	     /* producer-private: route messages */
	/*
	 * Producer-private.  When set (the live server), bmp_pub_push hands
	 * each item to divert instead of waiting for room in the ring: the
	 * server queues it for the router being served and stops reading
	 * only that router while its queue is long (bmp_server.h).
	 */
	void (*divert)(void *ctx, struct bmp_pub_item *it);
	void *divert_ctx;
};

int bmp_pub_init(struct bmp_pub *q, uint32_t slots);
/* Frees what is still queued; the merger has stopped by then. */
void bmp_pub_fini(struct bmp_pub *q);

/* Copy a message in and queue it; waits while the ring is full. 0/-1. */
int bmp_pub_push(struct bmp_pub *q, enum msg_type type, const char *key,
		 const char *json, size_t len);

/*
 * Publish route changes of session r through q when `enabled`
 * (bmp.route_messages); otherwise leave r without a route callback.
 */
void bmp_pub_routes_attach(struct bmp_pub *q, struct bmp_router *r,
			   bool enabled);

/* @thread producer.  Into the ring if there is room (then it belongs to
 * the consumer): true; false when full (it stays the caller's). */
bool bmp_pub_try_push(struct bmp_pub *q, struct bmp_pub_item *it);

/* The next queued message (caller frees), or NULL. */
struct bmp_pub_item *bmp_pub_pop(struct bmp_pub *q);

#endif /* PEERSCOPE_BMP_PUB_H */
