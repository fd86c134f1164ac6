/*
 * probe_stamp.h - STAMP (RFC 8762) unauthenticated test packets, the
 * session-sender side: the packet we send and the reflected one we
 * accept (parsed with the bounds-checked cursor).  RFC 8762 4.2.1 and
 * 4.3.1, 44 octets each (the sender pads to the reflector's size, 4.2):
 *
 *  session-sender                     session-reflector
 *   0 Sequence Number (4)              0 Sequence Number (4)
 *   4 Timestamp T1 (8)                 4 Timestamp T3 (8)
 *  12 Error Estimate (2)              12 Error Estimate (2)
 *  14 MBZ (30)                        14 MBZ (2)
 *                                     16 Receive Timestamp T2 (8)
 *                                     24 Session-Sender Sequence Number (4)
 *                                     28 Session-Sender Timestamp T1 (8)
 *                                     36 Session-Sender Error Estimate (2)
 *                                     38 MBZ (2)
 *                                     40 Ses-Sender TTL (1)
 *                                     41 MBZ (3)
 *
 * Timestamps are NTP 64-bit (Z = 0): seconds since 1900 and a 2^-32
 * fraction.  The round trip without the reflector's own time is
 * (T4 - T1) - (T3 - T2); T1 and T4 are our clock, T2 and T3 the
 * reflector's, whose offset cancels out.  A stateful reflector sends its
 * own sequence numbers; ours comes back in the Session-Sender Sequence
 * Number, which is what a reply is matched by.
 */
#ifndef PEERSCOPE_PROBE_STAMP_H
#define PEERSCOPE_PROBE_STAMP_H

#include <stddef.h>
#include <stdint.h>

#define STAMP_PACKET_LEN  44
#define STAMP_DEFAULT_TTL 255 /* RFC 8762 4.2: the sender sets 255 */
/* Error estimate: S = 0 (no external sync claimed), Z = 0 (NTP),
 * scale 22, multiplier 1: 2^-10 s, about 1 ms. */
#define STAMP_ERROR_ESTIMATE 0x1601

struct stamp_reply {
	uint32_t sequence; /* the reflector's */
	uint64_t t3;	   /* reflector transmit */
	uint16_t error_estimate;
	uint64_t t2;		  /* reflector receive */
	uint32_t sender_sequence; /* ours, echoed */
	uint64_t t1;		  /* ours, echoed */
	uint16_t sender_error_estimate;
	uint8_t sender_ttl; /* TTL / hop limit our packet arrived with */
};

/* Wall-clock ns since 1970 as an NTP timestamp. */
uint64_t stamp_ntp_from_ns(uint64_t unix_ns);

/* a - b of two NTP timestamps in ns (wraps like the era does). */
int64_t stamp_ntp_diff_ns(uint64_t a, uint64_t b);

/* The session-sender packet (STAMP_PACKET_LEN bytes). */
void stamp_build(uint8_t buf[STAMP_PACKET_LEN], uint32_t sequence,
		 uint64_t t1_ntp);

/* A reflected packet: 0, or -1 when shorter than 44 octets (longer ones
 * carry RFC 8972 TLVs, which are not read). */
int stamp_parse(const uint8_t *buf, size_t len, struct stamp_reply *r);

#endif /* PEERSCOPE_PROBE_STAMP_H */
