/* handshake.c - TCP handshake RTT from sampled headers.  See handshake.h. */
#include <string.h>

#include "ingest/handshake.h"

#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

int hs_table_init(struct hs_table *h, uint32_t entries, uint64_t timeout_ns,
		  uint64_t max_ns)
{
	memset(h, 0, sizeof(*h));
	h->timeout_ns = timeout_ns;
	h->max_ns = max_ns;
	/* every use moves the entry: a handshake is three packets */
	return htab_init_aging(&h->t, sizeof(struct hs_key),
			       sizeof(struct hs_entry), entries, &h->now_ns, 0);
}

void hs_table_fini(struct hs_table *h)
{
	htab_fini(&h->t);
}

/*
 * The filter bit of a 4-tuple, seen from the client.  The router is left
 * out and IPv6 addresses are folded (bytes 0-3 and 12-15): a collision
 * only costs a table probe.
 */
static uint32_t filter_bit(const uint8_t client[16], uint16_t client_port,
			   const uint8_t server[16], uint16_t server_port)
{
	uint32_t c0, c3, s0, s3;
	uint64_t x;

	memcpy(&c0, client, 4);
	memcpy(&c3, client + 12, 4);
	memcpy(&s0, server, 4);
	memcpy(&s3, server + 12, 4);
	x = ((uint64_t)(c0 ^ c3) << 32 | (s0 ^ s3)) ^
	    ((uint64_t)client_port << 16 | server_port) * 0x9e3779b97f4a7c15ULL;
	x *= 0xff51afd7ed558ccdULL;
	return (uint32_t)(x >> 32) & (HS_FILTER_BITS - 1);
}

static void filter_set(struct hs_table *h, const struct hs_key *k)
{
	uint32_t b = filter_bit(k->client, k->client_port, k->server,
				k->server_port);

	h->waiting[b / 64] |= 1ULL << (b % 64);
}

static bool filter_test(const struct hs_table *h, const uint8_t client[16],
			uint16_t client_port, const uint8_t server[16],
			uint16_t server_port)
{
	uint32_t b = filter_bit(client, client_port, server, server_port);

	return (h->waiting[b / 64] >> (b % 64)) & 1;
}

/* The filter again from the entries left: stale bits go. */
static void filter_rebuild(struct hs_table *h)
{
	uint32_t pos = 0;
	const struct hs_entry *e;

	memset(h->waiting, 0, sizeof(h->waiting));
	while ((e = htab_next(&h->t, &pos)) != NULL)
		filter_set(h, &e->key);
}

void hs_table_expire(struct hs_table *h, uint64_t now_ns)
{
	if (now_ns > h->now_ns)
		h->now_ns = now_ns;
	if (h->now_ns > h->timeout_ns)
		(void)htab_expire(&h->t, h->now_ns - h->timeout_ns);
	filter_rebuild(h);
}

static void key_make(struct hs_key *k, const struct ps_addr *router,
		     const struct pkt_ip *ip, bool from_client)
{
	memset(k, 0, sizeof(*k));
	k->router = *router;
	k->version = ip->version;
	if (from_client) {
		memcpy(k->client, ip->src, 16);
		memcpy(k->server, ip->dst, 16);
		k->client_port = ip->src_port;
		k->server_port = ip->dst_port;
	} else {
		memcpy(k->client, ip->dst, 16);
		memcpy(k->server, ip->src, 16);
		k->client_port = ip->dst_port;
		k->server_port = ip->src_port;
	}
}

/*
 * The verdict on a half from its two samples' intervals: the same
 * datagram (no time between them), too wide against its own midpoint, or
 * timed: *rtt_ns is the midpoint of [lo2 - hi1, hi2 - lo1].  An unknown
 * lo (0) makes the width about the clock itself: imprecise.
 */
static enum hs_outcome half_time(const struct hs_when *a,
				 const struct hs_when *b, int64_t *rtt_ns)
{
	uint64_t width = (a->hi_ns - a->lo_ns) + (b->hi_ns - b->lo_ns);
	/* twice the midpoint: exact in integers */
	int64_t mid2 = (int64_t)(b->lo_ns + b->hi_ns - a->lo_ns - a->hi_ns);

	if (a->datagram == b->datagram)
		return HS_SAME_DATAGRAM;
	/* timed when width <= mid / DIVISOR (= mid2 / (2 DIVISOR), exact in
	 * integers); a midpoint <= 0 of no width is an impossible value,
	 * left to the checked insert to reject */
	if (mid2 > 0 ? width > (uint64_t)mid2 / (2 * HS_WIDTH_DIVISOR) :
		       width > 0)
		return HS_IMPRECISE;
	*rtt_ns = mid2 / 2;
	return HS_TIMED;
}

