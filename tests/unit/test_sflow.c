/*
 * test_sflow.c - decoders/sflow.c from hand-built byte vectors.
 *
 * Every vector is written word by word from the layouts in
 * sflow_version_5.txt and sflow_drops.txt, and every expected value below
 * is the one written into the vector, never one read back from our code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "peerscope/sflow.h"

/* --- a tiny XDR builder ---------------------------------------------- */

struct buf {
	uint8_t b[8192];
	size_t n;
};

static void put32(struct buf *b, uint32_t v)
{
	b->b[b->n++] = (uint8_t)(v >> 24);
	b->b[b->n++] = (uint8_t)(v >> 16);
	b->b[b->n++] = (uint8_t)(v >> 8);
	b->b[b->n++] = (uint8_t)v;
}

static void put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

/* opaque bytes padded with zeros to a multiple of 4 */
static void put_bytes(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
	while (b->n % 4 != 0)
		b->b[b->n++] = 0;
}

/* string<> / opaque<>: length word then padded bytes */
static void put_str(struct buf *b, const char *s)
{
	put32(b, (uint32_t)strlen(s));
	put_bytes(b, s, strlen(s));
}

/* data_format word and a length placeholder; returns where it is */
static size_t begin(struct buf *b, uint32_t enterprise, uint32_t format)
{
	size_t at;

	put32(b, enterprise << 12 | format);
	at = b->n;
	put32(b, 0);
	return at;
}

static void end(struct buf *b, size_t at)
{
	uint32_t len = (uint32_t)(b->n - at - 4);

	b->b[at] = (uint8_t)(len >> 24);
	b->b[at + 1] = (uint8_t)(len >> 16);
	b->b[at + 2] = (uint8_t)(len >> 8);
	b->b[at + 3] = (uint8_t)len;
}

/* datagram header, IPv4 agent 192.0.2.1, sub-agent 7, seq 42, uptime */
static void dgram_v4(struct buf *b, uint32_t num_samples)
{
	static const uint8_t agent[4] = {192, 0, 2, 1};

	b->n = 0;
	put32(b, 5);
	put32(b, 1);
	put_bytes(b, agent, 4);
	put32(b, 7);
	put32(b, 42);
	put32(b, 123456);
	put32(b, num_samples);
}

/* compact flow sample header, records follow (caller writes count) */
static size_t flow_sample_begin(struct buf *b, uint32_t records)
{
	size_t at = begin(b, 0, 1);

	put32(b, 1001);	       /* sequence_number */
	put32(b, 0 << 24 | 5); /* source_id: ifIndex 5 */
	put32(b, 512);	       /* sampling_rate */
	put32(b, 51200);       /* sample_pool */
	put32(b, 3);	       /* drops */
	put32(b, 5);	       /* input ifIndex 5 */
	put32(b, 0x80000003u); /* output: format 2, 3 interfaces */
	put32(b, records);
	return at;
}

static void rec_switch(struct buf *b)
{
	size_t at = begin(b, 0, 1001);

	put32(b, 100);
	put32(b, 5);
	put32(b, 200);
	put32(b, 0);
	end(b, at);
}

/* Ethernet / IPv4 / TCP SYN 10.0.0.1:12345 -> 198.51.100.7:443 */
static const uint8_t frame[54] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, /* dst */
    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, /* src */
    0x08, 0x00,				/* IPv4 */
    0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06,
    0x00, 0x00, 10,   0,    0,	  1,	198,  51,   100,  7,
    0x30, 0x39, 0x01, 0xbb, 0,	  0,	0,    1,    0,	  0,
    0,	  0,	0x50, 0x02, 0x72, 0x10, 0x00, 0x00, 0x00, 0x00,
};

static void rec_raw_header(struct buf *b)
{
	size_t at = begin(b, 0, 1);

	put32(b, 1);	/* Ethernet */
	put32(b, 1518); /* frame_length */
	put32(b, 4);	/* stripped */
	put32(b, sizeof(frame));
	put_bytes(b, frame, sizeof(frame));
	end(b, at);
}

static uint64_t sflow_reasons_total(const struct dec_stats *st)
{
	uint64_t t = 0;

	for (int r = DEC_SFLOW_HEADER_TRUNCATED;
	     r <= DEC_SFLOW_COUNTER_RECORD_UNSUPPORTED; r++)
		t += st->n[r];
	return t;
}

/* the decoder must leave these alone between runs */
static struct sflow_sample smp;
static struct dec_stats st;
static struct buf b;

static int setup(void **state)
{
	(void)state;
	memset(&st, 0, sizeof(st));
	memset(&smp, 0xA5, sizeof(smp)); /* stale garbage from "earlier" */
	memset(&b, 0, sizeof(b));
	return 0;
}

/* --- datagram header ------------------------------------------------- */

static void test_header_v4(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	static const uint8_t agent[4] = {192, 0, 2, 1};

	(void)state;
	dgram_v4(&b, 0);
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(d.version, 5);
	assert_int_equal(d.agent.af, 4);
	assert_memory_equal(d.agent.bytes, agent, 4);
	for (int i = 4; i < 16; i++)
		assert_int_equal(d.agent.bytes[i], 0);
	assert_int_equal(d.sub_agent_id, 7);
	assert_int_equal(d.sequence, 42);
	assert_int_equal(d.uptime_ms, 123456);
	assert_int_equal(d.num_samples, 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);
	assert_true(dec_stats_is_clean(&st));
}

static void test_header_v6(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	static const uint8_t agent[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					  0,	0,    0,    0,	  0, 0, 0, 1};

	(void)state;
	put32(&b, 5);
	put32(&b, 2);
	put_bytes(&b, agent, 16);
	put32(&b, 3);		/* sub_agent_id */
	put32(&b, 0xFFFFFFFFu); /* sequence */
	put32(&b, 99);
	put32(&b, 0);
	assert_int_equal(b.n, 40);
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(d.agent.af, 6);
	assert_memory_equal(d.agent.bytes, agent, 16);
	assert_int_equal(d.sub_agent_id, 3);
	assert_int_equal(d.sequence, 0xFFFFFFFFu);
	assert_int_equal(d.uptime_ms, 99);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);
	assert_true(dec_stats_is_clean(&st));

	/* the same header cut inside the IPv6 agent address */
	assert_int_equal(sflow_datagram_open(&it, b.b, 20, &d, &st), -1);
	assert_int_equal(st.n[DEC_SFLOW_HEADER_TRUNCATED], 1);
}

/* --- flow samples ---------------------------------------------------- */

