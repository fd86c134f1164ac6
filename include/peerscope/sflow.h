/*
 * sflow.h - sFlow v5 datagrams as decoders/sflow.c hands them out.
 *
 * Usage (iterator, no allocation):
 *     struct sflow_iter it; struct sflow_datagram d; struct sflow_sample s;
 *     if (sflow_datagram_open(&it, buf, len, &d, st) == -1) drop (counted);
 *     while ((rc = sflow_next_sample(&it, &s, st)) == 1) use(&s);
 *     rc == 0: clean end; rc == -1: the rest of the datagram was unusable
 *     (counted); samples already returned stay valid.
 *
 * Pointers inside a sample (header bytes, strings) borrow from the datagram
 * buffer and live as long as it does.  A sample struct is reused: only the
 * records flagged in `present` hold meaning for the current sample.
 */
#ifndef PEERSCOPE_SFLOW_H
#define PEERSCOPE_SFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peerscope/addr.h"
#include "peerscope/cursor.h"
#include "peerscope/dec_stats.h"
#include "peerscope/limits.h"
#include "peerscope/packet.h"

struct sflow_datagram {
	uint32_t version;  /* 5 */
	struct ps_addr agent;
	uint32_t sub_agent_id;
	uint32_t sequence;
	uint32_t uptime_ms;
	uint32_t num_samples;
};

enum sflow_sample_kind {
	SFLOW_SAMPLE_FLOW = 1,           /* 0:1 and expanded 0:3 */
	SFLOW_SAMPLE_COUNTERS = 2,       /* 0:2 and expanded 0:4 */
	SFLOW_SAMPLE_DISCARD = 5,        /* 0:5 discarded packet */
};

/* interface word formats (sFlow v5 interface encoding, top 2 bits) */
enum sflow_if_format {
	SFLOW_IF_INDEX = 0,    /* value is an ifIndex (0x3FFFFFFF = unknown) */
	SFLOW_IF_DISCARD = 1,  /* value is a discard reason */
	SFLOW_IF_MULTIPLE = 2, /* value is a number of interfaces */
};
#define SFLOW_IFINDEX_UNKNOWN 0x3FFFFFFFu

/* Bits of sflow_flow_sample.present: which records were decoded. */
enum sflow_flow_present {
	SFLOW_HAS_RAW_HEADER = 1u << 0,  /* 0:1 */
	SFLOW_HAS_ETHERNET = 1u << 1,    /* 0:2 */
	SFLOW_HAS_IPV4 = 1u << 2,        /* 0:3 */
	SFLOW_HAS_IPV6 = 1u << 3,        /* 0:4 */
	SFLOW_HAS_SWITCH = 1u << 4,      /* 0:1001 */
	SFLOW_HAS_ROUTER = 1u << 5,      /* 0:1002 */
	SFLOW_HAS_GATEWAY = 1u << 6,     /* 0:1003 */
	SFLOW_HAS_USER = 1u << 7,        /* 0:1004 */
	SFLOW_HAS_URL = 1u << 8,         /* 0:1005 */
	SFLOW_HAS_MPLS = 1u << 9,        /* 0:1006 */
	SFLOW_HAS_NAT = 1u << 10,        /* 0:1007 */
	SFLOW_HAS_MPLS_TUNNEL = 1u << 11,/* 0:1008 */
	SFLOW_HAS_MPLS_VC = 1u << 12,    /* 0:1009 */
	SFLOW_HAS_MPLS_FTN = 1u << 13,   /* 0:1010 */
	SFLOW_HAS_MPLS_LDP_FEC = 1u << 14,/* 0:1011 */
	SFLOW_HAS_VLAN_TUNNEL = 1u << 15,/* 0:1012 */
	SFLOW_HAS_EGRESS_QUEUE = 1u << 16,/* 0:1036 */
	SFLOW_HAS_TRANSIT_DELAY = 1u << 17,/* 0:1039 */
	SFLOW_HAS_QUEUE_DEPTH = 1u << 18,/* 0:1040 */
	SFLOW_HAS_TCP_INFO = 1u << 19,   /* 0:2209 */
};

/* 0:1 sampled header */
struct sflow_raw_header {
	uint32_t header_protocol; /* enum pkt_header_protocol and others */
	uint32_t frame_length;    /* original frame length on the wire */
	uint32_t stripped;        /* bytes removed before sampling (e.g. FCS) */
	uint32_t header_length;   /* bytes of header that follow */
	const uint8_t *header;    /* borrowed from the datagram */
	bool pkt_ok;              /* pkt_decode() succeeded */
	struct pkt_info pkt;
};

