/*
 * netaddr.h - the one syntax for addresses in the configuration, parsed
 * by one set of functions: every listener key (listen.*, bmp.listen,
 * flow.tcp_listen, http.listen) and every allow-list (udp.allow,
 * bmp.allow) and exporter name (flow.sampling_*).
 *
 *   endpoint     ":port"         every address, IPv4 and IPv6
 *                "IPv4:port"     e.g. 127.0.0.1:9464
 *                "[IPv6]:port"   e.g. [::1]:9464
 *   allow-list   "any", or prefixes separated by commas or spaces:
 *                "192.0.2.0/24, 2001:db8::/32"; a bare address is a /32
 *                or /128, host bits are cleared ("192.0.2.1/24" is
 *                192.0.2.0/24)
 *
 * Addresses only: a host name would make the bound address depend on DNS
 * at start-up.  The configuration checks each value with these functions
 * when it is set (so an error names the file and line); the code that
 * binds or matches parses the same text again with the same function, so
 * what was checked is what runs.
 *
 * @thread any, @locks none: pure functions, except netaddr_tcp_listen()
 * and netaddr_is_local(), which make sockets.
 */
#ifndef PEERSCOPE_NETADDR_H
#define PEERSCOPE_NETADDR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "peerscope/addr.h"
#include "peerscope/limits.h"

/* Where a listener binds.  addr.af 0: ":port", every address. */
struct ps_endpoint {
	struct ps_addr addr;
	uint16_t port; /* host order; 0 = the kernel picks */
};

struct netaddr_prefix {
	struct ps_addr net; /* host bits zero */
	uint8_t len;
};

/* An allow-list: n 0 = "any". */
struct netaddr_allow {
	uint32_t n;
	struct netaddr_prefix p[NETADDR_ALLOW_MAX];
};

/* A bare IPv4 or IPv6 address; 0, or -1 when text is not one. */
int netaddr_parse_addr(const char *text, struct ps_addr *a);

/* One endpoint (above); 0, or -1 with "expected ..." in err. */
int netaddr_parse_endpoint(const char *text, struct ps_endpoint *ep, char *err,
			   size_t errlen);

/* The text form netaddr_parse_endpoint() reads back. */
void netaddr_format_endpoint(const struct ps_endpoint *ep, char *buf,
			     size_t len);

/*
 * The socket address of ep; ":port" is [::] (the caller makes the socket
 * dual-stack) or, with family AF_INET, 0.0.0.0.  Returns its length.
 */
socklen_t netaddr_sockaddr(const struct ps_endpoint *ep, int family,
			   struct sockaddr_storage *ss);

/*
 * Connections waiting to be accepted on every TCP listener: a burst of
 * honest ones and a flood both queue here, and a flood is then accepted
 * and dealt with (refused, replaced, timed out) rather than left to
 * crowd out the queue while SYNs are retried.
 */
#define NETADDR_TCP_BACKLOG 128

/*
 * A listening TCP socket on ep (non-blocking, close-on-exec,
 * SO_REUSEADDR; ":port" dual-stack, or IPv4 only on a host without
 * IPv6).  0 with *fd, or -1 with the reason in err (prefixed with what).
 */
int netaddr_tcp_listen(const struct ps_endpoint *ep, int backlog,
		       const char *what, int *fd, char *err, size_t errlen);

/*
 * The sender of a datagram or connection as a ps_addr; v4-mapped IPv6
 * addresses come out as plain IPv4.  Inline: the UDP path calls it for
 * every datagram.  @thread any
 */
static inline void netaddr_from_sockaddr(const struct sockaddr_storage *ss,
					 struct ps_addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		/* v4-mapped senders are reported as plain IPv4 */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			a->af = 4;
			memcpy(a->bytes, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			a->af = 6;
			memcpy(a->bytes, &s6->sin6_addr, 16);
		}
		*port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		a->af = 4;
		memcpy(a->bytes, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
	}
}

/* The port a socket is bound to (a listener asked for port 0). */
uint16_t netaddr_bound_port(int fd);

/*
 * Whether a socket may bind ep's address on this host (port 0 is tried, so
 * nothing running is disturbed).  true for ":port".  On false, err says why.
 */
bool netaddr_is_local(const struct ps_endpoint *ep, char *err, size_t errlen);

/* An allow-list (above); 0, or -1 with the reason in err. */
int netaddr_parse_allow(struct netaddr_allow *a, const char *text, char *err,
			size_t errlen);

/* Whether an allow-list lets `src` in. */
bool netaddr_allow_match(const struct netaddr_allow *a,
			 const struct ps_addr *src);

/*
 * Whether an allow-list names `src` alone (a bare address, or /32, /128):
 * a known peer, not one let in by a prefix.  Such entries are bounded by
 * the list, so what they pin (state, window entries) stays bounded.
 */
bool netaddr_allow_names(const struct netaddr_allow *a,
			 const struct ps_addr *src);

#endif /* PEERSCOPE_NETADDR_H */
