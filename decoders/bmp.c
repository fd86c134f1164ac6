/*
 * bmp.c - BMP v3 messages (RFC 7854 §4), with RFC 8671 (Adj-RIB-Out, the
 * O flag, statistics 14-17), RFC 9069 (Loc-RIB, peer type 3) and BMP v4
 * (draft-ietf-grow-bmp-tlv-20).
 *
 *   common header   | version (1) = 3 or 4 | message length (4) | type (1) |
 *   per-peer header | type (1) | flags (1) | distinguisher (8) |
 *                   | address (16) | AS (4) | BGP ID (4) |
 *                   | timestamp sec (4) | timestamp usec (4) |
 *   TLV             | type (2) | length (2) | value |
 *
 *   0 Route Monitoring  peer hdr, one BGP UPDATE
 *   1 Statistics        peer hdr, count (4), stat TLVs
 *   2 Peer Down         peer hdr, reason (1), NOTIFICATION | FSM event (2)
 *   3 Peer Up           peer hdr, local address (16), local port (2),
 *                       remote port (2), sent OPEN, received OPEN, TLVs
 *   4 Initiation        TLVs (0 string, 1 sysDescr, 2 sysName)
 *   5 Termination       TLVs (0 string, 1 reason (2))
 *   6 Route Mirroring   peer hdr, TLVs (0 BGP message, 1 information (2))
 *
 * Version 4 (draft-ietf-grow-bmp-tlv-20 §3-§5) keeps every v3 layout and
 * adds TLVs where v3 had none:
 *   0 Route Monitoring  peer hdr, indexed TLVs, one of them the BGP PDU:
 *                       | type (2) | length (2) | index (2) | value |
 *                       (length counts the value only; the index names
 *                       the NLRI of the PDU it is about, 0 = all; kept,
 *                       not interpreted)
 *   1 Statistics        count, stats, then TLVs
 *   2 Peer Down         reason, its v3 data (a NOTIFICATION framed by its
 *                       own length), then TLVs
 * Unknown TLV types (and every vendor type, E bit set) are counted and
 * skipped; a truncated list keeps what came before it.
 *
 * Framing errors (bmp_frame) end the session: past a bad header nothing
 * can be trusted.  Body errors (bmp_decode) lose that one message only:
 * the common header's length still frames the next one.
 */
#include <stddef.h>
#include <string.h>

#include "peerscope/bmp.h"

static const char *const type_names[BMP_TYPE_COUNT] = {
	"route_monitoring", "statistics_report", "peer_down", "peer_up",
	"initiation",       "termination",       "route_mirroring",
};

const char *bmp_type_name(unsigned type)
{
	return type < BMP_TYPE_COUNT ? type_names[type] : "unknown";
}

static const char *const view_names[BMP_VIEW_COUNT] = {
	"pre_policy", "post_policy", "adj_rib_out_pre", "adj_rib_out_post",
	"loc_rib",
};

const char *bmp_view_name(enum bmp_view v)
{
	return (unsigned)v < BMP_VIEW_COUNT ? view_names[v] : "unknown";
}

enum bmp_view bmp_peer_view(const struct bmp_peer_hdr *h)
{
	if (h->peer_type == BMP_PEER_LOC_RIB)
		return BMP_VIEW_LOC_RIB;
	if (h->flags & BMP_F_O)
		return (h->flags & BMP_F_L) ? BMP_VIEW_ADJ_OUT_POST :
					      BMP_VIEW_ADJ_OUT_PRE;
	return (h->flags & BMP_F_L) ? BMP_VIEW_POST_POLICY :
				      BMP_VIEW_PRE_POLICY;
}

int bmp_frame(const uint8_t *buf, size_t len, uint32_t *msg_len,
	      struct dec_stats *st)
{
	struct cur c;
	uint8_t version;
	uint32_t mlen;

