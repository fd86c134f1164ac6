/*
 * recognise.c - what a UDP payload or a TCP stream carries, by content.
 * See recognise.h for what each protocol must show.
 *
 *   sFlow v5 datagram             NetFlow v5        NetFlow v9 / IPFIX
 *   +---------------------+       +-----------+     +------------------+
 *   | version 5      (u32)|       | ver 5 (16)|     | ver 9|10  (u16)  |
 *   | agent type 1|2 (u32)|       | count 1-30|     | count|length     |
 *   | agent (4|16)        |       | 20 more   |     | 12 (v10) or 16   |
 *   | sub agent, seq, up  |       +-----------+     | (v9) more        |
 *   | samples        (u32)|       | 48 x count|     +------------------+
 *   +---------------------+       +-----------+     | set id  | length | x n
 *   | format | length | ..| x n                     +------------------+
 *
 *   BMP common header (RFC 7854 4.1)   per-peer header (4.2): 42 bytes
 *   +---------+----------------+------+
 *   | version | message length | type |   then the type's body
 *   +---------+----------------+------+
 */
#include "peerscope/bgp.h"
#include "peerscope/bmp.h"
#include "peerscope/cursor.h"
#include "peerscope/limits.h"
#include "peerscope/recognise.h"

#define SFLOW5_VERSION	   5
#define NETFLOW5_VERSION   5
#define NETFLOW9_VERSION   9
#define IPFIX_VERSION	   10
#define NETFLOW5_HDR_LEN   24
#define NETFLOW5_REC_LEN   48
#define NETFLOW9_HDR_LEN   20
#define IPFIX_HDR_LEN	   16
#define SET_HDR_LEN	   4
#define SET_PAD_MAX	   3 /* v9: padding tolerated after the last flowset */
#define BGP_MARKER_LEN	   16
#define BGP_TYPE_OPEN	   1
#define BGP_TYPE_UPDATE	   2
#define BGP_TYPE_NOTIF	   3
#define BMP_LOCAL_INFO_LEN 20 /* Peer Up: local address, both ports */
#define BGP_OPEN_MIN_LEN   29 /* RFC 4271 section 4.2 */
#define BMP_BODY	   (BMP_COMMON_HDR_LEN + BMP_PEER_HDR_LEN)

static const char *const proto_names[RECOGNISE_PROTO_COUNT] = {
	[RECOGNISE_NONE] = "none",
	[RECOGNISE_SFLOW5] = "sflow-v5",
	[RECOGNISE_NETFLOW5] = "netflow-v5",
	[RECOGNISE_NETFLOW9] = "netflow-v9",
	[RECOGNISE_IPFIX] = "ipfix",
	[RECOGNISE_BMP] = "bmp",
};

const char *recognise_proto_name(enum recognise_proto p)
{
	return (unsigned)p < RECOGNISE_PROTO_COUNT ? proto_names[p] : "none";
}

/* ---- sets: IPFIX messages, NetFlow v9 flowsets --------------------- */

/*
 * Sets (IPFIX: ids 2, 3, >= 256) or flowsets (v9: 0, 1, >= 256) from c
 * to its end.  A set with a reserved id after at least one good set ends
 * the walk too: real exporters send such (pmacct 1.7 closes some messages
 * with a set 0 of any length), and the decoder names that defect itself.
 */
static bool sets_fill(struct cur c, uint16_t template_id, uint16_t options_id,
		      size_t pad_max)
{
	unsigned good = 0;

	while (cur_left(&c) > pad_max) {
		uint16_t id, len;

		if (cur_u16(&c, &id) == -1 || /* set id */
		    cur_u16(&c, &len) == -1)  /* header included */
			return false;
		if (id != template_id && id != options_id && id < 256)
			return good > 0;
		if (len < SET_HDR_LEN ||
		    cur_skip(&c, (size_t)len - SET_HDR_LEN) == -1)
			return false;
		good++;
	}
	return true;
}

