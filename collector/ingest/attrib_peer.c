/*
 * attrib_peer.c - an exchange port's samples split per peer (issue 11):
 * which configured exchange connection a part's side belongs to, and its
 * figures on that peer's window entry (agg.h, conn_key.peer).
 *
 * The rule (docs/connections.md, "Attribution on an exchange port"):
 *   1. the frame's MAC on that side (the source MAC of a frame that came
 *      in by the port, the destination MAC of one that left by it), when
 *      the record shows the frame as it crossed the port: the peer with
 *      that MAC in peer_macs, else the one ARP / ND in sampled frames on
 *      the port bound it to (w->neighbours, learnt here: a sender, a
 *      target or a solicitation's source that is a connection's peer
 *      address; a configured MAC is never relearnt);
 *   2. without a usable MAC, or with a MAC that is no peer's: the
 *      source (in) or destination (out) address when it is a peer
 *      address (the BGP session itself, pings to the peer); else BGP
 *      (the router's BMP routes): out, the next hop of the destination's
 *      best route (the record's own BGP next hop first); in, the peer
 *      that announced the source's best route.  The address must be one of a
 *      connection's peer_addresses on this port; after a MAC that named
 *      no peer, only a connection without peer_macs may take it (a
 *      known MAC that does not match says it is someone else);
 *   3. else the port's unattributed entry (AGG_PEER_UNATTRIBUTED).
 * The port's own entry keeps every sample, so on every window the port's
 * figures are the peers' plus the unattributed, exactly.
 *
 * @thread worker.
 */
#include <string.h>

#include "conn/registry.h"
#include "ingest/attrib_land.h"
#include "rib/rib_lookup.h"

/* An sFlow sample's source (which 0) or destination (1) address. */
static bool sflow_addr(const struct sflow_flow_sample *f, int which,
		       struct ps_addr *out)
{
	memset(out, 0, sizeof(*out));
	if ((f->present & SFLOW_HAS_RAW_HEADER) && f->raw.pkt_ok &&
	    (f->raw.pkt.ip.version == 4 || f->raw.pkt.ip.version == 6)) {
		out->af = f->raw.pkt.ip.version;
		memcpy(out->bytes, which ? f->raw.pkt.ip.dst : f->raw.pkt.ip.src,
		       16);
		if (out->af == 4)
			memset(out->bytes + 4, 0, 12);
		return true;
	}
	if (f->present & SFLOW_HAS_IPV4) {
		out->af = 4;
		memcpy(out->bytes,
		       which ? f->rec.ipv4.dst_ip : f->rec.ipv4.src_ip, 4);
		return true;
	}
	if (f->present & SFLOW_HAS_IPV6) {
		out->af = 6;
		memcpy(out->bytes,
		       which ? f->rec.ipv6.dst_ip : f->rec.ipv6.src_ip, 16);
		return true;
	}
	return false;
}

/* The part's address: its source (AGG_IN's peer) or destination. */
static const struct ps_addr *part_addr(const struct attrib_part *p, int d,
				       struct ps_addr *tmp)
{
	if (p->sflow != NULL)
		return sflow_addr(p->sflow, d == AGG_OUT, tmp) ? tmp : NULL;
	return d == AGG_OUT ? p->dst : p->src;
}

/* A connection of the port by a route's next hop or announcing peer. */
static const struct conn *by_route(struct worker *w,
				   const struct ps_addr *router,
				   const struct conn_port *port,
				   const struct ps_addr *addr, int d)
{
	struct rib_route_info ri;
	const struct conn *c = NULL;
	bool has_peer;

	if (addr == NULL || w->rib == NULL ||
	    !rib_lookup_best(w->rib, w->id, router, addr, &ri))
		return NULL;
	/* Loc-RIB routes (RFC 9069) name no peer: their next hop does */
	has_peer = ri.peer_type != BMP_PEER_LOC_RIB && ri.peer.af != 0;
	if (d == AGG_IN && has_peer)
		c = conn_port_by_addr(port, &ri.peer);
	if (c == NULL && ri.next_hop.af != 0)
		c = conn_port_by_addr(port, &ri.next_hop);
	if (c == NULL && d == AGG_OUT && has_peer)
		c = conn_port_by_addr(port, &ri.peer);
	return c;
}

static void neighbour_key_of(const struct conn_key *port, const uint8_t *mac,
			     struct neighbour_key *k)
{
	memset(k, 0, sizeof(*k));
	k->router = port->router;
	k->ifindex = port->ifindex;
	memcpy(k->mac, mac, 6);
}

/*
 * ARP or ND in the sampled frame binding a MAC to a peer address of one
 * of the port's connections: learnt, unless the MAC is configured (the
 * configuration wins) or already bound to that connection.
 */
