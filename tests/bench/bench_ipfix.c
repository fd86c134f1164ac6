/*
 * bench_ipfix.c - peerscope-bench-ipfix: IPFIX decode + aggregate records
 * per second on one pinned worker, offline (no sockets).
 *
 * A synthetic router-like stream: E exporters, each with one data template
 * (16 fields, 49-byte records: addresses, ports, protocol, TOS, TCP flags,
 * in/out ifIndex of 48 interfaces, 64-bit octets and packets, start/end in
 * milliseconds, samplerId) and an options record setting 1-in-1000
 * sampling; then data messages of R records (default 25).  Every message
 * goes through worker_process(), the production path: template lookup,
 * record decode, sampling lookup, window aggregation.  Sequence numbers and
 * export times move forward pass after pass, so nothing looks replayed.
 *
 *   peerscope-bench-ipfix [--seconds S] [--records R] [--exporters E]
 *                         [--cpu N]
 *
 * Loopback send mode (tests/bench/compare_nfcapd.sh): the same stream,
 * sent as UDP datagrams to 127.0.0.1:PORT at RATE messages per second for
 * S seconds, exporter e as observation domain e + 1 (one source address);
 * templates and options go first and again every second, as routers
 * refresh them.  Prints "run 1: sent=MESSAGES records=RECORDS
 * datagrams=D failed=F seconds=T", where D counts the refreshes too.
 * RATE 0 sends flat out for S seconds.
 *
 *   peerscope-bench-ipfix --send PORT [--rate RATE] [--seconds S] ...
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ingest/ingest_ipfix.h"
#include "rx/worker.h"
#include "peerscope/ipfix.h"

#define B_MSGS_PER_EXPORTER 64
#define B_TEMPLATE	    256
#define B_OPTIONS	    257
#define B_RECORD_LEN	    49

struct msg {
	uint32_t off, len, exporter;
};

struct stream {
	uint8_t *buf;
	size_t used, cap;
	struct msg *m;
	size_t n, mcap;
	size_t data_msgs_from; /* messages before this are templates/options */
	uint32_t records_per_msg;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void w8(struct stream *s, uint8_t v)
{
	s->buf[s->used++] = v;
}

static void w16(struct stream *s, uint16_t v)
{
	w8(s, (uint8_t)(v >> 8));
	w8(s, (uint8_t)v);
}

static void w32(struct stream *s, uint32_t v)
{
	w16(s, (uint16_t)(v >> 16));
	w16(s, (uint16_t)v);
}

static void w64(struct stream *s, uint64_t v)
{
	w32(s, (uint32_t)(v >> 32));
	w32(s, (uint32_t)v);
}

