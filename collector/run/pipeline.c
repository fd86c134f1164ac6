/* pipeline.c - see pipeline.h. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "agg/latency.h"
#include "base/json.h"
#include "base/log.h"
#include "base/netaddr.h"
#include "base/runfile.h"
#include "base/statefile.h"
#include "conn/registry.h"
#include "ops/http.h"
#include "probe/probe.h"
#include "publish/merger_main.h"
#include "publish/sink_kafka.h"
#include "publish/stats_merger.h"
#include "rib/rib_lookup.h"
#include "run/cpulimit.h"
#include "run/pipeline.h"
#include "rx/ipfix_tcp.h"
#include "rx/udp.h"

unsigned pipeline_worker_count(const struct ps_config *cfg, char *why,
			       size_t whylen)
{
	if (cfg->workers > 0) {
		snprintf(why, whylen, "workers");
		return cfg->workers > PS_MAX_WORKERS ? PS_MAX_WORKERS
						     : cfg->workers;
	}
	return cpulimit_workers(PS_MAX_WORKERS, why, whylen);
}

/* The CPU for worker i: the configured list, else the i-th allowed CPU. */
static int worker_cpu(const struct ps_config *cfg, unsigned i)
{
	cpu_set_t set;
	unsigned seen = 0, want;
	int n;

	if (cfg->cpu_count > 0)
		return (int)cfg->cpus[i % cfg->cpu_count];
	if (sched_getaffinity(0, sizeof(set), &set) == -1)
		return -1;
	n = CPU_COUNT(&set);
	if (n < 1)
		return -1;
	want = i % (unsigned)n;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (seen++ == want)
			return cpu;
	}
	return -1;
}

static int open_sockets(struct worker *w, const struct ps_config *cfg,
			char *err, size_t errlen)
{
	/* none is fine: a BMP-only collector ([] for every listen.*) */
	w->rx = calloc(cfg->listen_count > 0 ? cfg->listen_count : 1,
		       sizeof(*w->rx));
	if (w->rx == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < cfg->listen_count; i++) {
		if (udp_rx_open(&w->rx[i], &cfg->listen[i], cfg->rcvbuf_bytes,
				cfg->batch, err, errlen) == -1)
			return -1;
		w->rx_count++;
	}
	/* IPFIX over TCP: worker 0 serves it (ipfix_tcp.h) */
	if (w->id == 0 && strcmp(cfg->flow_tcp_listen, "-") != 0 &&
	    ipfix_tcp_open(&w->tcp, cfg->flow_tcp_listen, err, errlen) == -1)
		return -1;
	return 0;
}

void pipeline_log_tcp_listener(struct logger *log, const char *proto,
				const char *text, uint16_t bound_port,
				const char *served_by)
{
	struct ps_endpoint ep;
	char addr[64], port[8], why[160];

	if (netaddr_parse_endpoint(text, &ep, why, sizeof(why)) == -1)
		return;
	if (ep.addr.af == 0)
		snprintf(addr, sizeof(addr), "*");
	else
		ps_addr_format(&ep.addr, addr, sizeof(addr));
	snprintf(port, sizeof(port), "%u", bound_port);
	log_event_fields(log, PS_LOG_INFO, "listening",
			 LOG_FIELDS({ "protocol", proto },
				    { "transport", "tcp" },
				    { "address", addr }, { "port", port },
				    { "workers", "1" }),
			 "%s on tcp %s port %s, served by %s", proto, addr,
			 port, served_by);
}

static void *worker_thread(void *arg)
{
	struct worker *w = arg;

	return w->replay ? worker_replay_main(w) : worker_live_main(w);
}

/* Probe windows the ring holds: a window a second is plenty. */
#define PROBE_RING_SLOTS 64

/*
 * live: the connections of the registry with `probe: true`, each of
 * their peer addresses a target named by the connection's id; the engine
 * opens its sockets here (before privileges drop) and refuses a target or
 * a method it cannot probe, which refuses the start.
 */
