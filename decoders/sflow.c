/*
 * sflow.c - sFlow version 5 datagrams (sflow_version_5.txt), with the
 * discarded packet sample of sflow_drops.txt (0:5), the egress queue,
 * transit delay and queue depth records (0:1036, 0:1039, 0:1040) and the
 * host sFlow tcp_info record (0:2209).
 *
 * Everything is XDR: big-endian 32-bit words; opaque<> and string<> are a
 * length word then the bytes padded to a multiple of 4.
 *
 *   datagram                       sample_record
 *   +--------------------------+   +---------------------------------+
 *   | version (5)              |   | data_format (enterprise:20 |    |
 *   | agent address type (1|2) |   |              format:12)         |
 *   | agent address (4|16)     |   | length                          |
 *   | sub_agent_id             |   | sample_data (length bytes)      |
 *   | sequence_number          |   +---------------------------------+
 *   | uptime (ms)              |
 *   | num_samples              |   flow_record / counter_record: same
 *   | sample_record ...        |   shape (data_format, length, data)
 *   +--------------------------+
 *
 *   0:1 flow_sample        0:3 flow_sample_expanded   0:5 discarded_packet
 *   sequence_number        sequence_number            sequence_number
 *   source_id (type:8      source_id_type             source_id_type
 *              index:24)   source_id_index            source_id_index
 *   sampling_rate          sampling_rate              drops
 *   sample_pool            sample_pool                input ifIndex
 *   drops                  drops                      output ifIndex
 *   input  (format:2       input format, value        reason
 *           value:30)      output format, value       flow_records<>
 *   output (same)          flow_records<>
 *   flow_records<>
 *
 *   0:2 counters_sample    0:4 counters_sample_expanded
 *   sequence_number        sequence_number
 *   source_id              source_id_type, source_id_index
 *   counter_records<>      counter_records<>
 *
 * Every sample and every record is carved with cur_sub() from its length
 * word, so a decoder cannot read its neighbour.  Policy on damage:
 *   - a sample length past the datagram end leaves nothing trustworthy
 *     after it: the rest of the datagram is dropped (fatal);
 *   - a sample whose own content is broken (too short, record count over
 *     the cap, record length past the sample, a known record too short
 *     for its fields) is dropped alone and iteration goes on, because its
 *     length word still tells where the next sample starts;
 *   - unknown samples and records (any non-zero enterprise, any unknown
 *     format) are skipped by their length and counted as unsupported;
 *   - bytes left inside a known record after its fields, or inside a
 *     sample after its declared records, are tolerated and counted: the
 *     fields we know were read from inside the element's own bytes, so
 *     they are sound, and dropping a sampled flow over padding an
 *     exporter added would lose traffic for no gain in safety.
 *
 * The decoder is pure: it writes only into the caller's structs and the
 * caller's dec_stats, and allocates nothing.  Per sample it clears only
 * the `present` bits; a record's struct is written when it is decoded.
 */
#include <string.h>

#include "peerscope/sflow.h"

#define SFLOW_VERSION 5

/* data_format words of the standard (enterprise 0) structures */
enum {
	SFLOW_SAMPLE_FLOW_COMPACT = 1,
	SFLOW_SAMPLE_COUNTERS_COMPACT = 2,
	SFLOW_SAMPLE_FLOW_EXPANDED = 3,
	SFLOW_SAMPLE_COUNTERS_EXPANDED = 4,
	SFLOW_SAMPLE_DISCARDED = 5,
};

enum {
	SFLOW_FLOW_RAW_HEADER = 1,
	SFLOW_FLOW_ETHERNET = 2,
	SFLOW_FLOW_IPV4 = 3,
	SFLOW_FLOW_IPV6 = 4,
	SFLOW_FLOW_SWITCH = 1001,
	SFLOW_FLOW_ROUTER = 1002,
	SFLOW_FLOW_GATEWAY = 1003,
	SFLOW_FLOW_USER = 1004,
	SFLOW_FLOW_URL = 1005,
	SFLOW_FLOW_MPLS = 1006,
	SFLOW_FLOW_NAT = 1007,
	SFLOW_FLOW_MPLS_TUNNEL = 1008,
	SFLOW_FLOW_MPLS_VC = 1009,
	SFLOW_FLOW_MPLS_FTN = 1010,
	SFLOW_FLOW_MPLS_LDP_FEC = 1011,
	SFLOW_FLOW_VLAN_TUNNEL = 1012,
	SFLOW_FLOW_EGRESS_QUEUE = 1036,
	SFLOW_FLOW_TRANSIT_DELAY = 1039,
	SFLOW_FLOW_QUEUE_DEPTH = 1040,
	SFLOW_FLOW_TCP_INFO = 2209,
};

enum {
	SFLOW_COUNTERS_GENERIC = 1,
	SFLOW_COUNTERS_ETHERNET = 2,
	SFLOW_COUNTERS_VLAN = 5,
	SFLOW_COUNTERS_PROCESSOR = 1001,
};

/* address type words */
enum {
	SFLOW_ADDR_UNKNOWN = 0,
	SFLOW_ADDR_IPV4 = 1,
	SFLOW_ADDR_IPV6 = 2,
};

/* Bytes of XDR padding after an opaque of n bytes. */
static inline size_t xdr_pad(uint32_t n)
{
	return (size_t)(-n & 3u);
}

/*
 * address: type word, then 0, 4 or 16 bytes.  Type 0 (unknown) is legal
 * inside records; the datagram's agent address is checked by its caller.
 */