static void test_flow_compact(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	const struct sflow_flow_sample *f = &smp.u.flow;
	const struct sflow_gateway *g = &f->rec.gateway;
	static const uint8_t nh6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					0,    0,    0,	  0,	0, 0, 0, 0xfe};
	size_t s, r;

	(void)state;
	dgram_v4(&b, 1);
	s = flow_sample_begin(&b, 4);
	rec_raw_header(&b);
	rec_switch(&b);
	r = begin(&b, 0, 1002); /* router */
	put32(&b, 1);
	put_bytes(&b, (const uint8_t[]){192, 0, 2, 254}, 4);
	put32(&b, 24);
	put32(&b, 16);
	end(&b, r);
	r = begin(&b, 0, 1003); /* gateway */
	put32(&b, 2);
	put_bytes(&b, nh6, 16);
	put32(&b, 65000); /* as */
	put32(&b, 64500); /* src_as */
	put32(&b, 64501); /* src_peer_as */
	put32(&b, 2);	  /* segments */
	put32(&b, 2);	  /* AS_SEQUENCE */
	put32(&b, 3);
	put32(&b, 64510);
	put32(&b, 64520);
	put32(&b, 64530);
	put32(&b, 1); /* AS_SET */
	put32(&b, 2);
	put32(&b, 64540);
	put32(&b, 64541);
	put32(&b, 2); /* communities */
	put32(&b, 0xFDE80064u);
	put32(&b, 0xFDE800C8u);
	put32(&b, 100); /* localpref */
	end(&b, r);
	end(&b, s);

	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(smp.kind, SFLOW_SAMPLE_FLOW);
	assert_int_equal(smp.enterprise, 0);
	assert_int_equal(smp.format, 1);
	assert_false(smp.expanded);
	assert_int_equal(f->sequence, 1001);
	assert_int_equal(f->source_id_type, 0);
	assert_int_equal(f->source_id_index, 5);
	assert_int_equal(f->sampling_rate, 512);
	assert_int_equal(f->sample_pool, 51200);
	assert_int_equal(f->drops, 3);
	assert_int_equal(f->input_format, SFLOW_IF_INDEX);
	assert_int_equal(f->input, 5);
	assert_int_equal(f->output_format, SFLOW_IF_MULTIPLE);
	assert_int_equal(f->output, 3);
	assert_int_equal(f->record_count, 4);
	assert_int_equal(f->present, SFLOW_HAS_RAW_HEADER | SFLOW_HAS_SWITCH |
					 SFLOW_HAS_ROUTER | SFLOW_HAS_GATEWAY);

	assert_int_equal(f->raw.header_protocol, 1);
	assert_int_equal(f->raw.frame_length, 1518);
	assert_int_equal(f->raw.stripped, 4);
	assert_int_equal(f->raw.header_length, 54);
	/* borrowed from the datagram: 8+16+8 sample and record words in */
	assert_ptr_equal(f->raw.header, b.b + 28 + 8 + 32 + 8 + 16);
	assert_memory_equal(f->raw.header, frame, sizeof(frame));
	/* the sampled header as packet.c sees it */
	assert_true(f->raw.pkt_ok);
	assert_int_equal(f->raw.pkt.ip.version, 4);
	assert_int_equal(f->raw.pkt.ip.protocol, 6);
	assert_memory_equal(f->raw.pkt.ip.src, ((uint8_t[]){10, 0, 0, 1}), 4);
	assert_memory_equal(f->raw.pkt.ip.dst, ((uint8_t[]){198, 51, 100, 7}),
			    4);
	assert_true(f->raw.pkt.ip.has_ports);
	assert_int_equal(f->raw.pkt.ip.src_port, 12345);
	assert_int_equal(f->raw.pkt.ip.dst_port, 443);
	assert_int_equal(f->raw.pkt.ip.tcp_flags, 0x02);
	assert_memory_equal(f->raw.pkt.src_mac, frame + 6, 6);

	assert_int_equal(f->rec.sw.src_vlan, 100);
	assert_int_equal(f->rec.sw.src_priority, 5);
	assert_int_equal(f->rec.sw.dst_vlan, 200);
	assert_int_equal(f->rec.sw.dst_priority, 0);

	assert_int_equal(f->rec.router.nexthop.af, 4);
	assert_memory_equal(f->rec.router.nexthop.bytes,
			    ((uint8_t[]){192, 0, 2, 254}), 4);
	assert_int_equal(f->rec.router.src_mask_len, 24);
	assert_int_equal(f->rec.router.dst_mask_len, 16);

	assert_int_equal(g->nexthop.af, 6);
	assert_memory_equal(g->nexthop.bytes, nh6, 16);
	assert_int_equal(g->as, 65000);
	assert_int_equal(g->src_as, 64500);
	assert_int_equal(g->src_peer_as, 64501);
	assert_int_equal(g->segments_declared, 2);
	assert_int_equal(g->segment_count, 2);
	assert_int_equal(g->segments[0].type, SFLOW_AS_SEQUENCE);
	assert_int_equal(g->segments[0].first, 0);
	assert_int_equal(g->segments[0].count, 3);
	assert_int_equal(g->segments[1].type, SFLOW_AS_SET);
	assert_int_equal(g->segments[1].first, 3);
	assert_int_equal(g->segments[1].count, 2);
	assert_int_equal(g->as_path_declared, 5);
	assert_int_equal(g->as_path_count, 5);
	assert_int_equal(g->as_path[0], 64510);
	assert_int_equal(g->as_path[1], 64520);
	assert_int_equal(g->as_path[2], 64530);
	assert_int_equal(g->as_path[3], 64540);
	assert_int_equal(g->as_path[4], 64541);
	assert_int_equal(g->dst_peer_as, 64510);
	assert_int_equal(g->dst_as, 64541);
	assert_false(g->as_path_truncated);
	assert_int_equal(g->communities_declared, 2);
	assert_int_equal(g->communities_count, 2);
	assert_int_equal(g->communities[0], 0xFDE80064u);
	assert_int_equal(g->communities[1], 0xFDE800C8u);
	assert_false(g->communities_truncated);
	assert_int_equal(g->localpref, 100);

	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);
	assert_int_equal(sflow_reasons_total(&st), 0);
}

