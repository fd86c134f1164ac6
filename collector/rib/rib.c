/* rib.c - see rib.h. */
#include <stdlib.h>
#include <string.h>

#include "base/htab.h"
#include "rib/rib.h"

#define ATTR_MIN_BUCKETS 256
#define RIB_MIN_CAP	 16
#define RIB_MAX_KEY	 (1 + 16 + 4 + 8) /* length, prefix, path id, RD */

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
	for (unsigned v = 0; v < RIB_VIEWS; v++)
		for (unsigned f = 0; f < RIB_FAMILIES; f++) {
			struct rib_sub *s = &r->sub[v][f];

			for (uint32_t i = 0; i < s->cap && s->count > 0; i++) {
				uint32_t a;

				memcpy(&a, s->slot + (size_t)i * s->stride, 4);
				if (a != 0) {
					attr_put(at, a);
					s->count--;
				}
			}
			free(s->slot);
		}
	memset(r, 0, sizeof(*r));
}

void rib_table_fini(struct rib_table *r, struct attr_table *at)
{
	rib_table_clear(r, at);
}

static struct rib_sub *sub_of(const struct rib_table *r,
			      const struct rib_key *k)
{
	if (k->view >= RIB_VIEWS || k->afs >= RIB_FAMILIES)
		return NULL;
	return (struct rib_sub *)&r->sub[k->view][k->afs];
}

/* Prefix bytes k needs stored: 4, 8 or 16 (the bytes after are 0). */
static uint8_t rib_key_addr_len(const struct rib_key *k)
{
	for (int i = 15; i >= 8; i--)
		if (k->addr[i] != 0)
			return 16;
	for (int i = 7; i >= 4; i--)
		if (k->addr[i] != 0)
			return 8;
	return 4;
}

/* Whether the sub-table's layout holds k (absent fields read as 0). */
static bool sub_fits(const struct rib_sub *s, const struct rib_key *k)
{
	return s->addr_len >= rib_key_addr_len(k) &&
	       (s->has_path_id || k->path_id == 0) &&
	       (s->has_rd || k->rd == 0);
}

static void sub_set_layout(struct rib_sub *s, uint8_t addr_len,
			   bool has_path_id, bool has_rd)
{
	s->addr_len = addr_len;
	s->has_path_id = has_path_id;
	s->has_rd = has_rd;
	s->stride = (uint8_t)(4 + 1 + addr_len + (has_path_id ? 4 : 0) +
			      (has_rd ? 8 : 0));
}

/* The key bytes of a slot (after the attribute id): stride - 4 of them. */
static void sub_key_pack(const struct rib_sub *s, const struct rib_key *k,
			 uint8_t *out)
{
	size_t n = 0;

	out[n++] = k->len;
	memcpy(out + n, k->addr, s->addr_len);
	n += s->addr_len;
	if (s->has_path_id) {
		memcpy(out + n, &k->path_id, 4);
		n += 4;
	}
	if (s->has_rd)
		memcpy(out + n, &k->rd, 8);
}

/* The inverse; view and family are the caller's. */
static void sub_key_unpack(const struct rib_sub *s, const uint8_t *in,
		       struct rib_key *k)
{
	size_t n = 0;

	k->len = in[n++];
	memcpy(k->addr, in + n, s->addr_len);
	n += s->addr_len;
	if (s->has_path_id) {
		memcpy(&k->path_id, in + n, 4);
		n += 4;
	}
	if (s->has_rd)
		memcpy(&k->rd, in + n, 8);
}

static uint8_t *sub_slot(const struct rib_sub *s, uint32_t i)
{
	return s->slot + (size_t)i * s->stride;
}

static uint32_t sub_attr(const struct rib_sub *s, uint32_t i)
{
	uint32_t a;

	memcpy(&a, sub_slot(s, i), 4);
	return a;
}

static uint32_t sub_home(const struct rib_sub *s, const uint8_t *key)
{
	return (uint32_t)htab_hash(key, s->stride - 4u) & (s->cap - 1);
}

/* Slot holding the packed key, or the empty slot where it would go. */
static uint32_t sub_probe(const struct rib_sub *s, const uint8_t *key)
{
	uint32_t i = sub_home(s, key);

	while (sub_attr(s, i) != 0 &&
	       memcmp(sub_slot(s, i) + 4, key, s->stride - 4u) != 0)
		i = (i + 1) & (s->cap - 1);
	return i;
}

/* Move every route into `cap` slots laid out as `to`: 0 or -1 (OOM). */
static int sub_rebuild(struct rib_sub *s, uint32_t cap,
		       const struct rib_sub *to)
{
	struct rib_sub n;
	uint8_t key[RIB_MAX_KEY];
	struct rib_key k;

	memset(&n, 0, sizeof(n));
	sub_set_layout(&n, to->addr_len, to->has_path_id, to->has_rd);
	n.cap = cap;
	n.slot = calloc(cap, n.stride);
	if (n.slot == NULL)
		return -1;
	memset(&k, 0, sizeof(k));
	for (uint32_t i = 0; i < s->cap; i++) {
		uint32_t a = sub_attr(s, i), j;

		if (a == 0)
			continue;
		sub_key_unpack(s, sub_slot(s, i) + 4, &k);
		sub_key_pack(&n, &k, key);
		j = sub_probe(&n, key);
		memcpy(sub_slot(&n, j), &a, 4);
		memcpy(sub_slot(&n, j) + 4, key, n.stride - 4u);
		n.count++;
	}
	free(s->slot);
	*s = n;
	return 0;
}

