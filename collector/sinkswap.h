/*
 * sinkswap.h - SIGHUP changes to the sinks, applied in the merger thread
 * (which owns the sinks) between two publications, so that every message
 * goes to exactly one output: the old one up to the switch, the new one
 * after it.
 */
#ifndef PEERSCOPE_SINKSWAP_H
#define PEERSCOPE_SINKSWAP_H

#include <stdbool.h>
#include <stdint.h>

struct merger;

/*
 * @thread merger.  Compare the newest published configuration with the
 * one the sinks were opened from; re-create what differs.  Today:
 * output.json.path (open the new file first; on failure keep the old one
 * and count it in *failed).  Returns true when a sink was re-created.
 */
bool sinkswap_apply(struct merger *m, uint64_t *failed);

#endif /* PEERSCOPE_SINKSWAP_H */
