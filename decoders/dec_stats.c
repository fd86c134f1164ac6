/* dec_stats.c - the name table behind enum dec_reason, and folding. */
#include <stddef.h>

#include "peerscope/dec_stats.h"

static const char *const reason_names[DEC_REASON_COUNT] = {
#define DEC_NAME(e, name, cls) [DEC_##e] = name,
	DEC_REASONS(DEC_NAME, DEC_NAME)
#undef DEC_NAME
};

static const enum dec_class reason_classes[DEC_REASON_COUNT] = {
#define DEC_CLASS(e, name, cls) [DEC_##e] = cls,
	DEC_REASONS(DEC_CLASS, DEC_CLASS)
#undef DEC_CLASS
};

const char *dec_reason_name(enum dec_reason r)
{
	return (unsigned)r < DEC_REASON_COUNT ? reason_names[r] : "unknown";
}

enum dec_class dec_reason_class(enum dec_reason r)
{
	return (unsigned)r < DEC_REASON_COUNT ? reason_classes[r] : DEC_INVALID;
}

const char *dec_class_name(enum dec_class c)
{
	switch (c) {
	case DEC_TRUNCATED:
		return "truncated";
	case DEC_INVALID:
		return "invalid";
	case DEC_UNSUPPORTED:
		return "unsupported";
	}
	return "invalid";
}

void dec_stats_fold(struct dec_stats *scratch, struct dec_stats *a,
		    struct dec_stats *b)
{
	for (unsigned w = 0; w < DEC_DIRTY_WORDS; w++) {
		uint64_t bits = scratch->dirty[w];

		while (bits != 0) {
			unsigned r = w * 64 + (unsigned)__builtin_ctzll(bits);
			uint64_t n = scratch->n[r];

			bits &= bits - 1;
			if (a != NULL) {
				a->n[r] += n;
				a->dirty[w] |= (uint64_t)1 << (r % 64);
			}
			if (b != NULL) {
				b->n[r] += n;
				b->dirty[w] |= (uint64_t)1 << (r % 64);
			}
			scratch->n[r] = 0;
		}
		scratch->dirty[w] = 0;
	}
}

void dec_stats_add(struct dec_stats *dst, const struct dec_stats *src)
{
	for (unsigned r = 0; r < DEC_REASON_COUNT; r++)
		dst->n[r] += src->n[r];
	for (unsigned w = 0; w < DEC_DIRTY_WORDS; w++)
		dst->dirty[w] |= src->dirty[w];
}
