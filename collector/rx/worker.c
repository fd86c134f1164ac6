/* worker.c - the rx worker's life: windows, dispatch, threads.  See worker.h. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/attrib.h"
#include "ingest/ingest_ipfix.h"
#include "ingest/ingest_sflow.h"
#include "ingest/seqtrack.h"
#include "rx/ipfix_tcp.h"
#include "rx/stats_worker.h"
#include "rx/udp.h"
#include "rx/worker.h"
#include "xthread/cfgpub.h"

#define WORKER_STATE_MAX_FACTOR 4 /* state tables hold a few per connection */
/*
 * How often an active entry of an aging table moves to the front (htab.h):
 * the exporter table, touched once per datagram and only max_exporters
 * large, every 100 ms (safe while fewer than max_exporters new sources
 * arrive in 100 ms); the per-sample tables, four times larger, every
 * second (their list surgery cost about 10 ns per sample).
 */
#define WORKER_TOUCH_FINE_NS   (100ULL * 1000 * 1000)
#define WORKER_TOUCH_COARSE_NS (1000ULL * 1000 * 1000)

static void sleep_briefly(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 200 * 1000 };

	nanosleep(&ts, NULL);
}

int worker_init(struct worker *w, unsigned id, const struct ps_config *cfg,
		bool replay)
{
	uint32_t state_cap = cfg->max_connections * WORKER_STATE_MAX_FACTOR;
	char err[160];

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->cfg = cfg;
	w->replay = replay;
	w->window_ns = (uint64_t)cfg->window_seconds * 1000000000ULL;
	/* sFlow samples never arrive late by design: grace only with flows */
	for (uint32_t i = 0; i < cfg->listen_count; i++)
		if (cfg->listen[i].proto != PS_PROTO_SFLOW)
			w->grace_ns =
				(uint64_t)cfg->flow_window_grace * 1000000000ULL;
	if (strcmp(cfg->flow_tcp_listen, "-") != 0)
		w->grace_ns = (uint64_t)cfg->flow_window_grace * 1000000000ULL;
	/* udp.allow: filters live datagrams (udp.c); its single addresses
	 * pin exporters in replay too (netaddr_allow_names).  Validated. */
	if (netaddr_parse_allow(&w->allow, cfg->udp_allow, err, sizeof(err)) ==
	    -1)
		w->allow.n = 0;
	if (ring_init(&w->out, cfg->ring_slots) == -1 ||
	    htab_init_aging(&w->seq_state, sizeof(struct exp_key),
			    sizeof(struct seq_state_entry), cfg->max_exporters,
			    &w->now_ns, WORKER_TOUCH_FINE_NS) == -1 ||
	    htab_init_aging(&w->source_state, sizeof(struct source_key),
			    sizeof(struct source_state), state_cap, &w->now_ns,
			    WORKER_TOUCH_COARSE_NS) == -1 ||
	    htab_init_aging(&w->counter_state, sizeof(struct conn_key),
			    sizeof(struct counter_state), cfg->max_connections,
			    &w->now_ns, WORKER_TOUCH_COARSE_NS) == -1 ||
	    attrib_state_init(&w->direction_routers, cfg->max_connections,
			      cfg->max_exporters) == -1 ||
	    htab_init_aging(&w->neighbours, sizeof(struct neighbour_key),
			    sizeof(struct neighbour), WORKER_NEIGHBOURS_MAX,
			    &w->now_ns, WORKER_TOUCH_COARSE_NS) == -1 ||
	    hs_table_init(&w->handshakes, cfg->latency.handshake_entries,
			  (uint64_t)cfg->latency.handshake_timeout_ms *
				  1000000ULL,
			  (uint64_t)cfg->latency.max_ms * 1000000ULL) == -1)
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
	for (unsigned i = 0; i < w->held_count; i++)
		agg_window_free(w->held[i]);
	w->held_count = 0;
	ring_fini(&w->out);
	ring_fini(&w->in_full);
	ring_fini(&w->in_free);
	free(w->batches);
	w->batches = NULL;
	htab_fini(&w->seq_state);
	htab_fini(&w->source_state);
	htab_fini(&w->counter_state);
	attrib_state_fini(&w->direction_routers);
	htab_fini(&w->neighbours);
	hs_table_fini(&w->handshakes);
	ipfix_tcp_free(w->tcp, w); /* before the flow state it forgets into */
	w->tcp = NULL;
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

/*
 * Open the window holding `now_ns`.  Live, its length and caps come from
 * the generation in effect at its start (cfgpub.h): one atomic load per
 * window, none per packet.
 */
static struct agg_window *worker_open(struct worker *w, uint64_t now_ns)
{
	struct agg_window *win;
	struct cfg_win cw;
	uint64_t start_ns;

	if (w->cfgpub == NULL) {
		start_ns = agg_window_start(now_ns, w->window_ns);
		win = agg_window_new(w->id, start_ns, start_ns + w->window_ns,
				     w->cfg->max_connections,
				     w->cfg->max_exporters);
	} else {
		cfgpub_resolve(w->cfgpub, now_ns, &cw, &start_ns);
		w->window_ns = cw.window_ns;
		win = agg_window_new(w->id, start_ns, start_ns + cw.window_ns,
				     cw.max_conns, cw.max_exporters);
	}
	if (win != NULL) {
		win->pins = &w->allow; /* udp.allow's single addresses */
		win->registry = w->cfgpub != NULL ? cw.registry :
						    w->cfg->registry;
	}
	return win;
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

/*
 * Per-exporter state unused for limits.state_idle_seconds of data time
 * (the newest datagram's, not the window's end, which a long or final
 * window puts far ahead) is forgotten: an exporter gone for good (or a
 * spoofed one-off) stops holding a slot even while the table is not full.
 * Checked as windows close.
 */
static void worker_expire_state(struct worker *w)
{
	uint64_t idle = (uint64_t)w->cfg->state_idle_seconds * 1000000000ULL;
	uint64_t now_ns = w->now_ns;

	hs_table_expire(&w->handshakes, now_ns);
	if (idle == 0 || now_ns <= idle)
		return;
	htab_expire(&w->seq_state, now_ns - idle);
	htab_expire(&w->source_state, now_ns - idle);
	htab_expire(&w->counter_state, now_ns - idle);
	ingest_flow_expire(w->flow, now_ns - idle);
}

/*
 * `filled`: the status was filled when the window stopped being current
 * (held for grace), so that a connection gets the status of its own time,
 * as it does without grace; sFlow output does not depend on the grace.
 */
static void worker_close_win(struct worker *w, struct agg_window *win,
			     bool filled)
{
	if (!filled)
		fill_last_status(w, win);
	agg_window_slots_flush(win); /* before the other sides fold in */
	attrib_window_close(w, win);
	worker_expire_state(w);
	ingest_flow_window_close(w, win);
	win->kernel_drops = udp_rx_take_drops(w->rx, w->rx_count);
	w->totals.kernel_drops += win->kernel_drops;
	worker_push(w, win);
	stats_worker_publish(w);
}

/* Close the oldest held window; held windows go out before newer ones. */
static void worker_close_oldest_held(struct worker *w)
{
	struct agg_window *win = w->held[0];

	w->held_count--;
	memmove(&w->held[0], &w->held[1], w->held_count * sizeof(w->held[0]));
	worker_close_win(w, win, true);
}

/* The current window's time is over: hold it for grace, or close it. */
static void worker_retire(struct worker *w)
{
	struct agg_window *win = w->win;

	w->win = NULL;
	if (w->grace_ns == 0) {
		worker_close_win(w, win, false);
		return;
	}
	fill_last_status(w, win);
	agg_window_slots_flush(win); /* its samples are over */
	if (w->held_count == PS_MAX_OPEN_WINDOWS)
		worker_close_oldest_held(w); /* the cap, before the grace */
	w->held[w->held_count++] = win;
}

void worker_advance(struct worker *w, uint64_t now_ns)
{
	if (now_ns > w->now_ns)
		w->now_ns = now_ns; /* the aging clock never goes back */
	ingest_flow_tick(w, now_ns);
	/* Windows leave in time order, so the merger's watermark holds. */
	while (w->held_count > 0 &&
	       now_ns >= w->held[0]->end_ns + w->grace_ns)
		worker_close_oldest_held(w);
	if (w->win != NULL && now_ns >= w->win->end_ns)
		worker_retire(w);
	if (w->win == NULL)
		w->win = worker_open(w, now_ns);
	/* the slot of the window's rates that samples land in now */
	if (w->win != NULL)
		agg_window_tick(w->win, now_ns);
}

void worker_finish(struct worker *w)
{
	while (w->held_count > 0)
		worker_close_oldest_held(w);
	if (w->win == NULL)
		w->win = worker_open(w, 0);
	if (w->win != NULL) {
		struct agg_window *win = w->win;

		win->final = true;
		w->win = NULL;
		worker_close_win(w, win, false);
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
		if (b->tcp_session_end)
			w->totals.ipfix_tcp_templates_dropped +=
				ipfix_tcp_forget(w, &b->tcp_session_src);
		b->tcp_session_end = false;
		if (b->tick_ns != 0)
			worker_advance(w, b->tick_ns);
		bool end = b->end;
		/* only this thread writes it: no read-modify-write needed */
		uint64_t done = atomic_load_explicit(&w->batches_done,
						     memory_order_relaxed);

		atomic_store_explicit(&w->batches_done, done + 1,
				      memory_order_release);
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

/*
 * Coalescing.  After a drain that emptied its sockets the worker sleeps
 * before the next one, so that datagrams are fetched in batches rather than
 * one or two per wake-up: a wake-up costs a context switch and two system
 * calls, more than decoding a whole datagram (about 10 us on a virtual
 * machine, where arming the timer and idling exit to the hypervisor).
 * The pause adapts to the arrival rate: it doubles while drains bring less
 * than one receive batch (udp.batch) and halves when they bring more than
 * four, between the bounds below.  Under a full load the drains never
 * empty the sockets and there is no pause.  Datagrams are stamped when
 * drained, so a pause moves a window boundary by at most its length.
 *
 * Loss: during a pause the sockets must hold what arrives.  A pause grows
 * only while four times the buffer space the last drain's datagrams took
 * (their bytes plus WORKER_SKB_OVERHEAD each: twice for the doubled pause,
 * twice for bursts) fits in the smallest receive buffer, and shrinks when
 * it does not.  With the default udp.rcvbuf_bytes (32 MiB) that bound is
 * far off: the longest pause fills a quarter of it only above 700 k
 * datagrams/s, and the batch bound has shortened the pause long before.
 */
#define WORKER_COALESCE_MIN_NS	 (50 * 1000)
#define WORKER_COALESCE_START_NS (200 * 1000)
#define WORKER_COALESCE_MAX_NS	 (5 * 1000 * 1000)
#define WORKER_SKB_OVERHEAD	 1024 /* kernel bytes per queued datagram */

struct coalesce {
	uint64_t pause_ns;
	uint64_t datagrams, bytes; /* worker totals before the drain */
};

static void coalesce_pause(uint64_t ns)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ns };

	nanosleep(&ts, NULL);
}

static uint64_t worker_received(const struct worker *w)
{
	return w->totals.datagrams + w->totals.udp_refused;
}

/* The smallest receive buffer the kernel granted; 0 when none is known. */
static uint64_t worker_rcvbuf_min(const struct worker *w)
{
	uint64_t min = 0;

	for (unsigned i = 0; i < w->rx_count; i++)
		if (w->rx[i].rcvbuf_actual > 0 &&
		    (min == 0 || (uint64_t)w->rx[i].rcvbuf_actual < min))
			min = (uint64_t)w->rx[i].rcvbuf_actual;
	return min;
}

/* The next pause from what the drain just brought (see above). */
static void coalesce_adapt(struct coalesce *co, const struct worker *w,
			   uint64_t got, uint64_t bytes, uint32_t batch)
{
	uint64_t rcvbuf = worker_rcvbuf_min(w);
	bool room = rcvbuf == 0 ||
		    (bytes + got * WORKER_SKB_OVERHEAD) * 4 <= rcvbuf;

	if (got < batch && room)
		co->pause_ns *= 2;
	else if (got > 4 * (uint64_t)batch || !room)
		co->pause_ns /= 2;
	if (co->pause_ns < WORKER_COALESCE_MIN_NS)
		co->pause_ns = WORKER_COALESCE_MIN_NS;
	if (co->pause_ns > WORKER_COALESCE_MAX_NS)
		co->pause_ns = WORKER_COALESCE_MAX_NS;
}

static uint64_t now_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * udp.allow of the newest configuration: one atomic load per receive
 * batch, parsed again only when a reload published a new generation.
 * Generations live until shutdown (cfgpub.h), so the pointer stays valid.
 */
static void worker_allow_refresh(struct worker *w)
{
	const struct ps_config *c =
		w->cfgpub != NULL ? cfgpub_latest(w->cfgpub) : w->cfg;
	char err[160];

	if (c == w->allow_cfg)
		return;
	w->allow_cfg = c;
	/* validated before publication (config_validate): cannot fail */
	if (netaddr_parse_allow(&w->allow, c->udp_allow, err, sizeof(err)) == -1)
		w->allow.n = 0;
}

/*
 * Receive what socket `rx` has queued, at most UDP_MAX_BATCHES_PER_DRAIN
 * batches, and process it in arrival order; true when that bound stopped
 * it with datagrams still waiting.
 */
static bool worker_drain(struct worker *w, struct udp_rx *rx, uint64_t now_ns)
{
	for (int round = 0; round < UDP_MAX_BATCHES_PER_DRAIN; round++) {
		uint32_t n = udp_rx_recv(rx);

		for (uint32_t i = 0; i < n; i++) {
			struct rx_datagram d;

			if (!udp_rx_datagram(rx, i, &w->allow, now_ns, &d)) {
				w->totals.udp_refused++;
				continue;
			}
			worker_process(w, &d);
		}
		if (n < rx->batch)
			return false;
	}
	return true; /* stopped with datagrams still queued */
}

/* @thread worker (live): receive on this worker's sockets until stopped. */
void *worker_live_main(void *arg)
{
	struct worker *w = arg;
	struct coalesce co = { .pause_ns = WORKER_COALESCE_START_NS };
	uint32_t batch = w->rx_count > 0 ? w->rx[0].batch : 1;

	while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
		uint64_t now, got;
		bool more = false;

		worker_allow_refresh(w);
		co.datagrams = worker_received(w);
		co.bytes = w->totals.bytes;
		now = now_realtime_ns();
		for (unsigned i = 0; i < w->rx_count; i++)
			more |= worker_drain(w, &w->rx[i], now);
		got = worker_received(w) - co.datagrams;
		if (w->tcp != NULL) {
			struct rx_datagram d;

			while (ipfix_tcp_next(w->tcp, w, now, &d))
				worker_process(w, &d);
		}
		worker_advance(w, now);
		stats_worker_tick(w, now);
		if (more)
			continue;
		if (got == 0) {
			/* Idle: wait for a datagram, waking at least every
			 * 100 ms so that windows close on time. */
			udp_rx_poll(w->rx, w->rx_count, 100);
			continue;
		}
		coalesce_adapt(&co, w, got, w->totals.bytes - co.bytes, batch);
		coalesce_pause(co.pause_ns);
	}
	worker_finish(w);
	return NULL;
}
