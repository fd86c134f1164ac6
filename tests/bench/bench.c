/*
 * bench.c - peerscope-bench: what one sFlow sample costs us.
 *
 *   peerscope-bench offline  [options] CAPTURE|--synthetic
 *       every datagram in memory, one worker on one pinned CPU, the
 *       production worker_process() in a loop; closed windows drained and
 *       freed inline (their cost counts).  Reports datagrams/s, samples/s,
 *       ns and CPU ns per sample, peak RSS; the median over --repeat runs.
 *
 *   peerscope-bench loopback [options] CAPTURE|--synthetic
 *       the real daemon as a child on 127.0.0.1:PORT, fed with sendmmsg at
 *       a paced rate (or --max); reports sent, received, kernel and
 *       application drops, and the child's CPU time per received sample.
 *       --no-child only sends (to measure another collector, see
 *       compare_sfacctd.sh).
 *
 * Replaying the same datagrams over and over would look to the collector
 * like an exporter restarting every pass; so between passes the sequence
 * numbers, sample pools and uptimes are rewritten (outside the timed
 * region offline) to continue where the previous pass ended, and the
 * synthetic clock moves on by the span of the set, so windows close as
 * they would in production.
 *
 * Traffic goes to 127.0.0.1 only; every loop is bounded in count and time;
 * the only process signalled is the child this program forked, by PID.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "replay/capture.h"
#include "base/config.h"
#include "conn/registry.h"
#include "peerscope/cursor.h"
#include "peerscope/limits.h"
#include "peerscope/sflow.h"
#include "xthread/ring.h"
#include "rx/worker.h"

#define BENCH_MAX_REPEAT 101
#define BENCH_MAX_SECONDS 3600.0
#define BENCH_MAX_SOCKS 16        /* sender sockets (source ports) */
#define BENCH_SEND_BATCH 64       /* datagrams per sendmmsg */
#define BENCH_MAX_SOURCES 64      /* distinct capture sources tracked */
#define BENCH_CHILD_READY_MS 5000 /* wait this long for "collecting" */
#define BENCH_CHILD_EXIT_MS 15000 /* SIGTERM, then SIGKILL after this */
#define BENCH_SYNTH_MAX 1000000   /* synthetic datagrams at most */

/* Synthetic exporter shape: see synth_build(). */
#define SYN_AGENTS 16
#define SYN_IFACES 64
#define SYN_HEADER_BYTES 128
#define SYN_SAMPLING_RATE 4096

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ULL),
			       .tv_nsec = (long)(ns % 1000000000ULL) };

	nanosleep(&ts, NULL);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long peak_rss_kib(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru) == -1)
		return -1;
	return ru.ru_maxrss;
}

/* xorshift64*: deterministic synthetic data from a fixed seed. */
struct rng {
	uint64_t s;
};

static uint32_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 2685821657736338717ULL) >> 32);
}

/* ------------------------------------------------------------------ */
/* the datagram set                                                    */

/*
 * A field rewritten before each pass: value = orig + pass * step (mod
 * 2^32).  Sequence numbers, sample pools and uptimes.
 */
enum patch_kind { PATCH_DG_SEQ, PATCH_UPTIME, PATCH_SAMPLE_SEQ, PATCH_POOL };

struct bench_patch {
	uint64_t stream;    /* sequence space: agent, sub-agent, source */
	uint32_t off;       /* into set->buf */
	uint32_t orig;
	uint32_t step;
	uint32_t rate;      /* PATCH_POOL: the sample's sampling rate */
	enum patch_kind kind;
};

struct bench_dgram {
	size_t off;          /* into set->buf */
	uint32_t len;
	uint64_t rel_ns;     /* after the set's first datagram */
	struct ps_addr src;
	uint16_t src_port;
	uint16_t sock;       /* loopback: sender socket */
};

struct bench_set {
	const char *name;
	uint8_t *buf;
	size_t used, cap;
	struct bench_dgram *d;
	size_t n, dcap;
	struct bench_patch *patch;
	size_t npatch, pcap;
	uint64_t first_ts_ns;
	uint64_t period_ns;  /* synthetic time one pass stands for */
	unsigned nsock;
	/* per pass, from the verification decode */
	uint64_t bytes;
	uint64_t samples, flow_samples, counter_samples, discard_samples;
	uint64_t flow_with_header;
	struct dec_stats errors;
};

static void set_free(struct bench_set *s)
{
	free(s->buf);
	free(s->d);
	free(s->patch);
	memset(s, 0, sizeof(*s));
}

/* Room for `len` more bytes in the buffer; 0 or -1. */
static int set_reserve(struct bench_set *s, size_t len)
{
	size_t cap = s->cap ? s->cap : 1 << 20;
	uint8_t *nb;

	if (s->used + len <= s->cap)
		return 0;
	while (cap < s->used + len)
		cap *= 2;
	nb = realloc(s->buf, cap);
	if (nb == NULL)
		return -1;
	s->buf = nb;
	s->cap = cap;
	return 0;
}

static struct bench_dgram *set_add_dgram(struct bench_set *s)
{
	if (s->n == s->dcap) {
		size_t cap = s->dcap ? s->dcap * 2 : 1024;
		struct bench_dgram *nd = realloc(s->d, cap * sizeof(*nd));

		if (nd == NULL)
			return NULL;
		s->d = nd;
		s->dcap = cap;
	}
	memset(&s->d[s->n], 0, sizeof(s->d[0]));
	return &s->d[s->n++];
}

static int set_add_patch(struct bench_set *s, enum patch_kind kind,
			 uint64_t stream, size_t off, uint32_t orig,
			 uint32_t rate)
{
	if (s->npatch == s->pcap) {
		size_t cap = s->pcap ? s->pcap * 2 : 4096;
		struct bench_patch *np = realloc(s->patch, cap * sizeof(*np));

		if (np == NULL)
			return -1;
		s->patch = np;
		s->pcap = cap;
	}
	s->patch[s->npatch++] = (struct bench_patch){
		.stream = stream, .off = (uint32_t)off, .orig = orig,
		.kind = kind, .rate = rate
	};
	return 0;
}

/*
 * Find the fields to rewrite in one sFlow datagram.  Walks the wire
 * layout with a cursor; anything it does not understand is left alone
 * (the collector will count it, which is part of what we measure).
 * Offsets are positions in the datagram, computed from remaining lengths.
 */
static int set_index_dgram(struct bench_set *s, const struct bench_dgram *d)
{
	struct cur c;
	uint32_t version, af, sub, seq, uptime, nsamples;
	size_t base = d->off;
	uint64_t agent = 1469598103934665603ULL; /* FNV-1a of agent bytes */
	const uint8_t *ab;

	cur_init(&c, s->buf + d->off, d->len);
#define POS(cc) (base + (d->len - cur_left(cc)))
	if (cur_u32(&c, &version) == -1 || version != 5 ||
	    cur_u32(&c, &af) == -1 || (af != 1 && af != 2) ||
	    cur_ptr(&c, af == 1 ? 4 : 16, &ab) == -1 ||
	    cur_u32(&c, &sub) == -1)
		return 0;
	for (unsigned k = 0; k < (af == 1 ? 4u : 16u); k++)
		agent = (agent ^ ab[k]) * 1099511628211ULL;
	agent = (agent ^ sub) * 1099511628211ULL;
	if (cur_left(&c) < 8)
		return 0;
	if (set_add_patch(s, PATCH_DG_SEQ, agent, POS(&c), 0, 0) == -1)
		return -1;
	if (cur_u32(&c, &seq) == -1)
		return 0;
	s->patch[s->npatch - 1].orig = seq;
	if (set_add_patch(s, PATCH_UPTIME, agent, POS(&c), 0, 0) == -1)
		return -1;
	if (cur_u32(&c, &uptime) == -1)
		return 0;
	s->patch[s->npatch - 1].orig = uptime;
	if (cur_u32(&c, &nsamples) == -1)
		return 0;
	for (uint32_t i = 0; i < nsamples && i < SFLOW_MAX_SAMPLES_PER_DATAGRAM;
	     i++) {
		struct cur smp;
		uint32_t tag, len, v[5];
		uint64_t src;
		size_t start;
		unsigned nv;

		if (cur_u32(&c, &tag) == -1 || cur_u32(&c, &len) == -1)
			return 0;
		start = POS(&c);
		if (cur_sub(&c, len, &smp) == -1)
			return 0;
		if (tag >> 12 != 0)
			continue;
		/* expanded forms carry source type and index apart */
		nv = (tag & 0xFFF) == 3 || (tag & 0xFFF) == 4 ? 5 : 4;
		for (unsigned k = 0; k < nv; k++)
			if (cur_u32(&smp, &v[k]) == -1)
				goto next;
		/* flow and counter samples of one source number apart */
		src = (agent ^ ((uint64_t)(tag & 0xFFF) % 2 << 63)) * 31 +
		      (nv == 5 ? (uint64_t)v[1] << 32 | v[2] : v[1]);
		switch (tag & 0xFFF) {
		case 1: /* seq, source_id, rate, pool */
			if (set_add_patch(s, PATCH_SAMPLE_SEQ, src, start,
					  v[0], 0) == -1 ||
			    set_add_patch(s, PATCH_POOL, src, start + 12, v[3],
					  v[2]) == -1)
				return -1;
			break;
		case 3: /* seq, type, index, rate, pool */
			if (set_add_patch(s, PATCH_SAMPLE_SEQ, src, start,
					  v[0], 0) == -1 ||
			    set_add_patch(s, PATCH_POOL, src, start + 16, v[4],
					  v[3]) == -1)
				return -1;
			break;
		case 2:
		case 4:
		case 5:
			if (set_add_patch(s, PATCH_SAMPLE_SEQ, src, start,
					  v[0], 0) == -1)
				return -1;
			break;
		default:
			break;
		}
next:;
	}
#undef POS
	return 0;
}

