/* htab.c - see htab.h. */
#include <stdlib.h>
#include <string.h>

#include "htab.h"

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

static int htab_alloc(struct htab *h, uint32_t capacity)
{
	h->entries = calloc(capacity, h->entry_size);
	h->used = calloc(capacity, 1);
	if (h->entries == NULL || h->used == NULL) {
		free(h->entries);
		free(h->used);
		h->entries = NULL;
		h->used = NULL;
		return -1;
	}
	h->capacity = capacity;
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

void htab_fini(struct htab *h)
{
	if (h == NULL)
		return;
	free(h->entries);
	free(h->used);
	h->entries = NULL;
	h->used = NULL;
	h->capacity = 0;
	h->count = 0;
}

static uint8_t *slot_at(const struct htab *h, uint32_t i)
{
	return h->entries + (size_t)i * h->entry_size;
}

/* Index of the key's slot, or of the empty slot where it would go. */
static uint32_t probe(const struct htab *h, const void *key)
{
	uint32_t mask = h->capacity - 1;
	uint32_t i = (uint32_t)htab_hash(key, h->key_len) & mask;

	while (h->used[i] && memcmp(slot_at(h, i), key, h->key_len) != 0)
		i = (i + 1) & mask;
	return i;
}

void *htab_find(const struct htab *h, const void *key)
{
	uint32_t i = probe(h, key);

	return h->used[i] ? slot_at(h, i) : NULL;
}

static int htab_grow(struct htab *h)
{
	struct htab old = *h;

	if (htab_alloc(h, old.capacity * 2) == -1) {
		*h = old;
		return -1;
	}
	for (uint32_t i = 0; i < old.capacity; i++) {
		if (!old.used[i])
			continue;
		uint32_t j = probe(h, slot_at(&old, i));
		memcpy(slot_at(h, j), slot_at(&old, i), h->entry_size);
		h->used[j] = 1;
	}
	free(old.entries);
	free(old.used);
	return 0;
}

void *htab_insert(struct htab *h, const void *key, bool *created)
{
	uint32_t i = probe(h, key);

	*created = false;
	if (h->used[i])
		return slot_at(h, i);
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
		i = probe(h, key);
	}
	memset(slot_at(h, i), 0, h->entry_size);
	memcpy(slot_at(h, i), key, h->key_len);
	h->used[i] = 1;
	h->count++;
	*created = true;
	return slot_at(h, i);
}

void *htab_next(const struct htab *h, uint32_t *pos)
{
	while (*pos < h->capacity) {
		uint32_t i = (*pos)++;

		if (h->used[i])
			return slot_at(h, i);
	}
	return NULL;
}

size_t htab_bytes(const struct htab *h)
{
	return (size_t)h->capacity * (h->entry_size + 1);
}
