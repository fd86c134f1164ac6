/* cfgpub.c - see cfgpub.h. */
#include <stdlib.h>
#include <string.h>

#include "xthread/cfgpub.h"

#define NS_PER_S 1000000000ULL

static void fill(struct cfg_gen *g, const struct ps_config *cfg, uint64_t gen)
{
	g->cfg = cfg;
	g->gen = gen;
	g->window_ns = (uint64_t)cfg->window_seconds * NS_PER_S;
}

void cfgpub_init(struct cfg_pub *p, const struct ps_config *boot)
{
	memset(p, 0, sizeof(*p));
	fill(&p->gens[0], boot, 0);
	p->n = 1;
	atomic_init(&p->cur, &p->gens[0]);
}

void cfgpub_fini(struct cfg_pub *p)
{
	for (unsigned i = 0; i < CFGPUB_MAX_GENS; i++)
		free(p->owned[i]);
	memset(p, 0, sizeof(*p));
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b != 0) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

int cfgpub_publish(struct cfg_pub *p, struct ps_config *fresh, uint64_t now_ns,
		   uint64_t *effective_ns)
{
	/* Only the main thread publishes: a relaxed load of our own store. */
	const struct cfg_gen *old =
		atomic_load_explicit(&p->cur, memory_order_relaxed);
	struct cfg_gen *g;
	uint64_t lcm, after;

	if (p->n == CFGPUB_MAX_GENS)
		return -1;
	g = &p->gens[p->n];
	fill(g, fresh, old->gen + 1);
	/* Both lengths are at most 86400 s: the lcm fits in 64 bits. */
	lcm = old->window_ns / gcd(old->window_ns, g->window_ns) * g->window_ns;
	after = now_ns + NS_PER_S;
	if (old->effective_ns > after)
		after = old->effective_ns;
	g->effective_ns = cfgpub_align(after, lcm) + lcm;
	g->prev = old;
	p->owned[p->n++] = fresh;
	*effective_ns = g->effective_ns;
	/* Release: a reader that sees g sees everything fresh holds. */
	atomic_store_explicit(&p->cur, g, memory_order_release);
	return 0;
}

void cfgpub_resolve(const struct cfg_pub *p, uint64_t t_ns, struct cfg_win *out,
		    uint64_t *start_ns)
{
	const struct cfg_gen *g =
		atomic_load_explicit(&p->cur, memory_order_acquire);

	while (g->prev != NULL && t_ns < g->effective_ns)
		g = g->prev;
	out->window_ns = g->window_ns;
	out->max_conns = g->cfg->max_connections;
	out->max_exporters = g->cfg->max_exporters;
	out->max_window_conns = g->cfg->max_window_connections;
	out->max_window_exporters = g->cfg->max_window_exporters;
	out->registry = g->cfg->registry;
	out->gen = g->gen;
	*start_ns = cfgpub_align(t_ns, g->window_ns);
}

const struct ps_config *cfgpub_latest(const struct cfg_pub *p)
{
	return atomic_load_explicit(&p->cur, memory_order_acquire)->cfg;
}
