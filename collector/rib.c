/* rib.c - see rib.h. */
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "rib.h"

#define ATTR_MIN_BUCKETS 256

void attr_table_init(struct attr_table *t)
{
	memset(t, 0, sizeof(*t));
}

void attr_table_fini(struct attr_table *t)
{
	for (uint32_t i = 1; i < t->n; i++)
		free(t->v[i].bytes);
	free(t->v);
	free(t->bucket);
	memset(t, 0, sizeof(*t));
}

static int attr_rehash(struct attr_table *t, uint32_t nbucket)
{
	uint32_t *b = calloc(nbucket, sizeof(*b));

	if (b == NULL)
		return -1;
	for (uint32_t i = 1; i < t->n; i++) {
		uint32_t h;

		if (t->v[i].refs == 0)
			continue;
		h = (uint32_t)t->v[i].hash & (nbucket - 1);
		t->v[i].next = b[h];
		b[h] = i;
	}
	free(t->bucket);
	t->bucket = b;
	t->nbucket = nbucket;
	return 0;
}

uint32_t attr_get(struct attr_table *t, const uint8_t *bytes, uint32_t len)
{
	uint64_t hash = htab_hash(bytes, len);
	uint32_t id, h;
	struct attr_set *s;

	if (t->nbucket == 0 && attr_rehash(t, ATTR_MIN_BUCKETS) == -1)
		return 0;
	h = (uint32_t)hash & (t->nbucket - 1);
	for (id = t->bucket[h]; id != 0; id = t->v[id].next) {
		s = &t->v[id];
		if (s->hash == hash && s->len == len &&
		    memcmp(s->bytes, bytes, len) == 0) {
			s->refs++;
			return id;
		}
	}
	if (t->free_head != 0) {
		id = t->free_head;
		t->free_head = t->v[id].next;
	} else {
		if (t->n == 0)
			t->n = 1; /* id 0 is "none" */
		if (t->n >= t->cap) {
			uint32_t cap = t->cap ? t->cap * 2 : 64;
			struct attr_set *v = realloc(t->v, cap * sizeof(*v));

			if (v == NULL)
				return 0;
			t->v = v;
			t->cap = cap;
		}
		id = t->n++;
	}
	s = &t->v[id];
	s->bytes = malloc(len ? len : 1);
	if (s->bytes == NULL) {
		s->refs = 0;
		s->next = t->free_head;
		t->free_head = id;
		return 0;
	}
	memcpy(s->bytes, bytes, len);
	s->hash = hash;
	s->len = len;
	s->refs = 1;
	s->next = t->bucket[h];
	t->bucket[h] = id;
	t->live++;
	t->bytes += len;
	/* keep chains short: grow at one set per bucket on average */
	if (t->live > t->nbucket)
		(void)attr_rehash(t, t->nbucket * 2);
	return id;
}

void attr_put(struct attr_table *t, uint32_t id)
{
	struct attr_set *s;
	uint32_t h, *pp;

	if (id == 0 || id >= t->n)
		return;
	s = &t->v[id];
	if (s->refs == 0 || --s->refs > 0)
		return;
	h = (uint32_t)s->hash & (t->nbucket - 1);
	for (pp = &t->bucket[h]; *pp != 0; pp = &t->v[*pp].next)
		if (*pp == id) {
			*pp = s->next;
			break;
		}
	t->bytes -= s->len;
	t->live--;
	free(s->bytes);
	s->bytes = NULL;
	s->next = t->free_head;
	t->free_head = id;
}

void attr_ref(struct attr_table *t, uint32_t id)
{
	if (id != 0 && id < t->n && t->v[id].refs != 0)
		t->v[id].refs++;
}

void rib_table_init(struct rib_table *r)
{
	memset(r, 0, sizeof(*r));
}

void rib_table_clear(struct rib_table *r, struct attr_table *at)
{
	for (uint32_t i = 0; i < r->cap; i++)
		if (r->e[i].attr != 0)
			attr_put(at, r->e[i].attr);
	free(r->e);
	memset(r, 0, sizeof(*r));
}

void rib_table_fini(struct rib_table *r, struct attr_table *at)
{
	rib_table_clear(r, at);
}

static uint32_t key_hash(const struct rib_key *k)
{
	return (uint32_t)htab_hash(k, sizeof(*k));
}

static int rib_grow(struct rib_table *r)
{
	uint32_t cap = r->cap ? r->cap * 2 : 16;
	struct rib_entry *e = calloc(cap, sizeof(*e));

	if (e == NULL)
		return -1;
	for (uint32_t i = 0; i < r->cap; i++) {
		uint32_t j;

		if (r->e[i].attr == 0)
			continue;
		for (j = r->e[i].hash & (cap - 1); e[j].attr != 0;
		     j = (j + 1) & (cap - 1))
			;
		e[j] = r->e[i];
	}
	free(r->e);
	r->e = e;
	r->cap = cap;
	return 0;
}

/* Slot holding k, or the empty slot where it would go. */
static uint32_t rib_slot(const struct rib_table *r, const struct rib_key *k,
			 uint32_t h)
{
	uint32_t j = h & (r->cap - 1);

	while (r->e[j].attr != 0 &&
	       (r->e[j].hash != h || memcmp(&r->e[j].key, k, sizeof(*k)) != 0))
		j = (j + 1) & (r->cap - 1);
	return j;
}

int rib_insert(struct rib_table *r, struct attr_table *at,
	       const struct rib_key *k, uint32_t attr, uint32_t max_routes)
{
	uint32_t h = key_hash(k), j;

	/* load factor at most 3/4 keeps probes short */
	if ((r->count + 1) * 4 > r->cap * 3 && rib_grow(r) == -1) {
		attr_put(at, attr);
		return -1;
	}
	j = rib_slot(r, k, h);
	if (r->e[j].attr != 0) {
		attr_put(at, r->e[j].attr);
		r->e[j].attr = attr;
		return 0;
	}
	if (r->count >= max_routes) {
		attr_put(at, attr);
		return -1;
	}
	r->e[j].key = *k;
	r->e[j].hash = h;
	r->e[j].attr = attr;
	r->count++;
	return 1;
}

uint32_t rib_find(const struct rib_table *r, const struct rib_key *k)
{
	if (r->cap == 0)
		return 0;
	return r->e[rib_slot(r, k, key_hash(k))].attr;
}

int rib_remove(struct rib_table *r, struct attr_table *at,
	       const struct rib_key *k)
{
	uint32_t i, j;

	if (r->cap == 0)
		return 0;
	i = rib_slot(r, k, key_hash(k));
	if (r->e[i].attr == 0)
		return 0;
	attr_put(at, r->e[i].attr);
	r->e[i].attr = 0;
	r->count--;
	/* backward shift: pull later members of the probe run into the hole */
	for (j = (i + 1) & (r->cap - 1); r->e[j].attr != 0;
	     j = (j + 1) & (r->cap - 1)) {
		uint32_t home = r->e[j].hash & (r->cap - 1);

		/* move e[j] to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			r->e[i] = r->e[j];
			r->e[j].attr = 0;
			i = j;
		}
	}
	return 1;
}

size_t rib_table_bytes(const struct rib_table *r)
{
	return (size_t)r->cap * sizeof(struct rib_entry);
}
