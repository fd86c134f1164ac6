/* probe_sched.c - send times, jitter and the rate cap (probe_sched.h). */
#include "probe/probe_sched.h"

#include <stdlib.h>
#include <string.h>

int probe_sched_init(struct probe_sched *s, uint32_t slots,
		     uint64_t interval_ns, uint32_t jitter_percent,
		     uint32_t max_rate, uint64_t seed, uint64_t now_ns)
{
	memset(s, 0, sizeof(*s));
	if (max_rate == 0 || jitter_percent > 50 || interval_ns == 0)
		return -1;
	s->heap = calloc(slots ? slots : 1, sizeof(*s->heap));
	s->fifo = calloc(slots ? slots : 1, sizeof(*s->fifo));
	if (s->heap == NULL || s->fifo == NULL) {
		probe_sched_fini(s);
		return -1;
	}
	s->slots = slots;
	s->interval_ns = interval_ns;
	s->jitter_ns = interval_ns * jitter_percent / 100;
	s->cost_ns = (1000000000ULL + max_rate - 1) / max_rate;
	s->max_credit_ns =
		s->cost_ns * (max_rate / 100 > 1 ? max_rate / 100 : 1);
	s->credit_ns = s->max_credit_ns;
	s->refill_ns = now_ns;
	s->rng = seed;
	return 0;
}

void probe_sched_fini(struct probe_sched *s)
{
	if (s == NULL)
		return;
	free(s->heap);
	free(s->fifo);
	s->heap = NULL;
	s->fifo = NULL;
}

uint64_t probe_sched_random(struct probe_sched *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t probe_sched_phase(struct probe_sched *s, uint64_t now_ns)
{
	return now_ns + probe_sched_random(s) % s->interval_ns;
}

uint64_t probe_sched_jittered(struct probe_sched *s, uint64_t nominal_ns)
{
	uint64_t u;

	if (s->jitter_ns == 0)
		return nominal_ns;
	u = probe_sched_random(s) % (2 * s->jitter_ns + 1);
	if (nominal_ns + u < s->jitter_ns)
		return 0;
	return nominal_ns + u - s->jitter_ns;
}

static bool entry_before(const struct probe_sched_entry *a,
			 const struct probe_sched_entry *b)
{
	return a->due_ns < b->due_ns ||
	       (a->due_ns == b->due_ns && a->slot < b->slot);
}

void probe_sched_add(struct probe_sched *s, uint32_t slot, uint64_t due_ns)
{
	struct probe_sched_entry e = { due_ns, slot };
	uint32_t i = s->heap_len++;

	while (i > 0 && entry_before(&e, &s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = e;
}

static uint32_t heap_pop(struct probe_sched *s)
{
	uint32_t top = s->heap[0].slot, i = 0;
	struct probe_sched_entry last = s->heap[--s->heap_len];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= s->heap_len)
			break;
		if (c + 1 < s->heap_len &&
		    entry_before(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!entry_before(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	s->heap[i] = last;
	return top;
}

static void refill(struct probe_sched *s, uint64_t now_ns)
{
	if (now_ns <= s->refill_ns)
		return;
	s->credit_ns += now_ns - s->refill_ns;
	if (s->credit_ns > s->max_credit_ns)
		s->credit_ns = s->max_credit_ns;
	s->refill_ns = now_ns;
}

static bool take_token(struct probe_sched *s, uint64_t now_ns)
{
	refill(s, now_ns);
	if (s->credit_ns < s->cost_ns)
		return false;
	s->credit_ns -= s->cost_ns;
	return true;
}

bool probe_sched_next_send(struct probe_sched *s, uint64_t now_ns,
			   uint32_t *slot, uint64_t *rate_limited)
{
	while (s->fifo_len == 0 && s->heap_len > 0 &&
	       s->heap[0].due_ns <= now_ns) {
		uint32_t due = heap_pop(s);

		if (take_token(s, now_ns)) {
			*slot = due;
			return true;
		}
		s->fifo[(s->fifo_head + s->fifo_len++) % s->slots] = due;
		(*rate_limited)++;
	}
	if (s->fifo_len > 0) {
		if (!take_token(s, now_ns)) {
			/* the due ones queue behind, in due order */
			while (s->heap_len > 0 && s->heap[0].due_ns <= now_ns) {
				s->fifo[(s->fifo_head + s->fifo_len++) %
					s->slots] = heap_pop(s);
				(*rate_limited)++;
			}
			return false;
		}
		*slot = s->fifo[s->fifo_head];
		s->fifo_head = (s->fifo_head + 1) % s->slots;
		s->fifo_len--;
		return true;
	}
	return false;
}

uint64_t probe_sched_next(const struct probe_sched *s, uint64_t now_ns)
{
	if (s->fifo_len > 0) {
		/* credit is counted as of refill_ns */
		uint64_t t = s->credit_ns >= s->cost_ns ?
				     s->refill_ns :
				     s->refill_ns + (s->cost_ns - s->credit_ns);

		return t > now_ns ? t : now_ns;
	}
	if (s->heap_len > 0)
		return s->heap[0].due_ns;
	return UINT64_MAX;
}