static enum recognise_verdict ipfix_header(const uint8_t *buf, size_t avail,
					   uint32_t *len)
{
	struct cur c;
	uint16_t version, length;

	if (avail >= 1 && buf[0] != 0)
		return RECOGNISE_NO; /* most bytes end here */
	cur_init(&c, buf, avail);
	if (cur_u16(&c, &version) == -1 || /* 10 */
	    cur_u16(&c, &length) == -1)	   /* header included */
		return RECOGNISE_MORE;
	if (version != IPFIX_VERSION || length < IPFIX_HDR_LEN)
		return RECOGNISE_NO;
	*len = length;
	return RECOGNISE_YES;
}

static enum recognise_verdict ipfix_message(const uint8_t *buf, size_t avail,
					    uint32_t *msg_len)
{
	enum recognise_verdict v = ipfix_header(buf, avail, msg_len);
	struct cur c;

	if (v != RECOGNISE_YES)
		return v;
	if (avail < *msg_len)
		return RECOGNISE_MORE;
	cur_init(&c, buf + IPFIX_HDR_LEN, *msg_len - IPFIX_HDR_LEN);
	return sets_fill(c, 2, 3, 0) ? RECOGNISE_YES : RECOGNISE_NO;
}

/* ---- UDP ---------------------------------------------------------- */

static enum recognise_proto refuse(enum dec_reason *why, enum dec_reason r)
{
	*why = r;
	return RECOGNISE_NONE;
}

static enum recognise_proto datagram_sflow5(struct cur c, enum dec_reason *why)
{
	uint32_t version, agent_type, sub_agent, seq, uptime, samples;
	size_t agent_len;