/* Order patches by (kind, stream) to find each sequence space's range. */
static int cmp_patch_stream(const void *a, const void *b)
{
	const struct bench_patch *x = *(const struct bench_patch *const *)a;
	const struct bench_patch *y = *(const struct bench_patch *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->stream < y->stream ? -1 : x->stream > y->stream;
}

/*
 * Steps per pass: each sequence space (an agent's datagrams, one source's
 * samples) moves on by its own range in the set, so pass p+1 continues
 * pass p without a gap; its sample pool moves on by range * rate, and
 * uptimes by the span of the set.
 */
static int set_index(struct bench_set *s)
{
	struct bench_patch **order;
	size_t i, j;

	s->npatch = 0;
	for (i = 0; i < s->n; i++)
		if (set_index_dgram(s, &s->d[i]) == -1)
			return -1;
	order = malloc((s->npatch ? s->npatch : 1) * sizeof(*order));
	if (order == NULL)
		return -1;
	for (i = 0; i < s->npatch; i++)
		order[i] = &s->patch[i];
	qsort(order, s->npatch, sizeof(*order), cmp_patch_stream);
	for (i = 0; i < s->npatch; i = j) {
		uint32_t lo = order[i]->orig, hi = order[i]->orig, range;

		for (j = i; j < s->npatch && order[j]->kind == order[i]->kind &&
			    order[j]->stream == order[i]->stream;
		     j++) {
			if (order[j]->orig < lo)
				lo = order[j]->orig;
			if (order[j]->orig > hi)
				hi = order[j]->orig;
		}
		range = hi - lo + 1;
		for (size_t k = i; k < j; k++) {
			struct bench_patch *p = order[k];

			if (p->kind == PATCH_UPTIME)
				p->step = (uint32_t)(s->period_ns / 1000000ULL);
			else if (p->kind != PATCH_POOL)
				p->step = range;
		}
	}
	/* A pool follows its sample's sequence: the patch just before it. */
	for (i = 1; i < s->npatch; i++)
		if (s->patch[i].kind == PATCH_POOL)
			s->patch[i].step = s->patch[i - 1].step *
					   (s->patch[i].rate ? s->patch[i].rate
							     : 1);
	free(order);
	return 0;
}

/* Rewrite the set for pass `pass` (0 = as loaded). */
static void set_patch(struct bench_set *s, uint32_t pass)
{
	for (size_t i = 0; i < s->npatch; i++) {
		const struct bench_patch *p = &s->patch[i];

		put_be32(s->buf + p->off, p->orig + pass * p->step);
	}
}

/* ------------------------------------------------------------------ */
/* loading a capture                                                   */

static uint16_t source_sock(struct ps_addr *srcs, uint16_t *ports,
			    unsigned *nsrc, const struct ps_addr *a,
			    uint16_t port)
{
	for (unsigned i = 0; i < *nsrc; i++)
		if (ports[i] == port && memcmp(&srcs[i], a, sizeof(*a)) == 0)
			return (uint16_t)(i % BENCH_MAX_SOCKS);
	if (*nsrc < BENCH_MAX_SOURCES) {
		srcs[*nsrc] = *a;
		ports[*nsrc] = port;
		return (uint16_t)((*nsrc)++ % BENCH_MAX_SOCKS);
	}
	return (uint16_t)(port % BENCH_MAX_SOCKS);
}

static int set_load_capture(struct bench_set *s, const char *path,
			    uint16_t port)
{
	struct capture_packet pk;
	struct dec_stats st;
	struct ps_addr srcs[BENCH_MAX_SOURCES];
	uint16_t ports[BENCH_MAX_SOURCES];
	unsigned nsrc = 0;
	uint64_t last_ts = 0;
	char err[512];
	struct capture *c;
	int rc;

	memset(&st, 0, sizeof(st));
	s->name = path;
	c = capture_open(path, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "peerscope-bench: %s\n", err);
		return -1;
	}
	while ((rc = capture_next(c, &pk, &st)) == 1) {
		struct bench_dgram *d;

		if (pk.kind != CAPTURE_UDP || pk.dst_port != port ||
		    pk.len == 0 || pk.len > PS_MAX_DATAGRAM)
			continue;
		if (set_reserve(s, pk.len) == -1 ||
		    (d = set_add_dgram(s)) == NULL) {
			fprintf(stderr, "peerscope-bench: out of memory\n");
			capture_close(c);
			return -1;
		}
		if (s->n == 1)
			s->first_ts_ns = pk.ts_ns;
		d->off = s->used;
		d->len = (uint32_t)pk.len;
		d->rel_ns = pk.ts_ns > s->first_ts_ns ? pk.ts_ns - s->first_ts_ns
						      : 0;
		d->src = pk.src;
		d->src_port = pk.src_port;
		d->sock = source_sock(srcs, ports, &nsrc, &pk.src, pk.src_port);
		memcpy(s->buf + s->used, pk.payload, pk.len);
		s->used += pk.len;
		if (d->rel_ns > last_ts)
			last_ts = d->rel_ns;
	}
	if (rc == -1)
		fprintf(stderr, "peerscope-bench: %s: %s (using what was read)\n",
			path, capture_error(c));
	capture_close(c);
	if (s->n == 0) {
		fprintf(stderr, "peerscope-bench: %s: no UDP datagrams to port %u\n",
			path, port);
		return -1;
	}
	/* One pass stands for the capture's span plus one mean gap. */
	s->period_ns = last_ts + (s->n > 1 && last_ts > 0 ? last_ts / (s->n - 1)
							 : 1000000ULL);
	s->nsock = nsrc < BENCH_MAX_SOCKS ? (nsrc ? nsrc : 1) : BENCH_MAX_SOCKS;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the synthetic router-like set                                       */

/* Big-endian writer into a fixed buffer; overflow is sticky. */
struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool overflow;
};

static void w_u32(struct wbuf *b, uint32_t v)
{
	if (b->overflow || b->cap - b->len < 4) {
		b->overflow = true;
		return;
	}
	put_be32(b->p + b->len, v);
	b->len += 4;
}

static void w_u64(struct wbuf *b, uint64_t v)
{
	w_u32(b, (uint32_t)(v >> 32));
	w_u32(b, (uint32_t)v);
}

