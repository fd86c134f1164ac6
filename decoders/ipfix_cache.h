/*
 * ipfix_cache.h - what ipfix.c's walker needs of the template cache
 * beyond the public API (include/peerscope/ipfix.h).  Private to
 * decoders/.
 *
 * @thread any, @locks none: a cache belongs to one worker.
 */
#ifndef PEERSCOPE_DECODERS_IPFIX_CACHE_H
#define PEERSCOPE_DECODERS_IPFIX_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "peerscope/ipfix.h"

/*
 * The slot holding `key` in any state (live or withdrawn), else NULL.
 * Valid until the next change to the cache.
 */
struct ipfix_template *ipfix_tcache_lookup(struct ipfix_cache *tc,
					   const struct ipfix_tkey *key);

/* Data was decoded with live template t: it is its exporter's most
 * recently used, and the exporter is preferred from now on. */
void ipfix_tcache_used(struct ipfix_cache *tc, struct ipfix_template *t);

/* Withdraw live template t (RFC 7011 §8.1): it keeps its slot as
 * IPFIX_T_WITHDRAWN until room is needed. */
void ipfix_tcache_withdraw(struct ipfix_cache *tc, struct ipfix_template *t);

/* Withdraw every live template (or options template) of scope's
 * exporter, version and domain; how many. */
uint32_t ipfix_tcache_withdraw_all(struct ipfix_cache *tc,
				   const struct ipfix_tkey *scope,
				   bool options);

#endif /* PEERSCOPE_DECODERS_IPFIX_CACHE_H */