static void test_flow_expanded(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	const struct sflow_flow_sample *f = &smp.u.flow;
	size_t s;

	(void)state;
	dgram_v4(&b, 1);
	s = begin(&b, 0, 3);
	put32(&b, 77);	     /* sequence */
	put32(&b, 2);	     /* source_id_type: entPhysicalEntry */
	put32(&b, 0x123456); /* index wider than 24 bits is fine here */
	put32(&b, 256);
	put32(&b, 2560);
	put32(&b, 0);
	put32(&b, 0); /* input format ifIndex */
	put32(&b, 7);
	put32(&b, 2); /* output format: multiple */
	put32(&b, 3); /* 3 interfaces, not ifIndex 3 */
	put32(&b, 1);
	rec_switch(&b);
	end(&b, s);

	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(smp.kind, SFLOW_SAMPLE_FLOW);
	assert_int_equal(smp.format, 3);
	assert_true(smp.expanded);
	assert_int_equal(f->sequence, 77);
	assert_int_equal(f->source_id_type, 2);
	assert_int_equal(f->source_id_index, 0x123456);
	assert_int_equal(f->sampling_rate, 256);
	assert_int_equal(f->sample_pool, 2560);
	assert_int_equal(f->drops, 0);
	assert_int_equal(f->input_format, SFLOW_IF_INDEX);
	assert_int_equal(f->input, 7);
	assert_int_equal(f->output_format, SFLOW_IF_MULTIPLE);
	assert_int_equal(f->output, 3);
	assert_int_equal(f->record_count, 1);
	assert_int_equal(f->present, SFLOW_HAS_SWITCH);
	assert_int_equal(f->rec.sw.dst_vlan, 200);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);
	assert_int_equal(sflow_reasons_total(&st), 0);
}

/* compact interface word with format 1: the value is a discard reason */
static void test_flow_compact_discard_format(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	size_t s;

	(void)state;
	dgram_v4(&b, 1);
	s = begin(&b, 0, 1);
	put32(&b, 1);
	put32(&b, 1u << 24 | 300); /* smonVlanDataSource 300 */
	put32(&b, 1);
	put32(&b, 1);
	put32(&b, 0);
	put32(&b, 0x3FFFFFFFu); /* input unknown */
	put32(&b, 0x40000102u); /* output format 1, reason 258 */
	put32(&b, 0);
	end(&b, s);
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(smp.u.flow.source_id_type, 1);
	assert_int_equal(smp.u.flow.source_id_index, 300);
	assert_int_equal(smp.u.flow.input_format, SFLOW_IF_INDEX);
	assert_int_equal(smp.u.flow.input, SFLOW_IFINDEX_UNKNOWN);
	assert_int_equal(smp.u.flow.output_format, SFLOW_IF_DISCARD);
	assert_int_equal(smp.u.flow.output, 258);
	assert_int_equal(smp.u.flow.present, 0);
	assert_int_equal(sflow_reasons_total(&st), 0);
}

