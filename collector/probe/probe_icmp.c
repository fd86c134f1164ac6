/* probe_icmp.c - ICMP echo request/reply and sockets (probe_icmp.h). */
#include "probe/probe_icmp.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/icmp.h> /* ICMP_FILTER */

#include "peerscope/cursor.h"

#define ICMP4_ECHO_REQUEST 8
#define ICMP4_ECHO_REPLY   0
#define ICMP6_ECHO_REQ	   128
#define ICMP6_ECHO_REP	   129
#define IPV4_PROTO_ICMP	   1

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

uint16_t probe_inet_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void probe_icmp_build(uint8_t buf[PROBE_ICMP_LEN], int af,
		      const struct probe_icmp_echo *e)
{
	memset(buf, 0, PROBE_ICMP_LEN);
	buf[0] = af == 6 ? ICMP6_ECHO_REQ : ICMP4_ECHO_REQUEST;
	put16(buf + 4, e->identifier);
	put16(buf + 6, e->sequence);
	put64(buf + 8, e->nonce);
	put32(buf + 16, e->slot);
	put32(buf + 20, e->probe);
	put64(buf + 24, e->sent_ns);
	if (af == 4) /* ICMPv6's covers a pseudo-header: the kernel's job */
		put16(buf + 2, probe_inet_checksum(buf, PROBE_ICMP_LEN));
}

static int icmp_fail(enum probe_icmp_parse_err *why,
		     enum probe_icmp_parse_err e)
{
	*why = e;
	return -1;
}

/* Step over an IPv4 header (raw IPv4 sockets deliver it). */
static int skip_ipv4_header(struct cur *c, enum probe_icmp_parse_err *why)
{
	uint8_t vihl, skip8[8], proto;
	size_t ihl;

	if (cur_u8(c, &vihl) == -1)
		return icmp_fail(why, PROBE_ICMP_TRUNCATED);
	ihl = (size_t)(vihl & 0x0f) * 4;
	if ((vihl >> 4) != 4 || ihl < 20)
		return icmp_fail(why, PROBE_ICMP_IP_HEADER);
	if (cur_bytes(c, skip8, 8) == -1 || /* tos .. ttl */
	    cur_u8(c, &proto) == -1)	    /* protocol */
		return icmp_fail(why, PROBE_ICMP_TRUNCATED);
	if (proto != IPV4_PROTO_ICMP)
		return icmp_fail(why, PROBE_ICMP_IP_HEADER);
	if (cur_skip(c, ihl - 10) == -1) /* checksum, addresses, options */
		return icmp_fail(why, PROBE_ICMP_TRUNCATED);
	return 0;
}

int probe_icmp_parse(const uint8_t *buf, size_t len, int af,
		     bool with_ip_header, struct probe_icmp_echo *e,
		     enum probe_icmp_parse_err *why)
{
	struct cur c, icmp;
	uint8_t type, code;
	uint16_t checksum;

	cur_init(&c, buf, len);
	if (af == 4 && with_ip_header && skip_ipv4_header(&c, why) == -1)
		return -1;
	icmp = c;
	if (cur_u8(&c, &type) == -1 ||		 /* 0 / 129 */
	    cur_u8(&c, &code) == -1 ||		 /* 0 */
	    cur_u16(&c, &checksum) == -1 ||	 /* Internet checksum */
	    cur_u16(&c, &e->identifier) == -1 || /* echoed */
	    cur_u16(&c, &e->sequence) == -1)	 /* echoed */
		return icmp_fail(why, PROBE_ICMP_TRUNCATED);
	if (type != (af == 6 ? ICMP6_ECHO_REP : ICMP4_ECHO_REPLY) || code != 0)
		return icmp_fail(why, PROBE_ICMP_NOT_REPLY);
	if (cur_u64(&c, &e->nonce) == -1 || /* our payload, echoed */
	    cur_u32(&c, &e->slot) == -1 || cur_u32(&c, &e->probe) == -1 ||
	    cur_u64(&c, &e->sent_ns) == -1)
		return icmp_fail(why, PROBE_ICMP_TRUNCATED);
	/* IPv4 raw: nobody checked it yet (ICMPv6's is the kernel's) */
	if (af == 4 && with_ip_header &&
	    probe_inet_checksum(cur_data(&icmp), cur_left(&icmp)) != 0)
		return icmp_fail(why, PROBE_ICMP_CHECKSUM);
	*why = PROBE_ICMP_OK;
	return 0;
}

/* Only echo replies reach a raw socket. */
static int raw_filter(int fd, int af)
{
	if (af == 4) {
		struct icmp_filter f = { .data = ~(1u << ICMP4_ECHO_REPLY) };

		return setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
	} else {
		struct icmp6_filter f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REP, &f);
		return setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f,
				  sizeof(f));
	}
}

/* The ping_group_range the kernel applies, for the refusal message. */
static void ping_group_range(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "r");

	snprintf(buf, len, "unknown");
	if (f == NULL)
		return;
	if (fgets(buf, (int)len, f) != NULL) {
		for (char *p = buf; *p; p++)
			if (*p == '\t' || *p == '\n')
				*p = *p == '\t' ? ' ' : '\0';
	}
	fclose(f);
}

int probe_icmp_open(int af, enum ps_probe_icmp_socket want,
		    enum ps_probe_icmp_socket *got, char *why, size_t whylen)
{
	int domain = af == 6 ? AF_INET6 : AF_INET;
	int proto = af == 6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	char dgram_err[160] = "", raw_err[160] = "", range[64];
	int fd;

	if (want != PS_PROBE_ICMP_RAW) {
		fd = socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    proto);
		if (fd != -1) {
			*got = PS_PROBE_ICMP_DGRAM;
			return fd;
		}
		ping_group_range(range, sizeof(range));
		snprintf(dgram_err, sizeof(dgram_err),
			 "datagram socket: %s (net.ipv4.ping_group_range is "
			 "\"%s\", our group %u)",
			 strerror(errno), range, (unsigned)getegid());
	}
	if (want != PS_PROBE_ICMP_DGRAM) {
		fd = socket(domain, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    proto);
		if (fd != -1 && raw_filter(fd, af) == 0) {
			*got = PS_PROBE_ICMP_RAW;
			return fd;
		}
		snprintf(raw_err, sizeof(raw_err),
			 "raw socket: %s (needs CAP_NET_RAW)", strerror(errno));
		if (fd != -1)
			close(fd);
	}
	snprintf(why, whylen, "no usable ICMP socket for IPv%d: %s%s%s", af,
		 dgram_err, dgram_err[0] && raw_err[0] ? "; " : "", raw_err);
	return -1;
}
