/* sink_json.c - JSON lines, one message a line, to a file or stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"

/* The open file and where it came from, so SIGHUP can reopen it. */
struct json_out {
	FILE *f;
	char path[256];
};

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
static int json_reopen(struct sink *s)
{
	struct json_out *o = s->ctx;
	FILE *f;

	if (o == NULL || o->f == stdout)
		return 0;
	f = fopen(o->path, "ae");
	if (f == NULL)
		return -1;
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
					fopen(path, append ? "ae" : "we");
	if (o->f == NULL) {
		snprintf(err, errlen, "output %s: %s", path, strerror(errno));
		free(o);
		return -1;
	}
	s->ctx = o;
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

void sink_close(struct sink *s)
{
	if (s != NULL && s->ops != NULL && s->ops->close != NULL)
		s->ops->close(s);
}
