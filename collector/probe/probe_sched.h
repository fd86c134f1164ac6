/*
 * probe_sched.h - when the probe engine sends: a min-heap of slots (one
 * per target and method) by due time, nominal times with jitter, and a
 * token bucket for the global rate cap with a FIFO of slots waiting for a
 * token.  Pure: times are passed in (CLOCK_MONOTONIC ns), so the unit test
 * drives it with a fake clock.
 *
 * Nominal send times of a slot are phase + k * interval; the send of k is
 * due at nominal + u, u uniform in [-jitter, +jitter] (jitter <= interval /
 * 2, so due times of one slot never go backwards).  A due slot takes a
 * token or queues for one, in due order; the bucket refills at max_rate
 * per second up to a burst of max(1, max_rate / 100) (10 ms worth).  The
 * bucket counts time, not fractions of tokens (a token costs
 * ceil(1e9 / max_rate) ns of credit), so no rounding drifts the rate.
 *
 * @thread probe (owned by the engine).
 */
#ifndef PEERSCOPE_PROBE_SCHED_H
#define PEERSCOPE_PROBE_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct probe_sched_entry {
	uint64_t due_ns;
	uint32_t slot;
};

struct probe_sched {
	struct probe_sched_entry *heap;
	uint32_t heap_len;
	uint32_t *fifo; /* slots waiting for a token */
	uint32_t fifo_head, fifo_len;
	uint32_t slots; /* capacity of both: a slot is in one at most */
	uint64_t interval_ns, jitter_ns;
	/* token bucket in time units: a token costs cost_ns of credit */
	uint64_t cost_ns, credit_ns, max_credit_ns, refill_ns;
	uint64_t rng;
};

/* 0, or -1 if out of memory.  max_rate >= 1, jitter_percent <= 50. */
int probe_sched_init(struct probe_sched *s, uint32_t slots,
		     uint64_t interval_ns, uint32_t jitter_percent,
		     uint32_t max_rate, uint64_t seed, uint64_t now_ns);
void probe_sched_fini(struct probe_sched *s);

/* A uniformly random first nominal time in [now, now + interval). */
uint64_t probe_sched_phase(struct probe_sched *s, uint64_t now_ns);

/* When the send of nominal time t is due: t + uniform[-jitter, jitter]. */
uint64_t probe_sched_jittered(struct probe_sched *s, uint64_t nominal_ns);

/* Queue slot (not queued anywhere) to be due at due_ns. */
void probe_sched_add(struct probe_sched *s, uint32_t slot, uint64_t due_ns);

/*
 * The next slot to send now, if any: first the slots waiting for a token,
 * then due ones; a due slot that finds no token joins the waiting FIFO and
 * *rate_limited grows.  true with *slot when one may send (its token is
 * taken), false when nothing can go before probe_sched_next().
 */
bool probe_sched_next_send(struct probe_sched *s, uint64_t now_ns,
			   uint32_t *slot, uint64_t *rate_limited);

/* When to look again: a token's time if slots wait, else the earliest due
 * time; UINT64_MAX when nothing is queued. */
uint64_t probe_sched_next(const struct probe_sched *s, uint64_t now_ns);

/* splitmix64 over the scheduler's seed (also for nonces and phases). */
uint64_t probe_sched_random(struct probe_sched *s);

#endif /* PEERSCOPE_PROBE_SCHED_H */
