/*
 * limits.h - every cap that bounds work or memory on hostile input.
 * One place, named, so a reviewer can see the ceilings at a glance.
 */
#ifndef PEERSCOPE_LIMITS_H
#define PEERSCOPE_LIMITS_H

/* sFlow */
#define SFLOW_MAX_SAMPLES_PER_DATAGRAM	 256 /* more is refused as invalid */
#define SFLOW_MAX_RECORDS_PER_SAMPLE	 64
#define SFLOW_MAX_HEADER_BYTES		 1024 /* sampled header bytes we look into */
#define SFLOW_MAX_AS_PATH		 32 /* ASNs kept from extended gateway */
#define SFLOW_MAX_COMMUNITIES		 32
#define SFLOW_MAX_MPLS_LABELS		 8 /* labels kept from extended MPLS */
#define SFLOW_MAX_IF_COUNTERS_PER_SAMPLE 8 /* generic if records per sample */

/* Sampled packet headers */
#define PKT_MAX_VLANS	     4 /* 802.1Q tags walked (QinQ and deeper) */
#define ND_MAX_OPTIONS	     8 /* IPv6 ND options walked for a link-layer address */
/* MACs learnt from ARP / ND on exchange ports, per worker (LRU beyond) */
#define WORKER_NEIGHBOURS_MAX 16384
#define PKT_MAX_MPLS	     8 /* MPLS label stack entries walked */
#define PKT_MAX_IPV6_EXT     8 /* IPv6 extension headers walked */
#define PKT_MAX_TUNNEL_DEPTH 1 /* one inner header (VXLAN/GRE) decoded */
#define SFLOW_MAX_VLAN_STACK PKT_MAX_VLANS /* VLAN tunnel stack kept */

/*
 * Windows: besides its current window, a worker keeps at most this many
 * earlier ones open for flow.window_grace_seconds, so a flow record that
 * arrives late can still be apportioned over the windows it spans.  With
 * short windows and a long grace the oldest is closed early (memory is
 * bounded by this, not by grace / window).  Below MERGER_MAX_PENDING.
 */
#define PS_MAX_OPEN_WINDOWS 4

/* IPFIX over TCP (collector/ipfix_tcp.c): connections on worker 0, and
 * each one's receive buffer: one largest message (65535) plus a partial. */
#define PS_MAX_IPFIX_TCP_CONNS 64
#define IPFIX_TCP_BUF_BYTES    (2 * 65536)

/*
 * Replay's TCP streams (collector/stream_sync.c): bytes searched for a
 * message start (a capture that began mid-stream, a hole it never filled)
 * before the stream is abandoned.  A BMP message is at most
 * BMP_MAX_MSG_LEN (1 MiB), an IPFIX one 64 KiB: a live stream shows a
 * message start within that many bytes of any point.
 */
#define PS_STREAM_RESYNC_MAX (1u << 20)

/*
 * Peering connections (issue 11).  Top-N heavy hitters (collector/topn.h):
 * the capacity k one summary's bound is stated for (it monitors up to 2k
 * keys, 20 bytes a slot), and the N a message may publish (k = 8N).
 */
#define TOPN_MAX_CAPACITY 127 /* 2k slot numbers fit a byte */
#define TOPN_MAX_N	  15  /* 8N <= TOPN_MAX_CAPACITY */

/*
 * Interval rates and percentiles (collector/rateslots.h): sample slots in
 * one window (a longer window gets wider slots: 360 = one hour of 10 s
 * slots), and counter intervals kept per window before neighbouring rates
 * are averaged in pairs (360 = one hour of 10 s polling).
 */
#define RATESLOTS_MAX_SLOTS	360
#define RATESLOTS_MAX_INTERVALS 360

/*
 * IX data imports (collector/ixdata.h): IX-F Member Export and PeeringDB
 * netixlan files.  A file past a cap is refused, never truncated.  The
 * whole file is parsed in memory (json-c): about 10 x its size at peak
 * (176 MB for 17.5 MB of netixlan, tests/bench/bench_peering.c).
 */
#define IXDATA_MAX_FILE_BYTES	  (64u << 20)
#define IXDATA_MAX_JSON_DEPTH	  16	 /* IX-F needs 11 (json-c counts) */
#define IXDATA_MAX_ENTRIES	  131072 /* PeeringDB had ~50,000 netixlan */
#define IXDATA_MAX_MACS_PER_ENTRY 8
#define IXDATA_MAX_IXPS		  64  /* IX-F ixp_list */
#define IXDATA_MAX_LANS		  256 /* IX-F ixp_list[].vlan, all IXPs */

/*
 * The state-file writer (collector/xthread/statewriter.h): snapshots
 * waiting for the disk.  One per file at most (a newer one replaces a
 * waiting one), so only more files than this (workers) can fill it.
 */
#define PS_STATE_WRITER_QUEUE 16

/*
 * The connection registry (collector/conn/registry.h): configured
 * connections and what one may list.  A file past a cap is refused.
 */
#define CONN_MAX_CONNECTIONS 65536
#define CONN_MAX_PEER_ADDRESSES 64 /* per connection */
#define CONN_MAX_PEER_MACS	 64 /* per connection */
#define CONN_MAX_LABELS		 32 /* per connection */

/* Datagrams */
#define PS_MAX_DATAGRAM 65535

/*
 * Moved here from the files that use them (issue 10): the comment after
 * each names that file.
 */

