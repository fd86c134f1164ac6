/*
 * ipfix_cache.c - the IPFIX / NetFlow v9 template cache: fair quotas and
 * eviction (see include/peerscope/ipfix.h for the policy).
 *
 * Layout of the caller's block (ipfix_cache_mem_size), each part aligned:
 *
 *   slots[capacity]      the templates, open addressing by key
 *   meta[capacity]       per slot: exporter record, recency links
 *   exp[max + 1]         one record per exporter address holding templates
 *                        (at most max_templates, plus a newcomer)
 *   exp_index[icap]      address hash -> record + 1 (0 = empty)
 *   bucket[2][quota + 1] per class and templates held: a list of records
 *
 * Lists are doubly linked by index (NONE at the ends).  A live slot is on
 * its exporter's use list (newest = most recently used) and on the
 * definition list (oldest = re-sent least recently: the first to expire);
 * a withdrawn slot is on the withdrawn list.  Backward-shift deletion
 * moves slots: slot_moved() repoints the neighbours of what moved.
 */
#include <stddef.h>
#include <string.h>

#include "ipfix_cache.h"

#define NONE		    UINT32_MAX
#define TCACHE_LOAD_NUM	    3 /* slots taken at most 3/4 full */
#define TCACHE_LOAD_DEN	    4
#define TCACHE_MIN_CAPACITY 16
#define CLASS_REST	    0 /* only ever sent templates */
#define CLASS_PREFERRED	    1 /* data decoded, or pinned */

struct ipfix_tmeta {
	uint32_t exporter;	       /* record (live slots) */
	uint32_t use_newer, use_older; /* exporter's use list, or withdrawn */
	uint32_t def_newer, def_older; /* definition list (live slots) */
};

struct ipfix_texporter {
	struct ps_addr addr;
	uint8_t cls;			 /* CLASS_* */
	uint32_t live;			 /* templates held */
	uint32_t use_newest, use_oldest; /* its live slots */
	uint32_t b_prev, b_next;	 /* bucket list; b_next = free list */
	uint32_t index;			 /* its exp_index slot */
};

const char *ipfix_evict_name(enum ipfix_evict r)
{
	static const char *const name[IPFIX_EVICT_COUNT] = {
		[IPFIX_EVICT_QUOTA] = "exporter_quota",
		[IPFIX_EVICT_EXPIRED] = "expired",
		[IPFIX_EVICT_FULL] = "cache_full",
	};

	return r < IPFIX_EVICT_COUNT ? name[r] : "none";
}

/* ---- memory ------------------------------------------------------------ */

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t c = TCACHE_MIN_CAPACITY;

	while (c < n)
		c *= 2;
	return c;
}

static size_t align16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

struct tcache_layout {
	uint32_t capacity, nexp, icap, quota;
	size_t off_meta, off_exp, off_index, off_bucket, total;
};

static int tcache_layout(const struct ipfix_cache_limits *lim,
			 struct tcache_layout *l)
{
	if (lim->max_templates == 0 || lim->max_templates > (1U << 24))
		return -1;
	l->capacity = pow2_at_least(2ULL * lim->max_templates);
	l->nexp = lim->max_templates + 1;
	l->icap = pow2_at_least(2ULL * l->nexp);
	l->quota = lim->max_per_exporter == 0 ||
				   lim->max_per_exporter > lim->max_templates ?
			   lim->max_templates :
			   lim->max_per_exporter;
	l->off_meta =
		align16((size_t)l->capacity * sizeof(struct ipfix_template));
	l->off_exp = l->off_meta +
		     align16((size_t)l->capacity * sizeof(struct ipfix_tmeta));
	l->off_index = l->off_exp + align16((size_t)l->nexp *
					    sizeof(struct ipfix_texporter));
	l->off_bucket = l->off_index + align16((size_t)l->icap * 4);
	l->total = l->off_bucket + align16(2 * ((size_t)l->quota + 1) * 4);
	return 0;
}

