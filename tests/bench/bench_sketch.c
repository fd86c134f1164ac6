/*
 * bench_sketch.c - the quantile sketch's issue 12 targets, measured (not
 * asserted): insert <= 20 ns; merging 64 workers' sketches of one
 * connection <= 10 us.  Also the cost of a quantile, an encoding and a
 * decode, which the merger pays per connection and window.
 *
 * Values: RTTs in ns, lognormal around 20 ms (sigma 0.25: about 60
 * buckets wide), precomputed so the random generator is not timed; each
 * "worker" sketch holds 2,000 of them.  Every figure is the median of
 * --repeat runs (default 9), each long enough to dwarf the clock's cost.
 * Usage: peerscope-bench-sketch [--repeat N] [--cpu C]
 */
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agg/sketch.h"

#define VALUES	   (1u << 20)
#define WORKERS	   64
#define PER_WORKER 2000
#define MAX_REPEAT 99

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s)
{
	return ((double)(rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ns per insert over all VALUES into a warmed sketch. */
static double run_insert(const uint64_t *v, struct sketch *s)
{
	double t0;
	int pass;

	sketch_reset(s);
	t0 = now_ns();
	for (pass = 0; pass < 8; pass++)
		for (uint32_t i = 0; i < VALUES; i++)
			if (sketch_insert(s, v[i]) == -1)
				abort();
	return (now_ns() - t0) / (8.0 * VALUES);
}

/* ns per merge of all 64 workers into one (warmed) destination. */
static double run_merge64(struct sketch *w, struct sketch *dst)
{
	const int rounds = 2000;
	double t0 = now_ns();

	for (int r = 0; r < rounds; r++) {
		sketch_reset(dst);
		for (int i = 0; i < WORKERS; i++)
			if (sketch_merge(dst, &w[i]) == -1)
				abort();
	}
	return (now_ns() - t0) / rounds;
}

int main(int argc, char **argv)
{
	static const double qs[] = { 0.5, 0.9, 0.99 };
	double ins[MAX_REPEAT], mrg[MAX_REPEAT], qry[MAX_REPEAT],
		enc[MAX_REPEAT], dec[MAX_REPEAT];
	struct sketch s, w[WORKERS], dst;
	uint64_t *v, seed = 12;
	int repeat = 9, cpu = -1;
	uint8_t buf[8192];
	size_t len = 0;
	double sink = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (strcmp(argv[i], "--cpu") == 0 && i + 1 < argc)
			cpu = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--repeat N] [--cpu C]\n",
				argv[0]);
			return 2;
		}
	}
	if (repeat < 1 || repeat > MAX_REPEAT)
		repeat = 9;
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) == -1)
			perror("sched_setaffinity");
	}

	v = malloc(VALUES * sizeof(*v));
	if (v == NULL)
		return 1;
	for (uint32_t i = 0; i < VALUES; i++) {
		double n = sqrt(-2 * log(rng_unit(&seed))) *
			   cos(2 * M_PI * rng_unit(&seed));

		v[i] = (uint64_t)exp(log(20e6) + 0.25 * n);
	}
	sketch_init(&s, 0);
	sketch_init(&dst, 0);
	for (int i = 0; i < WORKERS; i++) {
		sketch_init(&w[i], 0);
		for (int k = 0; k < PER_WORKER; k++)
			if (sketch_insert(&w[i], v[rng_next(&seed) % VALUES]) ==
			    -1)
				return 1;
	}
	run_insert(v, &s); /* warm-up: the array reaches its size */
	run_merge64(w, &dst);

	for (int r = 0; r < repeat; r++) {
		double t0;
		int k;

		ins[r] = run_insert(v, &s);
		mrg[r] = run_merge64(w, &dst);
		t0 = now_ns();
		for (k = 0; k < 100000; k++)
			sink += sketch_quantile(&dst, qs[k % 3]);
		qry[r] = (now_ns() - t0) / k;
		t0 = now_ns();
		for (k = 0; k < 20000; k++)
			len = sketch_encode(&dst, buf, sizeof(buf));
		enc[r] = (now_ns() - t0) / k;
		t0 = now_ns();
		for (k = 0; k < 20000; k++) {
			enum sketch_decode_err why;

			sketch_reset(&s);
			if (sketch_decode(&s, buf, len, &why) == -1)
				return 1;
		}
		dec[r] = (now_ns() - t0) / k;
	}
	printf("sketch: alpha 1%%, %d buckets in the merged sketch, "
	       "encoding %zu bytes (%.1f per bucket)\n",
	       dst.hi - dst.lo + 1, len, (double)len / (dst.hi - dst.lo + 1));
	printf("insert_ns_median %.2f   (target <= 20)\n", median(ins, repeat));
	printf("merge64_us_median %.3f   (target <= 10; 64 x %d-value "
	       "sketches)\n",
	       median(mrg, repeat) / 1000, PER_WORKER);
	printf("quantile_ns_median %.1f\n", median(qry, repeat));
	printf("encode_ns_median %.1f\n", median(enc, repeat));
	printf("decode_merge_ns_median %.1f\n", median(dec, repeat));
	printf("runs %d%s\n", repeat, sink == 0.12345 ? " " : "");
	for (int i = 0; i < WORKERS; i++)
		sketch_fini(&w[i]);
	sketch_fini(&s);
	sketch_fini(&dst);
	free(v);
	return 0;
}