	if (cur_u32(&c, &version) == -1 ||  /* 5 */
	    cur_u32(&c, &agent_type) == -1) /* 1 = IPv4, 2 = IPv6 */
		return refuse(why, DEC_CAPTURE_UDP_UNRECOGNISED_HEADER);
	if (agent_type != 1 && agent_type != 2)
		return refuse(why, DEC_CAPTURE_UDP_UNRECOGNISED_HEADER);
	agent_len = agent_type == 1 ? 4 : 16;
	if (cur_skip(&c, agent_len) == -1 || /* agent address */
	    cur_u32(&c, &sub_agent) == -1 || /* sub_agent_id */
	    cur_u32(&c, &seq) == -1 ||	     /* sequence_number */
	    cur_u32(&c, &uptime) == -1 ||    /* uptime, ms */
	    cur_u32(&c, &samples) == -1 ||   /* samples<> */
	    samples > SFLOW_MAX_SAMPLES_PER_DATAGRAM)
		return refuse(why, DEC_CAPTURE_UDP_UNRECOGNISED_HEADER);
	for (uint32_t i = 0; i < samples; i++) {
		uint32_t format, len;

		if (cur_u32(&c, &format) == -1 || /* data_format */
		    cur_u32(&c, &len) == -1 ||	  /* sample_data<> */
		    cur_skip(&c, len) == -1)
			return refuse(why,
				      DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	}
	if (!cur_is_empty(&c))
		return refuse(why, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	return RECOGNISE_SFLOW5;
}

static enum recognise_proto datagram_netflow5(struct cur c,
					      enum dec_reason *why)
{
	uint16_t version, count;
	size_t need;

	if (cur_u16(&c, &version) == -1 || /* 5 */
	    cur_u16(&c, &count) == -1 ||   /* records */
	    count == 0 || count > NF5_MAX_RECORDS ||
	    cur_skip(&c, NETFLOW5_HDR_LEN - 4) == -1)
		return refuse(why, DEC_CAPTURE_UDP_UNRECOGNISED_HEADER);
	need = (size_t)count * NETFLOW5_REC_LEN;
	/* the decoder tolerates (and counts) a short tail; not a record */
	if (cur_left(&c) < need || cur_left(&c) - need >= NETFLOW5_REC_LEN)
		return refuse(why, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	return RECOGNISE_NETFLOW5;
}

static enum recognise_proto datagram_netflow9(struct cur c,
					      enum dec_reason *why)
{
	if (cur_skip(&c, NETFLOW9_HDR_LEN) == -1)
		return refuse(why, DEC_CAPTURE_UDP_UNRECOGNISED_HEADER);
	if (!sets_fill(c, 0, 1, SET_PAD_MAX))
		return refuse(why, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	return RECOGNISE_NETFLOW9;
}

static enum recognise_proto datagram_ipfix(const uint8_t *buf, size_t len,
					   enum dec_reason *why)
{
	uint32_t msg_len;

	/* over UDP a datagram is one message (RFC 7011 section 10.3.3) */
	if (len < IPFIX_HDR_LEN ||
	    ipfix_header(buf, len, &msg_len) != RECOGNISE_YES || msg_len != len)
		return refuse(why, DEC_CAPTURE_UDP_UNRECOGNISED_HEADER);
	if (ipfix_message(buf, len, &msg_len) != RECOGNISE_YES)
		return refuse(why, DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE);
	return RECOGNISE_IPFIX;
}

enum recognise_proto recognise_datagram(const uint8_t *buf, size_t len,
					enum dec_reason *why)
{
	struct cur c;
	uint32_t v32;
	uint16_t v16;

	cur_init(&c, buf, len);
	if (cur_peek_u16(&c, &v16) == -1)
		return refuse(why, DEC_CAPTURE_UDP_UNRECOGNISED_VERSION);
	switch (v16) {
	case NETFLOW5_VERSION:
		return datagram_netflow5(c, why);
	case NETFLOW9_VERSION:
		return datagram_netflow9(c, why);
	case IPFIX_VERSION:
		return datagram_ipfix(buf, len, why);
	case 0: /* sFlow's version is a u32 */
		if (cur_u32(&c, &v32) == 0 && v32 == SFLOW5_VERSION) {
			cur_init(&c, buf, len);
			return datagram_sflow5(c, why);
		}
		break;
	default:
		break;
	}
	return refuse(why, DEC_CAPTURE_UDP_UNRECOGNISED_VERSION);
}

/* ---- messages in TCP streams -------------------------------------- */

/* Smallest message of each BMP type (RFC 7854 section 4). */
static uint32_t bmp_min_len(uint8_t version, uint8_t type)
{
	static const uint32_t min_len[BMP_TYPE_COUNT] = {
		[BMP_ROUTE_MONITORING] = BMP_BODY + BGP_HEADER_LEN,
		[BMP_STATISTICS] = BMP_BODY + 4,
		[BMP_PEER_DOWN] = BMP_BODY + 1,
		/* a received OPEN cut to its header is a known FRR defect:
		 * the minimum is a sent OPEN and a bare BGP header */
		[BMP_PEER_UP] = BMP_BODY + BMP_LOCAL_INFO_LEN +
				BGP_OPEN_MIN_LEN + BGP_HEADER_LEN,
		[BMP_INITIATION] = BMP_COMMON_HDR_LEN,
		[BMP_TERMINATION] = BMP_COMMON_HDR_LEN,
		[BMP_ROUTE_MIRRORING] = BMP_BODY,
	};

	/* v4 Route Monitoring carries TLVs, the PDU among them */
	if (version == BMP_VERSION_TLV && type == BMP_ROUTE_MONITORING)
		return BMP_BODY;
	return min_len[type];
}

static enum recognise_verdict bmp_header(const uint8_t *buf, size_t avail,
					 uint8_t *version, uint8_t *type,
					 uint32_t *len)
{
	struct cur c;

	cur_init(&c, buf, avail);
	if (cur_u8(&c, version) == -1) /* 3, or 4 (TLV draft) */
		return RECOGNISE_MORE;
	if (*version != BMP_VERSION && *version != BMP_VERSION_TLV)
		return RECOGNISE_NO;  /* most bytes end here */
	if (cur_u32(&c, len) == -1 || /* header included */
	    cur_u8(&c, type) == -1)   /* 0..6 */
		return RECOGNISE_MORE;
	if (*type >= BMP_TYPE_COUNT || *len < bmp_min_len(*version, *type) ||
	    *len > BMP_MAX_MSG_LEN)
		return RECOGNISE_NO;
	return RECOGNISE_YES;
}

/* A BGP message of `type` at c: marker, a length that fits, the type. */
static bool bgp_message_at(struct cur c, uint8_t type, uint16_t *bgp_len)
{
	const uint8_t *marker;
	uint8_t t;

	if (cur_ptr(&c, BGP_MARKER_LEN, &marker) == -1 ||
	    cur_u16(&c, bgp_len) == -1 || /* header included */
	    cur_u8(&c, &t) == -1 || t != type || *bgp_len < BGP_HEADER_LEN ||
	    cur_left(&c) < (size_t)*bgp_len - BGP_HEADER_LEN)
		return false;
	for (unsigned i = 0; i < BGP_MARKER_LEN; i++)
		if (marker[i] != 0xff)
			return false;
	return true;
}

/* TLVs (type u16, length u16, value) that fill c exactly. */
static bool tlvs_fill(struct cur c)
{
	while (!cur_is_empty(&c)) {
		uint16_t type, len;

		if (cur_u16(&c, &type) == -1 || cur_u16(&c, &len) == -1 ||
		    cur_skip(&c, len) == -1)
			return false;
	}
	return true;
}

/* The body of a whole version 3 message (c: after the common header). */
static bool bmp_body_plausible(struct cur c, uint8_t type)
{
	uint16_t bgp_len, bgp_len2;
	uint32_t count;
	uint8_t reason;

	if (type != BMP_INITIATION && type != BMP_TERMINATION &&
	    cur_skip(&c, BMP_PEER_HDR_LEN) == -1)
		return false;
	switch (type) {
	case BMP_ROUTE_MONITORING: /* one whole BGP UPDATE */
		return bgp_message_at(c, BGP_TYPE_UPDATE, &bgp_len) &&
		       bgp_len == cur_left(&c);
	case BMP_PEER_UP: /* local address and ports, then both OPENs */
		if (cur_skip(&c, BMP_LOCAL_INFO_LEN) == -1 ||
		    !bgp_message_at(c, BGP_TYPE_OPEN, &bgp_len) ||
		    cur_skip(&c, bgp_len) == -1)
			return false;
		return bgp_message_at(c, BGP_TYPE_OPEN, &bgp_len2);
	case BMP_PEER_DOWN:
		if (cur_u8(&c, &reason) == -1 || reason < 1 || reason > 6)
			return false;
		if (reason == BMP_DOWN_LOCAL_NOTIFICATION ||
		    reason == BMP_DOWN_REMOTE_NOTIFICATION)
			return bgp_message_at(c, BGP_TYPE_NOTIF, &bgp_len);
		return true;
	case BMP_STATISTICS:
		if (cur_u32(&c, &count) == -1 || count > cur_left(&c) / 4)
			return false;
		for (uint32_t i = 0; i < count; i++) {
			uint16_t stat_type, len;

			if (cur_u16(&c, &stat_type) == -1 ||
			    cur_u16(&c, &len) == -1 || cur_skip(&c, len) == -1)
				return false;
		}
		return cur_is_empty(&c);
	default: /* Initiation, Termination, Route Mirroring: TLVs */
		return tlvs_fill(c);
	}
}

static enum recognise_verdict bmp_message(const uint8_t *buf, size_t avail,
					  uint32_t *msg_len)
{
	enum recognise_verdict v;
	uint8_t version, type;
	struct cur c;

	v = bmp_header(buf, avail, &version, &type, msg_len);
	if (v != RECOGNISE_YES)
		return v;
	/* Route Monitoring, the common case: its marker, before the rest */
	if (version == BMP_VERSION && type == BMP_ROUTE_MONITORING &&
	    avail >= BMP_BODY + BGP_MARKER_LEN) {
		for (unsigned i = 0; i < BGP_MARKER_LEN; i++)
			if (buf[BMP_BODY + i] != 0xff)
				return RECOGNISE_NO;
	}
	if (avail < *msg_len)
		return RECOGNISE_MORE;
	if (version != BMP_VERSION)
		return RECOGNISE_YES; /* v4 bodies: header and successor only */
	cur_init(&c, buf + BMP_COMMON_HDR_LEN, *msg_len - BMP_COMMON_HDR_LEN);
	return bmp_body_plausible(c, type) ? RECOGNISE_YES : RECOGNISE_NO;
}

enum recognise_verdict recognise_message(enum recognise_proto proto,
					 const uint8_t *buf, size_t avail,
					 uint32_t *msg_len)
{
	switch (proto) {
	case RECOGNISE_BMP:
		return bmp_message(buf, avail, msg_len);
	case RECOGNISE_IPFIX:
		return ipfix_message(buf, avail, msg_len);
	default:
		return RECOGNISE_NO;
	}
}

enum recognise_verdict recognise_header(enum recognise_proto proto,
					const uint8_t *buf, size_t avail)
{
	uint8_t version, type;
	uint32_t len;

	switch (proto) {
	case RECOGNISE_BMP:
		return bmp_header(buf, avail, &version, &type, &len);
	case RECOGNISE_IPFIX:
		return ipfix_header(buf, avail, &len);
	default:
		return RECOGNISE_NO;
	}
}

/*
 * Whether a message of `proto` starts at buf[off]: YES (found), NO (not
 * here), MORE (the bytes after off do not tell yet).
 */
static enum recognise_verdict starts_at(enum recognise_proto proto,
					const uint8_t *buf, size_t len,
					size_t off, bool at_end)
{
	enum recognise_verdict v;
	uint32_t msg_len;

	v = recognise_message(proto, buf + off, len - off, &msg_len);
	if (v == RECOGNISE_MORE)
		return at_end ? RECOGNISE_NO : RECOGNISE_MORE;
	if (v == RECOGNISE_NO)
		return RECOGNISE_NO;
	if (len - off == msg_len) /* the last message, or wait for more */
		return at_end ? RECOGNISE_YES : RECOGNISE_MORE;
	v = recognise_header(proto, buf + off + msg_len, len - off - msg_len);
	if (v == RECOGNISE_MORE) /* a successor cut by the end is no denial */
		return at_end ? RECOGNISE_YES : RECOGNISE_MORE;
	return v;
}

enum recognise_scan_result recognise_stream_scan(const uint8_t *buf, size_t len,
						 unsigned protos, bool at_end,
						 struct recognise_scan *out)
{
	static const enum recognise_proto order[] = { RECOGNISE_BMP,
						      RECOGNISE_IPFIX };

	for (size_t off = 0; off < len; off++) {
		for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]);
		     i++) {
			enum recognise_verdict v;

			if (!(protos & RECOGNISE_BIT(order[i])))
				continue;
			v = starts_at(order[i], buf, len, off, at_end);
			if (v == RECOGNISE_YES) {
				out->proto = order[i];
				out->offset = off;
				return RECOGNISE_SCAN_FOUND;
			}
			if (v == RECOGNISE_MORE) {
				out->proto = RECOGNISE_NONE;
				out->offset = off;
				return RECOGNISE_SCAN_MORE;
			}
		}
	}
	out->proto = RECOGNISE_NONE;
	out->offset = len;
	return RECOGNISE_SCAN_MORE;
}
