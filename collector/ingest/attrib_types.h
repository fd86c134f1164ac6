/*
 * attrib_types.h - the types of attribution (attrib.h says the rule): a
 * record's part, the routers a worker knows and the sides they meter, a
 * record's outcome.  A header of types alone, so that the worker's state
 * (worker_state.h) can hold them and attrib.c can use that state without
 * an include cycle.
 *
 * @thread worker.
 */
#ifndef PEERSCOPE_ATTRIB_TYPES_H
#define PEERSCOPE_ATTRIB_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "agg/traffic.h"
#include "base/htab.h"
#include "peerscope/addr.h"

/* An interface side metered within this long still counts as metered. */
#define ATTRIB_MARK_MEMORY_NS (3600ULL * 1000000000ULL)
/* A router is learnt this long from its first datagram: other sides of
 * flow records wait for the window's close, whatever it metered before. */
#define ATTRIB_LEARN_NS (300ULL * 1000000000ULL)

/* Which side a part was metered on: AGG_IN / AGG_OUT, or not stated. */
#define ATTRIB_METERED_NONE 2

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
	/* the time the part's bytes crossed, for the rate slots (a flow
	 * record placed by its times); to_ns 0: its arrival */
	uint64_t from_ns, to_ns;
	/* for the `out` side's breakdown by destination (rib_enrich.h):
	 * an sFlow sample, or the destination of a record's part (NULL
	 * when the record has none) */
	const struct sflow_flow_sample *sflow;
	const struct ps_addr *dst;
	bool direction_invalid; /* a direction was sent, neither 0 nor 1 */
	/* who it belongs to (agg/mix.h): the exporter's own AS fields (0 =
	 * not sent or unknown), its DSCP (0xFF: no IP header), and its
	 * source address for a RIB lookup and an exchange port's split
	 * (NULL: none; an sFlow sample's addresses are read from `sflow`) */
	uint32_t src_as, dst_as;
	uint8_t dscp;
	const struct ps_addr *src;
	/*
	 * Exchange ports (attrib_peer.c): the peer's MAC on each side when
	 * the record shows the frame as it crossed that side (the source
	 * MAC of side AGG_IN, the destination MAC of AGG_OUT), else NULL;
	 * a record's own BGP next hop (IPFIX 18/63), NULL when absent.
	 */
	const uint8_t *peer_mac[2];
	const struct ps_addr *bgp_next_hop;
};

/*
 * Whether a frame seen at side `seen` (AGG_IN, AGG_OUT, or
 * ATTRIB_METERED_NONE: not stated) shows side d of a part whose sides'
 * reasons are `reason` (ATTRIB_NONE: the side has an interface).  Not
 * stated: the one side with an interface; with both, the side it entered
 * by (ingress sampling is the common case).
 */
static inline bool attrib_frame_is_side(uint8_t seen, int d,
					const uint8_t reason[2])
{
	if (seen != ATTRIB_METERED_NONE)
		return seen == d;
	if (reason[!d] != ATTRIB_NONE)
		return reason[d] == ATTRIB_NONE;
	return d == 0 /* AGG_IN */;
}

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

struct conn_registry; /* conn/registry.h */

/*
 * A MAC learnt on an exchange port (attrib_peer.c): ARP or ND in a
 * sampled frame bound it to a peer address of one of the port's
 * connections.  Keyed by port and MAC; the connection is an index into
 * `registry` (an entry of an earlier registry is not used).
 */
struct neighbour_key {
	struct ps_addr router;
	uint32_t ifindex;
	uint8_t mac[6];
	uint8_t pad[2]; /* zeroed: keys are compared bytewise */
};

struct neighbour {
	struct neighbour_key key;
	const struct conn_registry *registry;
	uint32_t conn_index;
};

#endif /* PEERSCOPE_ATTRIB_TYPES_H */
