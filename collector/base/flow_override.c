/* flow_override.c - sampling override entries.  See flow_override.h. */
#include <arpa/inet.h>
#include <string.h>

#include "base/flow_override.h"
#include "base/netaddr.h"

int flow_override_parse_name(const char *name, struct ps_addr *exporter,
			     uint32_t *ifindex)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(name, '/');
	size_t n = slash != NULL ? (size_t)(slash - name) : strlen(name);
	uint64_t ifx = 0;

	memset(exporter, 0, sizeof(*exporter));
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, name, n);
	host[n] = '\0';
	if (slash != NULL) {
		const char *p = slash + 3;

		if (strncmp(slash, "/if", 3) != 0 || *p == '\0')
			return -1;
		/* digits only (strtoul would take "+1" or " 1"), no wrap */
		for (; *p != '\0'; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			ifx = ifx * 10 + (uint64_t)(*p - '0');
			if (ifx > UINT32_MAX)
				return -1;
		}
		if (ifx == 0)
			return -1;
	}
	if (netaddr_parse_addr(host, exporter) == -1)
		return -1;
	*ifindex = (uint32_t)ifx;
	return 0;
}

int flow_override_parse_rate(const char *value, uint32_t *rate)
{
	uint64_t r = 0;

	if (*value == '\0')
		return -1;
	for (const char *p = value; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		r = r * 10 + (uint64_t)(*p - '0');
		if (r > UINT32_MAX)
			return -1;
	}
	if (r == 0)
		return -1;
	*rate = (uint32_t)r;
	return 0;
}

int flow_override_check(const char *name, const char *value)
{
	struct ps_addr a;
	uint32_t ifx, rate;

	if (flow_override_parse_name(name, &a, &ifx) == -1 ||
	    flow_override_parse_rate(value, &rate) == -1)
		return -1;
	return 0;
}
