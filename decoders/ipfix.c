/*
 * ipfix.c - IPFIX (RFC 7011) and NetFlow v9 (RFC 3954): one walker over
 * one template cache (ipfix_cache.c).
 *
 * IPFIX message                        NetFlow v9 packet
 *  0      2      4                      0      2      4
 *  +------+------+-------------+        +------+------+-------------+
 *  | ver10| len  | export time |        | ver 9| count| sysUptime   |
 *  +------+------+-------------+        +------+------+-------------+
 *  | sequence (data records)   |        | unix secs   | seq (packets)
 *  +---------------------------+        +-------------+-------------+
 *  | observation domain id     |        | source id                 |
 *  +---------------------------+        +---------------------------+
 *  sets: | set id | set length | body ... | padding |
 *    IPFIX: 2 template, 3 options template, >= 256 data, 4-255 reserved
 *    v9:    0 template, 1 options template, >= 256 data, 2-255 reserved
 *
 * Template record (§3.4.1): | tid | field count | field specifier... |
 * Options template (§3.4.2.2): | tid | field count | scope count | fields |
 * v9 options template (§6.1): | tid | scope bytes | option bytes | fields |
 * Field specifier (§3.2): |E| ie (15) | length | [PEN if E] |
 * Variable length (§7): first byte < 255 is the length; 255 means the
 * next two bytes are.
 *
 * A template is compiled when it arrives: each field gets a destination
 * (enum ipfix_dest), so decoding a record is one pass over that plan.
 */
#include <string.h>

#include "ipfix_cache.h"
#include "peerscope/cursor.h"
#include "peerscope/ipfix.h"
#include "peerscope/packet.h"

#define NTP_UNIX_OFFSET 2208988800ULL /* seconds from 1900 to 1970 */

/* ---- template keys ------------------------------------------------------ */

/* The key of template `tid` of the message's transport session. */
static void tkey_make(struct ipfix_tkey *k, const struct ipfix_msg *m,
		      uint16_t tid)
{
	memset(k, 0, sizeof(*k));
	k->exporter = m->exporter;
	k->port = m->src_port;
	k->version = (uint8_t)m->version;
	k->domain = m->domain;
	k->tid = tid;
}

/* ---- template compilation ---------------------------------------------- */

/*
 * The information-element map: (enterprise, element) -> destination, with
 * the element's name and the lengths its destination accepts.  Elements
 * not listed are kept in flow.extra (IPFIX_D_SKIP).  IANA names from the
 * IANA IPFIX registry; vendor rows name the vendor's element.
 *
 * pathDelay{Mean,Min,Max,Sum}DeltaMicroseconds: the IANA registry assigns
 * 530-533 (draft-ietf-opsawg-ipfix-on-path-telemetry; Sum is unsigned64).
 * pmacct exports the same four at 600-603, which the registry leaves
 * unassigned, so taking them as delays clashes with nothing.
 *
 * X(pen, ie, name, destination, length rule)
 */