	cur_init(&c, buf, len);
	if (cur_u8(&c, &version) == -1) /* 3 */
		return 0;
	if (version != BMP_VERSION && version != BMP_VERSION_TLV)
		return dec_fail(st, DEC_BMP_VERSION_UNSUPPORTED);
	if (cur_u32(&c, &mlen) == -1)   /* whole message, header included */
		return 0;
	if (mlen < BMP_COMMON_HDR_LEN)
		return dec_fail(st, DEC_BMP_LENGTH_SHORT);
	if (mlen > BMP_MAX_MSG_LEN)
		return dec_fail(st, DEC_BMP_LENGTH_CAP);
	if (len < mlen)
		return 0;
	*msg_len = mlen;
	return 1;
}

static int addr16(struct cur *c, bool v6, struct ps_addr *a)
{
	uint8_t b[16];

	if (cur_bytes(c, b, 16) == -1)
		return -1;
	memset(a, 0, sizeof(*a));
	if (v6) {
		a->af = 6;
		memcpy(a->bytes, b, 16);
	} else { /* IPv4 sits in the last 4 bytes */
		a->af = 4;
		memcpy(a->bytes, b + 12, 4);
	}
	return 0;
}

int bmp_peer_hdr_decode(struct cur *c, struct bmp_peer_hdr *h,
			struct dec_stats *st)
{
	struct cur p;
	bool v6;

	memset(h, 0, sizeof(*h));
	if (cur_sub(c, BMP_PEER_HDR_LEN, &p) == -1)
		return dec_fail(st, DEC_BMP_PEER_HDR_TRUNCATED);
	if (cur_u8(&p, &h->peer_type) == -1 ||    /* 0..3 */
	    cur_u8(&p, &h->flags) == -1 ||        /* V L A O, reserved */
	    cur_u64(&p, &h->distinguisher) == -1)
		return dec_fail(st, DEC_BMP_PEER_HDR_TRUNCATED);
	/* For Loc-RIB 0x80 is F (filtered), not V: the address is IPv4
	 * zeroes whatever the flag says (RFC 9069 §4.1). */
	v6 = h->peer_type != BMP_PEER_LOC_RIB && (h->flags & BMP_F_V);
	if (addr16(&p, v6, &h->addr) == -1 ||
	    cur_u32(&p, &h->peer_as) == -1 ||
	    cur_u32(&p, &h->bgp_id) == -1 ||
	    cur_u32(&p, &h->ts_sec) == -1 ||
	    cur_u32(&p, &h->ts_usec) == -1)
		return dec_fail(st, DEC_BMP_PEER_HDR_TRUNCATED);
	if (h->peer_type > BMP_PEER_LOC_RIB)
		dec_count(st, DEC_BMP_PEER_TYPE_UNSUPPORTED); /* kept */
	/* Loc-RIB defines only F; L, A or O on it make no sense */
	if (h->peer_type == BMP_PEER_LOC_RIB && (h->flags & 0x70))
		dec_count(st, DEC_BMP_PEER_FLAGS_INVALID);
	return 0;
}

/*
 * A TLV list to the end of `c`.  An overrun loses the rest of the list,
 * not the message: what came before is still good.
 */
static void tlvs_decode(struct cur *c, struct bmp_msg *m, struct dec_stats *st)
{
	while (!cur_is_empty(c)) {
		struct bmp_tlv t;

		if (cur_u16(c, &t.type) == -1 || cur_u16(c, &t.len) == -1 ||
		    cur_ptr(c, t.len, &t.value) == -1) {
			dec_count(st, DEC_BMP_TLV_TRUNCATED);
			return;
		}
		if (m->ntlv < BMP_MAX_TLVS)
			m->tlv[m->ntlv++] = t;
		else
			dec_count(st, DEC_BMP_TLV_CAPPED);
	}
}

static void tlv_keep(struct bmp_msg *m, const struct bmp_tlv *t,
		     struct dec_stats *st)
{
	if (m->ntlv < BMP_MAX_TLVS)
		m->tlv[m->ntlv++] = *t;
	else
		dec_count(st, DEC_BMP_TLV_CAPPED);
}

