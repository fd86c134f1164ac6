/*
 * bench_peering.c - what issue 11's building blocks cost, measured (not
 * asserted):
 *
 *   topn       update ns on skewed streams (ASN-like: Zipf over 10^4
 *              keys; DSCP-like: 64 keys), for the summary as built (hash
 *              index + min-heap) and for two reference variants compiled
 *              here only to answer "would a linear scan of packed keys
 *              beat the hash?": slots scanned linearly, and slots with a
 *              hash index; both find the least count by a scan when
 *              evicting.  Merge:
 *              one worker's full summary into another, and 8 workers
 *              into one (the merger's cost per connection, direction and
 *              dimension).
 *   rateslots  add_sample / add_counter ns; the statistics (a sort) per
 *              connection and direction at publication, for 6, 30 and
 *              360 slots; a merge.
 *   ixdata     loading a synthetic PeeringDB netixlan file of 50,000
 *              entries (all the API's fields, ~ the size of the full
 *              public dump): ms, entries/s and the peak RSS it adds;
 *              lookups by address and by ASN.
 *
 * Streams are precomputed so the random generator is not timed; times
 * are thread CPU time; every figure is the median of --repeat runs
 * (default 9).
 * Usage: peerscope-bench-peering [--repeat N] [--cpu C]
 */
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "conn/ixdata.h"
#include "agg/rateslots.h"
#include "agg/topn.h"

#define UPDATES	   (1u << 20)
#define KEYS	   10000
#define MAX_REPEAT 99
#define WORKERS	   8

/*
 * Thread CPU time: on a shared or virtual machine (the one these figures
 * come from) wall time also counts the time other processes ran.
 */
static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
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

struct stream {
	uint32_t key[UPDATES];
	uint64_t w[UPDATES];
};

/*
 * Zipf(s) over n keys, spread over the key space; frame sizes as weights.
 * With `one` > 0, that share of the frames is from one key (a peer's own
 * ASN: what a peering connection mostly carries).
 */
static void stream_fill(struct stream *st, uint32_t n, double s, double one,
			uint64_t seed)
{
	double *cdf = malloc(n * sizeof(*cdf)), sum = 0;

	if (cdf == NULL)
		abort();
	for (uint32_t i = 0; i < n; i++)
		cdf[i] = (sum += pow(i + 1.0, -s));
	for (uint32_t i = 0; i < UPDATES; i++) {
		double u = rng_unit(&seed) * sum;
		uint32_t lo = 0, hi = n - 1;

		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;

			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		st->key[i] = n > 64 ? 64496 + (lo * 7919u) % n : lo;
		if (rng_unit(&seed) < one)
			st->key[i] = 8075;
		st->w[i] = 64 + rng_next(&seed) % 1455;
	}
	free(cdf);
}

/* ---- reference variants (measurement only) ---------------------- */

struct ref {
	uint32_t key[TOPN_MAX_CAPACITY];
	uint64_t count[TOPN_MAX_CAPACITY], err[TOPN_MAX_CAPACITY];
	uint16_t index[1024]; /* slot + 1; 0 = empty; >= 4k entries */
	uint32_t n, k, mask;
	uint64_t floor;
};

static void ref_init(struct ref *r, uint32_t k)
{
	memset(r, 0, sizeof(*r));
	r->k = k;
	r->mask = 1;
	while (r->mask < 4 * k)
		r->mask <<= 1;
	r->mask--;
}

static uint32_t ref_min(const struct ref *r)
{
	uint32_t m = 0;

	for (uint32_t i = 1; i < r->n; i++)
		if (r->count[i] < r->count[m])
			m = i;
	return m;
}

/* Unsorted slots, linear scan; evict the least count found by a scan. */
static void ref_scan_add(struct ref *r, uint32_t key, uint64_t w)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		if (r->key[i] == key) {
			r->count[i] += w;
			return;
		}
	if (r->n < r->k) {
		i = r->n++;
	} else {
		i = ref_min(r);
		r->floor = r->count[i];
	}
	r->key[i] = key;
	r->err[i] = r->floor;
	r->count[i] = r->floor + w;
}

static uint32_t ref_hash(uint32_t key)
{
	return key * 2654435761u;
}

static void ref_index_rebuild(struct ref *r)
{
	memset(r->index, 0, (r->mask + 1) * sizeof(r->index[0]));
	for (uint32_t i = 0; i < r->n; i++) {
		uint32_t h = ref_hash(r->key[i]) & r->mask;

		while (r->index[h] != 0)
			h = (h + 1) & r->mask;
		r->index[h] = (uint16_t)(i + 1);
	}
}

