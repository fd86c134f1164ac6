/*
 * probe.c - the probe engine: targets and slots, the loop of its thread,
 * scheduling, timeouts, in-order retirement and windows (probe.h); the
 * sockets are in probe_io.c.
 *
 * One pass of the loop: decide the probes whose timeout passed, send what
 * is due (probe_sched), hand over the windows whose last probe is decided,
 * then epoll_wait until the earliest of the next send, timeout or window
 * end, and read what arrived.
 */
#include "probe/probe.h"
#include "probe/probe_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS    1000000ULL
#define NS_PER_S     1000000000ULL
#define WINDOW_GRACE (50 * NS_PER_MS) /* clock readings apart */
/* Sends due within this are sent together: fewer wake-ups and fuller
 * batches, at a cost far below the send jitter. */
#define SEND_SLACK (5 * NS_PER_MS)
/* Timeouts due within this are decided together (a lost probe is not
 * late for being declared lost 10 ms after its timeout). */
#define TIMEOUT_SLACK (10 * NS_PER_MS)

static const char *const probe_method_names[] = {
#define PROBE_METHOD_NAME_(id, name) [PROBE_##id] = name,
	PROBE_METHODS(PROBE_METHOD_NAME_)
#undef PROBE_METHOD_NAME_
};

static const char *const probe_source_names[] = {
#define PROBE_SOURCE_NAME_(id, name) [PROBE_##id] = "probe_" name,
	PROBE_METHODS(PROBE_SOURCE_NAME_)
#undef PROBE_SOURCE_NAME_
};

const char *probe_method_name(enum probe_method m)
{
	if ((unsigned)m >= PROBE_METHOD_COUNT)
		return "unknown";
	return probe_method_names[m];
}

const char *probe_source_name(enum probe_method m)
{
	if ((unsigned)m >= PROBE_METHOD_COUNT)
		return "unknown";
	return probe_source_names[m];
}

const struct ps_probe_method *
probe_method_config(const struct ps_probe_config *pc, enum probe_method m)
{
	switch (m) {
	case PROBE_ICMP:
		return &pc->icmp;
	case PROBE_TCP:
		return &pc->tcp;
	case PROBE_STAMP:
	default:
		return &pc->stamp;
	}
}

uint64_t probe_mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * NS_PER_S + (uint64_t)t.tv_nsec;
}

int64_t probe_real_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * (int64_t)NS_PER_S + t.tv_nsec;
}

/* ---- targets and results ------------------------------------------ */

int probe_target_check(const struct ps_addr *a, char *why, size_t whylen)
{
	const uint8_t *b = a->bytes;
	static const uint8_t zero[16];
	const char *bad = NULL;

	if (a->af == 4) {
		if (b[0] == 0)
			bad = "in 0.0.0.0/8 (this network)";
		else if (b[0] >= 224 && b[0] < 240)
			bad = "multicast";
		else if (b[0] == 255 && b[1] == 255 && b[2] == 255 &&
			 b[3] == 255)
			bad = "the limited broadcast address";
		else if (b[0] >= 240)
			bad = "in 240.0.0.0/4 (reserved)";
	} else if (a->af == 6) {
		if (memcmp(b, zero, 16) == 0)
			bad = "the unspecified address";
		else if (b[0] == 0xff)
			bad = "multicast";
		else if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
			bad = "link-local (needs an interface; not supported)";
		else if (memcmp(b, zero, 10) == 0 && b[10] == 0xff &&
			 b[11] == 0xff)
			bad = "IPv4-mapped (give the IPv4 address)";
	} else {
		bad = "not an IPv4 or IPv6 address";
	}
	if (bad == NULL)
		return 0;
	snprintf(why, whylen, "not a unicast address: %s", bad);
	return -1;
}

double probe_result_loss_pct(const struct probe_result *r)
{
	return r->sent ? 100.0 * r->lost / r->sent : 0.0;
}

double probe_result_jitter_ms(const struct probe_result *r)
{
	if (r->jitter_pairs == 0)
		return NAN;
	return (double)r->jitter_sum_ns / r->jitter_pairs / 1e6;
}

double probe_result_availability(const struct probe_result *r)
{
	return r->sent ? (double)r->answered / r->sent : NAN;
}

void probe_window_free(struct probe_window *w)
{
	if (w == NULL)
		return;
	for (uint32_t i = 0; i < w->count; i++)
		sketch_fini(&w->result[i].rtt);
	free(w);
}