static int probes_open(struct pipeline *p, const struct ps_config *cfg,
		       char *err, size_t errlen)
{
	struct conn_registry_err rerr;
	struct probe_target *t;
	const struct conn *conns;
	size_t n, count = 0, k = 0;
	uint32_t wait_ms = 0;

	if (conn_registry_load(cfg, &p->registry, &rerr) == -1) {
		snprintf(err, errlen, "%s", rerr.text);
		return -1;
	}
	conns = conn_registry_conns(p->registry, &n);
	for (size_t i = 0; i < n; i++)
		if (conns[i].probe)
			count += conns[i].n_addrs;
	if (count == 0)
		return 0;
	t = calloc(count, sizeof(*t));
	if (t == NULL || ring_init(&p->probe_ring, PROBE_RING_SLOTS) == -1) {
		free(t);
		snprintf(err, errlen, "probes: out of memory");
		return -1;
	}
	p->probe_ring_on = true;
	for (size_t i = 0; i < n; i++)
		for (uint32_t a = 0; conns[i].probe && a < conns[i].n_addrs;
		     a++) {
			snprintf(t[k].id, sizeof(t[k].id), "%s", conns[i].id);
			t[k++].addr = conns[i].addrs[a];
		}
	p->probes = probe_engine_new(&cfg->probes, cfg->window_seconds, t,
				     count, &p->probe_ring, err, errlen);
	free(t);
	if (p->probes == NULL)
		return -1;
	for (int m = 0; m < PROBE_METHOD_COUNT; m++) {
		const struct ps_probe_method *pm =
			probe_method_config(&cfg->probes, (enum probe_method)m);

		if (pm->enabled && pm->timeout_ms > wait_ms)
			wait_ms = pm->timeout_ms;
	}
	p->merger.probe_ring = &p->probe_ring;
	p->merger.registry = p->registry;
	/* the engine hands a window over a timeout after its end */
	p->merger.probe_wait_ns = ((uint64_t)wait_ms + 2000) * 1000000ULL;
	{
		char targets[24];

		snprintf(targets, sizeof(targets), "%zu", count);
		log_event_fields(p->log, PS_LOG_INFO, "probes_opened",
				 LOG_FIELDS({ "targets", targets }),
				 "probing %s addresses of the connections "
				 "with probe: true",
				 targets);
	}
	return 0;
}

static void probes_close(struct pipeline *p)
{
	struct probe_window *w;

	probe_engine_free(p->probes);
	p->probes = NULL;
	if (p->probe_ring_on) {
		while ((w = ring_pop(&p->probe_ring)) != NULL)
			probe_window_free(w);
		ring_fini(&p->probe_ring);
		p->probe_ring_on = false;
	}
	conn_registry_free(p->registry);
	p->registry = NULL;
}

int pipeline_start(struct pipeline *p, const struct ps_config *cfg,
		   bool replay, struct logger *log, char *err, size_t errlen)
{
	return pipeline_start_hook(p, cfg, replay, log, NULL, NULL, err,
				   errlen);
}