/* 0:1 generic interface counters */
struct sflow_if_counters {
	uint32_t ifIndex;
	uint32_t ifType;
	uint64_t ifSpeed;
	uint32_t ifDirection;   /* 0 unknown, 1 full, 2 half, 3 in, 4 out */
	uint32_t ifStatus;      /* bit 0 admin up, bit 1 oper up */
	uint64_t ifInOctets;
	uint32_t ifInUcastPkts;
	uint32_t ifInMulticastPkts;
	uint32_t ifInBroadcastPkts;
	uint32_t ifInDiscards;
	uint32_t ifInErrors;
	uint32_t ifInUnknownProtos;
	uint64_t ifOutOctets;
	uint32_t ifOutUcastPkts;
	uint32_t ifOutMulticastPkts;
	uint32_t ifOutBroadcastPkts;
	uint32_t ifOutDiscards;
	uint32_t ifOutErrors;
	uint32_t ifPromiscuousMode;
};

/*
 * Record structs for the remaining flow records live in this header too;
 * decoders/sflow.c owns their layout.  The collector relies only on the
 * fields named in this file's sflow_flow_sample and sflow_counter_sample.
 */
#include "peerscope/sflow_records.h"

/* 0:1 flow sample, 0:3 expanded flow sample, 0:5 discarded packet */
struct sflow_flow_sample {
	uint32_t sequence;
	uint32_t source_id_type;  /* 0 ifIndex, 1 smonVlanDataSource, 2 entPhysicalEntry */
	uint32_t source_id_index;
	uint32_t sampling_rate;   /* 0 in discard samples */
	uint32_t sample_pool;     /* 0 in discard samples */
	uint32_t drops;
	uint32_t input_format;    /* enum sflow_if_format */
	uint32_t input;
	uint32_t output_format;
	uint32_t output;
	uint32_t drop_reason;     /* discard samples only */
	uint32_t record_count;    /* records declared */
	uint32_t present;         /* enum sflow_flow_present bits */
	struct sflow_raw_header raw;
	struct sflow_flow_records rec; /* every other record type */
};

/* Bits of sflow_counter_sample.present. */
enum sflow_counter_present {
	SFLOW_HAS_GENERIC_IF = 1u << 0,  /* 0:1 */
	SFLOW_HAS_ETHERNET_IF = 1u << 1, /* 0:2 */
	SFLOW_HAS_VLAN_COUNTERS = 1u << 2, /* 0:5 */
	SFLOW_HAS_PROCESSOR = 1u << 3,   /* 0:1001 */
};

struct sflow_counter_sample {
	uint32_t sequence;
	uint32_t source_id_type;
	uint32_t source_id_index;
	uint32_t record_count;
	uint32_t present;        /* enum sflow_counter_present bits */
	/*
	 * Generic interface records decoded: the first is `generic`, the
	 * others rec.generic_extra[]; see sflow_counter_generic().
	 */
	uint32_t generic_count;
	struct sflow_if_counters generic;
	struct sflow_counter_records rec; /* ethernet, vlan, processor */
};

struct sflow_sample {
	enum sflow_sample_kind kind;
	uint32_t enterprise;     /* 0 for standard samples */
	uint32_t format;         /* 1..5 */
	bool expanded;           /* 0:3 / 0:4 */
	union {
		struct sflow_flow_sample flow;       /* FLOW and DISCARD */
		struct sflow_counter_sample counters;
	} u;
};

/* The i-th generic interface record of a counter sample, i < generic_count. */
static inline const struct sflow_if_counters *
sflow_counter_generic(const struct sflow_counter_sample *c, uint32_t i)
{
	return i == 0 ? &c->generic : &c->rec.generic_extra[i - 1];
}

struct sflow_iter {
	struct cur samples;      /* the bytes after the datagram header */
	uint32_t remaining;      /* samples still declared */
};

int sflow_datagram_open(struct sflow_iter *it, const uint8_t *buf, size_t len,
			struct sflow_datagram *out, struct dec_stats *st)
	__attribute__((warn_unused_result));

/* 1: *out holds the next sample; 0: no more; -1: rest unusable (counted). */
int sflow_next_sample(struct sflow_iter *it, struct sflow_sample *out,
		      struct dec_stats *st)
	__attribute__((warn_unused_result));

#endif /* PEERSCOPE_SFLOW_H */
