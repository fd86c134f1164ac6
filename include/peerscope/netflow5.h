/*
 * netflow5.h - NetFlow v5: a 24-byte header and up to 30 fixed 48-byte
 * records.  Pure decoder: records go out through a callback as struct
 * ps_flow, the same record IPFIX and v9 produce.
 *
 * @thread any, @locks none.
 */
#ifndef PEERSCOPE_NETFLOW5_H
#define PEERSCOPE_NETFLOW5_H

#include <stddef.h>
#include <stdint.h>

#include "peerscope/dec_stats.h"
#include "peerscope/flow.h"
#include "peerscope/limits.h"

#define NF5_VERSION	5
#define NF5_HEADER_LEN	24
#define NF5_RECORD_LEN	48

struct nf5_header {
	uint16_t version;
	uint16_t count;
	uint32_t sys_uptime_ms;
	uint32_t unix_secs;
	uint32_t unix_nsecs;
	uint32_t flow_sequence; /* counts flows, not datagrams */
	uint8_t engine_type;
	uint8_t engine_id;
	uint8_t sampling_mode;	    /* top 2 bits of the sampling field */
	uint16_t sampling_interval; /* low 14 bits; 0 = not sampled/unknown */
};

/*
 * Validate the whole datagram first (header, count, length), then hand
 * each record to `cb`.  A datagram whose count does not fit is rejected
 * whole: a lying count says nothing good about the records before it.
 * Returns 0, or -1 with a reason counted.
 */
int nf5_decode(const uint8_t *buf, size_t len, struct nf5_header *h,
	       void (*cb)(void *arg, const struct nf5_header *h,
			  struct ps_flow *f),
	       void *arg, struct dec_stats *st)
	__attribute__((warn_unused_result));

#endif /* PEERSCOPE_NETFLOW5_H */