/* Whether a v4 TLV type is one we know for this message type. */
static bool v4_type_known(uint8_t msg_type, uint16_t type)
{
	if (type & BMP_V4_TLV_E_BIT)
		return false; /* a vendor's */
	if (msg_type == BMP_ROUTE_MONITORING)
		return type >= 1 && type <= BMP_V4_RM_MAX_KNOWN;
	/* Peer Down: the VRF/Table name (RFC 9069 §5.4); the TLVs -20
	 * defines for all messages have no numbers yet */
	return msg_type == BMP_PEER_DOWN && type == 3;
}

/*
 * Whether a v4 Route Monitoring TLV carries the BGP PDU: type 7, or the
 * old type 4 when its value is a whole BGP message (see bmp.h).
 */
static bool v4_is_pdu(const struct bmp_tlv *t)
{
	struct cur v;
	const uint8_t *marker;
	uint16_t len;

	if (t->type == BMP_V4_RM_BGP_PDU)
		return true;
	if (t->type != BMP_V4_RM_GROUP)
		return false;
	cur_init(&v, t->value, t->len);
	if (cur_ptr(&v, 16, &marker) == -1 || /* BGP marker */
	    cur_u16(&v, &len) == -1)          /* BGP length */
		return false;
	for (int i = 0; i < 16; i++)
		if (marker[i] != 0xff)
			return false;
	return len == t->len;
}

/*
 * The v4 TLVs to the end of c; Route Monitoring's carry an index (draft
 * -20 §4).  The BGP PDU TLV, if any, goes to *pdu (the first one; more
 * are counted).  0, or -1 (counted) when the list overran: the TLVs
 * before the overrun are kept.
 */
static int v4_tlvs_decode(struct cur *c, struct bmp_msg *m, bool indexed,
			  struct cur *pdu, bool *has_pdu, struct dec_stats *st)
{
	while (!cur_is_empty(c)) {
		struct bmp_tlv t;

		memset(&t, 0, sizeof(t));
		t.has_index = indexed;
		if (cur_u16(c, &t.type) == -1 ||                  /* E, type */
		    cur_u16(c, &t.len) == -1 ||                   /* value length */
		    (indexed && cur_u16(c, &t.index) == -1) ||    /* NLRI index */
		    cur_ptr(c, t.len, &t.value) == -1)
			return dec_fail(st, DEC_BMP_TLV_TRUNCATED);
		m->v4_tlvs++;
		if (pdu != NULL && v4_is_pdu(&t)) {
			if (*has_pdu)
				dec_count(st, DEC_BMP_V4_BGP_PDU_REPEATED);
			else
				cur_init(pdu, t.value, t.len);
			*has_pdu = true;
		} else if (!v4_type_known(m->type, t.type)) {
			m->v4_unknown++;
			dec_count(st, DEC_BMP_V4_TLV_UNKNOWN);
		}
		tlv_keep(m, &t, st);
	}
	return 0;
}

/* v4 trailing TLVs of Peer Down and Stats: an overrun is counted only. */
static void v4_trailing_tlvs(struct cur *c, struct bmp_msg *m,
			     struct dec_stats *st)
{
	(void)v4_tlvs_decode(c, m, false, NULL, NULL, st);
}

static int stats_decode(struct cur *c, struct bmp_msg *m,
			struct dec_stats *st)
{
	if (cur_u32(c, &m->u.stats.count) == -1) /* stats count */
		return dec_fail(st, DEC_BMP_STATS_TRUNCATED);
	for (uint32_t i = 0; i < m->u.stats.count; i++) {
		struct bmp_stat s;
		uint16_t len;
		uint32_t v32;
		struct cur v;

		memset(&s, 0, sizeof(s));
		/* A count past the TLVs keeps what came before it: those
		 * values are whole and worth having (corpus m19). */
		if (cur_u16(c, &s.type) == -1 || /* stat type */
		    cur_u16(c, &len) == -1 ||    /* stat length */
		    cur_sub(c, len, &v) == -1) {
			dec_count(st, DEC_BMP_STATS_TRUNCATED);
			m->u.stats.truncated = true;
			return 0;
		}
		/* The length decides the encoding: types 0-6 and 11-13 are
		 * 32-bit counters, 7, 8, 14, 15 64-bit gauges, 9, 10, 16, 17
		 * AFI+SAFI+gauge; senders also use private and misused
		 * types, so the value is kept whatever the type. */
		if (len == 4 && cur_u32(&v, &v32) == 0) {
			s.value = v32;
			s.known = true;
		} else if (len == 8 && cur_u64(&v, &s.value) == 0) {
			s.is64 = true;
			s.known = true;
		} else if (len == 11 && cur_u16(&v, &s.afi) == 0 &&
			   cur_u8(&v, &s.safi) == 0 &&
			   cur_u64(&v, &s.value) == 0) {
			s.is64 = true;
			s.known = true;
		} else {
			dec_count(st, DEC_BMP_STATS_LENGTH_INVALID);
		}
		if (m->u.stats.n < BMP_MAX_STATS)
			m->u.stats.s[m->u.stats.n++] = s;
		else
			dec_count(st, DEC_BMP_STATS_CAPPED);
	}
	if (m->version == BMP_VERSION_TLV)
		v4_trailing_tlvs(c, m, st); /* -20 §5 */
	else if (!cur_is_empty(c))
		dec_count(st, DEC_BMP_STATS_TRAILING);
	return 0;
}

