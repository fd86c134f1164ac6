/*
 * traffic.h - what became of an exporter's traffic in a window: decoded,
 * attributed, unattributed by reason (decoded = attributed +
 * unattributed), and what its records said of direction.  Kept per
 * exporter in the window tables (agg.h); filled by the worker's landing
 * of each record (ingest/attrib.h says the rule), merged by the merger,
 * written into exporter_health.
 *
 * @thread worker (filling, in ingest/); merge and JSON: merger.
 */
#ifndef PEERSCOPE_TRAFFIC_H
#define PEERSCOPE_TRAFFIC_H

#include <stdint.h>

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

#endif /* PEERSCOPE_TRAFFIC_H */