/* Every other flow record type, once each, in one sample. */
static void test_flow_other_records(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	const struct sflow_flow_records *r = &smp.u.flow.rec;
	static const uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0xa, 0, 0,
					0,    0,    0,	  0,	0, 0,	0, 1};
	static const uint8_t v6b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0xb, 0, 0,
					0,    0,    0,	  0,	0, 0,	0, 2};
	static const uint8_t mac1[6] = {2, 0, 0, 0, 0, 1};
	static const uint8_t mac2[6] = {2, 0, 0, 0, 0, 2};
	size_t s, x;

	(void)state;
	dgram_v4(&b, 1);
	s = flow_sample_begin(&b, 17);
	x = begin(&b, 0, 2); /* sampled_ethernet */
	put32(&b, 1514);
	put_bytes(&b, mac1, 6);
	put_bytes(&b, mac2, 6);
	put32(&b, 0x86dd);
	end(&b, x);
	x = begin(&b, 0, 3); /* sampled_ipv4 */
	put32(&b, 1500);
	put32(&b, 17);
	put_bytes(&b, (const uint8_t[]){10, 1, 2, 3}, 4);
	put_bytes(&b, (const uint8_t[]){192, 0, 2, 53}, 4);
	put32(&b, 5353);
	put32(&b, 53);
	put32(&b, 0);
	put32(&b, 0xb8);
	end(&b, x);
	x = begin(&b, 0, 4); /* sampled_ipv6 */
	put32(&b, 1280);
	put32(&b, 6);
	put_bytes(&b, v6a, 16);
	put_bytes(&b, v6b, 16);
	put32(&b, 40000);
	put32(&b, 443);
	put32(&b, 0x18);
	put32(&b, 0x20);
	end(&b, x);
	x = begin(&b, 0, 1004); /* user */
	put32(&b, 106);
	put_str(&b, "alice");
	put32(&b, 3);
	put_str(&b, "bob");
	end(&b, x);
	x = begin(&b, 0, 1005); /* url */
	put32(&b, 2);
	put_str(&b, "/index.html");
	put_str(&b, "example.net");
	end(&b, x);
	x = begin(&b, 0, 1006); /* mpls */
	put32(&b, 1);
	put_bytes(&b, (const uint8_t[]){198, 51, 100, 1}, 4);
	put32(&b, 2);
	put32(&b, 0x00010140u);
	put32(&b, 0x00020140u);
	put32(&b, 1);
	put32(&b, 0x00030140u);
	end(&b, x);
	x = begin(&b, 0, 1007); /* nat */
	put32(&b, 1);
	put_bytes(&b, (const uint8_t[]){203, 0, 113, 9}, 4);
	put32(&b, 2);
	put_bytes(&b, v6b, 16);
	end(&b, x);
	x = begin(&b, 0, 1008); /* mpls tunnel */
	put_str(&b, "lsp-a");
	put32(&b, 11);
	put32(&b, 5);
	end(&b, x);
	x = begin(&b, 0, 1009); /* mpls vc */
	put_str(&b, "vc1234");
	put32(&b, 1234);
	put32(&b, 6);
	end(&b, x);
	x = begin(&b, 0, 1010); /* mpls ftn */
	put_str(&b, "ftn");
	put32(&b, 0xFFFFFF00u);
	end(&b, x);
	x = begin(&b, 0, 1011); /* ldp fec */
	put32(&b, 24);
	end(&b, x);
	x = begin(&b, 0, 1012); /* vlan tunnel */
	put32(&b, 2);
	put32(&b, 0x88a80064u);
	put32(&b, 0x810000c8u);
	end(&b, x);
	x = begin(&b, 0, 1036); /* egress queue */
	put32(&b, 3);
	end(&b, x);
	x = begin(&b, 0, 1039); /* transit delay */
	put32(&b, 125000);
	end(&b, x);
	x = begin(&b, 0, 1040); /* queue depth */
	put32(&b, 65536);
	end(&b, x);
	x = begin(&b, 0, 2209); /* tcp_info */
	for (uint32_t i = 0; i < 12; i++)
		put32(&b, 100 + i);
	end(&b, x);
	x = begin(&b, 0, 1002); /* router, unknown next hop */
	put32(&b, 0);
	put32(&b, 0);
	put32(&b, 0);
	end(&b, x);
	end(&b, s);

	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(smp.u.flow.present,
			 SFLOW_HAS_ETHERNET | SFLOW_HAS_IPV4 | SFLOW_HAS_IPV6 |
			     SFLOW_HAS_USER | SFLOW_HAS_URL | SFLOW_HAS_MPLS |
			     SFLOW_HAS_NAT | SFLOW_HAS_MPLS_TUNNEL |
			     SFLOW_HAS_MPLS_VC | SFLOW_HAS_MPLS_FTN |
			     SFLOW_HAS_MPLS_LDP_FEC | SFLOW_HAS_VLAN_TUNNEL |
			     SFLOW_HAS_EGRESS_QUEUE | SFLOW_HAS_TRANSIT_DELAY |
			     SFLOW_HAS_QUEUE_DEPTH | SFLOW_HAS_TCP_INFO |
			     SFLOW_HAS_ROUTER);

	assert_int_equal(r->ethernet.length, 1514);
	assert_memory_equal(r->ethernet.src_mac, mac1, 6);
	assert_memory_equal(r->ethernet.dst_mac, mac2, 6);
	assert_int_equal(r->ethernet.type, 0x86dd);

	assert_int_equal(r->ipv4.length, 1500);
	assert_int_equal(r->ipv4.protocol, 17);
	assert_memory_equal(r->ipv4.src_ip, ((uint8_t[]){10, 1, 2, 3}), 4);
	assert_memory_equal(r->ipv4.dst_ip, ((uint8_t[]){192, 0, 2, 53}), 4);
	assert_int_equal(r->ipv4.src_port, 5353);
	assert_int_equal(r->ipv4.dst_port, 53);
	assert_int_equal(r->ipv4.tcp_flags, 0);
	assert_int_equal(r->ipv4.tos, 0xb8);

	assert_int_equal(r->ipv6.length, 1280);
	assert_int_equal(r->ipv6.protocol, 6);
	assert_memory_equal(r->ipv6.src_ip, v6a, 16);
	assert_memory_equal(r->ipv6.dst_ip, v6b, 16);
	assert_int_equal(r->ipv6.src_port, 40000);
	assert_int_equal(r->ipv6.dst_port, 443);
	assert_int_equal(r->ipv6.tcp_flags, 0x18);
	assert_int_equal(r->ipv6.priority, 0x20);

	assert_int_equal(r->user.src_charset, 106);
	assert_int_equal(r->user.src_user.len, 5);
	assert_memory_equal(r->user.src_user.s, "alice", 5);
	assert_int_equal(r->user.dst_charset, 3);
	assert_int_equal(r->user.dst_user.len, 3);
	assert_memory_equal(r->user.dst_user.s, "bob", 3);

	assert_int_equal(r->url.direction, 2);
	assert_int_equal(r->url.url.len, 11);
	assert_memory_equal(r->url.url.s, "/index.html", 11);
	assert_int_equal(r->url.host.len, 11);
	assert_memory_equal(r->url.host.s, "example.net", 11);

	assert_int_equal(r->mpls.nexthop.af, 4);
	assert_memory_equal(r->mpls.nexthop.bytes,
			    ((uint8_t[]){198, 51, 100, 1}), 4);
	assert_int_equal(r->mpls.in_stack.declared, 2);
	assert_int_equal(r->mpls.in_stack.count, 2);
	assert_false(r->mpls.in_stack.truncated);
	assert_int_equal(r->mpls.in_stack.label[0], 0x00010140u);
	assert_int_equal(r->mpls.in_stack.label[1], 0x00020140u);
	assert_int_equal(r->mpls.out_stack.count, 1);
	assert_int_equal(r->mpls.out_stack.label[0], 0x00030140u);

	assert_int_equal(r->nat.src_address.af, 4);
	assert_memory_equal(r->nat.src_address.bytes,
			    ((uint8_t[]){203, 0, 113, 9}), 4);
	assert_int_equal(r->nat.dst_address.af, 6);
	assert_memory_equal(r->nat.dst_address.bytes, v6b, 16);

	assert_int_equal(r->mpls_tunnel.tunnel_lsp_name.len, 5);
	assert_memory_equal(r->mpls_tunnel.tunnel_lsp_name.s, "lsp-a", 5);
	assert_int_equal(r->mpls_tunnel.tunnel_id, 11);
	assert_int_equal(r->mpls_tunnel.tunnel_cos, 5);
	assert_int_equal(r->mpls_vc.vc_instance_name.len, 6);
	assert_memory_equal(r->mpls_vc.vc_instance_name.s, "vc1234", 6);
	assert_int_equal(r->mpls_vc.vll_vc_id, 1234);
	assert_int_equal(r->mpls_vc.vc_label_cos, 6);
	assert_int_equal(r->mpls_ftn.mplsFTNDescr.len, 3);
	assert_memory_equal(r->mpls_ftn.mplsFTNDescr.s, "ftn", 3);
	assert_int_equal(r->mpls_ftn.mplsFTNMask, 0xFFFFFF00u);
	assert_int_equal(r->mpls_ldp_fec.mplsFecAddrPrefixLength, 24);

	assert_int_equal(r->vlan_tunnel.declared, 2);
	assert_int_equal(r->vlan_tunnel.count, 2);
	assert_int_equal(r->vlan_tunnel.stack[0], 0x88a80064u);
	assert_int_equal(r->vlan_tunnel.stack[1], 0x810000c8u);

	assert_int_equal(r->egress_queue, 3);
	assert_int_equal(r->transit_delay, 125000);
	assert_int_equal(r->queue_depth, 65536);

	assert_int_equal(r->tcp_info.dirn, 100);
	assert_int_equal(r->tcp_info.snd_mss, 101);
	assert_int_equal(r->tcp_info.rcv_mss, 102);
	assert_int_equal(r->tcp_info.unacked, 103);
	assert_int_equal(r->tcp_info.lost, 104);
	assert_int_equal(r->tcp_info.retrans, 105);
	assert_int_equal(r->tcp_info.pmtu, 106);
	assert_int_equal(r->tcp_info.rtt, 107);
	assert_int_equal(r->tcp_info.rttvar, 108);
	assert_int_equal(r->tcp_info.snd_cwnd, 109);
	assert_int_equal(r->tcp_info.reordering, 110);
	assert_int_equal(r->tcp_info.min_rtt, 111);

	assert_int_equal(r->router.nexthop.af, 0);
	assert_int_equal(sflow_reasons_total(&st), 0);
}

