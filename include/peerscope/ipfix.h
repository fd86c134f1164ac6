/*
 * ipfix.h - IPFIX (RFC 7011) and NetFlow v9 (RFC 3954) decoding, with the
 * template machinery both share.
 *
 * The decoder is pure: the template cache is a caller-provided structure
 * (slots allocated by the caller, capped), time comes in as an argument,
 * and records go out through caller callbacks while the datagram is still
 * in hand.  Templates are compiled on arrival into a flat field plan: one
 * entry per field with its length and the slot of struct ps_flow it fills,
 * so the per-record path is a loop over that plan.
 *
 * Cache key: (exporter address, observation domain / source id, template
 * id).  An IPFIX template id and a v9 template id of the same exporter and
 * domain never meet: v9 and v10 keys differ in `version`.
 *
 * @thread any, @locks none: a cache belongs to one worker.
 */
#ifndef PEERSCOPE_IPFIX_H
#define PEERSCOPE_IPFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peerscope/addr.h"
#include "peerscope/dec_stats.h"
#include "peerscope/flow.h"
#include "peerscope/limits.h"

#define IPFIX_VERSION	  10
#define NFV9_VERSION	  9
#define IPFIX_HEADER_LEN  16
#define NFV9_HEADER_LEN	  20
#define IPFIX_VARLEN	  0xFFFFu /* field length meaning "variable" */
#define IPFIX_PEN_REVERSE 29305u  /* RFC 5103 reverse information elements */
#define IPFIX_PEN_FLOWMON 39499u  /* Flowmon Networks (now Progress) */

/* Where a field of a template goes (compiled once per template). */
enum ipfix_dest {
	IPFIX_D_SKIP = 0, /* carried by nobody: kept in flow.extra */
	IPFIX_D_BYTES,
	IPFIX_D_PACKETS,
	IPFIX_D_POST_BYTES,
	IPFIX_D_POST_PACKETS,
	IPFIX_D_BYTES_TOTAL,
	IPFIX_D_PACKETS_TOTAL,
	IPFIX_D_REV_BYTES,
	IPFIX_D_REV_PACKETS,
	IPFIX_D_REV_BYTES_TOTAL,
	IPFIX_D_REV_PACKETS_TOTAL,
	IPFIX_D_PROTOCOL,
	IPFIX_D_TOS,
	IPFIX_D_TCP_FLAGS,
	IPFIX_D_SRC_PORT,
	IPFIX_D_DST_PORT,
	IPFIX_D_ICMP_TYPE,
	IPFIX_D_SRC_V4,
	IPFIX_D_DST_V4,
	IPFIX_D_SRC_V6,
	IPFIX_D_DST_V6,
	IPFIX_D_SRC_MASK,
	IPFIX_D_DST_MASK,
	IPFIX_D_INPUT_IF,
	IPFIX_D_OUTPUT_IF,
	IPFIX_D_INPUT_PHYS,
	IPFIX_D_OUTPUT_PHYS,
	IPFIX_D_NEXT_HOP_V4,
	IPFIX_D_NEXT_HOP_V6,
	IPFIX_D_BGP_NH_V4,
	IPFIX_D_BGP_NH_V6,
	IPFIX_D_SRC_AS,
	IPFIX_D_DST_AS,
	IPFIX_D_END_UPTIME,
	IPFIX_D_START_UPTIME,
	IPFIX_D_START_S,
	IPFIX_D_END_S,
	IPFIX_D_START_MS,
	IPFIX_D_END_MS,
	IPFIX_D_START_US,
	IPFIX_D_END_US,
	IPFIX_D_START_NS,
	IPFIX_D_END_NS,
	IPFIX_D_SRC_MAC,
	IPFIX_D_DST_MAC,
	IPFIX_D_VLAN,
	IPFIX_D_POST_VLAN,
	IPFIX_D_MPLS,
	IPFIX_D_DIRECTION,
	IPFIX_D_FWD_STATUS,
	IPFIX_D_IP_VERSION,
	IPFIX_D_SAMPLER_ID,
	IPFIX_D_SELECTOR_ID,
	IPFIX_D_FRAME,
	IPFIX_D_SECTION_OCTETS,
	IPFIX_D_FRAME_SIZE,
	IPFIX_D_IP_TOTAL_LEN,
	IPFIX_D_IPV4_TOTAL_LEN,
	IPFIX_D_IPV6_PAYLOAD_LEN,
	IPFIX_D_L2_OCTETS,
	IPFIX_D_L2_OCTETS_TOTAL,
	IPFIX_D_DELAY_MEAN,
	IPFIX_D_DELAY_MIN,
	IPFIX_D_DELAY_MAX,
	IPFIX_D_DELAY_SUM,
	IPFIX_D_CLIENT_NW_MS,
	IPFIX_D_SERVER_NW_MS,
	IPFIX_D_APPL_MS,
	IPFIX_D_ART_CLIENT_NW_SUM,
	IPFIX_D_ART_SERVER_NW_SUM,
	IPFIX_D_ART_CLIENT_NW_MIN,
	IPFIX_D_ART_CLIENT_NW_MAX,
	IPFIX_D_ART_SERVER_NW_MIN,
	IPFIX_D_ART_SERVER_NW_MAX,
	IPFIX_D_ART_NEW_CONNECTIONS,
	IPFIX_D_CLIENT_NW_SEC,
	IPFIX_D_CLIENT_NW_USEC,
	IPFIX_D_SERVER_NW_SEC,
	IPFIX_D_SERVER_NW_USEC,
	IPFIX_D_RTT_US,
	IPFIX_D_SRT_US,
	/* sampling: in data records (the record's own rate) and options */
	IPFIX_D_OPT_INTERVAL,
	IPFIX_D_OPT_RANDOM_INTERVAL,
	IPFIX_D_OPT_PKT_INTERVAL,
	IPFIX_D_OPT_PKT_SPACE,
	IPFIX_D_OPT_SAMPLING_SIZE,
	IPFIX_D_OPT_SAMPLING_POPULATION,
	IPFIX_D_OPT_PROBABILITY,
	/* options records */
	IPFIX_D_OPT_MODE,
	IPFIX_D_OPT_SYS_INIT_MS,
	IPFIX_D_OPT_DOMAIN,
	/* after the others, so that saved templates (flow.state_file) keep
	 * their codes */
	IPFIX_D_POST_SRC_MAC, /* 81 postSourceMacAddress */
	IPFIX_D_POST_DST_MAC, /* 57 postDestinationMacAddress */
	IPFIX_D_COUNT
};

