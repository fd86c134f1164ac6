/* udp_allow.c - see udp_allow.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "udp_allow.h"

static bool prefix_covers(const struct udp_allow_prefix *p,
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

static int parse_one(struct udp_allow_prefix *p, char *tok, char *err,
		     size_t errlen)
{
	char *slash = strchr(tok, '/');
	unsigned max;

	memset(p, 0, sizeof(*p));
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, tok, p->net.bytes) == 1) {
		p->net.af = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, tok, p->net.bytes) == 1) {
		p->net.af = 6;
		max = 128;
	} else {
		snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address",
			 tok);
		return -1;
	}
	p->len = (uint8_t)max;
	if (slash != NULL) {
		char *end = NULL;
		unsigned long len = strtoul(slash + 1, &end, 10);

		if (slash[1] == '\0' || *end != '\0' || len > max) {
			snprintf(err, errlen,
				 "\"/%s\" is not a prefix length "
				 "0..%u",
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

int udp_allow_parse(struct udp_allow *a, const char *text, char *err,
		    size_t errlen)
{
	char buf[512], *save = NULL, *tok;

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
		if (a->n == UDP_ALLOW_MAX) {
			snprintf(err, errlen, "more than %d prefixes",
				 UDP_ALLOW_MAX);
			return -1;
		}
		if (parse_one(&a->p[a->n], tok, err, errlen) == -1)
			return -1;
		a->n++;
	}
	if (a->n == 0) {
		snprintf(err, errlen, "no prefix (say \"any\" to allow all)");
		return -1;
	}
	return 0;
}

bool udp_allow_match(const struct udp_allow *a, const struct ps_addr *src)
{
	if (a->n == 0)
		return true;
	for (uint32_t i = 0; i < a->n; i++)
		if (prefix_covers(&a->p[i], src))
			return true;
	return false;
}
