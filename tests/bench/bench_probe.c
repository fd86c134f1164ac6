/*
 * bench_probe.c - the probe engine's issue 12 target, measured (not
 * asserted): 10,000 targets at a 1 s interval with < 5 % of one core.
 *
 * Targets are loopback addresses (127.1.0.1 ...: the kernel answers every
 * address of 127.0.0.0/8), one per target, probed with one method.  The
 * engine runs in its own thread as in the collector; the main thread pops
 * the windows (--window, default 60 s as in the collector) and otherwise
 * sleeps.  After a 3 s warm-up (phases are random, so sends are spread
 * from the start), the process CPU time (user + system, getrusage) over
 * --seconds of wall time is the figure, as a share of one core and per
 * probe at the nominal rate; repeated --repeat times, medians quoted.  The
 * engine's counters over the whole run come from the windows it hands
 * over when stopped.
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
 *        [--base IPV6] [--window S] [--floor]
 *
 * --floor (ICMP, raw socket: root) runs after each engine run a bare
 * send/receive loop over the same targets (run_floor) and prints the
 * engine / floor ratio of each run: what the engine adds to the kernel's
 * own cost of the packets.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "base/config.h"
#include "probe/probe.h"
#include "probe/probe_icmp.h"

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

/*
 * The floor: what the same probes cost without the engine.  A bare loop
 * on one raw ICMP socket of the targets' family: every 5 ms, one
 * sendmmsg() of the echo requests due (targets / interval x 5 ms of them,
 * the engine's batch), then recvmmsg() until empty, the error queue too
 * when kernel timestamps are on; no scheduling, matching or windows.
 * Run after each engine run for a same-run ratio.  The CPU share of one
 * core over `seconds`.
 */
