/*
 * config_types.h - the configuration's types: struct ps_config and what
 * it holds.  Functions: config.h, which every user includes; the config
 * files of base/ include this header alone, so that config.c can use them
 * without an include cycle.
 */
#ifndef PEERSCOPE_CONFIG_TYPES_H
#define PEERSCOPE_CONFIG_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "peerscope/addr.h"
#include "peerscope/limits.h"

struct conn_registry; /* conn/registry.h: above this layer, by pointer */

#define PS_CFG_MAX_KEYS 128	   /* rows of the key table, at most */
#define PS_CFG_LINE_CLI UINT32_MAX /* key_line: set on the command line */

/*
 * Every protocol the collector can listen for, one line each:
 *   X(ENUM_SUFFIX, "name", "default listeners", "help")
 * "name" is the key under listen: in the YAML file (listen.<name>) and what
 * ps_proto_name() returns; the default listeners use the listen syntax
 * (comma-separated, "" = not listening unless configured).  Adding a
 * protocol here adds its enum value, its config key, its default and its
 * documentation.
 */
/* clang-format off */
#define PS_PROTOCOLS(X) \
	X(SFLOW, "sflow", ":6343", "sFlow v5 datagrams (UDP).") \
	X(IPFIX, "ipfix", ":4739", "IPFIX messages (UDP, IANA port 4739); v9 and v5 are accepted too.") \
	X(NETFLOW, "netflow", ":2055", "NetFlow v5/v9 datagrams (UDP, usual port 2055); IPFIX is accepted too.")

enum ps_proto {
	PS_PROTO_NONE = 0,
#define PS_PROTO_ENUM_(id, name, listen, help) PS_PROTO_##id,
	PS_PROTOCOLS(PS_PROTO_ENUM_)
#undef PS_PROTO_ENUM_
	PS_PROTO_END_ /* one past the last protocol */
};
/* clang-format on */

/*
 * One UDP socket to open.  ":port" in the configuration expands to two
 * entries, 0.0.0.0:port and [::]:port, so the socket code must set
 * IPV6_V6ONLY on IPv6 wildcard sockets or the second bind fails.
 */
struct ps_listen {
	enum ps_proto proto;
	struct ps_addr addr; /* af 4 or 6 */
	uint16_t port;	     /* host order, 1..65535 */
};

/* flow.direction: values of enum attrib_mode (attrib.h). */
enum ps_flow_direction {
	PS_DIRECTION_AUTO = 0,
	PS_DIRECTION_BOTH_SIDES = 1,
	PS_DIRECTION_METERED_SIDE = 2,
};

/* Replay progress line on stderr: auto = only when stderr is a tty. */
enum ps_progress { PS_PROGRESS_AUTO, PS_PROGRESS_ON, PS_PROGRESS_OFF };

/* Log lines at or above this level are written (log.c). */
enum ps_log_level { PS_LOG_ERROR, PS_LOG_WARN, PS_LOG_INFO, PS_LOG_DEBUG };
enum ps_log_format { PS_LOG_LOGFMT, PS_LOG_JSON };

/*
 * A string->string map key (CFG_MAP), e.g. output.kafka.properties: at
 * most PS_MAP_MAX entries, set in YAML as a mapping or on the command line
 * as "name=value" (one entry added or replaced; "" empties the map).
 */
#define PS_MAP_NAME_MAX	 128
#define PS_MAP_VALUE_MAX 512
struct ps_map_entry {
	char name[PS_MAP_NAME_MAX];
	char value[PS_MAP_VALUE_MAX];
};
struct ps_map {
	struct ps_map_entry e[PS_MAP_MAX];
	uint32_t count;
};

/* Kafka sink (sink_kafka.c): what to do with a message past the bound. */
enum ps_kafka_drop { PS_KAFKA_DROP_OLDEST, PS_KAFKA_DROP_NEWEST };
enum ps_kafka_compression {
	PS_KAFKA_LZ4,
	PS_KAFKA_ZSTD,
	PS_KAFKA_GZIP,
	PS_KAFKA_SNAPPY,
	PS_KAFKA_NONE,
};