/* ---- windows -------------------------------------------------------- */

static void acc_init(struct probe_engine *e, struct probe_result *acc,
		     uint32_t slot)
{
	const struct probe_slot *s = &e->slot[slot];
	const struct probe_target *t = &e->targets[s->target];

	memset(acc, 0, sizeof(*acc));
	acc->target = s->target;
	memcpy(acc->target_id, t->id, sizeof(acc->target_id));
	acc->addr = t->addr;
	acc->method = (enum probe_method)s->method;
	sketch_init(&acc->rtt, 0);
}

static bool acc_active(const struct probe_result *r)
{
	return r->sent || r->skipped || r->send_errors || r->late;
}

/* The accumulator of slot in the window starting at start, or NULL. */
static struct probe_result *window_acc(struct probe_engine *e, uint64_t start,
				       uint32_t slot)
{
	for (int i = 0; i < PROBE_OPEN_WINDOWS; i++)
		if (e->win[i].used && e->win[i].start_ns == start)
			return &e->win[i].acc[slot];
	return NULL;
}

/* Hand window i over (or count it dropped) and make it free. */
static void window_close(struct probe_engine *e, int i, bool partial)
{
	struct probe_open_window *w = &e->win[i];
	struct probe_window *out;
	uint32_t n = 0, k = 0;

	for (uint32_t s = 0; s < e->nslots; s++)
		n += acc_active(&w->acc[s]);
	out = calloc(1, sizeof(*out) + n * sizeof(out->result[0]));
	if (out != NULL) {
		out->start_ns = w->start_ns;
		out->end_ns = w->start_ns + e->window_ns;
		out->partial = partial;
		out->count = n;
	}
	for (uint32_t s = 0; s < e->nslots; s++) {
		if (!acc_active(&w->acc[s]))
			continue;
		if (out != NULL) {
			out->result[k] = w->acc[s];
			sketch_move(&out->result[k].rtt, &w->acc[s].rtt);
			k++;
		}
		sketch_fini(&w->acc[s].rtt);
		acc_init(e, &w->acc[s], s);
	}
	w->used = false;
	if (out == NULL) {
		e->c.windows_dropped++;
		return;
	}
	out->counters = e->c;
	if (!ring_push(e->out, out)) {
		e->c.windows_dropped++;
		probe_window_free(out);
	}
}

/* The window of a send at now_real: opened when new (closing the oldest
 * early if the loop fell behind). */
static uint64_t window_for(struct probe_engine *e, int64_t now_real)
{
	uint64_t start = (uint64_t)now_real / e->window_ns * e->window_ns;
	int free_i = -1, oldest = 0;

	for (int i = 0; i < PROBE_OPEN_WINDOWS; i++) {
		if (e->win[i].used && e->win[i].start_ns == start)
			return start;
		if (!e->win[i].used && free_i < 0)
			free_i = i;
		if (e->win[i].used &&
		    e->win[i].start_ns < e->win[oldest].start_ns)
			oldest = i;
	}
	if (free_i < 0) {
		window_close(e, oldest, true);
		free_i = oldest;
	}
	e->win[free_i].used = true;
	e->win[free_i].start_ns = start;
	return start;
}

static void windows_close_due(struct probe_engine *e, int64_t now_real)
{
	for (int i = 0; i < PROBE_OPEN_WINDOWS; i++) {
		struct probe_open_window *w = &e->win[i];

		if (w->used && now_real >= 0 &&
		    (uint64_t)now_real >= w->start_ns + e->window_ns +
						  e->max_timeout_ns +
						  WINDOW_GRACE)
			window_close(e, i, false);
	}
}

/* The wall-clock time the next window closes, or UINT64_MAX. */
static uint64_t windows_next_close(const struct probe_engine *e)
{
	uint64_t t = UINT64_MAX;

	for (int i = 0; i < PROBE_OPEN_WINDOWS; i++) {
		uint64_t c = e->win[i].start_ns + e->window_ns +
			     e->max_timeout_ns + WINDOW_GRACE;

		if (e->win[i].used && c < t)
			t = c;
	}
	return t;
}

/* ---- in flight, decided, retired ----------------------------------- */

struct probe_pending *probe_in_flight(struct probe_engine *e,
				      struct probe_slot *s, uint32_t probe)
{
	struct probe_pending *p;

