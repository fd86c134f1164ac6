/*
 * delayline.c - peerscope-delayline: a user-space stand-in for netem
 * (which this kernel lacks) for the latency tests.  It forwards IP packets
 * between two TUN devices, normally one in each of two network
 * namespaces, after a fixed one-way delay, with optional jitter and loss:
 *
 *   namespace A            peerscope-delayline             namespace B
 *   [tun a] --read--> delay + jitter, loss --write--> [tun b]
 *   [tun a] <--write-- delay + jitter, loss <--read-- [tun b]
 *
 * Each direction is delayed on its own, so a round trip takes twice the
 * delay plus the forwarding cost (tens of microseconds).  Jitter adds a
 * uniform offset in [-jitter, +jitter] to each packet's delay on its own,
 * so packets can overtake each other as they do behind netem's jitter;
 * loss drops each packet with the given probability on its own, in each
 * direction (a round trip survives with probability (1 - p)^2).  The
 * random stream is seeded (--seed), so a run is reproducible.
 *
 * Usage: peerscope-delayline --a NETNS_PATH:TUN --b NETNS_PATH:TUN
 *        [--delay-us N] [--jitter-us J] [--loss-ppm P] [--seed S]
 *        [--duration-s D] [--rt]
 *
 * The TUN devices must exist (ip tuntap add ... mode tun); the program
 * attaches to them inside their namespaces (setns), prints "ready" on
 * standard output, and forwards until SIGTERM/SIGINT, until --duration-s
 * (default 600) has passed, or until its parent dies; it then prints one
 * JSON line of counters on standard output.  Packets wait in a fixed pool
 * (DL_POOL); a packet that finds the pool full is dropped and counted.
 * --rt asks for SCHED_FIFO so a loaded machine delays forwarding less.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define DL_POOL	   8192 /* packets in flight, both directions */
#define DL_MTU	   2048 /* bytes of one packet */
#define DL_BATCH   64	/* packets read per device per wakeup */
#define DL_MAX_US  10000000
#define DL_MAX_PPM 1000000

struct dl_packet {
	uint64_t release_ns; /* CLOCK_MONOTONIC */
	uint64_t order;	     /* arrival number: FIFO among equal times */
	uint16_t len;
	uint8_t to; /* 0 = write to a, 1 = write to b */
	uint8_t data[DL_MTU];
};

struct dl_dir_stats {
	uint64_t read, written, lost, pool_full, write_errors;
};

struct dl {
	int fd[2];
	uint64_t delay_ns, jitter_ns, loss_ppm, seed;
	struct dl_packet *pool;
	uint32_t free_top, free_list[DL_POOL];
	uint32_t heap_len, heap[DL_POOL]; /* pool slots, by release time */
	uint64_t arrivals;
	struct dl_dir_stats dir[2]; /* [0]: a -> b, [1]: b -> a */
};

static volatile sig_atomic_t dl_stop;

