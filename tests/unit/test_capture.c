/*
 * test_capture.c - collector/replay/capture.c against captures whose content is
 * known independently of peerscope.
 *
 * Truth for the corpus captures comes from tshark 4.0.17 (frame.time_epoch,
 * udp.length, udp.payload, with -E occurrence=f so that headers inside sFlow
 * samples are not counted) and the corpus truth / expect files.  The copies
 * under tests/data/ were made with gzip -9 -n and editcap (see
 * tests/data/README.capture.md).  Synthetic captures are written here, byte
 * by byte, from the header layouts in the RFCs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "replay/capture.h"

#define TS(sec, ns) ((uint64_t)(sec)*1000000000u + (uint64_t)(ns))

/* ------------------------------------------------------------------ paths */

static const char *data_dir(void)
{
	const char *d = getenv("PEERSCOPE_TEST_DATA");

	return d != NULL ? d : "tests/data";
}

static void data_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", data_dir(), name);
}

/* A corpus file, or skip the test with a message if the corpus is absent. */
static int corpus_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/../../../shared/corpus/flows/%s", data_dir(),
		 name);
	if (access(buf, R_OK) != 0) {
		printf("SKIP: shared corpus file %s not found; the corpus "
		       "tests need ../shared/corpus beside the repository\n",
		       buf);
		return -1;
	}
	return 0;
}

/* -------------------------------------------------- reading a whole file */

struct rec {
	struct capture_packet p; /* payload points into data */
	uint8_t data[2048];
};

struct recs {
	size_t n;
	struct rec r[16];
};

static struct capture *open_ok(const char *path)
{
	char err[512];
	struct capture *c = capture_open(path, err, sizeof(err));

	if (c == NULL)
		fail_msg("capture_open(%s): %s", path, err);
	return c;
}

/* Read up to 16 packets (with copies of their payloads) until the end. */
static void read_all(const char *path, struct recs *out, struct dec_stats *st)
{
	struct capture *c = open_ok(path);
	struct capture_packet p;
	int rc;

	memset(out, 0, sizeof(*out));
	while ((rc = capture_next(c, &p, st)) == 1) {
		struct rec *r;

		assert_true(out->n < 16);
		assert_true(p.len <= sizeof(out->r[0].data));
		r = &out->r[out->n++];
		r->p = p;
		if (p.len > 0)
			memcpy(r->data, p.payload, p.len);
		r->p.payload = r->data;
	}
	assert_int_equal(rc, 0);
	capture_close(c);
}

/* ----------------------------------------------------- corpus captures */

/*
 * The exporters' input: 2038 Ethernet frames, untagged and VLAN 100/200,
 * IPv4 and IPv6, with TCP handshakes, DNS, ICMP, ESP and fragments.
 * Truth (flows/README.md and tshark with defragmentation off,
 * -E occurrence=f): UDP 673 packets of which 8 are fragments, TCP 1321,
 * ICMP 20 (3 fragments), ICMPv6 12, ESP 12; 11 fragments in all (8 IPv4,
 * 3 IPv6).  Over the 665 whole UDP datagrams sum(udp.length - 8) = 298335;
 * over the TCP segments sum(tcp.len) = 1013952, 566 empty, 76 SYN, 64 FIN,
 * 4 RST.
 */