/* The lengths a destination accepts (others: ipfix.field.length_unexpected,
 * the value kept in flow.extra). */
enum ipfix_len_rule {
	IPFIX_LEN_ANY = 0, /* any length (carried as is) */
	IPFIX_LEN_UINT,	   /* an unsigned integer, 1 to 8 bytes */
	IPFIX_LEN_3,	   /* an MPLS label stack entry */
	IPFIX_LEN_4,	   /* an IPv4 address */
	IPFIX_LEN_6,	   /* a MAC address */
	IPFIX_LEN_8,	   /* an NTP-format timestamp */
	IPFIX_LEN_16,	   /* an IPv6 address */
	IPFIX_LEN_4_OR_8,  /* a float32 or float64 */
};

/* One row of the information-element map (decoders/ipfix.c). */
struct ipfix_ie {
	uint32_t pen;	   /* 0 = IANA, else the vendor's enterprise number */
	uint16_t ie;	   /* element id, enterprise bit cleared */
	const char *name;  /* the IANA name, or the vendor's */
	uint8_t dest;	   /* enum ipfix_dest */
	uint8_t len_rule;  /* enum ipfix_len_rule */
};

/* The row for (pen, ie), or NULL for an element no destination takes. */
const struct ipfix_ie *ipfix_ie_find(uint32_t pen, uint16_t ie);

/* The whole map (n rows), for tests and documentation. */
const struct ipfix_ie *ipfix_ie_table(size_t *n);

/* The length rule of a destination (the same for every row naming it). */
enum ipfix_len_rule ipfix_dest_len_rule(uint8_t dest);

struct ipfix_field {
	uint32_t pen; /* 0 = IANA */
	uint16_t ie;  /* enterprise bit cleared */
	uint16_t len; /* IPFIX_VARLEN for variable length */
	uint8_t dest; /* enum ipfix_dest */
	uint8_t pad[3];
};

