/* sink_json.c - JSON lines, one message a line, to a file or stdout. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sink.h"

static int json_publish(struct sink *s, enum msg_type type, const char *key,
			const char *json, size_t len)
{
	FILE *f = s->ctx;

	(void)type;
	(void)key;
	if (fwrite(json, 1, len, f) != len || fputc('\n', f) == EOF)
		return -1;
	return 0;
}

static int json_flush(struct sink *s)
{
	return fflush((FILE *)s->ctx) == 0 ? 0 : -1;
}

static void json_close(struct sink *s)
{
	FILE *f = s->ctx;

	if (f == NULL)
		return;
	fflush(f);
	if (f != stdout)
		fclose(f);
	s->ctx = NULL;
}

static const struct sink_ops json_ops = {
	.name = "json",
	.publish = json_publish,
	.flush = json_flush,
	.close = json_close,
};

int sink_json_open(struct sink *s, const char *path, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->ops = &json_ops;
	if (strcmp(path, "-") == 0) {
		s->ctx = stdout;
		return 0;
	}
	s->ctx = fopen(path, "we");
	if (s->ctx == NULL) {
		snprintf(err, errlen, "output %s: %s", path, strerror(errno));
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

void sink_close(struct sink *s)
{
	if (s != NULL && s->ops != NULL && s->ops->close != NULL)
		s->ops->close(s);
}