/* The length of the BGP message at the front of c, from its header. */
static int bgp_msg_len(const struct cur *c, uint16_t *len)
{
	struct cur p = *c;
	uint16_t l;

	if (cur_skip(&p, 16) == -1 || cur_u16(&p, &l) == -1 ||
	    l < BGP_HEADER_LEN || l > cur_left(c))
		return -1;
	*len = l;
	return 0;
}

/*
 * A NOTIFICATION PDU.  v3: it fills the rest of the message.  v4: it is
 * framed by its own BGP length and TLVs follow it (-20 §5).
 */
static void down_notification(struct cur *c, struct bmp_msg *m,
			      struct dec_stats *st)
{
	struct cur pdu = *c;
	uint16_t len;
	bool ok;

	m->u.down.has_notification = true;
	if (m->version == BMP_VERSION_TLV &&
	    (bgp_msg_len(c, &len) == -1 || cur_sub(c, len, &pdu) == -1)) {
		/* no framing for what follows either */
		dec_count(st, DEC_BMP_PEER_DOWN_NOTIFICATION_INVALID);
		return;
	}
	/* The peer is down whatever the PDU looks like; a broken
	 * NOTIFICATION is counted, not a reason to lose the event. */
	ok = bgp_notification_decode(&pdu, &m->u.down.notification, st) == 0;
	m->u.down.notification_valid = ok;
	if (!ok)
		dec_count(st, DEC_BMP_PEER_DOWN_NOTIFICATION_INVALID);
	if (m->version == BMP_VERSION_TLV)
		v4_trailing_tlvs(c, m, st);
}

static int peer_down_decode(struct cur *c, struct bmp_msg *m,
			    struct dec_stats *st)
{
	bool v4 = m->version == BMP_VERSION_TLV;

	if (cur_u8(c, &m->u.down.reason) == -1) /* 1..6 */
		return dec_fail(st, DEC_BMP_PEER_DOWN_TRUNCATED);
	switch (m->u.down.reason) {
	case BMP_DOWN_LOCAL_NOTIFICATION:
	case BMP_DOWN_REMOTE_NOTIFICATION:
		down_notification(c, m, st);
		return 0;
	case BMP_DOWN_LOCAL_FSM:
		if (cur_u16(c, &m->u.down.fsm_event) == -1)
			dec_count(st, DEC_BMP_PEER_DOWN_TRUNCATED);
		else if (v4)
			v4_trailing_tlvs(c, m, st);
		return 0;
	case BMP_DOWN_REMOTE_NO_DATA:
	case BMP_DOWN_DECONFIGURED:
		if (v4)
			v4_trailing_tlvs(c, m, st);
		return 0;
	case BMP_DOWN_LOC_RIB_DISABLED:
		if (v4)
			v4_trailing_tlvs(c, m, st);
		else
			tlvs_decode(c, m, st);
		return 0;
	default:
		dec_count(st, DEC_BMP_PEER_DOWN_REASON_UNSUPPORTED);
		return 0;
	}
}

