/* macaddr.c - MAC address text forms; see macaddr.h. */
#include "base/macaddr.h"

#include <stdio.h>
#include <string.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Twelve hex digits in groups of `group` digits, separated by `sep` (none
 * when group is 12).  len must already match the form.
 */
static int parse_groups(const char *s, size_t len, size_t group, char sep,
			uint8_t mac[MACADDR_LEN])
{
	size_t digits = 0;

	for (size_t i = 0; i < len; i++) {
		int v;

		if (group < 12 && (i + 1) % (group + 1) == 0) {
			if (s[i] != sep)
				return -1;
			continue;
		}
		v = hex_value(s[i]);
		if (v < 0)
			return -1;
		if (digits % 2 == 0)
			mac[digits / 2] = (uint8_t)(v << 4);
		else
			mac[digits / 2] |= (uint8_t)v;
		digits++;
	}
	return digits == 12 ? 0 : -1;
}

int macaddr_parse(const char *text, size_t len, uint8_t mac[MACADDR_LEN])
{
	uint8_t out[MACADDR_LEN];
	int rc = -1;

	if (len == 17 && (text[2] == ':' || text[2] == '-'))
		rc = parse_groups(text, len, 2, text[2], out);
	else if (len == 14)
		rc = parse_groups(text, len, 4, '.', out);
	else if (len == 12)
		rc = parse_groups(text, len, 12, 0, out);
	if (rc == 0)
		memcpy(mac, out, MACADDR_LEN);
	return rc;
}

char *macaddr_format(const uint8_t mac[MACADDR_LEN], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

bool macaddr_is_unicast(const uint8_t mac[MACADDR_LEN])
{
	static const uint8_t zero[MACADDR_LEN];

	return (mac[0] & 0x01) == 0 && memcmp(mac, zero, MACADDR_LEN) != 0;
}
