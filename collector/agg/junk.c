/* junk.c - see junk.h. */
#include <stdlib.h>
#include <string.h>

#include "agg/junk.h"
#include "base/json.h"

struct junk_source *junk_get(struct junk_table *t, const struct ps_addr *src,
			     uint16_t port)
{
	struct junk_source *e;

	if (t->v == NULL) {
		t->v = calloc(JUNK_MAX_SOURCES + 1, sizeof(*t->v));
		if (t->v == NULL)
			return NULL;
	}
	/* linear: junk is rare, and the table small */
	for (uint32_t i = 0; i < t->n; i++)
		if (t->v[i].port == port &&
		    memcmp(&t->v[i].source, src, sizeof(*src)) == 0)
			return &t->v[i];
	if (t->n == JUNK_MAX_SOURCES)
		return &t->v[JUNK_MAX_SOURCES];
	e = &t->v[t->n++];
	e->source = *src;
	e->port = port;
	return e;
}

static void source_add(struct junk_source *d, const struct junk_source *s)
{
	d->datagrams += s->datagrams;
	d->bytes += s->bytes;
	dec_stats_add(&d->errors, &s->errors);
}

void junk_merge(struct junk_table *dst, const struct junk_table *src)
{
	struct junk_source *d;

	if (src->v == NULL)
		return;
	for (uint32_t i = 0; i < src->n; i++) {
		d = junk_get(dst, &src->v[i].source, src->v[i].port);
		if (d != NULL)
			source_add(d, &src->v[i]);
	}
	if (src->v[JUNK_MAX_SOURCES].datagrams != 0 && dst->v != NULL)
		source_add(&dst->v[JUNK_MAX_SOURCES],
			   &src->v[JUNK_MAX_SOURCES]);
}

void junk_free(struct junk_table *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

uint64_t junk_datagrams(const struct junk_table *t)
{
	uint64_t n = 0;

	for (uint32_t i = 0; t->v != NULL && i <= JUNK_MAX_SOURCES; i++)
		n += t->v[i].datagrams;
	return n;
}

static void source_json(struct jbuf *j, const struct junk_source *e)
{
	char addr[64];

	json_obj_begin(j, NULL);
	if (e->source.af != 0) {
		json_str(j, "source",
			 ps_addr_format(&e->source, addr, sizeof(addr)));
		json_u64(j, "port", e->port);
	} else {
		json_str(j, "source", "other");
		json_null(j, "port");
	}
	json_u64(j, "datagrams", e->datagrams);
	json_u64(j, "bytes", e->bytes);
	json_obj_begin(j, "reasons");
	for (unsigned r = 0; r < DEC_REASON_COUNT; r++)
		if (e->errors.n[r] != 0)
			json_u64(j, dec_reason_name(r), e->errors.n[r]);
	json_obj_end(j);
	json_obj_end(j);
}

void junk_json(struct jbuf *j, const char *key, const struct junk_table *t)
{
	json_arr_begin(j, key);
	for (uint32_t i = 0; t->v != NULL && i < t->n; i++)
		source_json(j, &t->v[i]);
	if (t->v != NULL && t->v[JUNK_MAX_SOURCES].datagrams != 0)
		source_json(j, &t->v[JUNK_MAX_SOURCES]);
	json_arr_end(j);
}
