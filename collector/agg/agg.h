/*
 * agg.h - per-worker aggregation of one time window.
 *
 * A worker owns exactly one open `struct agg_window` at a time.  When the
 * window closes, the whole struct is handed to the merger through the
 * worker's SPSC ring (ownership moves with the pointer) and the worker
 * opens a fresh one.  Nothing in a window is shared while it is open.
 *
 * A connection is auto-discovered as (agent address, ifIndex): traffic a
 * flow sample saw *entering* on ifIndex counts as the connection's `in`,
 * traffic *leaving* by it as `out`, matching ifInOctets/ifOutOctets.
 */
#ifndef PEERSCOPE_AGG_H
#define PEERSCOPE_AGG_H

#include <stdbool.h>
#include <stdint.h>

#include "agg/flow_health.h"
#include "agg/junk.h"
#include "agg/mix.h"
#include "agg/latency.h"
#include "agg/rateslots.h"
#include "agg/traffic.h"
#include "base/htab.h"
#include "base/netaddr.h"
#include "conn/registry.h"
#include "peerscope/addr.h"
#include "peerscope/dec_stats.h"
#include "rib/rib_enrich.h"

enum agg_dir { AGG_IN = 0, AGG_OUT = 1 };

struct conn_rates_out; /* agg/conn_rates.h */

/*
 * A window's entry: an interface of a router, or one peer's share of an
 * exchange port (conn/registry.h).  `peer`: 0 = the interface itself (a
 * discovered or direct connection, or an exchange port as a whole:
 * every sample, and the interface counters); 1 + the registry index of
 * an exchange connection on that port: the samples attributed to it;
 * AGG_PEER_UNATTRIBUTED: the port's samples that matched no peer.  On an
 * exchange port, the port's figures = the peers' + the unattributed.
 */
struct conn_key {
	struct ps_addr router; /* sFlow agent / exporter address */
	uint8_t pad[3];        /* zeroed: keys are compared bytewise */
	uint32_t ifindex;
	uint32_t peer;
};

#define AGG_PEER_UNATTRIBUTED UINT32_MAX

/* How an exchange peer's samples were attributed (agg_conn.by). */
enum agg_attrib_by {
	AGG_BY_MAC = 0,	     /* its MAC in the sampled frame / record */
	AGG_BY_LEARNT_MAC,   /* a MAC learnt from ARP / ND (neighbours) */
	AGG_BY_NEXT_HOP,     /* out: the BGP next hop of the destination */
	AGG_BY_ANNOUNCER,    /* in: the peer announcing the source prefix */
	AGG_BY_PEER_ADDRESS, /* the source (in) / destination (out) is one
				of its peer_addresses: the session itself */
	AGG_BY_COUNT
};

/* Flow samples scaled up: an estimate. */
struct agg_sampled {
	uint64_t samples;         /* flow samples seen */
	uint64_t frame_bytes;     /* sum of sampled frame lengths (unscaled) */
	double est_packets;       /* sum of each sample's weight */
	double est_bytes;         /* sum of weight * frame length */
	uint32_t rate_min;        /* declared sampling rates seen */
	uint32_t rate_max;
	uint64_t pool_weighted;   /* samples weighted by the sample pool */
	uint64_t discards;        /* discarded-packet samples (0:5) */
	uint64_t rate_unknown;    /* flow records counted at rate 1: unknown */
	uint64_t flow_records;    /* of samples: IPFIX/NetFlow records */
	uint64_t flow_packets;    /* their packet counts as exported */
};

/* Interface counter deltas: exact. */
struct agg_counted {
	uint64_t octets;
	uint64_t packets;        /* unicast + multicast + broadcast */
	uint64_t errors;
	uint64_t discards;
	uint64_t interval_ms;    /* exporter time the deltas cover */
	uint32_t deltas;         /* counter samples that gave a delta */
};

/* A connection's other-side figures (agg_conn.other). */
struct agg_conn_other {
	struct agg_sampled sampled[2]; /* enum agg_dir */
	uint8_t basis[2];	       /* as agg_conn.basis */
	struct agg_origin origin;      /* sampled[AGG_OUT]'s destinations */
	struct agg_mix *mix;	       /* as agg_conn.mix, of sampled[] */
	struct rateslots rates[2];     /* as agg_conn.rates, of sampled[] */
};