/*
 * Templates are scoped to a transport session and observation domain
 * (RFC 7011 §8, RFC 3954 §5): over UDP that is the exporter's address and
 * source port, so two exporting processes on one host never share them.
 */
struct ipfix_tkey {
	struct ps_addr exporter;
	uint8_t version; /* 9 or 10 */
	uint16_t tid;
	uint16_t port;	 /* exporter's source port */
	uint16_t pad;	 /* zeroed: keys are compared bytewise */
	uint32_t domain; /* observation domain (v10) / source id (v9) */
};

enum ipfix_tstate { IPFIX_T_EMPTY = 0, IPFIX_T_LIVE, IPFIX_T_WITHDRAWN };

struct ipfix_template {
	struct ipfix_tkey key;
	uint8_t state; /* enum ipfix_tstate */
	bool options;
	uint16_t field_count;
	uint16_t scope_count; /* options templates: leading scope fields */
	uint16_t min_len;     /* shortest record (a var field counts 1) */
	uint32_t last_seen_s; /* refreshed by every (re)definition */
	struct ipfix_field f[IPFIX_MAX_FIELDS];
};

/*
 * The template cache (decoders/ipfix_cache.c): fair under a flood.
 *
 * Every live template belongs to its exporter address, which holds at
 * most `max_per_exporter` of them; the cache holds `max_templates`.  No
 * definition is turned away while room can be made fairly:
 *   - an exporter at its quota replaces its own least recently used
 *     template (IPFIX_EVICT_QUOTA);
 *   - a full cache first drops a template not re-sent for `timeout_s`
 *     (IPFIX_EVICT_EXPIRED), else the least recently used template of
 *     the exporter holding the most (IPFIX_EVICT_FULL).  Exporters are in
 *     two classes: preferred (data was decoded with one of its templates
 *     while it held them, or the handler's exporter_pinned says so) and
 *     the rest (they only ever sent templates).  A definition takes room
 *     from the rest before the preferred, and from its own class only
 *     from an exporter holding more than it does (else from itself); a
 *     definition from the rest is refused when only preferred exporters
 *     hold templates.
 * "Used" means a data set decoded with the template, so a flood of
 * template definitions never makes a template in use look idle.  A spoofed
 * source sending templates only can thus take at most what no exporter
 * with data needs, and a new exporter always gets its templates in.
 *
 * Storage: open addressing over `slots` (capacity a power of two, at least
 * twice max_templates) with backward-shift deletion, so no tombstones pile
 * up; a withdrawn template keeps its slot (IPFIX_T_WITHDRAWN, so data for
 * it is named as such) until room is needed.  Beside the slots live the
 * recency lists, one record per exporter holding templates and the class
 * buckets (by templates held) that find the largest holder in O(1).  All
 * of it is one block of caller memory of ipfix_cache_mem_size() bytes.
 * Every operation is O(1) but forgetting an exporter (O(its templates))
 * and withdrawing all of a domain (O(the exporter's templates)).
 */

/* Why a live template left the cache to make room (tc->evicted). */
enum ipfix_evict {
	IPFIX_EVICT_QUOTA,   /* its exporter's own least recently used */
	IPFIX_EVICT_EXPIRED, /* not re-sent for timeout_s */
	IPFIX_EVICT_FULL,    /* least recently used of the largest holder */
	IPFIX_EVICT_COUNT
};

/* "exporter_quota", "expired", "cache_full": /metrics label values. */
const char *ipfix_evict_name(enum ipfix_evict r);

struct ipfix_cache_limits {
	uint32_t max_templates;	   /* live templates, all exporters (>= 1) */
	uint32_t max_per_exporter; /* of one address; 0 or more = the cache */
	uint32_t timeout_s;	   /* RFC 7011 §8.4 lifetime; 0 = none */
};

struct ipfix_tmeta;	/* per slot (ipfix_cache.c) */
struct ipfix_texporter; /* per exporter holding templates */