static void w_bytes(struct wbuf *b, const uint8_t *src, size_t n)
{
	if (b->overflow || b->cap - b->len < n) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

/* A length word to fill in later: returns its position. */
static size_t w_len_open(struct wbuf *b)
{
	size_t at = b->len;

	w_u32(b, 0);
	return at;
}

/* The element after the length word at `at` ends here. */
static void w_len_close(struct wbuf *b, size_t at)
{
	if (!b->overflow)
		put_be32(b->p + at, (uint32_t)(b->len - at - 4));
}

static uint16_t ip_checksum(const uint8_t *h, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

/* 128 bytes of Ethernet / IPv4 / TCP as a router would sample them. */
static void synth_header(struct rng *r, uint32_t frame_len, uint8_t tos,
			 uint8_t *h)
{
	uint32_t ip_len = frame_len - 14 - 4; /* minus Ethernet and FCS */
	uint32_t src = 0xC6336400u | (rng_next(r) & 0xFF); /* 198.51.100.x */
	uint32_t dst = 0xCB007100u | (rng_next(r) & 0xFF); /* 203.0.113.x */
	uint16_t sport = (uint16_t)(1024 + rng_next(r) % 60000);
	uint16_t dport = rng_next(r) % 4 ? 443 : (uint16_t)(rng_next(r) % 65536);
	uint16_t csum;

	memset(h, 0, SYN_HEADER_BYTES);
	/* Ethernet: peer router MAC -> our MAC, IPv4 */
	memcpy(h, "\x00\x1b\x21\x00\x00\x01", 6);
	memcpy(h + 6, "\x00\x1b\x21\x00\x00\x02", 6);
	h[6 + 5] = (uint8_t)(rng_next(r) & 0xFF);
	h[12] = 0x08;
	h[13] = 0x00;
	/* IPv4 */
	h[14] = 0x45;
	h[15] = tos;
	h[16] = (uint8_t)(ip_len >> 8);
	h[17] = (uint8_t)ip_len;
	h[18] = (uint8_t)(rng_next(r) & 0xFF);
	h[20] = 0x40; /* DF */
	h[22] = 64;   /* TTL */
	h[23] = 6;    /* TCP */
	put_be32(h + 26, src);
	put_be32(h + 30, dst);
	csum = ip_checksum(h + 14, 20);
	h[24] = (uint8_t)(csum >> 8);
	h[25] = (uint8_t)csum;
	/* TCP */
	h[34] = (uint8_t)(sport >> 8);
	h[35] = (uint8_t)sport;
	h[36] = (uint8_t)(dport >> 8);
	h[37] = (uint8_t)dport;
	put_be32(h + 38, rng_next(r));
	put_be32(h + 42, rng_next(r));
	h[46] = 0x50; /* data offset 5 */
	h[47] = 0x10; /* ACK */
	h[48] = 0xFF;
	h[49] = 0xFF;
	for (unsigned i = 54; i < SYN_HEADER_BYTES; i++)
		h[i] = (uint8_t)(i * 7);
}

struct synth_state {
	struct rng rng;
	uint32_t dg_seq[SYN_AGENTS];
	uint32_t flow_seq[SYN_AGENTS][SYN_IFACES];
	uint32_t ctr_seq[SYN_AGENTS][SYN_IFACES];
	uint64_t octets[SYN_AGENTS][SYN_IFACES];
	uint32_t ctr_next[SYN_AGENTS]; /* next ifIndex to report */
	uint32_t asns; /* --synth-asns: gateway records over this many */
};

/* An ASN of st->asns, log-uniform over 64512 + rank (about Zipf 1: rank r
 * drawn with weight ~1/r), for transit-like ASN spreads. */
static uint32_t synth_asn(struct synth_state *st)
{
	double u = (double)rng_next(&st->rng) / 4294967296.0;
	uint32_t rank = (uint32_t)pow((double)st->asns + 1.0, u) - 1u;

	return 64512u + (rank < st->asns ? rank : st->asns - 1u);
}

/* 0:1003 extended_gateway: next hop, AS path of one ASN, no communities. */
static void synth_gateway(struct wbuf *b, struct synth_state *st)
{
	size_t rec;

	w_u32(b, 1003);
	rec = w_len_open(b);
	w_u32(b, 1);                         /* next hop: IPv4 */
	w_u32(b, 0xC0000201u);               /* 192.0.2.1 */
	w_u32(b, 64496);                     /* as: the router's */
	w_u32(b, synth_asn(st));             /* src_as */
	w_u32(b, 64497);                     /* src_peer_as */
	w_u32(b, 1);                         /* dst_as_path: one segment */
	w_u32(b, 2);                         /* AS_SEQUENCE */
	w_u32(b, 1);                         /* of one ASN */
	w_u32(b, synth_asn(st));             /* dst_as */
	w_u32(b, 0);                         /* communities */
	w_u32(b, 100);                       /* localpref */
	w_len_close(b, rec);
}

/* 0:1 flow sample: raw header 0:1 + extended switch 0:1001. */
static void synth_flow_sample(struct wbuf *b, struct synth_state *st,
			      unsigned agent)
{
	uint8_t hdr[SYN_HEADER_BYTES];
	uint32_t in = 1 + rng_next(&st->rng) % SYN_IFACES;
	uint32_t out = 1 + rng_next(&st->rng) % SYN_IFACES;
	uint32_t frame_len, seq;
	size_t smp, rec;

	if (out == in)
		out = 1 + in % SYN_IFACES;
	/* mostly full-size frames, some small ones (>= header + FCS) */
	frame_len = rng_next(&st->rng) % 4 == 0
			    ? 132 + rng_next(&st->rng) % 400
			    : 1400 + rng_next(&st->rng) % 119;
	seq = ++st->flow_seq[agent][in - 1];
	/* with ASNs, DSCP too: mostly 0, some AF11, AF21, EF */
	synth_header(&st->rng, frame_len,
		     st->asns == 0 ? 0 :
				     (uint8_t)((const uint8_t[]){
						       0, 0, 0, 0, 0, 10, 18,
						       46 }[rng_next(&st->rng) %
							    8]
					       << 2),
		     hdr);

	w_u32(b, 1);                         /* 0:1 flow_sample */
	smp = w_len_open(b);
	w_u32(b, seq);                       /* sequence_number */
	w_u32(b, in);                        /* source_id: ifIndex type 0 */
	w_u32(b, SYN_SAMPLING_RATE);         /* sampling_rate */
	w_u32(b, seq * SYN_SAMPLING_RATE);   /* sample_pool */
	w_u32(b, 0);                         /* drops */
	w_u32(b, in);                        /* input, format 0 */
	w_u32(b, out);                       /* output, format 0 */
	w_u32(b, st->asns != 0 ? 3 : 2);     /* flow records */
	w_u32(b, 1);                         /* 0:1 sampled_header */
	rec = w_len_open(b);
	w_u32(b, 1);                         /* header_protocol: Ethernet */
	w_u32(b, frame_len);                 /* frame_length */
	w_u32(b, 4);                         /* stripped: FCS */
	w_u32(b, SYN_HEADER_BYTES);          /* header length (4-aligned) */
	w_bytes(b, hdr, SYN_HEADER_BYTES);
	w_len_close(b, rec);
	w_u32(b, 1001);                      /* 0:1001 extended_switch */
	rec = w_len_open(b);
	w_u32(b, 100 + in);                  /* src_vlan */
	w_u32(b, 0);                         /* src_priority */
	w_u32(b, 100 + out);                 /* dst_vlan */
	w_u32(b, 0);                         /* dst_priority */
	w_len_close(b, rec);
	if (st->asns != 0)
		synth_gateway(b, st);
	w_len_close(b, smp);
}

/* 0:2 counters sample with one generic interface record (0:1, 88 bytes). */
static void synth_counter_sample(struct wbuf *b, struct synth_state *st,
				 unsigned agent)
{
	uint32_t ifi = 1 + st->ctr_next[agent]++ % SYN_IFACES;
	uint64_t *oct = &st->octets[agent][ifi - 1];
	size_t smp, rec;

	*oct += 1000000000ULL + rng_next(&st->rng);
	w_u32(b, 2);                          /* 0:2 counters_sample */
	smp = w_len_open(b);
	w_u32(b, ++st->ctr_seq[agent][ifi - 1]); /* sequence_number */
	w_u32(b, ifi);                        /* source_id */
	w_u32(b, 1);                          /* counter records */
	w_u32(b, 1);                          /* 0:1 generic interface */
	rec = w_len_open(b);
	w_u32(b, ifi);                        /* ifIndex */
	w_u32(b, 6);                          /* ifType ethernetCsmacd */
	w_u64(b, 100000000000ULL);            /* ifSpeed 100G */
	w_u32(b, 1);                          /* ifDirection full */
	w_u32(b, 3);                          /* ifStatus admin+oper up */
	w_u64(b, *oct);                       /* ifInOctets */
	w_u32(b, (uint32_t)(*oct / 1200));    /* ifInUcastPkts */
	w_u32(b, 10);                         /* ifInMulticastPkts */
	w_u32(b, 1);                          /* ifInBroadcastPkts */
	w_u32(b, 0);                          /* ifInDiscards */
	w_u32(b, 0);                          /* ifInErrors */
	w_u32(b, 0);                          /* ifInUnknownProtos */
	w_u64(b, *oct / 2);                   /* ifOutOctets */
	w_u32(b, (uint32_t)(*oct / 2400));    /* ifOutUcastPkts */
	w_u32(b, 10);                         /* ifOutMulticastPkts */
	w_u32(b, 1);                          /* ifOutBroadcastPkts */
	w_u32(b, 0);                          /* ifOutDiscards */
	w_u32(b, 0);                          /* ifOutErrors */
	w_u32(b, 2);                          /* ifPromiscuousMode false */
	w_len_close(b, rec);
	w_len_close(b, smp);
}

/*
 * `count` datagrams from SYN_AGENTS agents in turn, `per` flow samples
 * each, plus a counter sample in every `ctr_every`-th datagram (0 never),
 * one datagram every `interval_ns` of synthetic time.
 */
static int set_build_synthetic(struct bench_set *s, uint32_t count,
			       uint32_t per, uint32_t ctr_every,
			       uint64_t interval_ns, uint32_t asns)
{
	struct synth_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return -1;
	st->asns = asns;
	st->rng.s = 0x9E3779B97F4A7C15ULL;
	s->name = "synthetic";
	for (uint32_t i = 0; i < count; i++) {
		unsigned agent = i % SYN_AGENTS;
		/* every agent: a counter sample in each ctr_every-th of its own */
		bool ctr = ctr_every != 0 &&
			   (i / SYN_AGENTS) % ctr_every == ctr_every - 1;
		struct bench_dgram *d;
		struct wbuf b;

		if (set_reserve(s, 4096 + (size_t)per * 256) == -1 ||
		    (d = set_add_dgram(s)) == NULL)
			goto fail;
		b = (struct wbuf){ .p = s->buf + s->used,
				   .cap = s->cap - s->used };
		w_u32(&b, 5);                       /* version */
		w_u32(&b, 1);                       /* agent address IPv4 */
		w_u32(&b, 0xC0000200u | (agent + 1)); /* 192.0.2.<agent+1> */
		w_u32(&b, 0);                       /* sub_agent_id */
		w_u32(&b, ++st->dg_seq[agent]);     /* sequence_number */
		w_u32(&b, (uint32_t)(3600000 + (uint64_t)i * interval_ns /
						       1000000ULL)); /* uptime */
		w_u32(&b, per + (ctr ? 1 : 0));     /* num_samples */
		for (uint32_t k = 0; k < per; k++)
			synth_flow_sample(&b, st, agent);
		if (ctr)
			synth_counter_sample(&b, st, agent);
		if (b.overflow || b.len > PS_MAX_DATAGRAM) {
			fprintf(stderr, "peerscope-bench: synthetic datagram "
					"does not fit\n");
			goto fail;
		}
		d->off = s->used;
		d->len = (uint32_t)b.len;
		d->rel_ns = (uint64_t)i * interval_ns;
		d->src.af = 4;
		put_be32(d->src.bytes, 0xC0000200u | (agent + 1));
		d->src_port = (uint16_t)(50000 + agent);
		d->sock = (uint16_t)(agent % BENCH_MAX_SOCKS);
		s->used += b.len;
	}
	s->first_ts_ns = 1767225600ULL * 1000000000ULL; /* 2026-01-01 */
	s->period_ns = (uint64_t)count * interval_ns;
	s->nsock = SYN_AGENTS < BENCH_MAX_SOCKS ? SYN_AGENTS : BENCH_MAX_SOCKS;
	free(st);
	return 0;
fail:
	free(st);
	return -1;
}

/* ------------------------------------------------------------------ */
/* verification: decode everything once with the production decoder   */

static int set_verify(struct bench_set *s, bool strict)
{
	struct sflow_sample *smp = malloc(sizeof(*smp));
	uint64_t bad = 0;

	if (smp == NULL)
		return -1;
	memset(&s->errors, 0, sizeof(s->errors));
	s->bytes = s->samples = s->flow_samples = s->counter_samples = 0;
	s->discard_samples = s->flow_with_header = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct sflow_iter it;
		struct sflow_datagram dg;
		struct dec_stats st;
		uint32_t got = 0;
		int rc;

		memset(&st, 0, sizeof(st));
		s->bytes += s->d[i].len;
		if (sflow_datagram_open(&it, s->buf + s->d[i].off, s->d[i].len,
					&dg, &st) == -1) {
			bad++;
			dec_stats_add(&s->errors, &st);
			continue;
		}
		while ((rc = sflow_next_sample(&it, smp, &st)) == 1) {
			got++;
			s->samples++;
			switch (smp->kind) {
			case SFLOW_SAMPLE_FLOW:
				s->flow_samples++;
				if ((smp->u.flow.present &
				     SFLOW_HAS_RAW_HEADER) &&
				    smp->u.flow.raw.pkt_ok)
					s->flow_with_header++;
				else if (strict)
					bad++;
				if (strict && !(smp->u.flow.present &
						SFLOW_HAS_SWITCH))
					bad++;
				break;
			case SFLOW_SAMPLE_COUNTERS:
				s->counter_samples++;
				if (strict && !(smp->u.counters.present &
						SFLOW_HAS_GENERIC_IF))
					bad++;
				break;
			case SFLOW_SAMPLE_DISCARD:
				s->discard_samples++;
				break;
			}
		}
		if (rc == -1 || got != dg.num_samples)
			bad++;
		dec_stats_add(&s->errors, &st);
	}
	free(smp);
	if (!dec_stats_is_clean(&s->errors)) {
		for (unsigned r = 0; r < DEC_REASON_COUNT; r++)
			if (s->errors.n[r] != 0)
				fprintf(stderr, "verify: %s decode %s=%llu\n",
					s->name, dec_reason_name(r),
					(unsigned long long)s->errors.n[r]);
		if (strict)
			bad++;
	}
	if (strict && bad != 0) {
		fprintf(stderr, "peerscope-bench: synthetic set fails to "
				"decode cleanly (%llu problems)\n",
			(unsigned long long)bad);
		return -1;
	}
	return 0;
}

static void set_describe(const struct bench_set *s)
{
	printf("set: %s datagrams=%zu bytes=%llu samples=%llu flow=%llu "
	       "counter=%llu discard=%llu flow_with_decoded_header=%llu "
	       "samples_per_datagram=%.2f span_ms=%.3f senders=%u\n",
	       s->name, s->n, (unsigned long long)s->bytes,
	       (unsigned long long)s->samples,
	       (unsigned long long)s->flow_samples,
	       (unsigned long long)s->counter_samples,
	       (unsigned long long)s->discard_samples,
	       (unsigned long long)s->flow_with_header,
	       s->n ? (double)s->samples / (double)s->n : 0.0,
	       (double)s->period_ns / 1e6, s->nsock);
}

/* ------------------------------------------------------------------ */
/* offline                                                             */

struct offline_result {
	uint64_t passes, datagrams, samples, windows;
	uint64_t wall_ns, cpu_ns;
	uint64_t late;
};

static void drain_windows(struct worker *w, uint64_t *windows)
{
	struct agg_window *win;

	while ((win = ring_pop(&w->out)) != NULL) {
		agg_window_free(win);
		(*windows)++;
	}
}

/* One pass over the set; the caller times it. */
static void offline_pass(struct worker *w, const struct bench_set *s,
			 uint64_t base_ns, uint64_t *windows)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct bench_dgram *bd = &s->d[i];
		struct rx_datagram d = {
			.ts_ns = base_ns + bd->rel_ns,
			.src = bd->src,
			.src_port = bd->src_port,
			.dst_port = 6343,
			.proto = PS_PROTO_SFLOW,
			.data = s->buf + bd->off,
			.len = bd->len,
		};

		worker_process(w, &d);
		drain_windows(w, windows);
	}
}

