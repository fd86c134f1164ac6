/* config_yaml.c - the configuration file (libyaml events -> dotted keys).
 * See config.h (config_load) and config_keys.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/config.h"
#include "base/config_value.h"

struct cfg_yaml {
	yaml_parser_t parser;
	struct ps_config *cfg; /* &tmp: the caller's struct on success */
	struct ps_config tmp;
	struct cfg_src src;
	unsigned long seen_line[PS_CFG_MAX_KEYS]; /* 0 = not yet */
};

static int yaml_fail_syntax(struct cfg_yaml *y)
{
	const yaml_parser_t *p = &y->parser;
	const char *problem = p->problem ? p->problem : "unknown error";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		y->src.line = 0;
		return cfg_fail(&y->src, NULL, "out of memory reading YAML");
	case YAML_READER_ERROR:
		y->src.line = 0;
		return cfg_fail(&y->src, NULL, "byte %zu: %s",
				p->problem_offset, problem);
	default:
		break;
	}
	y->src.line = p->problem_mark.line + 1;
	if (p->context)
		return cfg_fail(&y->src, NULL,
				"YAML syntax error: %s (%s on line %zu)",
				problem, p->context, p->context_mark.line + 1);
	return cfg_fail(&y->src, NULL, "YAML syntax error: %s", problem);
}

static int yaml_next(struct cfg_yaml *y, yaml_event_t *ev)
{
	if (yaml_parser_parse(&y->parser, ev))
		return 0;
	return yaml_fail_syntax(y);
}

static unsigned long ev_line(const yaml_event_t *ev)
{
	return ev->start_mark.line + 1;
}

/* A plain empty, ~ or null scalar: YAML's null. */
static bool ev_is_null(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;

	if (ev->type != YAML_SCALAR_EVENT ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* Scalar text, or NULL (after an error) if it holds a NUL byte. */
static const char *yaml_text(struct cfg_yaml *y, const struct cfg_key *k,
			     const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;

	if (strlen(s) != ev->data.scalar.length) {
		cfg_fail(&y->src, k->name, "value contains a NUL byte");
		return NULL;
	}
	return s;
}

static const char *ev_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT:
		return "a sequence";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_ALIAS_EVENT:
		return "an alias (aliases are not supported)";
	case YAML_SCALAR_EVENT:
		return ev_is_null(ev) ? "null" : "a scalar";
	default:
		return "something else";
	}
}

static int yaml_mapping(struct cfg_yaml *y, const char *prefix);

/*
 * The top-level `connections:` list is the connection registry's
 * (conn/registry.c reads the same file): its node is skipped here, its
 * line noted.  Events up to the end of the node that starts with `first`.
 */
static int yaml_skip_node(struct cfg_yaml *y, const yaml_event_t *first)
{
	int depth = first->type == YAML_SEQUENCE_START_EVENT ||
		    first->type == YAML_MAPPING_START_EVENT;

	while (depth > 0) {
		yaml_event_t ev;

		if (yaml_next(y, &ev) == -1)
			return -1;
		if (ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT)
			depth++;
		else if (ev.type == YAML_SEQUENCE_END_EVENT ||
			 ev.type == YAML_MAPPING_END_EVENT)
			depth--;
		yaml_event_delete(&ev);
	}
	return 0;
}

static int yaml_connections(struct cfg_yaml *y)
{
	yaml_event_t ev;
	int rc;

	if (y->cfg->connections_line)
		return cfg_fail(&y->src, "connections",
				"duplicate key (first on line %lu)",
				(unsigned long)y->cfg->connections_line);
	y->cfg->connections_line = (uint32_t)y->src.line;
	if (yaml_next(y, &ev) == -1)
		return -1;
	rc = yaml_skip_node(y, &ev);
	yaml_event_delete(&ev);
	return rc;
}

/* The items of a sequence for a list key; the start event is consumed. */
static int yaml_list(struct cfg_yaml *y, const struct cfg_key *k)
{
	cfg_list_clear(y->cfg, k);
	for (;;) {
		yaml_event_t ev;
		const char *text;
		int rc;

		if (yaml_next(y, &ev) == -1)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		y->src.line = ev_line(&ev);
		if (ev.type != YAML_SCALAR_EVENT || ev_is_null(&ev))
			rc = cfg_bad_kind(&y->src, k, ev_kind(&ev));
		else if ((text = yaml_text(y, k, &ev)) == NULL)
			rc = -1;
		else
			rc = cfg_list_add(y->cfg, k, text, &y->src);
		yaml_event_delete(&ev);
		if (rc == -1)
			return -1;
	}
}

