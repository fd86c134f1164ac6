/*
 * config.c - configuration as a table of keys.
 *
 * cfg_keys[] below is the only place a key is described: its dotted path,
 * type, field, bounds, default (as text, parsed like any other value) and
 * help.  Everything else walks the table:
 *
 *   config_init()          parses each default
 *   config_load()          YAML events (libyaml) -> dotted path -> key
 *   config_set()           command line text -> key
 *   config_validate()      per-key bounds again, then cross-field checks
 *   config_dump()          the table back out as YAML
 *   config_dump_example()  the same, with help: deploy/peerscope.example.yaml
 *
 * Sections (nested mappings) are table entries too, so any path not in the
 * table is an unknown key, and the loader never needs to skip a subtree:
 * the first thing it does not know about is an error.  Loads and sets work
 * on a copy that replaces the caller's struct only on success.
 */
#include "base/config.h"
#include "base/flow_override.h"
#include "base/netaddr.h"
#include "peerscope/limits.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <yaml.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define CFG_PATH_MAX 128 /* longest dotted key we could know */
#define CFG_ITEM_MAX 128 /* longest list item ("[IPv6]:port", "0-1023") */
#define CFG_SHOW_MAX 64	 /* bytes of a bad value quoted in an error */
#define CFG_CPU_MAX  (CPU_SETSIZE - 1)

enum cfg_type {
	CFG_SECTION, /* a mapping of further keys */
	CFG_UINT,    /* uint32_t, decimal */
	CFG_SIZE,    /* uint32_t byte count, suffixes k/M/G (binary) */
	CFG_BOOL,    /* bool */
	CFG_STRING,  /* char[size], non-empty */
	CFG_ENUM,    /* an enum stored as int, by name */
	CFG_LISTEN,  /* cfg->listen entries of one protocol */
	CFG_CPUS,    /* cfg->cpus */
	CFG_MAP,     /* struct ps_map: string -> string */
	CFG_ENDPOINT, /* char[size]: one listener address (netaddr.h) */
	CFG_ALLOW,   /* char[size]: an allow-list (netaddr.h) */
};

struct cfg_enum_name {
	const char *name;
	int value;
};

struct cfg_key {
	const char *name; /* dotted path */
	enum cfg_type type;
	size_t off;  /* field in struct ps_config (scalar types) */
	size_t size; /* CFG_STRING: buffer size */
	uint32_t min, max;
	bool pow2;			   /* CFG_UINT: a power of two */
	const struct cfg_enum_name *names; /* CFG_ENUM, NULL-terminated */
	enum ps_proto proto;		   /* CFG_LISTEN */
	bool off_ok;			   /* CFG_ENDPOINT: "-" = off */
	const char *def;		   /* default, as config_set text */
	const char *help;		   /* lines split by \n */
	int (*map_check)(const char *name, const char *value); /* CFG_MAP */
};

/* Enums are stored through an int. */
_Static_assert(sizeof(enum ps_progress) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ps_log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ps_log_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ps_kafka_drop) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ps_kafka_compression) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ps_flow_direction) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ps_probe_icmp_socket) == sizeof(int), "enum size");

/*
 * The tables below are laid out by hand, one row per key, so clang-format
 * (which would indent braced lists by four spaces) is off for them.
 */
/* clang-format off */
static const struct cfg_enum_name direction_names[] = {
	{ "auto", PS_DIRECTION_AUTO },
	{ "both-sides", PS_DIRECTION_BOTH_SIDES },
	{ "metered-side", PS_DIRECTION_METERED_SIDE },
	{ NULL, 0 },
};

static const struct cfg_enum_name progress_names[] = {
	{ "auto", PS_PROGRESS_AUTO },
	{ "on", PS_PROGRESS_ON },
	{ "off", PS_PROGRESS_OFF },
	{ NULL, 0 },
};

static const struct cfg_enum_name log_level_names[] = {
	{ "error", PS_LOG_ERROR },
	{ "warn", PS_LOG_WARN },
	{ "info", PS_LOG_INFO },
	{ "debug", PS_LOG_DEBUG },
	{ NULL, 0 },
};

static const struct cfg_enum_name log_format_names[] = {
	{ "logfmt", PS_LOG_LOGFMT },
	{ "json", PS_LOG_JSON },
	{ NULL, 0 },
};

static const struct cfg_enum_name kafka_drop_names[] = {
	{ "oldest", PS_KAFKA_DROP_OLDEST },
	{ "newest", PS_KAFKA_DROP_NEWEST },
	{ NULL, 0 },
};

static const struct cfg_enum_name kafka_compression_names[] = {
	{ "lz4", PS_KAFKA_LZ4 },
	{ "zstd", PS_KAFKA_ZSTD },
	{ "gzip", PS_KAFKA_GZIP },
	{ "snappy", PS_KAFKA_SNAPPY },
	{ "none", PS_KAFKA_NONE },
	{ NULL, 0 },
};

static const struct cfg_enum_name probe_icmp_socket_names[] = {
	{ "auto", PS_PROBE_ICMP_AUTO },
	{ "dgram", PS_PROBE_ICMP_DGRAM },
	{ "raw", PS_PROBE_ICMP_RAW },
	{ NULL, 0 },
};

#define OFF(m)	offsetof(struct ps_config, m)
#define SIZE(m)	sizeof(((struct ps_config *)0)->m)

/* Table rows, one constructor per type. */
#define KEY_SECTION(n, h) \
	{ .name = n, .type = CFG_SECTION, .help = h }
#define KEY_UINT(n, field, lo, hi, d, h) \
	{ .name = n, .type = CFG_UINT, .off = OFF(field), .min = lo, \
	  .max = hi, .def = d, .help = h }
#define KEY_POW2(n, field, lo, hi, d, h) \
	{ .name = n, .type = CFG_UINT, .off = OFF(field), .min = lo, \
	  .max = hi, .pow2 = true, .def = d, .help = h }
#define KEY_SIZE(n, field, lo, hi, d, h) \
	{ .name = n, .type = CFG_SIZE, .off = OFF(field), .min = lo, \
	  .max = hi, .def = d, .help = h }
#define KEY_BOOL(n, field, d, h) \
	{ .name = n, .type = CFG_BOOL, .off = OFF(field), .def = d, .help = h }
#define KEY_STRING(n, field, d, h) \
	{ .name = n, .type = CFG_STRING, .off = OFF(field), \
	  .size = SIZE(field), .def = d, .help = h }
#define KEY_ENUM(n, field, table, d, h) \
	{ .name = n, .type = CFG_ENUM, .off = OFF(field), .names = table, \
	  .def = d, .help = h }
#define KEY_MAP(n, field, h) \
	{ .name = n, .type = CFG_MAP, .off = OFF(field), .def = "", .help = h }
#define KEY_MAP_CHECKED(n, field, check, h) \
	{ .name = n, .type = CFG_MAP, .off = OFF(field), .def = "", .help = h, \
	  .map_check = check }
#define KEY_ENDPOINT(n, field, none_ok, d, h) \
	{ .name = n, .type = CFG_ENDPOINT, .off = OFF(field), \
	  .size = SIZE(field), .off_ok = none_ok, .def = d, .help = h }
#define KEY_ALLOW(n, field, d, h) \
	{ .name = n, .type = CFG_ALLOW, .off = OFF(field), \
	  .size = SIZE(field), .def = d, .help = h }
#define KEY_CPUS(n, d, h) \
	{ .name = n, .type = CFG_CPUS, .def = d, .help = h }
#define KEY_LISTEN_(id, pname, plisten, phelp) \
	{ .name = "listen." pname, .type = CFG_LISTEN, .proto = PS_PROTO_##id, \
	  .def = plisten, .help = phelp },

/*
 * Order matters: a section comes before its keys, and config_dump() prints
 * keys in this order.  Help text: lines of at most 76 columns, split by \n.
 */