/*
 * Drops of the packets that came in by a connection (agg_conn.drops):
 * sFlow discarded-packet samples (0:5, one drop each: the agent reports
 * drops one by one, rate-limited, not sampled) and flow samples whose
 * output is a discard code (output format 1: a sampled packet, weight x
 * sampling rate).  By reason: the sFlow drop reason codes (0..255 the
 * ICMP unreachable codes, 256 unknown, 257.. the drops extension's; a
 * flow sample's output code is one of the first 257).  The first
 * AGG_DROP_REASONS codes seen are kept, the rest summed as other.
 */
#define AGG_DROP_REASONS 8
struct agg_drops {
	uint64_t discard_samples; /* 0:5 samples */
	uint64_t flow_samples;	  /* flow samples with a discard output */
	double est_packets;	  /* discard_samples + flow samples x weight */
	uint32_t n;		  /* reasons[] in use */
	struct agg_drop_reason {
		uint32_t code;
		double packets;
	} reason[AGG_DROP_REASONS];
	double other_packets; /* reasons past the first AGG_DROP_REASONS */
};

struct agg_conn {
	struct conn_key key;
	/*
	 * flow.direction auto (attrib.h): what records metered on the other
	 * side of their path would add to each side, allocated on first use
	 * (out of line: most connections never need it, and the table stays
	 * small); folded in or dropped when the window closes, never seen by
	 * the merger.  metered[d]: a record metered on this side landed here
	 * in this window.  Next to the key, whose line a lookup touched.
	 */
	struct agg_conn_other *other;
	/* passive latency (latency.h), allocated at the first value; the
	 * merger merges it and frees it with its window */
	struct agg_latency *lat;
	uint32_t router_slot; /* its router's state (attrib.h), 0 none */
	bool metered[2];
	/* 1 << enum flow_byte_basis of the bytes in sampled[d] (here, on
	 * a line a lookup touched, not on one of its own) */
	uint8_t basis[2];
	/* top.n: the parts adding up before they go to `mix` (mix.h) */
	struct mix_run run[2];
	struct agg_sampled sampled[2]; /* enum agg_dir */
	struct agg_counted counted[2];
	uint64_t if_speed;        /* last ifSpeed, bits/s (0 unknown) */
	uint32_t if_status;       /* last ifStatus: bit0 admin, bit1 oper */
	uint32_t counter_samples; /* counter records seen for this ifIndex */
	uint32_t counter_resets;  /* discontinuities: no delta taken */
	bool has_status;
	struct agg_origin dst_origin; /* "out" by origin AS (rib_enrich.h) */
	/* By ASN and DSCP (mix.h), allocated at the first byte landed with
	 * top.n > 0; owned by the table that holds the connection
	 * (agg_conn_release). */
	struct agg_mix *mix;
	/*
	 * Never folded away by a window cap: its router is named alone in
	 * udp.allow (the connection registry, issue 11, will set it for
	 * configured connections too).  Set when the entry is made.
	 */
	bool pinned;
	/* The configured port of (router, ifindex) in the window's
	 * registry, or NULL (discovered); set when the entry is made. */
	const struct conn_port *port;
	/* An exchange peer's entry: samples attributed per direction and
	 * how (enum agg_attrib_by). */
	uint64_t by[2][AGG_BY_COUNT];
	/* Set by the merger when it publishes the window (conn_bgp.h), for
	 * the /metrics gauge; the zero a worker leaves means unknown. */
	enum agg_bgp_state { AGG_BGP_UNKNOWN = 0, AGG_BGP_UP, AGG_BGP_DOWN }
		bgp_state;
	/*
	 * Out of the sample path's lines, at the end: per-interval rates of
	 * sampled[] (10 s slots, taken at each slot's end) and counted[]
	 * (counter intervals), for the mean and p95 (rateslots.h); drops of
	 * what came in by it (struct agg_drops), allocated at the first,
	 * owned like lat; and the merger's published figures (struct
	 * conn_rates_out), set when it publishes, for /metrics.
	 */
	struct rateslots rates[2];
	struct agg_drops *drops;
	struct conn_rates_out *rates_out;
};

/*
 * An exporter: one exporting process.  Two processes on one host (NetFlow
 * v9 and IPFIX, or two with the same observation domain) differ by their
 * source port or version, so each keeps its own sequence numbers.
 */
