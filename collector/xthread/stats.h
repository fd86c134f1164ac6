/*
 * stats.h - the publication blocks of the workers and the merger, read by
 * /metrics and /readyz (ops/metrics.c renders them).
 *
 * Both follow xpub.h: plain counters on the hot path, copied into these
 * blocks with relaxed atomic stores at most every XPUB_PERIOD_NS and when
 * a window closes.  Each worker copies its `struct worker_totals` into its
 * `struct worker_pub` (stats_worker_tick(), rx/stats_worker.h).  The
 * merger copies its totals, every sink's state and the Kafka sink's
 * counters into `struct stats_hub` (stats_merger_tick(),
 * publish/stats_merger.h), after serving the sinks, so message and
 * delivery counters move and a Kafka outage shows within a second even
 * when no window is published (a BMP-only or idle collector).
 *
 * After each published window the merger also builds a capped snapshot
 * of per-connection and per-exporter gauges, swapped in under hub->lock.
 * That lock is taken once per window (and when a sink's state changes) by
 * the merger and once per scrape by the HTTP thread, never by a worker.
 *
 * The blocks are declared here, below every thread that writes or reads
 * them, so that the writers and the reader include one header and nothing
 * of each other (collector/LAYERS).
 */
#ifndef PEERSCOPE_STATS_H
#define PEERSCOPE_STATS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/config.h"
#include "base/msgtype.h"
#include "peerscope/dec_stats.h"
#include "peerscope/ipfix.h"
#include "peerscope/limits.h"
#include "xthread/exptotals.h"
#include "xthread/xpub.h"

#define STATS_WHY_MAX	  256 /* a sink's reason for being down */
#define STATS_LAT_BUCKETS 8

/*
 * IPFIX over TCP (rx/ipfix_tcp.h), totals since start; worker 0 counts
 * them, its block publishes them (names: ipfix_tcp_counter_name()).
 */
enum ipfix_tcp_counter {
	IPFIX_TCP_ACCEPTED,
	IPFIX_TCP_REFUSED_CAP,	     /* flow.tcp_max_connections were open */
	IPFIX_TCP_REFUSED_EXPORTER,  /* that exporter address is connected */
	IPFIX_TCP_REFUSED_MEMORY,    /* no receive buffer */
	IPFIX_TCP_CLOSED,	     /* by the exporter, an error or framing */
	IPFIX_TCP_BYTES,	     /* received on accepted connections */
	IPFIX_TCP_MESSAGES,	     /* framed and handed to the decoder */
	IPFIX_TCP_FRAMING_ERRORS,    /* header not v10 with a sane length */
	IPFIX_TCP_TEMPLATES_DROPPED, /* live templates forgotten on close */
	IPFIX_TCP_TIMEOUT_IDLE,	     /* nothing for flow.tcp_idle_timeout */
	IPFIX_TCP_TIMEOUT_MESSAGE,   /* no whole message in its timeout */
	IPFIX_TCP_EVICTED,	     /* silent, closed for a new connection */
	IPFIX_TCP_COUNTER_COUNT
};

/* A worker's per-exporter state tables (aging, htab.h), for /metrics. */
enum stats_table {
	STATS_TABLE_SEQUENCE, /* datagram sequence per exporter */
	STATS_TABLE_SOURCE,   /* sFlow sample sequence and pool per source */
	STATS_TABLE_COUNTER,  /* last interface counters */
	STATS_TABLE_SAMPLING, /* IPFIX/v9 sampling rates */
	STATS_TABLE_BOOT,     /* IPFIX boot times */
	STATS_TABLE_COUNT
};

/* "sequence", ... as the `table` label. */
const char *stats_table_name(enum stats_table t);

/*
 * A worker's counters, one row each: a new counter is one line here (and
 * the code that counts it).  X(field, from, group, metric, type, help):
 *   field   its member of struct worker_pub and, when from is TOTAL, of
 *           struct worker_totals (ingest/worker_state.h);
 *   from    TOTAL: the worker counts it in its totals, the publication
 *           copies it (rx/stats_worker.c) and the run's totals add it up
 *           over the workers (run/pipeline.c); STATE: read from the
 *           worker's ring or template cache when it publishes;
 *   group   where /metrics shows it (ops/metrics.c): MAIN with the
 *           worker families, HELD after the template evictions by reason;
 *   metric, type, help: its /metrics family, labelled {worker="N"},
 *           in the order of the rows.
 */