/* output.kafka.*: see sink_kafka.h for what each one does. */
struct ps_kafka_config {
	bool enabled;			       /* default false */
	char brokers[1024];		       /* "embedded" (default) or list */
	enum ps_kafka_compression compression; /* default lz4 */
	uint32_t queue_messages;	       /* bound, default 100000 */
	uint32_t queue_bytes;		       /* bound, default 256 MiB */
	enum ps_kafka_drop drop;	       /* default oldest */
	uint32_t message_timeout_ms;	       /* 0 = never expire (default) */
	uint32_t flush_timeout_ms;	       /* at shutdown, default 10000 */
	uint32_t down_after_ms; /* outage this long: sink down, default 30000 */
	uint32_t serve_seconds; /* replay: keep the embedded broker up */
	struct ps_map topics;	/* message type -> topic overrides */
	struct ps_map properties; /* librdkafka pass-through */
};

/*
 * probes.*: the active latency probes (issue 12, probe.h).  Per-connection
 * `probe: true` comes with the connection registry (issue 11).
 */
enum ps_probe_icmp_socket {
	PS_PROBE_ICMP_AUTO,  /* datagram socket if allowed, else raw */
	PS_PROBE_ICMP_DGRAM, /* net.ipv4.ping_group_range must admit us */
	PS_PROBE_ICMP_RAW,   /* needs CAP_NET_RAW */
};
struct ps_probe_method {
	bool enabled;
	uint32_t timeout_ms;
	uint32_t port; /* tcp, stamp */
};
/* status.degraded.* (issue 11): thresholds of a connection's `degraded`
 * status, percentages and ms; 0 = off (agg/conn_status.h). */
struct ps_status_config {
	double utilisation_pct;
	double errors_pct;
	double drop_pct;
	double probe_loss_pct;
	double probe_p99_ms;
};

struct ps_probe_config {
	uint32_t interval_ms;	 /* default 1000 */
	uint32_t jitter_percent; /* of the interval, default 10 */
	uint32_t max_rate;	 /* probes/s over all targets, methods */
	uint32_t max_rtt_ms;	 /* RTTs above are rejected */
	uint32_t max_targets;	 /* more are refused at load */
	bool kernel_timestamps;	 /* SO_TIMESTAMPING where available */
	enum ps_probe_icmp_socket icmp_socket;
	struct ps_probe_method icmp, tcp, stamp;
};

/* latency.*: the passive latency sources (agg/latency.h). */
struct ps_latency_config {
	uint32_t max_ms; /* values above are impossible: left out */
	uint32_t handshake_entries;    /* tcp_handshake table, per worker */
	uint32_t handshake_timeout_ms; /* a half older than this is none */
};

/*
 * cpus: worker i is pinned to cpus[i % cpu_count]; with cpu_count 0, worker
 * i runs on the i-th CPU of the process's affinity mask.  Ignored when
 * pin_workers is false.
 */