#define U IPFIX_LEN_UINT
#define IPFIX_IE_MAP(X)                                                        \
	X(0, 1, "octetDeltaCount", IPFIX_D_BYTES, U)                           \
	X(0, 2, "packetDeltaCount", IPFIX_D_PACKETS, U)                        \
	X(0, 4, "protocolIdentifier", IPFIX_D_PROTOCOL, U)                     \
	X(0, 5, "ipClassOfService", IPFIX_D_TOS, U)                            \
	X(0, 6, "tcpControlBits", IPFIX_D_TCP_FLAGS, U)                        \
	X(0, 7, "sourceTransportPort", IPFIX_D_SRC_PORT, U)                    \
	X(0, 8, "sourceIPv4Address", IPFIX_D_SRC_V4, IPFIX_LEN_4)              \
	X(0, 9, "sourceIPv4PrefixLength", IPFIX_D_SRC_MASK, U)                 \
	X(0, 10, "ingressInterface", IPFIX_D_INPUT_IF, U)                      \
	X(0, 11, "destinationTransportPort", IPFIX_D_DST_PORT, U)              \
	X(0, 12, "destinationIPv4Address", IPFIX_D_DST_V4, IPFIX_LEN_4)        \
	X(0, 13, "destinationIPv4PrefixLength", IPFIX_D_DST_MASK, U)           \
	X(0, 14, "egressInterface", IPFIX_D_OUTPUT_IF, U)                      \
	X(0, 15, "ipNextHopIPv4Address", IPFIX_D_NEXT_HOP_V4, IPFIX_LEN_4)     \
	X(0, 16, "bgpSourceAsNumber", IPFIX_D_SRC_AS, U)                       \
	X(0, 17, "bgpDestinationAsNumber", IPFIX_D_DST_AS, U)                  \
	X(0, 18, "bgpNextHopIPv4Address", IPFIX_D_BGP_NH_V4, IPFIX_LEN_4)      \
	X(0, 21, "flowEndSysUpTime", IPFIX_D_END_UPTIME, U)                    \
	X(0, 22, "flowStartSysUpTime", IPFIX_D_START_UPTIME, U)                \
	X(0, 23, "postOctetDeltaCount", IPFIX_D_POST_BYTES, U)                 \
	X(0, 24, "postPacketDeltaCount", IPFIX_D_POST_PACKETS, U)              \
	X(0, 27, "sourceIPv6Address", IPFIX_D_SRC_V6, IPFIX_LEN_16)            \
	X(0, 28, "destinationIPv6Address", IPFIX_D_DST_V6, IPFIX_LEN_16)       \
	X(0, 29, "sourceIPv6PrefixLength", IPFIX_D_SRC_MASK, U)                \
	X(0, 30, "destinationIPv6PrefixLength", IPFIX_D_DST_MASK, U)           \
	X(0, 32, "icmpTypeCodeIPv4", IPFIX_D_ICMP_TYPE, U)                     \
	X(0, 34, "samplingInterval", IPFIX_D_OPT_INTERVAL, U)                  \
	X(0, 35, "samplingAlgorithm", IPFIX_D_OPT_MODE, U)                     \
	X(0, 48, "samplerId", IPFIX_D_SAMPLER_ID, U)                           \
	X(0, 49, "samplerMode", IPFIX_D_OPT_MODE, U)                           \
	X(0, 50, "samplerRandomInterval", IPFIX_D_OPT_RANDOM_INTERVAL, U)      \
	X(0, 56, "sourceMacAddress", IPFIX_D_SRC_MAC, IPFIX_LEN_6)             \
	X(0, 57, "postDestinationMacAddress", IPFIX_D_POST_DST_MAC,            \
	  IPFIX_LEN_6)                                                         \
	X(0, 58, "vlanId", IPFIX_D_VLAN, U)                                    \
	X(0, 59, "postVlanId", IPFIX_D_POST_VLAN, U)                           \
	X(0, 60, "ipVersion", IPFIX_D_IP_VERSION, U)                           \
	X(0, 61, "flowDirection", IPFIX_D_DIRECTION, U)                        \
	X(0, 62, "ipNextHopIPv6Address", IPFIX_D_NEXT_HOP_V6, IPFIX_LEN_16)    \
	X(0, 63, "bgpNextHopIPv6Address", IPFIX_D_BGP_NH_V6, IPFIX_LEN_16)     \
	X(0, 70, "mplsTopLabelStackSection", IPFIX_D_MPLS, IPFIX_LEN_3)        \
	X(0, 71, "mplsLabelStackSection2", IPFIX_D_MPLS, IPFIX_LEN_3)          \
	X(0, 72, "mplsLabelStackSection3", IPFIX_D_MPLS, IPFIX_LEN_3)          \
	X(0, 80, "destinationMacAddress", IPFIX_D_DST_MAC, IPFIX_LEN_6)        \
	X(0, 81, "postSourceMacAddress", IPFIX_D_POST_SRC_MAC, IPFIX_LEN_6)    \
	X(0, 85, "octetTotalCount", IPFIX_D_BYTES_TOTAL, U)                    \
	X(0, 86, "packetTotalCount", IPFIX_D_PACKETS_TOTAL, U)                 \
	X(0, 89, "forwardingStatus", IPFIX_D_FWD_STATUS, U)                    \
	X(0, 139, "icmpTypeCodeIPv6", IPFIX_D_ICMP_TYPE, U)                    \
	X(0, 149, "observationDomainId", IPFIX_D_OPT_DOMAIN, U)                \
	X(0, 150, "flowStartSeconds", IPFIX_D_START_S, U)                      \
	X(0, 151, "flowEndSeconds", IPFIX_D_END_S, U)                          \
	X(0, 152, "flowStartMilliseconds", IPFIX_D_START_MS, U)                \
	X(0, 153, "flowEndMilliseconds", IPFIX_D_END_MS, U)                    \
	/* pmacct 1.7.7 sends 16-byte 154/155 (a struct timeval) */            \
	X(0, 154, "flowStartMicroseconds", IPFIX_D_START_US, IPFIX_LEN_8)      \
	X(0, 155, "flowEndMicroseconds", IPFIX_D_END_US, IPFIX_LEN_8)          \
	X(0, 156, "flowStartNanoseconds", IPFIX_D_START_NS, IPFIX_LEN_8)       \
	X(0, 157, "flowEndNanoseconds", IPFIX_D_END_NS, IPFIX_LEN_8)           \
	X(0, 160, "systemInitTimeMilliseconds", IPFIX_D_OPT_SYS_INIT_MS, U)    \
	X(0, 190, "totalLengthIPv4", IPFIX_D_IPV4_TOTAL_LEN, U)                \
	X(0, 191, "payloadLengthIPv6", IPFIX_D_IPV6_PAYLOAD_LEN, U)            \
	X(0, 224, "ipTotalLength", IPFIX_D_IP_TOTAL_LEN, U)                    \
	X(0, 243, "dot1qVlanId", IPFIX_D_VLAN, U)                              \
	X(0, 252, "ingressPhysicalInterface", IPFIX_D_INPUT_PHYS, U)           \
	X(0, 253, "egressPhysicalInterface", IPFIX_D_OUTPUT_PHYS, U)           \
	X(0, 302, "selectorId", IPFIX_D_SELECTOR_ID, U)                        \
	X(0, 305, "samplingPacketInterval", IPFIX_D_OPT_PKT_INTERVAL, U)       \
	X(0, 306, "samplingPacketSpace", IPFIX_D_OPT_PKT_SPACE, U)             \
	X(0, 309, "samplingSize", IPFIX_D_OPT_SAMPLING_SIZE, U)                \
	X(0, 310, "samplingPopulation", IPFIX_D_OPT_SAMPLING_POPULATION, U)    \
	X(0, 311, "samplingProbability", IPFIX_D_OPT_PROBABILITY,              \
	  IPFIX_LEN_4_OR_8)                                                    \
	X(0, 312, "dataLinkFrameSize", IPFIX_D_FRAME_SIZE, U)                  \
	X(0, 315, "dataLinkFrameSection", IPFIX_D_FRAME, IPFIX_LEN_ANY)        \
	X(0, 352, "layer2OctetDeltaCount", IPFIX_D_L2_OCTETS, U)               \
	X(0, 353, "layer2OctetTotalCount", IPFIX_D_L2_OCTETS_TOTAL, U)         \
	X(0, 410, "sectionExportedOctets", IPFIX_D_SECTION_OCTETS, U)          \
	X(0, 530, "pathDelayMeanDeltaMicroseconds", IPFIX_D_DELAY_MEAN, U)     \
	X(0, 531, "pathDelayMinDeltaMicroseconds", IPFIX_D_DELAY_MIN, U)       \
	X(0, 532, "pathDelayMaxDeltaMicroseconds", IPFIX_D_DELAY_MAX, U)       \
	X(0, 533, "pathDelaySumDeltaMicroseconds", IPFIX_D_DELAY_SUM, U)       \
	X(0, 600, "pathDelayMeanDeltaMicroseconds", IPFIX_D_DELAY_MEAN, U)     \
	X(0, 601, "pathDelayMinDeltaMicroseconds", IPFIX_D_DELAY_MIN, U)       \
	X(0, 602, "pathDelayMaxDeltaMicroseconds", IPFIX_D_DELAY_MAX, U)       \
	X(0, 603, "pathDelaySumDeltaMicroseconds", IPFIX_D_DELAY_SUM, U)       \
	/* nProbe's v9 ids (NTOP_BASE 57472 + 82..85, 123..125) */             \
	X(0, 57554, "CLIENT_NW_DELAY_SEC", IPFIX_D_CLIENT_NW_SEC, U)           \
	X(0, 57555, "CLIENT_NW_DELAY_USEC", IPFIX_D_CLIENT_NW_USEC, U)         \
	X(0, 57556, "SERVER_NW_DELAY_SEC", IPFIX_D_SERVER_NW_SEC, U)           \
	X(0, 57557, "SERVER_NW_DELAY_USEC", IPFIX_D_SERVER_NW_USEC, U)         \
	X(0, 57595, "CLIENT_NW_LATENCY_MS", IPFIX_D_CLIENT_NW_MS, U)           \
	X(0, 57596, "SERVER_NW_LATENCY_MS", IPFIX_D_SERVER_NW_MS, U)           \
	X(0, 57597, "APPL_LATENCY_MS", IPFIX_D_APPL_MS, U)                     \
	/* RFC 5103: the reverse direction of a biflow */                      \
	X(IPFIX_PEN_REVERSE, 1, "reverseOctetDeltaCount", IPFIX_D_REV_BYTES,   \
	  U)                                                                   \
	X(IPFIX_PEN_REVERSE, 2, "reversePacketDeltaCount",                     \
	  IPFIX_D_REV_PACKETS, U)                                              \
	X(IPFIX_PEN_REVERSE, 85, "reverseOctetTotalCount",                     \
	  IPFIX_D_REV_BYTES_TOTAL, U)                                          \
	X(IPFIX_PEN_REVERSE, 86, "reversePacketTotalCount",                    \
	  IPFIX_D_REV_PACKETS_TOTAL, U)                                        \
	/* Huawei (PEN 2011): path delay mean/min/max/sum, microseconds */     \
	X(2011, 521, "pathDelayMean", IPFIX_D_DELAY_MEAN, U)                   \
	X(2011, 523, "pathDelayMin", IPFIX_D_DELAY_MIN, U)                     \
	X(2011, 525, "pathDelayMax", IPFIX_D_DELAY_MAX, U)                     \
	X(2011, 527, "pathDelaySum", IPFIX_D_DELAY_SUM, U)                     \
	/* ntop nProbe (PEN 35632) */                                          \
	X(35632, 82, "CLIENT_NW_DELAY_SEC", IPFIX_D_CLIENT_NW_SEC, U)          \
	X(35632, 83, "CLIENT_NW_DELAY_USEC", IPFIX_D_CLIENT_NW_USEC, U)        \
	X(35632, 84, "SERVER_NW_DELAY_SEC", IPFIX_D_SERVER_NW_SEC, U)          \
	X(35632, 85, "SERVER_NW_DELAY_USEC", IPFIX_D_SERVER_NW_USEC, U)        \
	X(35632, 123, "CLIENT_NW_LATENCY_MS", IPFIX_D_CLIENT_NW_MS, U)         \
	X(35632, 124, "SERVER_NW_LATENCY_MS", IPFIX_D_SERVER_NW_MS, U)         \
	X(35632, 125, "APPL_LATENCY_MS", IPFIX_D_APPL_MS, U)                   \
	/*                                                                     \
	 * Flowmon NPM (libfds flowmon.xml, PEN 39499; Progress Flowmon user   \
	 * guide, "Calculation of Flowmon NPM Metrics": microsecond            \
	 * precision).  65-68 npmDelay* are inter-packet delay and 61-64       \
	 * jitter, not network latency: not mapped.                            \
	 */                                                                    \
	X(IPFIX_PEN_FLOWMON, 69, "npmRoundTripTime", IPFIX_D_RTT_US, U)        \
	X(IPFIX_PEN_FLOWMON, 70, "npmServerResponseTime", IPFIX_D_SRT_US, U)   \
	/* Cisco AVC application response time, milliseconds (PEN 9) */        \
	X(9, 9282, "connectionNewConnections", IPFIX_D_ART_NEW_CONNECTIONS,    \
	  U)                                                                   \
	X(9, 9316, "artClientNetworkTimeSum", IPFIX_D_ART_CLIENT_NW_SUM, U)    \
	X(9, 9317, "artClientNetworkTimeMaximum", IPFIX_D_ART_CLIENT_NW_MAX,   \
	  U)                                                                   \
	X(9, 9318, "artClientNetworkTimeMinimum", IPFIX_D_ART_CLIENT_NW_MIN,   \
	  U)                                                                   \
	X(9, 9319, "artServerNetworkTimeSum", IPFIX_D_ART_SERVER_NW_SUM, U)    \
	X(9, 9320, "artServerNetworkTimeMaximum", IPFIX_D_ART_SERVER_NW_MAX,   \
	  U)                                                                   \
	X(9, 9321, "artServerNetworkTimeMinimum", IPFIX_D_ART_SERVER_NW_MIN, U)

#define IE_ROW(pen, ie, name, dest, rule) { pen, ie, name, dest, rule },
static const struct ipfix_ie ie_map[] = { IPFIX_IE_MAP(IE_ROW) };
#undef IE_ROW

/*
 * The same map by destination, for the per-record length check (every
 * row of a destination gives it the same rule: test_ipfix checks it;
 * later rows of a destination restate the earlier ones).
 */
#pragma GCC diagnostic push
#if defined(__clang__)
#pragma GCC diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#endif
#define IE_RULE(pen, ie, name, dest, rule) [dest] = rule,
static const uint8_t dest_len_rule[IPFIX_D_COUNT] = {
	[IPFIX_D_SKIP] = IPFIX_LEN_ANY,
	IPFIX_IE_MAP(IE_RULE)
};
#undef IE_RULE

/*
 * And as the lengths each destination accepts, bit n for n bytes (all
 * bits: any length), for every uint8_t a template may hold: the check in
 * field_store() is one load and a bit test per field.
 */
