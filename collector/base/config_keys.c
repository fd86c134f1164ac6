/* config_keys.c - the key table.  See config_keys.h. */
#include <string.h>

#include "base/config_keys.h"
#include "base/flow_override.h"
#include "base/netaddr.h"
#include "peerscope/limits.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

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
#define KEY_DECIMAL(n, field, lo, hi, d, h) \
	{ .name = n, .type = CFG_DECIMAL, .off = OFF(field), .min = lo, \
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
const struct cfg_key cfg_keys[] = {
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

	KEY_SECTION("top",
		"Who the traffic belongs to: per connection and direction, "
		"the heaviest\nsource ASNs, destination ASNs and DSCP classes "
		"by bytes (docs/connections.md)."),
	KEY_UINT("top.n", top_n, 0, TOPN_MAX_N, "10",
		"Entries published per list (0..15); the rest is summed as "
		"`other`.\n0 turns the breakdown off (and its cost per "
		"sample)."),

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

	KEY_SECTION("status",
		"A configured connection's `status` (up, down, degraded, "
		"unknown) and its\n`status_reasons`, derived per window from "
		"its BGP sessions over BMP and\nthe thresholds below; a "
		"change publishes a connection_event message. See\n"
		"docs/connections.md \"Status\"."),
	KEY_SECTION("status.degraded",
		"Sessions up, but a figure above one of these: `degraded` "
		"with the reason.\n0 turns a threshold off."),
	KEY_DECIMAL("status.degraded.utilisation_pct",
		status.utilisation_pct, 0, 100, "90",
		"Mean bits/s of the window in either direction "
		"(connection_metrics\nin/out.rate), as a percentage of the "
		"connection's capacity (else the\ninterface's ifSpeed): "
		"utilisation.in / out."),
	KEY_DECIMAL("status.degraded.errors_pct", status.errors_pct, 0, 100,
		"0.1", "Interface errors plus discards (counter samples) in "
		"either direction,\nas a percentage of that direction's "
		"packets."),
	KEY_DECIMAL("status.degraded.drop_pct", status.drop_pct, 0, 100, "1",
		"Packets the router reports dropped of what came in (sFlow "
		"discarded-packet\nsamples, one each, and flow samples whose "
		"output is a discard code, by\ntheir sampling rate), as a "
		"percentage of the connection's packets in:\ndrops.drop_pct."),
	KEY_DECIMAL("status.degraded.probe_loss_pct", status.probe_loss_pct,
		0, 100, "5", "Probe loss of any probe method of the "
		"connection (loss_pct)."),
	KEY_DECIMAL("status.degraded.probe_p99_ms", status.probe_p99_ms, 0,
		600000, "0", "p99 RTT in ms of any probe method of the "
		"connection; 0 (the\ndefault) = off: what is slow depends "
		"on the distance."),
	KEY_SECTION("latency",
		"Passive latency from what the routers export (tcp_info, "
		"device_transit,\npath_delay, app_network, tcp_handshake); "
		"see docs/latency.md."),
	KEY_UINT("latency.max_ms", latency.max_ms, 1, 600000, "60000",
		"Latency values above this are impossible and left out of "
		"the figures\n(counted as above_max), as are negative and "
		"zero ones."),
	KEY_UINT("latency.handshake_entries", latency.handshake_entries, 16,
		1U << 24, "65536",
		"TCP handshakes waiting for their SYN/ACK or ACK (tcp_handshake), "
		"per worker;\nat the cap the least recently seen makes room."),
	KEY_UINT("latency.handshake_timeout_ms", latency.handshake_timeout_ms,
		10, 60000, "3000",
		"A SYN/ACK or ACK later than this after its SYN or SYN/ACK "
		"pairs with\nnothing (a retransmission, or a lost sample)."),

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
	KEY_STRING("ixf_member_export", ixf_member_export, "-",
		"An IX-F Member Export (JSON) giving the peer addresses and "
		"MACs of\nexchange connections that list a peer_asn and no "
		"peer_macs /\npeer_addresses (docs/connections.md). Read at "
		"start and on SIGHUP;\na malformed file is refused and the "
		"previous data stays. \"-\" = none."),
	KEY_STRING("peeringdb_netixlan", peeringdb_netixlan, "-",
		"A PeeringDB netixlan dump (JSON): peer addresses (no MACs) "
		"of\nexchange connections that list a peer_asn, as "
		"ixf_member_export.\n\"-\" = none."),
};

/* clang-format on */

_Static_assert(ARRAY_SIZE(cfg_keys) <= PS_CFG_MAX_KEYS,
	       "raise PS_CFG_MAX_KEYS in config.h");

const size_t cfg_nkeys = ARRAY_SIZE(cfg_keys);

const struct cfg_key *cfg_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < cfg_nkeys; i++)
		if (strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	return NULL;
}

bool cfg_is_list(const struct cfg_key *k)
{
	return k->type == CFG_LISTEN || k->type == CFG_CPUS;
}