size_t ipfix_cache_mem_size(const struct ipfix_cache_limits *lim)
{
	struct tcache_layout l;

	return tcache_layout(lim, &l) == 0 ? l.total : 0;
}

int ipfix_cache_init(struct ipfix_cache *tc, void *mem, size_t len,
		     const struct ipfix_cache_limits *lim)
{
	struct tcache_layout l;
	uint8_t *base = mem;

	if (mem == NULL || tcache_layout(lim, &l) == -1 || len < l.total ||
	    ((uintptr_t)mem & 15) != 0)
		return -1;
	memset(tc, 0, sizeof(*tc));
	memset(mem, 0, l.total);
	tc->slots = mem;
	tc->meta = (struct ipfix_tmeta *)(base + l.off_meta);
	tc->exp = (struct ipfix_texporter *)(base + l.off_exp);
	tc->exp_index = (uint32_t *)(base + l.off_index);
	tc->bucket = (uint32_t *)(base + l.off_bucket);
	tc->capacity = l.capacity;
	tc->exp_index_cap = l.icap;
	tc->max_templates = lim->max_templates;
	tc->max_per_exporter = l.quota;
	tc->timeout_s = lim->timeout_s;
	for (uint32_t i = 0; i < 2 * (l.quota + 1); i++)
		tc->bucket[i] = NONE;
	/* free list of exporter records through b_next */
	for (uint32_t i = 0; i < l.nexp; i++)
		tc->exp[i].b_next = i + 1 < l.nexp ? i + 1 : NONE;
	tc->exp_free = 0;
	tc->exp_busy = NONE;
	tc->def_oldest = tc->def_newest = NONE;
	tc->wd_oldest = tc->wd_newest = NONE;
	return 0;
}

/* ---- hashing ----------------------------------------------------------- */

static uint32_t fnv(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h ^ (h >> 15);
}

static uint32_t tkey_home(const struct ipfix_cache *tc,
			  const struct ipfix_tkey *k)
{
	return fnv(k, sizeof(*k)) & (tc->capacity - 1);
}

static uint32_t addr_home(const struct ipfix_cache *tc, const struct ps_addr *a)
{
	return fnv(a, sizeof(*a)) & (tc->exp_index_cap - 1);
}

/* Whether `home` lies cyclically in (hole, j]: then j's entry stays. */
static bool stays(uint32_t hole, uint32_t j, uint32_t home)
{
	return hole <= j ? hole < home && home <= j : hole < home || home <= j;
}

/* ---- exporter records and class buckets -------------------------------- */

static uint32_t *bucket_head(struct ipfix_cache *tc, uint8_t cls, uint32_t n)
{
	return &tc->bucket[(size_t)cls * (tc->max_per_exporter + 1) + n];
}

static void bucket_unlink(struct ipfix_cache *tc, uint32_t x)
{
	struct ipfix_texporter *e = &tc->exp[x];

	if (e->b_prev != NONE)
		tc->exp[e->b_prev].b_next = e->b_next;
	else
		*bucket_head(tc, e->cls, e->live) = e->b_next;
	if (e->b_next != NONE)
		tc->exp[e->b_next].b_prev = e->b_prev;
}

static void bucket_link(struct ipfix_cache *tc, uint32_t x)
{
	struct ipfix_texporter *e = &tc->exp[x];
	uint32_t *head = bucket_head(tc, e->cls, e->live);

	e->b_prev = NONE;
	e->b_next = *head;
	if (*head != NONE)
		tc->exp[*head].b_prev = x;
	*head = x;
	if (e->live > tc->bucket_top[e->cls])
		tc->bucket_top[e->cls] = e->live;
}

/* The record of the class holding the most templates, or NONE. */
static uint32_t largest_holder(struct ipfix_cache *tc, uint8_t cls)
{
	/* bucket_top only overshoots: lower it past emptied buckets */
	while (tc->bucket_top[cls] > 0 &&
	       *bucket_head(tc, cls, tc->bucket_top[cls]) == NONE)
		tc->bucket_top[cls]--;
	return tc->bucket_top[cls] > 0 ?
		       *bucket_head(tc, cls, tc->bucket_top[cls]) :
		       NONE;
}

