/*
 * metrics.c - the text of /metrics (Prometheus exposition format 0.0.4)
 * and the verdict of /readyz.  @thread http.
 *
 * Every family has HELP and TYPE lines; counters end in _total; units are
 * in the names (seconds, bytes, bytes_per_second).  Label values come from
 * bounded sets: worker index, decode reason names, message types, sink
 * names, and connections/exporters of the last window capped by
 * metrics.max_connections (the rest counted, not exported).
 */
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agg/conn_status.h"
#include "bmp/bmp_gauge.h"
#include "ops/http.h"
#include "rib/peer_state.h"
#include "rx/ipfix_tcp.h"

#define PEERSCOPE_VERSION_TEXT "0.1.0"

struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3))) static void
text_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = t->cap - t->len;

		if (t->failed)
			return;
		va_start(ap, fmt);
		n = vsnprintf(t->buf != NULL ? t->buf + t->len : NULL, room,
			      fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 65536;

		while (cap - t->len <= (size_t)n)
			cap *= 2;
		char *b = realloc(t->buf, cap);

		if (b == NULL) {
			t->failed = true;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
}

/* A label value: backslash, quote and newline escaped, per the format. */
static const char *label(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	return buf;
}

static void family(struct text *t, const char *name, const char *type,
		   const char *help)
{
	text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one series without labels. */
static void metric_u64(struct text *t, const char *name, const char *type,
		       const char *help, uint64_t value)
{
	family(t, name, type, help);
	text_printf(t, "%s %llu\n", name, (unsigned long long)value);
}

/* The merger's sinks as it last published them (a SIGHUP may change them). */
static unsigned sinks_n(const struct stats_hub *h)
{
	unsigned n = atomic_load_explicit(&h->nsinks, memory_order_acquire);

	return n < STATS_MAX_SINKS ? n : STATS_MAX_SINKS;
}

static const char *sink_name(const struct stats_hub *h, unsigned i)
{
	return atomic_load_explicit(&h->sink_name[i], memory_order_relaxed);
}

static uint64_t ld(const _Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* The rows of WORKER_COUNTERS (xthread/stats.h), in their order. */
static const struct worker_counter_row {
	const char *metric, *type, *help;
	size_t offset; /* in struct worker_pub */
	enum worker_counter_group group;
} worker_counter_rows[] = {
#define WORKER_ROW(field, from, grp, metric, type, help)                       \
	{ metric, type, help, offsetof(struct worker_pub, field),              \
	  WORKER_GROUP_##grp },
	WORKER_COUNTERS(WORKER_ROW)
#undef WORKER_ROW
};

/* The rows of one group: a counter or gauge per worker, read from its
 * published snapshot. */
static void render_worker_counters(struct text *t, const struct http_view *p,
				   enum worker_counter_group group)
{
	for (size_t r = 0; r < sizeof(worker_counter_rows) /
				       sizeof(worker_counter_rows[0]);
	     r++) {
		const struct worker_counter_row *row = &worker_counter_rows[r];

		if (row->group != group)
			continue;
		family(t, row->metric, row->type, row->help);
		for (unsigned i = 0; i < p->nworkers; i++) {
			const char *pub = (const char *)p->worker_pub[i];

			text_printf(t, "%s{worker=\"%u\"} %llu\n", row->metric,
				    i,
				    (unsigned long long)ld(
					    (const _Atomic uint64_t
						     *)(pub + row->offset)));
		}
	}
}

/*
 * The per-exporter state tables (aging, htab.h): their size, the least
 * recently used entries a full table forgot for a new key (reason "lru")
 * and those forgotten after limits.state_idle_seconds (reason "idle").
 */
static void render_state_tables(struct text *t, const struct http_view *p)
{
	family(t, "peerscope_state_entries", "gauge",
	       "Entries in a worker's per-exporter state tables, by table.");
	for (unsigned i = 0; i < p->nworkers; i++)
		for (unsigned k = 0; k < STATS_TABLE_COUNT; k++)
			text_printf(t,
				    "peerscope_state_entries{worker=\"%u\","
				    "table=\"%s\"} %llu\n",
				    i, stats_table_name(k),
				    (unsigned long long)ld(
					    &p->worker_pub[i]
						     ->table_entries[k]));
	family(t, "peerscope_state_evicted_total", "counter",
	       "Per-exporter state forgotten: lru = a full table made room "
	       "for a new key, idle = unused for limits.state_idle_seconds.");
	for (unsigned i = 0; i < p->nworkers; i++) {
		const struct worker_pub *w = p->worker_pub[i];

		for (unsigned k = 0; k < STATS_TABLE_COUNT; k++)
			text_printf(t,
				    "peerscope_state_evicted_total{worker="
				    "\"%u\",table=\"%s\",reason=\"lru\"} "
				    "%llu\n"
				    "peerscope_state_evicted_total{worker="
				    "\"%u\",table=\"%s\",reason=\"idle\"} "
				    "%llu\n",
				    i, stats_table_name(k),
				    (unsigned long long)ld(&w->table_evicted[k]),
				    i, stats_table_name(k),
				    (unsigned long long)ld(&w->table_expired[k]));
	}
}

static void one_counter(struct text *t, const char *name, const char *help,
			const _Atomic uint64_t *v)
{
	family(t, name, "counter", help);
	text_printf(t, "%s %llu\n", name, (unsigned long long)ld(v));
}

/* flow.state_file: the state-file writer's own counters (statewriter.h). */
static void render_state_saves(struct text *t, const struct http_view *p)
{
	const struct state_writer_stats *s = p->state_saves;

	if (s == NULL)
		return;
	one_counter(t, "peerscope_state_saves_total",
		    "IPFIX/v9 state snapshots (flow.state_file) written by the "
		    "state-file writer thread.",
		    &s->saved);
	one_counter(t, "peerscope_state_saves_failed_total",
		    "State snapshots not written: the snapshot or the write "
		    "failed (the previous file stays).",
		    &s->failed);
	one_counter(t, "peerscope_state_saves_dropped_total",
		    "State snapshots dropped because the writer's queue was "
		    "full (the worker's next save tries again).",
		    &s->dropped);
}

/* IPFIX/v9 templates a full cache or an exporter's quota made room for. */
static void render_template_evictions(struct text *t,
				      const struct http_view *p)
{
	family(t, "peerscope_templates_evicted_total", "counter",
	       "IPFIX/v9 templates dropped to make room, by worker and "
	       "reason: exporter_quota (the exporter's own least recently "
	       "used, at flow.max_templates_per_exporter), expired (not "
	       "re-sent for flow.template_timeout_seconds), cache_full "
	       "(the least recently used of the exporter holding the most, "
	       "exporters with decoded data kept first).");
	for (unsigned i = 0; i < p->nworkers; i++)
		for (unsigned r = 0; r < IPFIX_EVICT_COUNT; r++)
			text_printf(t,
				    "peerscope_templates_evicted_total{worker="
				    "\"%u\",reason=\"%s\"} %llu\n",
				    i, ipfix_evict_name(r),
				    (unsigned long long)ld(
					    &p->worker_pub[i]
						     ->templates_evicted[r]));
	render_worker_counters(t, p, WORKER_GROUP_HELD);
}

static void render_workers(struct text *t, const struct http_view *p)
{
	render_worker_counters(t, p, WORKER_GROUP_MAIN);
	render_template_evictions(t, p);
	family(t, "peerscope_ring_slots", "gauge",
	       "Slots of each worker-to-merger ring.");
	text_printf(t, "peerscope_ring_slots %u\n", p->cfg->ring_slots);
	family(t, "peerscope_sockets", "gauge",
	       "UDP sockets open, by worker (live mode).");
	for (unsigned i = 0; i < p->nworkers; i++)
		text_printf(t, "peerscope_sockets{worker=\"%u\"} %u\n", i,
			    p->rx_count[i]);
	render_state_tables(t, p);
	render_state_saves(t, p);
}

/* By protocol: a handful of label values, summed over workers. */
static void render_protocols(struct text *t, const struct http_view *p)
{
	family(t, "peerscope_protocol_datagrams_total", "counter",
	       "Datagrams by protocol.");
	for (unsigned i = 1; i < PS_PROTO_END_; i++) {
		uint64_t n = 0;

		for (unsigned w = 0; w < p->nworkers; w++)
			n += ld(&p->worker_pub[w]->proto_datagrams[i]);
		text_printf(t,
			    "peerscope_protocol_datagrams_total{protocol="
			    "\"%s\"} %llu\n",
			    ps_proto_name(i), (unsigned long long)n);
	}
	family(t, "peerscope_protocol_bytes_total", "counter",
	       "UDP payload bytes by protocol.");
	for (unsigned i = 1; i < PS_PROTO_END_; i++) {
		uint64_t n = 0;

		for (unsigned w = 0; w < p->nworkers; w++)
			n += ld(&p->worker_pub[w]->proto_bytes[i]);
		text_printf(t,
			    "peerscope_protocol_bytes_total{protocol=\"%s\"} "
			    "%llu\n",
			    ps_proto_name(i), (unsigned long long)n);
	}
}

static void render_decode(struct text *t, const struct http_view *p)
{
	family(t, "peerscope_decode_errors_total", "counter",
	       "Datagrams, samples or records dropped or skipped, by reason "
	       "(see README: troubleshooting).");
	for (unsigned r = 0; r < DEC_REASON_COUNT; r++) {
		/* capture-level (replay), the live BMP server's (live), and
		 * every worker's */
		uint64_t n = p->input_errors->n[r] +
			     ld(&p->bmp->errors[r]);

		for (unsigned i = 0; i < p->nworkers; i++)
			n += ld(&p->worker_pub[i]->errors[r]);
		text_printf(t,
			    "peerscope_decode_errors_total{reason=\"%s\","
			    "class=\"%s\"} %llu\n",
			    dec_reason_name(r),
			    dec_class_name(dec_reason_class(r)),
			    (unsigned long long)n);
	}
}

static void render_merger(struct text *t, const struct http_view *p)
{
	const struct stats_hub *h = p->hub;
	uint64_t cum = 0;

	metric_u64(t, "peerscope_windows_published_total", "counter",
		   "Windows published to the sinks.",
		   ld(&h->windows_published));
	metric_u64(t, "peerscope_windows_forced_total", "counter",
		   "Windows published before every worker had passed them.",
		   ld(&h->windows_forced));
	metric_u64(t, "peerscope_connections_refused_total", "counter",
		   "Connections refused at limits.connections_per_worker.",
		   ld(&h->conns_refused));
	metric_u64(t, "peerscope_latency_no_memory_total", "counter",
		   "Latency values left out for want of memory.",
		   ld(&h->latency_no_memory));
	metric_u64(t, "peerscope_rates_no_memory_total", "counter",
		   "Connection rates (sample slots, counter intervals) left "
		   "out of a window's p95 for want of memory.",
		   ld(&h->rates_no_memory));
	metric_u64(t, "peerscope_probe_windows_total", "counter",
		   "Probe windows the merger took from the probe thread.",
		   ld(&h->probe_windows));
	metric_u64(t, "peerscope_probe_windows_late_total", "counter",
		   "Probe windows that came after their window was published "
		   "(dropped).",
		   ld(&h->probe_windows_late));
	metric_u64(t, "peerscope_probe_results_unjoined_total", "counter",
		   "Probe results of no configured connection's port (a port "
		   "by sysName or ifName), not published.",
		   ld(&h->probe_results_unjoined));
	metric_u64(t, "peerscope_exporters_refused_total", "counter",
		   "Exporters refused at limits.exporters_per_worker.",
		   ld(&h->exporters_refused));
	metric_u64(t, "peerscope_connections_folded_total", "counter",
		   "Connections past limits.connections_per_window, published "
		   "summed in their window's window_other message.",
		   ld(&h->conns_folded));
	metric_u64(t, "peerscope_exporters_folded_total", "counter",
		   "Exporters past limits.exporters_per_window, published "
		   "summed in their window's window_other message.",
		   ld(&h->exporters_folded));
	family(t, "peerscope_messages_total", "counter",
	       "Messages published, by type.");
	for (int i = 0; i < MSG_TYPE_COUNT; i++)
		text_printf(t, "peerscope_messages_total{type=\"%s\"} %llu\n",
			    msg_info(i)->type,
			    (unsigned long long)ld(&h->messages[i]));
	family(t, "peerscope_messages_failed_total", "counter",
	       "Messages a sink could not take, by type.");
	for (int i = 0; i < MSG_TYPE_COUNT; i++)
		text_printf(t,
			    "peerscope_messages_failed_total{type=\"%s\"} "
			    "%llu\n",
			    msg_info(i)->type,
			    (unsigned long long)ld(&h->messages_failed[i]));
	family(t, "peerscope_sink_up", "gauge",
	       "1 when the sink delivers: nothing it was handed failed since "
	       "its last flush and, for Kafka, a broker is reachable and "
	       "deliveries neither fail nor stall (output.kafka.down_after_ms).");
	for (unsigned i = 0, n = sinks_n(h); i < n; i++)
		text_printf(t, "peerscope_sink_up{sink=\"%s\"} %d\n",
			    sink_name(h, i),
			    atomic_load_explicit(&h->sink_ok[i],
						 memory_order_relaxed) ?
				    1 :
				    0);
	family(t, "peerscope_sink_failures_total", "counter",
	       "Messages and flushes a sink failed.");
	for (unsigned i = 0, n = sinks_n(h); i < n; i++)
		text_printf(t,
			    "peerscope_sink_failures_total{sink=\"%s\"} %llu\n",
			    sink_name(h, i),
			    (unsigned long long)ld(&h->sink_failures[i]));
	metric_u64(t, "peerscope_sink_reopens_total", "counter",
		   "SIGHUP reopenings of the sinks' files (log rotation).",
		   ld(&h->sink_reopens));
	metric_u64(t, "peerscope_sink_reopen_failures_total", "counter",
		   "Sinks that could not reopen (the old file stays in use).",
		   ld(&h->sink_reopen_failures));
	family(t, "peerscope_window_publish_duration_seconds", "histogram",
	       "Time to publish one merged window to every sink.");
	for (unsigned i = 0; i < STATS_LAT_BUCKETS; i++) {
		cum = ld(&h->publish_bucket[i]);
		text_printf(t,
			    "peerscope_window_publish_duration_seconds_bucket"
			    "{le=\"%g\"} %llu\n",
			    stats_publish_buckets[i], (unsigned long long)cum);
	}
	text_printf(t,
		    "peerscope_window_publish_duration_seconds_bucket"
		    "{le=\"+Inf\"} %llu\n"
		    "peerscope_window_publish_duration_seconds_sum %.9f\n"
		    "peerscope_window_publish_duration_seconds_count %llu\n",
		    (unsigned long long)ld(&h->publish_count),
		    (double)ld(&h->publish_sum_ns) / 1e9,
		    (unsigned long long)ld(&h->publish_count));
}

static void render_kafka(struct text *t, const struct stats_hub *h)
{
	static const char *const name[] = {
		[STATS_KAFKA_ACCEPTED] = "accepted",
		[STATS_KAFKA_DELIVERED] = "delivered",
		[STATS_KAFKA_FAILED] = "failed",
		[STATS_KAFKA_DROPPED] = "dropped",
	};

	if (!atomic_load_explicit(&h->kafka_present, memory_order_relaxed))
		return;
	family(t, "peerscope_kafka_messages_total", "counter",
	       "Kafka sink messages by type and outcome: accepted, delivered "
	       "(acknowledged), failed (delivery error), dropped (queue "
	       "bound or too large).");
	for (int m = 0; m < MSG_TYPE_COUNT; m++)
		for (int f = 0; f < 4; f++)
			text_printf(
				t,
				"peerscope_kafka_messages_total{type=\"%s\","
				"outcome=\"%s\"} %llu\n",
				msg_info(m)->type, name[f],
				(unsigned long long)ld(&h->kafka[m][f]));
	family(t, "peerscope_kafka_queue_messages", "gauge",
	       "Kafka messages accepted and not yet delivered, failed or "
	       "dropped.");
	for (int m = 0; m < MSG_TYPE_COUNT; m++) {
		uint64_t in = ld(&h->kafka[m][STATS_KAFKA_ACCEPTED]);
		uint64_t out = ld(&h->kafka[m][STATS_KAFKA_DELIVERED]) +
			       ld(&h->kafka[m][STATS_KAFKA_FAILED]) +
			       ld(&h->kafka[m][STATS_KAFKA_DROPPED]);

		text_printf(t,
			    "peerscope_kafka_queue_messages{type=\"%s\"} "
			    "%llu\n",
			    msg_info(m)->type,
			    (unsigned long long)(in > out ? in - out : 0));
	}
}

/*
 * Counters for the whole run, one series per exporter up to EXPTOTALS_MAX
 * (exptotals.h): rate() over them survives missed scrapes, which the
 * last-window gauges do not.
 */
static void render_exporter_totals(struct text *t, const struct exp_totals *e)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} f[] = {
		{ "peerscope_exporter_datagrams_total",
		  "Datagrams from an exporter since start.",
		  offsetof(struct exp_total, datagrams) },
		{ "peerscope_exporter_bytes_total",
		  "Bytes from an exporter since start.",
		  offsetof(struct exp_total, bytes) },
		{ "peerscope_exporter_sequence_lost_total",
		  "Datagrams lost between router and host (sequence gaps) "
		  "since start.",
		  offsetof(struct exp_total, lost) },
		{ "peerscope_exporter_datagrams_rejected_total",
		  "Datagrams from an exporter rejected since start.",
		  offsetof(struct exp_total, rejected) },
	};
	char l1[128], l2[128], l3[160];

	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		family(t, f[k].name, "counter", f[k].help);
		for (uint32_t i = 0; i < e->n; i++) {
			uint64_t v;

			memcpy(&v, (const char *)&e->v[i] + f[k].off,
			       sizeof(v));
			text_printf(t,
				    "%s{exporter=\"%s\",agent=\"%s\","
				    "exporter_id=\"%s\"} %llu\n",
				    f[k].name,
				    label(e->v[i].source, l1, sizeof(l1)),
				    label(e->v[i].agent, l2, sizeof(l2)),
				    label(e->v[i].id, l3, sizeof(l3)),
				    (unsigned long long)v);
		}
	}
	metric_u64(t, "peerscope_exporter_totals_omitted_datagrams_total",
		   "counter",
		   "Datagrams of exporters past the per-exporter series cap.",
		   e->omitted_datagrams);
	metric_u64(t, "peerscope_exporter_totals_evicted_total", "counter",
		   "Per-exporter series given to a newer exporter (the one "
		   "heard from least recently, absent from the last window).",
		   e->evicted_exporters);
}

/*
 * Bandwidth in the last window: bytes (the base unit Prometheus asks for:
 * dashboards multiply by 8) and packets per second, by the figure's source.
 */
static void render_conn_rates(struct text *t, const struct stats_snapshot *s)
{
	static const char *const dir[2] = { "in", "out" };
	static const struct {
		const char *name, *help;
	} rate[2] = {
		{ "peerscope_connection_bytes_per_second",
		  "Connection bandwidth in the last window; source is counters "
		  "(exact) or samples (estimate)." },
		{ "peerscope_connection_packets_per_second",
		  "Connection packet rate in the last window; source as "
		  "peerscope_connection_bytes_per_second." },
	};
	char l1[200];

	for (int k = 0; k < 2; k++) {
		family(t, rate[k].name, "gauge", rate[k].help);
		for (uint32_t i = 0; i < s->nconns; i++)
			for (int d = 0; d < 2; d++)
				text_printf(
					t, "%s{connection=\"%s\","
					   "direction=\"%s\",source=\"%s\"} "
					   "%.3f\n",
					rate[k].name,
					label(s->conns[i].id, l1, sizeof(l1)),
					dir[d],
					s->conns[i].from_counters[d] ?
						"counters" :
						"samples",
					k == 0 ? s->conns[i].bps[d] / 8.0 :
						 s->conns[i].pps[d]);
	}
}

/* Discards and errors per second, where interface counters gave them. */
static void render_conn_counter_rates(struct text *t,
				      const struct stats_snapshot *s)
{
	static const char *const dir[2] = { "in", "out" };
	static const char *const name[2] = {
		"peerscope_connection_discards_per_second",
		"peerscope_connection_errors_per_second",
	};
	char l1[200];

	for (int k = 0; k < 2; k++) {
		family(t, name[k], "gauge",
		       k == 0 ? "Packets discarded per second (interface "
				"counters; absent without them)." :
			        "Packets in error per second (interface "
				"counters; absent without them).");
		for (uint32_t i = 0; i < s->nconns; i++)
			for (int d = 0; d < 2; d++)
				if (s->conns[i].from_counters[d])
					text_printf(
						t, "%s{connection=\"%s\","
						   "direction=\"%s\"} %.3f\n",
						name[k],
						label(s->conns[i].id, l1,
						      sizeof(l1)),
						dir[d],
						k == 0 ? s->conns[i].discards_ps[d] :
							 s->conns[i].errors_ps[d]);
	}
}

/* The billing figure and drops (connection_metrics in/out.rate, drops). */
static void render_conn_p95(struct text *t, const struct stats_snapshot *s)
{
	static const char *const dir[2] = { "in", "out" };
	char l1[200];

	family(t, "peerscope_connection_p95_bytes_per_second", "gauge",
	       "95th percentile of the window's per-interval rates (counter "
	       "intervals, else 10 s sample slots; source says which), bytes "
	       "per second.");
	for (uint32_t i = 0; i < s->nconns; i++)
		for (int d = 0; d < 2; d++)
			if (s->conns[i].has_p95[d])
				text_printf(t,
					    "peerscope_connection_p95_bytes_per_"
					    "second{connection=\"%s\","
					    "direction=\"%s\",source=\"%s\"} "
					    "%.3f\n",
					    label(s->conns[i].id, l1,
						  sizeof(l1)),
					    dir[d], s->conns[i].rate_source[d],
					    s->conns[i].p95_bps[d] / 8.0);
	family(t, "peerscope_connection_dropped_packets_per_second", "gauge",
	       "Packets that came in by the connection and were dropped "
	       "(sFlow discarded-packet samples and discarded flow samples).");
	for (uint32_t i = 0; i < s->nconns; i++)
		text_printf(t,
			    "peerscope_connection_dropped_packets_per_second{"
			    "connection=\"%s\"} %.3f\n",
			    label(s->conns[i].id, l1, sizeof(l1)),
			    s->conns[i].drop_pps);
}

/* Configured connections: status (one series per status, 1 for the
 * current one) and availability, by connection_id. */
static void render_conn_status(struct text *t, const struct stats_snapshot *s)
{
	static const enum conn_status_code codes[] = {
		CONN_STATUS_UP, CONN_STATUS_DOWN, CONN_STATUS_DEGRADED,
		CONN_STATUS_UNKNOWN,
	};
	char l1[200];

	family(t, "peerscope_connection_status", "gauge",
	       "Status of a configured connection (connection_metrics "
	       "status): 1 for the current one of up, down, degraded, "
	       "unknown, 0 for the others.");
	for (uint32_t i = 0; i < s->nstatuses; i++)
		for (size_t k = 0; k < sizeof(codes) / sizeof(codes[0]); k++)
			text_printf(t,
				    "peerscope_connection_status{connection_id"
				    "=\"%s\",status=\"%s\"} %d\n",
				    label(s->statuses[i].id, l1, sizeof(l1)),
				    conn_status_name(codes[k]),
				    s->statuses[i].status == codes[k]);
	family(t, "peerscope_connection_availability_ratio", "gauge",
	       "Mean of a configured connection's sessions' availability "
	       "over the window (the share of it Established), 0..1; absent "
	       "when no session's is known.");
	for (uint32_t i = 0; i < s->nstatuses; i++)
		if (s->statuses[i].availability >= 0)
			text_printf(t,
				    "peerscope_connection_availability_ratio{"
				    "connection_id=\"%s\"} %.6f\n",
				    label(s->statuses[i].id, l1, sizeof(l1)),
				    s->statuses[i].availability);
}

/* One list of a connection's heaviest keys: its entries, other, unknown. */
static void render_top_list(struct text *t, const char *metric,
			    const char *labels, const char *key_label,
			    const struct conn_gauge_list *l)
{
	for (uint32_t i = 0; i < l->n; i++)
		text_printf(t, "%s{%s,%s=\"%u\"} %.3f\n", metric, labels,
			    key_label, l->key[i], l->bytes_ps[i]);
	text_printf(t, "%s{%s,%s=\"other\"} %.3f\n", metric, labels,
		    key_label, l->other_bytes_ps);
	text_printf(t, "%s{%s,%s=\"unknown\"} %.3f\n", metric, labels,
		    key_label, l->unknown_bytes_ps);
}

/* Who the traffic belongs to (connection_metrics "top"), as rates. */
static void render_conn_tops(struct text *t, const struct stats_snapshot *s)
{
	static const char *const dir[2] = { "in", "out" };
	static const char *const side[2] = { "source", "destination" };
	char l1[200], labels[300];

	family(t, "peerscope_connection_asn_bytes_per_second", "gauge",
	       "Bytes per second by source or destination ASN (the "
	       "exporter's AS fields, else the BMP routes): the 5 heaviest, "
	       "asn=\"other\" the rest, asn=\"unknown\" without an AS.");
	for (uint32_t i = 0; i < s->nconns; i++)
		for (int d = 0; d < 2 && s->conns[i].top != NULL; d++)
			for (int a = 0; a < 2; a++) {
				snprintf(labels, sizeof(labels),
					 "connection=\"%s\",direction=\"%s\","
					 "side=\"%s\"",
					 label(s->conns[i].id, l1, sizeof(l1)),
					 dir[d], side[a]);
				render_top_list(
					t,
					"peerscope_connection_asn_bytes_per_"
					"second",
					labels, "asn", &s->conns[i].top->as[d][a]);
			}
	family(t, "peerscope_connection_dscp_bytes_per_second", "gauge",
	       "Bytes per second by DSCP class: the 5 heaviest, "
	       "dscp=\"other\" the rest, dscp=\"unknown\" without an IP "
	       "header.");
	for (uint32_t i = 0; i < s->nconns; i++)
		for (int d = 0; d < 2 && s->conns[i].top != NULL; d++) {
			snprintf(labels, sizeof(labels),
				 "connection=\"%s\",direction=\"%s\"",
				 label(s->conns[i].id, l1, sizeof(l1)), dir[d]);
			render_top_list(t,
					"peerscope_connection_dscp_bytes_per_"
					"second",
					labels, "dscp", &s->conns[i].top->dscp[d]);
		}
}

/* One source's summary series of a connection (`conn`: its label). */
static void lat_summary(struct text *t, const char *conn,
			const struct lat_gauge *g)
{
	static const char *const q[3] = { "0.5", "0.9", "0.99" };
	const double v[3] = { g->p50_s, g->p90_s, g->p99_s };

	if (g->source == NULL)
		return;
	for (int i = 0; i < 3; i++)
		text_printf(t,
			    "peerscope_connection_latency_seconds{connection="
			    "\"%s\",source=\"%s\",quantile=\"%s\"} %.9g\n",
			    conn, g->source, q[i], v[i]);
	text_printf(t,
		    "peerscope_connection_latency_seconds_sum{connection="
		    "\"%s\",source=\"%s\"} %.9g\n",
		    conn, g->source, g->sum_s);
	text_printf(t,
		    "peerscope_connection_latency_seconds_count{connection="
		    "\"%s\",source=\"%s\"} %llu\n",
		    conn, g->source, (unsigned long long)g->count);
}

static void render_snapshot(struct text *t, const struct http_view *p)
{
	/* The lock is the one part of a read-only view that must change. */
	struct stats_hub *h = (struct stats_hub *)p->hub;
	const struct stats_snapshot *s = &h->snap;
	static const char *const dir[2] = { "in", "out" };
	char l1[200], l2[120], l3[160];

	pthread_mutex_lock(&h->lock);
	family(t, "peerscope_last_window_end_timestamp_seconds", "gauge",
	       "End of the last published window (Unix time).");
	text_printf(t, "peerscope_last_window_end_timestamp_seconds %.3f\n",
		    (double)s->end_ns / 1e9);
	family(t, "peerscope_connections_exported", "gauge",
	       "Connections with series below (last window).");
	text_printf(t, "peerscope_connections_exported %u\n", s->nconns);
	family(t, "peerscope_connections_omitted", "gauge",
	       "Connections of the last window left out by "
	       "metrics.max_connections.");
	text_printf(t, "peerscope_connections_omitted %u\n", s->conns_omitted);
	render_conn_rates(t, s);
	render_conn_counter_rates(t, s);
	render_conn_tops(t, s);
	render_conn_p95(t, s);
	family(t, "peerscope_connection_utilisation_ratio", "gauge",
	       "Mean rate of the window over the capacity (the configured "
	       "connection's, else ifSpeed), 0..1; absent when unknown.");
	for (uint32_t i = 0; i < s->nconns; i++)
		for (int d = 0; d < 2 && s->conns[i].has_util; d++)
			text_printf(
				t,
				"peerscope_connection_utilisation_ratio{"
				"connection=\"%s\",direction=\"%s\"} %.9g\n",
				label(s->conns[i].id, l1, sizeof(l1)), dir[d],
				s->conns[i].util[d]);
	family(t, "peerscope_connection_utilisation_p95_ratio", "gauge",
	       "95th percentile of the window's per-interval rates over the "
	       "capacity, 0..1 (connection_metrics utilisation.*_p95).");
	for (uint32_t i = 0; i < s->nconns; i++)
		for (int d = 0; d < 2 && s->conns[i].has_util; d++)
			if (s->conns[i].has_p95[d])
				text_printf(t,
					    "peerscope_connection_utilisation_"
					    "p95_ratio{connection=\"%s\","
					    "direction=\"%s\"} %.9g\n",
					    label(s->conns[i].id, l1,
						  sizeof(l1)),
					    dir[d], s->conns[i].util_p95[d]);
	family(t, "peerscope_connection_capacity_bytes_per_second", "gauge",
	       "Capacity / 8: the configured connection's, else the "
	       "interface speed the router reports (ifSpeed).");
	for (uint32_t i = 0; i < s->nconns; i++)
		if (s->conns[i].has_util)
			text_printf(t,
				    "peerscope_connection_capacity_bytes_per_"
				    "second{connection=\"%s\"} %.3f\n",
				    label(s->conns[i].id, l1, sizeof(l1)),
				    (double)s->conns[i].capacity_bps / 8.0);
	family(t, "peerscope_connection_latency_seconds", "summary",
	       "Connection latency by source (connection_metrics.latency): "
	       "quantiles of the last window, count and sum since start.");
	for (uint32_t i = 0; i < s->nconns; i++)
		for (int k = 0; k < STATS_LAT_SOURCES; k++)
			lat_summary(t, label(s->conns[i].id, l1, sizeof(l1)),
				    &s->conns[i].lat[k]);
	family(t, "peerscope_connection_oper_up", "gauge",
	       "Operational status: 1 up, 0 down (absent when unknown).");
	for (uint32_t i = 0; i < s->nconns; i++)
		if (s->conns[i].oper >= 0)
			text_printf(t,
				    "peerscope_connection_oper_up{connection="
				    "\"%s\"} %d\n",
				    label(s->conns[i].id, l1, sizeof(l1)),
				    s->conns[i].oper);
	family(t, "peerscope_connection_bgp_up", "gauge",
	       "BGP sessions carrying the connection's traffic (BMP): 1 when "
	       "one is up, 0 when all are down (absent when unknown or "
	       "without a BMP feed).");
	for (uint32_t i = 0; i < s->nconns; i++)
		if (s->conns[i].bgp >= 0)
			text_printf(t,
				    "peerscope_connection_bgp_up{connection="
				    "\"%s\"} %d\n",
				    label(s->conns[i].id, l1, sizeof(l1)),
				    s->conns[i].bgp);
	render_conn_status(t, s);
	family(t, "peerscope_exporters_omitted", "gauge",
	       "Exporters of the last window left out by "
	       "metrics.max_connections.");
	text_printf(t, "peerscope_exporters_omitted %u\n",
		    s->exporters_omitted);
	family(t, "peerscope_exporter_datagrams", "gauge",
	       "Datagrams from an exporter in the last window.");
	for (uint32_t i = 0; i < s->nexporters; i++)
		text_printf(t,
			    "peerscope_exporter_datagrams{exporter=\"%s\","
			    "agent=\"%s\",exporter_id=\"%s\"} %llu\n",
			    label(s->exporters[i].source, l1, sizeof(l1)),
			    label(s->exporters[i].agent, l2, sizeof(l2)),
			    label(s->exporters[i].id, l3, sizeof(l3)),
			    (unsigned long long)s->exporters[i].datagrams);
	family(t, "peerscope_exporter_bytes", "gauge",
	       "Bytes from an exporter in the last window.");
	for (uint32_t i = 0; i < s->nexporters; i++)
		text_printf(t,
			    "peerscope_exporter_bytes{exporter=\"%s\","
			    "agent=\"%s\",exporter_id=\"%s\"} %llu\n",
			    label(s->exporters[i].source, l1, sizeof(l1)),
			    label(s->exporters[i].agent, l2, sizeof(l2)),
			    label(s->exporters[i].id, l3, sizeof(l3)),
			    (unsigned long long)s->exporters[i].bytes);
	family(t, "peerscope_exporter_sequence_lost", "gauge",
	       "Datagrams lost between router and host (sequence gaps), last "
	       "window.");
	for (uint32_t i = 0; i < s->nexporters; i++)
		text_printf(t,
			    "peerscope_exporter_sequence_lost{exporter=\"%s\","
			    "agent=\"%s\",exporter_id=\"%s\"} %llu\n",
			    label(s->exporters[i].source, l1, sizeof(l1)),
			    label(s->exporters[i].agent, l2, sizeof(l2)),
			    label(s->exporters[i].id, l3, sizeof(l3)),
			    (unsigned long long)s->exporters[i].lost);
	render_exporter_totals(t, &s->totals);
	pthread_mutex_unlock(&h->lock);
}

/* Routers not read because their events wait for the output. */
static void render_bmp_backpressure(struct text *t, const struct bmp_gauges *g,
				    const struct bmp_gauge_router *top,
				    uint32_t n)
{
	char lb[300];

	metric_u64(t, "peerscope_bmp_routers_paused", "gauge",
		   "BMP sessions not read now: their events wait for the "
		   "output (TCP backpressure).",
		   ld(&g->routers_paused));
	metric_u64(t, "peerscope_bmp_pauses_total", "counter",
		   "Times a BMP session stopped being read for backpressure.",
		   ld(&g->pauses));
	family(t, "peerscope_bmp_paused_seconds_total", "counter",
	       "Time BMP sessions spent paused for backpressure, summed.");
	text_printf(t, "peerscope_bmp_paused_seconds_total %.3f\n",
		    (double)ld(&g->paused_ns) / 1e9);
	metric_u64(t, "peerscope_bmp_queued_events", "gauge",
		   "bgp_session and route messages waiting for the output in "
		   "router queues.",
		   ld(&g->queued_events));
	metric_u64(t, "peerscope_bmp_queued_bytes", "gauge",
		   "Memory held by those waiting messages.",
		   ld(&g->queued_bytes));
	family(t, "peerscope_bmp_router_pauses_total", "counter",
	       "Backpressure pauses per router address, this session (the "
	       "busiest routers only).");
	for (uint32_t i = 0; i < n; i++)
		text_printf(t,
			    "peerscope_bmp_router_pauses_total{router=\"%s\"} "
			    "%llu\n",
			    label(top[i].name, lb, sizeof(lb)),
			    (unsigned long long)top[i].pauses);
	family(t, "peerscope_bmp_router_paused_seconds_total", "counter",
	       "Time paused for backpressure per router address, this "
	       "session.");
	for (uint32_t i = 0; i < n; i++)
		text_printf(t,
			    "peerscope_bmp_router_paused_seconds_total{router="
			    "\"%s\"} %.3f\n",
			    label(top[i].name, lb, sizeof(lb)),
			    (double)top[i].paused_ns / 1e9);
}

/*
 * IPFIX over TCP (ipfix_tcp.h), served by worker 0; only when
 * flow.tcp_listen is set.  The refusals are one family with a reason.
 */
static void render_ipfix_tcp(struct text *t, const struct http_view *p)
{
	const struct worker_pub *w;

	if (p->nworkers == 0 || strcmp(p->cfg->flow_tcp_listen, "-") == 0)
		return;
	w = p->worker_pub[0];
	metric_u64(t, "peerscope_ipfix_tcp_connections", "gauge",
		   "IPFIX/TCP connections open now.",
		   ld(&w->ipfix_tcp_open));
	for (unsigned i = 0; i < IPFIX_TCP_COUNTER_COUNT; i++) {
		const char *reason, *help;
		const char *fam = ipfix_tcp_counter_family(i, &reason, &help);

		if (help != NULL)
			text_printf(t,
				    "# HELP peerscope_ipfix_tcp_%s %s\n"
				    "# TYPE peerscope_ipfix_tcp_%s counter\n",
				    fam, help, fam);
		text_printf(t, "peerscope_ipfix_tcp_%s", fam);
		if (reason[0] != '\0')
			text_printf(t, "{reason=\"%s\"}", reason);
		text_printf(t, " %llu\n",
			    (unsigned long long)ld(&w->ipfix_tcp[i]));
	}
}

/* BMP sessions and RIB sizes, as the BMP thread last counted them. */
static void render_bmp(struct text *t, const struct http_view *p)
{
	/* The lock is the one part of a read-only view that must change. */
	struct bmp_gauges *g = (struct bmp_gauges *)p->bmp;
	struct bmp_gauge_router top[BMP_GAUGE_MAX_ROUTERS];
	uint32_t n;
	char lb[300];

	if (!g->inited)
		return;
	metric_u64(t, "peerscope_bmp_routers", "gauge",
		   "BMP sessions (monitored routers) open now.",
		   ld(&g->routers));
	family(t, "peerscope_bmp_peer_sessions", "gauge",
	       "BGP peers of the open BMP sessions, by state.");
	for (unsigned i = 0; i < BMP_GAUGE_STATES; i++)
		text_printf(t,
			    "peerscope_bmp_peer_sessions{state=\"%s\"} %llu\n",
			    bmp_state_name((enum bmp_peer_state)i),
			    (unsigned long long)ld(&g->sessions[i]));
	metric_u64(t, "peerscope_bmp_rib_routes", "gauge",
		   "Routes held for the open BMP sessions, all peers and "
		   "views.",
		   ld(&g->routes));
	n = bmp_gauges_routers(g, top);
	family(t, "peerscope_bmp_router_rib_routes", "gauge",
	       "Routes held per router address, all its peers and views "
	       "(the busiest routers only).");
	for (uint32_t i = 0; i < n; i++)
		text_printf(t,
			    "peerscope_bmp_router_rib_routes{router=\"%s\"} "
			    "%llu\n",
			    label(top[i].name, lb, sizeof(lb)),
			    (unsigned long long)top[i].routes);
	metric_u64(t, "peerscope_bmp_routers_omitted", "gauge",
		   "Routers without a peerscope_bmp_router_rib_routes series.",
		   ld(&g->routers_omitted));
	render_bmp_backpressure(t, g, top, n);
	if (strcmp(p->cfg->bmp_listen, "-") == 0)
		return;
	metric_u64(t, "peerscope_bmp_connections_accepted_total", "counter",
		   "BMP connections accepted by the live server (refusals, "
		   "timeouts and evictions are bmp.server.* reasons of "
		   "peerscope_decode_errors_total).",
		   ld(&g->accepted));
	metric_u64(t, "peerscope_bmp_connections_closed_total", "counter",
		   "BMP sessions of the live server that ended, for any "
		   "reason.",
		   ld(&g->closed));
}

/* The endpoint's own connections (http.h): taken, refused, closed. */
static void render_http_connections(struct text *t,
				    const struct http_server *h)
{
	static const char *const refused[HTTP_REFUSAL_COUNT] = {
		[HTTP_REFUSED_NOT_ALLOWED] = "not_allowed",
		[HTTP_REFUSED_PER_ADDRESS] = "per_address",
		[HTTP_REFUSED_CAP] = "cap",
	};
	static const char *const closed[HTTP_CLOSE_COUNT] = {
		[HTTP_CLOSED_TIMEOUT] = "timeout",
		[HTTP_CLOSED_EVICTED] = "evicted",
	};

	metric_u64(t, "peerscope_http_connections", "gauge",
		   "HTTP connections open now.", ld(&h->open));
	metric_u64(t, "peerscope_http_connections_accepted_total", "counter",
		   "HTTP connections accepted.", ld(&h->accepted));
	family(t, "peerscope_http_connections_refused_total", "counter",
	       "HTTP connections closed at once: not_allowed (outside "
	       "http.allow), per_address (a quarter of http.max_clients from "
	       "that address open), cap (every connection in a request).");
	for (unsigned i = 0; i < HTTP_REFUSAL_COUNT; i++)
		text_printf(t,
			    "peerscope_http_connections_refused_total{reason="
			    "\"%s\"} %llu\n",
			    refused[i], (unsigned long long)ld(&h->refused[i]));
	family(t, "peerscope_http_connections_closed_total", "counter",
	       "HTTP connections closed by peerscope: timeout (no request "
	       "completed for http.timeout_seconds), evicted (waiting "
	       "longest for a request when a new one needed the slot).");
	for (unsigned i = 0; i < HTTP_CLOSE_COUNT; i++)
		text_printf(t,
			    "peerscope_http_connections_closed_total{reason="
			    "\"%s\"} %llu\n",
			    closed[i], (unsigned long long)ld(&h->closed[i]));
}

static void render_process(struct text *t, const struct http_server *h)
{
	struct mallinfo2 mi = mallinfo2();
	unsigned long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f != NULL) {
		if (fscanf(f, "%lu %lu", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	family(t, "peerscope_build_info", "gauge", "Version of this build.");
	text_printf(t, "peerscope_build_info{version=\"%s\"} 1\n",
		    PEERSCOPE_VERSION_TEXT);
	metric_u64(t, "process_start_time_seconds", "gauge",
		   "Start time of the process (Unix time).",
		   h->start_time_s);
	family(t, "process_resident_memory_bytes", "gauge", "Resident memory.");
	text_printf(t, "process_resident_memory_bytes %llu\n",
		    (unsigned long long)resident *
			    (unsigned long long)sysconf(_SC_PAGESIZE));
	metric_u64(t, "peerscope_heap_in_use_bytes", "gauge",
		   "Heap bytes allocated and not freed (malloc).",
		   (mi.uordblks + mi.hblkhd));
	family(t, "peerscope_config_reloads_total", "counter",
	       "SIGHUP reloads, by result.");
	text_printf(t,
		    "peerscope_config_reloads_total{result=\"applied\"} "
		    "%llu\n"
		    "peerscope_config_reloads_total{result=\"rejected\"} "
		    "%llu\n",
		    (unsigned long long)ld(&h->reloads_ok),
		    (unsigned long long)ld(&h->reloads_failed));
	metric_u64(t, "peerscope_http_requests_rejected_total", "counter",
		   "HTTP requests refused (bad method, path or body).",
		   ld(&h->requests_rejected));
	render_http_connections(t, h);
	metric_u64(t, "peerscope_log_lines_suppressed_total", "counter",
		   "Log lines held back by rate limiting (HTTP thread).",
		   h->limit.suppressed_total);
}

char *http_render_metrics(const struct http_server *h, size_t *len)
{
	struct text t = { NULL, 0, 0, false };

	render_process(&t, h);
	render_workers(&t, &h->view);
	render_protocols(&t, &h->view);
	render_decode(&t, &h->view);
	render_merger(&t, &h->view);
	render_kafka(&t, h->view.hub);
	render_snapshot(&t, &h->view);
	render_bmp(&t, &h->view);
	render_ipfix_tcp(&t, &h->view);
	if (t.failed || t.buf == NULL) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}

__attribute__((format(printf, 3, 4))) static void why_add(char *why, size_t len,
							  const char *fmt, ...)
{
	size_t used = strlen(why);
	va_list ap;

	if (used + 2 >= len)
		return;
	if (used > 0) {
		snprintf(why + used, len - used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(why + used, len - used, fmt, ap);
	va_end(ap);
}

bool http_readiness(const struct http_server *h, char *why, size_t whylen)
{
	const struct http_view *p = &h->view;
	int phase = atomic_load_explicit(&h->phase, memory_order_relaxed);

	why[0] = '\0';
	if (phase == HTTP_PHASE_STARTING)
		why_add(why, whylen, "starting");
	if (phase == HTTP_PHASE_STOPPING)
		why_add(why, whylen, "shutting down");
	if (phase == HTTP_PHASE_RUNNING)
		for (unsigned i = 0; i < p->nworkers; i++)
			if (p->rx_count[i] != p->cfg->listen_count)
				why_add(why, whylen,
					"worker %u has %u of %u listeners "
					"bound",
					i, p->rx_count[i],
					p->cfg->listen_count);
	for (unsigned i = 0, n = sinks_n(p->hub); i < n; i++) {
		/* The lock is the one part of a read-only view that changes. */
		struct stats_hub *hub = (struct stats_hub *)p->hub;

		if (atomic_load_explicit(&hub->sink_ok[i],
					 memory_order_relaxed))
			continue;
		pthread_mutex_lock(&hub->lock);
		why_add(why, whylen, "sink %s %s", sink_name(hub, i),
			hub->sink_why[i][0] != '\0' ? hub->sink_why[i] :
						      "down");
		pthread_mutex_unlock(&hub->lock);
	}
	/* Overloaded: the merger is not keeping up with a worker. */
	for (unsigned i = 0; i < p->nworkers; i++) {
		uint64_t occ = ld(&p->worker_pub[i]->ring_occupancy);

		if (occ * 4 >= (uint64_t)p->cfg->ring_slots * 3)
			why_add(why, whylen,
				"overloaded: worker %u ring %llu of %u slots "
				"full",
				i, (unsigned long long)occ, p->cfg->ring_slots);
	}
	return why[0] == '\0';
}