/* Unsorted slots with a hash index (rebuilt when a key is evicted). */
static void ref_hash_add(struct ref *r, uint32_t key, uint64_t w)
{
	uint32_t h = ref_hash(key) & r->mask, i;

	for (; r->index[h] != 0; h = (h + 1) & r->mask)
		if (r->key[r->index[h] - 1] == key) {
			r->count[r->index[h] - 1] += w;
			return;
		}
	if (r->n < r->k) {
		i = r->n++;
		r->index[h] = (uint16_t)(i + 1);
		r->key[i] = key;
		r->err[i] = r->floor;
		r->count[i] = r->floor + w;
		return;
	}
	i = ref_min(r);
	r->floor = r->count[i];
	r->key[i] = key;
	r->err[i] = r->floor;
	r->count[i] = r->floor + w;
	ref_index_rebuild(r);
}

/* ---- runs ------------------------------------------------------- */

static uint64_t sink;

static double run_topn(const struct stream *st, uint32_t k)
{
	struct topn t;
	double t0;

	topn_init(&t, k);
	for (uint32_t i = 0; i < UPDATES; i++) /* warm: array at size */
		if (topn_add(&t, st->key[i], st->w[i]) == -1)
			abort();
	topn_reset(&t);
	t0 = now_ns();
	for (uint32_t i = 0; i < UPDATES; i++)
		if (topn_add(&t, st->key[i], st->w[i]) == -1)
			abort();
	t0 = now_ns() - t0;
	sink += t.floor;
	topn_fini(&t);
	return t0 / UPDATES;
}

static double run_ref(const struct stream *st, uint32_t k, bool hashed)
{
	static struct ref r;
	double t0;

	ref_init(&r, k);
	t0 = now_ns();
	if (hashed)
		for (uint32_t i = 0; i < UPDATES; i++)
			ref_hash_add(&r, st->key[i], st->w[i]);
	else
		for (uint32_t i = 0; i < UPDATES; i++)
			ref_scan_add(&r, st->key[i], st->w[i]);
	t0 = now_ns() - t0;
	sink += r.floor;
	return t0 / UPDATES;
}

/* ns to merge the 8 workers' summaries into a fresh one. */
static double run_merge8(const struct topn *w, struct topn *dst)
{
	const int rounds = 2000;
	double t0 = now_ns();

	for (int r = 0; r < rounds; r++) {
		topn_reset(dst);
		for (int i = 0; i < WORKERS; i++)
			if (topn_merge(dst, &w[i]) == -1)
				abort();
	}
	return (now_ns() - t0) / rounds;
}

static double run_slots_add(const uint64_t *t, const double *bytes,
			    const struct rateslots_geom *g)
{
	struct rateslots rs;
	double t0;

	rateslots_init(&rs);
	if (rateslots_add_sample(&rs, g, g->start_ns, 1) == -1)
		abort();
	t0 = now_ns();
	for (uint32_t i = 0; i < UPDATES; i++)
		if (rateslots_add_sample(&rs, g, t[i], bytes[i]) == -1)
			abort();
	t0 = now_ns() - t0;
	sink += (uint64_t)rs.slot_bytes[0];
	rateslots_fini(&rs);
	return t0 / UPDATES;
}

/* ns for the p95 of a window of `seconds` in 10 s slots, all non-empty. */
static double run_slots_stats(uint64_t seconds, uint64_t *seed)
{
	const uint64_t s = 1000000000ull;
	struct rateslots_geom g;
	struct rateslots rs;
	struct rateslots_stats st;
	const int rounds = 20000;
	double t0;

	if (rateslots_geom_init(&g, 0, seconds * s, 0) == -1)
		abort();
	rateslots_init(&rs);
	for (uint32_t i = 0; i < g.nslots; i++)
		if (rateslots_add_sample(
			    &rs, &g, i * g.slot_ns,
			    (double)(rng_next(seed) % 100000000)) == -1)
			abort();
	t0 = now_ns();
	for (int r = 0; r < rounds; r++)
		if (rateslots_samples_stats(&rs, &g, 95, &st) == 0)
			sink += (uint64_t)st.pct_bps;
	t0 = now_ns() - t0;
	rateslots_fini(&rs);
	return t0 / rounds;
}

static double run_counter_add(uint64_t *seed)
{
	const uint64_t s = 1000000000ull;
	struct rateslots_geom g;
	struct rateslots rs;
	const int rounds = 200000;
	double t0;

	if (rateslots_geom_init(&g, 0, 300 * s, 0) == -1)
		abort();
	rateslots_init(&rs);
	t0 = now_ns();
	for (int r = 0; r < rounds; r++) {
		if (r % 30 == 0)
			rateslots_reset(&rs); /* a window: 30 intervals */
		if (rateslots_add_counter(
			    &rs, &g, (uint64_t)(r % 30 + 1) * 10 * s, 10 * s,
			    rng_next(seed) % 1000000000) == -1)
			abort();
	}
	t0 = now_ns() - t0;
	rateslots_fini(&rs);
	return t0 / rounds;
}