static uint32_t exp_find(const struct ipfix_cache *tc, const struct ps_addr *a)
{
	uint32_t mask = tc->exp_index_cap - 1;

	for (uint32_t i = addr_home(tc, a);; i = (i + 1) & mask) {
		uint32_t x = tc->exp_index[i];

		if (x == 0)
			return NONE;
		if (memcmp(&tc->exp[x - 1].addr, a, sizeof(*a)) == 0)
			return x - 1;
	}
}

/* The exporter's record, made (holding nothing) when absent. */
static uint32_t exp_get(struct ipfix_cache *tc, const struct ps_addr *a)
{
	uint32_t mask = tc->exp_index_cap - 1;
	uint32_t x = exp_find(tc, a), i;

	if (x != NONE)
		return x;
	/* one record per exporter holding templates, plus this one: the
	 * pool (max_templates + 1) cannot run out */
	x = tc->exp_free;
	tc->exp_free = tc->exp[x].b_next;
	memset(&tc->exp[x], 0, sizeof(tc->exp[x]));
	tc->exp[x].addr = *a;
	tc->exp[x].use_newest = tc->exp[x].use_oldest = NONE;
	for (i = addr_home(tc, a); tc->exp_index[i] != 0; i = (i + 1) & mask)
		;
	tc->exp_index[i] = x + 1;
	tc->exp[x].index = i;
	return x;
}

/* A record that holds nothing goes back to the pool. */
static void exp_release_if_empty(struct ipfix_cache *tc, uint32_t x)
{
	uint32_t mask = tc->exp_index_cap - 1;
	uint32_t hole = tc->exp[x].index, j = hole;

	if (tc->exp[x].live != 0 || x == tc->exp_busy)
		return;
	for (;;) {
		uint32_t y;

		j = (j + 1) & mask;
		if (tc->exp_index[j] == 0)
			break;
		y = tc->exp_index[j] - 1;
		if (stays(hole, j, addr_home(tc, &tc->exp[y].addr)))
			continue;
		tc->exp_index[hole] = tc->exp_index[j];
		tc->exp[y].index = hole;
		hole = j;
	}
	tc->exp_index[hole] = 0;
	tc->exp[x].b_next = tc->exp_free;
	tc->exp_free = x;
}

/* One more or one fewer live template for record x. */
static void exp_count(struct ipfix_cache *tc, uint32_t x, int delta)
{
	if (tc->exp[x].live > 0)
		bucket_unlink(tc, x);
	tc->exp[x].live = (uint32_t)((int64_t)tc->exp[x].live + delta);
	if (tc->exp[x].live > 0)
		bucket_link(tc, x);
}

static void exp_promote(struct ipfix_cache *tc, uint32_t x)
{
	if (tc->exp[x].cls == CLASS_PREFERRED)
		return;
	if (tc->exp[x].live > 0)
		bucket_unlink(tc, x);
	tc->exp[x].cls = CLASS_PREFERRED;
	if (tc->exp[x].live > 0)
		bucket_link(tc, x);
}

/* ---- slot lists -------------------------------------------------------- */

/* The use list of a live slot's exporter, or the withdrawn list. */
static void use_ends(struct ipfix_cache *tc, uint32_t i, uint32_t **newest,
		     uint32_t **oldest)
{
	if (tc->slots[i].state == IPFIX_T_LIVE) {
		struct ipfix_texporter *e = &tc->exp[tc->meta[i].exporter];

		*newest = &e->use_newest;
		*oldest = &e->use_oldest;
	} else {
		*newest = &tc->wd_newest;
		*oldest = &tc->wd_oldest;
	}
}