static int offline_once(struct bench_set *s, const struct ps_config *cfg,
			double seconds, struct offline_result *r)
{
	struct worker *w = malloc(sizeof(*w));
	uint64_t limit = (uint64_t)(seconds * 1e9);
	uint64_t sink = 0, warm_samples;
	uint32_t pass = 0;

	memset(r, 0, sizeof(*r));
	if (w == NULL || worker_init(w, 0, cfg, true) == -1) {
		fprintf(stderr, "peerscope-bench: worker_init failed\n");
		free(w);
		return -1;
	}
	/* Warm-up pass: first window, state tables, caches; not timed. */
	set_patch(s, pass);
	offline_pass(w, s, s->first_ts_ns, &sink);
	warm_samples = w->totals.samples;
	pass++;
	while (r->wall_ns < limit && pass < UINT32_MAX - 1) {
		uint64_t t0, t1, c0, c1;
		uint64_t base = s->first_ts_ns + (uint64_t)pass * s->period_ns;

		set_patch(s, pass);
		c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		t0 = clock_ns(CLOCK_MONOTONIC);
		offline_pass(w, s, base, &r->windows);
		t1 = clock_ns(CLOCK_MONOTONIC);
		c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		r->wall_ns += t1 - t0;
		r->cpu_ns += c1 - c0;
		r->passes++;
		pass++;
	}
	r->datagrams = r->passes * s->n;
	r->samples = w->totals.samples - warm_samples;
	r->late = w->totals.late_datagrams;
	worker_finish(w);
	drain_windows(w, &sink);
	worker_fini(w);
	free(w);
	set_patch(s, 0);
	return 0;
}

