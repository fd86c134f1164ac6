/*
 * bgp.h - BGP-4 messages as BMP carries them (RFC 4271, 4760, 6793, 7911,
 * 7606, 4360, 8092, 8277, 4364).
 *
 * The decoders are pure: they read from a cursor, write into caller-owned
 * structs and borrow pointers into the message (no copies, no allocation).
 * An UPDATE is decoded in two steps on purpose: bgp_update_decode() walks
 * the attributes and locates the NLRI blocks; whether a block carries
 * ADD-PATH path identifiers is decided by the caller per block (BMP has no
 * flag for it, exporters differ, see bmp_session.c), then bgp_nlri_next()
 * walks it.
 *
 * @thread any, @locks none.
 */
#ifndef PEERSCOPE_BGP_H
#define PEERSCOPE_BGP_H

#include <stdbool.h>
#include <stdint.h>

#include "peerscope/addr.h"
#include "peerscope/cursor.h"
#include "peerscope/dec_stats.h"
#include "peerscope/limits.h"

#define BGP_HEADER_LEN	19
#define BGP_MAX_MSG_LEN 65535 /* RFC 8654 extended messages */

enum bgp_msg_type {
	BGP_OPEN = 1,
	BGP_UPDATE = 2,
	BGP_NOTIFICATION = 3,
	BGP_KEEPALIVE = 4,
	BGP_ROUTE_REFRESH = 5,
};

enum bgp_afi { BGP_AFI_IPV4 = 1, BGP_AFI_IPV6 = 2 };
enum bgp_safi {
	BGP_SAFI_UNICAST = 1,
	BGP_SAFI_MULTICAST = 2,
	BGP_SAFI_LABELED = 4,  /* RFC 8277 */
	BGP_SAFI_VPN = 128,    /* RFC 4364 */
};

/* Index of the (AFI, SAFI) pairs we decode, or -1. */
#define BGP_AFS_COUNT 8
int bgp_afs_index(uint16_t afi, uint8_t safi);
const char *bgp_afs_name(int idx); /* "ipv4_unicast" ... */

/* ADD-PATH send/receive bits, as in the capability (RFC 7911 §4). */
#define BGP_ADDPATH_RECEIVE 1
#define BGP_ADDPATH_SEND    2

struct bgp_open {
	uint8_t version;
	uint16_t my_as;
	uint16_t hold_time;
	uint32_t bgp_id;
	bool has_as4;
	uint32_t as4;             /* capability 65 */
	uint8_t mp_mask;          /* bit bgp_afs_index(): capability 1 */
	uint8_t addpath[BGP_AFS_COUNT]; /* capability 69: RECEIVE|SEND */
	unsigned ncaps;
	uint8_t caps[BGP_MAX_CAPS]; /* codes seen, in order, capped */
};

/* The real AS of an OPEN's speaker: the 4-octet one when advertised. */
static inline uint32_t bgp_open_asn(const struct bgp_open *o)
{
	return o->has_as4 ? o->as4 : o->my_as;
}

/*
 * Whether routes sent by `sender` to `receiver` carry path ids: the sender
 * said it can send and the receiver that it can receive (RFC 7911 §5).
 * The asymmetric case is the reason this takes a direction.
 */
static inline bool bgp_addpath_negotiated(const struct bgp_open *sender,
					  const struct bgp_open *receiver,
					  int afs)
{
	return afs >= 0 && (sender->addpath[afs] & BGP_ADDPATH_SEND) &&
	       (receiver->addpath[afs] & BGP_ADDPATH_RECEIVE);
}

/*
 * The 19-byte header.  `c` covers exactly one message (BMP frames it);
 * on success `body` covers what follows the header and `type` is set.
 */
int bgp_header_decode(struct cur *c, uint8_t *type, struct cur *body,
		      struct dec_stats *st);

/* A whole OPEN message, header included. */
int bgp_open_decode(struct cur *c, struct bgp_open *o, struct dec_stats *st);

struct bgp_notification {
	uint8_t code, subcode;
	const uint8_t *data;
	uint16_t data_len;
};

/* A whole NOTIFICATION message, header included. */
int bgp_notification_decode(struct cur *c, struct bgp_notification *n,
			    struct dec_stats *st);

/* ---- UPDATE ---- */

enum bgp_seg_type {
	BGP_AS_SET = 1,
	BGP_AS_SEQUENCE = 2,
	BGP_AS_CONFED_SEQUENCE = 3,
	BGP_AS_CONFED_SET = 4,
};

struct bgp_as_path {
	uint16_t nseg;
	uint16_t nasn;
	struct {
		uint8_t type;
		uint8_t count; /* ASNs of this segment in asn[] */
	} seg[BGP_MAX_SEGMENTS];
	uint32_t asn[BGP_MAX_AS_PATH];
};

