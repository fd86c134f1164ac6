/*
 * dec_stats.h - named reasons for everything a decoder drops or skips.
 *
 * Every malformation has a stable dotted name (`sflow.sample.length_invalid`)
 * and a class:
 *   TRUNCATED    the bytes ran out before the structure did;
 *   INVALID      a value breaks the specification (length, type, version);
 *   UNSUPPORTED  legal but unknown to us: skipped by its length and counted.
 * Each decoder owns one `reasons_<proto>.def` list; this header stitches them
 * into one numbering and one parallel name table, so a counter array
 * indexed by it covers every protocol.
 *
 * Two kinds of entry share that numbering (and its published names):
 *   X  a malformation a decoder finds: `enum dec_reason`, counted with
 *      dec_count() / dec_fail();
 *   E  an event of the collector around the decoders (a BMP server or
 *      session, a TCP stream, a cap of its own, replay's refusals):
 *      `enum dec_event`, counted with dec_event(), never by a decoder.
 * An entry's place in its list is its place in every published list, so
 * the two stay interleaved as they always were.
 *
 * Decoders count into a caller-provided `struct dec_stats` (no globals).  A
 * dirty bitmap remembers which reasons moved, so a worker can fold a
 * per-datagram scratch into its long-lived counters in time proportional to
 * the number of distinct reasons seen, and reset it just as cheaply.
 *
 * @thread any, @locks none: a dec_stats belongs to one thread.
 */
#ifndef PEERSCOPE_DEC_STATS_H
#define PEERSCOPE_DEC_STATS_H

#include <stdint.h>

enum dec_class { DEC_TRUNCATED, DEC_INVALID, DEC_UNSUPPORTED };

/* X(ENUM_SUFFIX, "dotted.name", DEC_CLASS), E(...) likewise */
#define DEC_REASONS(X, E)                       \
	X(NONE, "none", DEC_INVALID)            \
	DEC_REASONS_SFLOW(X, E)                 \
	DEC_REASONS_PACKET(X, E)                \
	DEC_REASONS_CAPTURE(X, E)               \
	DEC_REASONS_IPFIX(X, E)                 \
	DEC_REASONS_NETFLOW5(X, E)              \
	DEC_REASONS_BMP(X, E)                   \
	DEC_REASONS_BGP(X, E)

#include "peerscope/reasons_capture.def"
#include "peerscope/reasons_packet.def"
#include "peerscope/reasons_sflow.def"
#include "peerscope/reasons_ipfix.def"
#include "peerscope/reasons_netflow5.def"
#include "peerscope/reasons_bmp.def"
#include "peerscope/reasons_bgp.def"

/* Every entry's place: the index of the counter arrays. */
enum dec_slot {
#define DEC_SLOT(e, name, cls) DEC_SLOT_##e,
	DEC_REASONS(DEC_SLOT, DEC_SLOT)
#undef DEC_SLOT
	DEC_REASON_COUNT
};

#define DEC_SKIP(e, name, cls)
#define DEC_AT_SLOT(e, name, cls) DEC_##e = DEC_SLOT_##e,

/* What decoders find wrong with their input. */
enum dec_reason { DEC_REASONS(DEC_AT_SLOT, DEC_SKIP) };

/* What the collector around them counts: servers, streams, its caps. */
enum dec_event { DEC_REASONS(DEC_SKIP, DEC_AT_SLOT) };

#undef DEC_SKIP
#undef DEC_AT_SLOT


#define DEC_DIRTY_WORDS ((DEC_REASON_COUNT + 63) / 64)

struct dec_stats {
	uint64_t n[DEC_REASON_COUNT];
	uint64_t dirty[DEC_DIRTY_WORDS]; /* bit r set once n[r] moved */
};

const char *dec_reason_name(enum dec_reason r);
enum dec_class dec_reason_class(enum dec_reason r);
const char *dec_class_name(enum dec_class c);

static inline void dec_count_slot(struct dec_stats *st, unsigned r)
{
	st->n[r]++;
	st->dirty[r / 64] |= (uint64_t)1 << (r % 64);
}

/* Count one occurrence of a reason (a record skipped, a field ignored). */
static inline void dec_count(struct dec_stats *st, enum dec_reason r)
{
	dec_count_slot(st, (unsigned)r);
}

/* Count one collector event into the same counters (its own slot). */
static inline void dec_event(struct dec_stats *st, enum dec_event e)
{
	dec_count_slot(st, (unsigned)e);
}

/* Count a reason and return -1: `return dec_fail(st, DEC_X);` */
static inline int dec_fail(struct dec_stats *st, enum dec_reason r)
{
	dec_count(st, r);
	return -1;
}

static inline int dec_stats_is_clean(const struct dec_stats *st)
{
	for (unsigned i = 0; i < DEC_DIRTY_WORDS; i++)
		if (st->dirty[i] != 0)
			return 0;
	return 1;
}

/*
 * Add every moved counter of `scratch` into each non-NULL target, then
 * reset `scratch`.  Cost is proportional to the distinct reasons moved.
 */
void dec_stats_fold(struct dec_stats *scratch, struct dec_stats *a,
		    struct dec_stats *b);

/* Add all of `src` into `dst` (window merge; not on the per-packet path). */
void dec_stats_add(struct dec_stats *dst, const struct dec_stats *src);

#endif /* PEERSCOPE_DEC_STATS_H */