struct offline_opts {
	double seconds;
	int cpu;
	unsigned repeat;
	uint32_t window;
	const char *sets[8]; /* --set KEY=VALUE, in order */
	unsigned nsets;
	const char *config; /* --config FILE: its keys and connections */
};

/*
 * The file's connections (conn/registry.h) on cfg->registry, as main.c
 * does; its size and the connections' count said.  Kept to the exit.
 */
static int registry_attach(struct ps_config *cfg)
{
	struct conn_registry *r = NULL;
	struct conn_registry_err e;
	size_t n;

	if (conn_registry_load(cfg, &r, &e) == -1) {
		fprintf(stderr, "peerscope-bench: %s\n", e.text);
		return -1;
	}
	cfg->registry = r;
	conn_registry_conns(r, &n);
	if (n > 0)
		printf("registry: connections=%zu bytes=%zu "
		       "bytes_per_connection=%.0f\n",
		       n, conn_registry_memory(r),
		       (double)conn_registry_memory(r) / (double)n);
	return 0;
}

static int run_offline(struct bench_set *s, const struct offline_opts *o)
{
	struct ps_config cfg;
	char err[512];
	double dps[BENCH_MAX_REPEAT], sps[BENCH_MAX_REPEAT],
		fps[BENCH_MAX_REPEAT], nsps[BENCH_MAX_REPEAT],
		cpuns[BENCH_MAX_REPEAT];
	unsigned n = 0;

	config_init(&cfg);
	if (o->config != NULL &&
	    config_load(&cfg, o->config, err, sizeof(err)) == -1) {
		fprintf(stderr, "peerscope-bench: %s\n", err);
		return -1;
	}
	if (o->window != 0)
		cfg.window_seconds = o->window;
	for (unsigned i = 0; i < o->nsets; i++)
		if (config_set_pair(&cfg, o->sets[i], err, sizeof(err)) == -1) {
			fprintf(stderr, "peerscope-bench: %s\n", err);
			return -1;
		}
	if (config_validate(&cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "peerscope-bench: %s\n", err);
		return -1;
	}
	if (registry_attach(&cfg) == -1)
		return -1;
	if (o->cpu >= 0 && worker_pin((unsigned)o->cpu) == -1)
		fprintf(stderr, "peerscope-bench: cannot pin to CPU %d; "
				"running unpinned\n", o->cpu);
	printf("offline: cpu=%d seconds=%.1f repeat=%u window_s=%u\n", o->cpu,
	       o->seconds, o->repeat, cfg.window_seconds);
	for (unsigned i = 0; i < o->repeat; i++) {
		struct offline_result r;
		double secs;

		if (offline_once(s, &cfg, o->seconds, &r) == -1)
			return -1;
		if (r.samples != r.passes * s->samples)
			fprintf(stderr, "peerscope-bench: worker counted %llu "
					"samples, decode pass says %llu\n",
				(unsigned long long)r.samples,
				(unsigned long long)(r.passes * s->samples));
		secs = (double)r.wall_ns / 1e9;
		dps[n] = (double)r.datagrams / secs;
		sps[n] = (double)r.samples / secs;
		fps[n] = (double)(r.passes * s->flow_samples) / secs;
		nsps[n] = (double)r.wall_ns / (double)r.samples;
		cpuns[n] = (double)r.cpu_ns / (double)r.samples;
		printf("run %u: passes=%llu datagrams=%llu samples=%llu "
		       "windows_closed=%llu late=%llu wall_s=%.3f "
		       "datagrams_per_s=%.0f samples_per_s=%.0f "
		       "flow_samples_per_s=%.0f ns_per_sample=%.1f "
		       "cpu_ns_per_sample=%.1f\n",
		       i + 1, (unsigned long long)r.passes,
		       (unsigned long long)r.datagrams,
		       (unsigned long long)r.samples,
		       (unsigned long long)r.windows,
		       (unsigned long long)r.late, secs, dps[n], sps[n], fps[n],
		       nsps[n], cpuns[n]);
		n++;
	}
	printf("median: datagrams_per_s=%.0f samples_per_s=%.0f "
	       "flow_samples_per_s=%.0f ns_per_sample=%.1f "
	       "cpu_ns_per_sample=%.1f peak_rss_kib=%ld\n",
	       median(dps, n), median(sps, n), median(fps, n), median(nsps, n),
	       median(cpuns, n), peak_rss_kib(RUSAGE_SELF));
	return 0;
}

/* ------------------------------------------------------------------ */
/* loopback                                                            */

struct loop_opts {
	double rate;          /* datagrams/s; 0 with max */
	bool max;
	double seconds;
	uint16_t port;        /* 0: pick a free one */
	const char *peerscope;
	unsigned workers;
	bool no_child;
	int cpu;              /* sender CPU, -1 none */
	const char *child_cpus;
	double drain;         /* seconds between last send and SIGTERM */
	unsigned repeat;
	bool keep;
};

struct loop_result {
	uint64_t sent, send_errors;
	double send_s;
	bool child_ok;
	int child_status;
	uint64_t rx_datagrams, rx_samples, kernel_drops, windows_dropped;
	uint64_t state_refused, late;
	uint64_t snmp_rcvbuf_errors, snmp_in_datagrams;
	double child_cpu_s, child_wall_s;
	long child_rss_kib;
};