/* ---- ixdata ----------------------------------------------------- */

#define PDB_ENTRIES 50000

/* A netixlan dump with every field the API gives; returns its size. */
static size_t write_pdb(const char *path)
{
	FILE *f = fopen(path, "w");
	long size;

	if (f == NULL)
		abort();
	fputs("{\"data\":[", f);
	for (uint32_t i = 0; i < PDB_ENTRIES; i++)
		fprintf(f,
			"%s{\"id\":%u,\"net_id\":%u,\"ix_id\":%u,\"name\":"
			"\"Example Exchange "
			"%u\",\"ixlan_id\":%u,\"notes\":\"\","
			"\"speed\":10000,\"asn\":%u,\"ipaddr4\":\"10.%u.%u.%"
			"u\","
			"\"ipaddr6\":\"2001:db8:%x::%x\",\"is_rs_peer\":true,"
			"\"bfd_support\":false,\"operational\":true,"
			"\"created\":"
			"\"2020-01-01T00:00:00Z\",\"updated\":\"2024-05-01T00:"
			"00:"
			"00Z\",\"status\":\"ok\",\"net_side_id\":null,"
			"\"ix_side_id\":null}",
			i ? "," : "", i + 1, i / 3 + 1, i % 900 + 1, i % 900,
			i % 900 + 1, 64512 + i / 3, (i >> 16) & 255,
			(i >> 8) & 255, i & 255, i % 900, i + 1);
	fputs("],\"meta\":{}}", f);
	size = ftell(f);
	fclose(f);
	return (size_t)size;
}

static long maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void bench_ixdata(int repeat)
{
	char path[] = "/tmp/peerscope-bench-pdb-XXXXXX";
	double load[MAX_REPEAT], by_addr[MAX_REPEAT], by_asn[MAX_REPEAT];
	struct ixdata *t = NULL;
	struct ixdata_err err;
	const struct ixdata_entry *e;
	struct ps_addr a = { .af = 4, .bytes = { 10, 0, 0, 1 } };
	long rss0, rss1 = 0;
	size_t size;
	int fd = mkstemp(path);

	if (fd == -1)
		abort();
	close(fd);
	size = write_pdb(path);
	rss0 = maxrss_kb();
	for (int r = 0; r < repeat; r++) {
		double t0 = now_ns();
		const int lookups = 1000000;

		if (ixdata_load(IXDATA_PEERINGDB, path, &t, &err) == -1)
			abort();
		load[r] = (now_ns() - t0) / 1e6;
		if (r == 0)
			rss1 = maxrss_kb();
		t0 = now_ns();
		for (int i = 0; i < lookups; i++) {
			a.bytes[2] = (uint8_t)(i >> 8);
			a.bytes[3] = (uint8_t)i;
			sink += ixdata_find_addr(t, &a, &e, 1);
		}
		by_addr[r] = (now_ns() - t0) / lookups;
		t0 = now_ns();
		for (int i = 0; i < lookups; i++)
			sink += ixdata_find_asn(t, 64512 + (uint32_t)i % 16667,
						&e);
		by_asn[r] = (now_ns() - t0) / lookups;
		ixdata_free(t);
	}
	unlink(path);
	printf("ixdata: PeeringDB netixlan, %d entries, %.1f MB\n", PDB_ENTRIES,
	       size / 1e6);
	printf("  load_ms_median %.1f   (%.0f entries/s)\n",
	       median(load, repeat),
	       PDB_ENTRIES / (median(load, repeat) / 1e3));
	printf("  peak_rss_added_mb %.1f   (%.1f x the file)\n",
	       (rss1 - rss0) / 1024.0, (rss1 - rss0) * 1024.0 / size);
	printf("  find_addr_ns_median %.1f   find_asn_ns_median %.1f\n",
	       median(by_addr, repeat), median(by_asn, repeat));
}