/*
 * A half of entry `e` into the connections of the SYN's interfaces: the
 * server half is external on the SYN's output side, the client half on
 * its input side.  Each connection counts it paired, then as a value (or
 * a rejected one) or untimed by reason.
 */
static void half_land(struct hs_table *h, struct agg_window *win,
		      const struct hs_entry *e, bool server_half,
		      enum hs_outcome how, int64_t rtt_ns)
{
	for (int d = AGG_IN; d <= AGG_OUT; d++) {
		struct agg_conn *c;
		struct agg_latency *l;
		bool external = server_half ? d == AGG_OUT : d == AGG_IN;

		if (!e->if_ok[d] ||
		    (d == AGG_OUT && e->if_ok[AGG_IN] &&
		     e->ifindex[AGG_IN] == e->ifindex[AGG_OUT]))
			continue;
		c = agg_conn_find(win, &e->key.router, e->ifindex[d]);
		if (c == NULL)
			continue;
		l = agg_conn_latency(win, c);
		if (l == NULL) {
			win->latency_no_memory++;
			continue;
		}
		l->handshakes_paired++;
		if (how == HS_SAME_DATAGRAM)
			l->handshakes_untimed[LAT_HS_SAME_DATAGRAM]++;
		else if (how == HS_IMPRECISE)
			l->handshakes_untimed[LAT_HS_IMPRECISE]++;
		else
			(void)agg_latency_add(l, LAT_TCP_HANDSHAKE,
					      external ? LAT_PART_A :
							 LAT_PART_B,
					      rtt_ns, 1, h->max_ns);
	}
}

/* The half from `first` to `second`, timed and landed. */
static enum hs_outcome half_done(struct hs_table *h, struct agg_window *win,
				 const struct hs_entry *e, bool server_half,
				 const struct hs_when *first,
				 const struct hs_when *second)
{
	int64_t rtt_ns = 0;
	enum hs_outcome how = half_time(first, second, &rtt_ns);

	half_land(h, win, e, server_half, how, rtt_ns);
	return how;
}

enum hs_outcome hs_packet(struct hs_table *h, struct agg_window *win,
			  const struct ps_addr *router, const struct pkt_ip *ip,
			  const uint32_t ifindex[2], const bool ok[2],
			  const struct hs_when *when)
{
	uint8_t fl = ip->tcp_flags;
	uint64_t now_ns = when->hi_ns;
	struct hs_key k;
	struct hs_entry *e;
	bool created;
	enum hs_outcome how;

	if (ip->protocol != 6 || !ip->has_ports || (fl & TCP_RST))
		return HS_NO_HALF;
	/* a SYN/ACK is seen from the server's side, an ACK from the
	 * client's; a clear bit means no entry to advance */
	if ((fl & TCP_SYN) && (fl & TCP_ACK) &&
	    !filter_test(h, ip->dst, ip->dst_port, ip->src, ip->src_port))
		return HS_NO_HALF;
	if (!(fl & TCP_SYN) && (fl & TCP_ACK) &&
	    !filter_test(h, ip->src, ip->src_port, ip->dst, ip->dst_port))
		return HS_NO_HALF;
	if (now_ns > h->now_ns)
		h->now_ns = now_ns;
	if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		key_make(&k, router, ip, true);
		e = htab_insert(&h->t, &k, &created);
		if (e == NULL)
			return HS_NO_HALF;
		filter_set(h, &k);
		/* a retransmitted SYN starts the handshake again: the
		 * SYN/ACK answers the last one */
		e->syn = *when;
		e->synack.hi_ns = 0;
		e->ifindex[AGG_IN] = ifindex[AGG_IN];
		e->ifindex[AGG_OUT] = ifindex[AGG_OUT];
		e->if_ok[AGG_IN] = ok[AGG_IN];
		e->if_ok[AGG_OUT] = ok[AGG_OUT];
		return HS_NO_HALF;
	}
	if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		key_make(&k, router, ip, false);
		e = htab_find(&h->t, &k);
		if (e == NULL || e->syn.hi_ns == 0 || e->synack.hi_ns != 0 ||
		    now_ns - e->syn.hi_ns > h->timeout_ns)
			return HS_NO_HALF;
		e->synack = *when;
		htab_touch(&h->t, e);
		return half_done(h, win, e, true, &e->syn, &e->synack);
	}
	if (fl & TCP_ACK) {
		key_make(&k, router, ip, true);
		e = htab_find(&h->t, &k);
		if (e == NULL || e->synack.hi_ns == 0 ||
		    now_ns - e->synack.hi_ns > h->timeout_ns)
			return HS_NO_HALF;
		how = half_done(h, win, e, false, &e->synack, when);
		htab_remove(&h->t, e);
		if (h->t.count == 0)
			memset(h->waiting, 0, sizeof(h->waiting));
		return how;
	}
	return HS_NO_HALF;
}