/* A free UDP port on 127.0.0.1 (free now; the child binds it next). */
static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	uint16_t port = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return 0;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* "Udp:" counters from /proc/net/snmp (host-wide); -1 if unreadable. */
static int udp_snmp(uint64_t *in_datagrams, uint64_t *rcvbuf_errors)
{
	char names[1024], vals[1024];
	FILE *f = fopen("/proc/net/snmp", "re");
	int found = -1;

	if (f == NULL)
		return -1;
	while (fgets(names, sizeof(names), f) != NULL) {
		if (strncmp(names, "Udp:", 4) != 0)
			continue;
		if (fgets(vals, sizeof(vals), f) == NULL)
			break;
		char *sn, *sv;
		char *n = strtok_r(names, " \n", &sn);
		char *v = strtok_r(vals, " \n", &sv);

		while (n != NULL && v != NULL) {
			if (strcmp(n, "InDatagrams") == 0)
				*in_datagrams = strtoull(v, NULL, 10);
			else if (strcmp(n, "RcvbufErrors") == 0)
				*rcvbuf_errors = strtoull(v, NULL, 10);
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

/* The peerscope binary: --peerscope, else beside the build tree. */
static void default_peerscope(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	snprintf(out, len, "peerscope");
	if (n <= 0)
		return;
	self[n] = '\0';
	/* <build>/tests/bench/peerscope-bench -> <build>/peerscope */
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(self, '/');

		if (slash == NULL)
			return;
		*slash = '\0';
	}
	if (strlen(self) + sizeof("/peerscope") > len)
		return;
	memcpy(out, self, strlen(self));
	memcpy(out + strlen(self), "/peerscope", sizeof("/peerscope"));
	if (access(out, X_OK) != 0)
		snprintf(out, len, "peerscope");
}

static bool file_contains(const char *path, const char *needle)
{
	char buf[8192];
	FILE *f = fopen(path, "re");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static uint64_t json_u64_field(const char *json, const char *key)
{
	char pat[128];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (p == NULL)
		return UINT64_MAX;
	return strtoull(p + strlen(pat), NULL, 10);
}

struct child {
	pid_t pid;
	char dir[64];
	char out[128], stats[128], err[128];
	uint64_t start_ns;
};

static int child_start(struct child *ch, const struct loop_opts *o,
		       uint16_t port)
{
	char listen[64], workers[16], cpus[160];
	const char *argv[20];
	int argc = 0;

	memset(ch, 0, sizeof(*ch));
	ch->pid = -1;
	snprintf(ch->dir, sizeof(ch->dir), "/tmp/peerscope-bench.XXXXXX");
	if (mkdtemp(ch->dir) == NULL) {
		perror("peerscope-bench: mkdtemp");
		return -1;
	}
	snprintf(ch->out, sizeof(ch->out), "%s/out.json", ch->dir);
	snprintf(ch->stats, sizeof(ch->stats), "%s/stats.json", ch->dir);
	snprintf(ch->err, sizeof(ch->err), "%s/stderr.txt", ch->dir);
	snprintf(listen, sizeof(listen), "listen.sflow=127.0.0.1:%u", port);
	snprintf(workers, sizeof(workers), "%u", o->workers);
	argv[argc++] = o->peerscope;
	argv[argc++] = "--set";
	argv[argc++] = listen;
	argv[argc++] = "--workers";
	argv[argc++] = workers;
	argv[argc++] = "-o";
	argv[argc++] = ch->out;
	argv[argc++] = "--stats";
	argv[argc++] = ch->stats;
	/* a benchmark VM runs as root; no HTTP port to collide on */
	argv[argc++] = "--set";
	argv[argc++] = "allow_root=true";
	argv[argc++] = "--set";
	argv[argc++] = "http.enabled=false";
	if (o->child_cpus != NULL) {
		snprintf(cpus, sizeof(cpus), "cpus=%s", o->child_cpus);
		argv[argc++] = "--set";
		argv[argc++] = cpus;
	}
	argv[argc] = NULL;

	ch->start_ns = clock_ns(CLOCK_MONOTONIC);
	ch->pid = fork();
	if (ch->pid == -1) {
		perror("peerscope-bench: fork");
		return -1;
	}
	if (ch->pid == 0) {
		int fd = open(ch->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(o->peerscope, (char *const *)argv);
		execvp(o->peerscope, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", o->peerscope, strerror(errno));
		_exit(127);
	}
	/* Ready when it says so (its sockets are bound before that line). */
	for (int ms = 0; ms < BENCH_CHILD_READY_MS; ms += 10) {
		int status;

		if (file_contains(ch->err, "collecting with"))
			return 0;
		if (waitpid(ch->pid, &status, WNOHANG) == ch->pid) {
			fprintf(stderr, "peerscope-bench: peerscope exited at "
					"start-up; its stderr is in %s\n",
				ch->err);
			ch->pid = -1;
			return -1;
		}
		sleep_ns(10 * 1000000ULL);
	}
	fprintf(stderr, "peerscope-bench: peerscope not ready after %d ms\n",
		BENCH_CHILD_READY_MS);
	return -1;
}

/* SIGTERM the child (only it, by PID), reap it, take its rusage. */
static void child_stop(struct child *ch, struct loop_result *r)
{
	struct rusage ru;
	int status = 0;
	pid_t got = 0;

	if (ch->pid <= 0)
		return;
	kill(ch->pid, SIGTERM);
	for (int ms = 0; ms < BENCH_CHILD_EXIT_MS; ms += 10) {
		got = wait4(ch->pid, &status, WNOHANG, &ru);
		if (got == ch->pid)
			break;
		sleep_ns(10 * 1000000ULL);
	}
	if (got != ch->pid) {
		fprintf(stderr, "peerscope-bench: peerscope ignored SIGTERM for "
				"%d ms; SIGKILL\n", BENCH_CHILD_EXIT_MS);
		kill(ch->pid, SIGKILL);
		got = wait4(ch->pid, &status, 0, &ru);
	}
	ch->pid = -1;
	if (got <= 0)
		return;
	r->child_wall_s = (double)(clock_ns(CLOCK_MONOTONIC) - ch->start_ns) /
			  1e9;
	r->child_status = status;
	r->child_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	r->child_cpu_s = (double)ru.ru_utime.tv_sec +
			 (double)ru.ru_utime.tv_usec / 1e6 +
			 (double)ru.ru_stime.tv_sec +
			 (double)ru.ru_stime.tv_usec / 1e6;
	r->child_rss_kib = ru.ru_maxrss;
}

static void child_read_stats(const struct child *ch, struct loop_result *r)
{
	char buf[16384];
	FILE *f = fopen(ch->stats, "re");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "peerscope-bench: no stats file %s\n",
			ch->stats);
		return;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	r->rx_datagrams = json_u64_field(buf, "datagrams");
	r->rx_samples = json_u64_field(buf, "samples");
	r->kernel_drops = json_u64_field(buf, "kernel_drops");
	r->windows_dropped = json_u64_field(buf, "windows_dropped");
	r->state_refused = json_u64_field(buf, "state_refused");
	r->late = json_u64_field(buf, "late_datagrams");
}

static void child_cleanup(const struct child *ch, bool keep)
{
	if (keep || ch->dir[0] == '\0')
		return;
	unlink(ch->out);
	unlink(ch->stats);
	unlink(ch->err);
	rmdir(ch->dir);
}

struct sender {
	int fd[BENCH_MAX_SOCKS];
	unsigned nsock;
	struct mmsghdr msg[BENCH_MAX_SOCKS][BENCH_SEND_BATCH];
	struct iovec iov[BENCH_MAX_SOCKS][BENCH_SEND_BATCH];
	unsigned pending[BENCH_MAX_SOCKS];
	uint64_t sent, errors;
};

static int sender_open(struct sender *x, unsigned nsock, uint16_t port)
{
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(port) };
	int sndbuf = 4 << 20;

	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(x->pending, 0, sizeof(x->pending));
	x->nsock = 0;
	x->sent = x->errors = 0;
	for (unsigned i = 0; i < nsock; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd == -1)
			return -1;
		x->fd[x->nsock++] = fd;
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				 sizeof(sndbuf));
		if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == -1) {
			perror("peerscope-bench: connect 127.0.0.1");
			return -1;
		}
	}
	return 0;
}

static void sender_close(struct sender *x)
{
	for (unsigned i = 0; i < x->nsock; i++)
		close(x->fd[i]);
	x->nsock = 0;
}

static void sender_flush(struct sender *x)
{
	for (unsigned k = 0; k < x->nsock; k++) {
		unsigned done = 0, tries = 0;

		while (done < x->pending[k] && tries++ < 64) {
			int n = sendmmsg(x->fd[k], &x->msg[k][done],
					 x->pending[k] - done, 0);

			if (n > 0) {
				done += (unsigned)n;
				continue;
			}
			if (n == -1 && errno == EINTR)
				continue;
			/* ECONNREFUSED (nobody bound), ENOBUFS: lose one */
			x->errors++;
			done++;
		}
		x->errors += x->pending[k] - done;
		x->sent += done;
		x->pending[k] = 0;
	}
}