	if (probe - s->retired >= s->next_probe - s->retired)
		return NULL; /* not sent, or already counted */
	p = &s->pending[probe & (e->pending_n - 1)];
	if (p->probe != probe || p->state != PENDING_WAITING)
		return NULL;
	return p;
}

/* Count p (decided) into its window. */
static void retire(struct probe_engine *e, struct probe_slot *s,
		   struct probe_pending *p)
{
	struct probe_result *acc =
		window_acc(e, p->window_start_ns, (uint32_t)(s - e->slot));

	if (p->state == PENDING_LOST) {
		e->c.lost++;
		if (acc != NULL) {
			acc->lost++;
			acc->unreachable += p->unreachable;
		}
		return;
	}
	e->c.answered++;
	if (p->tx_kernel)
		e->c.kernel_tx++;
	else
		e->c.user_tx++;
	if (p->rx_kernel)
		e->c.kernel_rx++;
	else
		e->c.user_rx++;
	if (acc == NULL)
		return;
	acc->answered++;
	acc->refused += p->refused;
	if (sketch_insert_checked(&acc->rtt, p->rtt_ns, 1, &e->rtt_limits,
				  &acc->rejects) == -1)
		return;
	acc->kernel_timed += p->tx_kernel && p->rx_kernel;
	if (s->last_rtt_ns >= 0) {
		int64_t d = p->rtt_ns - s->last_rtt_ns;

		acc->jitter_sum_ns += (uint64_t)(d < 0 ? -d : d);
		acc->jitter_pairs++;
	}
	s->last_rtt_ns = p->rtt_ns;
}

void probe_retire(struct probe_engine *e, struct probe_slot *s)
{
	while (s->retired != s->next_probe) {
		struct probe_pending *q =
			&s->pending[s->retired & (e->pending_n - 1)];

		if (q->state == PENDING_WAITING)
			break;
		retire(e, s, q);
		s->retired++;
	}
}

bool probe_late(struct probe_engine *e, struct probe_slot *s, uint32_t probe)
{
	struct probe_pending *p = &s->pending[probe & (e->pending_n - 1)];
	struct probe_result *acc;

	if (p->probe != probe || p->state != PENDING_LOST)
		return false;
	p->state = PENDING_FREE; /* a second late copy is a duplicate */
	e->c.late++;
	acc = window_acc(e, p->window_start_ns, (uint32_t)(s - e->slot));
	if (acc != NULL)
		acc->late++;
	return true;
}

/* ---- timeouts and sends --------------------------------------------- */

static void timeouts_push(struct probe_timeouts *t, uint32_t slot,
			  uint32_t probe, uint64_t deadline)
{
	/* sized for every pending entry of the method's slots: never full */
	t->q[(t->head + t->len++) % t->cap] =
		(struct probe_timeout){ slot, probe, deadline };
}

static void timeouts_run(struct probe_engine *e, uint64_t now_mono)
{
	for (int m = 0; m < PROBE_METHOD_COUNT; m++) {
		struct probe_timeouts *t = &e->to[m];
		bool read = false;

		while (t->len > 0 && t->q[t->head].deadline_ns <= now_mono) {
			struct probe_timeout *o = &t->q[t->head];
			struct probe_slot *s = &e->slot[o->slot];
			struct probe_pending *p =
				probe_in_flight(e, s, o->probe);

			if (p != NULL && !read) {
				/* a reply may be waiting in a muted socket */
				probe_io_read_method(e, (enum probe_method)m,
						     now_mono);
				read = true;
				continue;
			}
			t->head = (t->head + 1) % t->cap;
			t->len--;
			if (p == NULL)
				continue; /* answered in time */
			probe_io_tcp_close(e, p);
			p->state = PENDING_LOST;
			probe_retire(e, s);
		}
	}
}

/*
 * The next deadline of a probe still in flight (entries of answered
 * probes are dropped on the way, so they cause no wake-up).
 */
static uint64_t timeouts_next(struct probe_engine *e)
{
	uint64_t t = UINT64_MAX;

	for (int m = 0; m < PROBE_METHOD_COUNT; m++) {
		struct probe_timeouts *q = &e->to[m];

		while (q->len > 0 &&
		       probe_in_flight(e, &e->slot[q->q[q->head].slot],
				       q->q[q->head].probe) == NULL) {
			q->head = (q->head + 1) % q->cap;
			q->len--;
		}
		if (q->len > 0 && q->q[q->head].deadline_ns < t)
			t = q->q[q->head].deadline_ns;
	}
	return t;
}

