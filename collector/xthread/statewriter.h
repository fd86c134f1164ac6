/*
 * statewriter.h - the state-file writer: workers hand it snapshots, its
 * own thread puts them on disk, so no worker blocks on a file system.
 *
 *   worker:  buf = snapshot of its IPFIX state (malloc'd)
 *            state_writer_submit(sw, "state.3", buf, len, false)
 *   writer:  statefile_write("state.3", buf, ...); free(buf)
 *
 * The queue is bounded (PS_STATE_WRITER_QUEUE snapshots).  A snapshot for a
 * file that already has one waiting replaces it: each snapshot is the whole
 * state, so the newer one holds everything the older did.  A snapshot that
 * finds the queue full is dropped and counted (`dropped`); the worker's
 * next save tries again.  A final save (the end of a run) waits up to
 * STATE_WRITER_FINAL_WAIT_MS for room first.  Every write that fails
 * (statefile_write: the old file stays) and every snapshot the worker
 * could not make is counted (`failed`).  These counters are the writer's
 * own: /metrics publishes them (peerscope_state_saves_*_total), --stats
 * and the summary too when flow.state_file is set.
 *
 * @thread state_writer_submit, state_writer_count_failed: any (workers);
 * the writer thread; start/stop/fini: the thread that owns the pipeline.
 * @locks mu guards the queue and stop; the counters are atomics.
 */
#ifndef PEERSCOPE_STATEWRITER_H
#define PEERSCOPE_STATEWRITER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peerscope/limits.h"

#define STATE_WRITER_PATH_MAX	   300
#define STATE_WRITER_FINAL_WAIT_MS 5000

/* Published: written by workers and the writer, read by /metrics. */
struct state_writer_stats {
	_Atomic uint64_t saved;	  /* snapshots written to their file */
	_Atomic uint64_t failed;  /* snapshot or write failed */
	_Atomic uint64_t dropped; /* queue full: snapshot not written */
};

struct state_job {
	char path[STATE_WRITER_PATH_MAX];
	char *buf; /* owned by the queue until written */
	size_t len;
};

struct state_writer {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a job or stop: the writer wakes */
	pthread_cond_t room; /* a slot freed: a final save wakes */
	struct state_job q[PS_STATE_WRITER_QUEUE];
	unsigned head, count;
	bool stop, running, ready;
	pthread_t thread;
	struct state_writer_stats stats;
};

/* 0, or -1 (mutex or condition variables could not be made). */
int state_writer_init(struct state_writer *sw);

/* Start the writer thread: 0, or -1 (jobs are then written by stop). */
int state_writer_start(struct state_writer *sw);

/*
 * Hand a snapshot over (buf from malloc, freed by the writer, or here
 * when dropped).  0 queued, -1 dropped and counted.  final: wait for room
 * (bounded) rather than drop at once.
 */
int state_writer_submit(struct state_writer *sw, const char *path, char *buf,
			size_t len, bool final);

/* A snapshot that could not be made (out of memory): count it. */
void state_writer_count_failed(struct state_writer *sw);

/* Write what is queued, stop the thread and wait for it (idempotent). */
void state_writer_stop(struct state_writer *sw);

/* Stop, then free what it holds; accepts one never initialised (zeroed). */
void state_writer_fini(struct state_writer *sw);

#endif /* PEERSCOPE_STATEWRITER_H */
