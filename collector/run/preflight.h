/*
 * preflight.h - what start-up would refuse, found before anything starts.
 *
 * config.c checks the syntax and the bounds of every key; this checks the
 * configuration against the host it runs on:
 *
 *   listeners      every address of listen.*, bmp.listen, flow.tcp_listen
 *                  and http.listen is one of this host's (bound on port 0,
 *                  so a running instance is not disturbed);
 *   run_as_user    the user exists;
 *   files          output.json.path can be opened for writing (its
 *                  directory exists and is writable, or the file is);
 *                  the directory of flow.state_file exists;
 *   Kafka          output.kafka.* as sink_kafka_check() sees it: topics,
 *                  broker hosts, librdkafka properties and a producer
 *                  librdkafka can create.
 *
 * `peerscope --check-config` runs it, and every start runs it before it
 * binds anything, so a check and a start give the same lines.  Each
 * finding names the file and line where its key was set
 * (config_key_error()).
 *
 * @thread main, before any other thread exists.
 */
#ifndef PEERSCOPE_PREFLIGHT_H
#define PEERSCOPE_PREFLIGHT_H

#include <stdbool.h>
#include <stdio.h>

#include "base/config.h"

#define PREFLIGHT_MAX_FINDINGS 16

/*
 * Check cfg for a live run (replay false) or a replay, which binds no
 * listener and switches no user.  Each finding goes to `out` as
 * "peerscope: <file>:<line>: <key>: <why>"; returns how many there were.
 */
unsigned preflight_check(const struct ps_config *cfg, bool replay, FILE *out);

#endif /* PEERSCOPE_PREFLIGHT_H */
