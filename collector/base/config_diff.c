/*
 * config_diff.c - see config_diff.h.
 *
 * Which keys a SIGHUP applies without a restart, and why only those, is
 * said in run/live.c; the list is here, beside the diff that uses it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config_diff.h"

#define DIFF_MAX_KEYS 128

static const char *const live_keys[] = {
	"log.level",
	"log.format",
	"metrics.max_connections",
	"shutdown_timeout_seconds",
	/* from the next aligned window boundary on (cfgpub.h) */
	"window_seconds",
	"limits.connections_per_worker",
	"limits.exporters_per_worker",
	"limits.connections_per_window",
	"limits.exporters_per_window",
	/* the merger opens, re-creates or closes the sinks (sinkswap.h) */
	"output.json.*",
	"output.kafka.*",
	/* each worker at its next receive batch (netaddr.h) */
	"udp.allow",
};

/* "a.b" matches itself; "a.*" matches every key under a. */
static bool key_matches(const char *key, const char *pattern)
{
	size_t n = strlen(pattern);

	if (n >= 2 && strcmp(pattern + n - 2, ".*") == 0)
		return strncmp(key, pattern, n - 1) == 0;
	return strcmp(key, pattern) == 0;
}

static bool key_is_live(const char *key)
{
	for (size_t i = 0; i < sizeof(live_keys) / sizeof(live_keys[0]); i++)
		if (key_matches(key, live_keys[i]))
			return true;
	return false;
}

struct flat {
	char key[DIFF_MAX_KEYS][96];
	char *value[DIFF_MAX_KEYS];
	unsigned n;
	char *text;
};

/*
 * config_dump() prints one key per line, two spaces per level, lists
 * inline: enough to rebuild each dotted key with its value as text.
 */
static int flatten(const struct ps_config *cfg, struct flat *f)
{
	char path[8][64];
	size_t len = 0;
	FILE *m;
	char *line, *save = NULL;

	memset(f, 0, sizeof(*f));
	m = open_memstream(&f->text, &len);
	if (m == NULL)
		return -1;
	config_dump(cfg, m);
	fclose(m);
	for (line = strtok_r(f->text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t indent = strspn(line, " ");
		unsigned depth = (unsigned)(indent / 2);
		char *colon = strchr(line, ':');
		char *key = line + indent;

		if (line[0] == '#' || colon == NULL || depth >= 8)
			continue;
		*colon = '\0';
		snprintf(path[depth], sizeof(path[depth]), "%s", key);
		if (colon[1] == '\0')
			continue; /* a section */
		if (f->n == DIFF_MAX_KEYS)
			break;
		f->key[f->n][0] = '\0';
		for (unsigned d = 0; d <= depth; d++) {
			size_t used = strlen(f->key[f->n]);

			snprintf(f->key[f->n] + used,
				 sizeof(f->key[f->n]) - used, "%s%s",
				 d > 0 ? "." : "", path[d]);
		}
		f->value[f->n++] = colon + 1;
	}
	return 0;
}

/*
 * Call fn for each key whose value differs from a to b, in b's order.
 * -1 when out of memory (then nothing is reported).
 */
static int diff_walk(const struct ps_config *a, const struct ps_config *b,
		     void (*fn)(const char *key, void *ctx), void *ctx)
{
	struct flat *fa = calloc(1, sizeof(*fa)), *fb = calloc(1, sizeof(*fb));
	int rc = -1;

	if (fa == NULL || fb == NULL || flatten(a, fa) == -1 ||
	    flatten(b, fb) == -1)
		goto done;
	for (unsigned i = 0; i < fb->n; i++) {
		const char *old = NULL;

		for (unsigned j = 0; j < fa->n && old == NULL; j++)
			if (strcmp(fa->key[j], fb->key[i]) == 0)
				old = fa->value[j];
		if (old == NULL || strcmp(old, fb->value[i]) != 0)
			fn(fb->key[i], ctx);
	}
	/* cfg->path is not a key: "config_dump" prints it as a comment. */
	rc = 0;
done:
	if (fa != NULL)
		free(fa->text);
	if (fb != NULL)
		free(fb->text);
	free(fa);
	free(fb);
	return rc;
}

struct diff_list {
	bool live;
	char *out;
	size_t outlen;
};

static void diff_list_add(const char *key, void *ctx)
{
	struct diff_list *d = ctx;
	size_t used = strlen(d->out);

	if (key_is_live(key) != d->live)
		return;
	snprintf(d->out + used, d->outlen - used, "%s%s", used ? ", " : "",
		 key);
}

void config_diff_list(const struct ps_config *a, const struct ps_config *b,
		      bool live, char *out, size_t outlen)
{
	struct diff_list d = { .live = live, .out = out, .outlen = outlen };

	out[0] = '\0';
	(void)diff_walk(a, b, diff_list_add, &d);
}

struct diff_match {
	const char *pattern;
	bool found;
};

static void diff_match_add(const char *key, void *ctx)
{
	struct diff_match *d = ctx;

	if (key_matches(key, d->pattern))
		d->found = true;
}

int config_diff_changed(const struct ps_config *a, const struct ps_config *b,
			const char *pattern)
{
	struct diff_match d = { .pattern = pattern, .found = false };

	if (diff_walk(a, b, diff_match_add, &d) == -1)
		return -1;
	return d.found ? 1 : 0;
}
