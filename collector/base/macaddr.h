/*
 * macaddr.h - MAC addresses as text: the one parser for every place a
 * user or a file names one (IX-F exports, connection peer_macs).
 *
 * Accepted, hex digits in either case:
 *   00:11:22:aa:bb:cc   six pairs separated by ':' (IX-F's own format)
 *   00-11-22-aa-bb-cc   or by '-', the same separator throughout
 *   0011.22aa.bbcc      three groups of four separated by '.'
 *   001122aabbcc        twelve digits
 * Written back as lowercase pairs separated by ':'.
 *
 * @thread any, @locks none: pure functions.
 */
#ifndef PEERSCOPE_MACADDR_H
#define PEERSCOPE_MACADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MACADDR_LEN	 6
#define MACADDR_TEXT_LEN 18 /* "00:11:22:aa:bb:cc" and the NUL */

/* 0, or -1 when text (len bytes, no NUL needed) is not one of the forms. */
int macaddr_parse(const char *text, size_t len, uint8_t mac[MACADDR_LEN]);

/* Text form into buf (at least MACADDR_TEXT_LEN bytes); returns buf. */
char *macaddr_format(const uint8_t mac[MACADDR_LEN], char *buf, size_t len);

/* A station address: not all zeros, not group (multicast/broadcast). */
bool macaddr_is_unicast(const uint8_t mac[MACADDR_LEN]);

#endif /* PEERSCOPE_MACADDR_H */
