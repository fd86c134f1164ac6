/*
 * bmp_pub.h - bgp_session (and later route) messages from the BMP thread
 * to the merger, which alone calls the sinks (sink.h).
 *
 * One SPSC ring (ring.h) of heap items: the BMP thread builds the JSON
 * and pushes; merger_poll pops and publishes.  When the ring is full the
 * BMP thread waits: it then stops reading its sockets, which is TCP
 * backpressure on the routers, never a dropped event.  Waits are counted.
 *
 * @thread bmp_pub_push: the BMP thread (or replay's main thread);
 *         bmp_pub_pop: the merger.
 */
#ifndef PEERSCOPE_BMP_PUB_H
#define PEERSCOPE_BMP_PUB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bmp_gauge.h"
#include "messages.h"
#include "ring.h"

struct bmp_pub_item {
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
};

int bmp_pub_init(struct bmp_pub *q, uint32_t slots);
/* Frees what is still queued; the merger has stopped by then. */
void bmp_pub_fini(struct bmp_pub *q);

/* Copy a message in and queue it; waits while the ring is full. 0/-1. */
int bmp_pub_push(struct bmp_pub *q, enum msg_type type, const char *key,
		 const char *json, size_t len);

/* The next queued message (caller frees), or NULL. */
struct bmp_pub_item *bmp_pub_pop(struct bmp_pub *q);

#endif /* PEERSCOPE_BMP_PUB_H */
