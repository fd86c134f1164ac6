/* seqtrack.c - sequence classification and counter deltas. */
#include "ingest/seqtrack.h"

enum seq_verdict seq_track(struct seq_state *s, uint32_t seq, bool restart_hint,
			   struct seq_counts *c)
{
	/* Distance in modulo-2^32 arithmetic, so a wrap is just "next". */
	uint32_t ahead = seq - s->last;
	uint32_t behind = s->last - seq;

	if (!s->seen) {
		s->seen = true;
		s->last = seq;
		return SEQ_FIRST;
	}
	if (restart_hint) {
		c->restarts++;
		s->last = seq;
		return SEQ_RESTART;
	}
	if (ahead == 1) {
		s->last = seq;
		return SEQ_NEXT;
	}
	if (ahead == 0) {
		c->duplicates++;
		return SEQ_DUPLICATE;
	}
	if (behind <= SEQ_REORDER_WINDOW) {
		/* It was counted lost when the gap opened; it was only late. */
		if (c->lost > 0)
			c->lost--;
		c->reordered++;
		return SEQ_REORDERED;
	}
	if (ahead <= SEQ_MAX_GAP) {
		c->lost += ahead - 1;
		s->last = seq;
		return SEQ_GAP;
	}
	c->restarts++;
	s->last = seq;
	return SEQ_RESTART;
}

/*
 * Octet counters are 64-bit in sFlow, but some agents fill them from
 * 32-bit registers.  A backwards step from values that both fit in 32 bits
 * is a wrap when the implied rate is possible on the interface.
 */
static bool octets_delta(uint64_t prev, uint64_t cur, uint64_t speed_bps,
			 uint32_t dt_ms, uint64_t *delta)
{
	if (cur >= prev) {
		*delta = cur - prev;
		return true;
	}
	if (prev > UINT32_MAX || cur > UINT32_MAX)
		return false;
	*delta = (uint64_t)UINT32_MAX + 1 - prev + cur;
	if (speed_bps == 0 || dt_ms == 0)
		return false;
	/* bits in the interval against 110% of line rate */
	return (double)*delta * 8.0 <= (double)speed_bps * dt_ms / 1000.0 * 1.1;
}

static uint32_t delta32(uint32_t prev, uint32_t cur)
{
	return cur - prev; /* 32-bit packet counters wrap modulo 2^32 */
}

bool counters_delta(struct agg_conn *conn, const struct sflow_if_counters *prev,
		    const struct sflow_if_counters *cur, uint32_t dt_ms)
{
	uint64_t in_oct, out_oct;
	struct agg_counted *in = &conn->counted[AGG_IN];
	struct agg_counted *out = &conn->counted[AGG_OUT];

	if (!octets_delta(prev->ifInOctets, cur->ifInOctets, cur->ifSpeed,
			  dt_ms, &in_oct) ||
	    !octets_delta(prev->ifOutOctets, cur->ifOutOctets, cur->ifSpeed,
			  dt_ms, &out_oct)) {
		conn->counter_resets++;
		return false;
	}
	in->octets += in_oct;
	in->packets += delta32(prev->ifInUcastPkts, cur->ifInUcastPkts) +
		       (uint64_t)delta32(prev->ifInMulticastPkts,
					 cur->ifInMulticastPkts) +
		       delta32(prev->ifInBroadcastPkts, cur->ifInBroadcastPkts);
	in->errors += delta32(prev->ifInErrors, cur->ifInErrors);
	in->discards += delta32(prev->ifInDiscards, cur->ifInDiscards);
	in->interval_ms += dt_ms;
	in->deltas++;
	out->octets += out_oct;
	out->packets +=
		delta32(prev->ifOutUcastPkts, cur->ifOutUcastPkts) +
		(uint64_t)delta32(prev->ifOutMulticastPkts,
				  cur->ifOutMulticastPkts) +
		delta32(prev->ifOutBroadcastPkts, cur->ifOutBroadcastPkts);
	out->errors += delta32(prev->ifOutErrors, cur->ifOutErrors);
	out->discards += delta32(prev->ifOutDiscards, cur->ifOutDiscards);
	out->interval_ms += dt_ms;
	out->deltas++;
	return true;
}