/* Decoders: what one message may make us keep or walk */
/* fields per template; more is refused (peerscope/ipfix.h) */
#define IPFIX_MAX_FIELDS 64
/* Cisco's limit; more is refused as invalid (peerscope/netflow5.h) */
#define NF5_MAX_RECORDS 30
/* mplsTopLabelStackSection (70) .. 72 (peerscope/flow.h) */
#define FLOW_MAX_MPLS 3
/* unmapped fields kept per record (peerscope/flow.h) */
#define FLOW_MAX_EXTRA 16
#define BMP_MAX_MSG_LEN (1u << 20) /* peerscope/bmp.h */
#define BMP_MAX_TLVS 16 /* peerscope/bmp.h */
#define BMP_MAX_STATS 32 /* peerscope/bmp.h */
#define BGP_MAX_CAPS 32 /* peerscope/bgp.h */
/* ASNs kept; longer paths are counted (peerscope/bgp.h) */
#define BGP_MAX_AS_PATH 128
#define BGP_MAX_SEGMENTS 32 /* peerscope/bgp.h */

/* Workers' flow state: hostile exporters stay within these */
/* live templates per worker (ingest/ingest_ipfix.h) */
#define FLOW_MAX_TEMPLATES 2048
/* sampling / boot-time entries (ingest/ingest_ipfix.h) */
#define FLOW_MAX_SAMPLERS 4096
/* data sets waiting for a template (ingest/ingest_ipfix.h) */
#define FLOW_HELD_MAX 32
/* per exporter address, so one exporter cannot take every held slot */
#define FLOW_HELD_MAX_PER_EXPORTER 8 /* ingest/ingest_ipfix.h */
/* larger sets are not held (ingest/ingest_ipfix.h) */
#define FLOW_HELD_MAX_BYTES 9000
#define FLOW_HELD_MAX_AGE_NS (60ULL * 1000000000ULL) /* ingest/ingest_ipfix.h */
#define JUNK_MAX_SOURCES 32 /* agg/junk.h */
#define EXPTOTALS_MAX 1024 /* xthread/exptotals.h */

/* Threads, publication and the merger */
#define PS_MAX_WORKERS 64 /* base/config_types.h */
/* 3 protocols x 2 defaults leave room for 18 (base/config_types.h) */
#define PS_MAX_LISTEN 24
#define PS_MAP_MAX 32 /* base/config_types.h */
#define NETADDR_ALLOW_MAX 64 /* base/netaddr.h */
/* windows held open waiting for slow workers (publish/merger.h) */
#define MERGER_MAX_PENDING 8
#define MERGER_MAX_SINKS 4 /* publish/merger.h */
#define STATS_MAX_SINKS MERGER_MAX_SINKS /* xthread/stats.h */
/* one per flow worker (PS_MAX_WORKERS) and the merger's */
#define EPOCH_MAX_READERS 65 /* xthread/epoch.h */
#define EPOCH_MAX_RETIRED 64 /* xthread/epoch.h */
#define CFGPUB_MAX_GENS 64 /* xthread/cfgpub.h */
#define JSON_MAX_DEPTH 16 /* base/json.h */
#define LOG_LIMIT_SLOTS 64 /* event keys tracked per limiter (base/log.h) */

/* BMP, RIB, HTTP, probes */
#define BMP_GAUGE_MAX_ROUTERS 16 /* bmp/bmp_gauge.h */
#define RIB_REGISTRY_ROUTERS 64 /* rib/rib_lookup.h */
/* peer-state publications kept per router (rib/rib_lookup.h) */
#define RIB_PEER_HISTORY 8
/* ASNs kept per route for enrichment (rib/rib_snap.h) */
#define RIB_INFO_AS_PATH 16
#define RIB_INFO_COMM 8 /* communities kept per route (rib/rib_snap.h) */
/* per connection: request + headers (ops/http.h) */
#define HTTP_MEMORY_LIMIT (16 * 1024)
/* connections accepted per loop turn (ops/http.h) */
#define HTTP_ACCEPT_BURST 32
#define PROBE_MAX_TARGETS (1u << 20) /* probe/probe_types.h */
#define PROBE_MAX_PENDING 64 /* probes in flight per slot (probe/probe_int.h) */
/* sends remembered for TX timestamps (probe/probe_int.h) */
#define PROBE_TXMAP 4096

/* Replay and peerscope top */
/* UDP flows whose protocol is kept; past it, each datagram is recognised */
#define UDP_FLOWS_MAX 65536 /* replay/replay.c */
#define TCP_REASM_MAX_STREAMS 65536 /* replay/tcp_reasm.h */
#define TCP_REASM_MAX_OOO_SEGS 4096 /* replay/tcp_reasm.h */
#define TCP_REASM_MAX_OOO_BYTES (8u << 20) /* replay/tcp_reasm.h */
#define TCP_REASM_MAX_OOO_TOTAL (256u << 20) /* replay/tcp_reasm.h */
/* open at once, as in bmp_replay.h (replay/bmp_replay.c) */
#define BMP_REPLAY_MAX_SESSIONS 1024
#define REPLAY_PORTS_MAX 4096 /* run/replay_ports.h */
/* connections and sessions shown at most (top/top.c) */
#define TOP_MAX_ROWS 4096
#define TOP_MAX_PARTITIONS 1024 /* top/top.c */

#endif /* PEERSCOPE_LIMITS_H */