int main(int argc, char **argv)
{
	static struct stream peer, zipf11, zipf08, dscp;
	static const struct {
		const char *name;
		const struct stream *st;
		uint32_t k;
	} cases[] = {
		{ "asn 90% one, k 80", &peer, 80 },
		{ "asn zipf 1.1, k 80", &zipf11, 80 },
		{ "asn zipf 1.1, k 40", &zipf11, 40 },
		{ "asn zipf 0.8, k 80", &zipf08, 80 },
		{ "dscp (64 keys), k 32", &dscp, 32 },
	};
	enum { NCASES = sizeof(cases) / sizeof(cases[0]) };
	double upd[NCASES][3][MAX_REPEAT], mrg1[MAX_REPEAT], mrg8[MAX_REPEAT];
	double sadd[MAX_REPEAT], cadd[MAX_REPEAT], st6[MAX_REPEAT],
		st30[MAX_REPEAT], st360[MAX_REPEAT];
	struct topn w[WORKERS], dst;
	struct rateslots_geom g;
	uint64_t *times, seed = 99;
	double *bytes;
	int repeat = 9, cpu = -1;

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

	stream_fill(&peer, KEYS, 1.1, 0.9, 4);
	stream_fill(&zipf11, KEYS, 1.1, 0, 1);
	stream_fill(&zipf08, KEYS, 0.8, 0, 2);
	stream_fill(&dscp, 64, 1.5, 0, 3);
	for (int i = 0; i < WORKERS; i++) {
		topn_init(&w[i], TOPN_DEFAULT_CAPACITY);
		for (uint32_t u = (uint32_t)i; u < UPDATES; u += WORKERS)
			if (topn_add(&w[i], zipf11.key[u], zipf11.w[u]) == -1)
				return 1;
	}
	topn_init(&dst, TOPN_DEFAULT_CAPACITY);
	if (rateslots_geom_init(&g, 0, 60000000000ull, 0) == -1)
		return 1;
	times = malloc(UPDATES * sizeof(*times));
	bytes = malloc(UPDATES * sizeof(*bytes));
	if (times == NULL || bytes == NULL)
		return 1;
	for (uint32_t i = 0; i < UPDATES; i++) {
		times[i] = rng_next(&seed) % 60000000000ull;
		bytes[i] = (double)zipf11.w[i] * 1024;
	}

	for (int r = 0; r < repeat; r++) {
		for (int c = 0; c < NCASES; c++) {
			upd[c][0][r] = run_topn(cases[c].st, cases[c].k);
			upd[c][1][r] = run_ref(cases[c].st, cases[c].k, false);
			upd[c][2][r] = run_ref(cases[c].st, cases[c].k, true);
		}
		mrg8[r] = run_merge8(w, &dst);
		{
			double t0 = now_ns();

			for (int i = 0; i < 20000; i++) {
				topn_reset(&dst);
				if (topn_merge(&dst, &w[0]) == -1 ||
				    topn_merge(&dst, &w[1]) == -1)
					return 1;
			}
			mrg1[r] = (now_ns() - t0) / 20000 / 2;
		}
		sadd[r] = run_slots_add(times, bytes, &g);
		cadd[r] = run_counter_add(&seed);
		st6[r] = run_slots_stats(60, &seed);
		st30[r] = run_slots_stats(300, &seed);
		st360[r] = run_slots_stats(3600, &seed);
	}

	printf("topn: update ns (median of %d runs of %u updates)\n", repeat,
	       UPDATES);
	printf("  %-22s %9s %9s %9s\n", "stream", "topn.c", "scan",
	       "hash+scan");
	for (int c = 0; c < NCASES; c++)
		printf("  %-22s %9.2f %9.2f %9.2f\n", cases[c].name,
		       median(upd[c][0], repeat), median(upd[c][1], repeat),
		       median(upd[c][2], repeat));
	printf("  (scan: linear scan of packed keys; hash+scan: hash index, "
	       "least count by a scan; reference variants)\n");
	printf("topn: merge of one full k=%d summary ns_median %.0f; 8 "
	       "workers into one us_median %.2f\n",
	       TOPN_DEFAULT_CAPACITY, median(mrg1, repeat),
	       median(mrg8, repeat) / 1000);
	printf("topn: bytes per summary: empty %zu, full k=%d %zu\n",
	       sizeof(struct topn), TOPN_DEFAULT_CAPACITY, topn_bytes(&w[0]));
	printf("rateslots: add_sample_ns_median %.2f   add_counter_ns_median "
	       "%.2f\n",
	       median(sadd, repeat), median(cadd, repeat));
	printf("rateslots: p95 ns_median: 6 slots %.0f, 30 slots %.0f, 360 "
	       "slots %.0f\n",
	       median(st6, repeat), median(st30, repeat),
	       median(st360, repeat));
	bench_ixdata(repeat < 5 ? repeat : 5);
	printf("runs %d%s\n", repeat, sink == 12345 ? " " : "");
	for (int i = 0; i < WORKERS; i++)
		topn_fini(&w[i]);
	topn_fini(&dst);
	free(times);
	free(bytes);
	return 0;
}