static void use_unlink(struct ipfix_cache *tc, uint32_t i)
{
	struct ipfix_tmeta *m = &tc->meta[i];
	uint32_t *newest, *oldest;

	use_ends(tc, i, &newest, &oldest);
	if (m->use_newer != NONE)
		tc->meta[m->use_newer].use_older = m->use_older;
	else
		*newest = m->use_older;
	if (m->use_older != NONE)
		tc->meta[m->use_older].use_newer = m->use_newer;
	else
		*oldest = m->use_newer;
}

static void use_link_newest(struct ipfix_cache *tc, uint32_t i)
{
	struct ipfix_tmeta *m = &tc->meta[i];
	uint32_t *newest, *oldest;

	use_ends(tc, i, &newest, &oldest);
	m->use_newer = NONE;
	m->use_older = *newest;
	if (*newest != NONE)
		tc->meta[*newest].use_newer = i;
	else
		*oldest = i;
	*newest = i;
}

static void def_unlink(struct ipfix_cache *tc, uint32_t i)
{
	struct ipfix_tmeta *m = &tc->meta[i];

	if (m->def_newer != NONE)
		tc->meta[m->def_newer].def_older = m->def_older;
	else
		tc->def_newest = m->def_older;
	if (m->def_older != NONE)
		tc->meta[m->def_older].def_newer = m->def_newer;
	else
		tc->def_oldest = m->def_newer;
}

static void def_link_newest(struct ipfix_cache *tc, uint32_t i)
{
	struct ipfix_tmeta *m = &tc->meta[i];

	m->def_newer = NONE;
	m->def_older = tc->def_newest;
	if (tc->def_newest != NONE)
		tc->meta[tc->def_newest].def_newer = i;
	else
		tc->def_oldest = i;
	tc->def_newest = i;
}

/* Slot `from` was copied to slot `to`: its neighbours point to `to`. */
static void slot_moved(struct ipfix_cache *tc, uint32_t from, uint32_t to)
{
	struct ipfix_tmeta *m = &tc->meta[to];
	uint32_t *newest, *oldest;

	*m = tc->meta[from];
	use_ends(tc, to, &newest, &oldest);
	if (m->use_newer != NONE)
		tc->meta[m->use_newer].use_older = to;
	else
		*newest = to;
	if (m->use_older != NONE)
		tc->meta[m->use_older].use_newer = to;
	else
		*oldest = to;
	if (tc->slots[to].state != IPFIX_T_LIVE)
		return;
	if (m->def_newer != NONE)
		tc->meta[m->def_newer].def_older = to;
	else
		tc->def_newest = to;
	if (m->def_older != NONE)
		tc->meta[m->def_older].def_newer = to;
	else
		tc->def_oldest = to;
}

/* ---- slots ------------------------------------------------------------- */

/* Slot of `key`, or the empty slot where it would go (never full: the
 * load stays at or under 3/4). */
static uint32_t slot_probe(const struct ipfix_cache *tc,
			   const struct ipfix_tkey *key)
{
	uint32_t mask = tc->capacity - 1;
	uint32_t i = tkey_home(tc, key);

	while (tc->slots[i].state != IPFIX_T_EMPTY &&
	       memcmp(&tc->slots[i].key, key, sizeof(*key)) != 0)
		i = (i + 1) & mask;
	return i;
}

struct ipfix_template *ipfix_tcache_lookup(struct ipfix_cache *tc,
					   const struct ipfix_tkey *key)
{
	uint32_t i = slot_probe(tc, key);

	return tc->slots[i].state != IPFIX_T_EMPTY ? &tc->slots[i] : NULL;
}

const struct ipfix_template *ipfix_cache_find(const struct ipfix_cache *tc,
					      const struct ipfix_tkey *key)
{
	uint32_t i = slot_probe(tc, key);

	return tc->slots[i].state != IPFIX_T_EMPTY ? &tc->slots[i] : NULL;
}

/* A live slot stops being live: off its lists, its exporter counts one
 * fewer (the record goes when it holds nothing). */
static void slot_unlive(struct ipfix_cache *tc, uint32_t i)
{
	uint32_t x = tc->meta[i].exporter;

	use_unlink(tc, i);
	def_unlink(tc, i);
	tc->live--;
	exp_count(tc, x, -1);
	exp_release_if_empty(tc, x);
}