static const struct cfg_key cfg_keys[] = {
	KEY_UINT("workers", workers, 0, PS_MAX_WORKERS, "0",
		"Receive and decode worker threads; 0 = one per CPU in the "
		"process's\naffinity mask."),
	KEY_CPUS("cpus", "",
		"CPUs to pin workers to, as a list or a string such as "
		"\"0-3,8\": worker i\nruns on cpus[i % count]. Empty = worker "
		"i on the i-th CPU of the\naffinity mask. Ignored when "
		"pin_workers is false."),
	KEY_BOOL("pin_workers", pin_workers, "true",
		"Pin each worker thread to one CPU."),
	KEY_UINT("window_seconds", window_seconds, 1, 86400, "60",
		"Aggregation window in seconds (1..86400): one metrics "
		"message per\nconnection per window."),

	KEY_SECTION("listen",
		"Where exports arrive, per protocol: a list (or a "
		"comma-separated string)\nof \":port\" (all addresses, IPv4 "
		"and IPv6), \"IPv4:port\" or \"[IPv6]:port\",\nthe syntax "
		"of every listener key. Setting a protocol's list replaces "
		"its\ndefault; [] (or \"-\"; --set listen.ipfix=[]) turns it "
		"off. With every list\nempty, bmp.listen or flow.tcp_listen "
		"must be set."),
	PS_PROTOCOLS(KEY_LISTEN_)	/* listen.<proto>, one per protocol */

	KEY_SECTION("udp",
		"UDP receive sockets (one per worker per listener, "
		"SO_REUSEPORT)."),
	KEY_SIZE("udp.rcvbuf_bytes", rcvbuf_bytes, 4096, 1U << 30, "32MiB",
		"SO_RCVBUF of each socket in bytes (4096..1GiB); suffixes k, "
		"M, G\n(also KiB, MiB, GiB) multiply by 1024. The kernel caps "
		"it at\nnet.core.rmem_max unless the collector has "
		"CAP_NET_ADMIN."),
	KEY_UINT("udp.batch", batch, 1, 1024, "64",
		"Datagrams per recvmmsg() call (1..1024)."),
	KEY_ALLOW("udp.allow", udp_allow, "any",
		"Exporters whose UDP datagrams are decoded: prefixes, "
		"comma-separated\n(\"192.0.2.0/24, 2001:db8::/32\"), or "
		"\"any\". Others are dropped before\ndecoding and counted "
		"per worker. Applies live on SIGHUP."),

	KEY_SECTION("ring", "Rings between threads."),
	KEY_POW2("ring.slots", ring_slots, 2, 65536, "1024",
		"Slots per single-producer single-consumer ring (a power of "
		"two,\n2..65536)."),

	KEY_SECTION("limits",
		"Memory ceilings: what does not fit is refused and counted."),
	KEY_UINT("limits.connections_per_worker", max_connections,
		1, 1U << 24, "65536",
		"Connections one worker tracks in a window (1..16777216)."),
	KEY_UINT("limits.exporters_per_worker", max_exporters,
		1, 1U << 20, "4096",
		"Exporters (sFlow agents) one worker tracks (1..1048576)."),
	KEY_UINT("limits.connections_per_window", max_window_connections,
		1, 1U << 24, "65536",
		"Connections published per window, all workers together "
		"(1..16777216).\nPast it the connections with the least "
		"traffic (bytes) are folded\ninto the window's window_other "
		"message; connections of exporters named\nalone in udp.allow "
		"are always published."),
	KEY_UINT("limits.exporters_per_window", max_window_exporters,
		1, 1U << 20, "4096",
		"Exporters published per window, all workers together "
		"(1..1048576); the\nrest as limits.connections_per_window."),
	KEY_UINT("limits.state_idle_seconds", state_idle_seconds,
		0, 86400 * 7, "3600",
		"Per-exporter state (sequence numbers, sample pools, last "
		"counters,\nsampling rates, boot times) not used for this "
		"long is forgotten; 0 =\nnever. A full state table forgets "
		"its least recently used entry, so\na new exporter always "
		"gets a slot (peerscope_state_evicted_total)."),

	KEY_SECTION("output", "Where messages go."),
	KEY_SECTION("output.json", "JSON lines: one message per line."),
	KEY_BOOL("output.json.enabled", json_enabled, "true",
		"Write JSON lines. Applied on SIGHUP, between two windows."),
	KEY_STRING("output.json.path", json_path, "-",
		"File to append to; \"-\" = standard output (replay "
		"replaces the file\ninstead: one run, one output). Applied on "
		"SIGHUP (the new file is opened\nbefore the old one is "
		"closed)."),

	KEY_SECTION("output.kafka",
		"Kafka sink (librdkafka): one topic per message type, keyed "
		"by connection\nor exporter id, headers type and "
		"schema_version. A SIGHUP that changes any\noutput.kafka key "
		"re-creates the producer between two windows: the new one\n"
		"first (if it cannot start, the old one stays and the log "
		"says why), then\nthe old one is drained for its "
		"flush_timeout_ms."),
	KEY_BOOL("output.kafka.enabled", kafka.enabled, "false",
		"Publish every message to Kafka too."),
	KEY_STRING("output.kafka.brokers", kafka.brokers, "embedded",
		"bootstrap.servers (\"host:port,...\"), or \"embedded\": "
		"start an in-process\nKafka-protocol broker on loopback "
		"(librdkafka's mock cluster) and\nprint its address on "
		"standard error."),
	KEY_ENUM("output.kafka.compression", kafka.compression,
		kafka_compression_names, "lz4",
		"compression.codec: lz4, zstd, gzip, snappy or none."),
	KEY_SECTION("output.kafka.queue",
		"Bound on messages waiting for the brokers (held by "
		"peerscope plus held\nby librdkafka)."),
	KEY_UINT("output.kafka.queue.messages", kafka.queue_messages,
		2, 1000000, "100000",
		"Messages waiting at most (2..1000000)."),
	KEY_SIZE("output.kafka.queue.bytes", kafka.queue_bytes,
		4096, 1U << 31, "256MiB",
		"Bytes of key and payload waiting at most (4096..2GiB)."),
	KEY_ENUM("output.kafka.queue.drop", kafka.drop, kafka_drop_names,
		"oldest",
		"Past the bound, drop the oldest or the newest waiting "
		"message (counted\nper topic)."),
	KEY_UINT("output.kafka.message_timeout_ms", kafka.message_timeout_ms,
		0, 2147483647, "0",
		"message.timeout.ms: 0 = a message never expires while the "
		"brokers are\ndown (expiries are counted as failed)."),
	KEY_UINT("output.kafka.flush_timeout_ms", kafka.flush_timeout_ms,
		0, 3600000, "10000",
		"At shutdown, wait this long for delivery; what is left is "
		"counted as\nundelivered in the summary. The same for the "
		"old producer when a SIGHUP\nre-creates or stops it (what "
		"is left is counted as dropped)."),
	KEY_UINT("output.kafka.down_after_ms", kafka.down_after_ms,
		1000, 3600000, "30000",
		"The sink is down (peerscope_sink_up 0, /readyz not ready, "
		"a sink_down\nlog line with the reason) once, for this long, "
		"no broker was reachable,\nor deliveries failed or stalled "
		"with none succeeding. Long enough that a\nbroker restart or "
		"a leader election does not flip it."),
	KEY_UINT("output.kafka.serve_seconds", kafka.serve_seconds,
		0, 86400, "0",
		"Replay with the embedded broker: keep it up this long after "
		"the replay\n(or until SIGINT/SIGTERM) so consumers can read "
		"it."),
	KEY_MAP("output.kafka.topics", kafka.topics,
		"Topic per message type, overriding the defaults "
		"(connection_metrics:\npeerscope.connection.metrics, "
		"exporter_health: peerscope.exporter.health,\nbgp_session: "
		"peerscope.bgp.sessions, route: peerscope.routes). On the\n"
		"command line: --set output.kafka.topics=TYPE=TOPIC."),
	KEY_MAP("output.kafka.properties", kafka.properties,
		"Any librdkafka property, passed through (security.protocol, "
		"sasl.*,\nssl.*, linger.ms...); checked at start-up and on "
		"SIGHUP. On the command\nline: "
		"--set output.kafka.properties=NAME=VALUE."),

	KEY_SECTION("replay", "Replaying pcap files."),
	KEY_ENUM("replay.progress", progress, progress_names, "auto",
		"Progress line on standard error: auto (only when it is a "
		"terminal),\non or off."),
	KEY_UINT("replay.serve_metrics_seconds", replay_serve_seconds,
		0, 86400, "0",
		"After a replay, serve /metrics, /healthz and /readyz on "
		"http.listen\nfor this many seconds (or until SIGTERM); "
		"0 = do not. Also\n--serve-metrics SECONDS."),

	KEY_SECTION("flow", "IPFIX and NetFlow v9/v5."),
	KEY_UINT("flow.max_templates", flow_max_templates, 16, 1U << 20,
		"2048",
		"Templates kept per worker (all exporters); more are refused "
		"and counted\n(ipfix.template.refused)."),
	KEY_UINT("flow.max_templates_per_exporter",
		flow_max_templates_per_exporter, 1, 1U << 20, "512",
		"Templates kept per exporter address; more are refused and "
		"counted, so one\nexporter cannot take every slot."),
	KEY_UINT("flow.template_timeout_seconds", flow_template_timeout, 0,
		86400 * 7, "1800",
		"A template not re-sent for this long is no longer used over "
		"UDP (RFC 7011\n8.4; data for it is counted as "
		"ipfix.data_set.template_expired); 0 = never."),
	KEY_UINT("flow.window_grace_seconds", flow_window_grace, 0, 3600,
		"60",
		"A window stays open this long after its end, so a flow "
		"record exported later\n(up to one active timeout) is "
		"apportioned over the windows its start/end\nspan; 0 = a "
		"record counts in the window it arrives in.  Only with an\n"
		"IPFIX/NetFlow listener; at most 4 earlier windows stay open."),
	KEY_ENUM("flow.direction", flow_direction, direction_names, "auto",
		"Where a record metered in one direction counts (IPFIX "
		"flowDirection 61;\nsFlow: its data source).  both-sides: in "
		"on its input and out on its\noutput interface, as its "
		"packets crossed both (routers metering one\ndirection).  "
		"metered-side: only the side it was metered on (routers\n"
		"metering both).  auto: both sides, except an interface side "
		"the router\nmeters itself, which counts only its own records "
		"(decided per window).\nRecords stating no direction count on "
		"both sides.  exporter_health says\nwhich rule applied (its "
		"direction object)."),
	KEY_ENDPOINT("flow.tcp_listen", flow_tcp_listen, true, "-",
		"IPFIX over TCP (RFC 7011 10.3): \":port\", \"IPv4:port\" or "
		"\"[IPv6]:port\"\n(4739 is IANA's); \"-\" = off.  Worker 0 "
		"serves it; one connection per\nexporter address, at most "
		"flow.tcp_max_connections; a connection's\ntemplates go "
		"when it closes.  Replay reassembles TCP streams to this\n"
		"port as the same sessions."),
	KEY_UINT("flow.tcp_max_connections", flow_tcp_max_connections, 1,
		PS_MAX_IPFIX_TCP_CONNS, "64",
		"IPFIX/TCP connections served at once. When all are taken, a "
		"new one\nreplaces the oldest that has not sent a whole "
		"message yet; with none\nsuch it is closed at once "
		"(peerscope_ipfix_tcp_connections_refused_total)."),
	KEY_UINT("flow.tcp_idle_timeout_seconds", flow_tcp_idle_seconds, 0,
		86400, "3600",
		"Close an IPFIX/TCP session that sent nothing for this long "
		"(0 = never)."),
	KEY_UINT("flow.tcp_message_timeout_seconds", flow_tcp_message_seconds,
		1, 86400, "30",
		"Close an IPFIX/TCP session that has not completed its first "
		"message, or\nleaves one incomplete, for this long (a "
		"silent or trickling connection\nholding a slot)."),
	KEY_STRING("flow.state_file", flow_state_file, "-",
		"Templates, sampling rates and boot times are saved here "
		"(worker i\nwrites FILE.i, atomically) within 5 s of a "
		"template change, every\nminute while templates are "
		"refreshed, and at shutdown, and loaded at\nstart, so data "
		"right after a restart decodes. \"-\" = off."),
	KEY_MAP_CHECKED("flow.sampling_default", flow_sampling_default,
		flow_override_check,
		"Sampling rate for records whose rate nothing tells, per "
		"exporter (\"192.0.2.1\")\nor exporter interface "
		"(\"192.0.2.1/if10\"): --set "
		"flow.sampling_default=192.0.2.1=1000."),
	KEY_MAP_CHECKED("flow.sampling_force", flow_sampling_force,
		flow_override_check,
		"Sampling rate applied whatever the exporter says, per "
		"exporter or exporter\ninterface, as flow.sampling_default."),

	KEY_SECTION("bmp",
		"BMP (RFC 7854) from routers, over TCP. There is no IANA "
		"port; 11019 is\nthe one GoBGP and OpenBMP examples use."),
	KEY_ENDPOINT("bmp.listen", bmp_listen, true, "-",
		"Live BMP server: \"IPv4:port\", \"[IPv6]:port\" or "
		"\":port\" (all addresses,\nIPv4 and IPv6); \"-\" = no "
		"server."),
	KEY_ALLOW("bmp.allow", bmp_allow, "any",
		"Routers allowed to connect: prefixes or addresses, "
		"comma-separated\n(\"192.0.2.0/24, 2001:db8::1\"), or "
		"\"any\". Others are closed at once and\ncounted."),
	KEY_UINT("bmp.max_routers", bmp_max_routers, 1, 65536, "256",
		"BMP sessions at once (1..65536). When all are taken, a new "
		"one replaces\nthe oldest that has not sent a whole message "
		"yet; with none such it is\nrefused and counted."),
	KEY_UINT("bmp.max_sessions_per_address", bmp_max_per_address, 1,
		65536, "4",
		"BMP sessions from one address at once (1..65536); more are "
		"refused and\ncounted (bmp.server.address_capped)."),
	KEY_UINT("bmp.idle_timeout_seconds", bmp_idle_seconds, 0, 86400,
		"3600", "Close a router session that sent nothing for this "
		"long (0 = never): BMP\nsends statistics or keepalive-like "
		"traffic; a silent socket is usually\nhalf-open. A router "
		"paused by backpressure is not idle."),
	KEY_UINT("bmp.message_timeout_seconds", bmp_message_seconds, 1, 86400,
		"30", "Close a router session that has not completed its "
		"first message (the\nInitiation), or leaves a message "
		"incomplete, for this long: a slowloris\ntrickling a header "
		"loses its slot in seconds, not at the idle timeout."),
	KEY_UINT("bmp.snapshot_seconds", bmp_snapshot_seconds, 0, 86400,
		"60", "Live: a bgp_session snapshot of every peer this often; "
		"0 = only on\nchanges."),
	KEY_BOOL("bmp.route_messages", bmp_route_messages, "false",
		"Publish a route message for every route change: announce "
		"(new route or\nnew attributes), withdraw, and one "
		"peer_routes_withdrawn per Peer Down or\nend of BMP session. "
		"A full table is about a million messages per\nrouter and "
		"view at each BMP session start; Kafka topic "
		"peerscope.routes."),
	KEY_UINT("bmp.port", bmp_port, 0, 65535, "11019",
		"TCP port of BMP streams in replayed captures (destination "
		"port); 0 = none."),
	KEY_UINT("bmp.max_peers_per_router", bmp_max_peers, 1, 1U << 20,
		"4096", "BGP peers one router may report (1..1048576); more "
		"are refused and\ncounted."),
	KEY_UINT("bmp.max_routes_per_peer", bmp_max_routes, 1, 1U << 28,
		"4000000", "Routes kept per peer, all views and families "
		"together; more are\nrefused and counted."),
	KEY_UINT("bmp.max_routes_per_router", bmp_max_router_routes, 1,
		0xffffffffU, "20000000", "Routes kept per router, all peers "
		"together; more are refused and\ncounted. With "
		"max_buffer_bytes, this bounds a router's memory."),
	KEY_SIZE("bmp.max_buffer_bytes", bmp_max_buffer, 65536, 1U << 30,
		"4MiB", "Reassembly buffer per router stream (64KiB..1GiB); "
		"a message that\ncannot fit ends the session."),
	KEY_SIZE("bmp.max_queue_bytes", bmp_max_queue, 65536, 1U << 30,
		"1MiB", "Events of one router waiting for the output "
		"(64KiB..1GiB): past this,\nthat router alone is no longer "
		"read (TCP backpressure) until half of\nthem are out; others "
		"keep flowing. Nothing is dropped."),

	KEY_SECTION("probes",
		"Active latency probes of connections' peer session "
		"addresses (per-connection\n`probe: true` in the connection "
		"registry), from their own thread; see\ndocs/latency.md. "
		"Results per connection, method and window: sent, lost,\n"
		"loss_pct, jitter_ms, availability and RTT quantiles."),
	KEY_UINT("probes.interval_ms", probes.interval_ms, 100, 3600000,
		"1000", "One probe per target and method this often "
		"(100..3600000)."),
	KEY_UINT("probes.jitter_percent", probes.jitter_percent, 0, 50, "10",
		"Each send moves by a random offset of up to this share of "
		"the interval,\nso probes of many targets do not fall into "
		"step (0..50)."),
	KEY_UINT("probes.max_rate", probes.max_rate, 1, 1000000, "20000",
		"Probes per second over all targets and methods: past it "
		"sends wait for\nthe rate (counted rate_limited), and an "
		"interval that passes unsent is\nskipped and counted."),
	KEY_UINT("probes.max_rtt_ms", probes.max_rtt_ms, 1, 600000, "60000",
		"RTTs above this are impossible and left out of the sketch "
		"(counted as\nabove_max), as are negative ones (a clock "
		"step)."),
	KEY_UINT("probes.max_targets", probes.max_targets, 1, 1U << 20,
		"100000", "Probe targets (addresses) at most; a larger list "
		"is refused at load."),
	KEY_BOOL("probes.kernel_timestamps", probes.kernel_timestamps,
		"true", "Time probes with the kernel's software transmit and "
		"receive timestamps\n(SO_TIMESTAMPING) where the socket "
		"gives them, else the user-space clock."),
	KEY_SECTION("probes.icmp", "ICMP / ICMPv6 echo (method label "
		"probe_icmp)."),
	KEY_BOOL("probes.icmp.enabled", probes.icmp.enabled, "true",
		"Probe with ICMP echo."),
	KEY_ENUM("probes.icmp.socket", probes.icmp_socket,
		probe_icmp_socket_names, "auto",
		"dgram: an unprivileged ICMP datagram socket, allowed when "
		"the group of\nthe process is in net.ipv4.ping_group_range; "
		"raw: a raw socket\n(CAP_NET_RAW, opened before privileges "
		"are dropped); auto: dgram, else\nraw. Neither usable: "
		"refused at load, with the reason."),
	KEY_UINT("probes.icmp.timeout_ms", probes.icmp.timeout_ms, 1, 60000,
		"2000", "A probe unanswered this long is lost (1..60000). At "
		"most one window,\nand at most 62 times the shortest gap "
		"between two sends of a target\n(interval_ms x (1 - 2 x "
		"jitter_percent / 100)); the same for every method."),
	KEY_SECTION("probes.tcp", "TCP connect (method label probe_tcp): "
		"the SYN -> SYN/ACK or RST time; the\nsocket is reset at "
		"once (SO_LINGER 0), no BGP session is opened."),
	KEY_BOOL("probes.tcp.enabled", probes.tcp.enabled, "false",
		"Probe with TCP connects."),
	KEY_UINT("probes.tcp.port", probes.tcp.port, 1, 65535, "179",
		"Destination port (BGP)."),
	KEY_UINT("probes.tcp.timeout_ms", probes.tcp.timeout_ms, 1, 60000,
		"1000", "A connect unanswered this long is lost. A SYN "
		"answered only after the\nkernel retransmitted it (1 s "
		"initial RTO) counts as lost too."),
	KEY_SECTION("probes.stamp", "STAMP (RFC 8762, unauthenticated, "
		"method label probe_stamp) to routers\nthat run a "
		"session-reflector; RTT without the reflector's own "
		"time."),
	KEY_BOOL("probes.stamp.enabled", probes.stamp.enabled, "false",
		"Probe with STAMP test packets."),
	KEY_UINT("probes.stamp.port", probes.stamp.port, 1, 65535, "862",
		"The reflector's UDP port (IANA: 862)."),
	KEY_UINT("probes.stamp.timeout_ms", probes.stamp.timeout_ms, 1,
		60000, "2000", "A test packet unanswered this long is lost."),

	KEY_SECTION("http",
		"The operations endpoint: /metrics (Prometheus), /healthz, "
		"/readyz.\nReloads (SIGHUP) need a restart to change it."),
	KEY_BOOL("http.enabled", http_enabled, "true",
		"Serve the endpoint (live mode; replay with --serve-metrics)."),
	KEY_ENDPOINT("http.listen", http_listen, false, "127.0.0.1:9464",
		"\"IPv4:port\", \"[IPv6]:port\" or \":port\"; loopback "
		"unless you choose\notherwise. Port 0 picks a free port "
		"(logged)."),
	KEY_ALLOW("http.allow", http_allow, "any",
		"Clients allowed to connect: prefixes or addresses, "
		"comma-separated, or\n\"any\". Others are closed at once "
		"and counted\n(peerscope_http_connections_refused_total"
		"{reason=\"not_allowed\"})."),
	KEY_UINT("http.max_clients", http_max_clients, 1, 1024, "16",
		"Concurrent HTTP connections (1..1024), a quarter of them "
		"from one address\nat most. When all are taken, a new "
		"connection replaces the one waiting\nlongest for its next "
		"request, so a flood of idle connections cannot\nkeep a "
		"scrape out; with every one busy it is refused and counted."),
	KEY_UINT("http.timeout_seconds", http_timeout_seconds, 1, 3600, "10",
		"A connection that has not completed a request (or answer) "
		"this long\nafter connecting or after its last answer is "
		"closed (1..3600)."),

	KEY_SECTION("metrics", "What /metrics exports."),
	KEY_UINT("metrics.max_connections", metrics_max_connections,
		0, 1U << 20, "1000",
		"Connections with per-connection series (0..1048576); the "
		"rest are\ncounted in peerscope_connections_omitted. "
		"Applied on SIGHUP."),

	KEY_SECTION("log", "Event logs on standard error."),
	KEY_ENUM("log.level", log_level, log_level_names, "info",
		"error, warn, info or debug. Applied on SIGHUP."),
	KEY_ENUM("log.format", log_format, log_format_names, "logfmt",
		"logfmt (key=value) or json, one event per line. Applied "
		"on SIGHUP."),

	KEY_STRING("run_as_user", run_as_user, "-",
		"After binding its sockets, switch to this user (and its "
		"group) and\nkeep no capabilities; \"-\" = stay as started."),
	KEY_STRING("runtime_dir", runtime_dir, "/run/peerscope",
		"Where peerscope says where to find it: kafka-brokers holds "
		"the embedded\nbroker's address, which `peerscope top` reads. "
		"Made (and given to\nrun_as_user) at start; \"-\" = none."),
	KEY_BOOL("allow_root", allow_root, "false",
		"Allow running as root after start-up (live mode); refused "
		"otherwise."),
	KEY_UINT("shutdown_timeout_seconds", shutdown_timeout_seconds,
		1, 3600, "30",
		"On SIGTERM/SIGINT, flushing the open windows and draining "
		"the sinks\nmay take this long (1..3600); past it peerscope "
		"exits with status 1."),
};