/*
 * The pairs of a CFG_MAP key's mapping, which replaces the map; the start
 * event is consumed.  Names may hold dots (librdkafka's "sasl.mechanism"):
 * they are data here, not paths.
 */
static int yaml_map(struct cfg_yaml *y, const struct cfg_key *k)
{
	struct ps_map *m = (struct ps_map *)((char *)y->cfg + k->off);

	m->count = 0;
	for (;;) {
		char name[PS_MAP_NAME_MAX];
		yaml_event_t ev;
		const char *text;
		int rc = 0;

		if (yaml_next(y, &ev) == -1)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		y->src.line = ev_line(&ev);
		if (ev.type != YAML_SCALAR_EVENT || ev_is_null(&ev))
			rc = cfg_bad_kind(&y->src, k, ev_kind(&ev));
		else if ((text = yaml_text(y, k, &ev)) == NULL)
			rc = -1;
		else if (strlen(text) >= sizeof(name))
			rc = cfg_bad_value(&y->src, k, text, strlen(text));
		else
			memcpy(name, text, strlen(text) + 1);
		yaml_event_delete(&ev);
		if (rc == -1 || yaml_next(y, &ev) == -1)
			return -1;
		if (ev.type != YAML_SCALAR_EVENT)
			rc = cfg_bad_kind(&y->src, k, ev_kind(&ev));
		else if ((text = yaml_text(y, k, &ev)) == NULL)
			rc = -1;
		else
			rc = cfg_map_put(y->cfg, k, name, text, &y->src);
		yaml_event_delete(&ev);
		if (rc == -1)
			return -1;
	}
}

/* An optional endpoint given as a sequence: only [] (off) makes sense. */
static int yaml_endpoint_off(struct cfg_yaml *y, const struct cfg_key *k)
{
	yaml_event_t ev;
	bool empty;

	if (yaml_next(y, &ev) == -1)
		return -1;
	empty = ev.type == YAML_SEQUENCE_END_EVENT;
	yaml_event_delete(&ev);
	if (!empty)
		return cfg_bad_kind(&y->src, k, "a non-empty sequence");
	return cfg_set_text(y->cfg, k, "-", &y->src);
}

/* The value of key k, starting with event ev (which the caller frees). */
static int yaml_value(struct cfg_yaml *y, const struct cfg_key *k,
		      const yaml_event_t *ev)
{
	const char *text;

	y->src.line = ev_line(ev);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev_is_null(ev)) {
			if (k->type == CFG_SECTION) /* all keys commented out */
				return 0;
			if (cfg_is_list(k)) {
				cfg_list_clear(y->cfg, k);
				return 0;
			}
			if (k->type == CFG_MAP)
				return cfg_map_set_text(y->cfg, k, "", &y->src);
			if (k->type == CFG_ENDPOINT && k->off_ok)
				return cfg_set_text(y->cfg, k, "-", &y->src);
			return cfg_bad_kind(&y->src, k, "null");
		}
		if (k->type == CFG_SECTION)
			return cfg_bad_kind(&y->src, k, "a scalar");
		text = yaml_text(y, k, ev);
		if (text == NULL)
			return -1;
		return cfg_set_text(y->cfg, k, text, &y->src);
	case YAML_SEQUENCE_START_EVENT:
		if (k->type == CFG_ENDPOINT && k->off_ok)
			return yaml_endpoint_off(y, k);
		if (!cfg_is_list(k))
			return cfg_bad_kind(&y->src, k, "a sequence");
		return yaml_list(y, k);
	case YAML_MAPPING_START_EVENT:
		if (k->type == CFG_MAP)
			return yaml_map(y, k);
		if (k->type != CFG_SECTION)
			return cfg_bad_kind(&y->src, k, "a mapping");
		return yaml_mapping(y, k->name);
	default:
		return cfg_bad_kind(&y->src, k, ev_kind(ev));
	}
}