static void sender_queue(struct sender *x, const struct bench_set *s,
			 size_t i)
{
	unsigned k = s->d[i].sock % x->nsock;
	unsigned j = x->pending[k];

	x->iov[k][j].iov_base = s->buf + s->d[i].off;
	x->iov[k][j].iov_len = s->d[i].len;
	memset(&x->msg[k][j], 0, sizeof(x->msg[k][j]));
	x->msg[k][j].msg_hdr.msg_iov = &x->iov[k][j];
	x->msg[k][j].msg_hdr.msg_iovlen = 1;
	x->pending[k] = j + 1;
	if (x->pending[k] == BENCH_SEND_BATCH)
		sender_flush(x);
}

/* Send for o->seconds at o->rate (or flat out), pass after pass. */
static void loop_send(struct bench_set *s, const struct loop_opts *o,
		      struct sender *x, struct loop_result *r)
{
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC), now = t0;
	uint64_t limit = (uint64_t)(o->seconds * 1e9);
	uint64_t queued = 0, max_total = (uint64_t)(o->seconds * 2e7) + 1;
	size_t idx = 0;
	uint32_t pass = 0;

	set_patch(s, 0);
	while ((now = clock_ns(CLOCK_MONOTONIC)) - t0 < limit &&
	       queued < max_total) {
		uint64_t due = o->max ? queued + BENCH_SEND_BATCH
				      : (uint64_t)((double)(now - t0) * o->rate /
						   1e9) + 1;
		uint64_t k;

		if (due <= queued) {
			uint64_t gap = (uint64_t)(1e9 / o->rate);

			sleep_ns(gap < 20000 ? 20000 : gap > 1000000 ? 1000000
								     : gap);
			continue;
		}
		k = due - queued;
		if (k > BENCH_SEND_BATCH)
			k = BENCH_SEND_BATCH;
		for (uint64_t j = 0; j < k; j++) {
			sender_queue(x, s, idx);
			queued++;
			if (++idx == s->n) {
				/* the kernel has copied them: safe to rewrite */
				sender_flush(x);
				idx = 0;
				set_patch(s, ++pass);
			}
		}
		sender_flush(x);
	}
	sender_flush(x);
	r->send_s = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	r->sent = x->sent;
	r->send_errors = x->errors;
	set_patch(s, 0);
}

static int loop_once(struct bench_set *s, const struct loop_opts *o,
		     struct loop_result *r)
{
	struct child ch;
	struct sender *x = calloc(1, sizeof(*x));
	uint64_t in0 = 0, err0 = 0, in1 = 0, err1 = 0;
	uint16_t port = o->port ? o->port : free_port();
	int rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&ch, 0, sizeof(ch));
	ch.pid = -1;
	if (x == NULL || port == 0)
		goto out;
	if (!o->no_child && child_start(&ch, o, port) == -1)
		goto out;
	if (sender_open(x, s->nsock, port) == -1)
		goto out;
	(void)udp_snmp(&in0, &err0);
	loop_send(s, o, x, r);
	sleep_ns((uint64_t)(o->drain * 1e9));
	(void)udp_snmp(&in1, &err1);
	r->snmp_in_datagrams = in1 - in0;
	r->snmp_rcvbuf_errors = err1 - err0;
	rc = 0;
out:
	if (x != NULL)
		sender_close(x);
	free(x);
	if (ch.pid > 0) {
		child_stop(&ch, r);
		child_read_stats(&ch, r);
	}
	child_cleanup(&ch, o->keep || rc == -1);
	if (rc == 0)
		printf("loopback: port=%u\n", port);
	return rc;
}

static int run_loopback(struct bench_set *s, const struct loop_opts *o)
{
	double recv_pct[BENCH_MAX_REPEAT], cpu_ns[BENCH_MAX_REPEAT],
		rate[BENCH_MAX_REPEAT];
	unsigned n = 0;

	if (o->cpu >= 0 && worker_pin((unsigned)o->cpu) == -1)
		fprintf(stderr, "peerscope-bench: cannot pin sender to CPU %d\n",
			o->cpu);
	printf("loopback: %s rate=%s%.0f seconds=%.1f workers=%u "
	       "child_cpus=%s sender_cpu=%d child=%s\n",
	       s->name, o->max ? "max/" : "", o->rate, o->seconds, o->workers,
	       o->child_cpus ? o->child_cpus : "default", o->cpu,
	       o->no_child ? "none" : o->peerscope);
	for (unsigned i = 0; i < o->repeat; i++) {
		struct loop_result r;
		uint64_t lost;

		if (loop_once(s, o, &r) == -1)
			return -1;
		rate[n] = (double)r.sent / r.send_s;
		if (o->no_child) {
			printf("run %u: sent=%llu send_errors=%llu send_s=%.3f "
			       "sent_per_s=%.0f udp_in=%llu "
			       "udp_rcvbuf_errors=%llu\n",
			       i + 1, (unsigned long long)r.sent,
			       (unsigned long long)r.send_errors, r.send_s,
			       rate[n], (unsigned long long)r.snmp_in_datagrams,
			       (unsigned long long)r.snmp_rcvbuf_errors);
			n++;
			continue;
		}
		lost = r.sent > r.rx_datagrams ? r.sent - r.rx_datagrams : 0;
		recv_pct[n] = r.sent ? 100.0 * (double)r.rx_datagrams /
					       (double)r.sent
				     : 0;
		cpu_ns[n] = r.rx_samples && r.rx_samples != UINT64_MAX
				    ? r.child_cpu_s * 1e9 /
					      (double)r.rx_samples
				    : 0;
		printf("run %u: sent=%llu send_errors=%llu sent_per_s=%.0f "
		       "received=%llu received_pct=%.3f lost=%llu "
		       "kernel_drops=%llu udp_rcvbuf_errors=%llu "
		       "windows_dropped=%llu state_refused=%llu late=%llu "
		       "samples=%llu child_cpu_s=%.3f child_wall_s=%.3f "
		       "child_cpu_ns_per_sample=%.1f child_peak_rss_kib=%ld "
		       "child_exit=%s\n",
		       i + 1, (unsigned long long)r.sent,
		       (unsigned long long)r.send_errors, rate[n],
		       (unsigned long long)r.rx_datagrams, recv_pct[n],
		       (unsigned long long)lost,
		       (unsigned long long)r.kernel_drops,
		       (unsigned long long)r.snmp_rcvbuf_errors,
		       (unsigned long long)r.windows_dropped,
		       (unsigned long long)r.state_refused,
		       (unsigned long long)r.late,
		       (unsigned long long)r.rx_samples, r.child_cpu_s,
		       r.child_wall_s, cpu_ns[n], r.child_rss_kib,
		       r.child_ok ? "ok" : "FAILED");
		n++;
	}
	if (o->no_child)
		printf("median: sent_per_s=%.0f\n", median(rate, n));
	else
		printf("median: sent_per_s=%.0f received_pct=%.3f "
		       "child_cpu_ns_per_sample=%.1f\n",
		       median(rate, n), median(recv_pct, n), median(cpu_ns, n));
	return 0;
}

/* ------------------------------------------------------------------ */
/* command line                                                        */

