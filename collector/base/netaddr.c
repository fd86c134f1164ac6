/* netaddr.c - see netaddr.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/netaddr.h"
#include "base/sockholder.h"

#define NETADDR_TEXT_MAX 128 /* longest endpoint or prefix we read */

int netaddr_parse_addr(const char *text, struct ps_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, a->bytes) == 1) {
		a->af = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, a->bytes) == 1) {
		a->af = 6;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	return -1;
}

/* Decimal digits only (no sign, no space), at most 65535. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n == 5)
			return -1;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (n == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int endpoint_bad(const char *text, const char *hint, char *err,
			size_t errlen)
{
	snprintf(err, errlen,
		 "expected \":port\", \"IPv4:port\" or \"[IPv6]:port\", got "
		 "\"%.64s\"%s",
		 text, hint);
	return -1;
}

int netaddr_parse_endpoint(const char *text, struct ps_endpoint *ep, char *err,
			   size_t errlen)
{
	char host[NETADDR_TEXT_MAX];
	const char *port_text;
	size_t hl;

	memset(ep, 0, sizeof(*ep));
	if (strlen(text) >= sizeof(host))
		return endpoint_bad(text, " (too long)", err, errlen);
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return endpoint_bad(text, "", err, errlen);
		hl = (size_t)(close - text - 1);
		memcpy(host, text + 1, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET6, host, ep->addr.bytes) != 1)
			return endpoint_bad(text, " (not an IPv6 address)", err,
					    errlen);
		ep->addr.af = 6;
		port_text = close + 2;
	} else {
		const char *colon = strchr(text, ':');

		if (colon == NULL)
			return endpoint_bad(text,
					    parse_port(text, &ep->port) == 0 ?
						    " (a bare port: write "
						    "\":PORT\" for every "
						    "address)" :
						    "",
					    err, errlen);
		if (strchr(colon + 1, ':') != NULL)
			return endpoint_bad(text,
					    " (an IPv6 address goes in "
					    "brackets)",
					    err, errlen);
		hl = (size_t)(colon - text);
		memcpy(host, text, hl);
		host[hl] = '\0';
		if (hl > 0) {
			if (inet_pton(AF_INET, host, ep->addr.bytes) != 1)
				return endpoint_bad(text,
						    " (not an IPv4 address; "
						    "host names are not "
						    "taken)",
						    err, errlen);
			ep->addr.af = 4;
		}
		port_text = colon + 1;
	}
	if (parse_port(port_text, &ep->port) == -1) {
		memset(ep, 0, sizeof(*ep));
		return endpoint_bad(text, " (port: 0..65535)", err, errlen);
	}
	return 0;
}

void netaddr_format_endpoint(const struct ps_endpoint *ep, char *buf,
			     size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ep->addr.af == 6) {
		inet_ntop(AF_INET6, ep->addr.bytes, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ep->port);
	} else if (ep->addr.af == 4) {
		inet_ntop(AF_INET, ep->addr.bytes, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ep->port);
	} else {
		snprintf(buf, len, ":%u", ep->port);
	}
}

socklen_t netaddr_sockaddr(const struct ps_endpoint *ep, int family,
			   struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->addr.af == 4 || (ep->addr.af == 0 && family == AF_INET)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(ep->port);
		memcpy(&s4->sin_addr, ep->addr.bytes, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(ep->port);
	memcpy(&s6->sin6_addr, ep->addr.bytes, 16);
	return sizeof(*s6);
}

int netaddr_tcp_listen(const struct ps_endpoint *ep, int backlog,
		       const char *what, int *fd, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	char text[NETADDR_TEXT_MAX], why[300];
	int one = 1, zero = 0, family = AF_INET6;
	socklen_t sl;

	*fd = socket(ep->addr.af == 4 ? AF_INET : AF_INET6,
		     SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd == -1 && ep->addr.af == 0 && errno == EAFNOSUPPORT) {
		family = AF_INET; /* a host without IPv6: ":port" is IPv4 */
		*fd = socket(AF_INET,
			     SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (*fd == -1)
		goto fail;
	sl = netaddr_sockaddr(ep, family, &ss);
	if (setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
		    -1 ||
	    (ep->addr.af == 0 && family == AF_INET6 &&
	     setsockopt(*fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ==
		     -1) ||
	    bind(*fd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(*fd, backlog) == -1)
		goto fail;
	return 0;
fail:
	netaddr_format_endpoint(ep, text, sizeof(text));
	if (errno == EADDRINUSE)
		sockholder_in_use(false, &ep->addr, ep->port, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", strerror(errno));
	snprintf(err, errlen, "%s %s: %s", what, text, why);
	if (*fd != -1)
		close(*fd);
	*fd = -1;
	return -1;
}

uint16_t netaddr_bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ?
			     ((struct sockaddr_in6 *)&ss)->sin6_port :
			     ((struct sockaddr_in *)&ss)->sin_port);
}

bool netaddr_is_local(const struct ps_endpoint *ep, char *err, size_t errlen)
{
	struct ps_endpoint probe = *ep;
	struct sockaddr_storage ss;
	socklen_t sl;
	char text[NETADDR_TEXT_MAX];
	int fd, rc;

	if (ep->addr.af == 0)
		return true;
	probe.port = 0; /* any free port: a running listener is not touched */
	sl = netaddr_sockaddr(&probe, AF_INET6, &ss);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return true; /* no verdict: the bind at start-up will say */
	rc = bind(fd, (struct sockaddr *)&ss, sl);
	close(fd);
	if (rc == 0 || errno != EADDRNOTAVAIL)
		return true;
	netaddr_format_endpoint(ep, text, sizeof(text));
	snprintf(err, errlen, "%s: no such address on this host", text);
	return false;
}

/* ---- allow-lists ------------------------------------------------------ */

static bool prefix_covers(const struct netaddr_prefix *p,
			  const struct ps_addr *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->net.af != a->af)
		return false;
	if (memcmp(p->net.bytes, a->bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));

	return (p->net.bytes[full] & mask) == (a->bytes[full] & mask);
}