static void put16_at(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32_at(uint8_t *p, uint32_t v)
{
	put16_at(p, (uint16_t)(v >> 16));
	put16_at(p + 2, (uint16_t)v);
}

static int reserve(struct stream *s, size_t more)
{
	if (s->used + more > s->cap) {
		size_t cap = (s->cap + more) * 2;
		uint8_t *nb = realloc(s->buf, cap);

		if (nb == NULL)
			return -1;
		s->buf = nb;
		s->cap = cap;
	}
	if (s->n == s->mcap) {
		size_t mcap = s->mcap ? s->mcap * 2 : 1024;
		struct msg *nm = realloc(s->m, mcap * sizeof(*nm));

		if (nm == NULL)
			return -1;
		s->m = nm;
		s->mcap = mcap;
	}
	return 0;
}

static size_t msg_begin(struct stream *s, uint32_t exporter)
{
	size_t at = s->used;

	s->m[s->n].off = (uint32_t)at;
	s->m[s->n].exporter = exporter;
	w16(s, 10);
	w16(s, 0);	    /* length, patched */
	w32(s, 1800000000); /* export time, patched per pass */
	w32(s, 0);	    /* sequence, patched per pass */
	w32(s, 1);	    /* observation domain */
	return at;
}

static void msg_end(struct stream *s, size_t at)
{
	put16_at(s->buf + at + 2, (uint16_t)(s->used - at));
	s->m[s->n].len = (uint32_t)(s->used - at);
	s->n++;
}

static int build(struct stream *s, uint32_t exporters, uint32_t records)
{
	static const uint16_t f[][2] = {
		{ 8, 4 }, { 12, 4 },  { 7, 2 },	 { 11, 2 }, { 4, 1 },
		{ 5, 1 }, { 6, 1 },   { 10, 4 }, { 14, 4 }, { 1, 8 },
		{ 2, 8 }, { 152, 8 }, { 48, 1 }, { 61, 1 },
	};
	uint32_t rng = 12345;

	s->records_per_msg = records;
	for (uint32_t e = 0; e < exporters; e++) {
		size_t at, set;

		if (reserve(s, 512) == -1)
			return -1;
		at = msg_begin(s, e);
		set = s->used;
		w16(s, 2);
		w16(s, 0);
		w16(s, B_TEMPLATE);
		w16(s, sizeof(f) / sizeof(f[0]));
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			w16(s, f[i][0]);
			w16(s, f[i][1]);
		}
		put16_at(s->buf + set + 2, (uint16_t)(s->used - set));
		set = s->used; /* options template: scope samplerId, rate */
		w16(s, 3);
		w16(s, 18);
		w16(s, B_OPTIONS);
		w16(s, 2);
		w16(s, 1);
		w16(s, 48);
		w16(s, 1);
		w16(s, 34);
		w16(s, 4);
		set = s->used;
		w16(s, B_OPTIONS);
		w16(s, 4 + 5);
		w8(s, 1);
		w32(s, 1000);
		msg_end(s, at);
	}
	s->data_msgs_from = s->n;
	for (uint32_t k = 0; k < B_MSGS_PER_EXPORTER; k++) {
		for (uint32_t e = 0; e < exporters; e++) {
			size_t at, set;

			if (reserve(s, 64 + (size_t)records * B_RECORD_LEN) ==
			    -1)
				return -1;
			at = msg_begin(s, e);
			set = s->used;
			w16(s, B_TEMPLATE);
			w16(s, 0);
			for (uint32_t r = 0; r < records; r++) {
				rng = rng * 1103515245u + 12345u;
				w32(s, 0x0A000000u | (rng >> 8 & 0xFFFF));
				w32(s, 0xC6336400u | (rng >> 24));
				w16(s, (uint16_t)(1024 + (rng & 0x3FFF)));
				w16(s, 443);
				w8(s, 6);
				w8(s, 0);
				w8(s, 0x18);
				w32(s, 1 + (rng >> 10) % 48);
				w32(s, 1 + (rng >> 16) % 48);
				/* 1-10 packets of 64-1463 bytes: every packet
				 * at least an IP header (the decoder names
				 * fewer than 20 bytes a packet) */
				w64(s, (1 + (rng >> 20) % 10) *
					       (64 + (rng >> 4) % 1400));
				w64(s, 1 + (rng >> 20) % 10);
				w64(s, 1800000000000ULL);
				w8(s, 1);
				w8(s, (uint8_t)(rng >> 30 & 1));
			}
			put16_at(s->buf + set + 2, (uint16_t)(s->used - set));
			msg_end(s, at);
		}
	}
	return 0;
}

static void sleep_until(uint64_t t_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(t_ns / 1000000000ULL),
			       .tv_nsec = (long)(t_ns % 1000000000ULL) };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* Loopback send mode: see the top of the file. */
