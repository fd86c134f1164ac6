/* htab.c - see htab.h. */
#include <stdlib.h>
#include <string.h>

#include "base/htab.h"

#define HTAB_MIN_CAPACITY 16u

static uint64_t mix64(uint64_t x)
{
	/* Stafford variant 13 finalizer: every input bit reaches every output bit. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t htab_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		h = mix64(h ^ w);
		p += 8;
		len -= 8;
	}
	if (len > 0) {
		uint64_t w = 0;

		memcpy(&w, p, len);
		h = mix64(h ^ w);
	}
	return h;
}

static bool is_aging(const struct htab *h)
{
	return h->clock != NULL;
}

static int htab_alloc(struct htab *h, uint32_t capacity)
{
	h->entries = calloc(capacity, h->entry_size);
	h->hashes = calloc(capacity, sizeof(*h->hashes));
	h->age = is_aging(h) ? calloc(capacity, sizeof(*h->age)) : NULL;
	if (h->entries == NULL || h->hashes == NULL ||
	    (is_aging(h) && h->age == NULL)) {
		free(h->entries);
		free(h->hashes);
		free(h->age);
		h->entries = NULL;
		h->hashes = NULL;
		h->age = NULL;
		return -1;
	}
	h->capacity = capacity;
	h->newest = h->oldest = HTAB_NONE;
	return 0;
}

int htab_init(struct htab *h, uint32_t key_len, uint32_t entry_size,
	      uint32_t max_count)
{
	memset(h, 0, sizeof(*h));
	h->key_len = key_len;
	h->entry_size = entry_size;
	h->max_count = max_count;
	return htab_alloc(h, HTAB_MIN_CAPACITY);
}

int htab_init_aging(struct htab *h, uint32_t key_len, uint32_t entry_size,
		    uint32_t max_count, const uint64_t *clock,
		    uint64_t touch_ns)
{
	memset(h, 0, sizeof(*h));
	h->key_len = key_len;
	h->entry_size = entry_size;
	h->max_count = max_count;
	h->clock = clock;
	h->touch_ns = touch_ns;
	return htab_alloc(h, HTAB_MIN_CAPACITY);
}

void htab_fini(struct htab *h)
{
	if (h == NULL)
		return;
	free(h->entries);
	free(h->hashes);
	free(h->age);
	h->entries = NULL;
	h->hashes = NULL;
	h->age = NULL;
	h->capacity = 0;
	h->count = 0;
}

static uint8_t *slot_at(const struct htab *h, uint32_t i)
{
	return h->entries + (size_t)i * h->entry_size;
}

/* Never 0, so 0 can mark an empty slot. */
static uint64_t slot_hash(const void *key, size_t len)
{
	return htab_hash(key, len) | 1;
}

/*
 * Keys are short (8 to 48 bytes): compared a word at a time inline, which
 * costs a fraction of a call to memcmp on the path every sample takes;
 * the tail by 4, 2 and 1 bytes.
 */
static inline bool key_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint64_t x = 0, y = 0;

	for (; len >= 8; a += 8, b += 8, len -= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return false;
	}
	x = y = 0;
	if (len & 4) {
		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
		a += 4;
		b += 4;
	}
	if (len & 2) {
		x = x << 16 | (uint64_t)a[0] << 8 | a[1];
		y = y << 16 | (uint64_t)b[0] << 8 | b[1];
		a += 2;
		b += 2;
	}
	if (len & 1) {
		x = x << 8 | a[0];
		y = y << 8 | b[0];
	}
	return x == y;
}

/*
 * Index of the key's slot, or of the empty slot where it would go.  The
 * stored hash is compared first, so a probe past other keys costs one
 * integer compare each and the key bytes are compared about once.
 */
static inline uint32_t probe(const struct htab *h, const void *key,
			     uint64_t hash)
{
	uint32_t mask = h->capacity - 1;
	uint32_t i = (uint32_t)(hash >> 1) & mask;

	while (h->hashes[i] != 0 &&
	       (h->hashes[i] != hash ||
		!key_equal(slot_at(h, i), key, h->key_len)))
		i = (i + 1) & mask;
	return i;
}

void *htab_find(const struct htab *h, const void *key)
{
	uint32_t i = probe(h, key, slot_hash(key, h->key_len));

	return h->hashes[i] != 0 ? slot_at(h, i) : NULL;
}

static uint32_t slot_of(const struct htab *h, const void *e)
{
	return (uint32_t)(((const uint8_t *)e - h->entries) / h->entry_size);
}

/* ---- recency list (aging tables) ----------------------------------- */

static void age_unlink(struct htab *h, uint32_t i)
{
	struct htab_age *a = &h->age[i];

	if (a->newer != HTAB_NONE)
		h->age[a->newer].older = a->older;
	else
		h->newest = a->older;
	if (a->older != HTAB_NONE)
		h->age[a->older].newer = a->newer;
	else
		h->oldest = a->newer;
}

static void age_link_newest(struct htab *h, uint32_t i, uint64_t stamp)
{
	struct htab_age *a = &h->age[i];

	a->stamp = stamp;
	a->newer = HTAB_NONE;
	a->older = h->newest;
	if (h->newest != HTAB_NONE)
		h->age[h->newest].newer = i;
	else
		h->oldest = i;
	h->newest = i;
}