static void count_skipped(struct probe_engine *e, uint32_t slot,
			  uint64_t window, uint32_t n)
{
	struct probe_result *acc = window_acc(e, window, slot);

	e->c.skipped += n;
	if (acc != NULL)
		acc->skipped += n;
}

/* Send slot's probe for its nominal time (due now) and schedule the next. */
static void send_slot(struct probe_engine *e, uint32_t idx, uint64_t now_mono)
{
	struct probe_slot *s = &e->slot[idx];
	int64_t now_real = probe_real_ns();
	uint64_t window = window_for(e, now_real);
	struct probe_pending *p;
	uint32_t missed = 0;

	/* nominal times that passed whole while the send waited */
	if (now_mono >= s->nominal_ns + e->interval_ns) {
		missed =
			(uint32_t)((now_mono - s->nominal_ns) / e->interval_ns);
		s->nominal_ns += (uint64_t)missed * e->interval_ns;
		count_skipped(e, idx, window, missed);
	}
	s->nominal_ns += e->interval_ns;
	probe_sched_add(&e->sched, idx,
			probe_sched_jittered(&e->sched, s->nominal_ns));

	if (s->next_probe - s->retired >= e->pending_n ||
	    (s->method == PROBE_TCP && e->tcp_open >= e->tcp_cap)) {
		count_skipped(e, idx, window, 1);
		return;
	}
	p = &s->pending[s->next_probe & (e->pending_n - 1)];
	memset(p, 0, sizeof(*p));
	p->probe = s->next_probe;
	p->fd = -1;
	p->sent_mono_ns = now_mono;
	p->window_start_ns = window;
	probe_io_send(e, s, p, now_real);
}

void probe_sent(struct probe_engine *e, uint32_t idx, bool ok)
{
	struct probe_slot *s = &e->slot[idx];
	struct probe_pending *p =
		&s->pending[s->next_probe & (e->pending_n - 1)];
	struct probe_result *acc = window_acc(e, p->window_start_ns, idx);

	if (!ok) {
		p->state = PENDING_FREE;
		e->c.send_errors++;
		if (acc != NULL)
			acc->send_errors++;
		return;
	}
	if (p->state == PENDING_FREE)
		p->state = PENDING_WAITING;
	s->next_probe++;
	e->c.sent++;
	if (acc != NULL)
		acc->sent++;
	timeouts_push(&e->to[s->method], idx, p->probe,
		      p->sent_mono_ns + e->to[s->method].timeout_ns);
	if (p->state != PENDING_WAITING) /* TCP: decided at connect() */
		probe_retire(e, s);
}

static void send_due(struct probe_engine *e, uint64_t now_mono)
{
	uint32_t idx;

	while (probe_sched_next_send(&e->sched, now_mono, &idx,
				     &e->c.rate_limited))
		send_slot(e, idx, now_mono);
	probe_io_flush(e);
}

/* ---- the loop ------------------------------------------------------- */

static bool nothing_in_flight(const struct probe_engine *e)
{
	for (int m = 0; m < PROBE_METHOD_COUNT; m++)
		if (e->to[m].len > 0)
			return false;
	return true;
}

static int wait_ms(struct probe_engine *e, uint64_t now_mono, int64_t now_real)
{
	uint64_t next = timeouts_next(e), close_real = windows_next_close(e);
	uint64_t rearm = probe_io_next_rearm(e);

	if (next != UINT64_MAX)
		next += TIMEOUT_SLACK;
	if (rearm < next)
		next = rearm;

	if (!e->draining) {
		uint64_t s = probe_sched_next(&e->sched, now_mono);

		if (s != UINT64_MAX && s + SEND_SLACK < next)
			next = s + SEND_SLACK;
	}
	if (close_real != UINT64_MAX && now_real >= 0) {
		uint64_t c =
			close_real > (uint64_t)now_real ?
				now_mono + (close_real - (uint64_t)now_real) :
				now_mono;

		if (c < next)
			next = c;
	}
	if (next <= now_mono)
		return 0;
	if (next - now_mono >= 1000 * NS_PER_MS)
		return 1000;
	return (int)((next - now_mono + NS_PER_MS - 1) / NS_PER_MS);
}

