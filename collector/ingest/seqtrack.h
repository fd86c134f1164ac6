/*
 * seqtrack.h - per-worker state that outlives a window: sequence numbers,
 * sample pools and the last interface counters, and the rules that turn
 * them into loss, reordering, restarts and counter deltas.
 */
#ifndef PEERSCOPE_SEQTRACK_H
#define PEERSCOPE_SEQTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "agg/agg.h"
#include "peerscope/sflow.h"

/* How far back a number may arrive and still count as reordering. */
#define SEQ_REORDER_WINDOW 512u
/* A forward jump beyond this is taken as an exporter restart, not loss. */
#define SEQ_MAX_GAP (1u << 20)

struct seq_state {
	uint32_t last;
	bool seen;
};

/* Datagram sequence per exporter (struct exp_key). */
struct seq_state_entry {
	struct exp_key key;
	struct seq_state seq;
	uint32_t uptime_ms;
	uint64_t first_ns; /* arrival of the exporter's first datagram */
	/* sFlow, when its samples were taken (ingest_sflow.c sample_when):
	 * its latest datagram's arrival, its samples' lower bound (0: not
	 * known), its length and largest sample; the largest datagram */
	uint64_t last_ns, last_lo_ns;
	uint32_t last_len, last_sample_max, len_max;
};

/* One sampler or poller: sFlow numbers each source's samples apart. */
struct source_key {
	struct ps_addr agent;
	uint8_t kind; /* enum sflow_sample_kind */
	uint8_t pad[2];
	uint32_t sub_agent;
	uint32_t source_id; /* type << 24 | index, as on the wire */
};

struct source_state {
	struct source_key key;
	struct seq_state seq;
	uint32_t pool; /* last sample_pool (flow samples) */
};

struct counter_state {
	struct conn_key key;
	struct sflow_if_counters last;
	uint32_t uptime_ms; /* agent uptime when `last` was taken */
	/*
	 * The agent's boot in our clock: the least (arrival - uptime) of its
	 * readings since it last restarted, the one least delayed on the way.
	 * A reading was taken at boot_ns + uptime, not when it arrived (an
	 * agent may send several at once).
	 */
	uint64_t boot_ns;
};

enum seq_verdict {
	SEQ_FIRST,
	SEQ_NEXT,
	SEQ_GAP,
	SEQ_DUPLICATE,
	SEQ_REORDERED,
	SEQ_RESTART
};

/*
 * Classify `seq` against the state, count it into `c`, and advance the
 * state.  `restart_hint` is true when another signal (agent uptime went
 * back) already says the exporter restarted.
 */
enum seq_verdict seq_track(struct seq_state *s, uint32_t seq, bool restart_hint,
			   struct seq_counts *c);

/*
 * Interface counter deltas between two snapshots `dt_ms` apart, added to
 * conn.  Returns false (and counts a reset) when the counters went back in
 * a way no wrap explains.
 */
bool counters_delta(struct agg_conn *conn, const struct sflow_if_counters *prev,
		    const struct sflow_if_counters *cur, uint32_t dt_ms);

#endif /* PEERSCOPE_SEQTRACK_H */
