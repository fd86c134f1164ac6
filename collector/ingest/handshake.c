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

void hs_table_expire(struct hs_table *h, uint64_t now_ns)
{
	if (now_ns > h->now_ns)
		h->now_ns = now_ns;
	if (h->now_ns > h->timeout_ns)
		(void)htab_expire(&h->t, h->now_ns - h->timeout_ns);
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
 * A half of entry `e` into the connections of the SYN's interfaces: the
 * server half is external on the SYN's output side, the client half on
 * its input side.
 */
static void half_land(struct hs_table *h, struct agg_window *win,
		      const struct hs_entry *e, bool server_half,
		      uint64_t rtt_ns)
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
		if (agg_latency_add(l, LAT_TCP_HANDSHAKE,
				    external ? LAT_PART_A : LAT_PART_B,
				    (int64_t)rtt_ns, 1, h->max_ns) == 0 &&
		    server_half)
			l->handshakes_paired++;
	}
}

void hs_packet(struct hs_table *h, struct agg_window *win,
	       const struct ps_addr *router, const struct pkt_ip *ip,
	       const uint32_t ifindex[2], const bool ok[2], uint64_t now_ns)
{
	uint8_t fl = ip->tcp_flags;
	struct hs_key k;
	struct hs_entry *e;
	bool created;

	if (ip->protocol != 6 || !ip->has_ports || (fl & TCP_RST))
		return;
	if (now_ns > h->now_ns)
		h->now_ns = now_ns;
	if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		key_make(&k, router, ip, true);
		e = htab_insert(&h->t, &k, &created);
		if (e == NULL)
			return;
		/* a retransmitted SYN starts the handshake again: the
		 * SYN/ACK answers the last one */
		e->syn_ns = now_ns;
		e->synack_ns = 0;
		e->ifindex[AGG_IN] = ifindex[AGG_IN];
		e->ifindex[AGG_OUT] = ifindex[AGG_OUT];
		e->if_ok[AGG_IN] = ok[AGG_IN];
		e->if_ok[AGG_OUT] = ok[AGG_OUT];
		return;
	}
	if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		key_make(&k, router, ip, false);
		e = htab_find(&h->t, &k);
		if (e == NULL || e->syn_ns == 0 || e->synack_ns != 0 ||
		    now_ns - e->syn_ns > h->timeout_ns)
			return;
		e->synack_ns = now_ns;
		htab_touch(&h->t, e);
		half_land(h, win, e, true, now_ns - e->syn_ns);
		return;
	}
	if (fl & TCP_ACK) {
		key_make(&k, router, ip, true);
		e = htab_find(&h->t, &k);
		if (e == NULL || e->synack_ns == 0 ||
		    now_ns - e->synack_ns > h->timeout_ns)
			return;
		half_land(h, win, e, false, now_ns - e->synack_ns);
		htab_remove(&h->t, e);
	}
}
