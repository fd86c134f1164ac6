/*
 * bench_recognise.c - what `peerscope replay` on any port costs, measured
 * (not asserted):
 *
 *  1. recognise_datagram() over every UDP payload of the captures given,
 *     held in memory, in passes for about one second: ns per datagram.
 *     Replay runs it on a flow's first datagram only (the flow keeps its
 *     protocol); this is the worst case, every datagram.
 *  2. stream_sync over 64 MiB of pseudo-random bytes fed in 1448-byte
 *     chunks, the search restarted each time it gives up (every
 *     PS_STREAM_RESYNC_MAX bytes): MB/s searched, what an unrelated TCP
 *     stream costs before it is abandoned.
 *
 * Usage: peerscope-bench-recognise CAPTURE...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay/capture.h"
#include "peerscope/limits.h"
#include "peerscope/recognise.h"
#include "replay/stream_sync.h"

#define NOISE_BYTES (64u << 20)
#define CHUNK	    1448

struct payloads {
	uint8_t *bytes;
	size_t *len;
	size_t n, used, cap_n, cap_bytes;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void load(struct payloads *p, const char *path)
{
	struct capture_packet pk;
	struct dec_stats st;
	struct capture *c;
	char err[256];

	memset(&st, 0, sizeof(st));
	c = capture_open(path, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	while (capture_next(c, &pk, &st) == 1) {
		if (pk.kind != CAPTURE_UDP)
			continue;
		if (p->n == p->cap_n) {
			p->cap_n = p->cap_n ? p->cap_n * 2 : 1024;
			p->len = realloc(p->len, p->cap_n * sizeof(*p->len));
		}
		while (p->used + pk.len > p->cap_bytes) {
			p->cap_bytes =
				p->cap_bytes ? p->cap_bytes * 2 : 1 << 20;
			p->bytes = realloc(p->bytes, p->cap_bytes);
		}
		if (p->len == NULL || p->bytes == NULL)
			abort();
		memcpy(p->bytes + p->used, pk.payload, pk.len);
		p->len[p->n++] = pk.len;
		p->used += pk.len;
	}
	capture_close(c);
}

static void bench_datagrams(const struct payloads *p)
{
	unsigned long long done = 0, recognised = 0;
	double t0 = now_s(), t;

	do {
		size_t off = 0;
		enum dec_reason why;

		for (size_t i = 0; i < p->n; i++) {
			recognised +=
				recognise_datagram(p->bytes + off, p->len[i],
						   &why) != RECOGNISE_NONE;
			off += p->len[i];
		}
		done += p->n;
		t = now_s() - t0;
	} while (t < 1.0);
	printf("recognise_datagram: %zu datagrams (%zu bytes), %llu calls, "
	       "%.1f ns per datagram, %.1f%% recognised\n",
	       p->n, p->used, done, t * 1e9 / (double)done,
	       100.0 * (double)recognised / (double)done);
}

static void bench_noise(void)
{
	uint8_t *noise = malloc(NOISE_BYTES);
	struct stream_sync s;
	enum recognise_proto proto;
	const uint8_t *out;
	size_t out_len;
	unsigned abandoned = 0, found = 0;
	uint32_t x = 15;
	double t;

	if (noise == NULL)
		abort();
	for (size_t i = 0; i < NOISE_BYTES; i++) {
		x = x * 1103515245u + 12345u;
		noise[i] = (uint8_t)(x >> 24);
	}
	memset(&s, 0, sizeof(s));
	stream_sync_begin(&s, RECOGNISE_TCP_ANY);
	t = now_s();
	for (size_t off = 0; off + CHUNK <= NOISE_BYTES; off += CHUNK) {
		switch (stream_sync_feed(&s, noise + off, CHUNK, &proto, &out,
					 &out_len)) {
		case STREAM_SYNC_ABANDONED:
			abandoned++;
			stream_sync_begin(&s, RECOGNISE_TCP_ANY);
			break;
		case STREAM_SYNC_FOUND:
			found++;
			stream_sync_begin(&s, RECOGNISE_TCP_ANY);
			break;
		case STREAM_SYNC_SEARCHING:
			break;
		}
	}
	t = now_s() - t;
	printf("stream_sync over random bytes: %u MiB in %.3f s, %.0f MB/s, "
	       "%u searches abandoned, %u false starts\n",
	       NOISE_BYTES >> 20, t, (double)NOISE_BYTES / t / 1e6, abandoned,
	       found);
	stream_sync_fini(&s);
	free(noise);
}

int main(int argc, char **argv)
{
	struct payloads p;

	memset(&p, 0, sizeof(p));
	for (int i = 1; i < argc; i++)
		load(&p, argv[i]);
	if (p.n > 0)
		bench_datagrams(&p);
	bench_noise();
	free(p.bytes);
	free(p.len);
	return 0;
}
