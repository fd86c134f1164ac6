/*
 * probe_icmp.h - ICMP / ICMPv6 echo for the probe engine: the request we
 * send, the reply we accept (parsed with the bounds-checked cursor: the
 * bytes come from the network), and the socket, datagram or raw.
 *
 * Echo request (RFC 792 / RFC 4443 4.1), 64 bytes like ping's default:
 *
 *   0      1      2      3
 *   +------+------+-------------+
 *   | type | code |  checksum   |   type 8 (IPv4) / 128 (IPv6), code 0
 *   +------+------+-------------+
 *   |  identifier | sequence    |   sequence = probe number mod 2^16
 *   +-------------+-------------+
 *   | nonce (8): this engine's random cookie    |
 *   | slot (4) | probe number (4)               |
 *   | send time (8): wall clock ns, informative  |
 *   | zero padding (32)                          |
 *   +--------------------------------------------+
 *
 * The payload comes back in the reply, so a reply names its own probe; the
 * nonce keeps another prober's replies (a raw socket sees every echo reply
 * of the host) and forged ones out.
 *
 * Sockets: a datagram socket (SOCK_DGRAM, IPPROTO_ICMP / IPPROTO_ICMPV6,
 * "ping socket") needs no privilege when net.ipv4.ping_group_range (which
 * governs IPv6 too) admits the process's group; the kernel then picks the
 * identifier, fills the checksum and hands us only our own replies, without
 * the IP header.  A raw socket needs CAP_NET_RAW, sees every ICMP message
 * (filtered down to echo replies with ICMP_FILTER / ICMP6_FILTER), and on
 * IPv4 receives the IP header too; we set the identifier and, on IPv4, the
 * checksum (the kernel computes ICMPv6's).
 */
#ifndef PEERSCOPE_PROBE_ICMP_H
#define PEERSCOPE_PROBE_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "peerscope/addr.h"

#define PROBE_ICMP_HEADER  8
#define PROBE_ICMP_PAYLOAD 56
#define PROBE_ICMP_LEN	   (PROBE_ICMP_HEADER + PROBE_ICMP_PAYLOAD)

struct probe_icmp_echo {
	uint16_t identifier;
	uint16_t sequence;
	uint64_t nonce;
	uint32_t slot;
	uint32_t probe;	  /* probe number of the slot */
	uint64_t sent_ns; /* wall clock at send, informative */
};

/* The request into buf (PROBE_ICMP_LEN bytes); af 4 or 6. */
void probe_icmp_build(uint8_t buf[PROBE_ICMP_LEN], int af,
		      const struct probe_icmp_echo *e);

/* RFC 1071 Internet checksum of len bytes. */
uint16_t probe_inet_checksum(const uint8_t *p, size_t len);

/* Why a received ICMP message is not one of our echo replies. */
#define PROBE_ICMP_PARSE_ERRORS(X)                                             \
	X(TRUNCATED, "probe.icmp.truncated")                                   \
	X(IP_HEADER, "probe.icmp.ip_header_invalid")                           \
	X(NOT_REPLY, "probe.icmp.not_echo_reply")                              \
	X(CHECKSUM, "probe.icmp.checksum_invalid")

enum probe_icmp_parse_err {
	PROBE_ICMP_OK = 0,
#define PROBE_ICMP_ERR_ENUM_(id, name) PROBE_ICMP_##id,
	PROBE_ICMP_PARSE_ERRORS(PROBE_ICMP_ERR_ENUM_)
#undef PROBE_ICMP_ERR_ENUM_
		PROBE_ICMP_PARSE_END
};

/*
 * An echo reply as received on an ICMP socket of family af (4/6), with
 * an IPv4 header first when with_ip_header (raw IPv4).  0 with e filled
 * (nonce and slot still to be checked by the caller), or -1 with why.
 */
int probe_icmp_parse(const uint8_t *buf, size_t len, int af,
		     bool with_ip_header, struct probe_icmp_echo *e,
		     enum probe_icmp_parse_err *why);

/*
 * An ICMP socket for family af (4/6), non-blocking: datagram or raw as
 * `want` says, or AUTO: datagram, else raw.  The fd with *got set, or -1
 * with the reason for every kind tried in why.
 */
int probe_icmp_open(int af, enum ps_probe_icmp_socket want,
		    enum ps_probe_icmp_socket *got, char *why, size_t whylen);

#endif /* PEERSCOPE_PROBE_ICMP_H */