/* AS path and communities over their caps: kept to the cap, flagged. */
static void test_gateway_caps(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	const struct sflow_gateway *g = &smp.u.flow.rec.gateway;
	size_t s, x;
	uint32_t i;

	(void)state;
	dgram_v4(&b, 1);
	s = flow_sample_begin(&b, 1);
	x = begin(&b, 0, 1003);
	put32(&b, 1);
	put_bytes(&b, (const uint8_t[]){192, 0, 2, 9}, 4);
	put32(&b, 1);
	put32(&b, 2);
	put32(&b, 3);
	put32(&b, 1); /* one segment of 40 ASNs */
	put32(&b, 2);
	put32(&b, 40);
	for (i = 0; i < 40; i++)
		put32(&b, 4200000000u + i);
	put32(&b, 40); /* 40 communities */
	for (i = 0; i < 40; i++)
		put32(&b, 0x10000 + i);
	put32(&b, 250);
	end(&b, x);
	end(&b, s);

	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(smp.u.flow.present, SFLOW_HAS_GATEWAY);
	assert_int_equal(g->as_path_declared, 40);
	assert_int_equal(g->as_path_count, SFLOW_MAX_AS_PATH);
	assert_true(g->as_path_truncated);
	assert_int_equal(g->segment_count, 1);
	assert_int_equal(g->segments[0].count, SFLOW_MAX_AS_PATH);
	assert_int_equal(g->as_path[0], 4200000000u);
	assert_int_equal(g->as_path[SFLOW_MAX_AS_PATH - 1],
			 4200000000u + SFLOW_MAX_AS_PATH - 1);
	assert_int_equal(g->dst_peer_as, 4200000000u);
	assert_int_equal(g->dst_as, 4200000039u); /* true origin, past cap */
	assert_int_equal(g->communities_declared, 40);
	assert_int_equal(g->communities_count, SFLOW_MAX_COMMUNITIES);
	assert_true(g->communities_truncated);
	assert_int_equal(g->communities[SFLOW_MAX_COMMUNITIES - 1],
			 0x10000 + SFLOW_MAX_COMMUNITIES - 1);
	assert_int_equal(g->localpref, 250);
	assert_int_equal(st.n[DEC_SFLOW_AS_PATH_CAPPED], 1);
	assert_int_equal(st.n[DEC_SFLOW_COMMUNITIES_CAPPED], 1);
}

/* --- counter samples ------------------------------------------------- */

static void put_if_counters(struct buf *bb, uint32_t ifindex)
{
	put32(bb, ifindex);
	put32(bb, 6);		   /* ethernetCsmacd */
	put64(bb, 10000000000ull); /* 10 Gb/s */
	put32(bb, 1);		   /* full duplex */
	put32(bb, 3);		   /* admin + oper up */
	put64(bb, 0x123456789ull); /* ifInOctets */
	put32(bb, 11);
	put32(bb, 12);
	put32(bb, 13);
	put32(bb, 14);
	put32(bb, 15);
	put32(bb, 16);
	put64(bb, 0x0000000A00000001ull); /* ifOutOctets */
	put32(bb, 21);
	put32(bb, 22);
	put32(bb, 23);
	put32(bb, 24);
	put32(bb, 25);
	put32(bb, 2); /* promiscuous false */
}

static void assert_if_counters(const struct sflow_if_counters *c,
			       uint32_t ifindex)
{
	assert_int_equal(c->ifIndex, ifindex);
	assert_int_equal(c->ifType, 6);
	assert_int_equal(c->ifSpeed, 10000000000ull);
	assert_int_equal(c->ifDirection, 1);
	assert_int_equal(c->ifStatus, 3);
	assert_int_equal(c->ifInOctets, 0x123456789ull);
	assert_int_equal(c->ifInUcastPkts, 11);
	assert_int_equal(c->ifInMulticastPkts, 12);
	assert_int_equal(c->ifInBroadcastPkts, 13);
	assert_int_equal(c->ifInDiscards, 14);
	assert_int_equal(c->ifInErrors, 15);
	assert_int_equal(c->ifInUnknownProtos, 16);
	assert_int_equal(c->ifOutOctets, 0x0000000A00000001ull);
	assert_int_equal(c->ifOutUcastPkts, 21);
	assert_int_equal(c->ifOutMulticastPkts, 22);
	assert_int_equal(c->ifOutBroadcastPkts, 23);
	assert_int_equal(c->ifOutDiscards, 24);
	assert_int_equal(c->ifOutErrors, 25);
	assert_int_equal(c->ifPromiscuousMode, 2);
}

static void test_counters_compact(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	const struct sflow_counter_sample *c = &smp.u.counters;
	size_t s, x;
	uint32_t i;

	(void)state;
	dgram_v4(&b, 1);
	s = begin(&b, 0, 2);
	put32(&b, 9);		 /* sequence */
	put32(&b, 0 << 24 | 17); /* ifIndex 17 */
	put32(&b, 4);
	x = begin(&b, 0, 1);
	put_if_counters(&b, 17);
	end(&b, x);
	assert_int_equal(b.n - x - 4, 88);
	x = begin(&b, 0, 2);
	for (i = 0; i < 13; i++)
		put32(&b, 1000 + i);
	end(&b, x);
	x = begin(&b, 0, 5);
	put32(&b, 100);
	put64(&b, 0x100000000ull);
	put32(&b, 31);
	put32(&b, 32);
	put32(&b, 33);
	put32(&b, 34);
	end(&b, x);
	x = begin(&b, 0, 1001);
	put32(&b, 1250); /* 12.5 % */
	put32(&b, 2500);
	put32(&b, 5000);
	put64(&b, 17179869184ull);
	put64(&b, 8589934592ull);
	end(&b, x);
	end(&b, s);

	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(smp.kind, SFLOW_SAMPLE_COUNTERS);
	assert_int_equal(smp.format, 2);
	assert_false(smp.expanded);
	assert_int_equal(c->sequence, 9);
	assert_int_equal(c->source_id_type, 0);
	assert_int_equal(c->source_id_index, 17);
	assert_int_equal(c->record_count, 4);
	assert_int_equal(c->present,
			 SFLOW_HAS_GENERIC_IF | SFLOW_HAS_ETHERNET_IF |
			     SFLOW_HAS_VLAN_COUNTERS | SFLOW_HAS_PROCESSOR);
	assert_int_equal(c->generic_count, 1);
	assert_if_counters(&c->generic, 17);
	assert_ptr_equal(sflow_counter_generic(c, 0), &c->generic);

	assert_int_equal(c->rec.ethernet.dot3StatsAlignmentErrors, 1000);
	assert_int_equal(c->rec.ethernet.dot3StatsFCSErrors, 1001);
	assert_int_equal(c->rec.ethernet.dot3StatsSingleCollisionFrames, 1002);
	assert_int_equal(c->rec.ethernet.dot3StatsMultipleCollisionFrames,
			 1003);
	assert_int_equal(c->rec.ethernet.dot3StatsSQETestErrors, 1004);
	assert_int_equal(c->rec.ethernet.dot3StatsDeferredTransmissions, 1005);
	assert_int_equal(c->rec.ethernet.dot3StatsLateCollisions, 1006);
	assert_int_equal(c->rec.ethernet.dot3StatsExcessiveCollisions, 1007);
	assert_int_equal(c->rec.ethernet.dot3StatsInternalMacTransmitErrors,
			 1008);
	assert_int_equal(c->rec.ethernet.dot3StatsCarrierSenseErrors, 1009);
	assert_int_equal(c->rec.ethernet.dot3StatsFrameTooLongs, 1010);
	assert_int_equal(c->rec.ethernet.dot3StatsInternalMacReceiveErrors,
			 1011);
	assert_int_equal(c->rec.ethernet.dot3StatsSymbolErrors, 1012);

	assert_int_equal(c->rec.vlan.vlan_id, 100);
	assert_int_equal(c->rec.vlan.octets, 0x100000000ull);
	assert_int_equal(c->rec.vlan.ucastPkts, 31);
	assert_int_equal(c->rec.vlan.multicastPkts, 32);
	assert_int_equal(c->rec.vlan.broadcastPkts, 33);
	assert_int_equal(c->rec.vlan.discards, 34);

	assert_int_equal(c->rec.processor.cpu_5s, 1250);
	assert_int_equal(c->rec.processor.cpu_1m, 2500);
	assert_int_equal(c->rec.processor.cpu_5m, 5000);
	assert_int_equal(c->rec.processor.total_memory, 17179869184ull);
	assert_int_equal(c->rec.processor.free_memory, 8589934592ull);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);
	assert_int_equal(sflow_reasons_total(&st), 0);
}