/* Empty slot i (backward shift: later slots of its chain may move). */
static void slot_remove(struct ipfix_cache *tc, uint32_t i)
{
	uint32_t mask = tc->capacity - 1;
	uint32_t hole = i, j = i;

	if (tc->slots[i].state == IPFIX_T_LIVE)
		slot_unlive(tc, i);
	else
		use_unlink(tc, i); /* the withdrawn list */
	for (;;) {
		j = (j + 1) & mask;
		if (tc->slots[j].state == IPFIX_T_EMPTY)
			break;
		if (stays(hole, j, tkey_home(tc, &tc->slots[j].key)))
			continue;
		tc->slots[hole] = tc->slots[j];
		slot_moved(tc, j, hole);
		hole = j;
	}
	tc->slots[hole].state = IPFIX_T_EMPTY;
	tc->used--;
}

static void slot_evict(struct ipfix_cache *tc, uint32_t i, enum ipfix_evict r)
{
	tc->evicted[r]++;
	tc->changes++;
	slot_remove(tc, i);
}

void ipfix_tcache_used(struct ipfix_cache *tc, struct ipfix_template *t)
{
	uint32_t i = (uint32_t)(t - tc->slots);

	if (t->state != IPFIX_T_LIVE)
		return;
	exp_promote(tc, tc->meta[i].exporter);
	if (tc->exp[tc->meta[i].exporter].use_newest == i)
		return;
	use_unlink(tc, i);
	use_link_newest(tc, i);
}

void ipfix_tcache_withdraw(struct ipfix_cache *tc, struct ipfix_template *t)
{
	uint32_t i = (uint32_t)(t - tc->slots);

	if (t->state != IPFIX_T_LIVE)
		return;
	slot_unlive(tc, i);
	t->state = IPFIX_T_WITHDRAWN;
	tc->changes++;
	use_link_newest(tc, i); /* the withdrawn list */
}

uint32_t ipfix_tcache_withdraw_all(struct ipfix_cache *tc,
				   const struct ipfix_tkey *scope, bool options)
{
	uint32_t x = exp_find(tc, &scope->exporter), n = 0, i, older;

	if (x == NONE)
		return 0;
	/* withdrawing the last one releases the record: read ahead */
	for (i = tc->exp[x].use_newest; i != NONE; i = older) {
		const struct ipfix_template *t = &tc->slots[i];

		older = tc->meta[i].use_older;
		if (t->options != options || t->key.version != scope->version ||
		    t->key.domain != scope->domain)
			continue;
		ipfix_tcache_withdraw(tc, &tc->slots[i]);
		n++;
	}
	return n;
}

void ipfix_cache_forget(struct ipfix_cache *tc, const struct ps_addr *exporter)
{
	uint32_t x = exp_find(tc, exporter);

	while (x != NONE && tc->exp[x].live > 0) {
		uint32_t i = tc->exp[x].use_newest;
		bool last = tc->exp[x].live == 1;

		ipfix_tcache_withdraw(tc, &tc->slots[i]);
		if (last)
			break; /* the record went back to the pool */
	}
}

/* ---- making room ------------------------------------------------------- */

/*
 * The template that yields to a new one of exporter x (class cls):
 * from the rest before the preferred; within x's own class, from a
 * holder of more templates than x, else from x itself.  NONE: refuse.
 */
static uint32_t fair_victim(struct ipfix_cache *tc, uint32_t x)
{
	uint8_t cls = tc->exp[x].cls;

	for (uint8_t c = CLASS_REST; c <= cls; c++) {
		uint32_t y = largest_holder(tc, c);

		if (y == NONE)
			continue;
		if (c < cls || (y != x && tc->exp[y].live > tc->exp[x].live) ||
		    tc->exp[x].live == 0)
			return tc->exp[y].use_oldest;
		return tc->exp[x].use_oldest;
	}
	return tc->exp[x].live > 0 ? tc->exp[x].use_oldest : NONE;
}

