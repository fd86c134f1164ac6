/* replay.h - `peerscope replay`: captures through the live pipeline. */
#ifndef PEERSCOPE_REPLAY_H
#define PEERSCOPE_REPLAY_H

#include "base/config.h"

/* Exit status of a replay whose sinks did not deliver every message. */
#define REPLAY_EXIT_UNDELIVERED 3

/*
 * Replay every capture in order through a full pipeline, flush all open
 * windows, print the summary to stderr (and JSON to stats_path if not
 * NULL).  Returns the exit status: 0; 1 when a file could not be read or
 * the pipeline not started; REPLAY_EXIT_UNDELIVERED when everything was
 * read but a sink left messages undelivered (Kafka failed, dropped, too
 * large or still waiting at the end; a JSON write that failed).
 */
int replay_run(const struct ps_config *cfg, char *const *files, int nfiles,
	       const char *stats_path);

#endif /* PEERSCOPE_REPLAY_H */