/* Key/value pairs up to the mapping's end; the start event is consumed. */
static int yaml_mapping(struct cfg_yaml *y, const char *prefix)
{
	for (;;) {
		char shown[CFG_SHOW_MAX * 4 + 4];
		char path[CFG_PATH_MAX];
		const struct cfg_key *k;
		yaml_event_t ev;
		const char *key;
		size_t idx, len;
		int rc, n;

		if (yaml_next(y, &ev) == -1)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		y->src.line = ev_line(&ev);
		if (ev.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&ev);
			return cfg_fail(&y->src, prefix,
					"a key must be a plain name");
		}
		key = (const char *)ev.data.scalar.value;
		len = ev.data.scalar.length;
		n = snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "",
			     prefix ? "." : "", key);
		if (prefix == NULL && strcmp(key, "connections") == 0 &&
		    len == strlen(key)) {
			yaml_event_delete(&ev);
			if (yaml_connections(y) == -1)
				return -1;
			continue;
		}
		k = NULL;
		if (n > 0 && (size_t)n < sizeof(path) && strlen(key) == len &&
		    !strchr(key, '.'))
			k = cfg_key_find(path);
		if (k == NULL) {
			bool dotted = memchr(key, '.', len) != NULL;

			cfg_escape(shown, sizeof(shown), key, len);
			yaml_event_delete(&ev);
			return cfg_fail(&y->src, NULL, "%s%s%s: unknown key%s",
					prefix ? prefix : "", prefix ? "." : "",
					shown,
					dotted ? " (nest mappings instead of "
						 "dotted keys)"
					       : "");
		}
		yaml_event_delete(&ev);

		idx = (size_t)(k - cfg_keys);
		if (y->seen_line[idx])
			return cfg_fail(&y->src, k->name,
					"duplicate key (first on line %lu)",
					y->seen_line[idx]);
		y->seen_line[idx] = y->src.line;
		y->cfg->key_line[idx] = (uint32_t)y->src.line;

		if (yaml_next(y, &ev) == -1)
			return -1;
		rc = yaml_value(y, k, &ev);
		yaml_event_delete(&ev);
		if (rc == -1)
			return -1;
	}
}

/* Every event up to the end of the stream, discarded. */
static int yaml_check_syntax(struct cfg_yaml *y)
{
	for (;;) {
		yaml_event_t ev;
		bool end;

		if (yaml_next(y, &ev) == -1)
			return -1;
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (end)
			return 0;
	}
}

/* One document holding one mapping; an empty file is an empty config. */
static int yaml_stream(struct cfg_yaml *y)
{
	yaml_event_t ev;
	int rc;

	if (yaml_next(y, &ev) == -1) /* stream start */
		return -1;
	yaml_event_delete(&ev);
	if (yaml_next(y, &ev) == -1)
		return -1;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev); /* document start */

	if (yaml_next(y, &ev) == -1)
		return -1;
	y->src.line = ev_line(&ev);
	if (ev.type == YAML_MAPPING_START_EVENT)
		rc = yaml_mapping(y, NULL);
	else if (ev_is_null(&ev))
		rc = 0;
	else
		rc = cfg_fail(&y->src, NULL,
			      "expected a mapping of keys at the top level, "
			      "got %s",
			      ev_kind(&ev));
	yaml_event_delete(&ev);
	if (rc == -1)
		return -1;

	if (yaml_next(y, &ev) == -1) /* document end */
		return -1;
	yaml_event_delete(&ev);
	if (yaml_next(y, &ev) == -1)
		return -1;
	rc = 0;
	if (ev.type != YAML_STREAM_END_EVENT) {
		y->src.line = ev_line(&ev);
		rc = cfg_fail(&y->src, NULL,
			      "more than one YAML document (one is expected)");
	}
	yaml_event_delete(&ev);
	return rc;
}

int config_load(struct ps_config *cfg, const char *path, char *err,
		size_t errlen)
{
	struct cfg_yaml *y;
	FILE *f;
	int rc;

	/* The parser and the struct copy are a few KB: off the stack. */
	y = calloc(1, sizeof(*y));
	if (y == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto err_free;
	}
	if (!yaml_parser_initialize(&y->parser)) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto err_close;
	}
	y->tmp = *cfg;
	y->tmp.connections_line = 0; /* the file's own `connections:` */
	y->cfg = &y->tmp;
	y->src = (struct cfg_src){path, 0, err, errlen};

	/*
	 * Two passes: syntax first, so a YAML error is reported as such
	 * rather than as a strange value (libyaml folds "a: 1\n  b: 2" into
	 * the scalar "1 b" before it finds the stray colon).
	 */
	yaml_parser_set_input_file(&y->parser, f);
	rc = yaml_check_syntax(y);
	if (rc == 0) {
		yaml_parser_delete(&y->parser);
		rewind(f);
		if (!yaml_parser_initialize(&y->parser)) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto err_close;
		}
		yaml_parser_set_input_file(&y->parser, f);
		rc = yaml_stream(y);
	}
	if (rc == 0) {
		snprintf(y->tmp.path, sizeof(y->tmp.path), "%s", path);
		*cfg = y->tmp;
	}
	yaml_parser_delete(&y->parser);
	fclose(f);
	free(y);
	return rc;

err_close:
	fclose(f);
err_free:
	free(y);
	return -1;
}