static const char *const proto_names[] = {
	[PS_PROTO_NONE] = "none",
#define PS_PROTO_NAME_(id, pname, plisten, phelp) [PS_PROTO_##id] = pname,
	PS_PROTOCOLS(PS_PROTO_NAME_)
#undef PS_PROTO_NAME_
};
/* clang-format on */

_Static_assert(ARRAY_SIZE(cfg_keys) <= PS_CFG_MAX_KEYS,
	       "raise PS_CFG_MAX_KEYS in config.h");

/* Where a value came from, for error messages. */
struct cfg_src {
	const char *name;   /* file path, or "command line" */
	unsigned long line; /* 1-based; 0 = no line */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int
cfg_fail(const struct cfg_src *src, const char *key, const char *fmt, ...)
{
	char msg[512];
	char where[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (src->line)
		snprintf(where, sizeof(where), "%s:%lu", src->name, src->line);
	else
		snprintf(where, sizeof(where), "%s", src->name);
	if (key)
		snprintf(src->err, src->errlen, "%s: %s: %s", where, key, msg);
	else
		snprintf(src->err, src->errlen, "%s: %s", where, msg);
	return -1;
}

/*
 * Untrusted text made printable for a message: bytes outside printable
 * ASCII as \xNN, cut after CFG_SHOW_MAX input bytes with "...".
 */
static void cfg_escape(char *out, size_t outlen, const char *in, size_t inlen)
{
	size_t o = 0;
	size_t i;

	assert(outlen >= CFG_SHOW_MAX * 4 + 4);
	for (i = 0; i < inlen && i < CFG_SHOW_MAX; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o +=
			    (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	if (i < inlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* What a key accepts, for "expected ..." messages. */
static void cfg_expect(const struct cfg_key *k, char *buf, size_t len)
{
	const struct cfg_enum_name *n;
	size_t o;

	switch (k->type) {
	case CFG_SECTION:
		snprintf(buf, len, "a mapping");
		break;
	case CFG_UINT:
		snprintf(buf, len, "%s between %u and %u",
			 k->pow2 ? "a power of two" : "an integer", k->min,
			 k->max);
		break;
	case CFG_SIZE:
		snprintf(buf, len,
			 "a byte count between %u and %u (suffixes k, M, G)",
			 k->min, k->max);
		break;
	case CFG_BOOL:
		snprintf(buf, len, "true or false");
		break;
	case CFG_STRING:
		snprintf(buf, len, "a non-empty string of at most %zu bytes",
			 k->size - 1);
		break;
	case CFG_ENUM:
		o = (size_t)snprintf(buf, len, "one of");
		for (n = k->names; n->name && o < len; n++)
			o +=
			    (size_t)snprintf(buf + o, len - o, "%s %s",
					     n == k->names ? "" : ",", n->name);
		break;
	case CFG_LISTEN:
		snprintf(buf, len,
			 "a list of \":port\", \"IPv4:port\" or "
			 "\"[IPv6]:port\" (port 1..65535), or [] for none");
		break;
	case CFG_ENDPOINT:
		snprintf(buf, len,
			 "\":port\", \"IPv4:port\" or \"[IPv6]:port\"%s",
			 k->off_ok ? ", or \"-\" for none" : "");
		break;
	case CFG_ALLOW:
		snprintf(buf, len,
			 "\"any\" or comma-separated IPv4/IPv6 prefixes");
		break;
	case CFG_CPUS:
		snprintf(buf, len,
			 "CPU numbers or ranges such as \"0,2-5\" (0..%d)",
			 CFG_CPU_MAX);
		break;
	case CFG_MAP:
		snprintf(buf, len,
			 "a mapping of at most %d names (< %d bytes) to "
			 "values (< %d bytes), or NAME=VALUE",
			 PS_MAP_MAX, PS_MAP_NAME_MAX, PS_MAP_VALUE_MAX);
		break;
	}
}

/* "<key>: expected <what k takes>, got "<text>"" */
static int cfg_bad_value(const struct cfg_src *src, const struct cfg_key *k,
			 const char *text, size_t len)
{
	char expect[160];
	char shown[CFG_SHOW_MAX * 4 + 4];

	cfg_expect(k, expect, sizeof(expect));
	cfg_escape(shown, sizeof(shown), text, len);
	return cfg_fail(src, k->name, "expected %s, got \"%s\"", expect, shown);
}

/* "<key>: expected <what k takes>, got <what>" for non-scalars. */
static int cfg_bad_kind(const struct cfg_src *src, const struct cfg_key *k,
			const char *what)
{
	char expect[160];

	cfg_expect(k, expect, sizeof(expect));
	return cfg_fail(src, k->name, "expected %s, got %s", expect, what);
}

static const struct cfg_key *cfg_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cfg_keys); i++)
		if (strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	return NULL;
}

static bool cfg_is_list(const struct cfg_key *k)
{
	return k->type == CFG_LISTEN || k->type == CFG_CPUS;
}

/*
 * Decimal, no sign, no leading zeros (YAML 1.1 would read 010 as octal);
 * with sizes, an optional binary suffix.  0, or -1 if not a number that
 * fits in 64 bits.
 */
static int parse_u64(const char *s, bool sizes, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
	    {"k", 1ULL << 10},	 {"K", 1ULL << 10},   {"KiB", 1ULL << 10},
	    {"M", 1ULL << 20},	 {"MiB", 1ULL << 20}, {"G", 1ULL << 30},
	    {"GiB", 1ULL << 30},
	};
	uint64_t v = 0;
	size_t i;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (*s == '\0') {
		*out = v;
		return 0;
	}
	if (!sizes)
		return -1;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(s, units[i].suffix) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return -1;
		*out = v * units[i].mult;
		return 0;
	}
	return -1;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/*
 * One listen.<proto> item (netaddr.h syntax, port 1..65535) into
 * out[0..n): ":port" is two sockets, 0.0.0.0 and [::] (v6-only).
 * 0, or -1 with the reason in err.
 */
static int parse_listen(const char *s, enum ps_proto proto,
			struct ps_listen out[2], size_t *n, char *err,
			size_t errlen)
{
	struct ps_endpoint ep;

	if (netaddr_parse_endpoint(s, &ep, err, errlen) == -1)
		return -1;
	if (ep.port == 0) {
		snprintf(err, errlen, "port 0 in \"%.64s\": every worker "
			 "would get a different port", s);
		return -1;
	}
	memset(out, 0, 2 * sizeof(*out));
	out[0].proto = out[1].proto = proto;
	out[0].port = out[1].port = ep.port;
	if (ep.addr.af == 0) {
		out[0].addr.af = 4; /* 0.0.0.0 */
		out[1].addr.af = 6; /* :: */
		*n = 2;
		return 0;
	}
	out[0].addr = ep.addr;
	*n = 1;
	return 0;
}

/* Forget the listeners of k's protocol, or all CPUs. */
static void cfg_list_clear(struct ps_config *cfg, const struct cfg_key *k)
{
	uint32_t i, kept = 0;

	if (k->type == CFG_CPUS) {
		cfg->cpu_count = 0;
		return;
	}
	for (i = 0; i < cfg->listen_count; i++)
		if (cfg->listen[i].proto != k->proto)
			cfg->listen[kept++] = cfg->listen[i];
	cfg->listen_count = kept;
}

static int cfg_listen_add(struct ps_config *cfg, const struct cfg_key *k,
			  const char *item, const struct cfg_src *src)
{
	struct ps_listen l[2];
	char why[300];
	size_t n, i;

	if (parse_listen(item, k->proto, l, &n, why, sizeof(why)) == -1)
		return cfg_fail(src, k->name, "%s", why);
	if (cfg->listen_count + n > PS_MAX_LISTEN)
		return cfg_fail(src, k->name,
				"more than %d listeners in all protocols",
				PS_MAX_LISTEN);
	for (i = 0; i < n; i++)
		cfg->listen[cfg->listen_count++] = l[i];
	return 0;
}

/* "N" or "A-B". */
static int cfg_cpus_add(struct ps_config *cfg, const struct cfg_key *k,
			const char *item, const struct cfg_src *src)
{
	char first[CFG_ITEM_MAX];
	const char *dash = strchr(item, '-');
	uint64_t lo, hi, c;

	if (dash) {
		memcpy(first, item, (size_t)(dash - item));
		first[dash - item] = '\0';
		if (parse_u64(first, false, &lo) == -1 ||
		    parse_u64(dash + 1, false, &hi) == -1 || lo > hi)
			return cfg_bad_value(src, k, item, strlen(item));
	} else if (parse_u64(item, false, &lo) == -1) {
		return cfg_bad_value(src, k, item, strlen(item));
	} else {
		hi = lo;
	}
	if (hi > CFG_CPU_MAX)
		return cfg_bad_value(src, k, item, strlen(item));
	for (c = lo; c <= hi; c++) {
		if (cfg->cpu_count == PS_MAX_WORKERS)
			return cfg_fail(src, k->name, "more than %d CPUs",
					PS_MAX_WORKERS);
		cfg->cpus[cfg->cpu_count++] = (uint32_t)c;
	}
	return 0;
}

/* Whether text says "none" for a list or an optional endpoint. */
static bool cfg_text_is_none(const struct cfg_key *k, const char *text)
{
	return text[0] == '\0' || strcmp(text, "[]") == 0 ||
	       (k->type != CFG_CPUS && strcmp(text, "-") == 0);
}

/*
 * Append comma-separated items to a list key; "", "[]" (and "-" for
 * listeners) add nothing, as the YAML [] does.
 */
static int cfg_list_add(struct ps_config *cfg, const struct cfg_key *k,
			const char *text, const struct cfg_src *src)
{
	const char *p = text;

	if (cfg_text_is_none(k, text))
		return 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char item[CFG_ITEM_MAX];
		int rc;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(item))
			return cfg_bad_value(src, k, text, strlen(text));
		memcpy(item, p, len);
		item[len] = '\0';
		if (k->type == CFG_LISTEN)
			rc = cfg_listen_add(cfg, k, item, src);
		else
			rc = cfg_cpus_add(cfg, k, item, src);
		if (rc == -1)
			return -1;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* Add or replace one entry of a CFG_MAP key. */
static int cfg_map_put(struct ps_config *cfg, const struct cfg_key *k,
		       const char *name, const char *value,
		       const struct cfg_src *src)
{
	struct ps_map *m = (struct ps_map *)((char *)cfg + k->off);
	size_t nlen = strlen(name), vlen = strlen(value);
	uint32_t i;

	if (nlen == 0 || nlen >= PS_MAP_NAME_MAX || vlen >= PS_MAP_VALUE_MAX)
		return cfg_bad_value(src, k, name, nlen);
	if (k->map_check != NULL && k->map_check(name, value) == -1) {
		char n_shown[CFG_SHOW_MAX * 4 + 4], v_shown[CFG_SHOW_MAX * 4 + 4];

		cfg_escape(n_shown, sizeof(n_shown), name, nlen);
		cfg_escape(v_shown, sizeof(v_shown), value, vlen);
		return cfg_fail(src, k->name,
				"expected \"IP\" or \"IP/ifN\" mapped to a "
				"rate 1..4294967295, got \"%s\" = \"%s\"",
				n_shown, v_shown);
	}
	for (i = 0; i < m->count; i++)
		if (strcmp(m->e[i].name, name) == 0)
			break;
	if (i == m->count) {
		if (m->count == PS_MAP_MAX)
			return cfg_fail(src, k->name, "more than %d entries",
					PS_MAP_MAX);
		m->count++;
	}
	memcpy(m->e[i].name, name, nlen + 1);
	memcpy(m->e[i].value, value, vlen + 1);
	return 0;
}

/* "NAME=VALUE" adds or replaces an entry; "" empties the map. */
static int cfg_map_set_text(struct ps_config *cfg, const struct cfg_key *k,
			    const char *text, const struct cfg_src *src)
{
	struct ps_map *m = (struct ps_map *)((char *)cfg + k->off);
	const char *eq = strchr(text, '=');
	char name[PS_MAP_NAME_MAX];
	size_t nlen;

	if (*text == '\0') {
		m->count = 0;
		return 0;
	}
	if (eq == NULL || eq == text ||
	    (nlen = (size_t)(eq - text)) >= sizeof(name))
		return cfg_bad_value(src, k, text, strlen(text));
	memcpy(name, text, nlen);
	name[nlen] = '\0';
	return cfg_map_put(cfg, k, name, eq + 1, src);
}

/*
 * An endpoint or allow-list key, checked by the parser the code that
 * binds or matches uses (netaddr.h); "-" (or "", "[]") turns an optional
 * endpoint off.
 */
static int cfg_check_address(const struct cfg_key *k, const char *text,
			     const struct cfg_src *src)
{
	struct netaddr_allow allow;
	struct ps_endpoint ep;
	char why[300];

	if (strlen(text) >= k->size)
		return cfg_bad_value(src, k, text, strlen(text));
	if (k->type == CFG_ENDPOINT && k->off_ok && strcmp(text, "-") == 0)
		return 0;
	if (k->type == CFG_ENDPOINT &&
	    netaddr_parse_endpoint(text, &ep, why, sizeof(why)) == -1)
		return cfg_fail(src, k->name, "%s", why);
	if (k->type == CFG_ALLOW &&
	    netaddr_parse_allow(&allow, text, why, sizeof(why)) == -1)
		return cfg_fail(src, k->name, "%s", why);
	return 0;
}

static int cfg_set_address(struct ps_config *cfg, const struct cfg_key *k,
			   const char *text, const struct cfg_src *src)
{
	char *field = (char *)cfg + k->off;

	if (k->type == CFG_ENDPOINT && k->off_ok && cfg_text_is_none(k, text))
		text = "-";
	if (cfg_check_address(k, text, src) == -1)
		return -1;
	memcpy(field, text, strlen(text) + 1);
	return 0;
}

/* Set key k from text (a YAML scalar or a command-line value). */
static int cfg_set_text(struct ps_config *cfg, const struct cfg_key *k,
			const char *text, const struct cfg_src *src)
{
	char *field = (char *)cfg + k->off;
	const struct cfg_enum_name *n;
	size_t len = strlen(text);
	uint64_t v;
	uint32_t u;
	bool b;

	switch (k->type) {
	case CFG_SECTION:
		return cfg_bad_value(src, k, text, len);
	case CFG_UINT:
	case CFG_SIZE:
		if (parse_u64(text, k->type == CFG_SIZE, &v) == -1 ||
		    v < k->min || v > k->max || (k->pow2 && (v & (v - 1))))
			return cfg_bad_value(src, k, text, len);
		u = (uint32_t)v;
		memcpy(field, &u, sizeof(u));
		return 0;
	case CFG_BOOL:
		if (parse_bool(text, &b) == -1)
			return cfg_bad_value(src, k, text, len);
		memcpy(field, &b, sizeof(b));
		return 0;
	case CFG_STRING:
		if (len == 0 || len >= k->size)
			return cfg_bad_value(src, k, text, len);
		memcpy(field, text, len + 1);
		return 0;
	case CFG_ENUM:
		for (n = k->names; n->name; n++) {
			if (strcmp(n->name, text) == 0) {
				memcpy(field, &n->value, sizeof(n->value));
				return 0;
			}
		}
		return cfg_bad_value(src, k, text, len);
	case CFG_LISTEN:
	case CFG_CPUS:
		cfg_list_clear(cfg, k);
		return cfg_list_add(cfg, k, text, src);
	case CFG_MAP:
		return cfg_map_set_text(cfg, k, text, src);
	case CFG_ENDPOINT:
	case CFG_ALLOW:
		return cfg_set_address(cfg, k, text, src);
	}
	return cfg_bad_value(src, k, text, len);
}

/* ---- YAML ---------------------------------------------------------- */

struct cfg_yaml {
	yaml_parser_t parser;
	struct ps_config *cfg; /* &tmp: the caller's struct on success */
	struct ps_config tmp;
	struct cfg_src src;
	unsigned long seen_line[ARRAY_SIZE(cfg_keys)]; /* 0 = not yet */
};

static int yaml_fail_syntax(struct cfg_yaml *y)
{
	const yaml_parser_t *p = &y->parser;
	const char *problem = p->problem ? p->problem : "unknown error";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		y->src.line = 0;
		return cfg_fail(&y->src, NULL, "out of memory reading YAML");
	case YAML_READER_ERROR:
		y->src.line = 0;
		return cfg_fail(&y->src, NULL, "byte %zu: %s",
				p->problem_offset, problem);
	default:
		break;
	}
	y->src.line = p->problem_mark.line + 1;
	if (p->context)
		return cfg_fail(&y->src, NULL,
				"YAML syntax error: %s (%s on line %zu)",
				problem, p->context, p->context_mark.line + 1);
	return cfg_fail(&y->src, NULL, "YAML syntax error: %s", problem);
}

static int yaml_next(struct cfg_yaml *y, yaml_event_t *ev)
{
	if (yaml_parser_parse(&y->parser, ev))
		return 0;
	return yaml_fail_syntax(y);
}

static unsigned long ev_line(const yaml_event_t *ev)
{
	return ev->start_mark.line + 1;
}

/* A plain empty, ~ or null scalar: YAML's null. */
static bool ev_is_null(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;

	if (ev->type != YAML_SCALAR_EVENT ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* Scalar text, or NULL (after an error) if it holds a NUL byte. */
static const char *yaml_text(struct cfg_yaml *y, const struct cfg_key *k,
			     const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;

	if (strlen(s) != ev->data.scalar.length) {
		cfg_fail(&y->src, k->name, "value contains a NUL byte");
		return NULL;
	}
	return s;
}

static const char *ev_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT:
		return "a sequence";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_ALIAS_EVENT:
		return "an alias (aliases are not supported)";
	case YAML_SCALAR_EVENT:
		return ev_is_null(ev) ? "null" : "a scalar";
	default:
		return "something else";
	}
}

static int yaml_mapping(struct cfg_yaml *y, const char *prefix);

/* The items of a sequence for a list key; the start event is consumed. */
static int yaml_list(struct cfg_yaml *y, const struct cfg_key *k)
{
	cfg_list_clear(y->cfg, k);
	for (;;) {
		yaml_event_t ev;
		const char *text;
		int rc;

		if (yaml_next(y, &ev) == -1)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		y->src.line = ev_line(&ev);
		if (ev.type != YAML_SCALAR_EVENT || ev_is_null(&ev))
			rc = cfg_bad_kind(&y->src, k, ev_kind(&ev));
		else if ((text = yaml_text(y, k, &ev)) == NULL)
			rc = -1;
		else
			rc = cfg_list_add(y->cfg, k, text, &y->src);
		yaml_event_delete(&ev);
		if (rc == -1)
			return -1;
	}
}

/*
 * The pairs of a CFG_MAP key's mapping, which replaces the map; the start
 * event is consumed.  Names may hold dots (librdkafka's "sasl.mechanism"):
 * they are data here, not paths.
 */
static int yaml_map(struct cfg_yaml *y, const struct cfg_key *k)
{
	struct ps_map *m = (struct ps_map *)((char *)y->cfg + k->off);

	m->count = 0;
	for (;;) {
		char name[PS_MAP_NAME_MAX];
		yaml_event_t ev;
		const char *text;
		int rc = 0;

		if (yaml_next(y, &ev) == -1)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		y->src.line = ev_line(&ev);
		if (ev.type != YAML_SCALAR_EVENT || ev_is_null(&ev))
			rc = cfg_bad_kind(&y->src, k, ev_kind(&ev));
		else if ((text = yaml_text(y, k, &ev)) == NULL)
			rc = -1;
		else if (strlen(text) >= sizeof(name))
			rc = cfg_bad_value(&y->src, k, text, strlen(text));
		else
			memcpy(name, text, strlen(text) + 1);
		yaml_event_delete(&ev);
		if (rc == -1 || yaml_next(y, &ev) == -1)
			return -1;
		if (ev.type != YAML_SCALAR_EVENT)
			rc = cfg_bad_kind(&y->src, k, ev_kind(&ev));
		else if ((text = yaml_text(y, k, &ev)) == NULL)
			rc = -1;
		else
			rc = cfg_map_put(y->cfg, k, name, text, &y->src);
		yaml_event_delete(&ev);
		if (rc == -1)
			return -1;
	}
}

/* An optional endpoint given as a sequence: only [] (off) makes sense. */
static int yaml_endpoint_off(struct cfg_yaml *y, const struct cfg_key *k)
{
	yaml_event_t ev;
	bool empty;

	if (yaml_next(y, &ev) == -1)
		return -1;
	empty = ev.type == YAML_SEQUENCE_END_EVENT;
	yaml_event_delete(&ev);
	if (!empty)
		return cfg_bad_kind(&y->src, k, "a non-empty sequence");
	return cfg_set_text(y->cfg, k, "-", &y->src);
}

/* The value of key k, starting with event ev (which the caller frees). */
static int yaml_value(struct cfg_yaml *y, const struct cfg_key *k,
		      const yaml_event_t *ev)
{
	const char *text;

	y->src.line = ev_line(ev);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev_is_null(ev)) {
			if (k->type == CFG_SECTION) /* all keys commented out */
				return 0;
			if (cfg_is_list(k)) {
				cfg_list_clear(y->cfg, k);
				return 0;
			}
			if (k->type == CFG_MAP)
				return cfg_map_set_text(y->cfg, k, "", &y->src);
			if (k->type == CFG_ENDPOINT && k->off_ok)
				return cfg_set_text(y->cfg, k, "-", &y->src);
			return cfg_bad_kind(&y->src, k, "null");
		}
		if (k->type == CFG_SECTION)
			return cfg_bad_kind(&y->src, k, "a scalar");
		text = yaml_text(y, k, ev);
		if (text == NULL)
			return -1;
		return cfg_set_text(y->cfg, k, text, &y->src);
	case YAML_SEQUENCE_START_EVENT:
		if (k->type == CFG_ENDPOINT && k->off_ok)
			return yaml_endpoint_off(y, k);
		if (!cfg_is_list(k))
			return cfg_bad_kind(&y->src, k, "a sequence");
		return yaml_list(y, k);
	case YAML_MAPPING_START_EVENT:
		if (k->type == CFG_MAP)
			return yaml_map(y, k);
		if (k->type != CFG_SECTION)
			return cfg_bad_kind(&y->src, k, "a mapping");
		return yaml_mapping(y, k->name);
	default:
		return cfg_bad_kind(&y->src, k, ev_kind(ev));
	}
}

