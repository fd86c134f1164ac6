/*
 * config_diff.h - what differs between two configurations, for SIGHUP: the
 * keys applied without a restart and the others (run/live.c), and whether
 * a group of keys changed (publish/sinkswap.c).
 */
#ifndef PEERSCOPE_CONFIG_DIFF_H
#define PEERSCOPE_CONFIG_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/config.h"

/*
 * Keys that differ between two configurations, as a comma-separated list
 * of dotted names in `out` ("" when none); `live` selects the keys applied
 * without a restart (true) or the others (false).  @thread main.
 */
void config_diff_list(const struct ps_config *a, const struct ps_config *b,
		      bool live, char *out, size_t outlen);

/*
 * Whether a key matching `pattern` ("output.kafka.*": any key under it,
 * or one dotted name) differs from a to b: 1 or 0, -1 when out of memory.
 * @thread any: both configurations are read-only.
 */
int config_diff_changed(const struct ps_config *a, const struct ps_config *b,
			const char *pattern);

#endif /* PEERSCOPE_CONFIG_DIFF_H */
