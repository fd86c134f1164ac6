/* peer_state.c - see peer_state.h. */
#include <string.h>

#include "rib/peer_state.h"

const char *bmp_state_name(enum bmp_peer_state s)
{
	switch (s) {
	case BMP_STATE_UP:
		return "up";
	case BMP_STATE_DOWN:
		return "down";
	default:
		return "unknown";
	}
}

const char *bmp_state_fsm_name(enum bmp_peer_state s)
{
	switch (s) {
	case BMP_STATE_UP:
		return "Established";
	case BMP_STATE_DOWN:
		return "Idle";
	default:
		return "unknown";
	}
}

void peer_log_init(struct peer_log *l, uint64_t from_ns)
{
	memset(l, 0, sizeof(*l));
	l->base_ns = from_ns;
	l->base_state = BMP_STATE_DOWN;
}

void peer_log_push(struct peer_log *l, uint64_t at_ns,
		   enum bmp_peer_state s, bool restart)
{
	uint64_t last = l->n ? l->c[l->n - 1].at_ns : l->base_ns;

	if (at_ns < last)
		at_ns = last;
	if (l->n == PEER_LOG_CHANGES) {
		/* the oldest change becomes the base: exact from there on */
		l->base_ns = l->c[0].at_ns;
		l->base_state = l->c[0].state;
		l->truncated = true;
		memmove(&l->c[0], &l->c[1], (l->n - 1) * sizeof(l->c[0]));
		l->n--;
	}
	l->c[l->n].at_ns = at_ns;
	l->c[l->n].state = (uint8_t)s;
	l->c[l->n].restart = restart;
	l->n++;
}

/* Add the part of [from, to) inside [start, end) spent in state s. */
static void span_add(struct peer_window *w, uint64_t from, uint64_t to,
		     uint8_t s, uint64_t start, uint64_t end)
{
	uint64_t a = from > start ? from : start;
	uint64_t b = to < end ? to : end;

	if (b <= a || s == BMP_STATE_UNKNOWN)
		return;
	w->known_ns += b - a;
	if (s == BMP_STATE_UP)
		w->established_ns += b - a;
}

void peer_log_window(const struct peer_log *l, uint64_t start_ns,
		     uint64_t end_ns, struct peer_window *w)
{
	uint64_t from = l->base_ns;
	uint8_t s = l->base_state;
	uint64_t up_since = s == BMP_STATE_UP && l->truncated ? l->base_ns : 0;

	memset(w, 0, sizeof(*w));
	w->partial = start_ns < l->base_ns && l->truncated;
	for (uint32_t i = 0; i < l->n && l->c[i].at_ns < end_ns; i++) {
		const struct peer_change *c = &l->c[i];

		span_add(w, from, c->at_ns, s, start_ns, end_ns);
		if (s == BMP_STATE_UP && c->at_ns >= start_ns &&
		    (c->state != BMP_STATE_UP || c->restart) &&
		    c->state != BMP_STATE_UNKNOWN)
			w->flaps++;
		if (c->state == BMP_STATE_UP &&
		    (s != BMP_STATE_UP || c->restart))
			up_since = c->at_ns;
		from = c->at_ns;
		s = c->state;
	}
	span_add(w, from, end_ns, s, start_ns, end_ns);
	w->state = (enum bmp_peer_state)s;
	w->up_since_ns = s == BMP_STATE_UP ? up_since : 0;
}

double peer_window_availability(const struct peer_window *w)
{
	if (w->known_ns == 0)
		return -1;
	return (double)w->established_ns / (double)w->known_ns;
}