/* expanded counter sample with two generic records (as pmacct sends) */
static void test_counters_expanded(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	const struct sflow_counter_sample *c = &smp.u.counters;
	size_t s, x;

	(void)state;
	dgram_v4(&b, 1);
	s = begin(&b, 0, 4);
	put32(&b, 10);
	put32(&b, 0);	       /* source_id_type */
	put32(&b, 0x01000005); /* index needing more than 24 bits */
	put32(&b, 2);
	x = begin(&b, 0, 1);
	put_if_counters(&b, 10);
	end(&b, x);
	x = begin(&b, 0, 1);
	put_if_counters(&b, 100);
	end(&b, x);
	end(&b, s);

	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(smp.kind, SFLOW_SAMPLE_COUNTERS);
	assert_int_equal(smp.format, 4);
	assert_true(smp.expanded);
	assert_int_equal(c->sequence, 10);
	assert_int_equal(c->source_id_type, 0);
	assert_int_equal(c->source_id_index, 0x01000005);
	assert_int_equal(c->present, SFLOW_HAS_GENERIC_IF);
	assert_int_equal(c->generic_count, 2);
	assert_if_counters(sflow_counter_generic(c, 0), 10);
	assert_if_counters(sflow_counter_generic(c, 1), 100);
	assert_int_equal(sflow_reasons_total(&st), 0);
}

/* --- discarded packet ------------------------------------------------ */

static void test_discard(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	const struct sflow_flow_sample *f = &smp.u.flow;
	size_t s, x;

	(void)state;
	dgram_v4(&b, 1);
	s = begin(&b, 0, 5);
	put32(&b, 555); /* sequence_number */
	put32(&b, 0);	/* source_id type */
	put32(&b, 12);	/* source_id index */
	put32(&b, 8);	/* drops */
	put32(&b, 12);	/* input ifIndex */
	put32(&b, 0);	/* output ifIndex unknown */
	put32(&b, 259); /* drop_reason, kept as sent */
	put32(&b, 2);
	rec_raw_header(&b);
	x = begin(&b, 0, 1042); /* linux reason: not decoded */
	put_str(&b, "NOT_SPECIFIED");
	end(&b, x);
	end(&b, s);

	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(smp.kind, SFLOW_SAMPLE_DISCARD);
	assert_int_equal(smp.format, 5);
	assert_int_equal(f->sequence, 555);
	assert_int_equal(f->source_id_type, 0);
	assert_int_equal(f->source_id_index, 12);
	assert_int_equal(f->drops, 8);
	assert_int_equal(f->input_format, SFLOW_IF_INDEX);
	assert_int_equal(f->input, 12);
	assert_int_equal(f->output_format, SFLOW_IF_INDEX);
	assert_int_equal(f->output, 0);
	assert_int_equal(f->drop_reason, 259);
	assert_int_equal(f->sampling_rate, 0);
	assert_int_equal(f->sample_pool, 0);
	assert_int_equal(f->record_count, 2);
	assert_int_equal(f->present, SFLOW_HAS_RAW_HEADER);
	assert_int_equal(f->raw.frame_length, 1518);
	assert_int_equal(f->raw.header_length, 54);
	assert_int_equal(f->rec.unknown, 1);
	assert_int_equal(st.n[DEC_SFLOW_FLOW_RECORD_UNSUPPORTED], 1);
	assert_int_equal(sflow_reasons_total(&st), 1);
}

/* --- unknown structures ---------------------------------------------- */

static void test_unknown_skipped(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	size_t s, x;

	(void)state;
	dgram_v4(&b, 3);
	s = begin(&b, 12345, 7); /* unknown sample type, 36 bytes */
	for (int i = 0; i < 9; i++)
		put32(&b, 0xDEADBEEF);
	end(&b, s);
	s = flow_sample_begin(&b, 4);
	x = begin(&b, 12345, 99); /* unknown enterprise record */
	put32(&b, 1);
	put32(&b, 2);
	put32(&b, 3);
	end(&b, x);
	x = begin(&b, 0, 1); /* enterprise 12345 format 1 is not 0:1 */
	put32(&b, 0);
	end(&b, x);
	b.b[x - 4] = 0x03; /* data_format = 0x03039001 = 12345:1 */
	b.b[x - 3] = 0x03;
	b.b[x - 2] = 0x90;
	b.b[x - 1] = 0x01;
	rec_switch(&b);
	x = begin(&b, 12345, 100); /* zero-length unknown */
	end(&b, x);
	end(&b, s);
	s = begin(&b, 0, 2);
	put32(&b, 1);
	put32(&b, 9);
	put32(&b, 2);
	x = begin(&b, 0, 4095); /* unknown counter record */
	put32(&b, 0);
	put32(&b, 0);
	end(&b, x);
	x = begin(&b, 0, 1);
	put_if_counters(&b, 9);
	end(&b, x);
	end(&b, s);

	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(st.n[DEC_SFLOW_SAMPLE_UNSUPPORTED], 1);
	assert_int_equal(smp.kind, SFLOW_SAMPLE_FLOW);
	assert_int_equal(smp.u.flow.present, SFLOW_HAS_SWITCH);
	assert_int_equal(smp.u.flow.rec.unknown, 3);
	assert_int_equal(smp.u.flow.rec.sw.src_vlan, 100);
	assert_int_equal(st.n[DEC_SFLOW_FLOW_RECORD_UNSUPPORTED], 3);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(smp.kind, SFLOW_SAMPLE_COUNTERS);
	assert_int_equal(smp.u.counters.present, SFLOW_HAS_GENERIC_IF);
	assert_int_equal(smp.u.counters.rec.unknown, 1);
	assert_int_equal(smp.u.counters.generic.ifIndex, 9);
	assert_int_equal(st.n[DEC_SFLOW_COUNTER_RECORD_UNSUPPORTED], 1);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);
	assert_int_equal(sflow_reasons_total(&st), 5);
}

