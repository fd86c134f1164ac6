/*
 * bmp_msg.h - the JSON of `bgp_session` (schemas/bgp_session.v1).
 *
 * Keyed by router + peer: "<router>|<peer type>|<distinguisher>|<address>".
 */
#ifndef PEERSCOPE_BMP_MSG_H
#define PEERSCOPE_BMP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "base/json.h"
#include "bmp/bmp_session.h"

/*
 * A peer as both bgp_session and route messages name it: the session key
 * (above) written to key[0..keylen), and the "peer" object.
 */
void bmp_msg_session_key(const struct bmp_router *r, const struct bmp_peer *p,
			 char *key, size_t keylen);
void bmp_msg_peer_block(struct jbuf *j, const struct bmp_peer *p);

/* RFC 7854 4.9 Peer Down reason as bgp_session names it ("other" beyond). */
const char *bmp_msg_down_reason_name(uint8_t reason);

/* Dotted-quad text of a BGP identifier or an IPv4 address in a u32. */
void bmp_msg_ipv4_text(uint32_t v, char *buf, size_t len);

/* @thread bmp.  `event`: up, down, unknown or snapshot. */
void msg_bgp_session(struct jbuf *j, const struct bmp_router *r,
		     const struct bmp_peer *p, const char *event, char *key,
		     size_t keylen);

#endif /* PEERSCOPE_BMP_MSG_H */
