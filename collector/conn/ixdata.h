/*
 * ixdata.h - the IX's own data about who sits on its LAN: an IX-F Member
 * Export (the euro-ix JSON schema, versions 0.4 to 1.x) or a PeeringDB
 * netixlan dump, read into a bounded, immutable table of entries (ASN, IX
 * and LAN ids, IPv4 and IPv6 session addresses, MAC addresses) with
 * lookups by ASN, by address and by MAC.  docs/connections.md ("Importing
 * IX data") is the user's description, with example files.
 *
 * What is read (other members are ignored, as the schemas allow):
 *
 *   IX-F   { "version": "1.0",                          0.4 .. 1.x
 *            "ixp_list": [ { "ixp_id": 1,               required, unique
 *                            "shortname": "...",        optional
 *                            "peeringdb_id": 26,        optional
 *                            "vlan": [ { "id": 10,      optional
 *                                        "ipv4": { "prefix": "192.0.2.0",
 *                                                  "mask_length": 24 },
 *                                        "ipv6": { ... } } ] } ],
 *            "member_list": [ { "asnum": 64496,         required
 *              "connection_list": [ { "ixp_id": 1,      required, listed
 *                "if_list": [ { "if_speed": 10000 } ],  Mbit/s, summed
 *                "vlan_list": [ { "vlan_id": 10,        optional
 *                  "mac_address": "...",                0.4-0.5 placement
 *                  "ipv4": { "address": "192.0.2.10",
 *                            "mac_addresses": [ ... ] },  0.6+ placement
 *                  "ipv6": { "address": "2001:db8::10",
 *                            "mac_addresses": [ ... ] } } ] } ] } ] }
 *
 *          One entry per vlan_list element.  MACs are read from both
 *          placements whatever the version (0.4 and 0.5 have one
 *          "mac_address" per VLAN entry; from 0.6 on, each of "ipv4" and
 *          "ipv6" has a "mac_addresses" array), merged without duplicates.
 *
 *   PeeringDB  { "data": [ { "asn": 64496,              required
 *                            "ix_id": 26, "ixlan_id": 26,  optional
 *                            "ipaddr4": "192.0.2.10",   string or null
 *                            "ipaddr6": "2001:db8::10", string or null
 *                            "speed": 10000,            Mbit/s, optional
 *                            "status": "ok" } ] }       not "ok": skipped
 *
 * Refusal: a file that cannot be read, is larger than
 * IXDATA_MAX_FILE_BYTES, is not JSON, nests deeper than
 * IXDATA_MAX_JSON_DEPTH, breaks the shape above (a wrong type, a required
 * member missing, an invalid ASN, address or MAC, an unknown ixp_id) or
 * passes a cap (IXDATA_MAX_ENTRIES, IXDATA_MAX_MACS_PER_ENTRY,
 * IXDATA_MAX_IXPS, IXDATA_MAX_LANS) is refused whole, never truncated:
 * the error names the file, an RFC 6901 JSON pointer to the offending
 * element (for a missing member: the object that lacks it) and the
 * reason.  Loading builds a new table and hands it over only on success,
 * so a caller keeps its previous table when a reload fails:
 *
 *     struct ixdata *fresh;
 *     if (ixdata_load(IXDATA_IXF, path, &fresh, &err) == 0) {
 *             ixdata_free(current); current = fresh;
 *     } else { log the ixdata_err_format() text; keep current }
 *
 * Lookups return entries in ASN order; an address or a MAC that the file
 * gives to several entries (two ASNs of one member sharing a router)
 * returns all of them: deciding is the caller's.  A MAC that is not
 * unicast (group or all-zero) refuses the file like any invalid MAC.
 *
 * Memory: 104 bytes an entry plus 24 per address and 12 per MAC (the
 * indexes).  Parsing holds the whole JSON tree for a moment: json-c takes
 * about 10 times the file's size (a 17.5 MB netixlan file of 50,000
 * entries: 176 MB more peak RSS, 0.58 s of CPU; tests/bench).  Load on a
 * thread that may take that long: start-up or SIGHUP, never a worker.
 *
 * @thread a table is built by one thread (configuration load: main
 * thread, SIGHUP) and is immutable afterwards: any thread may read it
 * while it is not freed.  @locks none.
 */
#ifndef PEERSCOPE_IXDATA_H
#define PEERSCOPE_IXDATA_H

#include <stddef.h>
#include <stdint.h>

#include "base/macaddr.h"
#include "base/netaddr.h"
#include "peerscope/addr.h"
#include "peerscope/limits.h"

enum ixdata_format {
	IXDATA_IXF = 1,	      /* IX-F Member Export */
	IXDATA_PEERINGDB = 2, /* PeeringDB netixlan */
};