/* The number of ASNs a path counts for (RFC 4271 §9.1.2.2, RFC 6793). */
unsigned bgp_as_path_length(const struct bgp_as_path *p);
/* Origin AS: last ASN of the last AS_SEQUENCE, 0 when there is none. */
uint32_t bgp_as_path_origin(const struct bgp_as_path *p);

/* Bits of bgp_update.present */
#define BGP_HAS_ORIGIN	    (1u << 0)
#define BGP_HAS_AS_PATH	    (1u << 1)
#define BGP_HAS_NEXT_HOP    (1u << 2)
#define BGP_HAS_MED	    (1u << 3)
#define BGP_HAS_LOCAL_PREF  (1u << 4)
#define BGP_HAS_ATOMIC	    (1u << 5)
#define BGP_HAS_AGGREGATOR  (1u << 6)
#define BGP_HAS_COMMUNITIES (1u << 7)
#define BGP_HAS_ORIGINATOR  (1u << 8)
#define BGP_HAS_CLUSTER	    (1u << 9)
#define BGP_HAS_MP_REACH    (1u << 10)
#define BGP_HAS_MP_UNREACH  (1u << 11)
#define BGP_HAS_EXT_COMM    (1u << 12)
#define BGP_HAS_AS4_PATH    (1u << 13)
#define BGP_HAS_AS4_AGGR    (1u << 14)
#define BGP_HAS_LARGE_COMM  (1u << 15)

/* One block of NLRI: where it is and which family it holds. */
struct bgp_nlri_block {
	struct cur c;
	uint16_t afi;
	uint8_t safi;
	int afs; /* bgp_afs_index(), -1 when unsupported */
};

struct bgp_update {
	uint32_t present;
	uint8_t origin;
	struct bgp_as_path as_path; /* AS4_PATH already merged in */
	struct ps_addr next_hop;    /* NEXT_HOP, or MP_REACH's global one */
	uint32_t med, local_pref;
	uint32_t aggregator_as, aggregator_id;
	uint32_t originator_id;
	uint16_t cluster_len;        /* CLUSTER_LIST entries */
	const uint8_t *cluster_list; /* borrowed, cluster_len entries of 4 */
	/* communities: borrowed, `n` entries of 4, 8 and 12 bytes */
	const uint8_t *comm;
	uint16_t ncomm;
	const uint8_t *ext_comm;
	uint16_t next_comm;
	const uint8_t *large_comm;
	uint16_t nlarge_comm;
	/* RFC 7606: a malformed attribute turns announcements into withdrawals */
	bool treat_as_withdraw;
	/* End-of-RIB (RFC 4724 §2): the family it closes, or -1 */
	bool end_of_rib;
	uint16_t eor_afi;
	uint8_t eor_safi;
	/* NLRI blocks: IPv4 unicast withdrawn/announced, MP ones */
	struct bgp_nlri_block withdrawn, nlri, mp_reach, mp_unreach;
};

/* Context from the session: how AS numbers are encoded in this stream. */
struct bgp_update_ctx {
	bool as2; /* 2-octet AS_PATH (BMP A flag; no 4-octet AS capability) */
};

/*
 * Decode the body of an UPDATE (header included in `c`).  0 on success,
 * possibly with treat_as_withdraw set; -1 when the message cannot be
 * used at all (its NLRI cannot be located, or MP attributes are broken:
 * RFC 7606 §7.3/§5.3 would reset the session or disable the family; we
 * drop the one message and count it).
 */
int bgp_update_decode(struct cur *c, const struct bgp_update_ctx *ctx,
		      struct bgp_update *u, struct dec_stats *st);

struct bgp_prefix {
	uint16_t afi;
	uint8_t safi;
	uint8_t len; /* prefix bits, labels and RD excluded */
	uint8_t addr[16];
	uint32_t path_id;
	uint32_t label;  /* first label (20 bits), labeled/VPN only */
	uint8_t nlabels;
	bool has_rd;
	uint64_t rd;     /* route distinguisher, VPN only */
};

/*
 * Walk one NLRI block.  Returns 1 with a prefix, 0 at the end, -1 on a
 * malformed entry (the rest of the block is lost).  `withdraw` matters
 * for labeled NLRI: RFC 8277 §2.4 withdrawals may carry any label value.
 */
int bgp_nlri_next(struct cur *c, const struct bgp_nlri_block *b,
		  bool addpath, bool withdraw, struct bgp_prefix *p,
		  struct dec_stats *st);

/*
 * The attributes that routes of one UPDATE share, for interning: every
 * attribute but MP_UNREACH, and MP_REACH without its NLRI (its length
 * rewritten, in the 2-byte form).  `out` holds at least alen + 1 bytes.
 * Returns the length written, or -1 if the section does not parse.
 */
int bgp_attrs_shared(const uint8_t *attrs, size_t alen, uint8_t *out,
		     size_t outcap);

/* Whether a whole block decodes exactly with (or without) path ids. */
bool bgp_nlri_block_fits(const struct bgp_nlri_block *b, bool addpath);

#endif /* PEERSCOPE_BGP_H */