struct ipfix_cache {
	struct ipfix_template *slots; /* iterate: state IPFIX_T_LIVE */
	uint32_t capacity;
	uint32_t live;		/* templates usable now */
	uint32_t used;		/* slots taken: live + withdrawn */
	uint32_t max_templates; /* cap on live templates */
	uint32_t max_per_exporter;
	uint32_t timeout_s; /* RFC 7011 §8.4 lifetime over UDP; 0 = none */
	uint64_t refused;   /* definitions refused (no fair room) */
	uint64_t evicted[IPFIX_EVICT_COUNT];
	uint64_t changes; /* definitions that changed what is live, withdrawals,
			   * evictions: for persisting (not refreshes, not use) */
	/* internals (ipfix_cache.c) */
	struct ipfix_tmeta *meta;
	struct ipfix_texporter *exp; /* max_templates + 1 records */
	uint32_t *exp_index;	     /* address hash -> record + 1, 0 empty */
	uint32_t exp_index_cap;
	uint32_t exp_free;
	uint32_t exp_busy; /* record being served: kept while it holds none */
	uint32_t *bucket; /* [class][templates held] -> first record */
	uint32_t bucket_top[2];
	uint32_t def_oldest, def_newest; /* live, by last definition */
	uint32_t wd_oldest, wd_newest;	 /* withdrawn, oldest first */
};

/* Bytes of caller memory a cache with these limits needs. */
size_t ipfix_cache_mem_size(const struct ipfix_cache_limits *lim);

/* Lay the cache over `mem` (len >= ipfix_cache_mem_size(lim)).  0 or -1. */
int ipfix_cache_init(struct ipfix_cache *tc, void *mem, size_t len,
		     const struct ipfix_cache_limits *lim);

/* Drop every template of one exporter (TCP connection closed). */
void ipfix_cache_forget(struct ipfix_cache *tc, const struct ps_addr *exporter);

const struct ipfix_template *ipfix_cache_find(const struct ipfix_cache *tc,
					      const struct ipfix_tkey *key);

/*
 * Install a compiled template (also used to restore persisted state):
 * 0, or -1 when refused.  `preferred`: its exporter is one to keep (see
 * above); t->last_seen_s is the time now.
 */
int ipfix_cache_put(struct ipfix_cache *tc, const struct ipfix_template *t,
		    bool preferred);

/* One message's header and what its walk produced. */
struct ipfix_msg {
	struct ps_addr exporter;
	uint16_t src_port;	/* in: the exporter's source port */
	uint16_t version;
	uint16_t count;		/* v9: records in the packet */
	uint32_t sys_uptime_ms; /* v9 */
	uint32_t export_time;	/* Unix seconds */
	uint32_t sequence;
	uint32_t domain;
	uint64_t boot_ms; /* in: exporter boot time (160), 0 unknown */
	uint32_t now_s;	  /* in: receive time, for template lifetime */
	uint32_t data_records;
	uint32_t options_records;
	uint32_t templates_added;
	uint32_t templates_withdrawn;
	uint32_t templates_refused;
	uint32_t sets_unknown;
};

/*
 * Sampling and exporter facts from options data records.  The sampling
 * fields are read from data records too (a record may state its own
 * rate); ipfix_sampling_rate() turns them into one rate.
 */
enum ipfix_opt_has {
	IPFIX_OPT_SAMPLER_ID = 1u << 0,
	IPFIX_OPT_SELECTOR_ID = 1u << 1,
	IPFIX_OPT_INTERVAL = 1u << 2,	     /* 34 samplingInterval */
	IPFIX_OPT_RANDOM_INTERVAL = 1u << 3, /* 50 samplerRandomInterval */
	IPFIX_OPT_PKT_INTERVAL = 1u << 4,    /* 305 */
	IPFIX_OPT_PKT_SPACE = 1u << 5,	     /* 306 */
	IPFIX_OPT_MODE = 1u << 6,	     /* 35 / 49 */
	IPFIX_OPT_SYS_INIT = 1u << 7,	     /* 160 */
	IPFIX_OPT_DOMAIN = 1u << 8,	     /* 149 scope */
	IPFIX_OPT_SAMPLING_SIZE = 1u << 9,   /* 309 */
	IPFIX_OPT_POPULATION = 1u << 10,     /* 310 */
	IPFIX_OPT_PROBABILITY = 1u << 11,    /* 311 */
	IPFIX_OPT_RATE = 1u << 12,	     /* `rate` resolved from them */
};

#define IPFIX_OPT_SAMPLING                                                 \
	(IPFIX_OPT_INTERVAL | IPFIX_OPT_RANDOM_INTERVAL |                  \
	 IPFIX_OPT_PKT_INTERVAL | IPFIX_OPT_PKT_SPACE |                    \
	 IPFIX_OPT_SAMPLING_SIZE | IPFIX_OPT_POPULATION |                  \
	 IPFIX_OPT_PROBABILITY)

