/*
 * bmpmsg.h - BMP messages for the RIB unit tests: Route Monitoring with
 * one UPDATE, its path attributes, Peer Down, from IPv4 peers 10.77.0.x
 * of a global instance.  Include after "wirebuf.h".
 */
#ifndef PEERSCOPE_TEST_BMPMSG_H
#define PEERSCOPE_TEST_BMPMSG_H

#include <stdint.h>
#include <string.h>

#include "peerscope/addr.h"

/* RM from IPv4 peer `peer` (10.77.0.x), AS `asn`: one UPDATE. */
static inline void rm(struct buf *b, unsigned flags, unsigned peer,
		      uint32_t asn, const struct buf *attrs, const void *nlri,
		      size_t nlen)
{
	size_t bgp_len = 19 + 4 + attrs->n + nlen;
	size_t len = 6 + 42 + bgp_len;

	b->n = 0;
	p8(b, 3);
	p32(b, (uint32_t)len);
	p8(b, 0);     /* Route Monitoring */
	p8(b, 0);     /* peer type: global instance */
	p8(b, flags); /* 0x40: post-policy */
	p32(b, 0);
	p32(b, 0);
	for (int i = 0; i < 12; i++)
		p8(b, 0);
	p32(b, 0x0a4d0000 | peer);
	p32(b, asn);
	p32(b, 0xc0000200 | peer);
	p32(b, 1795679359);
	p32(b, 0);
	for (int i = 0; i < 16; i++)
		p8(b, 0xff);
	p16(b, (unsigned)bgp_len);
	p8(b, 2);
	p16(b, 0);
	p16(b, (unsigned)attrs->n);
	pbytes(b, attrs->b, attrs->n);
	pbytes(b, nlri, nlen);
}

static inline void path_attrs(struct buf *a, const uint32_t *path,
			      unsigned n, uint32_t nh, uint32_t comm)
{
	a->n = 0;
	p8(a, 0x40);
	p8(a, 1);
	p8(a, 1);
	p8(a, 0);
	p8(a, 0x40);
	p8(a, 2);
	p8(a, (unsigned)(2 + 4 * n));
	p8(a, 2);
	p8(a, n);
	for (unsigned i = 0; i < n; i++)
		p32(a, path[i]);
	if (nh != 0) {
		p8(a, 0x40);
		p8(a, 3);
		p8(a, 4);
		p32(a, nh);
	}
	if (comm != 0) {
		p8(a, 0xc0);
		p8(a, 8);
		p8(a, 4);
		p32(a, comm);
	}
}

/* Peer Down of peer 10.77.0.x, reason 4: closed without NOTIFICATION
 * (RFC 7854 §4.9: no data follows). */
static inline void peer_down(struct buf *b, unsigned peer, uint32_t asn)
{
	b->n = 0;
	p8(b, 3);
	p32(b, 6 + 42 + 1);
	p8(b, 2);
	p8(b, 0);
	p8(b, 0);
	p32(b, 0);
	p32(b, 0);
	for (int i = 0; i < 12; i++)
		p8(b, 0);
	p32(b, 0x0a4d0000 | peer);
	p32(b, asn);
	p32(b, 0xc0000200 | peer);
	p32(b, 1795679360);
	p32(b, 0);
	p8(b, 4);
}

static inline struct ps_addr v4(uint32_t x)
{
	struct ps_addr a;

	memset(&a, 0, sizeof(a));
	a.af = 4;
	a.bytes[0] = (uint8_t)(x >> 24);
	a.bytes[1] = (uint8_t)(x >> 16);
	a.bytes[2] = (uint8_t)(x >> 8);
	a.bytes[3] = (uint8_t)x;
	return a;
}

#endif /* PEERSCOPE_TEST_BMPMSG_H */