struct ps_config {
	char path[256];		       /* file loaded from ("" = defaults) */
	/*
	 * Where each key was last set, by its row in config.c's table: 0 =
	 * its default, PS_CFG_LINE_CLI = the command line, else a line of
	 * `path`.  Errors found after loading still name file and line.
	 */
	uint32_t key_line[PS_CFG_MAX_KEYS];
	uint32_t workers;	       /* 0 = one per available CPU */
	uint32_t cpus[PS_MAX_WORKERS]; /* see above */
	uint32_t cpu_count;
	bool pin_workers;	 /* default true */
	uint32_t window_seconds; /* default 60, 1..86400 */
	struct ps_listen listen[PS_MAX_LISTEN];
	uint32_t listen_count;	   /* default sflow 0.0.0.0:6343, [::]:6343 */
	uint32_t rcvbuf_bytes;	   /* SO_RCVBUF, default 32 MiB */
	char udp_allow[512]; /* exporter prefixes, or "any" (netaddr.h) */
	uint32_t batch;		   /* recvmmsg batch, default 64, 1..1024 */
	uint32_t ring_slots;	   /* SPSC ring slots, power of two, 1024 */
	uint32_t max_connections;  /* per worker, default 65536 */
	uint32_t max_exporters;	   /* per worker, default 4096 */
	/* per published window, all workers: past these the least traffic
	 * is folded into the window's `window_other` message (merger.c) */
	uint32_t max_window_connections; /* default 65536 */
	uint32_t max_window_exporters;	 /* default 4096 */
	uint32_t state_idle_seconds; /* per-exporter state ages out; 0 = never */
	uint32_t top_n; /* top.n: ASNs and DSCP classes per connection side */
	bool json_enabled;	   /* default true */
	char json_path[256];	   /* "-" = stdout (default) */
	enum ps_progress progress; /* replay progress line, default auto */
	/* Operations (issue 6): http.c, log.c, privdrop.c. */
	bool http_enabled;		   /* /metrics, /healthz, /readyz */
	char http_listen[64];		   /* "127.0.0.1:9464" */
	char http_allow[512];		   /* scrapers allowed, or "any" */
	uint32_t http_max_clients;	   /* concurrent HTTP connections */
	uint32_t http_timeout_seconds;	   /* request or idle timeout */
	uint32_t metrics_max_connections;  /* per-connection series cap */
	enum ps_log_level log_level;	   /* default info */
	enum ps_log_format log_format;	   /* default logfmt */
	char run_as_user[64];		   /* "-" = keep the starting user */
	char runtime_dir[256];		   /* runfile.h; "-" = none */
	bool allow_root;		   /* run as root after start-up */
	uint32_t replay_serve_seconds;	   /* replay: serve /metrics after */
	uint32_t shutdown_timeout_seconds; /* SIGTERM: flush deadline */
	struct ps_kafka_config kafka; /* output.kafka.* */
	/* IPFIX / NetFlow (issue 3): ingest_ipfix.c, flow_state.c. */
	uint32_t flow_max_templates;  /* live templates per worker */
	uint32_t flow_max_templates_per_exporter;
	uint32_t flow_template_timeout;  /* seconds; 0 = templates never expire */
	uint32_t flow_window_grace;	 /* seconds windows stay open to flows */
	enum ps_flow_direction flow_direction; /* flow.direction (attrib.h) */
	char flow_state_file[256];    /* "-" = no persistence */
	char flow_tcp_listen[64];     /* IPFIX over TCP, "-" = off */
	uint32_t flow_tcp_max_connections; /* <= PS_MAX_IPFIX_TCP_CONNS */
	uint32_t flow_tcp_idle_seconds;	   /* close quiet sessions; 0 = never */
	uint32_t flow_tcp_message_seconds; /* close stalled sessions */
	struct ps_map flow_sampling_default; /* "IP[/ifN]" -> rate if unknown */
	struct ps_map flow_sampling_force;   /* "IP[/ifN]" -> rate, always */
	/* BMP (issue 4): bmp_session.c, bmp_replay.c */
	char bmp_listen[64];	  /* live BMP server, "-" = none */
	char bmp_allow[512];	  /* allowed router addresses, or "any" */
	uint32_t bmp_max_routers; /* BMP sessions at once */
	uint32_t bmp_max_per_address; /* sessions from one address at once */
	uint32_t bmp_snapshot_seconds; /* periodic bgp_session snapshots */
	bool bmp_route_messages;  /* a `route` message per route change */
	uint32_t bmp_idle_seconds; /* close silent router sessions */
	uint32_t bmp_message_seconds; /* close stalled router sessions */
	uint32_t bmp_port;	  /* replayed TCP streams to this port are BMP */
	uint32_t bmp_max_peers;	  /* per router */
	uint32_t bmp_max_routes;  /* per peer */
	uint32_t bmp_max_router_routes; /* per router, all peers */
	uint32_t bmp_max_buffer;  /* reassembly bytes per router stream */
	uint32_t bmp_max_queue;	  /* events waiting for the output, per router */
	struct ps_probe_config probes; /* probes.* (issue 12) */
	struct ps_status_config status; /* status.* (issues 11, 12) */
	struct ps_latency_config latency; /* latency.*: passive sources */
	/*
	 * Connections (issue 11): the `connections:` list is read by
	 * conn/registry.c from `path`; config_load() only notes its line.
	 */
	uint32_t connections_line;	 /* 0 = no `connections:` key */
	/*
	 * The registry built from this configuration (conn/registry.h) by
	 * main.c at start-up and on SIGHUP; NULL = none.  Read-only once
	 * published; freed with the configuration's generation.
	 */
	const struct conn_registry *registry;
	char ixf_member_export[256];	 /* IX-F Member Export, "-" = none */
	char peeringdb_netixlan[256];	 /* PeeringDB netixlan, "-" = none */
};

#endif /* PEERSCOPE_CONFIG_TYPES_H */