static void test_corpus_input_traffic(void **state)
{
	struct dec_stats st = {0};
	struct capture_packet p;
	uint64_t udp = 0, udp_bytes = 0, tcp = 0, tcp_bytes = 0;
	uint64_t empty = 0, syn = 0, fin = 0, rst = 0;
	struct capture *c;
	char path[1024];
	int rc;

	(void)state;
	if (corpus_path(path, sizeof(path), "input/traffic.pcap"))
		skip();
	c = open_ok(path);
	while ((rc = capture_next(c, &p, &st)) == 1) {
		if (p.kind == CAPTURE_UDP) {
			udp++;
			udp_bytes += p.len;
			continue;
		}
		assert_int_equal(p.kind, CAPTURE_TCP);
		tcp++;
		tcp_bytes += p.len;
		empty += p.len == 0;
		syn += (p.tcp_flags & CAPTURE_TCP_SYN) != 0;
		fin += (p.tcp_flags & CAPTURE_TCP_FIN) != 0;
		rst += (p.tcp_flags & CAPTURE_TCP_RST) != 0;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(capture_frames(c), 2038);
	assert_int_equal(udp, 673 - 8);
	assert_int_equal(udp_bytes, 298335);
	assert_int_equal(tcp, 1321);
	assert_int_equal(tcp_bytes, 1013952);
	assert_int_equal(empty, 566);
	assert_int_equal(syn, 76);
	assert_int_equal(fin, 64);
	assert_int_equal(rst, 4);
	assert_int_equal(st.n[DEC_CAPTURE_IP_FRAGMENT], 11);
	assert_int_equal(st.n[DEC_CAPTURE_NOT_UDP], 20 - 3 + 12 + 12);
	assert_int_equal(st.n[DEC_CAPTURE_NOT_IP], 0);
	assert_int_equal(st.n[DEC_CAPTURE_FRAME_TRUNCATED], 0);
	capture_close(c);
}

/* pmacctd sFlow 1:1 live: 524 datagrams to udp 6343 (truth.json "frames"). */
static void test_corpus_sflow_rate1(void **state)
{
	struct dec_stats st = {0};
	struct capture_packet p;
	uint64_t n = 0, bytes = 0, done, total;
	struct capture *c;
	char path[1024];
	int rc;

	(void)state;
	if (corpus_path(path, sizeof(path), "pmacctd-sflow-rate1-live.pcap"))
		skip();
	c = open_ok(path);
	while ((rc = capture_next(c, &p, &st)) == 1) {
		assert_int_equal(p.kind, CAPTURE_UDP);
		assert_int_equal(p.dst_port, 6343);
		assert_int_equal(p.src_port, 45573);
		assert_int_equal(p.src.af, 4);
		assert_memory_equal(p.src.bytes, "\x7f\x00\x00\x01", 4);
		assert_memory_equal(p.dst.bytes, "\x7f\x00\x00\x01", 4);
		if (n == 0) {
			/* tshark: 1795679844.035245000, udp.length 1156 */
			assert_int_equal(p.ts_ns, TS(1795679844, 35245000));
			assert_int_equal(p.len, 1156 - 8);
			/* sFlow version 5, agent address type 1, 127.0.0.1 */
			assert_memory_equal(p.payload,
					    "\x00\x00\x00\x05\x00\x00\x00\x01"
					    "\x7f\x00\x00\x01",
					    12);
		}
		n++;
		bytes += p.len;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 524);
	assert_int_equal(capture_frames(c), 524);
	/* tshark: sum of (udp.length - 8) over the 524 datagrams */
	assert_int_equal(bytes, 633056);
	/* last datagram: 1795679941.095019000, udp.length 248 */
	assert_int_equal(p.ts_ns, TS(1795679941, 95019000));
	assert_int_equal(p.len, 248 - 8);
	assert_true(dec_stats_is_clean(&st));
	capture_progress(c, &done, &total);
	assert_int_equal(total, 663472);
	assert_int_equal(done, total);
	capture_close(c);
}

/* softflowd IPFIX over UDP/IPv6, ::1 -> ::1, 8 frames (tshark). */
static const uint64_t v6_ts_us[8] = {
    1795679540688442, 1795679540688474, 1795679540688480, 1795679540688485,
    1795679540688490, 1795679540688495, 1795679540688500, 1795679540688507,
};
static const uint16_t v6_udp_length[8] = {1288, 1384, 1436, 1292,
					  1380, 1340, 1380, 1020};
/* first 12 and last 4 payload bytes, from tshark's udp.payload */
static const char *const v6_head[8] = {
    "\x00\x0a\x05\x00\x6b\x07\xe5\x34\x00\x00\x00\x10",
    "\x00\x0a\x05\x60\x6b\x07\xe5\x34\x00\x00\x00\x26",
    "\x00\x0a\x05\x94\x6b\x07\xe5\x34\x00\x00\x00\x40",
    "\x00\x0a\x05\x04\x6b\x07\xe5\x34\x00\x00\x00\x56",
    "\x00\x0a\x05\x5c\x6b\x07\xe5\x34\x00\x00\x00\x6c",
    "\x00\x0a\x05\x34\x6b\x07\xe5\x34\x00\x00\x00\x83",
    "\x00\x0a\x05\x5c\x6b\x07\xe5\x34\x00\x00\x00\x9a",
    "\x00\x0a\x03\xf4\x6b\x07\xe5\x34\x00\x00\x00\xac",
};
static const char *const v6_tail[8] = {
    "\x06\x1b\x04\x00", "\x11\x00\x06\x00", "\x11\x00\x06\x00",
    "\x11\x00\x06\x00", "\x06\x1b\x06\x00", "\x06\x00\x00\x00",
    "\x11\x00\x04\x00", "\x04\x00\x00\x00",
};

static const uint8_t loopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
				      0, 0, 0, 0, 0, 0, 0, 1};

/* The IPv6-transport capture, its timestamps shifted by ts_extra_ns. */
static void check_v6_transport(const char *path, uint64_t ts_extra_ns)
{
	struct dec_stats st = {0};
	struct recs rs;

	read_all(path, &rs, &st);
	assert_int_equal(rs.n, 8);
	assert_true(dec_stats_is_clean(&st));
	for (size_t i = 0; i < 8; i++) {
		const struct capture_packet *p = &rs.r[i].p;

		assert_int_equal(p->kind, CAPTURE_UDP);
		assert_int_equal(p->ts_ns, v6_ts_us[i] * 1000 + ts_extra_ns);
		assert_int_equal(p->src.af, 6);
		assert_int_equal(p->dst.af, 6);
		assert_memory_equal(p->src.bytes, loopback6, 16);
		assert_memory_equal(p->dst.bytes, loopback6, 16);
		assert_int_equal(p->src_port, 36128);
		assert_int_equal(p->dst_port, 4739);
		assert_int_equal(p->len, v6_udp_length[i] - 8u);
		assert_memory_equal(p->payload, v6_head[i], 12);
		assert_memory_equal(p->payload + p->len - 4, v6_tail[i], 4);
	}
}