#define WORKER_COUNTERS(X)                                                     \
	X(datagrams, TOTAL, MAIN, "peerscope_datagrams_total", "counter",      \
	  "Datagrams received (live) or replayed, by worker.")                 \
	X(bytes, TOTAL, MAIN, "peerscope_received_bytes_total", "counter",     \
	  "UDP payload bytes of those datagrams.")                             \
	X(samples, TOTAL, MAIN, "peerscope_samples_total", "counter",          \
	  "sFlow samples decoded.")                                            \
	X(late_datagrams, TOTAL, MAIN, "peerscope_late_datagrams_total",       \
	  "counter", "Datagrams older than the open window.")                  \
	X(udp_refused, TOTAL, MAIN, "peerscope_udp_refused_total", "counter",  \
	  "UDP datagrams dropped before decoding: exporter not in "            \
	  "udp.allow.")                                                        \
	X(windows_closed, TOTAL, MAIN, "peerscope_windows_closed_total",       \
	  "counter", "Windows a worker closed and handed to the merger.")      \
	X(windows_dropped, TOTAL, MAIN, "peerscope_windows_dropped_total",     \
	  "counter",                                                           \
	  "Application drops: closed windows lost because the ring to the "    \
	  "merger was full.")                                                  \
	X(ring_full_events, STATE, MAIN, "peerscope_ring_full_events_total",   \
	  "counter", "Pushes refused by a full worker-to-merger ring.")        \
	X(ring_occupancy, STATE, MAIN, "peerscope_ring_occupancy", "gauge",    \
	  "Closed windows waiting in the worker-to-merger ring.")              \
	X(state_refused, TOTAL, MAIN, "peerscope_state_refused_total",         \
	  "counter", "Sequence or counter state refused at its cap.")          \
	X(kernel_drops, TOTAL, MAIN, "peerscope_kernel_drops_total",           \
	  "counter",                                                           \
	  "Datagrams the kernel dropped on this worker's sockets (socket "     \
	  "buffer full).")                                                     \
	X(templates, STATE, MAIN, "peerscope_templates", "gauge",              \
	  "IPFIX and NetFlow v9 templates usable now, by worker.")             \
	X(templates_refused, STATE, MAIN, "peerscope_templates_refused_total", \
	  "counter", "Template definitions refused at their cap.")             \
	X(held_sets_evicted, TOTAL, HELD,                                      \
	  "peerscope_flow_held_sets_evicted_total", "counter",                 \
	  "IPFIX/v9 data sets held for their template, dropped to hold "       \
	  "another exporter's (counted as aged out in exporter_health).")    \
	X(handshake_paired, TOTAL, MAIN,                                       \
	  "peerscope_handshake_halves_paired_total", "counter",                \
	  "tcp_handshake halves whose two packets were sampled: timed, or "    \
	  "counted untimed below.")                                            \
	X(handshake_same_datagram, TOTAL, MAIN,                                \
	  "peerscope_handshake_halves_same_datagram_total", "counter",         \
	  "tcp_handshake halves left untimed: both samples in one datagram.")  \
	X(handshake_imprecise, TOTAL, MAIN,                                    \
	  "peerscope_handshake_halves_imprecise_total", "counter",             \
	  "tcp_handshake halves left untimed: the samples' times allow an "    \
	  "interval wider than a tenth of the RTT.")

/* WORKER_COUNTER_IF_TOTAL(from, x): x for a TOTAL row, else nothing. */
#define WORKER_COUNTER_IF_TOTAL(from, x) WORKER_COUNTER_ONLY_##from(x)
#define WORKER_COUNTER_ONLY_TOTAL(x)	 x
#define WORKER_COUNTER_ONLY_STATE(x)

