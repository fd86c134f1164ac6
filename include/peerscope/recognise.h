/*
 * recognise.h - which export protocol a UDP payload or a TCP stream
 * carries, from its bytes alone (`peerscope replay` on any port).
 *
 * A capture taken on a collector host holds the exporters' traffic on
 * whatever ports they were configured with, beside unrelated traffic (DNS,
 * SSH, NTP, ...).  The recognisers accept only what a real exporter sends:
 * a known version number AND lengths and counts that account for every
 * byte, so random traffic is refused (the chance that random bytes pass
 * is below 2^-40 per datagram) and every refusal has a named reason.
 *
 *   UDP payload                        accepted when
 *   sFlow v5 (sflow_version_5.txt)     version 5 (u32), agent address
 *                                      type 1 or 2, at most 256 samples
 *                                      whose lengths fill the datagram
 *                                      exactly
 *   NetFlow v5 (Cisco)                 version 5 (u16), 1..30 records,
 *                                      24 + 48 x count bytes (a few
 *                                      trailing bytes tolerated, < 48)
 *   NetFlow v9 (RFC 3954 section 5)    version 9, flowsets 0, 1 or >= 256
 *                                      of length >= 4 filling the datagram
 *                                      (up to 3 bytes of padding after)
 *   IPFIX (RFC 7011 section 3)         version 10, message length equal
 *                                      to the datagram's, sets 2, 3 or
 *                                      >= 256 of length >= 4 filling it
 *
 * (v9, IPFIX: a set with a reserved id after at least one good one ends
 * the walk as well: pmacct 1.7 ends some messages so, and the decoder
 * names that defect itself.)
 *
 * TCP streams (BMP, RFC 7854 section 4.1; IPFIX, RFC 7011 section 10.3)
 * are searched for a message start: a plausible header whose message
 * checks out (below) AND a plausible header right after it.  A capture
 * that began in the middle of a message, or lost bytes, resumes there.
 *
 *   BMP message: version 3 or 4, type 0..6, a length within the type's
 *   minimum and BMP_MAX_MSG_LEN; for version 3 also: Route Monitoring and
 *   Peer Up carry a BGP message (16-byte all-ones marker, its length, its
 *   type) where the type puts it, Peer Down a known reason, Statistics,
 *   Initiation, Termination and Route Mirroring TLVs that fill the message
 *   exactly.
 *   IPFIX message: version 10, a length of at least 16, sets as above.
 *
 * Pure (STYLE.md): no I/O, no allocation, no state.  @thread any.
 */
#ifndef PEERSCOPE_RECOGNISE_H
#define PEERSCOPE_RECOGNISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peerscope/dec_stats.h"

enum recognise_proto {
	RECOGNISE_NONE = 0,
	RECOGNISE_SFLOW5,
	RECOGNISE_NETFLOW5,
	RECOGNISE_NETFLOW9,
	RECOGNISE_IPFIX,
	RECOGNISE_BMP,
	RECOGNISE_PROTO_COUNT
};

/* "sflow-v5", "netflow-v5", "netflow-v9", "ipfix", "bmp"; "none". */
const char *recognise_proto_name(enum recognise_proto p);

/* Protocols a TCP stream is searched for, as a bit set. */
#define RECOGNISE_BIT(p) (1u << (p))
#define RECOGNISE_TCP_ANY                                                      \
	(RECOGNISE_BIT(RECOGNISE_BMP) | RECOGNISE_BIT(RECOGNISE_IPFIX))

/*
 * A UDP payload: the protocol it carries, or RECOGNISE_NONE with *why set
 * to a DEC_CAPTURE_UDP_UNRECOGNISED_* reason (not counted: the caller
 * decides whether a refusal is final).
 */
enum recognise_proto recognise_datagram(const uint8_t *buf, size_t len,
					enum dec_reason *why);

enum recognise_verdict {
	RECOGNISE_NO,	/* not a message of that protocol */
	RECOGNISE_YES,	/* a plausible message of *msg_len bytes */
	RECOGNISE_MORE, /* cannot tell from the bytes there are */
};

/*
 * Whether buf starts with a whole, plausible message of `proto`
 * (RECOGNISE_BMP or RECOGNISE_IPFIX): the checks above, which need the
 * whole message (MORE until `avail` holds it).
 */
enum recognise_verdict recognise_message(enum recognise_proto proto,
					 const uint8_t *buf, size_t avail,
					 uint32_t *msg_len);

/*
 * Whether buf starts with a header that could begin a message of `proto`:
 * version, type and length only (the confirmation after a message).
 */
enum recognise_verdict recognise_header(enum recognise_proto proto,
					const uint8_t *buf, size_t avail);

enum recognise_scan_result {
	RECOGNISE_SCAN_FOUND, /* a message of out->proto at out->offset */
	RECOGNISE_SCAN_MORE,  /* none yet: no message starts before
				 out->offset (those bytes may go) */
};

struct recognise_scan {
	enum recognise_proto proto;
	size_t offset;
};

/*
 * The first offset of buf[0..len) where a message of one of `protos`
 * (RECOGNISE_BIT set) starts: a plausible message (recognise_message)
 * followed by a plausible header (recognise_header).  at_end: no byte
 * will follow buf, so a message that ends the bytes needs no successor.
 * The answer for a prefix never contradicts the answer for the whole:
 * feeding a stream in any chunking finds the same offset.
 */
enum recognise_scan_result recognise_stream_scan(const uint8_t *buf, size_t len,
						 unsigned protos, bool at_end,
						 struct recognise_scan *out);

#endif /* PEERSCOPE_RECOGNISE_H */