static int peer_up_decode(struct cur *c, struct bmp_msg *m,
			  struct dec_stats *st)
{
	bool v6 = m->peer.peer_type != BMP_PEER_LOC_RIB &&
		  (m->peer.flags & BMP_F_V);
	struct cur sent, recv;
	uint16_t slen, rlen;

	if (addr16(c, v6, &m->u.up.local_addr) == -1 || /* local address */
	    cur_u16(c, &m->u.up.local_port) == -1 ||
	    cur_u16(c, &m->u.up.remote_port) == -1)
		return dec_fail(st, DEC_BMP_PEER_UP_TRUNCATED);
	/* Both OPENs must fit: their lengths frame what follows.  A short
	 * but framed OPEN (FRR sends a bare 19-byte header) is counted and
	 * the Peer Up still stands. */
	if (bgp_msg_len(c, &slen) == -1 || cur_sub(c, slen, &sent) == -1)
		return dec_fail(st, DEC_BMP_PEER_UP_TRUNCATED);
	if (bgp_msg_len(c, &rlen) == -1 || cur_sub(c, rlen, &recv) == -1)
		return dec_fail(st, DEC_BMP_PEER_UP_TRUNCATED);
	m->u.up.sent_valid = bgp_open_decode(&sent, &m->u.up.sent, st) == 0;
	m->u.up.received_valid =
		bgp_open_decode(&recv, &m->u.up.received, st) == 0;
	if (!m->u.up.sent_valid || !m->u.up.received_valid)
		dec_count(st, DEC_BMP_PEER_UP_OPEN_INVALID);
	tlvs_decode(c, m, st); /* information TLVs: 0 string, 3 VRF name */
	return 0;
}

/* Information TLV (RFC 7854 §4.7): a 2-octet code. */
static void mirror_info(struct cur *v, struct bmp_msg *m, struct dec_stats *st)
{
	uint16_t code;

	if (cur_left(v) != 2 || cur_u16(v, &code) == -1) {
		dec_count(st, DEC_BMP_MIRROR_INFO_INVALID);
		return;
	}
	if (code == BMP_MIRROR_ERRORED_PDU) {
		m->u.mirror.errored_pdus++;
	} else if (code == BMP_MIRROR_MESSAGES_LOST) {
		m->u.mirror.messages_lost++;
	} else {
		m->u.mirror.info_other++;
		dec_count(st, DEC_BMP_MIRROR_INFO_UNKNOWN);
	}
}

/* BGP Message TLV (RFC 7854 §4.7): any one whole BGP message. */
static void mirror_bgp(const struct cur *v, struct bmp_msg *m,
		       struct dec_stats *st)
{
	struct cur whole = *v, body;
	uint8_t type;

	if (bgp_header_decode(&whole, &type, &body, st) == -1) {
		dec_count(st, DEC_BMP_MIRROR_BGP_INVALID);
		return;
	}
	m->u.mirror.bgp_messages++;
	m->u.mirror.bgp = *v;
	m->u.mirror.bgp_type = type;
}

static int mirroring_decode(struct cur *c, struct bmp_msg *m,
			    struct dec_stats *st)
{
	bool after_bgp = false;

	memset(&m->u.mirror, 0, sizeof(m->u.mirror));
	/* Unlike information TLVs, a broken mirroring TLV list leaves
	 * nothing to report: the message is rejected. */
	while (!cur_is_empty(c)) {
		struct bmp_tlv t;
		struct cur v;

		memset(&t, 0, sizeof(t));
		if (cur_u16(c, &t.type) == -1 ||     /* 0 BGP message, 1 info */
		    cur_u16(c, &t.len) == -1 ||      /* value length */
		    cur_sub(c, t.len, &v) == -1)
			return dec_fail(st, DEC_BMP_MIRROR_TRUNCATED);
		t.value = cur_data(&v);
		tlv_keep(m, &t, st);
		/* "it MUST occur last in the list of TLVs" (§4.7) */
		if (after_bgp)
			dec_count(st, DEC_BMP_MIRROR_BGP_NOT_LAST);
		if (t.type == BMP_MIRROR_TLV_BGP) {
			mirror_bgp(&v, m, st);
			after_bgp = true;
		} else if (t.type == BMP_MIRROR_TLV_INFO) {
			mirror_info(&v, m, st);
		} else {
			dec_count(st, DEC_BMP_MIRROR_TLV_UNKNOWN);
		}
	}
	return 0;
}

