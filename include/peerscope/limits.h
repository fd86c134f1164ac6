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
 * The connection registry (collector/conn/registry.h): configured
 * connections and what one may list.  A file past a cap is refused.
 */
#define CONN_MAX_CONNECTIONS 65536
#define CONN_MAX_PEER_ADDRESSES 64 /* per connection */
#define CONN_MAX_PEER_MACS	 64 /* per connection */
#define CONN_MAX_LABELS		 32 /* per connection */

/* Datagrams */
#define PS_MAX_DATAGRAM 65535

#endif /* PEERSCOPE_LIMITS_H */
