/*
 * attrib.h - where a flow record's or sample's traffic lands: the
 * direction rule, and the accounting that proves nothing went missing.
 *
 * One mechanism for sFlow samples and IPFIX / NetFlow records.  A record
 * describes packets that entered the router on one interface and left by
 * another; it is cut into `parts` of one direction each (a biflow has a
 * forward and a reverse part, RFC 5103), and each part counts as `in` on
 * its input interface and `out` on its output interface, the connection
 * sides it crossed.
 *
 * Direction (flow.direction).  A part may say on which side it was
 * metered (IPFIX flowDirection 61: ingress = `in` of the input
 * interface; sFlow: the data source is the input or output interface).
 * Its metered side always counts.  Its other side:
 *   both-sides    counts too (the exporter meters one direction only);
 *   metered-side  does not (the exporter meters both directions);
 *   auto          counts unless that interface side is itself metered by
 *                 the router (a record metered there was seen in the
 *                 window, or within ATTRIB_MARK_MEMORY_NS before it), so
 *                 an ingress-only exporter gets its `out` figures and one
 *                 metering both directions counts nothing twice.  The
 *                 first metered record of each interface side in each
 *                 window marks it (attrib_mark), and a part's other side
 *                 is decided as it arrives:
 *                   - marked: not counted;
 *                   - not marked, while the router meters that side
 *                     somewhere (it may be marked later in the window),
 *                     or for IPFIX/NetFlow while the router is learnt
 *                     (its first ATTRIB_LEARN_NS: egress records may come
 *                     a cache timeout after the ingress ones): the figures
 *                     wait in agg_conn.other for the window's close, and
 *                     count unless the side was marked by then
 *                     (attrib_window_close);
 *                   - else: counted at once (the common ingress-only
 *                     router pays a test of one word for the rule).
 *                 A router that starts metering a side late (sFlow,
 *                 after its first datagrams) double counts what it
 *                 metered both ways until its first record metered there.
 * A part that states no direction (no IE 61, a value other than 0/1,
 * such as Cisco's 255, or an sFlow data source that is neither of its
 * interfaces) counts on both sides.  A part whose metered side has no
 * interface while its other side has one contradicts itself: named
 * (`metered_interface_missing`) and counted on the other side.
 *
 * Attribution (exporter_health `traffic`).  A record is *attributed* when
 * at least one of its parts landed on at least one connection side; its
 * bytes and packets count as attributed for the parts that landed and as
 * unattributed, under the reason of their missing side, for those that
 * did not.  A side has no connection when its interface is 0 (unknown, or
 * the device itself), not exported at all, sFlow's "internal" 0x3FFFFFFF,
 * a discard or "multiple interfaces" format, or when the connection table
 * is full.  The reason of a part that landed nowhere is that of its
 * metered side, else of its input side.  Per exporter and window,
 * decoded = attributed + unattributed, for records, bytes and packets:
 * every record is classified once, when it is decoded, in the window it
 * arrives in.
 *
 * @thread worker (landing, window close); merge and JSON: merger.
 */
#ifndef PEERSCOPE_ATTRIB_H
#define PEERSCOPE_ATTRIB_H

#include <stdbool.h>
#include <stdint.h>

#include "base/htab.h"
#include "peerscope/addr.h"

/* An interface side metered within this long still counts as metered. */
#define ATTRIB_MARK_MEMORY_NS (3600ULL * 1000000000ULL)
/* A router is learnt this long from its first datagram: other sides of
 * flow records wait for the window's close, whatever it metered before. */
#define ATTRIB_LEARN_NS (300ULL * 1000000000ULL)

/* X(ENUM, "name"): why a side (or a whole part) has no connection. */
#define ATTRIB_REASONS(X)                                                      \
	X(NONE, "none")                                                        \
	X(NO_INTERFACE, "no_interface")		  /* ifIndex 0 */              \
	X(NOT_EXPORTED, "interface_not_exported") /* no IE 10 / 14 */          \
	X(INTERNAL, "internal")			  /* sFlow 0x3FFFFFFF */       \
	X(DISCARDED, "discarded")		  /* sFlow format 1 */         \
	X(MULTIPLE, "multiple_interfaces")	  /* sFlow format 2 */         \
	X(CONNECTION_CAP, "connection_cap")	  /* table full */

enum attrib_reason {
#define ATTRIB_ENUM(e, name) ATTRIB_##e,
	ATTRIB_REASONS(ATTRIB_ENUM)
#undef ATTRIB_ENUM
		ATTRIB_REASON_COUNT
};

const char *attrib_reason_name(enum attrib_reason r);

/* Which side a part was metered on: AGG_IN / AGG_OUT, or not stated. */
#define ATTRIB_METERED_NONE 2

struct traffic_counts {
	uint64_t records, bytes, packets;
};

/* Per exporter and window: what its records and samples became. */
struct agg_traffic {
	struct traffic_counts decoded;
	struct traffic_counts attributed;
	struct traffic_counts
		unattributed[ATTRIB_REASON_COUNT]; /* [0] unused */
	double unattributed_est_bytes; /* scaled by the sampling rate */
	double unattributed_est_packets;
	uint8_t basis_mask; /* 1 << enum flow_byte_basis of what it decoded */
};

/* Per exporter and window: what its records said about direction. */
struct agg_direction {
	uint8_t mode;		     /* enum ps_flow_direction in force */
	uint64_t ingress;	     /* parts metered on their input side */
	uint64_t egress;	     /* ... on their output side */
	uint64_t not_stated;	     /* no direction: both sides */
	uint64_t value_invalid;	     /* of not_stated: IE 61 neither 0 nor 1 */
	uint64_t metered_if_missing; /* metered side without interface */
	/* The router's, at the window's close: its interfaces metered in
	 * one direction only or in both, and the records (of all its
	 * exporters) whose other side was counted or not (auto). */
	uint32_t if_in_only, if_out_only, if_both;
	uint64_t other_counted, other_not_counted;
};