static int parse_prefix(struct netaddr_prefix *p, char *tok, char *err,
			size_t errlen)
{
	char *slash = strchr(tok, '/');
	unsigned max;

	memset(p, 0, sizeof(*p));
	if (slash != NULL)
		*slash = '\0';
	if (netaddr_parse_addr(tok, &p->net) == -1) {
		snprintf(err, errlen,
			 "\"%.64s\" is not an IPv4 or IPv6 address", tok);
		return -1;
	}
	max = p->net.af == 4 ? 32 : 128;
	p->len = (uint8_t)max;
	if (slash != NULL) {
		uint16_t len;

		if (parse_port(slash + 1, &len) == -1 || len > max) {
			snprintf(err, errlen,
				 "\"/%.8s\" is not a prefix length 0..%u",
				 slash + 1, max);
			return -1;
		}
		p->len = (uint8_t)len;
	}
	/* clear the host bits, so "192.0.2.1/24" means 192.0.2.0/24 */
	for (unsigned bit = p->len; bit < max; bit++)
		p->net.bytes[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	return 0;
}

int netaddr_parse_allow(struct netaddr_allow *a, const char *text, char *err,
			size_t errlen)
{
	char buf[1024], *save = NULL, *tok;

	a->n = 0;
	if (strcmp(text, "any") == 0)
		return 0;
	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "longer than %zu characters",
			 sizeof(buf) - 1);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, ", ", &save); tok != NULL;
	     tok = strtok_r(NULL, ", ", &save)) {
		if (a->n == NETADDR_ALLOW_MAX) {
			snprintf(err, errlen, "more than %d prefixes",
				 NETADDR_ALLOW_MAX);
			return -1;
		}
		if (parse_prefix(&a->p[a->n], tok, err, errlen) == -1)
			return -1;
		a->n++;
	}
	if (a->n == 0) {
		snprintf(err, errlen, "no prefix (say \"any\" to allow all)");
		return -1;
	}
	return 0;
}

bool netaddr_allow_match(const struct netaddr_allow *a,
			 const struct ps_addr *src)
{
	if (a->n == 0)
		return true;
	for (uint32_t i = 0; i < a->n; i++)
		if (prefix_covers(&a->p[i], src))
			return true;
	return false;
}

bool netaddr_allow_names(const struct netaddr_allow *a,
			 const struct ps_addr *src)
{
	uint8_t full = src->af == 4 ? 32 : 128;

	for (uint32_t i = 0; i < a->n; i++)
		if (a->p[i].len == full && prefix_covers(&a->p[i], src))
			return true;
	return false;
}