static void dispatch(struct probe_engine *e, const struct epoll_event *ev)
{
	uint64_t tag = ev->data.u64;
	uint32_t lo = (uint32_t)tag;

	switch ((enum probe_tag_kind)(tag >> 56)) {
	case PROBE_TAG_STOP: {
		uint64_t v;

		if (read(e->stopfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			break;
		if (!e->draining)
			e->stop_real_ns = probe_real_ns();
		e->draining = true;
		break;
	}
	case PROBE_TAG_SOCK:
		probe_io_sock_event(e,
				    lo < 2 ? &e->icmp[lo] : &e->stamp[lo - 2],
				    probe_mono_ns());
		break;
	case PROBE_TAG_TCP:
		probe_io_tcp_event(e, lo, (uint32_t)(tag >> 32) & 0xffffff);
		break;
	}
}

static void *probe_main(void *arg)
{
	struct probe_engine *e = arg;
	struct epoll_event ev[PROBE_EPOLL_BATCH];
	uint64_t drain_deadline = 0;

	for (;;) {
		uint64_t now_mono = probe_mono_ns();
		int64_t now_real = probe_real_ns();
		int n;

		probe_io_rearm_due(e, now_mono);
		timeouts_run(e, now_mono);
		if (e->draining) {
			if (drain_deadline == 0)
				drain_deadline = now_mono + e->max_timeout_ns +
						 WINDOW_GRACE;
			if (nothing_in_flight(e) || now_mono >= drain_deadline)
				break;
		} else {
			send_due(e, now_mono);
		}
		windows_close_due(e, now_real);
		n = epoll_wait(e->epfd, ev, PROBE_EPOLL_BATCH,
			       wait_ms(e, probe_mono_ns(), probe_real_ns()));
		for (int i = 0; i < n; i++)
			dispatch(e, &ev[i]);
	}
	/* every probe is decided; a window is partial if sending stopped
	 * before its end */
	for (int i = 0; i < PROBE_OPEN_WINDOWS; i++)
		if (e->win[i].used)
			window_close(e, i,
				     e->stop_real_ns <
					     (int64_t)(e->win[i].start_ns +
						       e->window_ns));
	return NULL;
}

/* ---- lifecycle ------------------------------------------------------ */

/* Probes in flight per slot the timeouts need; 0 if more than the cap. */
static uint32_t pending_needed(const struct ps_probe_config *pc)
{
	uint64_t spacing = (uint64_t)pc->interval_ms *
			   (100 - 2 * pc->jitter_percent); /* ms * 100 */
	uint32_t need = 1;

	for (int m = 0; m < PROBE_METHOD_COUNT; m++) {
		const struct ps_probe_method *pm =
			probe_method_config(pc, (enum probe_method)m);
		uint64_t n;

		if (!pm->enabled)
			continue;
		n = spacing ? ((uint64_t)pm->timeout_ms * 100 + spacing - 1) /
					      spacing +
				      2 :
			      PROBE_MAX_PENDING + 1;
		if (n > PROBE_MAX_PENDING)
			return 0;
		if (n > need)
			need = (uint32_t)n;
	}
	while (need & (need - 1))
		need++;
	return need;
}

static int check_settings(const struct ps_probe_config *pc,
			  uint32_t window_seconds, size_t count, char *err,
			  size_t errlen)
{
	bool any = false;

	if (pc->interval_ms < 100 || pc->jitter_percent > 50 ||
	    pc->max_rate < 1 || window_seconds < 1) {
		snprintf(err, errlen,
			 "probes: interval_ms %u, jitter_percent "
			 "%u, max_rate %u or window %u s out of range",
			 pc->interval_ms, pc->jitter_percent, pc->max_rate,
			 window_seconds);
		return -1;
	}
	if (count > pc->max_targets || count > PROBE_MAX_TARGETS) {
		snprintf(err, errlen,
			 "probes: %zu targets, more than "
			 "probes.max_targets (%u)",
			 count, pc->max_targets);
		return -1;
	}
	for (int m = 0; m < PROBE_METHOD_COUNT; m++) {
		const struct ps_probe_method *pm =
			probe_method_config(pc, (enum probe_method)m);

		if (!pm->enabled)
			continue;
		any = true;
		if (pm->timeout_ms < 1 ||
		    pm->timeout_ms > window_seconds * 1000u) {
			snprintf(err, errlen,
				 "probes.%s.timeout_ms: %u ms is "
				 "not within 1 ms .. the window (%u s)",
				 probe_method_name((enum probe_method)m),
				 pm->timeout_ms, window_seconds);
			return -1;
		}
		if ((m == PROBE_TCP || m == PROBE_STAMP) &&
		    (pm->port < 1 || pm->port > 65535)) {
			snprintf(err, errlen, "probes.%s.port: %u",
				 probe_method_name((enum probe_method)m),
				 pm->port);
			return -1;
		}
	}
	if (!any) {
		snprintf(err, errlen, "probes: no method enabled");
		return -1;
	}
	if (pending_needed(pc) == 0) {
		snprintf(err, errlen,
			 "probes: a timeout spans more than %d "
			 "intervals (with jitter); raise interval_ms or lower "
			 "the timeout",
			 PROBE_MAX_PENDING - 2);
		return -1;
	}
	return 0;
}

static int check_targets(const struct probe_target *t, size_t count, char *err,
			 size_t errlen)
{
	for (size_t i = 0; i < count; i++) {
		char why[128], text[64];

		if (memchr(t[i].id, '\0', sizeof(t[i].id)) == NULL ||
		    t[i].id[0] == '\0') {
			snprintf(err, errlen,
				 "probe target %zu: id empty or "
				 "longer than %d bytes",
				 i, PROBE_ID_MAX - 1);
			return -1;
		}
		if (probe_target_check(&t[i].addr, why, sizeof(why)) == -1) {
			ps_addr_format(&t[i].addr, text, sizeof(text));
			snprintf(err, errlen, "probe target %s (%s): %s",
				 t[i].id, text, why);
			return -1;
		}
	}
	return 0;
}

static int cmp_addr_slot(const void *a, const void *b)
{
	const struct probe_addr_slot *x = a, *y = b;

	if (x->addr.af != y->addr.af)
		return x->addr.af < y->addr.af ? -1 : 1;
	return memcmp(x->addr.bytes, y->addr.bytes, 16);
}

static int make_slots(struct probe_engine *e)
{
	uint32_t methods = 0, k = 0;

	for (int m = 0; m < PROBE_METHOD_COUNT; m++)
		methods += probe_method_config(&e->pc, (enum probe_method)m)
				   ->enabled;
	e->nslots = e->ntargets * methods;
	e->slot = calloc(e->nslots ? e->nslots : 1, sizeof(*e->slot));
	e->pending = calloc((size_t)(e->nslots ? e->nslots : 1) * e->pending_n,
			    sizeof(*e->pending));
	e->stamp_by_addr = calloc(e->ntargets ? e->ntargets : 1,
				  sizeof(*e->stamp_by_addr));
	if (e->slot == NULL || e->pending == NULL || e->stamp_by_addr == NULL)
		return -1;
	for (int m = 0; m < PROBE_METHOD_COUNT; m++) {
		const struct ps_probe_method *pm =
			probe_method_config(&e->pc, (enum probe_method)m);
		uint32_t per_method = 0;

		if (!pm->enabled)
			continue;
		for (uint32_t t = 0; t < e->ntargets; t++, k++) {
			struct probe_slot *s = &e->slot[k];

			s->target = t;
			s->method = (uint8_t)m;
			s->af = e->targets[t].addr.af;
			s->last_rtt_ns = -1;
			s->pending = &e->pending[(size_t)k * e->pending_n];
			for (uint32_t i = 0; i < e->pending_n; i++)
				s->pending[i].fd = -1;
			if (m == PROBE_STAMP)
				e->stamp_by_addr[e->nstamp_by_addr++] =
					(struct probe_addr_slot){
						e->targets[t].addr, k
					};
			per_method++;
		}
		e->to[m].timeout_ns = pm->timeout_ms * NS_PER_MS;
		e->to[m].cap = per_method * e->pending_n + 1;
		e->to[m].q = calloc(e->to[m].cap, sizeof(*e->to[m].q));
		if (e->to[m].q == NULL)
			return -1;
		if (e->to[m].timeout_ns > e->max_timeout_ns)
			e->max_timeout_ns = e->to[m].timeout_ns;
	}
	qsort(e->stamp_by_addr, e->nstamp_by_addr, sizeof(*e->stamp_by_addr),
	      cmp_addr_slot);
	for (int i = 0; i < PROBE_OPEN_WINDOWS; i++) {
		e->win[i].acc = calloc(e->nslots ? e->nslots : 1,
				       sizeof(*e->win[i].acc));
		if (e->win[i].acc == NULL)
			return -1;
		for (uint32_t s = 0; s < e->nslots; s++)
			acc_init(e, &e->win[i].acc[s], s);
	}
	return 0;
}

/* Half the descriptors the process may open, for TCP probes in flight. */
static uint32_t tcp_fd_cap(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return 512;
	return rl.rlim_cur / 2 > 16 ? (uint32_t)(rl.rlim_cur / 2) : 16;
}

struct probe_engine *probe_engine_new(const struct ps_probe_config *pc,
				      uint32_t window_seconds,
				      const struct probe_target *targets,
				      size_t count, struct ring *out, char *err,
				      size_t errlen)
{
	struct probe_engine *e;
	uint64_t seed, now = probe_mono_ns();
	struct epoll_event ev = { .events = EPOLLIN };

	if (check_settings(pc, window_seconds, count, err, errlen) == -1 ||
	    check_targets(targets, count, err, errlen) == -1)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		goto nomem;
	e->epfd = e->stopfd = -1;
	for (int i = 0; i < 2; i++)
		e->icmp[i].fd = e->stamp[i].fd = -1;
	e->pc = *pc;
	e->out = out;
	e->window_ns = (uint64_t)window_seconds * NS_PER_S;
	e->interval_ns = (uint64_t)pc->interval_ms * NS_PER_MS;
	e->pending_n = pending_needed(pc);
	e->rtt_limits.max = (uint64_t)pc->max_rtt_ms * NS_PER_MS;
	e->rtt_limits.zero_ok = false;
	e->tcp_cap = tcp_fd_cap();
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = now ^ (uint64_t)getpid() << 32;
	e->targets = calloc(count ? count : 1, sizeof(*targets));
	if (e->targets == NULL)
		goto nomem;
	memcpy(e->targets, targets, count * sizeof(*targets));
	e->ntargets = (uint32_t)count;
	if (make_slots(e) == -1 ||
	    probe_sched_init(&e->sched, e->nslots, e->interval_ns,
			     pc->jitter_percent, pc->max_rate, seed, now) == -1)
		goto nomem;
	e->nonce = probe_sched_random(&e->sched);
	e->icmp_ident = (uint16_t)probe_sched_random(&e->sched);
	for (uint32_t s = 0; s < e->nslots; s++) {
		e->slot[s].nominal_ns = probe_sched_phase(&e->sched, now);
		probe_sched_add(&e->sched, s, e->slot[s].nominal_ns);
	}

	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	e->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev.data.u64 = probe_tag(PROBE_TAG_STOP, 0, 0);
	if (e->epfd == -1 || e->stopfd == -1 ||
	    epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->stopfd, &ev) == -1) {
		snprintf(err, errlen, "probes: epoll: %s", strerror(errno));
		probe_engine_free(e);
		return NULL;
	}
	if (probe_io_open(e, err, errlen) == -1) {
		probe_engine_free(e);
		return NULL;
	}
	return e;
nomem:
	snprintf(err, errlen, "probes: out of memory for %zu targets", count);
	probe_engine_free(e);
	return NULL;
}

int probe_engine_start(struct probe_engine *e)
{
	int rc = pthread_create(&e->thread, NULL, probe_main, e);

	if (rc != 0) {
		errno = rc;
		return -1;
	}
	e->started = true;
	return 0;
}

void probe_engine_stop(struct probe_engine *e)
{
	uint64_t one = 1;

	if (e == NULL || !e->started)
		return;
	/* a failed write leaves the counter non-zero: the loop sees it */
	(void)!write(e->stopfd, &one, sizeof(one));
	pthread_join(e->thread, NULL);
	e->started = false;
}

void probe_engine_free(struct probe_engine *e)
{
	if (e == NULL)
		return;
	probe_engine_stop(e);
	probe_io_close(e);
	if (e->epfd != -1)
		close(e->epfd);
	if (e->stopfd != -1)
		close(e->stopfd);
	for (int i = 0; i < PROBE_OPEN_WINDOWS; i++) {
		for (uint32_t s = 0; e->win[i].acc && s < e->nslots; s++)
			sketch_fini(&e->win[i].acc[s].rtt);
		free(e->win[i].acc);
	}
	for (int m = 0; m < PROBE_METHOD_COUNT; m++)
		free(e->to[m].q);
	probe_sched_fini(&e->sched);
	free(e->stamp_by_addr);
	free(e->pending);
	free(e->slot);
	free(e->targets);
	free(e);
}