/* Key/value pairs up to the mapping's end; the start event is consumed. */
static int yaml_mapping(struct cfg_yaml *y, const char *prefix)
{
	for (;;) {
		char shown[CFG_SHOW_MAX * 4 + 4];
		char path[CFG_PATH_MAX];
		const struct cfg_key *k;
		yaml_event_t ev;
		const char *key;
		size_t idx, len;
		int rc, n;

		if (yaml_next(y, &ev) == -1)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		y->src.line = ev_line(&ev);
		if (ev.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&ev);
			return cfg_fail(&y->src, prefix,
					"a key must be a plain name");
		}
		key = (const char *)ev.data.scalar.value;
		len = ev.data.scalar.length;
		n = snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "",
			     prefix ? "." : "", key);
		k = NULL;
		if (n > 0 && (size_t)n < sizeof(path) && strlen(key) == len &&
		    !strchr(key, '.'))
			k = cfg_key_find(path);
		if (k == NULL) {
			bool dotted = memchr(key, '.', len) != NULL;

			cfg_escape(shown, sizeof(shown), key, len);
			yaml_event_delete(&ev);
			return cfg_fail(&y->src, NULL, "%s%s%s: unknown key%s",
					prefix ? prefix : "", prefix ? "." : "",
					shown,
					dotted ? " (nest mappings instead of "
						 "dotted keys)"
					       : "");
		}
		yaml_event_delete(&ev);

		idx = (size_t)(k - cfg_keys);
		if (y->seen_line[idx])
			return cfg_fail(&y->src, k->name,
					"duplicate key (first on line %lu)",
					y->seen_line[idx]);
		y->seen_line[idx] = y->src.line;
		y->cfg->key_line[idx] = (uint32_t)y->src.line;

		if (yaml_next(y, &ev) == -1)
			return -1;
		rc = yaml_value(y, k, &ev);
		yaml_event_delete(&ev);
		if (rc == -1)
			return -1;
	}
}

