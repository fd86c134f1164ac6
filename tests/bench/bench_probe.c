/*
 * bench_probe.c - the probe engine's issue 12 target, measured (not
 * asserted): 10,000 targets at a 1 s interval with < 5 % of one core.
 *
 * Targets are loopback addresses (127.1.0.1 ...: the kernel answers every
 * address of 127.0.0.0/8), one per target, probed with one method.  The
 * engine runs in its own thread as in the collector; the main thread pops
 * the windows (2 s) and otherwise sleeps.  After a warm-up (the first
 * window; phases are random, so sends are spread from the start), the
 * process CPU time (user + system, getrusage) over --seconds of wall time
 * is the figure, as a share of one core and per probe; repeated --repeat
 * times, medians quoted.
 *
 * On loopback the kernel's side of each probe (the echo reply, the RST of
 * a closed port) also runs in this process's system time when it is
 * processed in the sending syscall; on a real path it runs on the router.
 * So the figure is an upper bound of the engine's own cost.
 *
 * --base ADDRESS numbers the targets from another address instead: an
 * IPv6 base plus 1, 2, ... (bench_probe_netns.py puts 10,000 of them
 * behind the delay line in another namespace, whose kernel answers: then
 * only the prober's side of each probe runs here).
 *
 * Usage: peerscope-bench-probe [--targets N] [--seconds S] [--repeat R]
 *        [--method icmp|tcp] [--socket auto|dgram|raw] [--user-timestamps]
 *        [--base IPV6]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "probe.h"

#define MAX_REPEAT 15

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
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

/* Pop and free windows; the last counters seen are kept in *c. */
static void drain(struct ring *out, struct probe_counters *c)
{
	struct probe_window *w;

	while ((w = ring_pop(out)) != NULL) {
		*c = w->counters;
		probe_window_free(w);
	}
}

static void sleep_until(double t, struct ring *out, struct probe_counters *c)
{
	while (mono_s() < t) {
		drain(out, c);
		usleep(100000);
	}
}

int main(int argc, char **argv)
{
	static struct ps_config cfg;
	unsigned long ntargets = 10000;
	double seconds = 20, share[MAX_REPEAT], per_probe[MAX_REPEAT];
	int repeat = 3;
	const char *method = "icmp", *base = NULL;
	struct probe_target *t;
	char err[512];

	config_init(&cfg);
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";

		if (strcmp(argv[i], "--targets") == 0)
			ntargets = strtoul(v, NULL, 10), i++;
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(v), i++;
		else if (strcmp(argv[i], "--repeat") == 0)
			repeat = atoi(v), i++;
		else if (strcmp(argv[i], "--method") == 0)
			method = v, i++;
		else if (strcmp(argv[i], "--base") == 0)
			base = v, i++;
		else if (strcmp(argv[i], "--socket") == 0) {
			if (config_set(&cfg, "probes.icmp.socket", v, err,
				       sizeof(err)) == -1) {
				fprintf(stderr, "%s\n", err);
				return 2;
			}
			i++;
		} else if (strcmp(argv[i], "--user-timestamps") == 0)
			cfg.probes.kernel_timestamps = false;
		else {
			fprintf(stderr,
				"usage: %s [--targets N] [--seconds S] "
				"[--repeat R] [--method icmp|tcp] [--socket "
				"auto|dgram|raw] [--user-timestamps]\n",
				argv[0]);
			return 2;
		}
	}
	if (repeat < 1 || repeat > MAX_REPEAT || ntargets < 1 ||
	    ntargets > 250 * 250 || (base != NULL && ntargets > 65535))
		return 2;
	cfg.probes.icmp.enabled = strcmp(method, "icmp") == 0;
	cfg.probes.tcp.enabled = strcmp(method, "tcp") == 0;
	cfg.probes.tcp.port = 9; /* discard: closed on loopback, an RST */
	cfg.probes.max_targets = (uint32_t)ntargets;

	t = calloc(ntargets, sizeof(*t));
	if (t == NULL)
		return 1;
	for (unsigned long i = 0; i < ntargets; i++) {
		snprintf(t[i].id, sizeof(t[i].id), "t%lu", i);
		if (base != NULL) {
			t[i].addr.af = 6;
			if (inet_pton(AF_INET6, base, t[i].addr.bytes) != 1) {
				fprintf(stderr, "--base: not IPv6: %s\n", base);
				return 2;
			}
			t[i].addr.bytes[14] = (uint8_t)((i + 1) >> 8);
			t[i].addr.bytes[15] = (uint8_t)(i + 1);
			continue;
		}
		t[i].addr.af = 4;
		t[i].addr.bytes[0] = 127;
		t[i].addr.bytes[1] = 1;
		t[i].addr.bytes[2] = (uint8_t)(i / 250);
		t[i].addr.bytes[3] = (uint8_t)(1 + i % 250);
	}
	for (int r = 0; r < repeat; r++) {
		struct probe_counters c0, c1;
		struct probe_engine *e;
		struct ring out;
		double t0, cpu0;

		memset(&c0, 0, sizeof(c0));
		if (ring_init(&out, 64) == -1)
			return 1;
		e = probe_engine_new(&cfg.probes, 2, t, ntargets, &out, err,
				     sizeof(err));
		if (e == NULL) {
			fprintf(stderr, "refused: %s\n", err);
			return 1;
		}
		if (probe_engine_start(e) == -1)
			return 1;
		sleep_until(mono_s() + 3, &out, &c0); /* warm-up */
		c1 = c0;
		t0 = mono_s();
		cpu0 = cpu_s();
		sleep_until(t0 + seconds, &out, &c1);
		share[r] = (cpu_s() - cpu0) / (mono_s() - t0);
		/* per probe at the nominal rate: the counters come with
		 * windows, which are handed over a timeout after they end */
		per_probe[r] = share[r] * 1e9 * cfg.probes.interval_ms /
			       1000.0 / (double)ntargets;
		printf("run %d: %s via %s, %lu targets: %.2f %% of one core, "
		       "%.0f ns CPU per probe; in the windows handed over "
		       "meanwhile: sent %llu answered %llu lost %llu skipped "
		       "%llu rate_limited %llu rx_overflow %llu kernel_tx %llu "
		       "user_tx %llu\n",
		       r + 1, method,
		       probe_engine_socket_kind(e, cfg.probes.icmp.enabled ?
							   PROBE_ICMP :
							   PROBE_TCP),
		       ntargets, 100 * share[r], per_probe[r],
		       (unsigned long long)(c1.sent - c0.sent),
		       (unsigned long long)(c1.answered - c0.answered),
		       (unsigned long long)(c1.lost - c0.lost),
		       (unsigned long long)(c1.skipped - c0.skipped),
		       (unsigned long long)(c1.rate_limited - c0.rate_limited),
		       (unsigned long long)(c1.rx_overflow - c0.rx_overflow),
		       (unsigned long long)(c1.kernel_tx - c0.kernel_tx),
		       (unsigned long long)(c1.user_tx - c0.user_tx));
		fflush(stdout);
		probe_engine_free(e);
		drain(&out, &c1);
		ring_fini(&out);
	}
	printf("median: %.2f %% of one core (target < 5 %%), %.0f ns per "
	       "probe, %d runs of %.0f s\n",
	       100 * median(share, repeat), median(per_probe, repeat), repeat,
	       seconds);
	free(t);
	return 0;
}
