/* probe_stamp.c - STAMP session-sender packets (probe_stamp.h). */
#include "probe/probe_stamp.h"

#include <string.h>

#include "peerscope/cursor.h"

#define NTP_UNIX_OFFSET 2208988800ULL /* seconds from 1900 to 1970 */
#define NS_PER_S	1000000000ULL

uint64_t stamp_ntp_from_ns(uint64_t unix_ns)
{
	uint64_t s = unix_ns / NS_PER_S, ns = unix_ns % NS_PER_S;

	return (s + NTP_UNIX_OFFSET) << 32 | ((ns << 32) / NS_PER_S);
}

int64_t stamp_ntp_diff_ns(uint64_t a, uint64_t b)
{
	int64_t d = (int64_t)(a - b); /* 32.32 fixed point */

	return (int64_t)(((__int128)d * (__int128)NS_PER_S) >> 32);
}

void stamp_build(uint8_t buf[STAMP_PACKET_LEN], uint32_t sequence,
		 uint64_t t1_ntp)
{
	memset(buf, 0, STAMP_PACKET_LEN);
	for (int i = 0; i < 4; i++)
		buf[i] = (uint8_t)(sequence >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		buf[4 + i] = (uint8_t)(t1_ntp >> (56 - 8 * i));
	buf[12] = STAMP_ERROR_ESTIMATE >> 8;
	buf[13] = STAMP_ERROR_ESTIMATE & 0xff;
}

int stamp_parse(const uint8_t *buf, size_t len, struct stamp_reply *r)
{
	struct cur c;

	cur_init(&c, buf, len);
	if (cur_u32(&c, &r->sequence) == -1 || /* reflector's */
	    cur_u64(&c, &r->t3) == -1 ||       /* Timestamp */
	    cur_u16(&c, &r->error_estimate) == -1 ||
	    cur_skip(&c, 2) == -1 ||	 /* MBZ */
	    cur_u64(&c, &r->t2) == -1 || /* Receive Timestamp */
	    cur_u32(&c, &r->sender_sequence) == -1 ||
	    cur_u64(&c, &r->t1) == -1 || /* Session-Sender Timestamp */
	    cur_u16(&c, &r->sender_error_estimate) == -1 ||
	    cur_skip(&c, 2) == -1 ||				       /* MBZ */
	    cur_u8(&c, &r->sender_ttl) == -1 || cur_skip(&c, 3) == -1) /* MBZ */
		return -1;
	return 0;
}