#define LEN_BIT(n) (1u << (n))
#define LEN_MASK(rule)                                                         \
	((rule) == IPFIX_LEN_ANY    ? UINT32_MAX :                             \
	 (rule) == IPFIX_LEN_UINT   ? LEN_BIT(1) | LEN_BIT(2) | LEN_BIT(3) |   \
					    LEN_BIT(4) | LEN_BIT(5) |          \
					    LEN_BIT(6) | LEN_BIT(7) | LEN_BIT(8) : \
	 (rule) == IPFIX_LEN_3	    ? LEN_BIT(3) :                             \
	 (rule) == IPFIX_LEN_4	    ? LEN_BIT(4) :                             \
	 (rule) == IPFIX_LEN_6	    ? LEN_BIT(6) :                             \
	 (rule) == IPFIX_LEN_8	    ? LEN_BIT(8) :                             \
	 (rule) == IPFIX_LEN_16	    ? LEN_BIT(16) :                            \
				      LEN_BIT(4) | LEN_BIT(8)) /* 4_OR_8 */
#define IE_LENGTHS(pen, ie, name, dest, rule) [dest] = LEN_MASK(rule),
static const uint32_t dest_lengths[256] = {
	/* a number no destination has (a damaged state file): read it as
	 * an unsigned integer, as any unnamed destination */
	[IPFIX_D_COUNT... 255] = LEN_MASK(IPFIX_LEN_UINT),
	[IPFIX_D_SKIP] = LEN_MASK(IPFIX_LEN_ANY),
	IPFIX_IE_MAP(IE_LENGTHS)
};
#undef IE_LENGTHS
#pragma GCC diagnostic pop
#undef U

/* Whether a value of len bytes fits the destination's rule. */
static inline bool len_fits(uint8_t dest, uint16_t len)
{
	uint32_t ok = dest_lengths[dest];

	return len < 32 ? ((ok >> len) & 1u) != 0 : ok == UINT32_MAX;
}

const struct ipfix_ie *ipfix_ie_find(uint32_t pen, uint16_t ie)
{
	for (size_t i = 0; i < sizeof(ie_map) / sizeof(ie_map[0]); i++)
		if (ie_map[i].ie == ie && ie_map[i].pen == pen)
			return &ie_map[i];
	return NULL;
}

const struct ipfix_ie *ipfix_ie_table(size_t *n)
{
	*n = sizeof(ie_map) / sizeof(ie_map[0]);
	return ie_map;
}

enum ipfix_len_rule ipfix_dest_len_rule(uint8_t dest)
{
	/* a number no destination has (a damaged state file): read it as
	 * an unsigned integer, as any unnamed destination */
	return dest < IPFIX_D_COUNT ? (enum ipfix_len_rule)dest_len_rule[dest] :
				      IPFIX_LEN_UINT;
}

uint8_t ipfix_field_dest(uint32_t pen, uint16_t ie, uint16_t len)
{
	const struct ipfix_ie *row = ipfix_ie_find(pen, ie);

	(void)len; /* lengths are checked per record, where they are read */
	return row != NULL ? row->dest : IPFIX_D_SKIP;
}

/*
 * Read `count` field specifiers into t.  0: compiled; 1: walked but
 * refused (counted); -1: the specifiers ran past the set (counted).  Only
 * the first IPFIX_MAX_FIELDS are kept, but all are walked so the next
 * template can be found.
 * `scope_v9` fields are v9 scope types (System, Interface, ...), whose
 * numbers are not information elements.
 */
static int template_fields(struct cur *c, struct ipfix_template *t,
			   uint32_t count, uint32_t scope_v9, bool v9,
			   struct dec_stats *st)
{
	uint32_t min_len = 0;
	bool bad_len = false;

	for (uint32_t i = 0; i < count; i++) {
		uint16_t ie, flen;
		uint32_t pen = 0;

		if (cur_u16(c, &ie) == -1 || /* E bit + element id */
		    cur_u16(c, &flen) == -1) /* field length */
			return dec_fail(st, DEC_IPFIX_TEMPLATE_TRUNCATED);
		if (!v9 && (ie & 0x8000u) != 0) {
			if (cur_u32(c, &pen) == -1) /* enterprise number */
				return dec_fail(st,
						DEC_IPFIX_TEMPLATE_TRUNCATED);
			ie &= 0x7FFFu;
		}
		if (flen == IPFIX_VARLEN) {
			if (v9)
				bad_len = true; /* v9 has no variable length */
			min_len += 1;
		} else {
			min_len += flen;
		}
		if (i < IPFIX_MAX_FIELDS) {
			struct ipfix_field *f = &t->f[i];

			f->pen = pen;
			f->ie = ie;
			f->len = flen;
			f->dest = i < scope_v9 ?
					  (uint8_t)IPFIX_D_SKIP :
					  ipfix_field_dest(pen, ie, flen);
		}
	}
	if (count > IPFIX_MAX_FIELDS) {
		dec_count(st, DEC_IPFIX_TEMPLATE_TOO_MANY_FIELDS);
		return 1;
	}
	if (bad_len || min_len == 0) {
		dec_count(st, DEC_IPFIX_TEMPLATE_FIELD_LENGTH_INVALID);
		return 1;
	}
	if (min_len > UINT16_MAX) {
		dec_count(st, DEC_IPFIX_TEMPLATE_RECORD_TOO_LONG);
		return 1;
	}
	t->field_count = (uint16_t)count;
	t->min_len = (uint16_t)min_len;
	return 0;
}

/* Install a compiled template; report it so held data can be replayed. */
static void template_install(struct ipfix_cache *tc, struct ipfix_template *t,
			     struct ipfix_msg *m, const struct ipfix_handler *h,
			     struct dec_stats *st)
{
	bool pinned = h != NULL && h->exporter_pinned != NULL &&
		      h->exporter_pinned(h->arg, m);

	t->last_seen_s = m->now_s;
	if (ipfix_cache_put(tc, t, pinned) == -1) {
		m->templates_refused++;
		dec_count(st, DEC_IPFIX_TEMPLATE_REFUSED);
		return;
	}
	m->templates_added++;
	if (h != NULL && h->template_added != NULL)
		h->template_added(h->arg, m, t->key.tid);
}

static void template_withdraw(struct ipfix_cache *tc, struct ipfix_msg *m,
			      uint16_t tid, bool options, struct dec_stats *st)
{
	struct ipfix_tkey key;
	struct ipfix_template *t;

	tkey_make(&key, m, tid);
	/* §8.1: id 2 (templates) or 3 (options templates) withdraws them all */
	if (tid == 2 || tid == 3) {
		m->templates_withdrawn +=
			ipfix_tcache_withdraw_all(tc, &key, tid == 3);
		return;
	}
	t = ipfix_tcache_lookup(tc, &key);
	if (t == NULL || t->state != IPFIX_T_LIVE || t->options != options) {
		dec_count(st, DEC_IPFIX_WITHDRAW_UNKNOWN);
		return;
	}
	ipfix_tcache_withdraw(tc, t);
	m->templates_withdrawn++;
}

/*
 * A template set: IPFIX 2 / 3, v9 0 / 1.  A broken template stops the
 * set (the next one cannot be found), but templates before it stand.
 */
static void template_set(struct ipfix_cache *tc, struct ipfix_msg *m,
			 struct cur *c, bool options,
			 const struct ipfix_handler *h, struct dec_stats *st)
{
	bool v9 = m->version == NFV9_VERSION;
	struct ipfix_template t;

	/* Fewer bytes than a template header are padding (§3.3.1). */
	while (cur_left(c) >= 4) {
		uint16_t tid, count, scope = 0;
		uint32_t scope_v9 = 0;
		int rc;

		memset(&t, 0, sizeof(t));
		if (cur_u16(c, &tid) == -1 || /* template id */
		    cur_u16(c, &count) == -1) /* fields, or v9 scope bytes */
			return (void)dec_fail(st, DEC_IPFIX_TEMPLATE_TRUNCATED);
		if (v9 && options) {
			uint16_t opt_bytes;

			if (cur_u16(c, &opt_bytes) == -1)
				return (void)dec_fail(
					st, DEC_IPFIX_TEMPLATE_TRUNCATED);
			if (count % 4 != 0 || opt_bytes % 4 != 0)
				return (void)dec_fail(
					st, DEC_IPFIX_SCOPE_COUNT_INVALID);
			scope_v9 = count / 4u;
			scope = (uint16_t)scope_v9;
			count = (uint16_t)(scope_v9 + opt_bytes / 4u);
			if (scope == 0)
				return (void)dec_fail(
					st, DEC_IPFIX_SCOPE_COUNT_INVALID);
		} else if (!v9 && count == 0) {
			/* §8.1 withdrawal: a template id with no fields */
			template_withdraw(tc, m, tid, options, st);
			continue;
		} else if (!v9 && options) {
			if (cur_u16(c, &scope) == -1)
				return (void)dec_fail(
					st, DEC_IPFIX_TEMPLATE_TRUNCATED);
			/* §3.4.2.2: scope count MUST NOT be zero */
			if (scope == 0 || scope > count)
				return (void)dec_fail(
					st, DEC_IPFIX_SCOPE_COUNT_INVALID);
		}
		if (count == 0)
			return (void)dec_fail(
				st, DEC_IPFIX_TEMPLATE_FIELD_COUNT_ZERO);
		rc = template_fields(c, &t, count, scope_v9, v9, st);
		if (rc == -1)
			return; /* cut short: the next template cannot be found */
		if (rc == 1)
			continue; /* refused, but walked: go on to the next */
		if (tid < 256) {
			/* §3.4.1: ids 0-255 are reserved for set ids */
			dec_count(st, DEC_IPFIX_TEMPLATE_ID_RESERVED);
			continue;
		}
		tkey_make(&t.key, m, tid);
		t.options = options;
		t.scope_count = scope;
		template_install(tc, &t, m, h, st);
	}
}

