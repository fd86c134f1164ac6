/*
 * udp_allow.h - udp.allow: the exporters whose UDP datagrams a worker
 * decodes.  A comma-separated list of prefixes ("192.0.2.0/24",
 * "2001:db8::/32"; a bare address is a /32 or /128), or "any".
 *
 * Each worker holds a parsed copy, refreshed when it sees a new
 * configuration generation (cfgpub.h) at the start of a receive batch, so
 * the check per datagram reads only worker-owned memory.
 */
#ifndef PEERSCOPE_UDP_ALLOW_H
#define PEERSCOPE_UDP_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peerscope/addr.h"

#define UDP_ALLOW_MAX 64

struct udp_allow_prefix {
	struct ps_addr net; /* host bits zero */
	uint8_t len;
};

struct udp_allow {
	uint32_t n; /* 0 = every exporter allowed */
	struct udp_allow_prefix p[UDP_ALLOW_MAX];
};

/* @thread any.  0, or -1 with the reason in err. */
int udp_allow_parse(struct udp_allow *a, const char *text, char *err,
		    size_t errlen);

/* @thread any.  Whether datagrams from `src` are decoded. */
bool udp_allow_match(const struct udp_allow *a, const struct ps_addr *src);

#endif /* PEERSCOPE_UDP_ALLOW_H */
