/*
 * bmp_msg.h - the JSON of `bgp_session` (schemas/bgp_session.v1).
 *
 * Keyed by router + peer: "<router>|<peer type>|<distinguisher>|<address>".
 */
#ifndef PEERSCOPE_BMP_MSG_H
#define PEERSCOPE_BMP_MSG_H

#include <stddef.h>

#include "bmp_session.h"
#include "json.h"

/* @thread bmp.  `event`: up, down, unknown or snapshot. */
void msg_bgp_session(struct jbuf *j, const struct bmp_router *r,
		     const struct bmp_peer *p, const char *event, char *key,
		     size_t keylen);

#endif /* PEERSCOPE_BMP_MSG_H */
