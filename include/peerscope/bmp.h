/*
 * bmp.h - BGP Monitoring Protocol v3 (RFC 7854), Adj-RIB-Out (RFC 8671),
 * Loc-RIB (RFC 9069), and BMP v4 (draft-ietf-grow-bmp-tlv-20): version 4
 * in the common header, TLVs after the v3 body of Peer Down and Stats
 * Reports, and Route Monitoring made of indexed TLVs, one of which is the
 * BGP PDU.  Route Mirroring's TLVs (RFC 7854 §4.7) are decoded too.
 *
 * bmp_frame() finds message boundaries in a byte stream; bmp_decode()
 * decodes one framed message into a struct bmp_msg that borrows pointers
 * into the message bytes.  Both are pure (see STYLE.md).
 *
 * @thread any, @locks none.
 */
#ifndef PEERSCOPE_BMP_H
#define PEERSCOPE_BMP_H

#include <stdbool.h>
#include <stdint.h>

#include "peerscope/addr.h"
#include "peerscope/bgp.h"
#include "peerscope/cursor.h"
#include "peerscope/dec_stats.h"
#include "peerscope/limits.h"

#define BMP_VERSION	      3
#define BMP_VERSION_TLV	      4 /* draft-ietf-grow-bmp-tlv */
#define BMP_COMMON_HDR_LEN    6
#define BMP_PEER_HDR_LEN      42
/* Largest message we accept: a 64 KiB extended BGP message plus headers
 * and TLVs.  Anything longer is a protocol error, never a 4 GiB wait. */

enum bmp_type {
	BMP_ROUTE_MONITORING = 0,
	BMP_STATISTICS = 1,
	BMP_PEER_DOWN = 2,
	BMP_PEER_UP = 3,
	BMP_INITIATION = 4,
	BMP_TERMINATION = 5,
	BMP_ROUTE_MIRRORING = 6,
	BMP_TYPE_COUNT
};

const char *bmp_type_name(unsigned type);

enum bmp_peer_type {
	BMP_PEER_GLOBAL = 0,
	BMP_PEER_RD = 1,
	BMP_PEER_LOCAL = 2,
	BMP_PEER_LOC_RIB = 3, /* RFC 9069 */
};

/* Per-peer flags (RFC 7854 §4.2, RFC 8671 §4, RFC 9069 §4.2) */
#define BMP_F_V 0x80 /* IPv6 peer address; for Loc-RIB: F (filtered) */
#define BMP_F_L 0x40 /* post-policy */
#define BMP_F_A 0x20 /* 2-octet AS_PATH */
#define BMP_F_O 0x10 /* Adj-RIB-Out */

/* Which RIB a Route Monitoring message describes. */
enum bmp_view {
	BMP_VIEW_PRE_POLICY = 0,
	BMP_VIEW_POST_POLICY,
	BMP_VIEW_ADJ_OUT_PRE,
	BMP_VIEW_ADJ_OUT_POST,
	BMP_VIEW_LOC_RIB,
	BMP_VIEW_COUNT
};

const char *bmp_view_name(enum bmp_view v);

struct bmp_peer_hdr {
	uint8_t peer_type;
	uint8_t flags;
	uint64_t distinguisher;
	struct ps_addr addr;
	uint32_t peer_as;
	uint32_t bgp_id;
	uint32_t ts_sec, ts_usec;
};

enum bmp_view bmp_peer_view(const struct bmp_peer_hdr *h);

/* Whether the AS_PATHs of this peer's messages use 2-octet ASNs. */
static inline bool bmp_peer_as2(const struct bmp_peer_hdr *h)
{
	return h->peer_type != BMP_PEER_LOC_RIB && (h->flags & BMP_F_A);
}

struct bmp_tlv {
	uint16_t type;
	uint16_t len;
	uint16_t index;	 /* v4 Route Monitoring TLVs only (has_index) */
	bool has_index;
	const uint8_t *value;
};

/*
 * BMP v4 TLV types in Route Monitoring (draft-ietf-grow-bmp-tlv-20 §8).
 * The top bit of a type is the E bit: a vendor's type, never ours.
 * Revisions up to -13 (the one Wireshark implements) numbered the BGP
 * PDU TLV 4, which -20 gives to the Group TLV: a type 4 TLV whose value
 * is a whole BGP message is taken as the PDU.
 */