static void usage(FILE *out)
{
	fputs("usage: peerscope-bench offline [options] CAPTURE|--synthetic\n"
	      "       peerscope-bench loopback [options] CAPTURE|--synthetic\n"
	      "\n"
	      "input:\n"
	      "  --synthetic            router-like set built in memory\n"
	      "  --port P               offline: sFlow UDP port in the capture\n"
	      "                         (6343); loopback: port to send to\n"
	      "                         (default: a free one)\n"
	      "  --capture-port P       sFlow UDP port in the capture (6343)\n"
	      "  --synth-datagrams N    synthetic datagrams (4096)\n"
	      "  --synth-samples N      flow samples per datagram (8)\n"
	      "  --synth-asns N         add an extended gateway record (0:1003)\n"
	      "                         with source/destination ASNs spread\n"
	      "                         log-uniformly over N, and DSCP 0, 10,\n"
	      "                         18, 46 in the headers (0: neither)\n"
	      "  --synth-counter-every N  a counter sample every N datagrams (16)\n"
	      "  --synth-interval-us U  synthetic time between datagrams (1000)\n"
	      "offline:\n"
	      "  --seconds S            timed seconds per run (5)\n"
	      "  --cpu N                pin to CPU N (-1: do not pin; default 0)\n"
	      "  --repeat R             runs; the median is reported (3)\n"
	      "  --window S             window_seconds (60)\n"
	      "  --set KEY=VALUE        a configuration key (up to 8), e.g.\n"
	      "                         top.n=0\n"
	      "  --config FILE          a configuration file (its connections:\n"
	      "                         the registry), before the --set keys\n"
	      "loopback:\n"
	      "  --rate PPS             datagrams per second\n"
	      "  --max                  send as fast as possible\n"
	      "  --seconds S            sending time (5)\n"
	      "  --workers N            peerscope workers (1)\n"
	      "  --child-cpus LIST      peerscope --set cpus=LIST\n"
	      "  --cpu N                pin the sender to CPU N (-1 none)\n"
	      "  --peerscope PATH       daemon binary (beside the build tree)\n"
	      "  --drain S              wait before SIGTERM (0.5)\n"
	      "  --no-child             only send (another collector listens)\n"
	      "  --repeat R             runs (1)\n"
	      "  --keep                 keep the child's temp directory\n",
	      out);
}

enum {
	OPT_SYNTH = 256, OPT_PORT, OPT_SDG, OPT_SSMP, OPT_SCTR, OPT_SINT, OPT_SASN,
	OPT_SECONDS, OPT_CPU, OPT_REPEAT, OPT_WINDOW, OPT_SET, OPT_CONFIG,
	OPT_RATE, OPT_MAX,
	OPT_WORKERS, OPT_CHILD_CPUS, OPT_PEERSCOPE, OPT_DRAIN, OPT_NO_CHILD,
	OPT_KEEP, OPT_CAPPORT, OPT_HELP
};

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "peerscope-bench: bad number \"%s\" (%g..%g)\n",
			s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "synthetic", no_argument, NULL, OPT_SYNTH },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "synth-datagrams", required_argument, NULL, OPT_SDG },
		{ "synth-samples", required_argument, NULL, OPT_SSMP },
		{ "synth-asns", required_argument, NULL, OPT_SASN },
		{ "synth-counter-every", required_argument, NULL, OPT_SCTR },
		{ "synth-interval-us", required_argument, NULL, OPT_SINT },
		{ "seconds", required_argument, NULL, OPT_SECONDS },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "repeat", required_argument, NULL, OPT_REPEAT },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "set", required_argument, NULL, OPT_SET },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "max", no_argument, NULL, OPT_MAX },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "child-cpus", required_argument, NULL, OPT_CHILD_CPUS },
		{ "peerscope", required_argument, NULL, OPT_PEERSCOPE },
		{ "drain", required_argument, NULL, OPT_DRAIN },
		{ "no-child", no_argument, NULL, OPT_NO_CHILD },
		{ "keep", no_argument, NULL, OPT_KEEP },
		{ "capture-port", required_argument, NULL, OPT_CAPPORT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct offline_opts off = { .seconds = 5, .cpu = 0, .repeat = 3 };
	struct loop_opts lo = { .seconds = 5, .workers = 1, .cpu = -1,
				.drain = 0.5, .repeat = 1 };
	struct bench_set set;
	char peerscope[PATH_MAX];
	double v, sdg = 4096, sper = 8, sctr = 16, sint = 1000, sasn = 0,
	       port = 0,
	       capport = 0;
	bool synthetic = false, offline, repeat_set = false;
	int c, rc;

	memset(&set, 0, sizeof(set));
	if (argc < 2 || (strcmp(argv[1], "offline") != 0 &&
			 strcmp(argv[1], "loopback") != 0)) {
		usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout
								   : stderr);
		return 2;
	}
	offline = strcmp(argv[1], "offline") == 0;
	argv++;
	argc--;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		rc = 0;
		switch (c) {
		case OPT_SYNTH:
			synthetic = true;
			break;
		case OPT_PORT:
			rc = parse_num(optarg, 1, 65535, &port);
			break;
		case OPT_SDG:
			rc = parse_num(optarg, 1, BENCH_SYNTH_MAX, &sdg);
			break;
		case OPT_SSMP:
			rc = parse_num(optarg, 0, 32, &sper);
			break;
		case OPT_SASN:
			rc = parse_num(optarg, 0, 1e6, &sasn);
			break;
		case OPT_SCTR:
			rc = parse_num(optarg, 0, 1e6, &sctr);
			break;
		case OPT_SINT:
			rc = parse_num(optarg, 1, 1e7, &sint);
			break;
		case OPT_SECONDS:
			rc = parse_num(optarg, 0.1, BENCH_MAX_SECONDS, &v);
			off.seconds = lo.seconds = v;
			break;
		case OPT_CPU:
			rc = parse_num(optarg, -1, CPU_SETSIZE - 1, &v);
			off.cpu = lo.cpu = (int)v;
			break;
		case OPT_REPEAT:
			rc = parse_num(optarg, 1, BENCH_MAX_REPEAT, &v);
			off.repeat = lo.repeat = (unsigned)v;
			repeat_set = true;
			break;
		case OPT_WINDOW:
			rc = parse_num(optarg, 1, 86400, &v);
			off.window = (uint32_t)v;
			break;
		case OPT_SET:
			rc = off.nsets < 8 ? 0 : -1;
			if (rc == 0)
				off.sets[off.nsets++] = optarg;
			break;
		case OPT_CONFIG:
			off.config = optarg;
			break;
		case OPT_RATE:
			rc = parse_num(optarg, 1, 1e8, &lo.rate);
			break;
		case OPT_MAX:
			lo.max = true;
			break;
		case OPT_WORKERS:
			rc = parse_num(optarg, 1, PS_MAX_WORKERS, &v);
			lo.workers = (unsigned)v;
			break;
		case OPT_CHILD_CPUS:
			lo.child_cpus = optarg;
			break;
		case OPT_PEERSCOPE:
			lo.peerscope = optarg;
			break;
		case OPT_DRAIN:
			rc = parse_num(optarg, 0, 60, &lo.drain);
			break;
		case OPT_NO_CHILD:
			lo.no_child = true;
			break;
		case OPT_KEEP:
			lo.keep = true;
			break;
		case OPT_CAPPORT:
			rc = parse_num(optarg, 1, 65535, &capport);
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (rc == -1)
			return 2;
	}
	if (!offline && !repeat_set)
		lo.repeat = 1;
	if (synthetic == (optind < argc)) {
		fprintf(stderr, "peerscope-bench: give one CAPTURE or "
				"--synthetic\n");
		return 2;
	}
	if (!offline && !lo.max && lo.rate <= 0) {
		fprintf(stderr, "peerscope-bench: loopback wants --rate or "
				"--max\n");
		return 2;
	}
	if (lo.peerscope == NULL) {
		default_peerscope(peerscope, sizeof(peerscope));
		lo.peerscope = peerscope;
	}
	if (synthetic)
		rc = set_build_synthetic(&set, (uint32_t)sdg, (uint32_t)sper,
					 (uint32_t)sctr,
					 (uint64_t)(sint * 1000),
					 (uint32_t)sasn);
	else
		rc = set_load_capture(&set, argv[optind],
				      capport != 0    ? (uint16_t)capport
				      : offline && port != 0 ? (uint16_t)port
							     : 6343);
	if (rc == -1 || set_index(&set) == -1 ||
	    set_verify(&set, synthetic) == -1) {
		set_free(&set);
		return 1;
	}
	set_describe(&set);
	if (!offline)
		lo.port = (uint16_t)port;
	rc = offline ? run_offline(&set, &off) : run_loopback(&set, &lo);
	set_free(&set);
	return rc == 0 ? 0 : 1;
}