struct ipfix_options {
	uint32_t present; /* enum ipfix_opt_has */
	uint32_t sampler_id;
	uint64_t selector_id;
	uint32_t interval;
	uint32_t random_interval;
	uint32_t pkt_interval;
	uint32_t pkt_space;
	uint32_t sampling_size;	      /* 309: packets selected ... */
	uint32_t sampling_population; /* 310: ... out of this many */
	double probability;	      /* 311 */
	uint32_t rate;		      /* IPFIX_OPT_RATE: 1 in `rate` */
	uint32_t mode;
	uint64_t sys_init_ms;
	uint32_t domain;
};

/*
 * One sampling rate ("1 in N", N >= 1) from the sampling fields present
 * in `o`, the most specific first:
 *   1. 309/310 samplingSize / samplingPopulation (n-out-of-N): N / n;
 *   2. 305/306 samplingPacketInterval / Space (count-based systematic,
 *      RFC 5477): (interval + space) / interval;
 *   3. 311 samplingProbability: 1 / p;
 *   4. 34 samplingInterval;  5. 50 samplerRandomInterval.
 * A pair given half (305 without 306, 309 without 310) says nothing: 305
 * = 1 alone is not "unsampled" (ipfix.sampling.incomplete when nothing
 * else gives a rate).
 * A value no rate can come from (0, n > N, p outside (0, 1]) is
 * ipfix.sampling.invalid; two complete descriptions that disagree are
 * ipfix.sampling.conflict, and the first in the order above wins.
 * Fractional rates round to the nearest integer.  0 = no rate.
 */
uint32_t ipfix_sampling_rate(const struct ipfix_options *o,
			     struct dec_stats *st);

/*
 * Callbacks.  Any may be NULL.  `flow` gets a record it may modify;
 * `unknown_set` gets a data set whose template is not known yet (the
 * caller may hold a copy and hand it back with ipfix_decode_data_set once
 * `template_added` reports the id).
 */
struct ipfix_handler {
	void *arg;
	void (*flow)(void *arg, const struct ipfix_msg *m, struct ps_flow *f);
	void (*options)(void *arg, const struct ipfix_msg *m,
			const struct ipfix_options *o);
	void (*unknown_set)(void *arg, const struct ipfix_msg *m,
			    uint16_t set_id, const uint8_t *set, size_t len);
	void (*template_added)(void *arg, const struct ipfix_msg *m,
			       uint16_t tid);
	/* whether the message's exporter is one the cache must prefer
	 * (named in an allow-list); NULL = none is */
	bool (*exporter_pinned)(void *arg, const struct ipfix_msg *m);
};

/*
 * Decode one IPFIX message or NetFlow v9 packet.  m->boot_ms and
 * m->now_s are inputs.  Returns 0 when the header was good (sets may still
 * have been dropped, each counted), -1 when the whole message is rejected.
 */
int ipfix_decode(struct ipfix_cache *tc, const struct ps_addr *exporter,
		 const uint8_t *buf, size_t len, struct ipfix_msg *m,
		 const struct ipfix_handler *h, struct dec_stats *st)
	__attribute__((warn_unused_result));

/*
 * Read only the header of an IPFIX message or v9 packet into `m`
 * (version, domain, export time, sequence): 0, or -1 with the reason
 * ipfix_decode would give.  Who sent it is known only once this worked.
 */
int ipfix_header_read(const uint8_t *buf, size_t len, struct ipfix_msg *m,
		      struct dec_stats *st)
	__attribute__((warn_unused_result));

/* Decode one data set's body (after the 4-byte set header) against the
 * cache, with the header facts of `m`. */
int ipfix_decode_data_set(struct ipfix_cache *tc, struct ipfix_msg *m,
			  uint16_t set_id, const uint8_t *body, size_t len,
			  const struct ipfix_handler *h, struct dec_stats *st);

/* Compile one field specifier into its destination (exposed for tests). */
uint8_t ipfix_field_dest(uint32_t pen, uint16_t ie, uint16_t len);

#endif /* PEERSCOPE_IPFIX_H */