/* Every event up to the end of the stream, discarded. */
static int yaml_check_syntax(struct cfg_yaml *y)
{
	for (;;) {
		yaml_event_t ev;
		bool end;

		if (yaml_next(y, &ev) == -1)
			return -1;
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (end)
			return 0;
	}
}

/* One document holding one mapping; an empty file is an empty config. */
static int yaml_stream(struct cfg_yaml *y)
{
	yaml_event_t ev;
	int rc;

	if (yaml_next(y, &ev) == -1) /* stream start */
		return -1;
	yaml_event_delete(&ev);
	if (yaml_next(y, &ev) == -1)
		return -1;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev); /* document start */

	if (yaml_next(y, &ev) == -1)
		return -1;
	y->src.line = ev_line(&ev);
	if (ev.type == YAML_MAPPING_START_EVENT)
		rc = yaml_mapping(y, NULL);
	else if (ev_is_null(&ev))
		rc = 0;
	else
		rc = cfg_fail(&y->src, NULL,
			      "expected a mapping of keys at the top level, "
			      "got %s",
			      ev_kind(&ev));
	yaml_event_delete(&ev);
	if (rc == -1)
		return -1;

	if (yaml_next(y, &ev) == -1) /* document end */
		return -1;
	yaml_event_delete(&ev);
	if (yaml_next(y, &ev) == -1)
		return -1;
	rc = 0;
	if (ev.type != YAML_STREAM_END_EVENT) {
		y->src.line = ev_line(&ev);
		rc = cfg_fail(&y->src, NULL,
			      "more than one YAML document (one is expected)");
	}
	yaml_event_delete(&ev);
	return rc;
}

