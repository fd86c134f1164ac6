/*
 * live.h - the live collector's life cycle: start, bind, drop privileges,
 * serve /metrics, reload on SIGHUP, flush on SIGINT/SIGTERM.
 */
#ifndef PEERSCOPE_LIVE_H
#define PEERSCOPE_LIVE_H

#include <stddef.h>

#include "base/config.h"

/*
 * Rebuild the configuration from scratch (file, then command line) into
 * `fresh`.  0, or -1 with a reason in err.  Supplied by main.c, which owns
 * the command line.
 */
typedef int (*live_reload_fn)(struct ps_config *fresh, const char *path,
			      void *ctx, char *err, size_t errlen);

/*
 * @thread main.  Runs until SIGINT or SIGTERM.  `cfg` is the start-up
 * configuration: the pipeline keeps pointing at it, so it outlives the
 * run.  Returns the process exit status.
 */
int live_run(const struct ps_config *cfg, const char *stats_path,
	     live_reload_fn reload, void *ctx);

#endif /* PEERSCOPE_LIVE_H */