static int send_mode(struct stream *s, int port, double rate, double seconds)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	uint64_t seq[1024], sent = 0, fails = 0, recs = 0, start, next_refresh;
	uint64_t refreshes = 0;
	uint64_t total = rate > 0 ? (uint64_t)(rate * seconds) : UINT64_MAX;
	size_t i = s->data_msgs_from;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd == -1)
		return -1;
	/* Sleep to the microsecond, not the default 50 us slack: messages
	 * then leave evenly spaced, not in bursts after each late wake-up
	 * (a collector's cost per record depends on that shape). */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(seq, 0, sizeof(seq));
	start = clock_ns(CLOCK_MONOTONIC);
	next_refresh = start;
	/* bounded by time too: a refused send (nothing listening) is not
	 * counted as sent, and must not keep the loop going */
	while (sent < total &&
	       clock_ns(CLOCK_MONOTONIC) - start <
		       (uint64_t)(seconds * (rate > 0 ? 2e9 : 1e9))) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC);
		const struct msg *m;
		uint8_t *p;

		if (now >= next_refresh) { /* templates and options */
			for (size_t k = 0; k < s->data_msgs_from; k++) {
				m = &s->m[k];
				p = s->buf + m->off;
				put32_at(p + 4, (uint32_t)time(NULL));
				put32_at(p + 8, (uint32_t)seq[m->exporter]);
				put32_at(p + 12, m->exporter + 1);
				/* IPFIX numbers options records too: one */
				seq[m->exporter]++;
				if (sendto(fd, p, m->len, 0,
					   (struct sockaddr *)&to,
					   sizeof(to)) == (ssize_t)m->len)
					refreshes++;
			}
			next_refresh += 1000000000ULL;
		}
		/* pace: message n leaves at start + n / rate; 0 = flat out.
		 * Behind schedule, no system call: a sleep that is due at
		 * once still costs tens of microseconds on a VM. */
		if (rate > 0) {
			uint64_t due = start + (uint64_t)((double)(sent +
								   fails) /
							  rate * 1e9);

			if (due > now)
				sleep_until(due);
		}
		m = &s->m[i];
		p = s->buf + m->off;
		put32_at(p + 4, (uint32_t)time(NULL));
		put32_at(p + 8, (uint32_t)seq[m->exporter]);
		put32_at(p + 12, m->exporter + 1);
		seq[m->exporter] += s->records_per_msg;
		if (sendto(fd, p, m->len, 0, (struct sockaddr *)&to,
			   sizeof(to)) == (ssize_t)m->len) {
			sent++;
			recs += s->records_per_msg;
		} else {
			fails++;
		}
		if (++i == s->n)
			i = s->data_msgs_from;
	}
	close(fd);
	/* datagrams: data messages and template/options refreshes */
	printf("run 1: sent=%llu records=%llu datagrams=%llu failed=%llu "
	       "seconds=%.3f\n",
	       (unsigned long long)sent, (unsigned long long)recs,
	       (unsigned long long)(sent + refreshes),
	       (unsigned long long)fails,
	       (double)(clock_ns(CLOCK_MONOTONIC) - start) / 1e9);
	return 0;
}