/* v3: the UPDATE fills the rest.  v4: it is the BGP PDU TLV. */
static int route_monitoring_decode(struct cur *body, struct bmp_msg *m,
				   struct dec_stats *st)
{
	struct cur pdu = *body, peek;
	bool has_pdu = false;
	uint8_t type;

	if (m->version == BMP_VERSION_TLV &&
	    v4_tlvs_decode(body, m, true, &pdu, &has_pdu, st) == -1 &&
	    !has_pdu)
		return -1; /* counted: the list overran before the PDU */
	if (m->version == BMP_VERSION_TLV && !has_pdu)
		return dec_fail(st, DEC_BMP_V4_NO_BGP_PDU);
	/* exactly one UPDATE (its own length must agree, checked by
	 * bgp_header_decode) */
	peek = pdu;
	if (cur_skip(&peek, BGP_HEADER_LEN - 1) == -1 ||
	    cur_u8(&peek, &type) == -1 || /* BGP message type */
	    type != BGP_UPDATE)
		return dec_fail(st, DEC_BMP_RM_NOT_UPDATE);
	m->u.rm.bgp = pdu;
	return 0;
}

int bmp_decode(const uint8_t *buf, size_t len, struct bmp_msg *m,
	       struct dec_stats *st)
{
	struct cur c, body;

	memset(m, 0, offsetof(struct bmp_msg, u));
	cur_init(&c, buf, len);
	if (cur_u8(&c, &m->version) == -1 ||   /* 3 */
	    cur_u32(&c, &m->length) == -1 ||   /* header included */
	    cur_u8(&c, &m->type) == -1)        /* message type */
		return dec_fail(st, DEC_BMP_HEADER_TRUNCATED);
	if (m->version != BMP_VERSION && m->version != BMP_VERSION_TLV)
		return dec_fail(st, DEC_BMP_VERSION_UNSUPPORTED);
	if (m->length < BMP_COMMON_HDR_LEN || m->length > len)
		return dec_fail(st, DEC_BMP_LENGTH_SHORT);
	if (cur_sub(&c, m->length - BMP_COMMON_HDR_LEN, &body) == -1)
		return dec_fail(st, DEC_BMP_HEADER_TRUNCATED);
	switch (m->type) {
	case BMP_INITIATION:
		tlvs_decode(&body, m, st);
		return 0;
	case BMP_TERMINATION:
		tlvs_decode(&body, m, st);
		m->u.term.reason = 0xffff;
		for (unsigned i = 0; i < m->ntlv; i++)
			if (m->tlv[i].type == 1 && m->tlv[i].len == 2)
				m->u.term.reason = (uint16_t)(
					m->tlv[i].value[0] << 8 |
					m->tlv[i].value[1]);
		return 0;
	case BMP_ROUTE_MONITORING:
	case BMP_STATISTICS:
	case BMP_PEER_DOWN:
	case BMP_PEER_UP:
	case BMP_ROUTE_MIRRORING:
		break;
	default:
		return dec_fail(st, DEC_BMP_TYPE_UNSUPPORTED);
	}
	if (bmp_peer_hdr_decode(&body, &m->peer, st) == -1)
		return -1;
	m->has_peer = true;
	switch (m->type) {
	case BMP_ROUTE_MONITORING:
		return route_monitoring_decode(&body, m, st);
	case BMP_STATISTICS:
		memset(&m->u.stats, 0, offsetof(__typeof__(m->u.stats), s));
		return stats_decode(&body, m, st);
	case BMP_PEER_DOWN:
		memset(&m->u.down, 0, sizeof(m->u.down));
		return peer_down_decode(&body, m, st);
	case BMP_PEER_UP:
		memset(&m->u.up, 0, sizeof(m->u.up));
		return peer_up_decode(&body, m, st);
	default:
		return mirroring_decode(&body, m, st);
	}
}