static void on_signal(int sig)
{
	(void)sig;
	dl_stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Heap order: release time, then arrival. */
static bool dl_before(const struct dl *d, uint32_t x, uint32_t y)
{
	const struct dl_packet *a = &d->pool[x], *b = &d->pool[y];

	return a->release_ns < b->release_ns ||
	       (a->release_ns == b->release_ns && a->order < b->order);
}

static void dl_heap_push(struct dl *d, uint32_t slot)
{
	uint32_t i = d->heap_len++;

	while (i > 0 && dl_before(d, slot, d->heap[(i - 1) / 2])) {
		d->heap[i] = d->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	d->heap[i] = slot;
}

static uint32_t dl_heap_pop(struct dl *d)
{
	uint32_t top = d->heap[0], last = d->heap[--d->heap_len], i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= d->heap_len)
			break;
		if (c + 1 < d->heap_len &&
		    dl_before(d, d->heap[c + 1], d->heap[c]))
			c++;
		if (!dl_before(d, d->heap[c], last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	d->heap[i] = last;
	return top;
}

/* Read what side `from` has waiting and queue it for the other side. */
static void dl_read(struct dl *d, int from)
{
	struct dl_dir_stats *st = &d->dir[from];

	for (int n = 0; n < DL_BATCH; n++) {
		uint8_t scratch[DL_MTU];
		struct dl_packet *p = NULL;
		uint32_t slot = 0;
		int64_t offset = 0;
		ssize_t len;

		if (d->free_top > 0) {
			slot = d->free_list[d->free_top - 1];
			p = &d->pool[slot];
		}
		len = read(d->fd[from], p ? p->data : scratch, DL_MTU);
		if (len <= 0)
			return; /* EAGAIN: drained */
		st->read++;
		if (p == NULL) {
			st->pool_full++;
			continue;
		}
		if (d->loss_ppm > 0 &&
		    rng_next(&d->seed) % DL_MAX_PPM < d->loss_ppm) {
			st->lost++;
			continue;
		}
		if (d->jitter_ns > 0)
			offset = (int64_t)(rng_next(&d->seed) %
					   (2 * d->jitter_ns + 1)) -
				 (int64_t)d->jitter_ns;
		d->free_top--;
		p->len = (uint16_t)len;
		p->to = (uint8_t)!from;
		p->order = d->arrivals++;
		p->release_ns =
			now_ns() + (uint64_t)((int64_t)d->delay_ns + offset);
		dl_heap_push(d, slot);
	}
}

/* Write every packet whose time has come; the next release time or 0. */
static uint64_t dl_release(struct dl *d)
{
	while (d->heap_len > 0) {
		struct dl_packet *p = &d->pool[d->heap[0]];
		uint32_t slot;

		if (p->release_ns > now_ns())
			return p->release_ns;
		slot = dl_heap_pop(d);
		if (write(d->fd[p->to], p->data, p->len) == p->len)
			d->dir[!p->to].written++;
		else
			d->dir[!p->to].write_errors++;
		d->free_list[d->free_top++] = slot;
	}
	return 0;
}

/* Attach to TUN device `name` inside the namespace at ns_path. */
static int dl_attach(const char *spec, int home_ns)
{
	char path[256];
	const char *colon = strrchr(spec, ':');
	struct ifreq ifr;
	int ns, fd;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(path) ||
	    strlen(colon + 1) >= IFNAMSIZ || colon[1] == '\0') {
		fprintf(stderr, "delayline: expected NETNS_PATH:TUN, got %s\n",
			spec);
		return -1;
	}
	memcpy(path, spec, (size_t)(colon - spec));
	path[colon - spec] = '\0';
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns == -1 || setns(ns, CLONE_NEWNET) == -1) {
		fprintf(stderr, "delayline: namespace %s: %s\n", path,
			strerror(errno));
		if (ns != -1)
			close(ns);
		return -1;
	}
	close(ns);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	memcpy(ifr.ifr_name, colon + 1, strlen(colon + 1));
	if (fd == -1 || ioctl(fd, TUNSETIFF, &ifr) == -1) {
		fprintf(stderr, "delayline: tun %s in %s: %s\n", colon + 1,
			path, strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	if (setns(home_ns, CLONE_NEWNET) == -1) {
		fprintf(stderr, "delayline: back to own namespace: %s\n",
			strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static void dl_print_stats(const struct dl *d)
{
	printf("{\"a_to_b\":{\"read\":%llu,\"written\":%llu,\"lost\":%llu,"
	       "\"pool_full\":%llu,\"write_errors\":%llu},"
	       "\"b_to_a\":{\"read\":%llu,\"written\":%llu,\"lost\":%llu,"
	       "\"pool_full\":%llu,\"write_errors\":%llu}}\n",
	       (unsigned long long)d->dir[0].read,
	       (unsigned long long)d->dir[0].written,
	       (unsigned long long)d->dir[0].lost,
	       (unsigned long long)d->dir[0].pool_full,
	       (unsigned long long)d->dir[0].write_errors,
	       (unsigned long long)d->dir[1].read,
	       (unsigned long long)d->dir[1].written,
	       (unsigned long long)d->dir[1].lost,
	       (unsigned long long)d->dir[1].pool_full,
	       (unsigned long long)d->dir[1].write_errors);
	fflush(stdout);
}

static int usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s --a NETNS_PATH:TUN --b NETNS_PATH:TUN "
		"[--delay-us N] [--jitter-us J] [--loss-ppm P] [--seed S] "
		"[--duration-s D] [--rt]\n",
		argv0);
	return 2;
}

int main(int argc, char **argv)
{
	static struct dl d;
	const char *side[2] = { NULL, NULL };
	uint64_t delay_us = 0, jitter_us = 0, duration_s = 600, deadline;
	struct sigaction sa;
	bool rt = false;
	int home;

	d.seed = 1;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;

		if (strcmp(argv[i], "--rt") == 0) {
			rt = true;
			continue;
		}
		if (v == NULL)
			return usage(argv[0]);
		if (strcmp(argv[i], "--a") == 0)
			side[0] = v;
		else if (strcmp(argv[i], "--b") == 0)
			side[1] = v;
		else if (strcmp(argv[i], "--delay-us") == 0)
			rc = parse_u64(v, DL_MAX_US, &delay_us);
		else if (strcmp(argv[i], "--jitter-us") == 0)
			rc = parse_u64(v, DL_MAX_US, &jitter_us);
		else if (strcmp(argv[i], "--loss-ppm") == 0)
			rc = parse_u64(v, DL_MAX_PPM, &d.loss_ppm);
		else if (strcmp(argv[i], "--seed") == 0)
			rc = parse_u64(v, UINT64_MAX, &d.seed);
		else if (strcmp(argv[i], "--duration-s") == 0)
			rc = parse_u64(v, 86400, &duration_s);
		else
			return usage(argv[0]);
		if (rc == -1)
			return usage(argv[0]);
		i++;
	}
	if (side[0] == NULL || side[1] == NULL || jitter_us > delay_us) {
		fprintf(stderr, "delayline: --a and --b are needed; jitter "
				"may not exceed the delay\n");
		return usage(argv[0]);
	}
	d.delay_ns = delay_us * 1000;
	d.jitter_ns = jitter_us * 1000;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	prctl(PR_SET_TIMERSLACK, 1UL); /* wake on time, not 50 us late */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (rt) {
		struct sched_param sp = { .sched_priority = 10 };

		if (sched_setscheduler(0, SCHED_FIFO, &sp) == -1)
			fprintf(stderr,
				"delayline: SCHED_FIFO: %s (running "
				"without)\n",
				strerror(errno));
	}

	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home == -1)
		return 1;
	for (int s = 0; s < 2; s++)
		if ((d.fd[s] = dl_attach(side[s], home)) == -1)
			return 1;
	close(home);
	d.pool = calloc(DL_POOL, sizeof(*d.pool));
	if (d.pool == NULL)
		return 1;
	for (uint32_t i = 0; i < DL_POOL; i++)
		d.free_list[d.free_top++] = DL_POOL - 1 - i;

	printf("ready\n");
	fflush(stdout);
	deadline = now_ns() + duration_s * 1000000000u;
	while (!dl_stop && now_ns() < deadline) {
		struct pollfd pfd[2] = { { d.fd[0], POLLIN, 0 },
					 { d.fd[1], POLLIN, 0 } };
		uint64_t next = dl_release(&d), now = now_ns();
		uint64_t wait = next ? next - (next > now ? now : next) :
				       100000000u; /* 100 ms: check the clock */
		struct timespec ts = { (time_t)(wait / 1000000000u),
				       (long)(wait % 1000000000u) };

		if (ppoll(pfd, 2, &ts, NULL) == -1 && errno != EINTR)
			break;
		for (int s = 0; s < 2; s++)
			if (pfd[s].revents & POLLIN)
				dl_read(&d, s);
	}
	dl_print_stats(&d);
	return 0;
}