/* The template re-sent longest ago, if it expired by now_s; else NONE. */
static uint32_t expired_victim(const struct ipfix_cache *tc, uint32_t now_s)
{
	uint32_t i = tc->def_oldest;

	if (i == NONE || tc->timeout_s == 0 ||
	    now_s <= tc->slots[i].last_seen_s ||
	    now_s - tc->slots[i].last_seen_s <= tc->timeout_s)
		return NONE;
	return i;
}

/*
 * Room for one more live template of exporter x: 0, or -1 when none can
 * be made fairly.  May move slots.
 */
static int make_room(struct ipfix_cache *tc, uint32_t x, uint32_t now_s)
{
	uint32_t v;

	if (tc->exp[x].live >= tc->max_per_exporter) {
		slot_evict(tc, tc->exp[x].use_oldest, IPFIX_EVICT_QUOTA);
		return 0;
	}
	if (tc->live < tc->max_templates)
		return 0;
	v = expired_victim(tc, now_s);
	if (v != NONE) {
		slot_evict(tc, v, IPFIX_EVICT_EXPIRED);
		return 0;
	}
	v = fair_victim(tc, x);
	if (v == NONE)
		return -1;
	slot_evict(tc, v, IPFIX_EVICT_FULL);
	return 0;
}

/* An empty slot may be taken: past 3/4, the oldest withdrawn one goes
 * (live <= capacity / 2, so at 3/4 a quarter is withdrawn). */
static void make_slot(struct ipfix_cache *tc)
{
	if ((uint64_t)(tc->used + 1) * TCACHE_LOAD_DEN >
		    (uint64_t)tc->capacity * TCACHE_LOAD_NUM &&
	    tc->wd_oldest != NONE)
		slot_remove(tc, tc->wd_oldest);
}

/* The same field plan (a refresh), whatever the time it was seen. */
static bool template_same(const struct ipfix_template *a,
			  const struct ipfix_template *b)
{
	return a->options == b->options && a->field_count == b->field_count &&
	       a->scope_count == b->scope_count && a->min_len == b->min_len &&
	       memcmp(a->f, b->f, sizeof(a->f[0]) * a->field_count) == 0;
}

int ipfix_cache_put(struct ipfix_cache *tc, const struct ipfix_template *t,
		    bool preferred)
{
	uint32_t i = slot_probe(tc, &t->key), x;

	if (tc->slots[i].state == IPFIX_T_LIVE) {
		/* a re-definition replaces it, as fresh as a new one */
		struct ipfix_tmeta keep = tc->meta[i];

		if (!template_same(&tc->slots[i], t))
			tc->changes++;
		tc->slots[i] = *t;
		tc->slots[i].state = IPFIX_T_LIVE;
		tc->meta[i] = keep;
		def_unlink(tc, i);
		def_link_newest(tc, i);
		if (preferred)
			exp_promote(tc, keep.exporter);
		return 0;
	}
	x = exp_get(tc, &t->key.exporter);
	if (preferred)
		exp_promote(tc, x);
	/* its own eviction (quota) must not release x's record meanwhile */
	tc->exp_busy = x;
	if (make_room(tc, x, t->last_seen_s) == -1) {
		tc->exp_busy = NONE;
		exp_release_if_empty(tc, x);
		tc->refused++;
		return -1;
	}
	tc->exp_busy = NONE;
	if (tc->slots[(i = slot_probe(tc, &t->key))].state == IPFIX_T_EMPTY) {
		make_slot(tc);
		i = slot_probe(tc, &t->key);
		tc->used++;
	} else {
		use_unlink(tc, i); /* a withdrawn id defined again */
	}
	tc->slots[i] = *t;
	tc->slots[i].state = IPFIX_T_LIVE;
	tc->meta[i].exporter = x;
	use_link_newest(tc, i);
	def_link_newest(tc, i);
	tc->live++;
	tc->changes++;
	exp_count(tc, x, +1);
	return 0;
}