static int sflow_addr(struct cur *c, struct ps_addr *a, struct dec_stats *st)
{
	uint32_t type;

	if (cur_u32(c, &type) == -1)
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	switch (type) {
	case SFLOW_ADDR_UNKNOWN:
		a->af = 0;
		memset(a->bytes, 0, sizeof(a->bytes));
		return 0;
	case SFLOW_ADDR_IPV4:
		a->af = 4;
		memset(a->bytes + 4, 0, sizeof(a->bytes) - 4);
		if (cur_bytes(c, a->bytes, 4) == -1)
			return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
		return 0;
	case SFLOW_ADDR_IPV6:
		a->af = 6;
		if (cur_bytes(c, a->bytes, 16) == -1)
			return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
		return 0;
	default:
		return dec_fail(st, DEC_SFLOW_ADDRESS_TYPE_INVALID);
	}
}

/*
 * string<> in the middle of a record: length, bytes, padding.  The padding
 * is required here, since fields follow and would be misread without it.
 */
static int sflow_string(struct cur *c, struct sflow_str *s,
			struct dec_stats *st)
{
	const uint8_t *p;

	if (cur_u32(c, &s->len) == -1)
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	if (cur_ptr(c, s->len, &p) == -1)
		return dec_fail(st, DEC_SFLOW_FIELD_LENGTH_INVALID);
	s->s = (const char *)p;
	if (cur_skip(c, xdr_pad(s->len)) == -1)
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/*
 * unsigned int array<>: count word, then count words; the first `cap` are
 * kept, the rest read past with *truncated set (and counted).
 */
static int sflow_u32_array(struct cur *c, uint32_t *declared, uint32_t *dst,
			   uint32_t cap, uint8_t *count, bool *truncated,
			   struct dec_stats *st)
{
	uint32_t i, n;

	if (cur_u32(c, declared) == -1)
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	if (*declared > cur_left(c) / 4)
		return dec_fail(st, DEC_SFLOW_FIELD_LENGTH_INVALID);
	n = *declared < cap ? *declared : cap;
	for (i = 0; i < n; i++)
		if (cur_u32(c, &dst[i]) == -1)
			return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	*count = (uint8_t)n;
	*truncated = n < *declared;
	if (*truncated) {
		dec_count(st, DEC_SFLOW_STACK_CAPPED);
		if (cur_skip(c, (size_t)(*declared - n) * 4) == -1)
			return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	}
	return 0;
}

/* --- flow records ------------------------------------------------------ */

/*
 * 0:1 sampled_header: header_protocol, frame_length, stripped, header<>.
 * The header is the record's last field, so a missing final pad is
 * tolerated (counted as nothing: the bytes we use are all there).
 */
static int sflow_rec_raw_header(struct cur *c, struct sflow_raw_header *h,
				struct dec_stats *st)
{
	size_t pad, n;

	if (cur_u32(c, &h->header_protocol) == -1 || /* enum, 1 = Ethernet */
	    cur_u32(c, &h->frame_length) == -1 ||    /* original length */
	    cur_u32(c, &h->stripped) == -1 ||	     /* e.g. 4 for FCS */
	    cur_u32(c, &h->header_length) == -1)     /* bytes that follow */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	if (cur_ptr(c, h->header_length, &h->header) == -1)
		return dec_fail(st, DEC_SFLOW_HEADER_LENGTH_INVALID);
	pad = xdr_pad(h->header_length);
	if (pad > cur_left(c))
		pad = cur_left(c);
	if (cur_skip(c, pad) == -1)
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	n = h->header_length < SFLOW_MAX_HEADER_BYTES ? h->header_length :
							SFLOW_MAX_HEADER_BYTES;
	h->pkt_ok =
		pkt_decode(h->header, n, h->header_protocol, &h->pkt, st) == 0;
	return 0;
}

/* 0:2 sampled_ethernet */
static int sflow_rec_ethernet(struct cur *c, struct sflow_ethernet *e,
			      struct dec_stats *st)
{
	if (cur_u32(c, &e->length) == -1 ||	 /* MAC packet length */
	    cur_bytes(c, e->src_mac, 6) == -1 || /* mac: opaque[6] */
	    cur_skip(c, 2) == -1 ||		 /* XDR pad */
	    cur_bytes(c, e->dst_mac, 6) == -1 || /* mac: opaque[6] */
	    cur_skip(c, 2) == -1 ||		 /* XDR pad */
	    cur_u32(c, &e->type) == -1)		 /* ethertype */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* 0:3 sampled_ipv4 */
static int sflow_rec_ipv4(struct cur *c, struct sflow_ipv4 *r,
			  struct dec_stats *st)
{
	if (cur_u32(c, &r->length) == -1 ||	/* IP packet length */
	    cur_u32(c, &r->protocol) == -1 ||	/* IP protocol */
	    cur_bytes(c, r->src_ip, 4) == -1 || /* ip_v4 */
	    cur_bytes(c, r->dst_ip, 4) == -1 || /* ip_v4 */
	    cur_u32(c, &r->src_port) == -1 ||	/* or equivalent */
	    cur_u32(c, &r->dst_port) == -1 ||	/* or equivalent */
	    cur_u32(c, &r->tcp_flags) == -1 ||	/* TCP flags */
	    cur_u32(c, &r->tos) == -1)		/* IP type of service */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* 0:4 sampled_ipv6 */
static int sflow_rec_ipv6(struct cur *c, struct sflow_ipv6 *r,
			  struct dec_stats *st)
{
	if (cur_u32(c, &r->length) == -1 ||	 /* IP packet length */
	    cur_u32(c, &r->protocol) == -1 ||	 /* next header */
	    cur_bytes(c, r->src_ip, 16) == -1 || /* ip_v6 */
	    cur_bytes(c, r->dst_ip, 16) == -1 || /* ip_v6 */
	    cur_u32(c, &r->src_port) == -1 ||	 /* or equivalent */
	    cur_u32(c, &r->dst_port) == -1 ||	 /* or equivalent */
	    cur_u32(c, &r->tcp_flags) == -1 ||	 /* TCP flags */
	    cur_u32(c, &r->priority) == -1)	 /* traffic class */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* 0:1001 extended_switch */
static int sflow_rec_switch(struct cur *c, struct sflow_switch *r,
			    struct dec_stats *st)
{
	if (cur_u32(c, &r->src_vlan) == -1 ||	  /* 802.1Q VLAN in */
	    cur_u32(c, &r->src_priority) == -1 || /* 802.1p in */
	    cur_u32(c, &r->dst_vlan) == -1 ||	  /* 802.1Q VLAN out */
	    cur_u32(c, &r->dst_priority) == -1)	  /* 802.1p out */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* 0:1002 extended_router */
static int sflow_rec_router(struct cur *c, struct sflow_router *r,
			    struct dec_stats *st)
{
	if (sflow_addr(c, &r->nexthop, st) == -1)
		return -1;
	if (cur_u32(c, &r->src_mask_len) == -1 || /* source prefix bits */
	    cur_u32(c, &r->dst_mask_len) == -1)	  /* dest. prefix bits */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/*
 * One dst_as_path segment: type, as_number<>.  ASNs beyond the caps are
 * read past (they still give dst_as) and flag the path truncated.
 */
static int sflow_as_path_segment(struct cur *c, struct sflow_gateway *g,
				 struct dec_stats *st)
{
	struct sflow_as_path_segment *seg = NULL;
	uint32_t type, n, i, asn;