/* One direction of a record's traffic, ready to land (attrib_land). */
struct attrib_part {
	uint32_t ifindex[2]; /* AGG_IN, AGG_OUT */
	uint8_t reason[2];   /* ATTRIB_NONE: ifindex names a connection */
	uint8_t metered;     /* AGG_IN, AGG_OUT or ATTRIB_METERED_NONE */
	uint8_t basis;	     /* enum flow_byte_basis */
	bool flow_record;    /* IPFIX / NetFlow (else an sFlow sample) */
	bool rate_known;     /* `rate` was declared */
	bool from_pool;	     /* sFlow: weighted by the sample pool */
	uint32_t rate;	     /* declared rate, for the rate range */
	double weight;	     /* packets each sampled one stands for */
	uint64_t bytes;	     /* as exported / sampled, unscaled */
	uint64_t packets;
	/* for the `out` side's breakdown by destination (rib_enrich.h):
	 * an sFlow sample, or the destination of a record's part (NULL
	 * when the record has none) */
	const struct sflow_flow_sample *sflow;
	const struct ps_addr *dst;
	bool direction_invalid; /* a direction was sent, neither 0 nor 1 */
};

/*
 * Interface sides a router meters, known as records arrive: a side is
 * marked by its first metered record of each window, and stays marked
 * ATTRIB_MARK_MEMORY_NS (to twice that: two generations of bits).  For
 * ifIndex below ATTRIB_IFMAP_BITS, bits here (a test per record costs a
 * few instructions); above, the worker's `marks` table.
 */
#define ATTRIB_IFMAP_BITS 1024

struct attrib_ifmap {
	uint64_t gen_start_ns; /* of generation 0, the current one */
	uint64_t bits[2][2][ATTRIB_IFMAP_BITS / 64]; /* [generation][side] */
};

/* What a worker knows of one router across windows (attrib_router_of). */
struct attrib_router {
	uint64_t first_ns;	    /* its first datagram */
	uint64_t metered_ns[2];	    /* its last interface side marked */
	struct attrib_ifmap *ifmap; /* allocated at its first mark */
};

/*
 * A worker's routers: states at stable places (v, `cap` of them), found by
 * address through `index` (struct ps_addr -> slot).
 */
struct attrib_routers {
	struct htab index;
	struct attrib_router *v;
	uint32_t used, cap;
	struct htab marks; /* (slot, ifIndex) above ATTRIB_IFMAP_BITS */
};

struct worker;
struct agg_window;
struct agg_exporter;

/*
 * @thread worker.  The state of exporter `e`'s router, created at its
 * first datagram and looked up once per window (the slot is kept in `e`);
 * NULL when the table is full (then every other side waits for the
 * window's close).
 */
struct attrib_router *attrib_router_of(struct worker *w, struct agg_exporter *e,
				       const struct ps_addr *router,
				       uint64_t now_ns);

/* What became of one decoded record (or sample): attrib_account. */
struct attrib_outcome {
	uint64_t bytes, packets;	       /* decoded, all parts */
	uint64_t landed_bytes, landed_packets; /* of the parts that landed */
	double weight;			       /* to scale what did not */
	bool landed;			       /* any part, any side */
	uint8_t reason; /* enum attrib_reason of the first part that
			   * did not land */
	uint8_t basis;	/* enum flow_byte_basis */
};

/*
 * attrib_land(): land a part on the connections of a router in a window;
 * attrib_account(): a decoded record's outcome, into its exporter.  Both
 * in attrib_land.h (inline, per record).
 */

/*
 * @thread worker.  Mark side `d` of interface `ifindex` of router `r` as
 * metered at `now_ns`; is it marked?  (attrib_marked() in attrib_land.h
 * tests the bits inline and calls attrib_marked_far above them.)
 */
void attrib_mark(struct attrib_routers *t, struct attrib_router *r,
		 uint32_t ifindex, int d, uint64_t now_ns);
bool attrib_marked_far(const struct attrib_routers *t,
		       const struct attrib_router *r, uint32_t ifindex, int d,
		       uint64_t now_ns);

/* @thread worker.  The worker's routers (attrib_router_of) and their
 * marks; release with attrib_state_fini. */
int attrib_state_init(struct attrib_routers *routers, uint32_t max_conns,
		      uint32_t max_routers);
void attrib_state_fini(struct attrib_routers *routers);

/*
 * @thread worker.  Before a window leaves the worker: decide each
 * connection side's other-side figures (auto), remember which sides were
 * metered, and give every exporter its router's interface summary.
 */
void attrib_window_close(struct worker *w, struct agg_window *win);

/* Merger: fold one worker's figures into the merged window's. */
void agg_traffic_merge(struct agg_traffic *d, const struct agg_traffic *s);
void agg_direction_merge(struct agg_direction *d,
			 const struct agg_direction *s);

struct jbuf;
/* exporter_health: the "traffic" and "direction" objects. */
void attrib_traffic_json(struct jbuf *j, const struct agg_traffic *t);
void attrib_direction_json(struct jbuf *j, const struct agg_direction *d);

/* "ip", "frame", "frame_with_fcs", "exported_section", "mixed" or NULL. */
const char *attrib_basis_name(uint8_t basis_mask);

#endif /* PEERSCOPE_ATTRIB_H */
