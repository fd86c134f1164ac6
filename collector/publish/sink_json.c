/* sink_json.c - JSON lines, one message a line, to a file or stdout. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "publish/sink.h"

/* The open file and where it came from, so SIGHUP can reopen it. */
struct json_out {
	FILE *f;
	char path[256];
	bool created; /* by this open: ours to hand to run_as_user */
};

/*
 * fopen(path, append ? "ae" : "we"), and whether the file is new: tried
 * with O_EXCL first, so a file that already existed is never mistaken
 * for one of ours.
 */
static FILE *output_open(const char *path, bool append, bool *created)
{
	int mode = O_WRONLY | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
	int fd = open(path, mode | O_CREAT | O_EXCL, 0644);
	FILE *f;

	*created = fd != -1;
	if (fd == -1 && errno == EEXIST)
		fd = open(path, mode);
	if (fd == -1)
		return NULL;
	f = fdopen(fd, append ? "a" : "w");
	if (f == NULL)
		close(fd);
	return f;
}

static int json_publish(struct sink *s, enum msg_type type, const char *key,
			const char *json, size_t len)
{
	FILE *f = ((struct json_out *)s->ctx)->f;

	(void)type;
	(void)key;
	if (fwrite(json, 1, len, f) != len || fputc('\n', f) == EOF)
		return -1;
	return 0;
}

static int json_flush(struct sink *s)
{
	return fflush(((struct json_out *)s->ctx)->f) == 0 ? 0 : -1;
}

static void json_close(struct sink *s)
{
	struct json_out *o = s->ctx;

	if (o == NULL)
		return;
	fflush(o->f);
	if (o->f != stdout)
		fclose(o->f);
	free(o);
	s->ctx = NULL;
}

/*
 * @thread merger.  After logrotate moved the file away: write to a fresh
 * file at the same path.  On failure the old stream stays (and the next
 * SIGHUP tries again), so no message is lost to a failed reopen.
 */
static int json_reopen(struct sink *s, char *err, size_t errlen)
{
	struct json_out *o = s->ctx;
	FILE *f;

	if (o == NULL || o->f == stdout)
		return 0;
	f = output_open(o->path, true, &o->created);
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
		return -1;
	}
	fflush(o->f);
	fclose(o->f);
	o->f = f;
	return 0;
}

static const struct sink_ops json_ops = {
	.name = "json",
	.publish = json_publish,
	.flush = json_flush,
	.close = json_close,
	.reopen = json_reopen,
};

int sink_json_open(struct sink *s, const char *path, bool append, char *err,
		   size_t errlen)
{
	struct json_out *o = calloc(1, sizeof(*o));

	memset(s, 0, sizeof(*s));
	s->ops = &json_ops;
	if (o == NULL) {
		snprintf(err, errlen, "output %s: out of memory", path);
		return -1;
	}
	snprintf(o->path, sizeof(o->path), "%s", path);
	o->f = strcmp(path, "-") == 0 ? stdout :
					output_open(path, append, &o->created);
	if (o->f == NULL) {
		snprintf(err, errlen, "output %s: %s", path, strerror(errno));
		free(o);
		return -1;
	}
	s->ctx = o;
	return 0;
}

int sink_json_give_to(struct sink *s, uid_t uid, gid_t gid, char *err,
		      size_t errlen)
{
	struct json_out *o = s->ctx;
	struct stat st;
	int fd;

	if (o == NULL || o->f == stdout)
		return 0;
	fd = fileno(o->f);
	/* a device, a pipe or someone else's file stays as it is */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (!o->created && st.st_uid != 0))
		return 0;
	if (fchown(fd, uid, gid) == -1) {
		snprintf(err, errlen, "%s: chown: %s", o->path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int sink_publish(struct sink *s, enum msg_type type, const char *key,
		 const char *json, size_t len)
{
	if (s->ops->publish(s, type, key, json, len) == -1) {
		s->failed[type]++;
		return -1;
	}
	s->published[type]++;
	return 0;
}

uint64_t sink_failed_total(const struct sink *s)
{
	uint64_t failed = s->flush_failed;

	for (int t = 0; t < MSG_TYPE_COUNT; t++)
		failed += s->failed[t];
	return failed;
}

void sink_flush(struct sink *s)
{
	uint64_t failed;

	if (s->ops->flush != NULL && s->ops->flush(s) == -1)
		s->flush_failed++;
	failed = sink_failed_total(s);
	s->failing = failed != s->failed_seen;
	s->failed_seen = failed;
}

bool sink_is_up(struct sink *s, uint64_t now_ns, char *why, size_t whylen)
{
	why[0] = '\0';
	if (whylen < 32)
		return !s->failing; /* no room for a reason: the state only */
	if (s->failing) {
		snprintf(why, whylen, "failing (%llu failures)",
			 (unsigned long long)sink_failed_total(s));
		return false;
	}
	if (s->ops->healthy == NULL ||
	    s->ops->healthy(s, now_ns, why + 6, whylen - 6))
		return true;
	memcpy(why, "down: ", 6); /* "sink kafka down: no broker ..." */
	return false;
}

void sink_close(struct sink *s)
{
	if (s != NULL && s->ops != NULL && s->ops->close != NULL)
		s->ops->close(s);
}
