/*
 * cfgpub.h - configurations published to running threads by SIGHUP.
 *
 * The configuration object is read-only and shared by pointer, so a reload
 * never edits it: it publishes a whole new generation.  Generations are
 * never freed before shutdown (pipeline_free), so a reader can never see a
 * freed configuration; the number of reloads kept is bounded by
 * CFGPUB_MAX_GENS and a reload past it is refused (restart to reset).
 *
 * Window length and limits change at one instant shared by every thread,
 * so windows stay aligned and the merger's watermarks stay consistent.
 * The rule: a generation published at time T with window length L, whose
 * predecessor has length P and takes effect at E_prev, takes effect at
 *
 *     E = the smallest multiple of lcm(P, L) (in ns since the epoch)
 *         strictly greater than max(T + 1 s, E_prev).
 *
 * E is a window boundary under both lengths, so the last old window ends
 * exactly where the first new one starts.  A window that starts at S uses
 * the newest generation with E <= S.  A worker decides from the window's
 * own time, not from when it saw the publication, and E is after T, so
 * every worker (and the merger) makes the same choice.
 */
#ifndef PEERSCOPE_CFGPUB_H
#define PEERSCOPE_CFGPUB_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/config.h"
#include "peerscope/limits.h"

struct cfg_gen {
	const struct ps_config *cfg;
	uint64_t gen;	       /* 0 = start-up */
	uint64_t effective_ns; /* windows starting here or later use it */
	uint64_t window_ns;
	const struct cfg_gen *prev; /* NULL for the start-up generation */
};

/* What one window is opened with. */
struct cfg_win {
	uint64_t window_ns;
	uint32_t max_conns;	/* per worker */
	uint32_t max_exporters;
	uint32_t max_window_conns; /* per merged window */
	uint32_t max_window_exporters;
	const struct conn_registry *registry; /* the generation's (or NULL) */
	uint64_t gen;
};

struct cfg_pub {
	_Atomic(const struct cfg_gen *) cur;
	struct cfg_gen gens[CFGPUB_MAX_GENS];
	struct ps_config *owned[CFGPUB_MAX_GENS]; /* reloads, freed at fini */
	unsigned n;
};

/* @thread main, before any reader starts.  `boot` stays the caller's. */
void cfgpub_init(struct cfg_pub *p, const struct ps_config *boot);

/* @thread main, after every reader stopped.  Frees the published reloads. */
void cfgpub_fini(struct cfg_pub *p);

/*
 * @thread main.  Publish `fresh` (ownership passes on success) at wall
 * time `now_ns`; its effective time in *effective_ns.  0, or -1 when
 * CFGPUB_MAX_GENS generations already exist.
 */
int cfgpub_publish(struct cfg_pub *p, struct ps_config *fresh, uint64_t now_ns,
		   uint64_t *effective_ns);

/* Start of the window of length `len` holding `t`. */
static inline uint64_t cfgpub_align(uint64_t t, uint64_t len)
{
	return t - t % len;
}

/*
 * @thread any.  The settings of the window that holds `t_ns` (its start
 * in *start_ns).  One atomic load: called when a window opens, never per
 * packet.
 */
void cfgpub_resolve(const struct cfg_pub *p, uint64_t t_ns, struct cfg_win *out,
		    uint64_t *start_ns);

/* @thread any.  The newest published configuration. */
const struct ps_config *cfgpub_latest(const struct cfg_pub *p);

#endif /* PEERSCOPE_CFGPUB_H */