int pipeline_start_hook(struct pipeline *p, const struct ps_config *cfg,
			bool replay, struct logger *log, pipeline_hook_fn hook,
			void *ctx, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->replay = replay;
	p->log = log;
	if (state_writer_init(&p->state_writer) == -1) {
		snprintf(err, errlen, "cannot make the state-file writer");
		return -1;
	}
	p->nworkers = pipeline_worker_count(cfg, p->workers_why,
					    sizeof(p->workers_why));
	p->workers = calloc(p->nworkers, sizeof(*p->workers));
	p->threads = calloc(p->nworkers, sizeof(*p->threads));
	if (p->workers == NULL || p->threads == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Our ports are ours alone: before binding, and once bound. */
	if (!replay && udp_listeners_exclusive(cfg, NULL, 0, false, log, err,
					       errlen) == -1)
		return -1;
	for (unsigned i = 0; i < p->nworkers; i++) {
		if (worker_init(&p->workers[i], i, cfg, replay) == -1) {
			snprintf(err, errlen, "worker %u: out of memory", i);
			return -1;
		}
		p->workers[i].state_writer = &p->state_writer;
		p->workers_ready++;
		if (!replay && open_sockets(&p->workers[i], cfg, err,
					    errlen) == -1)
			return -1;
	}
	if (!replay) {
		if (udp_listeners_exclusive(cfg, p->workers, p->nworkers, true,
					    log, err, errlen) == -1)
			return -1;
		udp_listeners_log(cfg, p->nworkers, log);
		if (p->workers[0].tcp != NULL)
			pipeline_log_tcp_listener(log, "ipfix", cfg->flow_tcp_listen,
					 ipfix_tcp_bound_port(p->workers[0].tcp),
					 "worker 0");
	}
	merger_init(&p->merger, p->workers, p->nworkers, cfg);
	stats_hub_init(&p->hub, cfg);
	p->merger.pub = &p->hub;
	p->merger.log = log; /* sink states, what a SIGHUP did to the sinks */
	cfgpub_init(&p->cfgpub, cfg);
	if (!replay) {
		/* Only live runs reload; replay stays on one configuration. */
		for (unsigned i = 0; i < p->nworkers; i++)
			p->workers[i].cfgpub = &p->cfgpub;
		p->merger.cfgpub = &p->cfgpub;
		/* SIGHUP may open, re-create or close either (sinkswap.h). */
		p->merger.json_sink = &p->json;
		p->merger.kafka_sink = &p->kafka;
		p->merger.json_cfg = cfg;
		p->merger.kafka_cfg = cfg;
	}
	if (bmp_pub_init(&p->bmp_pub, 4096) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->merger.bmp = &p->bmp_pub;
	p->rib = rib_registry_new();
	if (p->rib == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < p->nworkers; i++)
		p->workers[i].rib = p->rib;
	if (cfg->json_enabled) {
		/* replay writes one run's output; the daemon appends */
		if (sink_json_open(&p->json, cfg->json_path, !replay, err,
				   errlen) == -1)
			return -1;
		p->json_open = true;
		merger_add_sink(&p->merger, &p->json);
		log_event_fields(log, PS_LOG_INFO, "sink_opened",
				 LOG_FIELDS({ "sink", "json" },
					    { "path", cfg->json_path }),
				 "JSON lines to %s",
				 strcmp(cfg->json_path, "-") == 0 ?
					 "standard output" :
					 cfg->json_path);
	}
	if (!replay && strcmp(cfg->bmp_listen, "-") != 0) {
		p->bmp_on = true; /* stop frees a half-made server too */
		if (bmp_server_bind(&p->bmp, cfg, &p->bmp_pub, err, errlen) ==
		    -1) {
			bmp_server_stop(&p->bmp);
			p->bmp_on = false;
			return -1;
		}
		p->bmp.rib = p->rib;
		p->bmp.log = log; /* routers, peers, backpressure */
		pipeline_log_tcp_listener(log, "bmp", cfg->bmp_listen, p->bmp.port,
				 "the BMP thread");
	}
	if (!replay && probes_open(p, cfg, err, errlen) == -1)
		return -1;
	/*
	 * Every socket is bound and no thread exists yet: the hook (live.c)
	 * drops privileges here, so every thread starts without them.
	 * librdkafka starts threads when its sink opens: after this too.
	 */
	if (hook != NULL && hook(ctx, err, errlen) == -1)
		return -1;
	if (cfg->kafka.enabled) {
		p->kafka_open = true; /* close releases a half-open sink too */
		if (sink_kafka_open(&p->kafka, &cfg->kafka, replay, log, err,
				    errlen) == -1)
			return -1;
		merger_add_sink(&p->merger, &p->kafka);
		log_event_fields(log, PS_LOG_INFO, "sink_opened",
				 LOG_FIELDS({ "sink", "kafka" },
					    { "brokers", sink_kafka_bootstraps(
								 &p->kafka) }),
				 "Kafka producer on %s",
				 sink_kafka_bootstraps(&p->kafka));
		sink_kafka_tell_address(&p->kafka, cfg, log);
	}
	stats_sinks_changed(&p->hub, &p->merger);
	if (pthread_create(&p->merger_thread, NULL, merger_main, &p->merger)) {
		snprintf(err, errlen, "cannot start the merger thread");
		return -1;
	}
	p->merger_started = true;
	if (state_writer_start(&p->state_writer) == -1) {
		snprintf(err, errlen, "cannot start the state-file writer");
		return -1;
	}
	if (p->probes != NULL) {
		if (probe_engine_start(p->probes) == -1) {
			snprintf(err, errlen, "cannot start the probe thread");
			return -1;
		}
		p->probes_started = true;
	}
	if (p->bmp_on && bmp_server_run(&p->bmp, err, errlen) == -1)
		return -1;
	for (unsigned i = 0; i < p->nworkers; i++) {
		if (pthread_create(&p->threads[i], NULL, worker_thread,
				   &p->workers[i]) != 0) {
			snprintf(err, errlen, "cannot start worker %u", i);
			return -1;
		}
		p->threads_started++;
		if (cfg->pin_workers) {
			int cpu = worker_cpu(cfg, i);
			cpu_set_t set;

			CPU_ZERO(&set);
			if (cpu >= 0)
				CPU_SET(cpu, &set);
			if (cpu < 0 ||
			    pthread_setaffinity_np(p->threads[i], sizeof(set),
						   &set) != 0)
				p->pin_failures++;
		}
	}
	return 0;
}

void pipeline_stop(struct pipeline *p)
{
	/* BMP first: its last events must reach a running merger */
	if (p->bmp_on) {
		bmp_server_stop(&p->bmp);
		dec_stats_add(&p->bmp_errors, &p->bmp.st);
		p->bmp_on = false;
	}
	/* probes next: their last (partial) windows reach the merger */
	if (p->probes_started) {
		probe_engine_stop(p->probes);
		p->probes_started = false;
	}
	for (unsigned i = 0; i < p->threads_started; i++)
		atomic_store_explicit(&p->workers[i].stop, true,
				      memory_order_release);
	for (unsigned i = 0; i < p->threads_started; i++)
		pthread_join(p->threads[i], NULL);
	/*
	 * Workers that never started still owe the merger a final window;
	 * those never initialised (start-up failed before them) owe nothing.
	 */
	for (unsigned i = p->threads_started; i < p->workers_ready; i++)
		worker_finish(&p->workers[i]);
	/* Every worker saved its last state: on disk before we return. */
	state_writer_stop(&p->state_writer);
	if (p->merger_started) {
		pthread_join(p->merger_thread, NULL);
		p->merger_started = false;
		/* A SIGHUP may have opened or closed sinks (sinkswap.h). */
		p->json_open = merger_has_sink(&p->merger, &p->json);
		p->kafka_open = merger_has_sink(&p->merger, &p->kafka);
	}
	/* The merger is gone: the producer is ours to drain, with a timeout. */
	if (p->kafka_open)
		sink_kafka_drain(&p->kafka);
	p->threads_started = 0;
}

/* Messages a Kafka sink took and never delivered, by any outcome. */
static uint64_t kafka_lost(const struct sink_kafka_counters *c)
{
	return c->failed + c->dropped + c->too_large + c->undelivered;
}

uint64_t pipeline_undelivered(const struct pipeline *p)
{
	uint64_t n = 0;

	if (p->json_open)
		n += sink_failed_total(&p->json);
	for (int t = 0; t < MSG_TYPE_COUNT; t++) {
		if (p->kafka_open)
			n += kafka_lost(sink_kafka_counters(&p->kafka, t));
		else if (p->merger.kafka_retired_any)
			n += kafka_lost(&p->merger.kafka_retired.c[t]);
	}
	return n;
}

/* The sinks' last word: where their messages went, what did not. */
static void log_sinks_closing(const struct pipeline *p)
{
	char num[2][24];

	if (p->json_open) {
		snprintf(num[0], sizeof(num[0]), "%llu",
			 (unsigned long long)sink_failed_total(&p->json));
		log_event_fields(p->log,
				 sink_failed_total(&p->json) > 0 ? PS_LOG_WARN :
								   PS_LOG_INFO,
				 "sink_closed",
				 LOG_FIELDS({ "sink", "json" },
					    { "path", p->cfg->json_path },
					    { "failed", num[0] }),
				 "JSON lines closed");
	}
	if (p->kafka_open) {
		uint64_t delivered = 0, lost = 0;

		for (int t = 0; t < MSG_TYPE_COUNT; t++) {
			delivered +=
				sink_kafka_counters(&p->kafka, t)->delivered;
			lost += kafka_lost(sink_kafka_counters(&p->kafka, t));
		}
		snprintf(num[0], sizeof(num[0]), "%llu",
			 (unsigned long long)delivered);
		snprintf(num[1], sizeof(num[1]), "%llu",
			 (unsigned long long)lost);
		log_event_fields(p->log, lost > 0 ? PS_LOG_WARN : PS_LOG_INFO,
				 "sink_closed",
				 LOG_FIELDS({ "sink", "kafka" },
					    { "brokers", sink_kafka_bootstraps(
								 &p->kafka) },
					    { "delivered", num[0] },
					    { "undelivered", num[1] }),
				 "Kafka producer closed: %s messages "
				 "delivered, %s not (failed, dropped, too "
				 "large or still waiting)",
				 num[0], num[1]);
	}
}

void pipeline_http_view(const struct pipeline *p, struct http_view *v)
{
	memset(v, 0, sizeof(*v));
	v->cfg = p->cfg;
	v->nworkers = p->nworkers;
	for (unsigned i = 0; i < p->nworkers && i < PS_MAX_WORKERS; i++) {
		v->worker_pub[i] = &p->workers[i].pub;
		v->rx_count[i] = p->workers[i].rx_count;
	}
	v->hub = &p->hub;
	v->bmp = &p->bmp_pub.gauges;
	v->input_errors = &p->input_errors;
	v->state_saves = &p->state_writer.stats;
}

void pipeline_free(struct pipeline *p)
{
	if (p->log != NULL)
		log_sinks_closing(p);
	if (p->json_open)
		sink_close(&p->json);
	p->json_open = false;
	if (p->kafka_open) {
		char brokers[1024];

		snprintf(brokers, sizeof(brokers), "%s",
			 p->kafka.ctx != NULL ? sink_kafka_bootstraps(&p->kafka) :
						"");
		sink_close(&p->kafka); /* a replay may serve first */
		runfile_remove(p->cfg, RUNFILE_KAFKA_BROKERS, brokers);
	}
	p->kafka_open = false;
	merger_fini(&p->merger);
	probes_close(p);
	bmp_pub_fini(&p->bmp_pub);
	rib_registry_free(p->rib); /* every reader and the writer have ended */
	p->rib = NULL;
	stats_hub_fini(&p->hub);
	/* the reloads' registries (the boot one is the caller's) */
	for (unsigned i = 0; i < CFGPUB_MAX_GENS; i++)
		if (p->cfgpub.owned[i] != NULL)
			conn_registry_free(
				(struct conn_registry *)p->cfgpub.owned[i]
					->registry);
	if (p->cfgpub.n > 0)
		cfgpub_fini(&p->cfgpub); /* every reader has stopped */
	for (unsigned i = 0; p->workers != NULL && i < p->nworkers; i++)
		worker_fini(&p->workers[i]);
	state_writer_fini(&p->state_writer);
	free(p->workers);
	free(p->threads);
	p->workers = NULL;
	p->threads = NULL;
}

struct run_totals {
	struct worker_totals w;
	struct dec_stats errors;
};

static void sum_totals(const struct pipeline *p, struct run_totals *t)
{
	memset(t, 0, sizeof(*t));
	dec_stats_add(&t->errors, &p->input_errors);
	dec_stats_add(&t->errors, &p->bmp_errors);
	for (unsigned i = 0; i < p->nworkers; i++) {
		const struct worker_totals *w = &p->workers[i].totals;

#define ADD_TOTAL(field, from, group, metric, type, help)                      \
	WORKER_COUNTER_IF_TOTAL(from, t->w.field += w->field;)
		WORKER_COUNTERS(ADD_TOTAL)
#undef ADD_TOTAL
		dec_stats_add(&t->errors, &w->errors);
	}
}

/* Whether IPFIX/TCP sessions were offered (replay recognises them on any
 * port, without flow.tcp_listen). */
static bool ipfix_tcp_seen(const struct worker_pub *wp)
{
	for (unsigned i = IPFIX_TCP_ACCEPTED; i <= IPFIX_TCP_REFUSED_MEMORY; i++)
		if (atomic_load_explicit(&wp->ipfix_tcp[i],
					 memory_order_relaxed) != 0)
			return true;
	return false;
}

static uint64_t ld_relaxed(const _Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* flow.state_file set: the state-file writer's counters are reported. */
static bool state_file_on(const struct ps_config *cfg)
{
	return cfg->flow_state_file[0] != '\0' &&
	       strcmp(cfg->flow_state_file, "-") != 0;
}

static void write_stats_json(const struct pipeline *p,
			     const struct run_totals *t, const char *path)
{
	const struct merger_totals *m = &p->merger.totals;
	struct jbuf j;
	char err[320], *text;

	jbuf_init(&j);
	json_obj_begin(&j, NULL);
	json_u64(&j, "workers", p->nworkers);
	json_u64(&j, "datagrams", t->w.datagrams);
	json_u64(&j, "bytes", t->w.bytes);
	json_u64(&j, "samples", t->w.samples);
	json_u64(&j, "late_datagrams", t->w.late_datagrams);
	json_u64(&j, "windows_closed", t->w.windows_closed);
	json_u64(&j, "windows_dropped", t->w.windows_dropped);
	json_u64(&j, "windows_published", m->windows_published);
	json_u64(&j, "windows_forced", m->windows_forced);
	json_u64(&j, "state_refused", t->w.state_refused);
	json_u64(&j, "connections_refused", m->conns_refused);
	json_u64(&j, "exporters_refused", m->exporters_refused);
	json_u64(&j, "connections_folded", m->conns_folded);
	json_u64(&j, "exporters_folded", m->exporters_folded);
	json_u64(&j, "kernel_drops", t->w.kernel_drops);
	json_obj_begin(&j, "messages");
	for (int i = 0; i < MSG_TYPE_COUNT; i++)
		json_u64(&j, msg_info(i)->type, m->messages[i]);
	json_obj_end(&j);
	json_obj_begin(&j, "messages_failed");
	for (int i = 0; i < MSG_TYPE_COUNT; i++)
		json_u64(&j, msg_info(i)->type, m->messages_failed[i]);
	json_obj_end(&j);
	json_obj_begin(&j, "decode_errors");
	for (unsigned r = 0; r < DEC_REASON_COUNT; r++)
		if (t->errors.n[r] != 0)
			json_u64(&j, dec_reason_name(r), t->errors.n[r]);
	json_obj_end(&j);
	json_obj_begin(&j, "tcp_handshake"); /* halves, handshake.h */
	json_u64(&j, "paired", t->w.handshake_paired);
	json_obj_begin(&j, "untimed");
	json_u64(&j, lat_hs_untimed_name(LAT_HS_SAME_DATAGRAM),
		 t->w.handshake_same_datagram);
	json_u64(&j, lat_hs_untimed_name(LAT_HS_IMPRECISE),
		 t->w.handshake_imprecise);
	json_obj_end(&j);
	json_obj_end(&j);
	junk_json(&j, "unrecognised_sources", &p->merger.junk);
	if (p->nworkers > 0 && (strcmp(p->cfg->flow_tcp_listen, "-") != 0 ||
				ipfix_tcp_seen(&p->workers[0].pub))) {
		/* worker 0's last publication (ipfix_tcp.h) */
		const struct worker_pub *wp = &p->workers[0].pub;

		json_obj_begin(&j, "ipfix_tcp");
		for (unsigned i = 0; i < IPFIX_TCP_COUNTER_COUNT; i++)
			json_u64(&j, ipfix_tcp_counter_name(i),
				 atomic_load_explicit(&wp->ipfix_tcp[i],
						      memory_order_relaxed));
		json_obj_end(&j);
	}
	if (state_file_on(p->cfg)) {
		const struct state_writer_stats *s = &p->state_writer.stats;

		json_obj_begin(&j, "state_file");
		json_u64(&j, "saves", ld_relaxed(&s->saved));
		json_u64(&j, "saves_failed", ld_relaxed(&s->failed));
		json_u64(&j, "saves_dropped", ld_relaxed(&s->dropped));
		json_obj_end(&j);
	}
	if (p->kafka_open)
		sink_kafka_stats_json(&p->kafka, &j);
	replay_ports_json(p->ports, &j);
	json_obj_end(&j);
	/*
	 * Atomically, 0640: a reader (a test, a monitoring script) never
	 * sees half a file, and a symlink planted at the path is not
	 * followed.
	 */
	text = j.buf != NULL && !j.failed ? malloc(j.len + 1) : NULL;
	if (text == NULL) {
		snprintf(err, sizeof(err), "%s: out of memory", path);
	} else {
		memcpy(text, j.buf, j.len);
		text[j.len] = '\n';
	}
	if (text == NULL || statefile_write(path, text, j.len + 1, 0640, err,
					    sizeof(err)) == -1)
		fprintf(stderr, "stats: %s\n", err);
	free(text);
	jbuf_fini(&j);
}

void pipeline_summary(const struct pipeline *p, FILE *out,
		      const char *stats_path)
{
	const struct merger_totals *m = &p->merger.totals;
	struct run_totals t;

	sum_totals(p, &t);
	fprintf(out, "summary: workers=%u datagrams=%llu bytes=%llu "
		     "samples=%llu\n",
		p->nworkers, (unsigned long long)t.w.datagrams,
		(unsigned long long)t.w.bytes,
		(unsigned long long)t.w.samples);
	fprintf(out, "summary: messages connection_metrics=%llu "
		     "exporter_health=%llu failed=%llu\n",
		(unsigned long long)m->messages[MSG_CONNECTION_METRICS],
		(unsigned long long)m->messages[MSG_EXPORTER_HEALTH],
		(unsigned long long)(m->messages_failed[0] +
				     m->messages_failed[1]));
	fprintf(out, "summary: windows published=%llu forced=%llu "
		     "dropped=%llu late_datagrams=%llu kernel_drops=%llu "
		     "state_refused=%llu connections_refused=%llu "
		     "exporters_refused=%llu connections_folded=%llu "
		     "exporters_folded=%llu\n",
		(unsigned long long)m->windows_published,
		(unsigned long long)m->windows_forced,
		(unsigned long long)t.w.windows_dropped,
		(unsigned long long)t.w.late_datagrams,
		(unsigned long long)t.w.kernel_drops,
		(unsigned long long)t.w.state_refused,
		(unsigned long long)m->conns_refused,
		(unsigned long long)m->exporters_refused,
		(unsigned long long)m->conns_folded,
		(unsigned long long)m->exporters_folded);
	for (unsigned r = 0; r < DEC_REASON_COUNT; r++)
		if (t.errors.n[r] != 0)
			fprintf(out, "summary: decode %s=%llu (%s)\n",
				dec_reason_name(r),
				(unsigned long long)t.errors.n[r],
				dec_class_name(dec_reason_class(r)));
	if (junk_datagrams(&p->merger.junk) > 0)
		fprintf(out, "summary: unrecognised datagrams=%llu (no "
			     "exporter header; per source in --stats)\n",
			(unsigned long long)junk_datagrams(&p->merger.junk));
	if (state_file_on(p->cfg))
		fprintf(out, "summary: state file saves=%llu failed=%llu "
			     "dropped=%llu\n",
			(unsigned long long)ld_relaxed(&p->state_writer.stats.saved),
			(unsigned long long)ld_relaxed(
				&p->state_writer.stats.failed),
			(unsigned long long)ld_relaxed(
				&p->state_writer.stats.dropped));
	if (p->pin_failures > 0)
		fprintf(out, "summary: workers not pinned=%llu\n",
			(unsigned long long)p->pin_failures);
	if (p->rib_barrier_timeouts > 0)
		fprintf(out, "summary: replay rib_barrier_timeouts=%llu\n",
			(unsigned long long)p->rib_barrier_timeouts);
	if (p->rib != NULL &&
	    atomic_load_explicit(&p->rib->peer_history_short,
				 memory_order_relaxed) > 0)
		fprintf(out, "summary: bgp peer_history_short=%llu\n",
			(unsigned long long)atomic_load_explicit(
				&p->rib->peer_history_short,
				memory_order_relaxed));
	replay_ports_summary(p->ports, out);
	if (p->kafka_open)
		sink_kafka_summary(&p->kafka, out);
	if (stats_path != NULL)
		write_stats_json(p, &t, stats_path);
}