/* ---- API ----------------------------------------------------------- */

void config_init(struct ps_config *cfg)
{
	char err[512];
	struct cfg_src src = {"defaults", 0, err, sizeof(err)};
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < ARRAY_SIZE(cfg_keys); i++) {
		int rc;

		if (cfg_keys[i].type == CFG_SECTION)
			continue;
		rc = cfg_set_text(cfg, &cfg_keys[i], cfg_keys[i].def, &src);
		assert(rc == 0 && "a default in cfg_keys[] does not parse");
		(void)rc;
	}
}

int config_load(struct ps_config *cfg, const char *path, char *err,
		size_t errlen)
{
	struct cfg_yaml *y;
	FILE *f;
	int rc;

	/* The parser and the struct copy are a few KB: off the stack. */
	y = calloc(1, sizeof(*y));
	if (y == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto err_free;
	}
	if (!yaml_parser_initialize(&y->parser)) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto err_close;
	}
	y->tmp = *cfg;
	y->cfg = &y->tmp;
	y->src = (struct cfg_src){path, 0, err, errlen};

	/*
	 * Two passes: syntax first, so a YAML error is reported as such
	 * rather than as a strange value (libyaml folds "a: 1\n  b: 2" into
	 * the scalar "1 b" before it finds the stray colon).
	 */
	yaml_parser_set_input_file(&y->parser, f);
	rc = yaml_check_syntax(y);
	if (rc == 0) {
		yaml_parser_delete(&y->parser);
		rewind(f);
		if (!yaml_parser_initialize(&y->parser)) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto err_close;
		}
		yaml_parser_set_input_file(&y->parser, f);
		rc = yaml_stream(y);
	}
	if (rc == 0) {
		snprintf(y->tmp.path, sizeof(y->tmp.path), "%s", path);
		*cfg = y->tmp;
	}
	yaml_parser_delete(&y->parser);
	fclose(f);
	free(y);
	return rc;