static void test_corpus_ipv6_transport(void **state)
{
	char path[1024];

	(void)state;
	if (corpus_path(path, sizeof(path),
			"softflowd-ipfix-ipv6transport.pcap"))
		skip();
	check_v6_transport(path, 0);
}

/* Progress counts compressed bytes, up to the size of the .gz file. */
static void check_gz_progress(void)
{
	struct dec_stats st = {0};
	struct capture_packet p;
	uint64_t done, total;
	struct capture *c;
	char path[1024];

	data_path(path, sizeof(path), "ipfix-ipv6transport.pcap.gz");
	c = open_ok(path);
	capture_progress(c, &done, &total);
	assert_int_equal(total, 3745); /* ls -l */
	assert_true(done <= total);
	while (capture_next(c, &p, &st) == 1)
		;
	capture_progress(c, &done, &total);
	assert_int_equal(done, total);
	assert_int_equal(capture_frames(c), 8);
	capture_close(c);
}

/* The same capture as gzip, pcapng, nanosecond pcap, gzip'd ns pcapng. */
static void test_copies_identical(void **state)
{
	char path[1024];

	(void)state;
	data_path(path, sizeof(path), "ipfix-ipv6transport.pcap.gz");
	check_v6_transport(path, 0);
	data_path(path, sizeof(path), "ipfix-ipv6transport.pcapng");
	check_v6_transport(path, 0);
	check_gz_progress();
	/* editcap -t 0.000000123: tshark reads 1795679540.688442123 first */
	data_path(path, sizeof(path), "ipfix-ipv6transport-nsec.pcap");
	check_v6_transport(path, 123);
	data_path(path, sizeof(path), "ipfix-ipv6transport-nsec.pcapng.gz");
	check_v6_transport(path, 123);
}

/* malformed/empty-and-tiny: UDP payloads of 0, 1, 2, 4 bytes (expect.json) */
static void test_corpus_empty_and_tiny(void **state)
{
	static const size_t lens[4] = {0, 1, 2, 4};
	static const uint64_t ts[4] = {
	    TS(1717747200, 0),
	    TS(1717747200, 500000000),
	    TS(1717747201, 0),
	    TS(1717747201, 500000000),
	};
	/* payload bytes from tshark -x */
	static const char *const payload[4] = {"", "\x00", "\x00\x0a",
					       "\x00\x0a\x00\x10"};
	struct dec_stats st = {0};
	char path[1024];
	struct recs rs;

	(void)state;
	if (corpus_path(path, sizeof(path), "malformed/empty-and-tiny.pcap"))
		skip();
	read_all(path, &rs, &st);
	assert_int_equal(rs.n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(rs.r[i].p.kind, CAPTURE_UDP);
		assert_int_equal(rs.r[i].p.len, lens[i]);
		assert_int_equal(rs.r[i].p.ts_ns, ts[i]);
		assert_int_equal(rs.r[i].p.src_port, 50123);
		assert_int_equal(rs.r[i].p.dst_port, 4739);
		assert_memory_equal(rs.r[i].p.payload, payload[i], lens[i]);
	}
	assert_true(dec_stats_is_clean(&st));
}

/* --------------------------------------------------- temporary files */

struct tmp {
	char path[64];
	FILE *fp;
};

static void tmp_create(struct tmp *t, const char *suffix)
{
	int fd;

	snprintf(t->path, sizeof(t->path), "/tmp/test_capture_XXXXXX%s",
		 suffix);
	fd = mkstemps(t->path, (int)strlen(suffix));
	assert_true(fd >= 0);
	t->fp = fdopen(fd, "wb");
	assert_non_null(t->fp);
}

static void tmp_write(struct tmp *t, const void *b, size_t n)
{
	assert_int_equal(fwrite(b, 1, n, t->fp), n);
}

static void tmp_finish(struct tmp *t)
{
	assert_int_equal(fclose(t->fp), 0);
	t->fp = NULL;
}

static void le32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

/* Copy a test data file, or its first `limit` bytes, under a new name. */
static void tmp_copy(struct tmp *t, const char *src, size_t limit,
		     const char *suffix)
{
	uint8_t buf[65536];
	FILE *in = fopen(src, "rb");
	size_t n;

	assert_non_null(in);
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	assert_true(n > 0 && n < sizeof(buf));
	tmp_create(t, suffix);
	tmp_write(t, buf, n < limit ? n : limit);
	tmp_finish(t);
}

