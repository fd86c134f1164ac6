/*
 * netflow5.c - NetFlow v5 export datagrams (Cisco's published format).
 *
 *  header (24 bytes)                 record (48 bytes)
 *  +-------+-------+------------+    +--------+--------+---------+
 *  | ver 5 | count | sysUptime  |    | srcaddr| dstaddr| nexthop |
 *  +-------+-------+------------+    +----+----+-------+---------+
 *  | unix_secs     | unix_nsecs |    | in | out| dPkts | dOctets |
 *  +---------------+------------+    +----+----+-------+---------+
 *  | flow_sequence | eng | samp |    | First  | Last   | ports   |
 *  +---------------+-----+------+    +--------+--------+---------+
 *                                    |pad|flg|prot|tos|src_as|dst_as|
 *                                    |smask|dmask|pad2 (2)       |
 *
 * First/Last are sysUptime in ms at the flow's first and last packet;
 * they become absolute times through the header's uptime and clock.
 */
#include <string.h>

#include "peerscope/cursor.h"
#include "peerscope/netflow5.h"

static int header_decode(struct cur *c, struct nf5_header *h,
			 struct dec_stats *st)
{
	uint16_t sampling;

	if (cur_u16(c, &h->version) == -1 ||	   /* 5 */
	    cur_u16(c, &h->count) == -1 ||	   /* records, 1..30 */
	    cur_u32(c, &h->sys_uptime_ms) == -1 || /* ms since boot */
	    cur_u32(c, &h->unix_secs) == -1 ||	   /* export time */
	    cur_u32(c, &h->unix_nsecs) == -1 ||
	    cur_u32(c, &h->flow_sequence) == -1 || /* flows seen before */
	    cur_u8(c, &h->engine_type) == -1 ||
	    cur_u8(c, &h->engine_id) == -1 ||
	    cur_u16(c, &sampling) == -1) /* mode (2) | interval */
		return dec_fail(st, DEC_NF5_HEADER_TRUNCATED);
	h->sampling_mode = (uint8_t)(sampling >> 14);
	h->sampling_interval = sampling & 0x3FFFu;
	return 0;
}

static void set_v4(struct ps_addr *a, uint32_t v)
{
	memset(a, 0, sizeof(*a));
	a->af = 4;
	a->bytes[0] = (uint8_t)(v >> 24);
	a->bytes[1] = (uint8_t)(v >> 16);
	a->bytes[2] = (uint8_t)(v >> 8);
	a->bytes[3] = (uint8_t)v;
}

static int record_decode(struct cur *c, const struct nf5_header *h,
			 struct ps_flow *f)
{
	uint32_t src, dst, nh, first, last, pkts, octets;
	uint16_t in, out, sport, dport, src_as, dst_as;
	uint8_t pad1, flags, prot, tos, smask, dmask;
	int64_t export_ms, start, end;

	if (cur_u32(c, &src) == -1 ||	 /* srcaddr */
	    cur_u32(c, &dst) == -1 ||	 /* dstaddr */
	    cur_u32(c, &nh) == -1 ||	 /* nexthop */
	    cur_u16(c, &in) == -1 ||	 /* input ifIndex */
	    cur_u16(c, &out) == -1 ||	 /* output ifIndex */
	    cur_u32(c, &pkts) == -1 ||	 /* dPkts */
	    cur_u32(c, &octets) == -1 || /* dOctets (layer 3) */
	    cur_u32(c, &first) == -1 ||	 /* sysUptime at first packet */
	    cur_u32(c, &last) == -1 ||	 /* sysUptime at last packet */
	    cur_u16(c, &sport) == -1 || cur_u16(c, &dport) == -1 ||
	    cur_u8(c, &pad1) == -1 ||
	    cur_u8(c, &flags) == -1 || /* cumulative TCP flags */
	    cur_u8(c, &prot) == -1 || cur_u8(c, &tos) == -1 ||
	    cur_u16(c, &src_as) == -1 || cur_u16(c, &dst_as) == -1 ||
	    cur_u8(c, &smask) == -1 || cur_u8(c, &dmask) == -1 ||
	    cur_skip(c, 2) == -1) /* pad2 */
		return -1;
	memset(f, 0, offsetof(struct ps_flow, extra));
	set_v4(&f->src_addr, src);
	set_v4(&f->dst_addr, dst);
	set_v4(&f->next_hop, nh);
	f->input_if = in;
	f->output_if = out;
	f->packets = pkts;
	f->bytes = octets;
	f->byte_basis = FLOW_BASIS_IP; /* dOctets: layer-3 bytes */
	f->src_port = sport;
	f->dst_port = dport;
	f->tcp_flags = flags;
	f->protocol = prot;
	f->tos = tos;
	f->src_as = src_as;
	f->dst_as = dst_as;
	f->src_mask = smask;
	f->dst_mask = dmask;
	f->ip_version = 4;
	f->present = FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_NEXT_HOP |
		     FLOW_HAS_INPUT_IF | FLOW_HAS_OUTPUT_IF | FLOW_HAS_PACKETS |
		     FLOW_HAS_BYTES | FLOW_HAS_PORTS | FLOW_HAS_TCP_FLAGS |
		     FLOW_HAS_PROTOCOL | FLOW_HAS_TOS | FLOW_HAS_AS |
		     FLOW_HAS_MASKS | FLOW_HAS_IP_VERSION;
	/*
	 * Times relative to the header's export time, the uptime difference
	 * taken modulo 2^32 ms: a router up for more than 49.7 days has
	 * wrapped its uptime, and its records must still land right.
	 */
	export_ms = (int64_t)h->unix_secs * 1000 + h->unix_nsecs / 1000000;
	start = export_ms - (int32_t)(h->sys_uptime_ms - first);
	end = export_ms - (int32_t)(h->sys_uptime_ms - last);
	if (h->unix_secs != 0 && start >= 0 && end >= 0) {
		f->start_ns = (uint64_t)start * 1000000ULL;
		f->end_ns = (uint64_t)end * 1000000ULL;
		f->present |= FLOW_HAS_START | FLOW_HAS_END;
	}
	return 0;
}

int nf5_decode(const uint8_t *buf, size_t len, struct nf5_header *h,
	       void (*cb)(void *arg, const struct nf5_header *h,
			  struct ps_flow *f),
	       void *arg, struct dec_stats *st)
{
	struct ps_flow f;
	struct cur c;

	cur_init(&c, buf, len);
	if (header_decode(&c, h, st) == -1)
		return -1;
	if (h->version != NF5_VERSION)
		return dec_fail(st, DEC_FLOW_VERSION_UNSUPPORTED);
	if (h->count == 0 || h->count > NF5_MAX_RECORDS)
		return dec_fail(st, DEC_NF5_COUNT_INVALID);
	if (cur_left(&c) < (size_t)h->count * NF5_RECORD_LEN)
		return dec_fail(st, DEC_NF5_RECORDS_TRUNCATED);
	if (cur_left(&c) > (size_t)h->count * NF5_RECORD_LEN)
		dec_count(st, DEC_NF5_TRAILING_BYTES); /* counted, harmless */
	for (uint16_t i = 0; i < h->count; i++) {
		if (record_decode(&c, h, &f) == -1) /* cannot: length checked */
			return dec_fail(st, DEC_NF5_RECORDS_TRUNCATED);
		if (cb != NULL)
			cb(arg, h, &f);
	}
	return 0;
}