/* The /metrics groups of the rows (see WORKER_COUNTERS). */
enum worker_counter_group {
	WORKER_GROUP_MAIN,
	WORKER_GROUP_HELD,
};

/* Written by one worker, read by the HTTP thread. */
struct worker_pub {
#define WORKER_PUB_FIELD(field, from, group, metric, type, help)               \
	_Atomic uint64_t field;
	WORKER_COUNTERS(WORKER_PUB_FIELD)
#undef WORKER_PUB_FIELD
	/* per enum stats_table: size, least recently used entries evicted
	 * at the cap, idle entries expired */
	_Atomic uint64_t table_entries[STATS_TABLE_COUNT];
	_Atomic uint64_t table_evicted[STATS_TABLE_COUNT];
	_Atomic uint64_t table_expired[STATS_TABLE_COUNT];
	_Atomic uint64_t errors[DEC_REASON_COUNT];
	_Atomic uint64_t templates_evicted[IPFIX_EVICT_COUNT];
	_Atomic uint64_t proto_datagrams[PS_PROTO_END_];
	_Atomic uint64_t proto_bytes[PS_PROTO_END_];
	/* worker 0 with flow.tcp_listen: ipfix_tcp.h's counters */
	_Atomic uint64_t ipfix_tcp[IPFIX_TCP_COUNTER_COUNT];
	_Atomic uint64_t ipfix_tcp_open;
	struct xpub_clock clock; /* worker-private */
};

/*
 * A connection's heaviest ASNs or DSCP classes (agg/mix.h) as rates: at
 * most STATS_TOP_ENTRIES series a list on /metrics, whatever top.n, so
 * that a scrape stays small; the rest as other, what had no key as
 * unknown.
 */
#define STATS_TOP_ENTRIES 5

struct conn_gauge_list {
	uint32_t n;
	uint32_t key[STATS_TOP_ENTRIES]; /* ASN or DSCP */
	double bytes_ps[STATS_TOP_ENTRIES];
	double other_bytes_ps, unknown_bytes_ps;
};

struct conn_gauge_top {
	struct conn_gauge_list as[2][2]; /* [in/out][source/destination] */
	struct conn_gauge_list dscp[2];
};

/*
 * One latency source of a connection (connection_metrics.latency): the
 * last window's quantiles, and count and sum since start (a Prometheus
 * summary).  source: a static label ("tcp_info", "probe_icmp", ...).
 */
#define STATS_LAT_SOURCES 8 /* 5 passive, 3 probe methods */
struct lat_gauge {
	const char *source; /* NULL: nothing in the last window */
	double p50_s, p90_s, p99_s;
	double sum_s;	/* since start */
	uint64_t count; /* since start */
};

/* One connection's gauges from the last published window. */
struct conn_gauge {
	char id[80];
	double bps[2];	       /* in, out; best source */
	double pps[2];	       /* packets/s, the same source */
	bool from_counters[2]; /* else from samples */
	double discards_ps[2], errors_ps[2]; /* counters only */
	double util[2];	    /* mean rate over capacity (conn_rates.h) */
	double util_p95[2]; /* p95 rate over capacity */
	double p95_bps[2];  /* the 95th percentile of the window's rates */
	bool has_p95[2];
	const char *rate_source[2]; /* "counters", "samples" (static) */
	double drop_pps;	    /* drops of what came in, per second */
	bool has_util;
	int oper; /* 1 up, 0 down, -1 unknown */
	int bgp;  /* the same for its BGP sessions (conn_bgp.h) */
	uint64_t capacity_bps;
	struct conn_gauge_top *top; /* NULL: none (top.n 0, no samples) */
	struct lat_gauge lat[STATS_LAT_SOURCES];
};

/* A configured connection's status (connection_metrics / connection_event
 * `status`, `availability`), every configured connection each window. */
#define STATS_STATUS_ID_MAX 64 /* CONN_ID_MAX (conn/registry.h) */
struct conn_status_gauge {
	char id[STATS_STATUS_ID_MAX];
	uint8_t status;	     /* enum conn_status_code */
	double availability; /* 0..1; < 0 unknown */
};