/* gzip is found by its magic bytes, not by the ".gz" name */
static void test_gzip_by_magic(void **state)
{
	char path[1024];
	struct tmp t;

	(void)state;
	data_path(path, sizeof(path), "ipfix-ipv6transport.pcap.gz");
	tmp_copy(&t, path, SIZE_MAX, ".pcap");
	check_v6_transport(t.path, 0);
	unlink(t.path);
}

/* A gzip file cut short is a read error, not a quiet end. */
static void test_gzip_cut_short(void **state)
{
	struct dec_stats st = {0};
	struct capture_packet p;
	struct capture *c;
	char path[1024];
	struct tmp t;
	int rc, n = 0;

	(void)state;
	data_path(path, sizeof(path), "ipfix-ipv6transport.pcap.gz");
	tmp_copy(&t, path, 2000, ".gz");
	c = open_ok(t.path);
	while ((rc = capture_next(c, &p, &st)) == 1)
		n++;
	assert_int_equal(rc, -1);
	assert_true(n < 8);
	assert_non_null(strstr(capture_error(c), "gzip"));
	capture_close(c);
	unlink(t.path);
}

static void test_open_errors(void **state)
{
	char err[512];
	struct tmp t;

	(void)state;
	assert_null(capture_open("/nonexistent/x.pcap", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/x.pcap"));

	tmp_create(&t, ".pcap");
	tmp_write(&t, "this is not a capture file\n", 27);
	tmp_finish(&t);
	err[0] = '\0';
	assert_null(capture_open(t.path, err, sizeof(err)));
	assert_true(strlen(err) > strlen(t.path));
	unlink(t.path);

	capture_close(NULL);
}

/* --------------------------------------------------- synthetic captures */

#define LINKTYPE_NULL	    0
#define LINKTYPE_ETHERNET   1
#define LINKTYPE_RAW	    101
#define LINKTYPE_LOOP	    108
#define LINKTYPE_LINUX_SLL  113
#define LINKTYPE_IEEE802_11 105
#define LINKTYPE_IPV4	    228
#define LINKTYPE_IPV6	    229
#define LINKTYPE_LINUX_SLL2 276

#define PCAP_MAGIC_US 0xa1b2c3d4
#define PCAP_MAGIC_NS 0xa1b23c4d

/* A pcap file (little endian) written frame by frame. */
static void synth_begin(struct tmp *t, uint32_t magic, uint32_t linktype,
			uint32_t snaplen)
{
	uint8_t h[24] = {0};

	le32(h, magic);
	h[4] = 2; /* version 2.4 */
	h[6] = 4;
	le32(h + 16, snaplen);
	le32(h + 20, linktype);
	tmp_create(t, ".pcap");
	tmp_write(t, h, sizeof(h));
}

static void synth_frame(struct tmp *t, uint32_t sec, uint32_t frac,
			const uint8_t *b, uint32_t caplen, uint32_t len)
{
	uint8_t h[16];

	le32(h, sec);
	le32(h + 4, frac);
	le32(h + 8, caplen);
	le32(h + 12, len);
	tmp_write(t, h, sizeof(h));
	tmp_write(t, b, caplen);
}

/* Close the file and open it as a capture; the name is gone already. */
static struct capture *synth_end(struct tmp *t)
{
	struct capture *c;

	tmp_finish(t);
	c = open_ok(t->path);
	unlink(t->path);
	return c;
}

/* A frame under construction, big endian like the wire. */
struct bb {
	uint8_t b[2048];
	size_t n;
};

static void bb_u8(struct bb *f, uint8_t v)
{
	f->b[f->n++] = v;
}

static void bb_u16(struct bb *f, uint16_t v)
{
	bb_u8(f, (uint8_t)(v >> 8));
	bb_u8(f, (uint8_t)v);
}

static void bb_u32(struct bb *f, uint32_t v)
{
	bb_u16(f, (uint16_t)(v >> 16));
	bb_u16(f, (uint16_t)v);
}

static void bb_bytes(struct bb *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void bb_eth(struct bb *f, uint16_t type)
{
	bb_bytes(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	bb_u16(f, type);
}

/* IPv4 header 192.0.2.1 -> 198.51.100.2, total length ip_len. */
static void bb_ipv4(struct bb *f, uint8_t proto, uint16_t ip_len, uint16_t frag)
{
	bb_u8(f, 0x45);
	bb_u8(f, 0);
	bb_u16(f, ip_len);
	bb_u16(f, 0x1234); /* identification */
	bb_u16(f, frag);
	bb_u8(f, 64);
	bb_u8(f, proto);
	bb_u16(f, 0); /* checksum, not checked */
	bb_bytes(f, "\xc0\x00\x02\x01\xc6\x33\x64\x02", 8);
}

/* IPv6 header 2001:db8::1 -> 2001:db8::2. */
static void bb_ipv6(struct bb *f, uint8_t next, uint16_t payload_len)
{
	bb_u32(f, 0x60000000);
	bb_u16(f, payload_len);
	bb_u8(f, next);
	bb_u8(f, 64);
	bb_bytes(f, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	bb_bytes(f, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
}

static void bb_udp(struct bb *f, uint16_t udp_len, const char *payload,
		   size_t n)
{
	bb_u16(f, 40000);
	bb_u16(f, 6343);
	bb_u16(f, udp_len);
	bb_u16(f, 0);
	bb_bytes(f, payload, n);
}

/* Ethernet/IPv4/UDP with payload "hello" unless told otherwise. */
static void bb_eth_ipv4_udp(struct bb *f, uint16_t frag)
{
	bb_eth(f, 0x0800);
	bb_ipv4(f, 17, 20 + 8 + 5, frag);
	bb_udp(f, 8 + 5, "hello", 5);
}

/* The next packet is UDP 192.0.2.1:40000 -> 198.51.100.2:6343 "hello". */
static void expect_hello_v4(struct capture *c, struct dec_stats *st)
{
	struct capture_packet p;

	assert_int_equal(capture_next(c, &p, st), 1);
	assert_int_equal(p.kind, CAPTURE_UDP);
	assert_int_equal(p.src.af, 4);
	assert_memory_equal(p.src.bytes, "\xc0\x00\x02\x01", 4);
	assert_memory_equal(p.dst.bytes, "\xc6\x33\x64\x02", 4);
	assert_int_equal(p.src_port, 40000);
	assert_int_equal(p.dst_port, 6343);
	assert_int_equal(p.len, 5);
	assert_memory_equal(p.payload, "hello", 5);
}

static void expect_hello_v6(struct capture *c, struct dec_stats *st)
{
	struct capture_packet p;

	assert_int_equal(capture_next(c, &p, st), 1);
	assert_int_equal(p.kind, CAPTURE_UDP);
	assert_int_equal(p.src.af, 6);
	assert_memory_equal(p.src.bytes,
			    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	assert_memory_equal(p.dst.bytes,
			    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	assert_int_equal(p.dst_port, 6343);
	assert_int_equal(p.len, 5);
	assert_memory_equal(p.payload, "hello", 5);
}

static void expect_end(struct capture *c, struct dec_stats *st)
{
	struct capture_packet p;

	assert_int_equal(capture_next(c, &p, st), 0);
	assert_string_equal(capture_error(c), "");
}

/* One frame per link type, each carrying UDP "hello" over IPv4 or IPv6. */
static void test_linktypes(void **state)
{
	struct dec_stats st = {0};
	struct capture *c;
	struct tmp t;
	struct bb f;
	uint8_t af[4];

	(void)state;
	/* Linux cooked v1: outgoing, ARPHRD_ETHER, 6-byte address */
	synth_begin(&t, PCAP_MAGIC_US, LINKTYPE_LINUX_SLL, 65535);
	f.n = 0;
	bb_u16(&f, 4);
	bb_u16(&f, 1);
	bb_u16(&f, 6);
	bb_bytes(&f, "\x02\x00\x00\x00\x00\x01\x00\x00", 8);
	bb_u16(&f, 0x0800);
	bb_ipv4(&f, 17, 33, 0);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	c = synth_end(&t);
	expect_hello_v4(c, &st);
	expect_end(c, &st);
	capture_close(c);

	/* Linux cooked v2, IPv6 */
	synth_begin(&t, PCAP_MAGIC_US, LINKTYPE_LINUX_SLL2, 65535);
	f.n = 0;
	bb_u16(&f, 0x86dd);
	bb_u16(&f, 0);
	bb_u32(&f, 7);
	bb_u16(&f, 1);
	bb_u8(&f, 0);
	bb_u8(&f, 6);
	bb_bytes(&f, "\x02\x00\x00\x00\x00\x01\x00\x00", 8);
	bb_ipv6(&f, 17, 13);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	c = synth_end(&t);
	expect_hello_v6(c, &st);
	expect_end(c, &st);
	capture_close(c);

	/* raw IP: one IPv4 and one IPv6 frame */
	synth_begin(&t, PCAP_MAGIC_US, LINKTYPE_RAW, 65535);
	f.n = 0;
	bb_ipv4(&f, 17, 33, 0);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	f.n = 0;
	bb_ipv6(&f, 17, 13);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	c = synth_end(&t);
	expect_hello_v4(c, &st);
	expect_hello_v6(c, &st);
	expect_end(c, &st);
	capture_close(c);

	/* LINKTYPE_IPV4 and LINKTYPE_IPV6 */
	synth_begin(&t, PCAP_MAGIC_US, LINKTYPE_IPV4, 65535);
	f.n = 0;
	bb_ipv4(&f, 17, 33, 0);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	c = synth_end(&t);
	expect_hello_v4(c, &st);
	expect_end(c, &st);
	capture_close(c);
	synth_begin(&t, PCAP_MAGIC_US, LINKTYPE_IPV6, 65535);
	f.n = 0;
	bb_ipv6(&f, 17, 13);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	c = synth_end(&t);
	expect_hello_v6(c, &st);
	expect_end(c, &st);
	capture_close(c);

	/*
	 * BSD loopback: AF_INET little endian (a DLT_NULL capture written on
	 * x86), AF_INET6 as 24, 28 and 30 in either byte order, and one
	 * unknown family (AF_UNIX 1) which is not IP.
	 */
	synth_begin(&t, PCAP_MAGIC_US, LINKTYPE_NULL, 65535);
	f.n = 0;
	le32(af, 2);
	bb_bytes(&f, af, 4);
	bb_ipv4(&f, 17, 33, 0);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	static const uint32_t inet6[3] = {24, 28, 30};
	for (int i = 0; i < 3; i++) {
		f.n = 0;
		if (i == 1) {
			bb_u32(&f, inet6[i]);
		} else {
			le32(af, inet6[i]);
			bb_bytes(&f, af, 4);
		}
		bb_ipv6(&f, 17, 13);
		bb_udp(&f, 13, "hello", 5);
		synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	}
	f.n = 0;
	bb_u32(&f, 1);
	bb_ipv4(&f, 17, 33, 0);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	c = synth_end(&t);
	expect_hello_v4(c, &st);
	expect_hello_v6(c, &st);
	expect_hello_v6(c, &st);
	expect_hello_v6(c, &st);
	expect_end(c, &st);
	assert_int_equal(st.n[DEC_CAPTURE_NOT_IP], 1);
	assert_int_equal(capture_frames(c), 5);
	capture_close(c);

	/* OpenBSD loopback: family in network byte order */
	synth_begin(&t, PCAP_MAGIC_US, LINKTYPE_LOOP, 65535);
	f.n = 0;
	bb_u32(&f, 2);
	bb_ipv4(&f, 17, 33, 0);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	c = synth_end(&t);
	expect_hello_v4(c, &st);
	expect_end(c, &st);
	capture_close(c);
}

/* 802.11 frames are not ours: refused at open with a message. */
static void test_linktype_unsupported(void **state)
{
	char err[512];
	struct tmp t;

	(void)state;
	synth_begin(&t, PCAP_MAGIC_US, LINKTYPE_IEEE802_11, 65535);
	tmp_finish(&t);
	assert_null(capture_open(t.path, err, sizeof(err)));
	assert_non_null(strstr(err, "not supported"));
	unlink(t.path);
}

static void test_vlan(void **state)
{
	struct dec_stats st = {0};
	struct capture *c;
	struct tmp t;
	struct bb f;

	(void)state;
	synth_begin(&t, PCAP_MAGIC_US, LINKTYPE_ETHERNET, 65535);
	/* 802.1Q VLAN 100, PCP 5 */
	f.n = 0;
	bb_eth(&f, 0x8100);
	bb_u16(&f, 0xa064);
	bb_u16(&f, 0x0800);
	bb_ipv4(&f, 17, 33, 0);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* QinQ: 802.1ad S-tag 10, then C-tag 200, IPv6 inside */
	f.n = 0;
	bb_eth(&f, 0x88a8);
	bb_u16(&f, 10);
	bb_u16(&f, 0x8100);
	bb_u16(&f, 200);
	bb_u16(&f, 0x86dd);
	bb_ipv6(&f, 17, 13);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* five tags: deeper than PKT_MAX_VLANS (4) */
	f.n = 0;
	bb_eth(&f, 0x8100);
	for (int i = 0; i < 5; i++) {
		bb_u16(&f, (uint16_t)(i + 1));
		bb_u16(&f, i < 4 ? 0x8100 : 0x0800);
	}
	bb_ipv4(&f, 17, 33, 0);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	c = synth_end(&t);
	expect_hello_v4(c, &st);
	expect_hello_v6(c, &st);
	expect_end(c, &st);
	assert_int_equal(st.n[DEC_CAPTURE_VLAN_TOO_DEEP], 1);
	capture_close(c);
}

/* Fragments, non-IP and non-UDP frames are counted and skipped. */
static void test_skipped_frames(void **state)
{
	struct dec_stats st = {0};
	struct capture *c;
	struct tmp t;
	struct bb f;

	(void)state;
	synth_begin(&t, PCAP_MAGIC_US, LINKTYPE_ETHERNET, 65535);
	/* IPv4 first fragment (MF), then a non-first one (offset 185) */
	f.n = 0;
	bb_eth_ipv4_udp(&f, 0x2000);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	f.n = 0;
	bb_eth_ipv4_udp(&f, 185);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* DF set, not a fragment */
	f.n = 0;
	bb_eth_ipv4_udp(&f, 0x4000);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* IPv6 fragment header, offset 0, M set */
	f.n = 0;
	bb_eth(&f, 0x86dd);
	bb_ipv6(&f, 44, 8 + 13);
	bb_u8(&f, 17);
	bb_u8(&f, 0);
	bb_u16(&f, 0x0001);
	bb_u32(&f, 0xabcd);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* IPv6 hop-by-hop (8 bytes) and destination options (16 bytes) */
	f.n = 0;
	bb_eth(&f, 0x86dd);
	bb_ipv6(&f, 0, 8 + 16 + 13);
	bb_u8(&f, 60);
	bb_u8(&f, 0);
	bb_bytes(&f, "\x01\x04\0\0\0\0", 6); /* PadN */
	bb_u8(&f, 17);
	bb_u8(&f, 1);
	bb_bytes(&f, "\x01\x0c\0\0\0\0\0\0\0\0\0\0\0\0", 14);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* ARP request */
	f.n = 0;
	bb_eth(&f, 0x0806);
	bb_bytes(&f, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	bb_bytes(&f, "\x02\0\0\0\0\x01\xc0\0\x02\x01\0\0\0\0\0\0\xc0\0\x02\x02",
		 20);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* ICMP echo request */
	f.n = 0;
	bb_eth(&f, 0x0800);
	bb_ipv4(&f, 1, 28, 0);
	bb_bytes(&f, "\x08\x00\xf7\xff\x00\x00\x00\x00", 8);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	c = synth_end(&t);
	expect_hello_v4(c, &st); /* the DF frame */
	expect_hello_v6(c, &st); /* through the extension headers */
	expect_end(c, &st);
	assert_int_equal(st.n[DEC_CAPTURE_IP_FRAGMENT], 3);
	assert_int_equal(st.n[DEC_CAPTURE_NOT_IP], 1);
	assert_int_equal(st.n[DEC_CAPTURE_NOT_UDP], 1);
	assert_int_equal(capture_frames(c), 7);
	capture_close(c);
}

/* Lengths: the UDP length decides; snaplen cuts; lies are invalid. */
static void test_lengths(void **state)
{
	struct dec_stats st = {0};
	struct capture_packet p;
	struct capture *c;
	struct tmp t;
	struct bb f;

	(void)state;
	synth_begin(&t, PCAP_MAGIC_US, LINKTYPE_ETHERNET, 65535);
	/* 1: cut by the snap length: 40 of 47 bytes captured */
	f.n = 0;
	bb_eth_ipv4_udp(&f, 0);
	synth_frame(&t, 1, 0, f.b, 40, (uint32_t)f.n);
	/* 2: UDP length 100 in a whole frame holding 5 payload bytes */
	f.n = 0;
	bb_eth(&f, 0x0800);
	bb_ipv4(&f, 17, 33, 0);
	bb_udp(&f, 100, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* 3: IP total length 200 in a whole 47-byte frame */
	f.n = 0;
	bb_eth(&f, 0x0800);
	bb_ipv4(&f, 17, 200, 0);
	bb_udp(&f, 13, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* 4: UDP length 10 < IP payload, plus Ethernet padding: 2 bytes */
	f.n = 0;
	bb_eth(&f, 0x0800);
	bb_ipv4(&f, 17, 33, 0);
	bb_udp(&f, 10, "hello", 5);
	bb_bytes(&f, "\0\0\0\0\0\0\0\0\0\0\0\0\0", 13);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* 5: UDP length 7, shorter than its own header */
	f.n = 0;
	bb_eth(&f, 0x0800);
	bb_ipv4(&f, 17, 33, 0);
	bb_udp(&f, 7, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* 6: IHL 4 */
	f.n = 0;
	bb_eth_ipv4_udp(&f, 0);
	f.b[14] = 0x44;
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* 7: Ethernet header cut after 10 bytes */
	f.n = 0;
	bb_eth_ipv4_udp(&f, 0);
	synth_frame(&t, 1, 0, f.b, 10, 10);
	/* 8: a frame cut after the payload (padding lost): still whole */
	f.n = 0;
	bb_eth_ipv4_udp(&f, 0);
	bb_bytes(&f, "\0\0\0\0\0\0\0\0\0\0\0\0\0", 13);
	synth_frame(&t, 1, 0, f.b, 47, 60);
	c = synth_end(&t);
	assert_int_equal(capture_next(c, &p, &st), 1); /* frame 4 */
	assert_int_equal(p.len, 2);
	assert_memory_equal(p.payload, "he", 2);
	expect_hello_v4(c, &st); /* frame 8 */
	expect_end(c, &st);
	assert_int_equal(st.n[DEC_CAPTURE_FRAME_TRUNCATED], 2);
	assert_int_equal(st.n[DEC_CAPTURE_UDP_INVALID], 2);
	assert_int_equal(st.n[DEC_CAPTURE_IP_INVALID], 2);
	assert_int_equal(capture_frames(c), 8);
	capture_close(c);
}

/* TCP segments come out with flags, even without payload. */
static void test_tcp(void **state)
{
	struct dec_stats st = {0};
	struct capture_packet p;
	struct capture *c;
	struct tmp t;
	struct bb f;

	(void)state;
	synth_begin(&t, PCAP_MAGIC_US, LINKTYPE_ETHERNET, 65535);
	/* SYN with 4 bytes of options (MSS), no payload */
	f.n = 0;
	bb_eth(&f, 0x0800);
	bb_ipv4(&f, 6, 20 + 24, 0);
	bb_u16(&f, 50000);
	bb_u16(&f, 11019);
	bb_u32(&f, 0x01020304);
	bb_u32(&f, 0);
	bb_u16(&f, 0x6002); /* offset 6, SYN */
	bb_u16(&f, 65535);
	bb_u32(&f, 0);
	bb_bytes(&f, "\x02\x04\x05\xb4", 4);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* PSH|ACK with 5 bytes of payload over IPv6 */
	f.n = 0;
	bb_eth(&f, 0x86dd);
	bb_ipv6(&f, 6, 20 + 5);
	bb_u16(&f, 11019);
	bb_u16(&f, 50000);
	bb_u32(&f, 0xfffffff0);
	bb_u32(&f, 0x01020305);
	bb_u16(&f, 0x5018);
	bb_u16(&f, 512);
	bb_u32(&f, 0);
	bb_bytes(&f, "hello", 5);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	/* data offset 4 (< 5): invalid */
	f.n = 0;
	bb_eth(&f, 0x0800);
	bb_ipv4(&f, 6, 40, 0);
	bb_bytes(&f, "\xc3\x50\x2b\x0b\0\0\0\0\0\0\0\0\x40\x02\0\0\0\0\0\0",
		 20);
	synth_frame(&t, 1, 0, f.b, (uint32_t)f.n, (uint32_t)f.n);
	c = synth_end(&t);
	assert_int_equal(capture_next(c, &p, &st), 1);
	assert_int_equal(p.kind, CAPTURE_TCP);
	assert_int_equal(p.src_port, 50000);
	assert_int_equal(p.dst_port, 11019);
	assert_int_equal(p.tcp_seq, 0x01020304);
	assert_int_equal(p.tcp_flags, CAPTURE_TCP_SYN);
	assert_int_equal(p.len, 0);
	assert_int_equal(capture_next(c, &p, &st), 1);
	assert_int_equal(p.kind, CAPTURE_TCP);
	assert_int_equal(p.src.af, 6);
	assert_int_equal(p.tcp_seq, 0xfffffff0);
	assert_int_equal(p.tcp_flags, CAPTURE_TCP_PSH | CAPTURE_TCP_ACK);
	assert_int_equal(p.len, 5);
	assert_memory_equal(p.payload, "hello", 5);
	expect_end(c, &st);
	assert_int_equal(st.n[DEC_CAPTURE_TCP_INVALID], 1);
	capture_close(c);
}

/* Nanosecond pcap and microsecond pcap timestamps, exact. */
static void test_timestamps(void **state)
{
	struct dec_stats st = {0};
	struct capture_packet p;
	struct capture *c;
	struct tmp t;
	struct bb f;

	(void)state;
	f.n = 0;
	bb_eth_ipv4_udp(&f, 0);
	synth_begin(&t, PCAP_MAGIC_NS, LINKTYPE_ETHERNET, 65535);
	synth_frame(&t, 1700000000, 999999999, f.b, (uint32_t)f.n,
		    (uint32_t)f.n);
	c = synth_end(&t);
	assert_int_equal(capture_next(c, &p, &st), 1);
	assert_int_equal(p.ts_ns, TS(1700000000, 999999999));
	capture_close(c);

	synth_begin(&t, PCAP_MAGIC_US, LINKTYPE_ETHERNET, 65535);
	synth_frame(&t, 4000000000u, 123456, f.b, (uint32_t)f.n, (uint32_t)f.n);
	c = synth_end(&t);
	assert_int_equal(capture_next(c, &p, &st), 1);
	assert_int_equal(p.ts_ns, TS(4000000000u, 123456000));
	capture_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_corpus_sflow_rate1),
	    cmocka_unit_test(test_corpus_ipv6_transport),
	    cmocka_unit_test(test_corpus_empty_and_tiny),
	    cmocka_unit_test(test_corpus_input_traffic),
	    cmocka_unit_test(test_copies_identical),
	    cmocka_unit_test(test_gzip_by_magic),
	    cmocka_unit_test(test_gzip_cut_short),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_linktypes),
	    cmocka_unit_test(test_linktype_unsupported),
	    cmocka_unit_test(test_vlan),
	    cmocka_unit_test(test_skipped_frames),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_tcp),
	    cmocka_unit_test(test_timestamps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
