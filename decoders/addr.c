/* addr.c - text form of struct ps_addr. */
#include <arpa/inet.h>
#include <stdio.h>

#include "peerscope/addr.h"

char *ps_addr_format(const struct ps_addr *a, char *buf, size_t len)
{
	if (a->af == 4) {
		if (inet_ntop(AF_INET, a->bytes, buf, (socklen_t)len) != NULL)
			return buf;
	} else if (a->af == 6) {
		if (inet_ntop(AF_INET6, a->bytes, buf, (socklen_t)len) != NULL)
			return buf;
	}
	snprintf(buf, len, "unknown");
	return buf;
}