	if (cur_u32(c, &type) == -1 || /* 1 AS_SET, 2 AS_SEQUENCE */
	    cur_u32(c, &n) == -1)      /* ASNs in the segment */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	if (n > cur_left(c) / 4)
		return dec_fail(st, DEC_SFLOW_FIELD_LENGTH_INVALID);
	if (g->segment_count < SFLOW_MAX_AS_PATH) {
		seg = &g->segments[g->segment_count++];
		seg->type = type;
		seg->first = g->as_path_count;
		seg->count = 0;
	} else {
		g->as_path_truncated = true;
	}
	for (i = 0; i < n; i++) {
		if (cur_u32(c, &asn) == -1)
			return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
		if (g->as_path_declared == 0)
			g->dst_peer_as = asn;
		g->dst_as = asn;
		g->as_path_declared++;
		if (seg != NULL && g->as_path_count < SFLOW_MAX_AS_PATH) {
			g->as_path[g->as_path_count++] = asn;
			seg->count++;
		} else {
			g->as_path_truncated = true;
		}
	}
	return 0;
}

/* 0:1003 extended_gateway */
static int sflow_rec_gateway(struct cur *c, struct sflow_gateway *g,
			     struct dec_stats *st)
{
	uint32_t i;

	if (sflow_addr(c, &g->nexthop, st) == -1)
		return -1;
	if (cur_u32(c, &g->as) == -1 ||		     /* router's AS */
	    cur_u32(c, &g->src_as) == -1 ||	     /* source AS */
	    cur_u32(c, &g->src_peer_as) == -1 ||     /* source peer AS */
	    cur_u32(c, &g->segments_declared) == -1) /* dst_as_path<> */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	/* a segment is at least 8 bytes: bounds the loop before it runs */
	if (g->segments_declared > cur_left(c) / 8)
		return dec_fail(st, DEC_SFLOW_FIELD_LENGTH_INVALID);
	g->dst_peer_as = 0;
	g->dst_as = 0;
	g->as_path_declared = 0;
	g->segment_count = 0;
	g->as_path_count = 0;
	g->as_path_truncated = false;
	for (i = 0; i < g->segments_declared; i++)
		if (sflow_as_path_segment(c, g, st) == -1)
			return -1;
	if (g->as_path_truncated)
		dec_count(st, DEC_SFLOW_AS_PATH_CAPPED);

	if (cur_u32(c, &g->communities_declared) == -1) /* communities<> */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	if (g->communities_declared > cur_left(c) / 4)
		return dec_fail(st, DEC_SFLOW_FIELD_LENGTH_INVALID);
	g->communities_count = 0;
	for (i = 0; i < g->communities_declared; i++) {
		uint32_t comm;

		if (cur_u32(c, &comm) == -1)
			return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
		if (i < SFLOW_MAX_COMMUNITIES)
			g->communities[g->communities_count++] = comm;
	}
	g->communities_truncated =
		g->communities_declared > SFLOW_MAX_COMMUNITIES;
	if (g->communities_truncated)
		dec_count(st, DEC_SFLOW_COMMUNITIES_CAPPED);