err_close:
	fclose(f);
err_free:
	free(y);
	return -1;
}

int config_set(struct ps_config *cfg, const char *key, const char *value,
	       char *err, size_t errlen)
{
	struct cfg_src src = {"command line", 0, err, errlen};
	const struct cfg_key *k = cfg_key_find(key);
	struct ps_config tmp;

	if (k == NULL || k->type == CFG_SECTION) {
		char shown[CFG_SHOW_MAX * 4 + 4];

		cfg_escape(shown, sizeof(shown), key, strlen(key));
		return cfg_fail(&src, shown, "unknown key");
	}
	tmp = *cfg;
	if (cfg_set_text(&tmp, k, value, &src) == -1)
		return -1;
	tmp.key_line[k - cfg_keys] = PS_CFG_LINE_CLI;
	*cfg = tmp;
	return 0;
}

int config_set_pair(struct ps_config *cfg, const char *key_value, char *err,
		    size_t errlen)
{
	const char *eq = strchr(key_value, '=');
	char key[CFG_PATH_MAX];
	size_t len;

	if (eq == NULL || eq == key_value ||
	    (len = (size_t)(eq - key_value)) >= sizeof(key)) {
		struct cfg_src src = {"command line", 0, err, errlen};
		char shown[CFG_SHOW_MAX * 4 + 4];

		cfg_escape(shown, sizeof(shown), key_value, strlen(key_value));
		return cfg_fail(&src, NULL, "expected key=value, got \"%s\"",
				shown);
	}
	memcpy(key, key_value, len);
	key[len] = '\0';
	return config_set(cfg, key, eq + 1, err, errlen);
}

static bool listen_same_addr(const struct ps_listen *a,
			     const struct ps_listen *b)
{
	return a->port == b->port && a->addr.af == b->addr.af &&
	       memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes)) == 0;
}

static void listen_format(const struct ps_listen *l, char *buf, size_t len)
{
	struct ps_endpoint ep = { .addr = l->addr, .port = l->port };

	netaddr_format_endpoint(&ep, buf, len);
}

/* Where key k of cfg was set, as a source for cfg_fail(). */
static struct cfg_src cfg_src_of(const struct ps_config *cfg,
				 const struct cfg_key *k, char *err,
				 size_t errlen)
{
	uint32_t line = cfg->key_line[k - cfg_keys];

	if (line == PS_CFG_LINE_CLI)
		return (struct cfg_src){ "command line", 0, err, errlen };
	if (line > 0)
		return (struct cfg_src){ cfg->path, line, err, errlen };
	return (struct cfg_src){ "configuration", 0, err, errlen };
}

int config_key_error(const struct ps_config *cfg, const char *key, char *err,
		     size_t errlen, const char *fmt, ...)
{
	const struct cfg_key *k = cfg_key_find(key);
	struct cfg_src src = { "configuration", 0, err, errlen };
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (k != NULL)
		src = cfg_src_of(cfg, k, err, errlen);
	return cfg_fail(&src, key, "%s", msg);
}

