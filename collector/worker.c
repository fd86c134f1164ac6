/* worker.c - the rx worker's life: windows, dispatch, threads.  See worker.h. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest_ipfix.h"
#include "seqtrack.h"
#include "udp.h"
#include "worker.h"

#define WORKER_STATE_MAX_FACTOR 4 /* state tables hold a few per connection */

static void sleep_briefly(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 200 * 1000 };

	nanosleep(&ts, NULL);
}

int worker_init(struct worker *w, unsigned id, const struct ps_config *cfg,
		bool replay)
{
	uint32_t state_cap = cfg->max_connections * WORKER_STATE_MAX_FACTOR;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->cfg = cfg;
	w->replay = replay;
	w->window_ns = (uint64_t)cfg->window_seconds * 1000000000ULL;
	if (ring_init(&w->out, cfg->ring_slots) == -1 ||
	    htab_init(&w->seq_state, sizeof(struct exp_key),
		      sizeof(struct seq_state_entry), cfg->max_exporters) == -1 ||
	    htab_init(&w->source_state, sizeof(struct source_key),
		      sizeof(struct source_state), state_cap) == -1 ||
	    htab_init(&w->counter_state, sizeof(struct conn_key),
		      sizeof(struct counter_state), cfg->max_connections) == -1)
		goto fail;
	if (replay) {
		if (ring_init(&w->in_full, RX_BATCHES_PER_WORKER) == -1 ||
		    ring_init(&w->in_free, RX_BATCHES_PER_WORKER) == -1)
			goto fail;
		w->batches = calloc(RX_BATCHES_PER_WORKER, sizeof(*w->batches));
		if (w->batches == NULL)
			goto fail;
		for (unsigned i = 0; i < RX_BATCHES_PER_WORKER; i++)
			if (!ring_push(&w->in_free, &w->batches[i]))
				goto fail;
	}
	return 0;
fail:
	worker_fini(w);
	return -1;
}

void worker_fini(struct worker *w)
{
	struct agg_window *win;

	if (w == NULL)
		return;
	if (w->out.slot != NULL)
		while ((win = ring_pop(&w->out)) != NULL)
			agg_window_free(win);
	agg_window_free(w->win);
	w->win = NULL;
	ring_fini(&w->out);
	ring_fini(&w->in_full);
	ring_fini(&w->in_free);
	free(w->batches);
	w->batches = NULL;
	htab_fini(&w->seq_state);
	htab_fini(&w->source_state);
	htab_fini(&w->counter_state);
	ingest_flow_free(w->flow);
	w->flow = NULL;
	udp_rx_close_all(w->rx, w->rx_count);
	free(w->rx);
	w->rx = NULL;
	w->rx_count = 0;
}

/* Hand a closed window to the merger: wait in replay, count a loss live. */
static void worker_push(struct worker *w, struct agg_window *win)
{
	w->totals.windows_closed++;
	while (!ring_push(&w->out, win)) {
		if (!w->replay) {
			w->totals.windows_dropped++;
			agg_window_free(win);
			return;
		}
		sleep_briefly();
	}
}

static struct agg_window *worker_open(struct worker *w, uint64_t start_ns)
{
	return agg_window_new(w->id, start_ns, start_ns + w->window_ns,
			      w->cfg->max_connections, w->cfg->max_exporters);
}

/*
 * A connection whose counters did not arrive in this window still has a
 * known speed and status: the last counter sample's.
 */
static void fill_last_status(struct worker *w, struct agg_window *win)
{
	struct agg_conn *c;
	uint32_t pos = 0;

	while ((c = htab_next(&win->conns, &pos)) != NULL) {
		const struct counter_state *st;

		if (c->has_status)
			continue;
		st = htab_find(&w->counter_state, &c->key);
		if (st == NULL)
			continue;
		c->if_speed = st->last.ifSpeed;
		c->if_status = st->last.ifStatus;
		c->has_status = true;
	}
}

