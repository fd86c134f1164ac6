/* replay.h - `peerscope replay`: captures through the live pipeline. */
#ifndef PEERSCOPE_REPLAY_H
#define PEERSCOPE_REPLAY_H

#include "config.h"

/*
 * Replay every capture in order through a full pipeline, flush all open
 * windows, print the summary to stderr (and JSON to stats_path if not
 * NULL).  0 when every file could be read, -1 otherwise.
 */
int replay_run(const struct ps_config *cfg, char *const *files, int nfiles,
	       const char *stats_path);

#endif /* PEERSCOPE_REPLAY_H */