/* Room for one more route like k: a layout that holds it, load <= 3/4. */
static int sub_make_room(struct rib_sub *s, const struct rib_key *k)
{
	uint8_t addr_len = rib_key_addr_len(k);
	struct rib_sub want;
	uint32_t cap = s->cap;

	memset(&want, 0, sizeof(want));
	if (cap == 0)
		sub_set_layout(&want, 4, false, false); /* start narrow */
	else
		want = *s;
	sub_set_layout(&want,
		       want.addr_len > addr_len ? want.addr_len : addr_len,
		       want.has_path_id || k->path_id != 0,
		       want.has_rd || k->rd != 0);
	if (((uint64_t)s->count + 1) * 4 > (uint64_t)cap * 3) {
		if (cap >= 1u << 31)
			return -1;
		cap = cap ? cap * 2 : RIB_MIN_CAP;
	}
	if (cap == s->cap && want.addr_len == s->addr_len &&
	    want.has_path_id == s->has_path_id && want.has_rd == s->has_rd)
		return 0;
	return sub_rebuild(s, cap, &want);
}

int rib_insert(struct rib_table *r, struct attr_table *at,
	       const struct rib_key *k, uint32_t attr, uint32_t max_routes)
{
	struct rib_sub *s = sub_of(r, k);
	uint8_t key[RIB_MAX_KEY];
	uint32_t i;

	if (s == NULL || attr == 0)
		goto refuse;
	if (s->cap != 0 && sub_fits(s, k)) {
		sub_key_pack(s, k, key);
		i = sub_probe(s, key);
		if (sub_attr(s, i) != 0) {
			attr_put(at, sub_attr(s, i));
			memcpy(sub_slot(s, i), &attr, 4);
			return 0;
		}
	}
	/* a new route: only now may the table refuse it or grow */
	if (r->count >= max_routes || sub_make_room(s, k) == -1)
		goto refuse;
	sub_key_pack(s, k, key);
	i = sub_probe(s, key);
	memcpy(sub_slot(s, i), &attr, 4);
	memcpy(sub_slot(s, i) + 4, key, s->stride - 4u);
	s->count++;
	r->count++;
	return 1;
refuse:
	attr_put(at, attr);
	return -1;
}

uint32_t rib_find(const struct rib_table *r, const struct rib_key *k)
{
	const struct rib_sub *s = sub_of(r, k);
	uint8_t key[RIB_MAX_KEY];

	if (s == NULL || s->cap == 0 || !sub_fits(s, k))
		return 0;
	sub_key_pack(s, k, key);
	return sub_attr(s, sub_probe(s, key));
}

/* Empty slot i, then pull later members of its probe run into the hole. */
static void sub_delete_slot(struct rib_sub *s, uint32_t i)
{
	uint32_t mask = s->cap - 1;

	memset(sub_slot(s, i), 0, 4);
	for (uint32_t j = (i + 1) & mask; sub_attr(s, j) != 0;
	     j = (j + 1) & mask) {
		uint32_t home = sub_home(s, sub_slot(s, j) + 4);

		/* move slot j to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			memcpy(sub_slot(s, i), sub_slot(s, j), s->stride);
			memset(sub_slot(s, j), 0, 4);
			i = j;
		}
	}
}

int rib_remove(struct rib_table *r, struct attr_table *at,
	       const struct rib_key *k)
{
	struct rib_sub *s = sub_of(r, k);
	uint8_t key[RIB_MAX_KEY];
	uint32_t i, a;

	if (s == NULL || s->cap == 0 || !sub_fits(s, k))
		return 0;
	sub_key_pack(s, k, key);
	i = sub_probe(s, key);
	a = sub_attr(s, i);
	if (a == 0)
		return 0;
	attr_put(at, a);
	sub_delete_slot(s, i);
	s->count--;
	r->count--;
	if (s->count == 0) {
		/* empty: hold nothing, and start narrow next time */
		free(s->slot);
		memset(s, 0, sizeof(*s));
	} else if (s->cap > RIB_MIN_CAP && s->count < s->cap / 8) {
		/* give memory back after mass withdrawals; on OOM keep it */
		(void)sub_rebuild(s, s->cap / 2, s);
	}
	return 1;
}

size_t rib_table_bytes(const struct rib_table *r)
{
	size_t n = 0;

	for (unsigned v = 0; v < RIB_VIEWS; v++)
		for (unsigned f = 0; f < RIB_FAMILIES; f++)
			n += (size_t)r->sub[v][f].cap * r->sub[v][f].stride;
	return n;
}

void rib_iter_init(struct rib_iter *it, unsigned view, unsigned afs)
{
	it->view = view;
	it->afs = afs;
	it->slot = 0;
}

bool rib_iter_next(const struct rib_table *r, struct rib_iter *it,
		   struct rib_key *k, uint32_t *attr)
{
	const struct rib_sub *s;

	if (it->view >= RIB_VIEWS || it->afs >= RIB_FAMILIES)
		return false;
	s = &r->sub[it->view][it->afs];
	while (it->slot < s->cap) {
		uint32_t a = sub_attr(s, it->slot++);

		if (a == 0)
			continue;
		memset(k, 0, sizeof(*k));
		k->view = (uint8_t)it->view;
		k->afs = (uint8_t)it->afs;
		sub_key_unpack(s, sub_slot(s, it->slot - 1) + 4, k);
		*attr = a;
		return true;
	}
	return false;
}