static double run_floor(const struct probe_target *t, unsigned long n,
			double seconds, bool stamps)
{
	enum { BATCH = 256 };
	static struct mmsghdr m[BATCH], rm[64];
	static struct iovec iov[BATCH], riov[64];
	static struct sockaddr_storage to[BATCH];
	static uint8_t pkt[BATCH][64], rb[64][256], ctl[64][256];
	int flags = SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE |
		    SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
		    SOF_TIMESTAMPING_OPT_TSONLY;
	int af = t[0].addr.af == 6 ? AF_INET6 : AF_INET;
	int fd = socket(af, SOCK_RAW | SOCK_NONBLOCK,
			af == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	unsigned long per_batch = n / 200 ? n / 200 : 1, k = 0;
	double t0, cpu0, share;

	if (fd == -1 || per_batch > BATCH)
		return -1;
	if (stamps)
		(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags,
				 sizeof(flags));
	for (int i = 0; i < 64; i++) {
		riov[i].iov_base = rb[i];
		riov[i].iov_len = sizeof(rb[i]);
	}
	t0 = mono_s();
	cpu0 = cpu_s();
	while (mono_s() - t0 < seconds) {
		for (unsigned long i = 0; i < per_batch; i++, k++) {
			const struct ps_addr *a = &t[k % n].addr;
			struct probe_icmp_echo e = { .sequence = (uint16_t)k,
						     .probe = (uint32_t)k };

			probe_icmp_build(pkt[i], a->af, &e);
			memset(&to[i], 0, sizeof(to[i]));
			if (a->af == 4) {
				struct sockaddr_in *sin = (void *)&to[i];

				sin->sin_family = AF_INET;
				memcpy(&sin->sin_addr, a->bytes, 4);
			} else {
				struct sockaddr_in6 *sin6 = (void *)&to[i];

				sin6->sin6_family = AF_INET6;
				memcpy(&sin6->sin6_addr, a->bytes, 16);
			}
			iov[i].iov_base = pkt[i];
			iov[i].iov_len = PROBE_ICMP_LEN;
			memset(&m[i], 0, sizeof(m[i]));
			m[i].msg_hdr.msg_name = &to[i];
			m[i].msg_hdr.msg_namelen = sizeof(to[i]);
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		(void)sendmmsg(fd, m, (unsigned)per_batch, 0);
		for (int q = 0; q < 1 + stamps; q++) {
			int got;

			do {
				for (int i = 0; i < 64; i++) {
					memset(&rm[i], 0, sizeof(rm[i]));
					rm[i].msg_hdr.msg_iov = &riov[i];
					rm[i].msg_hdr.msg_iovlen = 1;
					rm[i].msg_hdr.msg_control = ctl[i];
					rm[i].msg_hdr.msg_controllen =
						sizeof(ctl[i]);
				}
				got = recvmmsg(fd, rm, 64,
					       MSG_DONTWAIT |
						       (q ? MSG_ERRQUEUE : 0),
					       NULL);
			} while (got == 64);
		}
		usleep(5000);
	}
	share = (cpu_s() - cpu0) / (mono_s() - t0);
	close(fd);
	return share;
}

int main(int argc, char **argv)
{
	static struct ps_config cfg;
	unsigned long ntargets = 10000;
	double seconds = 20, share[MAX_REPEAT], per_probe[MAX_REPEAT];
	double floor_share[MAX_REPEAT];
	bool floor = false;
	unsigned long window = 60;
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
		else if (strcmp(argv[i], "--window") == 0)
			window = strtoul(v, NULL, 10), i++;
		else if (strcmp(argv[i], "--floor") == 0)
			floor = true;
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
		struct probe_counters c;
		const char *kind;
		struct probe_engine *e;
		struct ring out;
		double t0, cpu0;

		memset(&c, 0, sizeof(c));
		if (ring_init(&out, 64) == -1)
			return 1;
		e = probe_engine_new(&cfg.probes, (uint32_t)window, t, ntargets,
				     &out, err, sizeof(err));
		if (e == NULL) {
			fprintf(stderr, "refused: %s\n", err);
			return 1;
		}
		kind = probe_engine_socket_kind(
			e, cfg.probes.icmp.enabled ? PROBE_ICMP : PROBE_TCP);
		if (probe_engine_start(e) == -1)
			return 1;
		sleep_until(mono_s() + 3, &out, &c); /* warm-up */
		t0 = mono_s();
		cpu0 = cpu_s();
		sleep_until(t0 + seconds, &out, &c);
		share[r] = (cpu_s() - cpu0) / (mono_s() - t0);
		/* per probe at the nominal rate of targets / interval */
		per_probe[r] = share[r] * 1e9 * cfg.probes.interval_ms /
			       1000.0 / (double)ntargets;
		probe_engine_free(e); /* stops: the open windows come out */
		drain(&out, &c);
		ring_fini(&out);
		printf("run %d: %s via %s, %lu targets: %.2f %% of one core, "
		       "%.0f ns CPU per probe; whole run: sent %llu answered "
		       "%llu lost %llu skipped %llu rate_limited %llu "
		       "rx_overflow %llu kernel_tx %llu user_tx %llu\n",
		       r + 1, method, kind, ntargets, 100 * share[r],
		       per_probe[r], (unsigned long long)c.sent,
		       (unsigned long long)c.answered,
		       (unsigned long long)c.lost,
		       (unsigned long long)c.skipped,
		       (unsigned long long)c.rate_limited,
		       (unsigned long long)c.rx_overflow,
		       (unsigned long long)c.kernel_tx,
		       (unsigned long long)c.user_tx);
		fflush(stdout);
		if (!floor)
			continue;
		floor_share[r] = run_floor(t, ntargets, seconds,
					   cfg.probes.kernel_timestamps);
		printf("run %d: the floor (bare send/receive loop%s): %.2f %% "
		       "of one core; engine / floor %.2f\n",
		       r + 1,
		       cfg.probes.kernel_timestamps ? ", kernel timestamps" :
						      "",
		       100 * floor_share[r], share[r] / floor_share[r]);
		fflush(stdout);
	}
	printf("median: %.2f %% of one core (target < 5 %%), %.0f ns per "
	       "probe, %d runs of %.0f s\n",
	       100 * median(share, repeat), median(per_probe, repeat), repeat,
	       seconds);
	if (floor) {
		double ratio[MAX_REPEAT];

		for (int r = 0; r < repeat; r++)
			ratio[r] = share[r] / floor_share[r];
		printf("floor median: %.2f %% of one core; engine / floor "
		       "median %.2f (same-run ratios)\n",
		       100 * median(floor_share, repeat),
		       median(ratio, repeat));
	}
	free(t);
	return 0;
}