	if (cur_u32(c, &g->localpref) == -1) /* LOCAL_PREF */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* 0:1004 extended_user */
static int sflow_rec_user(struct cur *c, struct sflow_user *r,
			  struct dec_stats *st)
{
	if (cur_u32(c, &r->src_charset) == -1) /* MIBEnum */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	if (sflow_string(c, &r->src_user, st) == -1)
		return -1;
	if (cur_u32(c, &r->dst_charset) == -1) /* MIBEnum */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return sflow_string(c, &r->dst_user, st);
}

/* 0:1005 extended_url */
static int sflow_rec_url(struct cur *c, struct sflow_url *r,
			 struct dec_stats *st)
{
	if (cur_u32(c, &r->direction) == -1) /* 1 src, 2 dst */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	if (sflow_string(c, &r->url, st) == -1)
		return -1;
	return sflow_string(c, &r->host, st);
}

static int sflow_label_stack(struct cur *c, struct sflow_label_stack *s,
			     struct dec_stats *st)
{
	return sflow_u32_array(c, &s->declared, s->label, SFLOW_MAX_MPLS_LABELS,
			       &s->count, &s->truncated, st);
}

/* 0:1006 extended_mpls: nexthop, in_stack<>, out_stack<> */
static int sflow_rec_mpls(struct cur *c, struct sflow_mpls *r,
			  struct dec_stats *st)
{
	if (sflow_addr(c, &r->nexthop, st) == -1 ||
	    sflow_label_stack(c, &r->in_stack, st) == -1 ||
	    sflow_label_stack(c, &r->out_stack, st) == -1)
		return -1;
	return 0;
}

/* 0:1007 extended_nat */
static int sflow_rec_nat(struct cur *c, struct sflow_nat *r,
			 struct dec_stats *st)
{
	if (sflow_addr(c, &r->src_address, st) == -1 ||
	    sflow_addr(c, &r->dst_address, st) == -1)
		return -1;
	return 0;
}

/* 0:1008 extended_mpls_tunnel */
static int sflow_rec_mpls_tunnel(struct cur *c, struct sflow_mpls_tunnel *r,
				 struct dec_stats *st)
{
	if (sflow_string(c, &r->tunnel_lsp_name, st) == -1)
		return -1;
	if (cur_u32(c, &r->tunnel_id) == -1 || /* tunnel ID */
	    cur_u32(c, &r->tunnel_cos) == -1)  /* tunnel COS */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* 0:1009 extended_mpls_vc */
static int sflow_rec_mpls_vc(struct cur *c, struct sflow_mpls_vc *r,
			     struct dec_stats *st)
{
	if (sflow_string(c, &r->vc_instance_name, st) == -1)
		return -1;
	if (cur_u32(c, &r->vll_vc_id) == -1 ||	/* VLL/VC instance ID */
	    cur_u32(c, &r->vc_label_cos) == -1) /* VC label COS */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* 0:1010 extended_mpls_FTN */
static int sflow_rec_mpls_ftn(struct cur *c, struct sflow_mpls_ftn *r,
			      struct dec_stats *st)
{
	if (sflow_string(c, &r->mplsFTNDescr, st) == -1)
		return -1;
	if (cur_u32(c, &r->mplsFTNMask) == -1) /* mplsFTNMask */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* 0:1011 extended_mpls_LDP_FEC */
static int sflow_rec_mpls_ldp_fec(struct cur *c, struct sflow_mpls_ldp_fec *r,
				  struct dec_stats *st)
{
	if (cur_u32(c, &r->mplsFecAddrPrefixLength) == -1) /* prefix bits */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* 0:1012 extended_vlantunnel: stack<> of TPID/TCI words */
static int sflow_rec_vlan_tunnel(struct cur *c, struct sflow_vlan_tunnel *r,
				 struct dec_stats *st)
{
	return sflow_u32_array(c, &r->declared, r->stack, SFLOW_MAX_VLAN_STACK,
			       &r->count, &r->truncated, st);
}

/* 0:1036, 0:1039, 0:1040: one unsigned int each */
static int sflow_rec_u32(struct cur *c, uint32_t *v, struct dec_stats *st)
{
	if (cur_u32(c, v) == -1) /* queue / delay ns / depth bytes */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* 0:2209 extended_tcp_info */
static int sflow_rec_tcp_info(struct cur *c, struct sflow_tcp_info *r,
			      struct dec_stats *st)
{
	if (cur_u32(c, &r->dirn) == -1 ||	/* packet direction */
	    cur_u32(c, &r->snd_mss) == -1 ||	/* effective MSS */
	    cur_u32(c, &r->rcv_mss) == -1 ||	/* max receive segment */
	    cur_u32(c, &r->unacked) == -1 ||	/* packets in flight */
	    cur_u32(c, &r->lost) == -1 ||	/* lost packets */
	    cur_u32(c, &r->retrans) == -1 ||	/* retransmitted */
	    cur_u32(c, &r->pmtu) == -1 ||	/* last PMTU */
	    cur_u32(c, &r->rtt) == -1 ||	/* smoothed RTT, us */
	    cur_u32(c, &r->rttvar) == -1 ||	/* RTT variance, us */
	    cur_u32(c, &r->snd_cwnd) == -1 ||	/* congestion window */
	    cur_u32(c, &r->reordering) == -1 || /* reordering */
	    cur_u32(c, &r->min_rtt) == -1)	/* minimum RTT, us */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* Decode one flow record of data_format `tag` from its carved bytes. */
static int sflow_flow_record(struct cur *c, uint32_t tag,
			     struct sflow_flow_sample *fs, struct dec_stats *st)
{
	struct sflow_flow_records *r = &fs->rec;
	uint32_t bit;
	int rv;

	/* enterprise 0 makes the whole word equal to the format */
	switch (tag) {
	case SFLOW_FLOW_RAW_HEADER:
		rv = sflow_rec_raw_header(c, &fs->raw, st);
		bit = SFLOW_HAS_RAW_HEADER;
		break;
	case SFLOW_FLOW_ETHERNET:
		rv = sflow_rec_ethernet(c, &r->ethernet, st);
		bit = SFLOW_HAS_ETHERNET;
		break;
	case SFLOW_FLOW_IPV4:
		rv = sflow_rec_ipv4(c, &r->ipv4, st);
		bit = SFLOW_HAS_IPV4;
		break;
	case SFLOW_FLOW_IPV6:
		rv = sflow_rec_ipv6(c, &r->ipv6, st);
		bit = SFLOW_HAS_IPV6;
		break;
	case SFLOW_FLOW_SWITCH:
		rv = sflow_rec_switch(c, &r->sw, st);
		bit = SFLOW_HAS_SWITCH;
		break;
	case SFLOW_FLOW_ROUTER:
		rv = sflow_rec_router(c, &r->router, st);
		bit = SFLOW_HAS_ROUTER;
		break;
	case SFLOW_FLOW_GATEWAY:
		rv = sflow_rec_gateway(c, &r->gateway, st);
		bit = SFLOW_HAS_GATEWAY;
		break;
	case SFLOW_FLOW_USER:
		rv = sflow_rec_user(c, &r->user, st);
		bit = SFLOW_HAS_USER;
		break;
	case SFLOW_FLOW_URL:
		rv = sflow_rec_url(c, &r->url, st);
		bit = SFLOW_HAS_URL;
		break;
	case SFLOW_FLOW_MPLS:
		rv = sflow_rec_mpls(c, &r->mpls, st);
		bit = SFLOW_HAS_MPLS;
		break;
	case SFLOW_FLOW_NAT:
		rv = sflow_rec_nat(c, &r->nat, st);
		bit = SFLOW_HAS_NAT;
		break;
	case SFLOW_FLOW_MPLS_TUNNEL:
		rv = sflow_rec_mpls_tunnel(c, &r->mpls_tunnel, st);
		bit = SFLOW_HAS_MPLS_TUNNEL;
		break;
	case SFLOW_FLOW_MPLS_VC:
		rv = sflow_rec_mpls_vc(c, &r->mpls_vc, st);
		bit = SFLOW_HAS_MPLS_VC;
		break;
	case SFLOW_FLOW_MPLS_FTN:
		rv = sflow_rec_mpls_ftn(c, &r->mpls_ftn, st);
		bit = SFLOW_HAS_MPLS_FTN;
		break;
	case SFLOW_FLOW_MPLS_LDP_FEC:
		rv = sflow_rec_mpls_ldp_fec(c, &r->mpls_ldp_fec, st);
		bit = SFLOW_HAS_MPLS_LDP_FEC;
		break;
	case SFLOW_FLOW_VLAN_TUNNEL:
		rv = sflow_rec_vlan_tunnel(c, &r->vlan_tunnel, st);
		bit = SFLOW_HAS_VLAN_TUNNEL;
		break;
	case SFLOW_FLOW_EGRESS_QUEUE:
		rv = sflow_rec_u32(c, &r->egress_queue, st);
		bit = SFLOW_HAS_EGRESS_QUEUE;
		break;
	case SFLOW_FLOW_TRANSIT_DELAY:
		rv = sflow_rec_u32(c, &r->transit_delay, st);
		bit = SFLOW_HAS_TRANSIT_DELAY;
		break;
	case SFLOW_FLOW_QUEUE_DEPTH:
		rv = sflow_rec_u32(c, &r->queue_depth, st);
		bit = SFLOW_HAS_QUEUE_DEPTH;
		break;
	case SFLOW_FLOW_TCP_INFO:
		rv = sflow_rec_tcp_info(c, &r->tcp_info, st);
		bit = SFLOW_HAS_TCP_INFO;
		break;
	default:
		r->unknown++;
		dec_count(st, DEC_SFLOW_FLOW_RECORD_UNSUPPORTED);
		return 0;
	}
	if (rv == -1)
		return -1;
	fs->present |= bit;
	if (!cur_is_empty(c))
		dec_count(st, DEC_SFLOW_RECORD_TRAILING_BYTES);
	return 0;
}

/* flow_record<> of a flow or discard sample: the rest of the sample. */
static int sflow_flow_records(struct cur *c, struct sflow_flow_sample *fs,
			      struct dec_stats *st)
{
	struct cur rc;
	uint32_t i, tag, len;

	fs->present = 0;
	fs->rec.unknown = 0;
	if (cur_u32(c, &fs->record_count) == -1) /* flow_records<> */
		return dec_fail(st, DEC_SFLOW_SAMPLE_TRUNCATED);
	if (fs->record_count > SFLOW_MAX_RECORDS_PER_SAMPLE)
		return dec_fail(st, DEC_SFLOW_RECORD_COUNT_INVALID);
	for (i = 0; i < fs->record_count; i++) {
		if (cur_u32(c, &tag) == -1 || /* data_format */
		    cur_u32(c, &len) == -1)   /* flow_data<> length */
			return dec_fail(st, DEC_SFLOW_SAMPLE_TRUNCATED);
		if (cur_sub(c, len, &rc) == -1)
			return dec_fail(st, DEC_SFLOW_RECORD_LENGTH_INVALID);
		if (sflow_flow_record(&rc, tag, fs, st) == -1)
			return -1;
	}
	if (!cur_is_empty(c))
		dec_count(st, DEC_SFLOW_SAMPLE_TRAILING_BYTES);
	return 0;
}

/* 0:1 flow_sample */
static int sflow_flow_sample(struct cur *c, struct sflow_flow_sample *fs,
			     struct dec_stats *st)
{
	uint32_t source_id, input, output;

	if (cur_u32(c, &fs->sequence) == -1 ||	    /* sequence_number */
	    cur_u32(c, &source_id) == -1 ||	    /* type:8 index:24 */
	    cur_u32(c, &fs->sampling_rate) == -1 || /* 1 in N */
	    cur_u32(c, &fs->sample_pool) == -1 ||   /* packets seen */
	    cur_u32(c, &fs->drops) == -1 ||	    /* lost for resources */
	    cur_u32(c, &input) == -1 ||		    /* format:2 value:30 */
	    cur_u32(c, &output) == -1)		    /* format:2 value:30 */
		return dec_fail(st, DEC_SFLOW_SAMPLE_TRUNCATED);
	fs->source_id_type = source_id >> 24;
	fs->source_id_index = source_id & 0x00FFFFFFu;
	fs->input_format = input >> 30;
	fs->input = input & 0x3FFFFFFFu;
	fs->output_format = output >> 30;
	fs->output = output & 0x3FFFFFFFu;
	fs->drop_reason = 0;
	return sflow_flow_records(c, fs, st);
}

/* 0:3 flow_sample_expanded */
static int sflow_flow_sample_expanded(struct cur *c,
				      struct sflow_flow_sample *fs,
				      struct dec_stats *st)
{
	if (cur_u32(c, &fs->sequence) == -1 ||	      /* sequence_number */
	    cur_u32(c, &fs->source_id_type) == -1 ||  /* sFlowDataSource */
	    cur_u32(c, &fs->source_id_index) == -1 || /* its index */
	    cur_u32(c, &fs->sampling_rate) == -1 ||   /* 1 in N */
	    cur_u32(c, &fs->sample_pool) == -1 ||     /* packets seen */
	    cur_u32(c, &fs->drops) == -1 ||	      /* lost for resources */
	    cur_u32(c, &fs->input_format) == -1 ||    /* interface format */
	    cur_u32(c, &fs->input) == -1 ||	      /* interface value */
	    cur_u32(c, &fs->output_format) == -1 ||   /* interface format */
	    cur_u32(c, &fs->output) == -1)	      /* interface value */
		return dec_fail(st, DEC_SFLOW_SAMPLE_TRUNCATED);
	fs->drop_reason = 0;
	return sflow_flow_records(c, fs, st);
}

/* 0:5 discarded_packet (sflow_drops.txt) */
static int sflow_discard_sample(struct cur *c, struct sflow_flow_sample *fs,
				struct dec_stats *st)
{
	if (cur_u32(c, &fs->sequence) == -1 ||	      /* sequence_number */
	    cur_u32(c, &fs->source_id_type) == -1 ||  /* sFlowDataSource */
	    cur_u32(c, &fs->source_id_index) == -1 || /* its index */
	    cur_u32(c, &fs->drops) == -1 ||	      /* unreported drops */
	    cur_u32(c, &fs->input) == -1 ||	      /* ifIndex, 0 unknown */
	    cur_u32(c, &fs->output) == -1 ||	      /* ifIndex, 0 unknown */
	    cur_u32(c, &fs->drop_reason) == -1)	      /* drop_reason */
		return dec_fail(st, DEC_SFLOW_SAMPLE_TRUNCATED);
	fs->sampling_rate = 0;
	fs->sample_pool = 0;
	fs->input_format = SFLOW_IF_INDEX;
	fs->output_format = SFLOW_IF_INDEX;
	return sflow_flow_records(c, fs, st);
}

/* --- counter records --------------------------------------------------- */

/* 0:1 if_counters */
static int sflow_rec_if_counters(struct cur *c, struct sflow_if_counters *r,
				 struct dec_stats *st)
{
	if (cur_u32(c, &r->ifIndex) == -1 || cur_u32(c, &r->ifType) == -1 ||
	    cur_u64(c, &r->ifSpeed) == -1 ||
	    cur_u32(c, &r->ifDirection) == -1 || /* 1 full, 2 half... */
	    cur_u32(c, &r->ifStatus) == -1 ||	 /* admin, oper bits */
	    cur_u64(c, &r->ifInOctets) == -1 ||
	    cur_u32(c, &r->ifInUcastPkts) == -1 ||
	    cur_u32(c, &r->ifInMulticastPkts) == -1 ||
	    cur_u32(c, &r->ifInBroadcastPkts) == -1 ||
	    cur_u32(c, &r->ifInDiscards) == -1 ||
	    cur_u32(c, &r->ifInErrors) == -1 ||
	    cur_u32(c, &r->ifInUnknownProtos) == -1 ||
	    cur_u64(c, &r->ifOutOctets) == -1 ||
	    cur_u32(c, &r->ifOutUcastPkts) == -1 ||
	    cur_u32(c, &r->ifOutMulticastPkts) == -1 ||
	    cur_u32(c, &r->ifOutBroadcastPkts) == -1 ||
	    cur_u32(c, &r->ifOutDiscards) == -1 ||
	    cur_u32(c, &r->ifOutErrors) == -1 ||
	    cur_u32(c, &r->ifPromiscuousMode) == -1) /* 1 true, 2 false */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* 0:2 ethernet_counters */
static int sflow_rec_eth_counters(struct cur *c, struct sflow_eth_counters *r,
				  struct dec_stats *st)
{
	if (cur_u32(c, &r->dot3StatsAlignmentErrors) == -1 ||
	    cur_u32(c, &r->dot3StatsFCSErrors) == -1 ||
	    cur_u32(c, &r->dot3StatsSingleCollisionFrames) == -1 ||
	    cur_u32(c, &r->dot3StatsMultipleCollisionFrames) == -1 ||
	    cur_u32(c, &r->dot3StatsSQETestErrors) == -1 ||
	    cur_u32(c, &r->dot3StatsDeferredTransmissions) == -1 ||
	    cur_u32(c, &r->dot3StatsLateCollisions) == -1 ||
	    cur_u32(c, &r->dot3StatsExcessiveCollisions) == -1 ||
	    cur_u32(c, &r->dot3StatsInternalMacTransmitErrors) == -1 ||
	    cur_u32(c, &r->dot3StatsCarrierSenseErrors) == -1 ||
	    cur_u32(c, &r->dot3StatsFrameTooLongs) == -1 ||
	    cur_u32(c, &r->dot3StatsInternalMacReceiveErrors) == -1 ||
	    cur_u32(c, &r->dot3StatsSymbolErrors) == -1)
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* 0:5 vlan_counters */
static int sflow_rec_vlan_counters(struct cur *c, struct sflow_vlan_counters *r,
				   struct dec_stats *st)
{
	if (cur_u32(c, &r->vlan_id) == -1 || cur_u64(c, &r->octets) == -1 ||
	    cur_u32(c, &r->ucastPkts) == -1 ||
	    cur_u32(c, &r->multicastPkts) == -1 ||
	    cur_u32(c, &r->broadcastPkts) == -1 ||
	    cur_u32(c, &r->discards) == -1)
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/* 0:1001 processor */
static int sflow_rec_processor(struct cur *c, struct sflow_processor *r,
			       struct dec_stats *st)
{
	if (cur_u32(c, &r->cpu_5s) == -1 ||	  /* percent * 100 */
	    cur_u32(c, &r->cpu_1m) == -1 ||	  /* percent * 100 */
	    cur_u32(c, &r->cpu_5m) == -1 ||	  /* percent * 100 */
	    cur_u64(c, &r->total_memory) == -1 || /* bytes */
	    cur_u64(c, &r->free_memory) == -1)	  /* bytes */
		return dec_fail(st, DEC_SFLOW_RECORD_TRUNCATED);
	return 0;
}

/*
 * Generic interface records: the first goes to `generic`, later ones to
 * rec.generic_extra[]; beyond the cap they are read (so a broken one still
 * rejects the sample) into a scratch struct and counted.
 */
static int sflow_rec_generic(struct cur *c, struct sflow_counter_sample *cs,
			     struct dec_stats *st)
{
	struct sflow_if_counters spare;
	struct sflow_if_counters *r;

	if (cs->generic_count == 0)
		r = &cs->generic;
	else if (cs->generic_count < SFLOW_MAX_IF_COUNTERS_PER_SAMPLE)
		r = &cs->rec.generic_extra[cs->generic_count - 1];
	else
		r = &spare;
	if (sflow_rec_if_counters(c, r, st) == -1)
		return -1;
	if (r == &spare)
		dec_count(st, DEC_SFLOW_IF_COUNTERS_CAPPED);
	else
		cs->generic_count++;
	return 0;
}

static int sflow_counter_record(struct cur *c, uint32_t tag,
				struct sflow_counter_sample *cs,
				struct dec_stats *st)
{
	uint32_t bit;
	int rv;

	switch (tag) {
	case SFLOW_COUNTERS_GENERIC:
		rv = sflow_rec_generic(c, cs, st);
		bit = SFLOW_HAS_GENERIC_IF;
		break;
	case SFLOW_COUNTERS_ETHERNET:
		rv = sflow_rec_eth_counters(c, &cs->rec.ethernet, st);
		bit = SFLOW_HAS_ETHERNET_IF;
		break;
	case SFLOW_COUNTERS_VLAN:
		rv = sflow_rec_vlan_counters(c, &cs->rec.vlan, st);
		bit = SFLOW_HAS_VLAN_COUNTERS;
		break;
	case SFLOW_COUNTERS_PROCESSOR:
		rv = sflow_rec_processor(c, &cs->rec.processor, st);
		bit = SFLOW_HAS_PROCESSOR;
		break;
	default:
		cs->rec.unknown++;
		dec_count(st, DEC_SFLOW_COUNTER_RECORD_UNSUPPORTED);
		return 0;
	}
	if (rv == -1)
		return -1;
	cs->present |= bit;
	if (!cur_is_empty(c))
		dec_count(st, DEC_SFLOW_RECORD_TRAILING_BYTES);
	return 0;
}

/* counter_record<>: the rest of a counter sample. */
static int sflow_counter_records(struct cur *c, struct sflow_counter_sample *cs,
				 struct dec_stats *st)
{
	struct cur rc;
	uint32_t i, tag, len;

	cs->present = 0;
	cs->generic_count = 0;
	cs->rec.unknown = 0;
	if (cur_u32(c, &cs->record_count) == -1) /* counter_records<> */
		return dec_fail(st, DEC_SFLOW_SAMPLE_TRUNCATED);
	if (cs->record_count > SFLOW_MAX_RECORDS_PER_SAMPLE)
		return dec_fail(st, DEC_SFLOW_RECORD_COUNT_INVALID);
	for (i = 0; i < cs->record_count; i++) {
		if (cur_u32(c, &tag) == -1 || /* data_format */
		    cur_u32(c, &len) == -1)   /* counter_data<> length */
			return dec_fail(st, DEC_SFLOW_SAMPLE_TRUNCATED);
		if (cur_sub(c, len, &rc) == -1)
			return dec_fail(st, DEC_SFLOW_RECORD_LENGTH_INVALID);
		if (sflow_counter_record(&rc, tag, cs, st) == -1)
			return -1;
	}
	if (!cur_is_empty(c))
		dec_count(st, DEC_SFLOW_SAMPLE_TRAILING_BYTES);
	return 0;
}

/* 0:2 counters_sample */
static int sflow_counter_sample(struct cur *c, struct sflow_counter_sample *cs,
				struct dec_stats *st)
{
	uint32_t source_id;

	if (cur_u32(c, &cs->sequence) == -1 || /* sequence_number */
	    cur_u32(c, &source_id) == -1)      /* type:8 index:24 */
		return dec_fail(st, DEC_SFLOW_SAMPLE_TRUNCATED);
	cs->source_id_type = source_id >> 24;
	cs->source_id_index = source_id & 0x00FFFFFFu;
	return sflow_counter_records(c, cs, st);
}

/* 0:4 counters_sample_expanded */
static int sflow_counter_sample_expanded(struct cur *c,
					 struct sflow_counter_sample *cs,
					 struct dec_stats *st)
{
	if (cur_u32(c, &cs->sequence) == -1 ||	     /* sequence_number */
	    cur_u32(c, &cs->source_id_type) == -1 || /* sFlowDataSource */
	    cur_u32(c, &cs->source_id_index) == -1)  /* its index */
		return dec_fail(st, DEC_SFLOW_SAMPLE_TRUNCATED);
	return sflow_counter_records(c, cs, st);
}

/* --- datagram ---------------------------------------------------------- */

/* Nothing more comes out of this iterator. */
static void sflow_iter_stop(struct sflow_iter *it)
{
	cur_init(&it->samples, NULL, 0);
	it->remaining = 0;
}

/* @thread any (pure) */
int sflow_datagram_open(struct sflow_iter *it, const uint8_t *buf, size_t len,
			struct sflow_datagram *out, struct dec_stats *st)
{
	struct cur c;
	uint32_t agent_type;

	sflow_iter_stop(it);
	cur_init(&c, buf, len);
	if (cur_u32(&c, &out->version) == -1) /* 5 */
		return dec_fail(st, DEC_SFLOW_HEADER_TRUNCATED);
	if (out->version != SFLOW_VERSION)
		return dec_fail(st, DEC_SFLOW_VERSION_UNSUPPORTED);
	if (cur_u32(&c, &agent_type) == -1) /* 1 = IPv4, 2 = IPv6 */
		return dec_fail(st, DEC_SFLOW_HEADER_TRUNCATED);
	memset(&out->agent, 0, sizeof(out->agent));
	switch (agent_type) {
	case SFLOW_ADDR_IPV4:
		out->agent.af = 4;
		if (cur_bytes(&c, out->agent.bytes, 4) == -1)
			return dec_fail(st, DEC_SFLOW_HEADER_TRUNCATED);
		break;
	case SFLOW_ADDR_IPV6:
		out->agent.af = 6;
		if (cur_bytes(&c, out->agent.bytes, 16) == -1)
			return dec_fail(st, DEC_SFLOW_HEADER_TRUNCATED);
		break;
	default:
		return dec_fail(st, DEC_SFLOW_AGENT_AF_INVALID);
	}
	if (cur_u32(&c, &out->sub_agent_id) == -1 || /* sub_agent_id */
	    cur_u32(&c, &out->sequence) == -1 ||     /* sequence_number */
	    cur_u32(&c, &out->uptime_ms) == -1 ||    /* uptime, ms */
	    cur_u32(&c, &out->num_samples) == -1)    /* samples<> */
		return dec_fail(st, DEC_SFLOW_HEADER_TRUNCATED);
	if (out->num_samples > SFLOW_MAX_SAMPLES_PER_DATAGRAM)
		return dec_fail(st, DEC_SFLOW_NUM_SAMPLES_INVALID);
	it->samples = c;
	it->remaining = out->num_samples;
	return 0;
}

/* @thread any (pure) */
int sflow_next_sample(struct sflow_iter *it, struct sflow_sample *out,
		      struct dec_stats *st)
{
	struct cur sc;
	uint32_t tag, len;
	int rv;

	while (it->remaining > 0) {
		if (cur_is_empty(&it->samples)) {
			sflow_iter_stop(it);
			return dec_fail(st, DEC_SFLOW_SAMPLES_MISSING);
		}
		if (cur_u32(&it->samples, &tag) == -1 || /* data_format */
		    cur_u32(&it->samples, &len) == -1) { /* sample_data<> */
			sflow_iter_stop(it);
			return dec_fail(st, DEC_SFLOW_SAMPLE_TRUNCATED);
		}
		/* length compared with what is left: no pointer can wrap */
		if (cur_sub(&it->samples, len, &sc) == -1) {
			sflow_iter_stop(it);
			return dec_fail(st, DEC_SFLOW_SAMPLE_LENGTH_INVALID);
		}
		it->remaining--;
		switch (tag) {
		case SFLOW_SAMPLE_FLOW_COMPACT:
			out->kind = SFLOW_SAMPLE_FLOW;
			out->expanded = false;
			rv = sflow_flow_sample(&sc, &out->u.flow, st);
			break;
		case SFLOW_SAMPLE_FLOW_EXPANDED:
			out->kind = SFLOW_SAMPLE_FLOW;
			out->expanded = true;
			rv = sflow_flow_sample_expanded(&sc, &out->u.flow, st);
			break;
		case SFLOW_SAMPLE_COUNTERS_COMPACT:
			out->kind = SFLOW_SAMPLE_COUNTERS;
			out->expanded = false;
			rv = sflow_counter_sample(&sc, &out->u.counters, st);
			break;
		case SFLOW_SAMPLE_COUNTERS_EXPANDED:
			out->kind = SFLOW_SAMPLE_COUNTERS;
			out->expanded = true;
			rv = sflow_counter_sample_expanded(
				&sc, &out->u.counters, st);
			break;
		case SFLOW_SAMPLE_DISCARDED:
			out->kind = SFLOW_SAMPLE_DISCARD;
			out->expanded = false;
			rv = sflow_discard_sample(&sc, &out->u.flow, st);
			break;
		default:
			dec_count(st, DEC_SFLOW_SAMPLE_UNSUPPORTED);
			continue;
		}
		if (rv == 0) {
			out->enterprise = 0;
			out->format = tag;
			return 1;
		}
		/* the sample was counted and dropped; its length was sound */
	}
	if (!cur_is_empty(&it->samples)) {
		dec_count(st, DEC_SFLOW_TRAILING_BYTES);
		sflow_iter_stop(it);
	}
	return 0;
}