struct exp_key {
	struct ps_addr source;   /* UDP source address of the datagrams */
	struct ps_addr agent;    /* sFlow agent; flows: the source again */
	uint16_t port;           /* UDP source port */
	uint8_t version;         /* 0 sFlow; flows: 5, 9 or 10 */
	uint8_t pad[3];          /* zeroed: keys are compared bytewise */
	uint32_t sub_agent;      /* sFlow sub-agent; flows: domain / source
				  * id / v5 engine type << 8 | id */
};

/* Sequence accounting: numbers apart, so loss is not confused with restarts. */
struct seq_counts {
	uint64_t lost;        /* numbers skipped forward */
	uint64_t reordered;   /* arrived behind the highest seen */
	uint64_t duplicates;  /* equal to the last */
	uint64_t restarts;    /* exporter restarted (sequence went back far) */
};

struct agg_exporter {
	struct exp_key key;
	uint64_t datagrams;
	uint64_t bytes;
	uint64_t datagrams_rejected; /* nothing usable: header or sample walk broke */
	uint64_t flow_samples;
	uint64_t counter_samples;
	uint64_t discard_samples;
	uint64_t expanded_samples;
	uint64_t flow_records;
	uint64_t counter_records;
	struct seq_counts datagram_seq;
	struct seq_counts sample_seq;
	uint64_t first_seen_ns;
	uint64_t last_seen_ns;
	uint64_t heard_since_ns; /* first datagram since start (0 unknown) */
	uint32_t router_slot;    /* worker: its router's state (attrib.h) */
	uint64_t worker_mask;    /* merger: workers that carried it (bit w%64) */
	bool pinned;             /* as agg_conn's: its source named alone */
	struct dec_stats errors;
	struct agg_traffic traffic;     /* decoded = attributed + unattributed */
	struct agg_direction direction; /* what records said of direction */
	struct agg_flow_health flow; /* IPFIX / NetFlow only (version != 0) */
};

struct agg_window {
	uint64_t start_ns;
	uint64_t end_ns;
	unsigned worker;
	bool final;              /* the worker's last window (shutdown/end) */
	struct htab conns;       /* struct agg_conn */
	struct htab exporters;   /* struct agg_exporter */
	uint64_t kernel_drops;   /* SO_RXQ_OVFL drops on this worker's sockets */
	uint64_t conns_refused;  /* connection cap reached */
	uint32_t conn_others;    /* agg_conn.other allocated (attrib.c) */
	uint64_t mixes_refused;  /* parts not in agg_conn.mix: no memory */
	uint32_t conn_latencies; /* agg_conn.lat allocated */
	uint64_t latency_no_memory; /* values lost: no agg_conn.lat */
	uint64_t exporters_refused;
	/* slots of the window's rates (rateslots.h); values a rates array
	 * could not take (no memory) */
	struct rateslots_geom geom;
	uint64_t rates_no_memory;
	/* the slot samples land in now, and when it ends: the samples'
	 * estimated bytes reach the slots at each slot's end (agg_window_tick) */
	uint32_t slot_cur;
	uint64_t slot_end_ns;
	struct junk_table junk;  /* datagrams of no exporter (junk.h) */
	/*
	 * Caps on unpinned entries (limits.*_per_worker); pinned ones may
	 * use AGG_PINNED_RESERVE() more.  `pins`: the addresses that pin
	 * (the worker's udp.allow, netaddr_allow_names()), NULL = none.
	 */
	uint32_t max_conns, max_exporters;
	const struct netaddr_allow *pins;
	/* The configured connections of this window (its configuration
	 * generation's); NULL = none.  Their entries are pinned. */
	const struct conn_registry *registry;
	/* a peer's entry could not be made: published with conns_refused
	 * (window_other connections.refused, /metrics) */
	uint64_t peers_refused;
};

/* Room a window keeps beyond its cap for pinned entries. */
#define AGG_PINNED_RESERVE(cap) ((cap) / 4 + 16)

struct agg_window *agg_window_new(unsigned worker, uint64_t start_ns,
				  uint64_t end_ns, uint32_t max_conns,
				  uint32_t max_exporters);
void agg_window_free(struct agg_window *win);

/* The connection, created on first use; NULL when the cap refuses it
 * (past the cap only pinned ones are made, up to the reserve). */
