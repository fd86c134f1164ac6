/*
 * messages_route.h - the `route` message (schemas/route.v1): one route
 * change of a BMP-monitored peer, written on the BMP thread.
 */
#ifndef PEERSCOPE_MESSAGES_ROUTE_H
#define PEERSCOPE_MESSAGES_ROUTE_H

#include <stddef.h>

#include "base/json.h"

struct bmp_router;
struct bmp_peer;
struct bmp_route_change;

/*
 * One route change of a BMP-monitored peer (messages_route.c,
 * schemas/route.v1).  The key, "<router>|<peer type>|<distinguisher>|
 * <peer address>", is the peer's bgp_session id: every change of one
 * peer lands in one Kafka partition, in order, bulk withdrawals included.
 * @thread bmp.
 */
void msg_route(struct jbuf *j, const struct bmp_router *r,
	       const struct bmp_peer *p, const struct bmp_route_change *c,
	       char *key, size_t keylen);

#endif /* PEERSCOPE_MESSAGES_ROUTE_H */