/* a reused sample struct carries no record of an earlier sample */
static void test_present_reset(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	size_t s;

	(void)state;
	dgram_v4(&b, 2);
	s = flow_sample_begin(&b, 1);
	rec_switch(&b);
	end(&b, s);
	s = flow_sample_begin(&b, 0);
	end(&b, s);
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(smp.u.flow.present, SFLOW_HAS_SWITCH);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(smp.u.flow.present, 0);
	assert_int_equal(smp.u.flow.record_count, 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);
	assert_int_equal(sflow_reasons_total(&st), 0);
}

/* --- malformations --------------------------------------------------- */

static void test_bad_version_and_agent(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;

	(void)state;
	dgram_v4(&b, 0);
	b.b[3] = 4; /* version 4 */
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), -1);
	assert_int_equal(st.n[DEC_SFLOW_VERSION_UNSUPPORTED], 1);
	/* the iterator of a refused datagram is empty, not garbage */
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);

	dgram_v4(&b, 0);
	b.b[7] = 7; /* agent address type 7 */
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), -1);
	assert_int_equal(st.n[DEC_SFLOW_AGENT_AF_INVALID], 1);

	dgram_v4(&b, 0);
	b.b[7] = 0; /* type 0 (unknown) is no agent either */
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), -1);
	assert_int_equal(st.n[DEC_SFLOW_AGENT_AF_INVALID], 2);
	assert_int_equal(sflow_reasons_total(&st), 3);
}

static void test_truncated_header(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	size_t cut;

	(void)state;
	dgram_v4(&b, 0);
	for (cut = 0; cut < b.n; cut++) {
		memset(&st, 0, sizeof(st));
		assert_int_equal(sflow_datagram_open(&it, b.b, cut, &d, &st),
				 -1);
		assert_int_equal(st.n[DEC_SFLOW_HEADER_TRUNCATED], 1);
		assert_int_equal(sflow_reasons_total(&st), 1);
	}
}

static void test_num_samples_too_large(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;

	(void)state;
	dgram_v4(&b, SFLOW_MAX_SAMPLES_PER_DATAGRAM);
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	dgram_v4(&b, 1000);
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), -1);
	assert_int_equal(st.n[DEC_SFLOW_NUM_SAMPLES_INVALID], 1);
}

static void test_sample_length_past_end(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	size_t s;

	(void)state;
	dgram_v4(&b, 2);
	s = flow_sample_begin(&b, 0);
	end(&b, s);
	b.b[s] = 0x7f; /* 0x7ffffff0 */
	b.b[s + 1] = 0xff;
	b.b[s + 2] = 0xff;
	b.b[s + 3] = 0xf0;
	s = flow_sample_begin(&b, 0); /* never reached */
	end(&b, s);
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), -1);
	assert_int_equal(st.n[DEC_SFLOW_SAMPLE_LENGTH_INVALID], 1);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);
	assert_int_equal(sflow_reasons_total(&st), 1);
}

static void test_samples_missing(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	size_t s;

	(void)state;
	dgram_v4(&b, 3);
	s = flow_sample_begin(&b, 0);
	end(&b, s);
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), -1);
	assert_int_equal(st.n[DEC_SFLOW_SAMPLES_MISSING], 1);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);
	assert_int_equal(sflow_reasons_total(&st), 1);

	/* 4 bytes of a sample header: not even its length word */
	put32(&b, 1);
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), -1);
	assert_int_equal(st.n[DEC_SFLOW_SAMPLE_TRUNCATED], 1);
}

static void test_trailing_bytes(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	size_t s;

	(void)state;
	dgram_v4(&b, 1);
	s = flow_sample_begin(&b, 0);
	end(&b, s);
	put32(&b, 0);
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);
	assert_int_equal(st.n[DEC_SFLOW_TRAILING_BYTES], 1);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);
	assert_int_equal(sflow_reasons_total(&st), 1);
}

/*
 * Broken samples are dropped one by one: each vector below is a bad
 * sample followed by a good one, which must still come out.
 */
static void expect_bad_then_good(enum dec_reason reason)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	size_t s;

	s = flow_sample_begin(&b, 1);
	rec_switch(&b);
	end(&b, s);
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(smp.u.flow.sequence, 1001);
	assert_int_equal(smp.u.flow.present, SFLOW_HAS_SWITCH);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);
	assert_int_equal(st.n[reason], 1);
	assert_int_equal(sflow_reasons_total(&st), 1);
}

static void test_sample_zero_length(void **state)
{
	(void)state;
	dgram_v4(&b, 2);
	put32(&b, 1); /* flow sample, length 0, body missing */
	put32(&b, 0);
	expect_bad_then_good(DEC_SFLOW_SAMPLE_TRUNCATED);
}

static void test_record_count_over_cap(void **state)
{
	size_t s;

	(void)state;
	dgram_v4(&b, 2);
	s = flow_sample_begin(&b, SFLOW_MAX_RECORDS_PER_SAMPLE + 1);
	end(&b, s);
	expect_bad_then_good(DEC_SFLOW_RECORD_COUNT_INVALID);
}

static void test_record_length_past_sample(void **state)
{
	size_t s;

	(void)state;
	dgram_v4(&b, 2);
	s = flow_sample_begin(&b, 1);
	put32(&b, 1001);
	put32(&b, 5000);
	put32(&b, 100);
	end(&b, s);
	expect_bad_then_good(DEC_SFLOW_RECORD_LENGTH_INVALID);
}

static void test_record_missing_in_sample(void **state)
{
	size_t s;

	(void)state;
	dgram_v4(&b, 2);
	s = flow_sample_begin(&b, 2); /* declares 2, holds 1 */
	rec_switch(&b);
	end(&b, s);
	expect_bad_then_good(DEC_SFLOW_SAMPLE_TRUNCATED);
}

static void test_known_record_too_short(void **state)
{
	size_t s, x;

	(void)state;
	dgram_v4(&b, 2);
	s = flow_sample_begin(&b, 1);
	x = begin(&b, 0, 1001); /* switch with 2 of its 4 words */
	put32(&b, 1);
	put32(&b, 2);
	end(&b, x);
	end(&b, s);
	expect_bad_then_good(DEC_SFLOW_RECORD_TRUNCATED);
}

