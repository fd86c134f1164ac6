/*
 * merger_main.h - the merger thread: pops closed windows from every
 * worker's ring and the BMP side's messages, merges windows of the same
 * start, publishes each once every worker has passed it, and serves the
 * sinks and SIGHUP's requests between polls (merger.h: its state).
 */
#ifndef PEERSCOPE_MERGER_MAIN_H
#define PEERSCOPE_MERGER_MAIN_H

#include <stdbool.h>

struct merger;

/* @thread merger.  Runs until every worker has handed its final window. */
void *merger_main(void *arg);

/* @thread merger (or the only thread).  Drain rings once; true if work done. */
bool merger_poll(struct merger *m);

#endif /* PEERSCOPE_MERGER_MAIN_H */