struct agg_conn *agg_conn_get(struct agg_window *win,
			      const struct ps_addr *router, uint32_t ifindex);

/*
 * The entry of exchange peer `peer` (conn_key.peer) on the port of the
 * window's entry `port` (copied: `port` may move); NULL when none can be
 * made (counted in peers_refused).  Made pinned.
 */
struct agg_conn *agg_peer_get(struct agg_window *win,
			      const struct conn_key *port, uint32_t peer);
/* The connection if it is in the window, else NULL (nothing made). */
struct agg_conn *agg_conn_find(struct agg_window *win,
			       const struct ps_addr *router, uint32_t ifindex);

struct agg_exporter *agg_exporter_get(struct agg_window *win,
				      const struct exp_key *key,
				      uint64_t now_ns);

/* The connection's latency figures, made at first use (NULL: out of
 * memory, counted in latency_no_memory). */
struct agg_latency *agg_conn_latency(struct agg_window *win,
				     struct agg_conn *c);

/* Bytes over [from_ns, to_ns) into rates `rs` of window win (a flow
 * record placed by its times; rateslots_add_span()). */
static inline void agg_rate_span(struct agg_window *win, struct rateslots *rs,
				 uint64_t from_ns, uint64_t to_ns,
				 double bytes)
{
	if (rateslots_add_span(rs, &win->geom, from_ns, to_ns, bytes) == -1)
		win->rates_no_memory++;
}

/*
 * The window's clock is now_ns: at the end of a slot, the bytes each
 * connection's samples added since the last slot's end go to that slot
 * (rateslots_take(): nothing per sample), and later samples to the slot
 * now_ns is in.  Called before each datagram; one compare until a slot
 * ends, then O(connections).
 */
void agg_window_slot_end(struct agg_window *win, uint64_t now_ns);
static inline void agg_window_tick(struct agg_window *win, uint64_t now_ns)
{
	if (now_ns >= win->slot_end_ns)
		agg_window_slot_end(win, now_ns);
}
/* The current slot takes what the samples added since its start (the
 * window stops taking samples: it closes or is held for grace). */
void agg_window_slots_flush(struct agg_window *win);

/* The connection's drops, made at first use (NULL: out of memory). */
struct agg_drops *agg_conn_drops(struct agg_conn *c);
/* `packets` drops of sFlow reason `code` (agg_drops). */
void agg_drops_add(struct agg_drops *d, uint32_t code, double packets);

/* Add one block of sampled figures into another. */
void agg_sampled_fold(struct agg_sampled *d, const struct agg_sampled *s);

/*
 * Nothing was counted on the connection: it was created only for
 * other-side figures that flow.direction then dropped (attrib.h).
 */
static inline bool agg_conn_is_empty(const struct agg_conn *c)
{
	for (int d = AGG_IN; d <= AGG_OUT; d++)
		if (c->sampled[d].samples != 0 || c->sampled[d].discards != 0 ||
		    c->counted[d].deltas != 0)
			return false;
	return c->counter_samples == 0 && c->counter_resets == 0 &&
	       (c->drops == NULL || c->drops->est_packets == 0) &&
	       (c->lat == NULL || agg_latency_is_empty(c->lat));
}

/* Fold one window's figures into another (merger); src keeps its own.
 * Rates are not summed (a percentile of a sum of connections is not
 * theirs): agg_conn_rates_merge() does it where dst is one connection. */
void agg_conn_merge(struct agg_conn *dst, const struct agg_conn *src);
/* dst's rates += src's, both of geometry g.  0, or -1 out of memory
 * (a direction left unmerged: the caller counts it). */
int agg_conn_rates_merge(struct agg_conn *dst, const struct agg_conn *src,
			 const struct rateslots_geom *g);
/* What a connection owns out of line (mix, other, latency), freed (before its table entry is
 * removed or its table freed). */
void agg_conn_release(struct agg_conn *c);
void agg_exporter_merge(struct agg_exporter *dst,
			const struct agg_exporter *src);

void seq_counts_add(struct seq_counts *dst, const struct seq_counts *src);

/* Start of the window of length `len_ns` that holds `t_ns`. */
static inline uint64_t agg_window_start(uint64_t t_ns, uint64_t len_ns)
{
	return t_ns - t_ns % len_ns;
}

#endif /* PEERSCOPE_AGG_H */
