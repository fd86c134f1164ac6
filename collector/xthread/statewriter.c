/*
 * statewriter.c - the state-file writer thread and its bounded queue
 * (statewriter.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/statefile.h"
#include "xthread/statewriter.h"

static void count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* 0600, atomic, no symlink followed; the old file stays on failure. */
static void write_job(struct state_writer *sw, struct state_job *j)
{
	char err[400];

	if (statefile_write(j->path, j->buf, j->len, 0600, err,
			    sizeof(err)) == -1)
		count(&sw->stats.failed);
	else
		count(&sw->stats.saved);
	free(j->buf);
	j->buf = NULL;
}

/* @locks mu held: take the oldest job into *j; false when none. */
static bool take(struct state_writer *sw, struct state_job *j)
{
	if (sw->count == 0)
		return false;
	*j = sw->q[sw->head];
	sw->q[sw->head].buf = NULL;
	sw->head = (sw->head + 1) % PS_STATE_WRITER_QUEUE;
	sw->count--;
	pthread_cond_broadcast(&sw->room);
	return true;
}

static void *writer_main(void *arg)
{
	struct state_writer *sw = arg;
	struct state_job j;

	pthread_mutex_lock(&sw->mu);
	for (;;) {
		while (sw->count == 0 && !sw->stop)
			pthread_cond_wait(&sw->work, &sw->mu);
		if (!take(sw, &j))
			break; /* stop, queue empty */
		pthread_mutex_unlock(&sw->mu);
		write_job(sw, &j); /* the disk, without the lock */
		pthread_mutex_lock(&sw->mu);
	}
	pthread_mutex_unlock(&sw->mu);
	return NULL;
}

int state_writer_init(struct state_writer *sw)
{
	memset(sw, 0, sizeof(*sw));
	if (pthread_mutex_init(&sw->mu, NULL) != 0)
		return -1;
	if (pthread_cond_init(&sw->work, NULL) != 0) {
		pthread_mutex_destroy(&sw->mu);
		return -1;
	}
	if (pthread_cond_init(&sw->room, NULL) != 0) {
		pthread_cond_destroy(&sw->work);
		pthread_mutex_destroy(&sw->mu);
		return -1;
	}
	sw->ready = true;
	return 0;
}

int state_writer_start(struct state_writer *sw)
{
	if (!sw->ready || sw->running)
		return -1;
	if (pthread_create(&sw->thread, NULL, writer_main, sw) != 0)
		return -1;
	sw->running = true;
	return 0;
}

/* @locks mu held: wait for a free slot until the deadline. */
static void wait_room(struct state_writer *sw)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STATE_WRITER_FINAL_WAIT_MS / 1000;
	while (sw->count == PS_STATE_WRITER_QUEUE && sw->running &&
	       !sw->stop)
		if (pthread_cond_timedwait(&sw->room, &sw->mu, &until) ==
		    ETIMEDOUT)
			break;
}

int state_writer_submit(struct state_writer *sw, const char *path, char *buf,
			size_t len, bool final)
{
	struct state_job *j = NULL;
	char *old = NULL;

	if (sw == NULL || !sw->ready ||
	    strlen(path) >= STATE_WRITER_PATH_MAX) {
		free(buf);
		if (sw != NULL && sw->ready)
			count(&sw->stats.failed);
		return -1;
	}
	pthread_mutex_lock(&sw->mu);
	/* A snapshot of the same file waiting: the newer one replaces it. */
	for (unsigned i = 0; i < sw->count && j == NULL; i++) {
		struct state_job *q =
			&sw->q[(sw->head + i) % PS_STATE_WRITER_QUEUE];

		if (strcmp(q->path, path) == 0) {
			j = q;
			old = q->buf;
		}
	}
	if (j == NULL && final)
		wait_room(sw);
	if (j == NULL && sw->count < PS_STATE_WRITER_QUEUE) {
		j = &sw->q[(sw->head + sw->count) % PS_STATE_WRITER_QUEUE];
		snprintf(j->path, sizeof(j->path), "%s", path);
		sw->count++;
	}
	if (j != NULL) {
		j->buf = buf;
		j->len = len;
		pthread_cond_signal(&sw->work);
	}
	pthread_mutex_unlock(&sw->mu);
	free(old);
	if (j == NULL) {
		free(buf);
		count(&sw->stats.dropped);
		return -1;
	}
	return 0;
}

void state_writer_count_failed(struct state_writer *sw)
{
	if (sw != NULL && sw->ready)
		count(&sw->stats.failed);
}

void state_writer_stop(struct state_writer *sw)
{
	struct state_job j;

	if (!sw->ready)
		return;
	if (sw->running) {
		pthread_mutex_lock(&sw->mu);
		sw->stop = true;
		pthread_cond_signal(&sw->work);
		pthread_mutex_unlock(&sw->mu);
		pthread_join(sw->thread, NULL);
		sw->running = false;
	}
	/* Never started (start-up failed): what is queued is written here. */
	pthread_mutex_lock(&sw->mu);
	while (take(sw, &j)) {
		pthread_mutex_unlock(&sw->mu);
		write_job(sw, &j);
		pthread_mutex_lock(&sw->mu);
	}
	pthread_mutex_unlock(&sw->mu);
}

void state_writer_fini(struct state_writer *sw)
{
	if (!sw->ready)
		return;
	state_writer_stop(sw);
	pthread_cond_destroy(&sw->room);
	pthread_cond_destroy(&sw->work);
	pthread_mutex_destroy(&sw->mu);
	sw->ready = false;
}