static void worker_close(struct worker *w)
{
	struct agg_window *win = w->win;

	fill_last_status(w, win);
	ingest_flow_window_close(w, win);
	w->win = NULL;
	win->kernel_drops = udp_rx_take_drops(w->rx, w->rx_count);
	w->totals.kernel_drops += win->kernel_drops;
	worker_push(w, win);
	stats_worker_publish(w);
}

void worker_advance(struct worker *w, uint64_t now_ns)
{
	if (w->win == NULL) {
		w->win = worker_open(w, agg_window_start(now_ns, w->window_ns));
		return;
	}
	if (now_ns < w->win->end_ns)
		return;
	worker_close(w);
	w->win = worker_open(w, agg_window_start(now_ns, w->window_ns));
}

void worker_finish(struct worker *w)
{
	if (w->win == NULL)
		w->win = worker_open(w, 0);
	if (w->win != NULL) {
		w->win->final = true;
		worker_close(w);
	}
	atomic_store_explicit(&w->done, true, memory_order_release);
}

void worker_process(struct worker *w, const struct rx_datagram *d)
{
	worker_advance(w, d->ts_ns);
	if (w->win == NULL)
		return; /* out of memory: nothing to count into */
	if (d->ts_ns < w->win->start_ns)
		w->totals.late_datagrams++;
	w->totals.datagrams++;
	w->totals.bytes += d->len;
	if (d->proto < PS_PROTO_END_) {
		w->totals.proto_datagrams[d->proto]++;
		w->totals.proto_bytes[d->proto] += d->len;
	}
	switch (d->proto) {
	case PS_PROTO_SFLOW:
		ingest_sflow(w, d);
		break;
	case PS_PROTO_IPFIX:
	case PS_PROTO_NETFLOW:
		ingest_flow(w, d); /* one port may carry v5, v9 and v10 */
		break;
	default:
		break; /* sources only hand over configured protocols */
	}
}

int worker_pin(unsigned cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0
		       ? 0
		       : -1;
}

/* @thread worker (replay): batches from the dispatcher until `end`. */
void *worker_replay_main(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		struct rx_batch *b = ring_pop(&w->in_full);

		if (b == NULL) {
			/* Only reached on an aborted replay; normally `end`. */
			if (atomic_load_explicit(&w->stop,
						 memory_order_acquire))
				break;
			sleep_briefly();
			continue;
		}
		for (uint32_t i = 0; i < b->count; i++)
			worker_process(w, &b->d[i]);
		if (b->tick_ns != 0)
			worker_advance(w, b->tick_ns);
		bool end = b->end;
		b->count = 0;
		b->used_bytes = 0;
		b->tick_ns = 0;
		b->end = false;
		/* Cannot fail: there are never more batches than slots. */
		(void)ring_push(&w->in_free, b);
		if (end)
			break;
	}
	worker_finish(w);
	return NULL;
}

/* How long a worker lets datagrams gather after a partial batch. */
#define WORKER_COALESCE_NS (200 * 1000)

static void coalesce_pause(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = WORKER_COALESCE_NS };

	nanosleep(&ts, NULL);
}

static uint64_t now_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* @thread worker (live): receive on this worker's sockets until stopped. */
void *worker_live_main(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
		uint64_t now;
		bool more = false;

		/* Wakes at least every 100 ms so windows close on time. */
		udp_rx_poll(w->rx, w->rx_count, 100);
		now = now_realtime_ns();
		for (unsigned i = 0; i < w->rx_count; i++)
			more |= udp_rx_drain(&w->rx[i], w, now);
		worker_advance(w, now);
		stats_worker_tick(w, now);
		/*
		 * Under a steady trickle every wake-up would fetch one or two
		 * datagrams for two system calls.  Pausing briefly lets the
		 * socket buffer collect a batch; the buffer holds far more
		 * than arrives in WORKER_COALESCE_NS even at line rate.
		 */
		if (!more)
			coalesce_pause();
	}
	worker_finish(w);
	return NULL;
}
