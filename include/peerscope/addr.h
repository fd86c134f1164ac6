/* addr.h - an IPv4 or IPv6 address as a plain value (wire order bytes). */
#ifndef PEERSCOPE_ADDR_H
#define PEERSCOPE_ADDR_H

#include <stddef.h>
#include <stdint.h>

struct ps_addr {
	uint8_t af;	   /* 0 unknown, 4 or 6 */
	uint8_t bytes[16]; /* IPv4 in the first 4, the rest zero */
};

/* Text form into buf (at least 46 bytes); returns buf. */
char *ps_addr_format(const struct ps_addr *a, char *buf, size_t len);

#endif /* PEERSCOPE_ADDR_H */