static void neighbour_learn(struct worker *w, const struct agg_window *win,
			    const struct conn_key *key,
			    const struct conn_port *port,
			    const struct attrib_part *p)
{
	const struct pkt_neighbour *nb;
	const struct conn *c;
	struct neighbour_key k;
	struct neighbour *e;
	struct ps_addr addr;
	bool created;

	if (p->sflow == NULL || !(p->sflow->present & SFLOW_HAS_RAW_HEADER) ||
	    !p->sflow->raw.pkt_ok || !p->sflow->raw.pkt.nb.valid)
		return;
	nb = &p->sflow->raw.pkt.nb;
	memset(&addr, 0, sizeof(addr));
	addr.af = nb->af;
	memcpy(addr.bytes, nb->addr, 16);
	c = conn_port_by_addr(port, &addr);
	if (c == NULL || conn_port_by_mac(port, nb->mac) != NULL)
		return;
	neighbour_key_of(key, nb->mac, &k);
	e = htab_insert(&w->neighbours, &k, &created);
	if (e == NULL)
		return; /* out of memory: the BGP rules still apply */
	e->registry = win->registry;
	e->conn_index = c->index;
}

/* The connection a learnt MAC names on this port, or NULL. */
static const struct conn *neighbour_find(struct worker *w,
					 const struct agg_window *win,
					 const struct conn_key *key,
					 const uint8_t *mac)
{
	const struct conn *conns;
	struct neighbour_key k;
	const struct neighbour *e;
	size_t n;

	if (w->neighbours.count == 0)
		return NULL;
	neighbour_key_of(key, mac, &k);
	e = htab_find(&w->neighbours, &k);
	if (e == NULL || e->registry != win->registry)
		return NULL;
	conns = conn_registry_conns(win->registry, &n);
	return e->conn_index < n ? &conns[e->conn_index] : NULL;
}

static const struct conn *peer_of(struct worker *w,
				  const struct agg_window *win,
				  const struct ps_addr *router,
				  const struct conn_key *key,
				  const struct conn_port *port,
				  const struct attrib_part *p, int d,
				  enum agg_attrib_by *by)
{
	const uint8_t *mac = p->peer_mac[d];
	const struct conn *c = NULL;
	const struct ps_addr *addr;
	struct ps_addr tmp;

	if (mac != NULL) {
		c = conn_port_by_mac(port, mac);
		*by = AGG_BY_MAC;
		if (c != NULL)
			return c;
		c = neighbour_find(w, win, key, mac);
		*by = AGG_BY_LEARNT_MAC;
		if (c != NULL)
			return c;
	}
	addr = part_addr(p, d, &tmp);
	if (addr != NULL && (c = conn_port_by_addr(port, addr)) != NULL) {
		*by = AGG_BY_PEER_ADDRESS;
	} else if (d == AGG_OUT && p->bgp_next_hop != NULL &&
		   (c = conn_port_by_addr(port, p->bgp_next_hop)) != NULL) {
		*by = AGG_BY_NEXT_HOP;
	} else {
		c = by_route(w, router, port, addr, d);
		*by = d == AGG_OUT ? AGG_BY_NEXT_HOP : AGG_BY_ANNOUNCER;
	}
	/* a MAC that is no peer's belongs to someone else */
	if (c != NULL && mac != NULL && c->n_macs != 0)
		return NULL;
	return c;
}

void attrib_peer_land(struct worker *w, struct agg_window *win,
		      const struct ps_addr *router, const struct conn_key *key,
		      const struct conn_port *port,
		      const struct attrib_part *p, int d, bool deferred,
		      double est_bytes, double est_packets,
		      const struct mix_who *who)
{
	enum agg_attrib_by by = AGG_BY_MAC;
	const struct conn *c;
	struct agg_conn *e;

	/* first, so that an ARP reply or advertisement is its peer's too */
	neighbour_learn(w, win, key, port, p);
	c = peer_of(w, win, router, key, port, p, d, &by);
	e = agg_peer_get(win, key,
			 c != NULL ? c->index + 1 : AGG_PEER_UNATTRIBUTED);
	if (e == NULL)
		return; /* counted in win->peers_refused */
	if (c != NULL)
		e->by[d][by]++;
	if (deferred) {
		if (e->other == NULL) {
			e->other = calloc(1, sizeof(*e->other));
			if (e->other == NULL) {
				win->peers_refused++;
				return;
			}
			win->conn_others++;
		}
		attrib_sampled_add(&e->other->sampled[d], &e->other->basis[d],
				   p, est_bytes, est_packets);
		if (who != NULL && who->bytes != 0)
			attrib_mix_add(w, win, e, &e->other->mix, d, true, who);
		if (d == AGG_OUT)
			attrib_origin_add(w, router, p, est_bytes,
					  &e->other->origin);
		return;
	}
	attrib_sampled_add(&e->sampled[d], &e->basis[d], p, est_bytes,
			   est_packets);
	/* the peer's own top block (agg/mix.h), as its port's */
	if (who != NULL && who->bytes != 0) {
		if (mix_run_extends(&e->run[d], who))
			e->run[d].bytes += who->bytes;
		else
			attrib_mix_add(w, win, e, &e->mix, d, false, who);
	}
	if (d == AGG_OUT)
		attrib_origin_add(w, router, p, est_bytes, &e->dst_origin);
}