/* ---- records ------------------------------------------------------------ */

/*
 * Unsigned value of 1-8 bytes (reduced-size encoding, RFC 7011 §6.2).
 * `v` was handed out by cur_ptr() for exactly `len` bytes, so this reads
 * nothing beyond what the cursor already proved is there.
 */
static uint64_t be_uint(const uint8_t *v, uint16_t len)
{
	uint64_t x = 0;

	for (uint16_t i = 0; i < len && i < 8; i++)
		x = x << 8 | v[i];
	return x;
}

static void set_v4(struct ps_addr *a, const uint8_t *v)
{
	memset(a, 0, sizeof(*a));
	a->af = 4;
	memcpy(a->bytes, v, 4);
}

static void set_v6(struct ps_addr *a, const uint8_t *v)
{
	a->af = 6;
	memcpy(a->bytes, v, 16);
}

/* NTP timestamp (dateTimeMicro/Nanoseconds, §6.1.9-10) to Unix ns. */
static uint64_t ntp_to_ns(const uint8_t *v, bool micro)
{
	uint64_t sec = be_uint(v, 4);
	uint64_t frac = be_uint(v + 4, 4);

	if (micro)
		frac &= ~(uint64_t)0x7FF; /* the low 11 bits are not used */
	if (sec < NTP_UNIX_OFFSET)
		return 0;
	return (sec - NTP_UNIX_OFFSET) * 1000000000ULL +
	       ((frac * 1000000000ULL) >> 32);
}

static void add_extra(struct ps_flow *f, const struct ipfix_field *fd,
		      const uint8_t *v, uint16_t len, struct dec_stats *st)
{
	if (f->extra_count >= FLOW_MAX_EXTRA) {
		dec_count(st, DEC_IPFIX_EXTRA_CAPPED);
		return;
	}
	f->extra[f->extra_count].pen = fd->pen;
	f->extra[f->extra_count].ie = fd->ie;
	f->extra[f->extra_count].len = len;
	f->extra[f->extra_count].value = v;
	f->extra_count++;
}

static void latency_mark(struct ps_flow *f, enum flow_latency_has which)
{
	f->latency_present |= (uint32_t)which;
	f->present |= FLOW_HAS_TCP_LATENCY;
}

/*
 * Per-record facts kept aside while the fields are read, then resolved
 * against each other once the record is complete (lengths_resolve): the
 * order of fields in a template must not decide which count wins.
 */
enum rec_has {
	REC_POST_OCTETS = 1u << 0,  /* 23 */
	REC_POST_PACKETS = 1u << 1, /* 24 */
	REC_OCTET_TOTAL = 1u << 2,  /* 85 */
	REC_PACKET_TOTAL = 1u << 3, /* 86 */
	REC_L2_TOTAL = 1u << 4,	    /* 353 */
	REC_REV_OCTETS = 1u << 5,   /* 29305/1 */
	REC_REV_PACKETS = 1u << 6,  /* 29305/2 */
	REC_REV_OCTET_TOTAL = 1u << 7,
	REC_REV_PACKET_TOTAL = 1u << 8,
};

struct rec_scratch {
	uint32_t has; /* enum rec_has */
	uint64_t post_octets, post_packets;
	uint64_t octet_total, packet_total;
	uint64_t l2_total;
	uint64_t rev_octet_total, rev_packet_total;
};