/* The entry at slot `from` now lives at slot `to`: its neighbours follow. */
static void age_moved(struct htab *h, uint32_t from, uint32_t to)
{
	struct htab_age *a = &h->age[to];

	*a = h->age[from];
	if (a->newer != HTAB_NONE)
		h->age[a->newer].older = to;
	else
		h->newest = to;
	if (a->older != HTAB_NONE)
		h->age[a->older].newer = to;
	else
		h->oldest = to;
}

void htab_touch(struct htab *h, void *e)
{
	uint64_t now;
	uint32_t i;

	if (!is_aging(h))
		return;
	i = slot_of(h, e);
	now = *h->clock;
	if (now - h->age[i].stamp < h->touch_ns && now >= h->age[i].stamp)
		return; /* recent enough: leave the list alone */
	if (h->newest != i) {
		age_unlink(h, i);
		age_link_newest(h, i, now);
	} else {
		h->age[i].stamp = now;
	}
}

/*
 * Backward-shift deletion (linear probing): each later entry of the
 * chain that may move closer to its home slot moves into the hole, so
 * probes never meet a gap inside a chain and no tombstones accumulate.
 */
static void remove_slot(struct htab *h, uint32_t i)
{
	uint32_t mask = h->capacity - 1;
	uint32_t j = i;

	if (is_aging(h))
		age_unlink(h, i);
	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (h->hashes[j] == 0)
			break;
		home = (uint32_t)(h->hashes[j] >> 1) & mask;
		/* stays when its home lies cyclically in (i, j] */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		memcpy(slot_at(h, i), slot_at(h, j), h->entry_size);
		h->hashes[i] = h->hashes[j];
		if (is_aging(h))
			age_moved(h, j, i);
		i = j;
	}
	h->hashes[i] = 0;
	h->count--;
}

void htab_remove(struct htab *h, void *e)
{
	remove_slot(h, slot_of(h, e));
}

uint32_t htab_expire(struct htab *h, uint64_t before)
{
	uint32_t n = 0;

	while (is_aging(h) && h->oldest != HTAB_NONE &&
	       h->age[h->oldest].stamp < before) {
		remove_slot(h, h->oldest);
		n++;
	}
	h->expired += n;
	return n;
}

/* Put old slot i's entry into h (keys are unique: the first empty slot
 * of its chain is its place); returns the new slot. */
static uint32_t place(struct htab *h, const struct htab *old, uint32_t i)
{
	uint32_t j = (uint32_t)(old->hashes[i] >> 1) & (h->capacity - 1);

	while (h->hashes[j] != 0)
		j = (j + 1) & (h->capacity - 1);
	memcpy(slot_at(h, j), slot_at(old, i), h->entry_size);
	h->hashes[j] = old->hashes[i];
	return j;
}

static int htab_grow(struct htab *h)
{
	struct htab old = *h;

	if (htab_alloc(h, old.capacity * 2) == -1) {
		*h = old;
		return -1;
	}
	if (is_aging(h)) {
		/* oldest first, each linked as the newest: order kept */
		for (uint32_t i = old.oldest; i != HTAB_NONE;
		     i = old.age[i].newer)
			age_link_newest(h, place(h, &old, i), old.age[i].stamp);
	} else {
		for (uint32_t i = 0; i < old.capacity; i++)
			if (old.hashes[i] != 0)
				(void)place(h, &old, i);
	}
	free(old.entries);
	free(old.hashes);
	free(old.age);
	return 0;
}

void *htab_insert(struct htab *h, const void *key, bool *created)
{
	uint64_t hash = slot_hash(key, h->key_len);
	uint32_t i = probe(h, key, hash);

	*created = false;
	if (h->hashes[i] != 0) {
		htab_touch(h, slot_at(h, i));
		return slot_at(h, i);
	}
	if (h->count >= h->max_count && is_aging(h) && h->count > 0) {
		/* the least recently used makes room; the chain may move */
		remove_slot(h, h->oldest);
		h->evicted++;
		i = probe(h, key, hash);
	}
	if (h->count >= h->max_count) {
		h->refused++;
		return NULL;
	}
	/* Keep the load at or under one half so probes stay short. */
	if ((h->count + 1) * 2 > h->capacity) {
		if (htab_grow(h) == -1) {
			h->refused++;
			return NULL;
		}
		i = probe(h, key, hash);
	}
	memset(slot_at(h, i), 0, h->entry_size);
	memcpy(slot_at(h, i), key, h->key_len);
	h->hashes[i] = hash;
	h->count++;
	if (is_aging(h))
		age_link_newest(h, i, *h->clock);
	*created = true;
	return slot_at(h, i);
}

void *htab_next(const struct htab *h, uint32_t *pos)
{
	while (*pos < h->capacity) {
		uint32_t i = (*pos)++;

		if (h->hashes[i] != 0)
			return slot_at(h, i);
	}
	return NULL;
}

size_t htab_bytes(const struct htab *h)
{
	return (size_t)h->capacity *
	       (h->entry_size + sizeof(*h->hashes) +
		(is_aging(h) ? sizeof(*h->age) : 0));
}