struct exporter_gauge {
	char id[128]; /* exporter_id (messages.h) */
	char source[48];
	char agent[48];
	uint64_t datagrams;
	uint64_t bytes;
	uint64_t lost;
	uint64_t rejected;
};

struct stats_snapshot {
	uint64_t start_ns;
	uint64_t end_ns;
	uint32_t nconns;
	uint32_t conns_omitted;
	struct conn_gauge *conns;
	uint32_t nexporters;
	uint32_t exporters_omitted;
	struct exporter_gauge *exporters;
	uint32_t nstatuses;
	struct conn_status_gauge *statuses; /* configured connections */
	struct exp_totals totals; /* per exporter, whole run (exptotals.h) */
};

/* Written by the merger, read by the HTTP thread. */
struct stats_hub {
	_Atomic uint64_t windows_published;
	_Atomic uint64_t windows_forced;
	_Atomic uint64_t conns_refused;
	_Atomic uint64_t latency_no_memory;
	_Atomic uint64_t rates_no_memory; /* merger_totals.rates_no_memory */
	_Atomic uint64_t probe_windows, probe_windows_late;
	_Atomic uint64_t probe_results_unjoined;
	_Atomic uint64_t exporters_refused;
	_Atomic uint64_t conns_folded; /* window caps (window_caps.h) */
	_Atomic uint64_t exporters_folded;
	_Atomic uint64_t messages[MSG_TYPE_COUNT];
	_Atomic uint64_t messages_failed[MSG_TYPE_COUNT];
	/*
	 * The merger's sinks, which a SIGHUP may change (sinkswap.h): names
	 * (static strings, never NULL below nsinks) stored before nsinks.
	 */
	_Atomic unsigned nsinks;
	_Atomic(const char *) sink_name[STATS_MAX_SINKS];
	_Atomic bool sink_ok[STATS_MAX_SINKS];
	_Atomic uint64_t sink_failures[STATS_MAX_SINKS];
	char sink_why[STATS_MAX_SINKS][STATS_WHY_MAX]; /* under lock */
	/* window publication time: cumulative histogram, seconds */
	_Atomic uint64_t publish_bucket[STATS_LAT_BUCKETS];
	_Atomic uint64_t publish_count;
	_Atomic uint64_t publish_sum_ns;
	/* Kafka sink, per message type: enum stats_kafka_field */
	_Atomic bool kafka_present;
	_Atomic uint64_t kafka[MSG_TYPE_COUNT][4];
	/* SIGHUP: main sets, the merger reopens its sinks and clears */
	_Atomic bool reopen_sinks;
	_Atomic uint64_t sink_reopens;	       /* merger-written */
	_Atomic uint64_t sink_reopen_failures; /* merger-written */
	/* main writes on reload, merger reads */
	_Atomic uint32_t max_conns_exported;
	struct xpub_clock clock;      /* merger-private */
	struct exp_totals exp_totals; /* merger-private, copied to snap */
	bool inited;
	pthread_mutex_t lock; /* guards snap and sink_why */
	struct stats_snapshot snap;
};

enum stats_kafka_field {
	STATS_KAFKA_ACCEPTED,
	STATS_KAFKA_DELIVERED,
	STATS_KAFKA_FAILED,
	STATS_KAFKA_DROPPED,
};

/* Upper bounds of the publication histogram buckets, seconds. */
extern const double stats_publish_buckets[STATS_LAT_BUCKETS];

/* @thread main (start-up). */
void stats_hub_init(struct stats_hub *h, const struct ps_config *cfg);
void stats_hub_fini(struct stats_hub *h);

/* A snapshot's tables freed and its fields zeroed. */
void stats_snapshot_free(struct stats_snapshot *s);

/* @thread any.  CLOCK_MONOTONIC in ns. */
uint64_t stats_now_ns(void);

/*
 * A relaxed store into a field of a publication block, of any type
 * (xpub.h): each field has one writer.  Used by the writers,
 * rx/stats_worker.c and publish/stats_merger.c.
 */
#define STATS_STORE(dst, v)                                                    \
	atomic_store_explicit(&(dst), (v), memory_order_relaxed)

#endif /* PEERSCOPE_STATS_H */