static int validate_key(const struct ps_config *cfg, const struct cfg_key *k,
			const struct cfg_src *where)
{
	struct cfg_src key_src = cfg_src_of(cfg, k, where->err, where->errlen);
	const struct cfg_src *src = &key_src;

	const char *field = (const char *)cfg + k->off;
	const struct cfg_enum_name *n;
	char expect[160];
	uint32_t u, i;
	int e;

	cfg_expect(k, expect, sizeof(expect));
	switch (k->type) {
	case CFG_SECTION:
	case CFG_BOOL:
	case CFG_LISTEN: /* checked as a whole by the caller */
		return 0;
	case CFG_MAP:
		memcpy(&u, field + offsetof(struct ps_map, count), sizeof(u));
		if (u > PS_MAP_MAX)
			return cfg_fail(src, k->name, "more than %d entries",
					PS_MAP_MAX);
		return 0;
	case CFG_UINT:
	case CFG_SIZE:
		memcpy(&u, field, sizeof(u));
		if (u < k->min || u > k->max || (k->pow2 && (u & (u - 1))))
			return cfg_fail(src, k->name, "%u is not %s", u,
					expect);
		return 0;
	case CFG_STRING:
		if (field[0] == '\0' || memchr(field, '\0', k->size) == NULL)
			return cfg_fail(src, k->name, "expected %s", expect);
		return 0;
	case CFG_ENDPOINT:
	case CFG_ALLOW:
		if (memchr(field, '\0', k->size) == NULL)
			return cfg_fail(src, k->name, "expected %s", expect);
		/* filled by code, perhaps: the same parser again */
		return cfg_check_address(k, field, src);
	case CFG_ENUM:
		memcpy(&e, field, sizeof(e));
		for (n = k->names; n->name; n++)
			if (n->value == e)
				return 0;
		return cfg_fail(src, k->name, "%d is not %s", e, expect);
	case CFG_CPUS:
		if (cfg->cpu_count > PS_MAX_WORKERS)
			return cfg_fail(src, k->name, "more than %d CPUs",
					PS_MAX_WORKERS);
		for (i = 0; i < cfg->cpu_count; i++)
			if (cfg->cpus[i] > CFG_CPU_MAX)
				return cfg_fail(src, k->name,
						"CPU %u is not in 0..%d",
						cfg->cpus[i], CFG_CPU_MAX);
		return 0;
	}
	return 0;
}

static int validate_listen(const struct ps_config *cfg,
			   const struct cfg_src *src)
{
	char name[CFG_PATH_MAX], where[64];
	uint32_t i, j;

	/* [] turns a protocol off; something must still come in */
	if (cfg->listen_count == 0 && strcmp(cfg->flow_tcp_listen, "-") == 0 &&
	    strcmp(cfg->bmp_listen, "-") == 0)
		return cfg_fail(src, "listen",
				"nothing to listen on: every listen.* list is "
				"empty and flow.tcp_listen and bmp.listen are "
				"off");
	if (cfg->listen_count > PS_MAX_LISTEN)
		return cfg_fail(src, "listen", "more than %d listeners",
				PS_MAX_LISTEN);
	for (i = 0; i < cfg->listen_count; i++) {
		const struct ps_listen *a = &cfg->listen[i];

		snprintf(name, sizeof(name), "listen.%s",
			 ps_proto_name(a->proto));
		if (a->proto <= PS_PROTO_NONE || a->proto >= PS_PROTO_END_)
			return cfg_fail(src, "listen", "unknown protocol %d",
					(int)a->proto);
		if ((a->addr.af != 4 && a->addr.af != 6) || a->port == 0)
			return config_key_error(cfg, name, src->err,
						src->errlen,
						"entry %u has no address or "
						"port",
						i);
		listen_format(a, where, sizeof(where));
		for (j = 0; j < i; j++) {
			const struct ps_listen *b = &cfg->listen[j];

			if (b->port != a->port)
				continue;
			if (b->proto != a->proto)
				return config_key_error(
					cfg, name, src->err, src->errlen,
					"port %u is also used by listen.%s "
					"(replay tells protocols apart by "
					"port)",
					a->port, ps_proto_name(b->proto));
			if (listen_same_addr(a, b))
				return config_key_error(cfg, name, src->err,
							src->errlen,
							"%s listed twice",
							where);
		}
	}
	return 0;
}

int config_validate(const struct ps_config *cfg, char *err, size_t errlen)
{
	struct cfg_src src = {"configuration", 0, err, errlen};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cfg_keys); i++)
		if (validate_key(cfg, &cfg_keys[i], &src) == -1)
			return -1;
	if (validate_listen(cfg, &src) == -1)
		return -1;
	return 0;
}

/* A YAML double-quoted scalar. */
static void dump_string(const char *s, FILE *out)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void dump_value(const struct ps_config *cfg, const struct cfg_key *k,
		       FILE *out)
{
	const char *field = (const char *)cfg + k->off;
	const struct cfg_enum_name *n;
	char buf[64];
	const char *sep = "";
	uint32_t u, i;
	bool b;
	int e;

	switch (k->type) {
	case CFG_SECTION:
		break;
	case CFG_UINT:
	case CFG_SIZE:
		memcpy(&u, field, sizeof(u));
		fprintf(out, " %u", u);
		break;
	case CFG_BOOL:
		memcpy(&b, field, sizeof(b));
		fprintf(out, " %s", b ? "true" : "false");
		break;
	case CFG_STRING:
	case CFG_ENDPOINT:
	case CFG_ALLOW:
		fputc(' ', out);
		dump_string(field, out);
		break;
	case CFG_ENUM:
		memcpy(&e, field, sizeof(e));
		for (n = k->names; n->name; n++)
			if (n->value == e)
				break;
		fprintf(out, " %s", n->name ? n->name : "~");
		break;
	case CFG_LISTEN:
		fputs(" [", out);
		for (i = 0; i < cfg->listen_count; i++) {
			if (cfg->listen[i].proto != k->proto)
				continue;
			listen_format(&cfg->listen[i], buf, sizeof(buf));
			fprintf(out, "%s\"%s\"", sep, buf);
			sep = ", ";
		}
		fputc(']', out);
		break;
	case CFG_CPUS:
		fputs(" [", out);
		for (i = 0; i < cfg->cpu_count; i++)
			fprintf(out, "%s%u", i ? ", " : "", cfg->cpus[i]);
		fputc(']', out);
		break;
	case CFG_MAP:
		fputs(" {", out);
		for (i = 0; i < ((const struct ps_map *)field)->count; i++) {
			const struct ps_map_entry *me =
			    &((const struct ps_map *)field)->e[i];

			fputs(i ? ", " : "", out);
			dump_string(me->name, out);
			fputs(": ", out);
			dump_string(me->value, out);
		}
		fputc('}', out);
		break;
	}
}

static void dump_help(const char *help, int indent, FILE *out)
{
	while (*help) {
		const char *nl = strchr(help, '\n');
		int len = nl ? (int)(nl - help) : (int)strlen(help);

		fprintf(out, "%*s# %.*s\n", indent, "", len, help);
		help += len + (nl ? 1 : 0);
	}
}

static void dump(const struct ps_config *cfg, FILE *out, bool with_help)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cfg_keys); i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *leaf = strrchr(k->name, '.');
		int depth = 0;
		const char *p;

		for (p = k->name; *p; p++)
			depth += *p == '.';
		leaf = leaf ? leaf + 1 : k->name;
		if (with_help) {
			if (i == 0 || cfg_keys[i - 1].type != CFG_SECTION)
				fputc('\n', out);
			dump_help(k->help, 2 * depth, out);
		}
		fprintf(out, "%*s%s:", 2 * depth, "", leaf);
		dump_value(cfg, k, out);
		fputc('\n', out);
	}
}

void config_dump(const struct ps_config *cfg, FILE *out)
{
	char shown[CFG_SHOW_MAX * 4 + 4];

	fputs("# peerscope effective configuration (", out);
	if (cfg->path[0]) {
		cfg_escape(shown, sizeof(shown), cfg->path, strlen(cfg->path));
		fprintf(out, "file %s and command line", shown);
	} else
		fputs("defaults and command line", out);
	fputs(")\n", out);
	dump(cfg, out, false);
}

void config_dump_example(FILE *out)
{
	struct ps_config cfg;

	config_init(&cfg);
	fputs("# peerscope configuration: every key, set to its default.\n"
	      "#\n"
	      "# Generated by config_dump_example() from the key table in\n"
	      "# collector/config.c; tests/unit/test_config.c checks that "
	      "this file\n"
	      "# matches it (PEERSCOPE_UPDATE_EXAMPLE=1 test_config "
	      "rewrites it).\n"
	      "#\n"
	      "# Keys absent from a file keep their defaults; unknown and "
	      "duplicate keys\n"
	      "# are errors. On the command line, --set key=value takes the "
	      "dotted key\n"
	      "# (--set udp.batch=32) and, for lists, a comma-separated "
	      "value\n"
	      "# (--set cpus=0-3,8); the command line wins over the file.\n",
	      out);
	dump(&cfg, out, true);
}

enum ps_proto config_proto_for_port(const struct ps_config *cfg, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < cfg->listen_count; i++)
		if (cfg->listen[i].port == port)
			return cfg->listen[i].proto;
	return PS_PROTO_NONE;
}

const char *ps_proto_name(enum ps_proto p)
{
	if ((unsigned)p >= ARRAY_SIZE(proto_names) || proto_names[p] == NULL)
		return "none";
	return proto_names[p];
}