static void test_raw_header_length_past_record(void **state)
{
	size_t s, x;

	(void)state;
	dgram_v4(&b, 2);
	s = flow_sample_begin(&b, 1);
	x = begin(&b, 0, 1);
	put32(&b, 1);
	put32(&b, 1518);
	put32(&b, 4);
	put32(&b, 1000); /* header_length */
	put_bytes(&b, frame, sizeof(frame));
	end(&b, x);
	end(&b, s);
	expect_bad_then_good(DEC_SFLOW_HEADER_LENGTH_INVALID);
}

static void test_string_length_past_record(void **state)
{
	size_t s, x;

	(void)state;
	dgram_v4(&b, 2);
	s = flow_sample_begin(&b, 1);
	x = begin(&b, 0, 1005); /* url */
	put32(&b, 1);
	put32(&b, 0xFFFFFFFFu); /* url length */
	put32(&b, 0);
	end(&b, x);
	end(&b, s);
	expect_bad_then_good(DEC_SFLOW_FIELD_LENGTH_INVALID);
}

static void test_as_path_count_past_record(void **state)
{
	size_t s, x;

	(void)state;
	dgram_v4(&b, 2);
	s = flow_sample_begin(&b, 1);
	x = begin(&b, 0, 1003);
	put32(&b, 1);
	put32(&b, 0x01020304u);
	put32(&b, 1);
	put32(&b, 2);
	put32(&b, 3);
	put32(&b, 1); /* one segment */
	put32(&b, 2);
	put32(&b, 0x40000000u); /* ASNs: far more than the record holds */
	put32(&b, 64500);
	put32(&b, 0);
	put32(&b, 100);
	end(&b, x);
	end(&b, s);
	expect_bad_then_good(DEC_SFLOW_FIELD_LENGTH_INVALID);
}

static void test_address_type_invalid(void **state)
{
	size_t s, x;

	(void)state;
	dgram_v4(&b, 2);
	s = flow_sample_begin(&b, 1);
	x = begin(&b, 0, 1002);
	put32(&b, 9);
	put32(&b, 0);
	put32(&b, 0);
	put32(&b, 0);
	end(&b, x);
	end(&b, s);
	expect_bad_then_good(DEC_SFLOW_ADDRESS_TYPE_INVALID);
}

static void test_counter_record_too_short(void **state)
{
	size_t s, x;

	(void)state;
	dgram_v4(&b, 2);
	s = begin(&b, 0, 2);
	put32(&b, 1);
	put32(&b, 9);
	put32(&b, 1);
	x = begin(&b, 0, 1); /* generic counters cut at 40 of 88 bytes */
	for (int i = 0; i < 10; i++)
		put32(&b, 0);
	end(&b, x);
	end(&b, s);
	expect_bad_then_good(DEC_SFLOW_RECORD_TRUNCATED);
}

static void test_flow_sample_too_short(void **state)
{
	size_t s;

	(void)state;
	dgram_v4(&b, 2);
	s = begin(&b, 0, 3); /* expanded flow sample with 5 words */
	for (int i = 0; i < 5; i++)
		put32(&b, 1);
	end(&b, s);
	expect_bad_then_good(DEC_SFLOW_SAMPLE_TRUNCATED);
}

/* extra bytes inside a known record / sample: tolerated, counted */
static void test_record_trailing_bytes(void **state)
{
	struct sflow_iter it;
	struct sflow_datagram d;
	size_t s, x;

	(void)state;
	dgram_v4(&b, 1);
	s = flow_sample_begin(&b, 1);
	x = begin(&b, 0, 1001);
	put32(&b, 100);
	put32(&b, 5);
	put32(&b, 200);
	put32(&b, 0);
	put32(&b, 0xFFFFFFFFu); /* one word too many */
	end(&b, x);
	put32(&b, 0); /* and one after the last record */
	end(&b, s);
	assert_int_equal(sflow_datagram_open(&it, b.b, b.n, &d, &st), 0);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 1);
	assert_int_equal(smp.u.flow.present, SFLOW_HAS_SWITCH);
	assert_int_equal(smp.u.flow.rec.sw.dst_vlan, 200);
	assert_int_equal(st.n[DEC_SFLOW_RECORD_TRAILING_BYTES], 1);
	assert_int_equal(st.n[DEC_SFLOW_SAMPLE_TRAILING_BYTES], 1);
	assert_int_equal(sflow_next_sample(&it, &smp, &st), 0);
	assert_int_equal(sflow_reasons_total(&st), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_header_v4, setup),
	    cmocka_unit_test_setup(test_header_v6, setup),
	    cmocka_unit_test_setup(test_flow_compact, setup),
	    cmocka_unit_test_setup(test_flow_expanded, setup),
	    cmocka_unit_test_setup(test_flow_compact_discard_format, setup),
	    cmocka_unit_test_setup(test_flow_other_records, setup),
	    cmocka_unit_test_setup(test_gateway_caps, setup),
	    cmocka_unit_test_setup(test_counters_compact, setup),
	    cmocka_unit_test_setup(test_counters_expanded, setup),
	    cmocka_unit_test_setup(test_discard, setup),
	    cmocka_unit_test_setup(test_unknown_skipped, setup),
	    cmocka_unit_test_setup(test_present_reset, setup),
	    cmocka_unit_test_setup(test_bad_version_and_agent, setup),
	    cmocka_unit_test_setup(test_truncated_header, setup),
	    cmocka_unit_test_setup(test_num_samples_too_large, setup),
	    cmocka_unit_test_setup(test_sample_length_past_end, setup),
	    cmocka_unit_test_setup(test_samples_missing, setup),
	    cmocka_unit_test_setup(test_trailing_bytes, setup),
	    cmocka_unit_test_setup(test_sample_zero_length, setup),
	    cmocka_unit_test_setup(test_record_count_over_cap, setup),
	    cmocka_unit_test_setup(test_record_length_past_sample, setup),
	    cmocka_unit_test_setup(test_record_missing_in_sample, setup),
	    cmocka_unit_test_setup(test_known_record_too_short, setup),
	    cmocka_unit_test_setup(test_raw_header_length_past_record, setup),
	    cmocka_unit_test_setup(test_string_length_past_record, setup),
	    cmocka_unit_test_setup(test_as_path_count_past_record, setup),
	    cmocka_unit_test_setup(test_address_type_invalid, setup),
	    cmocka_unit_test_setup(test_counter_record_too_short, setup),
	    cmocka_unit_test_setup(test_flow_sample_too_short, setup),
	    cmocka_unit_test_setup(test_record_trailing_bytes, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