/* Why a file was refused; the names are a contract (log and counter text). */
#define IXDATA_REASONS(X)                                                      \
	X(OK, "ok")                                                            \
	X(IO, "io")		      /* cannot open or read */                \
	X(TOO_LARGE, "too_large")     /* > IXDATA_MAX_FILE_BYTES */            \
	X(SYNTAX, "syntax")	      /* not JSON (or not UTF-8) */            \
	X(TOO_DEEP, "too_deep")	      /* > IXDATA_MAX_JSON_DEPTH */            \
	X(TYPE, "type")		      /* a member of the wrong JSON type */    \
	X(MISSING, "missing")	      /* a required member absent */           \
	X(VERSION, "version")	      /* IX-F version not 0.4 .. 1.x */        \
	X(ASN, "asn")		      /* not 1 .. 4294967295 */                \
	X(RANGE, "range")	      /* an id or speed outside 0 .. 2^32-1 */ \
	X(ADDRESS, "address")	      /* not an address of that family */      \
	X(PREFIX, "prefix")	      /* an IX-F LAN prefix or its length */   \
	X(MAC, "mac")		      /* not a unicast MAC address */          \
	X(UNKNOWN_IXP, "unknown_ixp") /* ixp_id not in ixp_list */             \
	X(DUPLICATE, "duplicate")     /* ixp_id twice in ixp_list */           \
	X(ENTRIES_CAP, "entries_cap") /* > IXDATA_MAX_ENTRIES */               \
	X(MACS_CAP, "macs_cap")	      /* > IXDATA_MAX_MACS_PER_ENTRY */        \
	X(IXPS_CAP, "ixps_cap")	      /* > IXDATA_MAX_IXPS */                  \
	X(LANS_CAP, "lans_cap")	      /* > IXDATA_MAX_LANS */                  \
	X(NO_MEMORY, "no_memory")

enum ixdata_reason {
#define IXDATA_REASON_ENUM_(id, name) IXDATA_##id,
	IXDATA_REASONS(IXDATA_REASON_ENUM_)
#undef IXDATA_REASON_ENUM_
		IXDATA_REASON_COUNT
};

#define IXDATA_POINTER_MAX 160
#define IXDATA_PATH_MAX	   256
#define IXDATA_DETAIL_MAX  160

struct ixdata_err {
	enum ixdata_reason reason;
	char path[IXDATA_PATH_MAX]; /* the file ("" when parsed from memory) */
	char pointer
		[IXDATA_POINTER_MAX];	/* RFC 6901; "" = the whole document */
	char detail[IXDATA_DETAIL_MAX]; /* what was wrong, for a person */
};

/* entry flags */
#define IXDATA_HAS_IX  0x01 /* ix_id given */
#define IXDATA_HAS_LAN 0x02 /* lan_id given */

struct ixdata_entry {
	uint32_t asn;
	uint32_t ix_id;	 /* IX-F: connection ixp_id; PeeringDB: ix_id */
	uint32_t lan_id; /* IX-F: vlan_id; PeeringDB: ixlan_id */
	uint32_t peeringdb_ix_id; /* PeeringDB ix id (IX-F: ixp_list's
				     peeringdb_id); 0 = unknown */
	uint32_t speed_mbps;	  /* port speed; 0 = unknown */
	uint8_t flags;		  /* IXDATA_HAS_* */
	uint8_t n_macs;
	struct ps_addr ipv4, ipv6; /* af 0 = none */
	uint8_t macs[IXDATA_MAX_MACS_PER_ENTRY][MACADDR_LEN];
};

/* An IX-F LAN: ixp_list[].vlan[] (PeeringDB netixlan has none). */
struct ixdata_lan {
	uint32_t ix_id;			  /* ixp_list[].ixp_id */
	uint32_t lan_id;		  /* vlan[].id */
	uint32_t peeringdb_ix_id;	  /* 0 = unknown */
	uint8_t flags;			  /* IXDATA_HAS_LAN */
	char ix_name[32];		  /* shortname, truncated */
	struct netaddr_prefix ipv4, ipv6; /* len 0 and af 0 = none */
};

struct ixdata_summary {
	uint32_t entries;
	uint32_t asns;	     /* distinct */
	uint32_t ipv4, ipv6; /* entries with an address of that family */
	uint32_t macs;	     /* MACs over all entries */
	uint32_t lans;
	uint32_t skipped; /* PeeringDB: status other than "ok" */
};

struct ixdata;

/*
 * Read `path` as `format` into a new table (*out, the caller's to free).
 * 0, or -1 with *err filled in and *out untouched.
 */
int ixdata_load(enum ixdata_format format, const char *path,
		struct ixdata **out, struct ixdata_err *err);

/* The same from memory (len bytes, no NUL needed); err->path is "". */
int ixdata_parse(enum ixdata_format format, const char *text, size_t len,
		 struct ixdata **out, struct ixdata_err *err);

void ixdata_free(struct ixdata *t);

/* "PATH: at \"POINTER\": REASON: DETAIL" into buf; returns buf. */
char *ixdata_err_format(const struct ixdata_err *err, char *buf, size_t len);
const char *ixdata_reason_name(enum ixdata_reason reason);

const struct ixdata_summary *ixdata_summary(const struct ixdata *t);

/* All entries, by ASN (then IX, LAN, file order). */
const struct ixdata_entry *ixdata_entries(const struct ixdata *t, size_t *n);

/* The entries of one ASN: *first and the count (0: *first is NULL). */
size_t ixdata_find_asn(const struct ixdata *t, uint32_t asn,
		       const struct ixdata_entry **first);

/*
 * The entries that have this session address / this MAC: up to max of
 * them into out[] (in ASN order); returns how many there are in all.
 */
size_t ixdata_find_addr(const struct ixdata *t, const struct ps_addr *addr,
			const struct ixdata_entry **out, size_t max);
size_t ixdata_find_mac(const struct ixdata *t, const uint8_t mac[MACADDR_LEN],
		       const struct ixdata_entry **out, size_t max);

/* IX-F LANs, and the first whose prefix holds addr (NULL: none). */
const struct ixdata_lan *ixdata_lans(const struct ixdata *t, size_t *n);
const struct ixdata_lan *ixdata_lan_of(const struct ixdata *t,
				       const struct ps_addr *addr);

#endif /* PEERSCOPE_IXDATA_H */