int main(int argc, char **argv)
{
	double seconds = 5;
	uint32_t records = 25, exporters = 16;
	int cpu = 0, send_port = 0;
	double rate = 20000;
	struct stream s;
	struct ps_config cfg;
	struct worker *w;
	uint64_t seq[1024], pass = 0, cpu_ns = 0, wall_ns = 0, recs = 0;
	struct agg_window *win;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--records") == 0)
			records = (uint32_t)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--exporters") == 0)
			exporters = (uint32_t)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--cpu") == 0)
			cpu = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--send") == 0)
			send_port = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--rate") == 0)
			rate = atof(argv[i + 1]);
	}
	if (records == 0 || records > 1000 || exporters == 0 ||
	    exporters > 1024) {
		fprintf(stderr, "peerscope-bench-ipfix: records 1..1000, "
				"exporters 1..1024\n");
		return 2;
	}
	memset(&s, 0, sizeof(s));
	memset(seq, 0, sizeof(seq));
	if (send_port > 0) {
		if (send_port > 65535 || rate < 0 ||
		    build(&s, exporters, records) == -1 ||
		    send_mode(&s, send_port, rate, seconds) == -1) {
			fprintf(stderr, "peerscope-bench-ipfix: send failed\n");
			return 1;
		}
		free(s.buf);
		free(s.m);
		return 0;
	}
	config_init(&cfg);
	w = malloc(sizeof(*w));
	if (w == NULL || build(&s, exporters, records) == -1 ||
	    worker_init(w, 0, &cfg, true) == -1) {
		fprintf(stderr, "peerscope-bench-ipfix: out of memory\n");
		return 1;
	}
	if (worker_pin((unsigned)cpu) == -1)
		fprintf(stderr, "peerscope-bench-ipfix: not pinned\n");
	while (wall_ns < (uint64_t)(seconds * 1e9)) {
		uint64_t t0, t1, c0, c1;
		/* one second of exporter time per pass, same window mostly */
		uint64_t ts =
			1800000000ULL * 1000000000ULL + pass * 1000000000ULL;

		c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		t0 = clock_ns(CLOCK_MONOTONIC);
		for (size_t i = pass == 0 ? 0 : s.data_msgs_from; i < s.n;
		     i++) {
			const struct msg *m = &s.m[i];
			uint8_t *p = s.buf + m->off;
			struct rx_datagram d = {
				.ts_ns = ts,
				.proto = PS_PROTO_IPFIX,
				.data = p,
				.len = m->len,
			};

			d.src.af = 4;
			d.src.bytes[0] = 10;
			d.src.bytes[2] = (uint8_t)(m->exporter >> 8);
			d.src.bytes[3] = (uint8_t)m->exporter;
			put32_at(p + 4, (uint32_t)(ts / 1000000000ULL));
			put32_at(p + 8, (uint32_t)seq[m->exporter]);
			if (i >= s.data_msgs_from)
				seq[m->exporter] += records;
			worker_process(w, &d);
			while ((win = ring_pop(&w->out)) != NULL)
				agg_window_free(win);
		}
		t1 = clock_ns(CLOCK_MONOTONIC);
		c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		if (pass > 0) { /* the first pass warms up; not timed */
			wall_ns += t1 - t0;
			cpu_ns += c1 - c0;
			recs += (uint64_t)(s.n - s.data_msgs_from) * records;
		}
		pass++;
	}
	printf("ipfix offline: exporters=%u records/message=%u passes=%llu "
	       "records=%llu\n",
	       exporters, records, (unsigned long long)(pass - 1),
	       (unsigned long long)recs);
	printf("  %.2f M records/s per core (CPU time), %.2f M records/s "
	       "wall, %.0f ns/record\n",
	       recs / (cpu_ns / 1e9) / 1e6, recs / (wall_ns / 1e9) / 1e6,
	       (double)cpu_ns / (double)recs);
	printf("  templates live: %u\n",
	       ingest_flow_cache(w->flow) ? ingest_flow_cache(w->flow)->live :
					    0);
	/* the stream is clean: any decode event means the figure is wrong */
	for (unsigned r = 0; r < DEC_REASON_COUNT; r++)
		if (w->totals.errors.n[r] != 0)
			printf("  DECODE EVENT %u %s=%llu\n", r,
			       dec_reason_name(r),
			       (unsigned long long)w->totals.errors.n[r]);
	if (w->win != NULL) {
		uint32_t pos = 0;
		struct agg_exporter *e;
		uint64_t data = 0, unknown = 0;

		while ((e = htab_next(&w->win->exporters, &pos)) != NULL) {
			data += e->flow.data_records;
			unknown += e->flow.sampling_unknown;
		}
		printf("  last window: %llu records aggregated, %llu with "
		       "unknown sampling\n",
		       (unsigned long long)data, (unsigned long long)unknown);
	}
	worker_finish(w);
	while ((win = ring_pop(&w->out)) != NULL)
		agg_window_free(win);
	worker_fini(w);
	free(w);
	free(s.buf);
	free(s.m);
	return 0;
}