#define BMP_V4_TLV_E_BIT	0x8000
#define BMP_V4_RM_GROUP		4
#define BMP_V4_RM_VRF_NAME	5
#define BMP_V4_RM_BGP_PDU	7
#define BMP_V4_RM_MAX_KNOWN	7 /* 1..7 are defined */

/* Route Mirroring (RFC 7854 §4.7): TLV types and Information codes */
#define BMP_MIRROR_TLV_BGP	0
#define BMP_MIRROR_TLV_INFO	1
#define BMP_MIRROR_ERRORED_PDU	0
#define BMP_MIRROR_MESSAGES_LOST 1

struct bmp_stat {
	uint16_t type;
	uint16_t afi;   /* per-AFI/SAFI types 9, 10, 16, 17 */
	uint8_t safi;
	bool is64;      /* 64-bit gauge; else 32-bit counter */
	bool known;     /* a length we understood */
	uint64_t value;
};

/* Peer Down reasons (RFC 7854 §4.9, RFC 9069 §5.4 for 6) */
enum bmp_down_reason {
	BMP_DOWN_LOCAL_NOTIFICATION = 1,
	BMP_DOWN_LOCAL_FSM = 2,
	BMP_DOWN_REMOTE_NOTIFICATION = 3,
	BMP_DOWN_REMOTE_NO_DATA = 4,
	BMP_DOWN_DECONFIGURED = 5,
	BMP_DOWN_LOC_RIB_DISABLED = 6,
};

struct bmp_msg {
	uint8_t version;
	uint8_t type;
	uint32_t length;
	bool has_peer;
	struct bmp_peer_hdr peer;
	/* TLVs: Initiation/Termination info, Peer Up information,
	 * Route Mirroring, or trailing BMP v4 TLVs; borrowed */
	unsigned ntlv;
	struct bmp_tlv tlv[BMP_MAX_TLVS];
	/* v4: TLVs after the v3 body, and those of types we do not know
	 * (counted and skipped; vendor types with the E bit among them) */
	unsigned v4_tlvs, v4_unknown;
	union {
		struct {
			struct cur bgp; /* one whole BGP UPDATE */
		} rm;
		struct {
			uint32_t count;
			bool truncated; /* count overran: n are whole */
			unsigned n;
			struct bmp_stat s[BMP_MAX_STATS];
		} stats;
		struct {
			uint8_t reason;
			uint16_t fsm_event;      /* reason 2 */
			bool has_notification;   /* reasons 1 and 3 */
			bool notification_valid;
			struct bgp_notification notification;
		} down;
		struct {
			struct ps_addr local_addr;
			uint16_t local_port, remote_port;
			struct bgp_open sent, received;
			bool sent_valid, received_valid;
		} up;
		struct {
			uint16_t reason; /* Termination TLV type 1, or 0xffff */
		} term;
		struct {
			/* RFC 7854 §4.7: BGP Message TLVs that hold a whole
			 * BGP message; Information TLVs by code */
			unsigned bgp_messages;
			unsigned errored_pdus;	/* code 0 */
			unsigned messages_lost; /* code 1 */
			unsigned info_other;	/* other codes */
			struct cur bgp;		/* the last BGP message */
			uint8_t bgp_type;	/* its type (RFC 4271 §4.1) */
		} mirror;
	} u;
};

/*
 * Frame the next message at the front of buf.  Returns 1 with *msg_len
 * when a whole message is there, 0 when more bytes are needed, and -1
 * when the stream cannot be framed (wrong version, a length shorter than
 * the header or beyond BMP_MAX_MSG_LEN): the session must be dropped.
 */
int bmp_frame(const uint8_t *buf, size_t len, uint32_t *msg_len,
	      struct dec_stats *st);

/* Decode one framed message (exactly msg_len bytes).  0 or -1. */
int bmp_decode(const uint8_t *buf, size_t len, struct bmp_msg *m,
	       struct dec_stats *st);

/* Decode a per-peer header on its own (for tests and Route Mirroring). */
int bmp_peer_hdr_decode(struct cur *c, struct bmp_peer_hdr *h,
			struct dec_stats *st);

#endif /* PEERSCOPE_BMP_H */