/* A float of 4 or 8 bytes (IEEE 754, reduced-size encoding §6.2). */
static double be_float(const uint8_t *v, uint16_t len)
{
	uint64_t bits = be_uint(v, len);

	if (len == 4) {
		uint32_t b32 = (uint32_t)bits;
		float f;

		memcpy(&f, &b32, sizeof(f));
		return f;
	}
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

static uint32_t clamp32(uint64_t x)
{
	return x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
}

/* One field's value into the flow record (or the options facts). */
static void field_store(struct ps_flow *f, struct ipfix_options *o,
			struct rec_scratch *rs, const struct ipfix_field *fd,
			const uint8_t *v, uint16_t len, struct dec_stats *st)
{
	uint64_t x = len <= 8 ? be_uint(v, len) : 0;

	if (!len_fits(fd->dest, len))
		goto bad_len;

	switch (fd->dest) {
	case IPFIX_D_SKIP:
		add_extra(f, fd, v, len, st);
		break;
	case IPFIX_D_BYTES:
		f->bytes = x;
		f->present |= FLOW_HAS_BYTES;
		break;
	case IPFIX_D_PACKETS:
		f->packets = x;
		f->present |= FLOW_HAS_PACKETS;
		break;
	case IPFIX_D_POST_BYTES:
		rs->post_octets = x;
		rs->has |= REC_POST_OCTETS;
		break;
	case IPFIX_D_POST_PACKETS:
		rs->post_packets = x;
		rs->has |= REC_POST_PACKETS;
		break;
	case IPFIX_D_BYTES_TOTAL:
		rs->octet_total = x;
		rs->has |= REC_OCTET_TOTAL;
		break;
	case IPFIX_D_PACKETS_TOTAL:
		rs->packet_total = x;
		rs->has |= REC_PACKET_TOTAL;
		break;
	case IPFIX_D_REV_BYTES:
		f->rev_bytes = x;
		rs->has |= REC_REV_OCTETS;
		f->present |= FLOW_HAS_REVERSE;
		break;
	case IPFIX_D_REV_PACKETS:
		f->rev_packets = x;
		rs->has |= REC_REV_PACKETS;
		f->present |= FLOW_HAS_REVERSE;
		break;
	case IPFIX_D_REV_BYTES_TOTAL:
		rs->rev_octet_total = x;
		rs->has |= REC_REV_OCTET_TOTAL;
		f->present |= FLOW_HAS_REVERSE;
		break;
	case IPFIX_D_REV_PACKETS_TOTAL:
		rs->rev_packet_total = x;
		rs->has |= REC_REV_PACKET_TOTAL;
		f->present |= FLOW_HAS_REVERSE;
		break;
	case IPFIX_D_FRAME_SIZE:
		f->frame_size = clamp32(x);
		f->lengths |= FLOW_LEN_FRAME_SIZE;
		break;
	case IPFIX_D_IP_TOTAL_LEN:
	case IPFIX_D_IPV4_TOTAL_LEN:
		f->ip_total_length = clamp32(x);
		f->lengths |= FLOW_LEN_IP_TOTAL;
		break;
	case IPFIX_D_IPV6_PAYLOAD_LEN:
		/* payloadLengthIPv6 leaves out the 40-byte fixed header */
		f->ip_total_length = x > UINT32_MAX - 40 ? UINT32_MAX :
							   (uint32_t)x + 40;
		f->lengths |= FLOW_LEN_IP_TOTAL;
		break;
	case IPFIX_D_L2_OCTETS:
		f->l2_octets = x;
		f->lengths |= FLOW_LEN_L2_OCTETS;
		break;
	case IPFIX_D_L2_OCTETS_TOTAL:
		rs->l2_total = x;
		rs->has |= REC_L2_TOTAL;
		break;
	case IPFIX_D_PROTOCOL:
		f->protocol = (uint8_t)x;
		f->present |= FLOW_HAS_PROTOCOL;
		break;
	case IPFIX_D_TOS:
		f->tos = (uint8_t)x;
		f->present |= FLOW_HAS_TOS;
		break;
	case IPFIX_D_TCP_FLAGS:
		f->tcp_flags = (uint16_t)x;
		f->present |= FLOW_HAS_TCP_FLAGS;
		break;
	case IPFIX_D_SRC_PORT:
		f->src_port = (uint16_t)x;
		f->present |= FLOW_HAS_PORTS;
		break;
	case IPFIX_D_DST_PORT:
		f->dst_port = (uint16_t)x;
		f->present |= FLOW_HAS_PORTS;
		break;
	case IPFIX_D_ICMP_TYPE:
		/* ICMP keys as sport 0, dport type<<8|code (like the truth) */
		if (x != 0 || (f->present & FLOW_HAS_PORTS) == 0) {
			f->src_port = 0;
			f->dst_port = (uint16_t)x;
			f->present |= FLOW_HAS_PORTS;
		}
		break;
	case IPFIX_D_SRC_V4:
		set_v4(&f->src_addr, v);
		f->present |= FLOW_HAS_SRC_ADDR;
		break;
	case IPFIX_D_DST_V4:
		set_v4(&f->dst_addr, v);
		f->present |= FLOW_HAS_DST_ADDR;
		break;
	case IPFIX_D_SRC_V6:
		set_v6(&f->src_addr, v);
		f->present |= FLOW_HAS_SRC_ADDR;
		break;
	case IPFIX_D_DST_V6:
		set_v6(&f->dst_addr, v);
		f->present |= FLOW_HAS_DST_ADDR;
		break;
	case IPFIX_D_NEXT_HOP_V4:
		set_v4(&f->next_hop, v);
		f->present |= FLOW_HAS_NEXT_HOP;
		break;
	case IPFIX_D_NEXT_HOP_V6:
		set_v6(&f->next_hop, v);
		f->present |= FLOW_HAS_NEXT_HOP;
		break;
	case IPFIX_D_BGP_NH_V4:
		set_v4(&f->bgp_next_hop, v);
		f->present |= FLOW_HAS_BGP_NEXT_HOP;
		break;
	case IPFIX_D_BGP_NH_V6:
		set_v6(&f->bgp_next_hop, v);
		f->present |= FLOW_HAS_BGP_NEXT_HOP;
		break;
	case IPFIX_D_SRC_MASK:
		f->src_mask = (uint8_t)x;
		f->present |= FLOW_HAS_MASKS;
		break;
	case IPFIX_D_DST_MASK:
		f->dst_mask = (uint8_t)x;
		f->present |= FLOW_HAS_MASKS;
		break;
	case IPFIX_D_INPUT_IF:
		f->input_if = (uint32_t)x;
		f->present |= FLOW_HAS_INPUT_IF;
		break;
	case IPFIX_D_OUTPUT_IF:
		f->output_if = (uint32_t)x;
		f->present |= FLOW_HAS_OUTPUT_IF;
		break;
	case IPFIX_D_INPUT_PHYS:
		/* The logical ifIndex (10), when given, names the connection. */
		if ((f->present & FLOW_HAS_INPUT_IF) == 0) {
			f->input_if = (uint32_t)x;
			f->present |= FLOW_HAS_INPUT_IF;
		}
		break;
	case IPFIX_D_OUTPUT_PHYS:
		if ((f->present & FLOW_HAS_OUTPUT_IF) == 0) {
			f->output_if = (uint32_t)x;
			f->present |= FLOW_HAS_OUTPUT_IF;
		}
		break;
	case IPFIX_D_SRC_AS:
		f->src_as = (uint32_t)x;
		f->present |= FLOW_HAS_AS;
		break;
	case IPFIX_D_DST_AS:
		f->dst_as = (uint32_t)x;
		f->present |= FLOW_HAS_AS;
		break;
	case IPFIX_D_END_UPTIME:
		f->end_uptime_ms = (uint32_t)x;
		f->present |= FLOW_HAS_START_UPTIME;
		break;
	case IPFIX_D_START_UPTIME:
		f->start_uptime_ms = (uint32_t)x;
		f->present |= FLOW_HAS_START_UPTIME;
		break;
	case IPFIX_D_START_S:
		f->start_ns = x * 1000000000ULL;
		f->present |= FLOW_HAS_START;
		break;
	case IPFIX_D_END_S:
		f->end_ns = x * 1000000000ULL;
		f->present |= FLOW_HAS_END;
		break;
	case IPFIX_D_START_MS:
		f->start_ns = x * 1000000ULL;
		f->present |= FLOW_HAS_START;
		break;
	case IPFIX_D_END_MS:
		f->end_ns = x * 1000000ULL;
		f->present |= FLOW_HAS_END;
		break;
	case IPFIX_D_START_US:
	case IPFIX_D_START_NS:
		f->start_ns = ntp_to_ns(v, fd->dest == IPFIX_D_START_US);
		f->present |= FLOW_HAS_START;
		break;
	case IPFIX_D_END_US:
	case IPFIX_D_END_NS:
		f->end_ns = ntp_to_ns(v, fd->dest == IPFIX_D_END_US);
		f->present |= FLOW_HAS_END;
		break;
	case IPFIX_D_SRC_MAC:
		memcpy(f->src_mac, v, 6);
		f->present |= FLOW_HAS_SRC_MAC;
		f->mac_from |= FLOW_MAC_SRC;
		break;
	case IPFIX_D_DST_MAC:
		memcpy(f->dst_mac, v, 6);
		f->present |= FLOW_HAS_DST_MAC;
		f->mac_from |= FLOW_MAC_DST;
		break;
	case IPFIX_D_POST_SRC_MAC:
		memcpy(f->post_src_mac, v, 6);
		f->mac_from |= FLOW_MAC_POST_SRC;
		if (!(f->mac_from & FLOW_MAC_SRC)) { /* src_mac: 56, else 81 */
			memcpy(f->src_mac, v, 6);
			f->present |= FLOW_HAS_SRC_MAC;
		}
		break;
	case IPFIX_D_POST_DST_MAC:
		memcpy(f->post_dst_mac, v, 6);
		f->mac_from |= FLOW_MAC_POST_DST;
		if (!(f->mac_from & FLOW_MAC_DST)) { /* dst_mac: 80, else 57 */
			memcpy(f->dst_mac, v, 6);
			f->present |= FLOW_HAS_DST_MAC;
		}
		break;
	case IPFIX_D_VLAN:
		f->vlan = (uint16_t)x;
		f->present |= FLOW_HAS_VLAN;
		break;
	case IPFIX_D_POST_VLAN:
		f->post_vlan = (uint16_t)x;
		f->present |= FLOW_HAS_POST_VLAN;
		break;
	case IPFIX_D_MPLS:
		/* 3 bytes: label (20) | exp (3) | bottom of stack (1) */
		if (f->mpls_count < FLOW_MAX_MPLS)
			f->mpls[f->mpls_count++] = (uint32_t)be_uint(v, 3);
		f->present |= FLOW_HAS_MPLS;
		break;
	case IPFIX_D_DIRECTION:
		/* as sent: the collector decides what a value past 1 means */
		f->direction = x > 255 ? 255 : (uint8_t)x;
		f->present |= FLOW_HAS_DIRECTION;
		break;
	case IPFIX_D_FWD_STATUS:
		/* RFC 7270 sends it as 4 bytes; the status is the top byte. */
		f->forwarding_status = v[0];
		f->present |= FLOW_HAS_FWD_STATUS;
		break;
	case IPFIX_D_IP_VERSION:
		f->ip_version = (uint8_t)x;
		f->present |= FLOW_HAS_IP_VERSION;
		break;
	case IPFIX_D_SAMPLER_ID:
		f->sampler_id = (uint32_t)x;
		f->present |= FLOW_HAS_SAMPLER_ID;
		break;
	case IPFIX_D_SELECTOR_ID:
		f->selector_id = x;
		f->present |= FLOW_HAS_SELECTOR_ID;
		break;
	case IPFIX_D_FRAME:
		f->frame = v;
		/* 410 may have come first and told the real length */
		if (f->frame_len == 0 || f->frame_len > len)
			f->frame_len = len;
		f->present |= FLOW_HAS_FRAME;
		break;
	case IPFIX_D_SECTION_OCTETS:
		/* 410 sectionExportedOctets: the real bytes of a padded 315 */
		if (x <= UINT16_MAX &&
		    ((f->present & FLOW_HAS_FRAME) == 0 || x <= f->frame_len))
			f->frame_len = (uint16_t)x;
		else
			dec_count(st, DEC_IPFIX_SECTION_OCTETS_INVALID);
		break;
	case IPFIX_D_DELAY_MEAN:
		f->path_delay_mean_us = clamp32(x);
		f->latency_present |= FLOW_LAT_DELAY_MEAN;
		f->present |= FLOW_HAS_PATH_DELAY;
		break;
	case IPFIX_D_DELAY_MIN:
		f->path_delay_min_us = clamp32(x);
		f->latency_present |= FLOW_LAT_DELAY_MIN;
		f->present |= FLOW_HAS_PATH_DELAY;
		break;
	case IPFIX_D_DELAY_MAX:
		f->path_delay_max_us = clamp32(x);
		f->latency_present |= FLOW_LAT_DELAY_MAX;
		f->present |= FLOW_HAS_PATH_DELAY;
		break;
	case IPFIX_D_DELAY_SUM:
		f->path_delay_sum_us = x;
		f->latency_present |= FLOW_LAT_DELAY_SUM;
		f->present |= FLOW_HAS_PATH_DELAY;
		break;
	case IPFIX_D_CLIENT_NW_MS:
		f->client_nw_latency_ms = (uint32_t)x;
		latency_mark(f, FLOW_LAT_CLIENT_NW);
		break;
	case IPFIX_D_SERVER_NW_MS:
		f->server_nw_latency_ms = (uint32_t)x;
		latency_mark(f, FLOW_LAT_SERVER_NW);
		break;
	case IPFIX_D_APPL_MS:
		f->appl_latency_ms = (uint32_t)x;
		latency_mark(f, FLOW_LAT_APPL);
		break;
	case IPFIX_D_ART_CLIENT_NW_SUM:
		f->art_client_nw_sum_ms = (uint32_t)x;
		latency_mark(f, FLOW_LAT_ART_CLIENT);
		break;
	case IPFIX_D_ART_SERVER_NW_SUM:
		f->art_server_nw_sum_ms = (uint32_t)x;
		latency_mark(f, FLOW_LAT_ART_SERVER);
		break;
	case IPFIX_D_ART_CLIENT_NW_MIN:
		f->art_client_nw_min_ms = clamp32(x);
		latency_mark(f, FLOW_LAT_ART_CLIENT_MIN);
		break;
	case IPFIX_D_ART_CLIENT_NW_MAX:
		f->art_client_nw_max_ms = clamp32(x);
		latency_mark(f, FLOW_LAT_ART_CLIENT_MAX);
		break;
	case IPFIX_D_ART_SERVER_NW_MIN:
		f->art_server_nw_min_ms = clamp32(x);
		latency_mark(f, FLOW_LAT_ART_SERVER_MIN);
		break;
	case IPFIX_D_ART_SERVER_NW_MAX:
		f->art_server_nw_max_ms = clamp32(x);
		latency_mark(f, FLOW_LAT_ART_SERVER_MAX);
		break;
	case IPFIX_D_ART_NEW_CONNECTIONS:
		f->art_new_connections = clamp32(x);
		latency_mark(f, FLOW_LAT_ART_COUNT);
		break;
	/* seconds and microseconds of one delay, in either order; a
	 * microseconds part of a second or more is the exporter's error,
	 * kept (the delay is then checked against the bound) */
	case IPFIX_D_CLIENT_NW_SEC:
		f->client_nw_delay_us += (x > UINT32_MAX ? UINT32_MAX : x) *
					 1000000ULL;
		latency_mark(f, FLOW_LAT_CLIENT_NW_PAIR);
		break;
	case IPFIX_D_CLIENT_NW_USEC:
		f->client_nw_delay_us += clamp32(x);
		latency_mark(f, FLOW_LAT_CLIENT_NW_PAIR);
		break;
	case IPFIX_D_SERVER_NW_SEC:
		f->server_nw_delay_us += (x > UINT32_MAX ? UINT32_MAX : x) *
					 1000000ULL;
		latency_mark(f, FLOW_LAT_SERVER_NW_PAIR);
		break;
	case IPFIX_D_SERVER_NW_USEC:
		f->server_nw_delay_us += clamp32(x);
		latency_mark(f, FLOW_LAT_SERVER_NW_PAIR);
		break;
	case IPFIX_D_RTT_US:
		f->rtt_us = (uint32_t)x;
		latency_mark(f, FLOW_LAT_RTT);
		break;
	case IPFIX_D_SRT_US:
		f->server_response_us = (uint32_t)x;
		latency_mark(f, FLOW_LAT_SRT);
		break;
	case IPFIX_D_OPT_INTERVAL:
		o->interval = clamp32(x);
		o->present |= IPFIX_OPT_INTERVAL;
		break;
	case IPFIX_D_OPT_SAMPLING_SIZE:
		o->sampling_size = clamp32(x);
		o->present |= IPFIX_OPT_SAMPLING_SIZE;
		break;
	case IPFIX_D_OPT_SAMPLING_POPULATION:
		o->sampling_population = clamp32(x);
		o->present |= IPFIX_OPT_POPULATION;
		break;
	case IPFIX_D_OPT_PROBABILITY:
		o->probability = be_float(v, len);
		o->present |= IPFIX_OPT_PROBABILITY;
		break;
	case IPFIX_D_OPT_RANDOM_INTERVAL:
		o->random_interval = (uint32_t)x;
		o->present |= IPFIX_OPT_RANDOM_INTERVAL;
		break;
	case IPFIX_D_OPT_PKT_INTERVAL:
		o->pkt_interval = (uint32_t)x;
		o->present |= IPFIX_OPT_PKT_INTERVAL;
		break;
	case IPFIX_D_OPT_PKT_SPACE:
		o->pkt_space = (uint32_t)x;
		o->present |= IPFIX_OPT_PKT_SPACE;
		break;
	case IPFIX_D_OPT_MODE:
		o->mode = (uint32_t)x;
		o->present |= IPFIX_OPT_MODE;
		break;
	case IPFIX_D_OPT_SYS_INIT_MS:
		o->sys_init_ms = x;
		o->present |= IPFIX_OPT_SYS_INIT;
		break;
	case IPFIX_D_OPT_DOMAIN:
		o->domain = (uint32_t)x;
		o->present |= IPFIX_OPT_DOMAIN;
		break;
	default:
		break;
	}
	return;
bad_len:
	dec_count(st, DEC_IPFIX_FIELD_LENGTH_UNEXPECTED);
	add_extra(f, fd, v, len, st);
}

static void ip_addr(struct ps_addr *a, uint8_t version, const uint8_t *b)
{
	memset(a, 0, sizeof(*a));
	a->af = version;
	memcpy(a->bytes, b, version == 4 ? 4 : 16);
}

/*
 * A dataLinkFrameSection (315) is the start of a real frame: decode it
 * with the sampled-header decoder and fill what the record's own fields
 * did not say.  The frame is Ethernet (dataLinkFrameType 408 = 1, the
 * only type the exporters in our corpus send).  Returns the frame's
 * length as its IP header tells it (the bytes before the IP layer plus
 * the IP total length, without padding or FCS), 0 when it does not.
 */
static uint32_t frame_fill(struct ps_flow *f, struct dec_stats *st)
{
	struct pkt_info pi;
	const struct pkt_ip *ip = &pi.ip;
	uint32_t frame_len = 0;

	memset(&pi, 0, sizeof(pi));
	if (pkt_decode(f->frame, f->frame_len, PKT_PROTO_ETHERNET, &pi, st) ==
	    -1)
		return 0;
	if (pi.has_ethernet && !(f->present & FLOW_HAS_SRC_MAC)) {
		memcpy(f->src_mac, pi.src_mac, 6);
		memcpy(f->dst_mac, pi.dst_mac, 6);
		f->present |= FLOW_HAS_SRC_MAC | FLOW_HAS_DST_MAC;
		f->mac_from |= FLOW_MAC_FRAME;
	}
	if (pi.vlan_count > 0 && !(f->present & FLOW_HAS_VLAN)) {
		f->vlan = pi.vlan[0];
		f->present |= FLOW_HAS_VLAN;
	}
	if (pi.depth < PKT_DEPTH_L3 || (ip->version != 4 && ip->version != 6))
		return 0;
	frame_len = pi.ip_offset + ip->total_length;
	if (!(f->present & FLOW_HAS_SRC_ADDR)) {
		ip_addr(&f->src_addr, ip->version, ip->src);
		ip_addr(&f->dst_addr, ip->version, ip->dst);
		f->present |= FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR;
	}
	if (!(f->present & FLOW_HAS_PROTOCOL)) {
		f->protocol = ip->protocol;
		f->tos = ip->tos;
		f->present |= FLOW_HAS_PROTOCOL | FLOW_HAS_TOS;
	}
	if (!(f->present & FLOW_HAS_PORTS) && (ip->has_ports || ip->has_icmp)) {
		f->src_port = ip->has_ports ? ip->src_port : 0;
		f->dst_port =
			ip->has_ports ?
				ip->dst_port :
				(uint16_t)(ip->icmp_type << 8 | ip->icmp_code);
		f->present |= FLOW_HAS_PORTS;
	}
	if (!(f->present & FLOW_HAS_TCP_FLAGS) && ip->protocol == 6 &&
	    ip->has_ports) {
		f->tcp_flags = ip->tcp_flags;
		f->present |= FLOW_HAS_TCP_FLAGS;
	}
	return frame_len;
}

/*
 * sysUpTime-relative times (21/22) to absolute ones.  v9: relative to the
 * header's export time, the difference taken modulo 2^32 ms so that a
 * router up for more than 49.7 days (its uptime wrapped) still places
 * its records right.  IPFIX: from the boot time options data gave (160).
 */
static void uptimes_resolve(struct ps_flow *f, const struct ipfix_msg *m)
{
	if (m->version == NFV9_VERSION && m->export_time != 0) {
		int64_t export_ms = (int64_t)m->export_time * 1000;
		int64_t start = export_ms -
				(int32_t)(m->sys_uptime_ms - f->start_uptime_ms);
		int64_t end = export_ms -
			      (int32_t)(m->sys_uptime_ms - f->end_uptime_ms);

		if (start < 0 || end < 0)
			return;
		f->start_ns = (uint64_t)start * 1000000ULL;
		f->end_ns = (uint64_t)end * 1000000ULL;
	} else if (m->boot_ms != 0) {
		f->start_ns = (m->boot_ms + f->start_uptime_ms) * 1000000ULL;
		f->end_ns = (m->boot_ms + f->end_uptime_ms) * 1000000ULL;
	} else {
		return;
	}
	f->present |= FLOW_HAS_START | FLOW_HAS_END;
	f->present &= ~(uint32_t)FLOW_HAS_START_UPTIME;
}

/* The smallest IP packet (an IPv4 header alone): a lower bound per packet. */
#define IPFIX_MIN_PACKET_BYTES 20u

/*
 * A delta count wins over a post-processing one (23/24), which wins over
 * a total (85/86, counted since the Metering Process started).  A total
 * below the delta it must contain is a contradiction: named, the delta
 * counts.
 */
static void counts_resolve(struct ps_flow *f, const struct rec_scratch *rs,
			   struct dec_stats *st)
{
	if ((rs->has & REC_OCTET_TOTAL) && (f->present & FLOW_HAS_BYTES) &&
	    rs->octet_total < f->bytes)
		dec_count(st, DEC_IPFIX_LENGTH_TOTAL_BELOW_DELTA);
	if ((rs->has & REC_PACKET_TOTAL) && (f->present & FLOW_HAS_PACKETS) &&
	    rs->packet_total < f->packets)
		dec_count(st, DEC_IPFIX_LENGTH_TOTAL_BELOW_DELTA);
	if (!(f->present & FLOW_HAS_BYTES) &&
	    (rs->has & (REC_POST_OCTETS | REC_OCTET_TOTAL))) {
		f->bytes_total = !(rs->has & REC_POST_OCTETS);
		f->bytes = f->bytes_total ? rs->octet_total : rs->post_octets;
		f->present |= FLOW_HAS_BYTES;
	}
	if (!(f->present & FLOW_HAS_PACKETS) &&
	    (rs->has & (REC_POST_PACKETS | REC_PACKET_TOTAL))) {
		f->packets = (rs->has & REC_POST_PACKETS) ? rs->post_packets :
							     rs->packet_total;
		f->present |= FLOW_HAS_PACKETS;
	}
	if (!(rs->has & REC_REV_OCTETS) && (rs->has & REC_REV_OCTET_TOTAL))
		f->rev_bytes = rs->rev_octet_total;
	if (!(rs->has & REC_REV_PACKETS) && (rs->has & REC_REV_PACKET_TOTAL))
		f->rev_packets = rs->rev_packet_total;
	if (f->present & FLOW_HAS_BYTES)
		f->byte_basis = FLOW_BASIS_IP;
	/* layer-2 octets: the count when no IP count came (frame basis) */
	if (!(f->lengths & FLOW_LEN_L2_OCTETS) && (rs->has & REC_L2_TOTAL)) {
		f->l2_octets = rs->l2_total;
		f->lengths |= FLOW_LEN_L2_OCTETS;
	}
	if (f->lengths & FLOW_LEN_L2_OCTETS) {
		if (!(f->present & FLOW_HAS_BYTES)) {
			f->bytes = f->l2_octets;
			f->byte_basis = FLOW_BASIS_FRAME;
			f->present |= FLOW_HAS_BYTES;
		} else if (f->l2_octets < f->bytes) {
			dec_count(st, DEC_IPFIX_LENGTH_L2_BELOW_IP);
		}
	}
}

/*
 * A PSAMP packet report (RFC 5476: a frame section, a frame size or an
 * IP length, no packet count) stands for one packet.  Its length is the
 * frame's (frame basis): 312 dataLinkFrameSize; else the bytes before
 * the IP layer plus the IP total length (224/190/191, or the section's
 * own IP header), or the section itself when it is longer (padding); else
 * the IP total length alone (IP basis); else only the exported section
 * (a lower bound: ipfix.length.section_only).  A frame size below what
 * the section or the IP header proves is a contradiction, named; the
 * larger counts.
 */
static void packet_report_length(struct ps_flow *f, uint32_t section_frame,
				 struct dec_stats *st)
{
	uint32_t section = (f->present & FLOW_HAS_FRAME) ? f->frame_len : 0;
	uint32_t proven = section;
	uint32_t ip_len = f->lengths & FLOW_LEN_IP_TOTAL ? f->ip_total_length :
							    0;

	f->packets = 1;
	f->present |= FLOW_HAS_PACKETS;
	if (f->present & FLOW_HAS_BYTES)
		return; /* it counted its own octets */
	if (section_frame > proven)
		proven = section_frame;
	if (f->lengths & FLOW_LEN_FRAME_SIZE) {
		f->bytes = f->frame_size;
		f->byte_basis = FLOW_BASIS_FRAME;
		if (f->frame_size < section) {
			dec_count(st, DEC_IPFIX_LENGTH_FRAME_BELOW_SECTION);
			f->bytes = section;
		} else if (f->frame_size < proven) {
			dec_count(st, DEC_IPFIX_LENGTH_IP_ABOVE_FRAME);
			f->bytes = proven;
		} else if (ip_len > f->frame_size) {
			dec_count(st, DEC_IPFIX_LENGTH_IP_ABOVE_FRAME);
			f->bytes = ip_len;
		}
	} else if (proven != 0 && (section_frame != 0 || ip_len == 0)) {
		f->bytes = proven;
		f->byte_basis = section_frame != 0 ? FLOW_BASIS_FRAME :
						     FLOW_BASIS_SECTION;
		if (section_frame == 0)
			dec_count(st, DEC_IPFIX_LENGTH_SECTION_ONLY);
	} else {
		f->bytes = ip_len;
		f->byte_basis = FLOW_BASIS_IP;
	}
	f->present |= FLOW_HAS_BYTES;
}

/*
 * Lengths, times and addresses once every field is read: which count is
 * `bytes` and on what basis, what a packet report weighs, contradictions
 * named; addresses imply the IP version; uptimes become times.
 */
static void flow_finish(struct ps_flow *f, const struct ipfix_msg *m,
			const struct rec_scratch *rs, struct dec_stats *st)
{
	uint32_t section_frame = 0;

	if ((f->present & FLOW_HAS_FRAME) && f->frame_len > 0)
		section_frame = frame_fill(f, st);
	counts_resolve(f, rs, st);
	if (!(f->present & FLOW_HAS_PACKETS) &&
	    ((f->present & FLOW_HAS_FRAME) ||
	     (f->lengths & (FLOW_LEN_FRAME_SIZE | FLOW_LEN_IP_TOTAL))))
		packet_report_length(f, section_frame, st);
	if ((f->byte_basis == FLOW_BASIS_IP ||
	     f->byte_basis == FLOW_BASIS_FRAME) &&
	    (f->present & FLOW_HAS_PACKETS) &&
	    f->bytes / IPFIX_MIN_PACKET_BYTES < f->packets)
		dec_count(st, DEC_IPFIX_LENGTH_BYTES_BELOW_PACKETS);
	if ((f->present & FLOW_HAS_IP_VERSION) == 0 &&
	    (f->present & (FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR)) != 0) {
		f->ip_version = (f->present & FLOW_HAS_SRC_ADDR) ?
					f->src_addr.af :
					f->dst_addr.af;
		f->present |= FLOW_HAS_IP_VERSION;
	}
	if ((f->present & FLOW_HAS_START_UPTIME) != 0)
		uptimes_resolve(f, m);
	if ((f->present & (FLOW_HAS_START | FLOW_HAS_END)) ==
		    (FLOW_HAS_START | FLOW_HAS_END) &&
	    f->end_ns < f->start_ns)
		dec_count(st, DEC_IPFIX_RECORD_END_BEFORE_START);
}

/* n in N as a rate N / n, rounded; 0 when no rate comes from it. */
static uint32_t ratio_rate(uint64_t num, uint64_t den)
{
	uint64_t r;

	if (den == 0 || num < den)
		return 0;
	r = (num + den / 2) / den;
	return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

/*
 * The candidates of ipfix_sampling_rate() in precedence order (0: an
 * impossible value, counted); *incomplete when a pair came half.
 */
static unsigned sampling_candidates(const struct ipfix_options *o,
				    uint32_t cand[5], bool *incomplete,
				    struct dec_stats *st)
{
	uint32_t p = o->present;
	unsigned n = 0;

	if ((p & IPFIX_OPT_SAMPLING_SIZE) && (p & IPFIX_OPT_POPULATION)) {
		cand[n] = ratio_rate(o->sampling_population, o->sampling_size);
		if (cand[n] == 0)
			dec_count(st, DEC_IPFIX_SAMPLING_INVALID);
		n++;
	} else if (p & (IPFIX_OPT_SAMPLING_SIZE | IPFIX_OPT_POPULATION)) {
		*incomplete = true;
	}
	if ((p & IPFIX_OPT_PKT_INTERVAL) && (p & IPFIX_OPT_PKT_SPACE)) {
		cand[n] = ratio_rate((uint64_t)o->pkt_interval + o->pkt_space,
				     o->pkt_interval);
		if (cand[n] == 0)
			dec_count(st, DEC_IPFIX_SAMPLING_INVALID);
		n++;
	} else if (p & (IPFIX_OPT_PKT_INTERVAL | IPFIX_OPT_PKT_SPACE)) {
		*incomplete = true;
	}
	if (p & IPFIX_OPT_PROBABILITY) {
		double pr = o->probability;

		/* written so that NaN fails too */
		if (pr > 0.0 && pr <= 1.0 && 1.0 / pr < 4294967295.0)
			cand[n] = (uint32_t)(1.0 / pr + 0.5);
		else
			dec_count(st, DEC_IPFIX_SAMPLING_INVALID);
		n++;
	}
	if (p & IPFIX_OPT_INTERVAL)
		cand[n++] = o->interval;
	if (p & IPFIX_OPT_RANDOM_INTERVAL)
		cand[n++] = o->random_interval;
	return n;
}

uint32_t ipfix_sampling_rate(const struct ipfix_options *o,
			     struct dec_stats *st)
{
	uint32_t cand[5] = { 0 };
	bool incomplete = false;
	unsigned n = sampling_candidates(o, cand, &incomplete, st);
	uint32_t rate = 0;

	for (unsigned i = 0; i < n; i++) {
		if (cand[i] == 0)
			continue; /* 34 = 0 / 50 = 0: "not sampled" unsaid */
		if (rate == 0)
			rate = cand[i];
		else if (cand[i] != rate)
			dec_count(st, DEC_IPFIX_SAMPLING_CONFLICT);
	}
	/* a half pair beside a complete description is merely redundant */
	if (rate == 0 && incomplete)
		dec_count(st, DEC_IPFIX_SAMPLING_INCOMPLETE);
	return rate;
}

/* One record against its plan.  0, or -1 when the record is cut short. */
static int record_decode(const struct ipfix_template *t, struct cur *c,
			 struct ps_flow *f, struct ipfix_options *o,
			 struct rec_scratch *rs, struct dec_stats *st)
{
	for (uint16_t i = 0; i < t->field_count; i++) {
		const struct ipfix_field *fd = &t->f[i];
		const uint8_t *v;
		uint16_t len = fd->len;

		if (len == IPFIX_VARLEN) {
			uint8_t l8;

			if (cur_u8(c, &l8) == -1) /* length, or 255 */
				return -1;
			len = l8;
			if (l8 == 255 && cur_u16(c, &len) == -1)
				return -1;
		}
		if (cur_ptr(c, len, &v) == -1)
			return -1;
		field_store(f, o, rs, fd, v, len, st);
	}
	return 0;
}

int ipfix_decode_data_set(struct ipfix_cache *tc, struct ipfix_msg *m,
			  uint16_t set_id, const uint8_t *body, size_t len,
			  const struct ipfix_handler *h, struct dec_stats *st)
{
	struct ipfix_template *t;
	struct ipfix_tkey key;
	struct ps_flow flow;
	struct ipfix_options opt;
	struct rec_scratch rs;
	struct cur c;

	tkey_make(&key, m, set_id);
	t = ipfix_tcache_lookup(tc, &key);
	if (t == NULL || t->state != IPFIX_T_LIVE) {
		dec_count(st, t == NULL ? DEC_IPFIX_DATA_TEMPLATE_UNKNOWN :
					  DEC_IPFIX_DATA_TEMPLATE_WITHDRAWN);
		m->sets_unknown++;
		if (t == NULL && h != NULL && h->unknown_set != NULL)
			h->unknown_set(h->arg, m, set_id, body, len);
		return -1;
	}
	if (tc->timeout_s != 0 && m->now_s > t->last_seen_s &&
	    m->now_s - t->last_seen_s > tc->timeout_s)
		return dec_fail(st, DEC_IPFIX_DATA_TEMPLATE_EXPIRED);
	cur_init(&c, body, len);
	/* Fewer bytes than the shortest record are padding (§3.3.1). */
	while (cur_left(&c) >= t->min_len) {
		uint32_t rate;

		memset(&flow, 0, offsetof(struct ps_flow, extra));
		memset(&opt, 0, sizeof(opt));
		rs.has = 0; /* the other fields are read only under their bit */
		if (record_decode(t, &c, &flow, &opt, &rs, st) == -1)
			return dec_fail(st, DEC_IPFIX_RECORD_TRUNCATED);
		rate = (opt.present & IPFIX_OPT_SAMPLING) ?
			       ipfix_sampling_rate(&opt, st) :
			       0;
		if (t->options) {
			flow_finish(&flow, m, &rs, st);
			if (flow.present & FLOW_HAS_SAMPLER_ID) {
				opt.sampler_id = flow.sampler_id;
				opt.present |= IPFIX_OPT_SAMPLER_ID;
			}
			if (flow.present & FLOW_HAS_SELECTOR_ID) {
				opt.selector_id = flow.selector_id;
				opt.present |= IPFIX_OPT_SELECTOR_ID;
			}
			if (rate != 0) {
				opt.rate = rate;
				opt.present |= IPFIX_OPT_RATE;
			}
			m->options_records++;
			if (h != NULL && h->options != NULL)
				h->options(h->arg, m, &opt);
		} else {
			flow_finish(&flow, m, &rs, st);
			if (rate != 0) {
				flow.sampling_interval = rate;
				flow.present |= FLOW_HAS_SAMPLING;
			}
			m->data_records++;
			if (h != NULL && h->flow != NULL)
				h->flow(h->arg, m, &flow);
		}
	}
	/* decoded: the last template of its exporter a flood may evict
	 * (the callbacks above never change the cache) */
	ipfix_tcache_used(tc, t);
	return 0;
}

/* ---- message ------------------------------------------------------------ */

static int header_decode(struct cur *c, struct ipfix_msg *m,
			 struct dec_stats *st)
{
	uint16_t version;

	if (cur_u16(c, &version) == -1)
		return dec_fail(st, DEC_FLOW_DATAGRAM_TRUNCATED);
	m->version = version;
	if (version == IPFIX_VERSION) {
		uint16_t mlen;

		if (cur_u16(c, &mlen) == -1 ||		 /* message length */
		    cur_u32(c, &m->export_time) == -1 || /* export time */
		    cur_u32(c, &m->sequence) == -1 ||	 /* records sent */
		    cur_u32(c, &m->domain) == -1)	 /* obs. domain */
			return dec_fail(st, DEC_IPFIX_HEADER_TRUNCATED);
		/* The length covers the header; validate before subtracting. */
		/* ignore bytes after it */
		if (mlen < IPFIX_HEADER_LEN ||
		    cur_truncate(c, (size_t)mlen - IPFIX_HEADER_LEN) == -1)
			return dec_fail(st, DEC_IPFIX_LENGTH_INVALID);
		return 0;
	}
	if (version == NFV9_VERSION) {
		if (cur_u16(c, &m->count) == -1 ||	   /* records */
		    cur_u32(c, &m->sys_uptime_ms) == -1 || /* sysUptime */
		    cur_u32(c, &m->export_time) == -1 ||   /* unix secs */
		    cur_u32(c, &m->sequence) == -1 ||	   /* packets sent */
		    cur_u32(c, &m->domain) == -1)	   /* source id */
			return dec_fail(st, DEC_IPFIX_HEADER_TRUNCATED);
		return 0;
	}
	return dec_fail(st, DEC_FLOW_VERSION_UNSUPPORTED);
}

int ipfix_header_read(const uint8_t *buf, size_t len, struct ipfix_msg *m,
		      struct dec_stats *st)
{
	struct cur c;

	memset(m, 0, sizeof(*m));
	cur_init(&c, buf, len);
	return header_decode(&c, m, st);
}

int ipfix_decode(struct ipfix_cache *tc, const struct ps_addr *exporter,
		 const uint8_t *buf, size_t len, struct ipfix_msg *m,
		 const struct ipfix_handler *h, struct dec_stats *st)
{
	uint64_t boot_ms = m->boot_ms;
	uint32_t now_s = m->now_s;
	uint16_t src_port = m->src_port;
	struct cur c;
	bool v9;

	memset(m, 0, sizeof(*m));
	m->boot_ms = boot_ms;
	m->now_s = now_s;
	m->src_port = src_port;
	m->exporter = *exporter;
	cur_init(&c, buf, len);
	if (header_decode(&c, m, st) == -1)
		return -1;
	v9 = m->version == NFV9_VERSION;
	while (!cur_is_empty(&c)) {
		uint16_t set_id, set_len;
		struct cur body;

		if (cur_u16(&c, &set_id) == -1 || /* set id */
		    cur_u16(&c, &set_len) == -1)  /* length incl. header */
		{
			dec_count(st, DEC_IPFIX_SET_TRUNCATED);
			return 0;
		}
		if (set_len < 4) {
			dec_count(st, DEC_IPFIX_SET_LENGTH_INVALID);
			return 0;
		}
		if (cur_sub(&c, (size_t)set_len - 4, &body) == -1) {
			dec_count(st, DEC_IPFIX_SET_PAST_END);
			return 0;
		}
		if (set_id >= 256) {
			(void)ipfix_decode_data_set(
				tc, m, set_id, cur_data(&body),
				cur_left(&body), h, st);
		} else if (set_id == (v9 ? 0 : 2)) {
			template_set(tc, m, &body, false, h, st);
		} else if (set_id == (v9 ? 1 : 3)) {
			template_set(tc, m, &body, true, h, st);
		} else {
			dec_count(st, DEC_IPFIX_SET_ID_RESERVED);
		}
	}
	return 0;
}
