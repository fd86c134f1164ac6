/*
 * junk.h - datagrams no exporter could be read from, counted per source.
 *
 * A datagram whose header cannot be read (not sFlow, IPFIX or NetFlow at
 * all, or cut inside its header) says nothing about which exporter sent
 * it, so it must not create one: that would turn a spoofing or broken
 * source into exporters, and fill the exporter table.  It is counted
 * instead per UDP source (address and port), with its decode reasons, in
 * a table of at most JUNK_MAX_SOURCES sources; sources past the cap add
 * to one `other` entry (address family 0).  A worker keeps a table per
 * window; the merger folds them into one for the whole run (replay
 * summary, --stats `unrecognised_sources`).
 *
 * @thread the table's owner (a worker's window, then the merger).
 */
#ifndef PEERSCOPE_JUNK_H
#define PEERSCOPE_JUNK_H

#include <stdint.h>

#include "peerscope/addr.h"
#include "peerscope/dec_stats.h"
#include "peerscope/limits.h"

struct junk_source {
	struct ps_addr source; /* af 0: every source past the cap */
	uint16_t port;
	uint64_t datagrams, bytes;
	struct dec_stats errors;
};

struct junk_table {
	struct junk_source *v; /* JUNK_MAX_SOURCES + 1, on first use */
	uint32_t n;	       /* sources in v[0 .. n-1]; v[cap] = other */
};

/* The entry of (source, port), created when absent; NULL out of memory. */
struct junk_source *junk_get(struct junk_table *t, const struct ps_addr *src,
			     uint16_t port);

void junk_merge(struct junk_table *dst, const struct junk_table *src);
void junk_free(struct junk_table *t);

/* Datagrams and bytes over every source. */
uint64_t junk_datagrams(const struct junk_table *t);

struct jbuf;
/* key: [{"source", "port", "datagrams", "bytes", "reasons"}...] */
void junk_json(struct jbuf *j, const char *key, const struct junk_table *t);

#endif /* PEERSCOPE_JUNK_H */
