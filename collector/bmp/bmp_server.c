/* bmp_server.c - see bmp_server.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bmp/bmp_msg.h"
#include "bmp/bmp_rib.h"
#include "bmp/bmp_server.h"
#include "bmp/bmp_session.h"
#include "rib/rib_lookup.h"
#include "xthread/xpub.h"

#define EPOLL_BATCH 64

struct bmp_conn {
	int fd;
	uint64_t connected_ns;
	/* for bmp.idle_timeout_seconds: the last byte, the last whole
	 * message (a slowloris sends bytes but never a message) */
	uint64_t last_rx_ns, last_msg_ns;
	uint64_t paused_since_ns; /* paused_ns counted up to here */
	struct bmp_queue q;	  /* its messages waiting for the ring */
	struct bmp_router router;
};

/* The flow windows' clock, for the sessions' state timelines. */
static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static size_t item_bytes(const struct bmp_pub_item *it)
{
	return sizeof(*it) + it->len + 1;
}

static void queue_put(struct bmp_server *s, struct bmp_queue *q,
		      struct bmp_pub_item *it)
{
	it->next = NULL;
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->n++;
	q->bytes += item_bytes(it);
	s->queued++;
	s->queued_bytes += item_bytes(it);
}

/* The head went into the ring: forget it. */
static void queue_drop_head(struct bmp_server *s, struct bmp_queue *q)
{
	struct bmp_pub_item *it = q->head;

	q->head = it->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->n--;
	q->bytes -= item_bytes(it);
	s->queued--;
	s->queued_bytes -= item_bytes(it);
}

/* An ended session's messages still go out, after what already waits. */
static void queue_move(struct bmp_queue *from, struct bmp_queue *to)
{
	if (from->head == NULL)
		return;
	if (to->tail != NULL)
		to->tail->next = from->head;
	else
		to->head = from->head;
	to->tail = from->tail;
	to->n += from->n;
	to->bytes += from->bytes;
	memset(from, 0, sizeof(*from));
}

/*
 * bmp_pub's divert (bmp_pub.h): every message made while serving
 * s->current.  Straight into the ring when none of that router's
 * messages wait and there is room; behind them otherwise, never a wait.
 */
static void divert(void *ctx, struct bmp_pub_item *it)
{
	struct bmp_server *s = ctx;
	struct bmp_queue *q =
		s->current != NULL ? &s->current->q : &s->leftover;

	if (q->head == NULL && bmp_pub_try_push(s->pub, it))
		return;
	queue_put(s, q, it);
	dec_event(&s->st, DEC_BMP_BACKPRESSURE);
}

/*
 * A peer went up or down: one line each, with what the router said (the
 * Peer Down reason, RFC 7854 4.9) and when (its BMP timestamp).  Limited
 * per router and peer, so a flapping peer cannot flood the log; the
 * "unknown" of every peer at a session's end is the router's own line.
 */
static void log_peer(struct bmp_server *s, const struct bmp_router *r,
		     const struct bmp_peer *p, bool up)
{
	char peer[64], as[16], when[32], key[256], reason[96];

	if (s->log == NULL)
		return;
	ps_addr_format(&p->addr, peer, sizeof(peer));
	snprintf(as, sizeof(as), "%u", p->peer_as);
	json_time_text(p->last_change_ns, when, sizeof(when));
	snprintf(key, sizeof(key), "bmp_peer %s %s", r->name, peer);
	if (up) {
		log_event_limited_fields(
			s->log, &s->limit, now_ns(), key, PS_LOG_INFO,
			"bmp_peer_up",
			LOG_FIELDS({ "router", r->name }, { "peer", peer },
				   { "peer_as", as }, { "time", when }),
			"router %s: BGP peer %s (AS %s) up at %s", r->name,
			peer, as, when);
		return;
	}
	if (p->last_has_notification)
		snprintf(reason, sizeof(reason), "%s, notification %u/%u",
			 bmp_msg_down_reason_name(p->last_reason),
			 p->notif_code, p->notif_subcode);
	else if (p->last_reason == 2) /* local, no notification: FSM event */
		snprintf(reason, sizeof(reason), "%s, fsm event %u",
			 bmp_msg_down_reason_name(p->last_reason),
			 p->fsm_event);
	else
		snprintf(reason, sizeof(reason), "%s",
			 bmp_msg_down_reason_name(p->last_reason));
	log_event_limited_fields(
		s->log, &s->limit, now_ns(), key, PS_LOG_WARN, "bmp_peer_down",
		LOG_FIELDS({ "router", r->name }, { "peer", peer },
			   { "peer_as", as }, { "reason", reason },
			   { "time", when }),
		"router %s: BGP peer %s (AS %s) down at %s: %s", r->name, peer,
		as, when, reason);
}

static void on_event(void *ctx, const struct bmp_router *r,
		     const struct bmp_peer *p, const char *event)
{
	struct bmp_server *s = ctx;
	char key[200];

	if (strcmp(event, "down") == 0)
		s->rib_dirty = true;
	if (strcmp(event, "up") == 0 || strcmp(event, "down") == 0)
		log_peer(s, r, p, event[0] == 'u');

	jbuf_reset(&s->json);
	msg_bgp_session(&s->json, r, p, event, key, sizeof(key));
	if (!s->json.failed &&
	    bmp_pub_push(s->pub, MSG_BGP_SESSION, key, s->json.buf,
			 s->json.len) == -1)
		dec_event(&s->st, DEC_BMP_BACKPRESSURE);
}

/* The peer address as a ps_addr; v4-mapped IPv6 becomes IPv4. */
static void peer_addr(const struct sockaddr_storage *ss, struct ps_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		a->af = 4;
		memcpy(a->bytes, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return;
	}
	a->af = 6;
	memcpy(a->bytes, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a->bytes)) {
		memmove(a->bytes, a->bytes + 12, 4);
		memset(a->bytes + 4, 0, 12);
		a->af = 4;
	}
}

/* The end of a router's session, why, and what it brought. */
static void log_disconnect(struct bmp_server *s, const struct bmp_conn *c,
			   const char *why)
{
	char secs[24], msgs[24];

	if (s->log == NULL)
		return;
	snprintf(secs, sizeof(secs), "%llu",
		 (unsigned long long)((now_ns() - c->connected_ns) /
				      1000000000ULL));
	snprintf(msgs, sizeof(msgs), "%llu",
		 (unsigned long long)c->router.messages);
	log_event_fields(s->log, PS_LOG_INFO, "bmp_router_disconnected",
			 LOG_FIELDS({ "router", c->router.name },
				    { "sys_name", c->router.sys_name },
				    { "reason", why }, { "seconds", secs },
				    { "messages", msgs }),
			 "router %s%s%s%s: BMP session ended: %s",
			 c->router.name, c->router.sys_name[0] ? " (" : "",
			 c->router.sys_name, c->router.sys_name[0] ? ")" : "",
			 why);
}

static void conn_close(struct bmp_server *s, unsigned i, const char *why)
{
	struct bmp_conn *c = s->conns[i];

	log_disconnect(s, c, why);
	if (!c->router.paused)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	/* the routes stay published unless a Termination withdrew them
	 * (rib_lookup.h) */
	if (s->rib != NULL && c->router.bytes > 0 && !c->router.terminated)
		(void)bmp_rib_publish(s->rib, &c->router);
	/* what the feed said last is published whatever follows */
	if (s->rib != NULL && c->router.peers_dirty)
		(void)bmp_rib_publish_peers(s->rib, &c->router);
	s->current = c;
	bmp_router_set_clock(&c->router, wall_ns());
	bmp_router_close(&c->router);
	s->current = NULL;
	/* Its peers are "unknown" now (RFC 7854 says nothing more about
	 * them): connections joined to them say so from the next window.
	 * Not when peerscope itself stops: the router lost nothing, and the
	 * window the stop flushes is judged by the states the feed gave
	 * (not as bmp_feed_lost). */
	if (s->rib != NULL && c->router.peers_dirty &&
	    !atomic_load_explicit(&s->stop, memory_order_acquire))
		(void)bmp_rib_publish_peers(s->rib, &c->router);
	if (c->router.paused) {
		c->router.paused_ns += now_ns() - c->paused_since_ns;
		s->npaused--;
	}
	s->pauses_ended += c->router.pauses;
	s->paused_ns_ended += c->router.paused_ns;
	queue_move(&c->q, &s->leftover);
	if (s->rib != NULL && c->router.bytes > 0 && c->router.terminated)
		(void)bmp_rib_publish(s->rib, &c->router);
	s->rib_dirty = false;
	dec_stats_add(&s->st, &c->router.st);
	bmp_router_fini(&c->router);
	free(c);
	s->conns[i] = s->conns[--s->nconns];
	s->closed++;
	s->gauges_dirty = true;
	s->gauges_closed = true;
}

static uint16_t peer_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ?
			     ((const struct sockaddr_in *)ss)->sin_port :
			     ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Anyone can connect: limited per address. */
static void log_refused(struct bmp_server *s, const char *who,
			const char *why)
{
	char key[128];

	if (s->log == NULL)
		return;
	snprintf(key, sizeof(key), "bmp_refused %s", who);
	log_event_limited_fields(s->log, &s->limit, now_ns(), key, PS_LOG_WARN,
				 "bmp_router_refused",
				 LOG_FIELDS({ "router", who }, { "reason", why }),
				 "BMP connection from %s closed: %s", who, why);
}

static unsigned sessions_from(const struct bmp_server *s,
			      const struct ps_addr *a)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->nconns; i++)
		n += memcmp(&s->conns[i]->router.addr, a, sizeof(*a)) == 0;
	return n;
}

/*
 * Every slot is taken: the oldest session that has not completed a
 * single message (a silent or trickling connection, not a router: RFC
 * 7854 4.3 has a router send its Initiation first) makes room.  false
 * when every session has sent a message.
 */
static bool make_room(struct bmp_server *s)
{
	unsigned victim = s->nconns;

	for (unsigned i = 0; i < s->nconns; i++)
		if (s->conns[i]->router.messages == 0 &&
		    (victim == s->nconns ||
		     s->conns[i]->connected_ns <
			     s->conns[victim]->connected_ns))
			victim = i;
	if (victim == s->nconns)
		return false;
	dec_event(&s->st, DEC_BMP_CONN_EVICTED);
	conn_close(s, victim,
		   "evicted: no whole message yet, and bmp.max_routers "
		   "sessions open when another router connected");
	return true;
}

static void accept_one(struct bmp_server *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct bmp_router_limits lim;
	struct epoll_event ev;
	struct bmp_conn *c;
	struct ps_addr a;
	char name[64];
	int fd;

	fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	peer_addr(&ss, &a);
	ps_addr_format(&a, name, sizeof(name));
	if (!netaddr_allow_match(&s->allow, &a)) {
		dec_event(&s->st, DEC_BMP_CONN_NOT_ALLOWED);
		log_refused(s, name, "not in bmp.allow");
		close(fd);
		return;
	}
	if (sessions_from(s, &a) >= s->cfg->bmp_max_per_address) {
		dec_event(&s->st, DEC_BMP_CONN_ADDRESS_CAPPED);
		log_refused(s, name, "bmp.max_sessions_per_address reached");
		close(fd);
		return;
	}
	if (s->nconns >= s->cfg->bmp_max_routers && !make_room(s)) {
		dec_event(&s->st, DEC_BMP_CONN_CAPPED);
		log_refused(s, name, "bmp.max_routers reached");
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->connected_ns = c->last_rx_ns = c->last_msg_ns = now_ns();
	lim.max_peers = s->cfg->bmp_max_peers;
	lim.max_routes = s->cfg->bmp_max_routes;
	lim.max_router_routes = s->cfg->bmp_max_router_routes;
	lim.max_buffer = s->cfg->bmp_max_buffer;
	bmp_router_init(&c->router, name, &a, &lim, on_event, s);
	bmp_pub_routes_attach(s->pub, &c->router, s->cfg->bmp_route_messages);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		bmp_router_fini(&c->router);
		free(c);
		close(fd);
		return;
	}
	s->conns[s->nconns++] = c;
	s->accepted++;
	if (s->log != NULL) {
		char port[8];

		snprintf(port, sizeof(port), "%u", peer_port(&ss));
		log_event_fields(s->log, PS_LOG_INFO, "bmp_router_connected",
				 LOG_FIELDS({ "router", name },
					    { "port", port }),
				 "router %s connected (BMP, from port %s)",
				 name, port);
	}
}

static unsigned conn_index(const struct bmp_server *s,
			   const struct bmp_conn *c)
{
	for (unsigned i = 0; i < s->nconns; i++)
		if (s->conns[i] == c)
			return i;
	return s->nconns;
}

/*
 * Stop reading c: its messages wait for the output.  Its socket leaves
 * the epoll set, so neither data nor a hang-up wakes us for it; what it
 * sends stays in the kernel until resume.
 */
static void conn_pause(struct bmp_server *s, struct bmp_conn *c, uint64_t t)
{
	if (c->router.paused)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	c->router.paused = true;
	c->router.pauses++;
	c->paused_since_ns = t;
	s->npaused++;
	s->gauges_dirty = true;
	if (s->log != NULL)
		log_event_limited(s->log, &s->limit, t, "bmp_router_paused",
				  PS_LOG_WARN, "bmp_router_paused",
				  "router %s: %llu messages (%llu bytes) wait "
				  "for the output; not reading it (TCP "
				  "backpressure), pause %llu",
				  c->router.name, (unsigned long long)c->q.n,
				  (unsigned long long)c->q.bytes,
				  (unsigned long long)c->router.pauses);
}

/* 0, or -1 when c cannot be watched again (the caller closes it). */
static int conn_resume(struct bmp_server *s, struct bmp_conn *c, uint64_t t)
{
	struct epoll_event ev;
	uint64_t took = t - c->paused_since_ns;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		return -1;
	c->router.paused = false;
	c->router.paused_ns += took;
	/* its silence while paused was ours, not the router's */
	c->last_rx_ns = c->last_msg_ns = t;
	s->npaused--;
	s->gauges_dirty = true;
	if (s->log != NULL)
		log_event_limited(s->log, &s->limit, t, "bmp_router_resumed",
				  PS_LOG_INFO, "bmp_router_resumed",
				  "router %s: reading again after %llu ms "
				  "paused",
				  c->router.name,
				  (unsigned long long)(took / 1000000ULL));
	return 0;
}

/*
 * One read for one router: fairness comes from reading once per round.
 * false when c was closed.
 */
static bool conn_read(struct bmp_server *s, struct bmp_conn *c)
{
	/* a router with messages waiting gets small reads: each read can
	 * only add what that many bytes of BMP cause */
	size_t want = c->q.head != NULL ? BMP_SERVER_READ_QUEUED :
					  BMP_SERVER_READ;
	ssize_t n = read(c->fd, s->rbuf, want);
	const char *why = n == 0 ? "closed by the router" : NULL;
	char reason[96];
	unsigned i;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n < 0) {
		snprintf(reason, sizeof(reason), "read: %s", strerror(errno));
		why = reason;
	}
	if (n > 0) {
		uint64_t before = c->router.messages;
		uint64_t t = now_ns();
		int rc;

		c->last_rx_ns = t;
		s->current = c;
		bmp_router_set_clock(&c->router, wall_ns());
		rc = bmp_router_feed(&c->router, s->rbuf, (size_t)n);
		s->current = NULL;
		if (c->router.messages != before)
			c->last_msg_ns = t;
		if (rc == 0 && s->rib_dirty && s->rib != NULL) {
			/* after a Peer Down, its routes stop matching now */
			s->rib_dirty = false;
			(void)bmp_rib_publish(s->rib, &c->router);
		}
		if (rc == 0 && c->router.peers_dirty && s->rib != NULL)
			/* a peer went up or down: its connections say so now */
			(void)bmp_rib_publish_peers(s->rib, &c->router);
		if (rc == 0) {
			if (c->q.bytes >= s->cfg->bmp_max_queue)
				conn_pause(s, c, t);
			return true;
		}
		why = c->router.terminated ?
			      "Termination message" :
			      "stream unreadable (BMP framing lost, or a "
			      "message over bmp.max_buffer_bytes)";
	}
	/* closed, reset, or the stream lost its framing */
	i = conn_index(s, c);
	if (i < s->nconns)
		conn_close(s, i, why);
	return false;
}

static struct bmp_queue *flush_queue(struct bmp_server *s, unsigned i)
{
	return i < s->nconns ? &s->conns[i]->q : &s->leftover;
}

/*
 * Move waiting messages into the ring, one per queue per turn, from a
 * start that rotates: a router with a long backlog cannot hold back
 * another's few messages.  Whether anything moved.
 */
static bool queues_flush(struct bmp_server *s)
{
	unsigned nq = s->nconns + 1; /* and the leftover */
	bool moved = false, progress = true;

	while (s->queued > 0 && progress) {
		progress = false;
		for (unsigned k = 0; k < nq; k++) {
			unsigned i = (s->flush_next + k) % nq;
			struct bmp_queue *q = flush_queue(s, i);

			if (q->head == NULL)
				continue;
			if (!bmp_pub_try_push(s->pub, q->head)) {
				s->flush_next = i; /* first in line next time */
				return moved;
			}
			queue_drop_head(s, q);
			moved = progress = true;
		}
	}
	s->flush_next++;
	return moved;
}

/* Resume the paused routers whose queues are down to half the cap. */
static void conns_resume(struct bmp_server *s, uint64_t t)
{
	for (unsigned i = 0; s->npaused > 0 && i < s->nconns;) {
		struct bmp_conn *c = s->conns[i];

		if (c->router.paused && c->q.bytes <= s->cfg->bmp_max_queue / 2 &&
		    conn_resume(s, c, t) == -1) {
			/* moves the last one to i */
			conn_close(s, i, "cannot watch its socket again");
			continue;
		}
		i++;
	}
}

/* New routers wait in the listen backlog while ended sessions' messages
 * hold more than one router's queue. */
static void accept_throttle(struct bmp_server *s)
{
	struct epoll_event ev;
	uint64_t cap = s->cfg->bmp_max_queue;
	bool over = s->leftover.bytes > (s->accept_paused ? cap / 2 : cap);

	if (over == s->accept_paused)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL; /* the listener */
	if (over)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->lfd, NULL);
	else if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) == -1)
		return; /* tried again next round */
	s->accept_paused = over;
}

/* Move what waits, resume who may read again; the next epoll timeout. */
static int backpressure_service(struct bmp_server *s, uint64_t t)
{
	if (s->queued == 0 && s->npaused == 0 && !s->accept_paused)
		return 1000;
	if (queues_flush(s))
		s->flush_wait_ms = 1;
	else if (s->flush_wait_ms < BMP_SERVER_FLUSH_MAX_MS)
		s->flush_wait_ms = s->flush_wait_ms < 1 ? 1 :
							  s->flush_wait_ms * 2;
	conns_resume(s, t);
	accept_throttle(s);
	s->gauges_dirty = true;
	return s->queued > 0 ? s->flush_wait_ms : 1000;
}

/*
 * Whether c went quiet (no byte for bmp.idle_timeout_seconds: *why =
 * idle) or stalled: no whole message since it connected, or a message
 * left incomplete, for bmp.message_timeout_seconds (a slowloris, or a
 * connection that never speaks BMP).  A paused router is not read, so
 * neither applies to it.
 */
static bool conn_timed_out(const struct bmp_server *s,
			   const struct bmp_conn *c, uint64_t t,
			   enum dec_event *why)
{
	uint64_t idle = (uint64_t)s->cfg->bmp_idle_seconds * 1000000000ULL;
	uint64_t msg = (uint64_t)s->cfg->bmp_message_seconds * 1000000000ULL;

	if (c->router.paused)
		return false;
	*why = DEC_BMP_IDLE_TIMEOUT;
	if (idle != 0 && t - c->last_rx_ns > idle)
		return true;
	*why = DEC_BMP_MESSAGE_TIMEOUT;
	return (c->router.messages == 0 || c->router.len > 0) &&
	       t - c->last_msg_ns > msg;
}

/*
 * The flow workers' copy of the routes (rib_lookup.h), rebuilt for the
 * routers whose routes changed since their last copy.  A rebuild walks a
 * router's whole table (a full table: a few hundred ms), so the next
 * round waits at least ten times as long as this one took: the BMP thread
 * spends at most about a tenth of its time on copies however many
 * full-table routers it serves, and copies are at most
 * max(RIB_PUBLISH_SECONDS, 10 x rebuild time) old.
 */
static void rib_publish_due(struct bmp_server *s, uint64_t t)
{
	uint64_t took;

	for (unsigned i = 0; i < s->nconns; i++)
		if (s->conns[i]->router.rib_dirty)
			(void)bmp_rib_publish(s->rib,
						   &s->conns[i]->router);
	rib_registry_reclaim(s->rib);
	took = now_ns() - t;
	s->last_rib_ns = t;
	s->rib_interval_ns = RIB_PUBLISH_SECONDS * 1000000000ULL;
	if (took > s->rib_interval_ns / 10)
		s->rib_interval_ns = took * 10;
}

/* Count sessions, routes and reasons for /metrics (bmp_gauge.h). */
static void gauges_publish(struct bmp_server *s, uint64_t t)
{
	struct bmp_gauge_acc a;

	bmp_gauge_acc_init(&a);
	for (unsigned i = 0; i < s->nconns; i++) {
		struct bmp_conn *c = s->conns[i];

		if (c->router.paused) { /* paused time so far */
			c->router.paused_ns += t - c->paused_since_ns;
			c->paused_since_ns = t;
		}
		bmp_gauge_acc_add(&a, &c->router);
	}
	a.pauses += s->pauses_ended;
	a.paused_ns += s->paused_ns_ended;
	a.queued_events = s->queued;
	a.queued_bytes = s->queued_bytes;
	/* every reason so far: ended sessions' are in s->st already */
	a.has_errors = true;
	a.errors = s->st;
	for (unsigned i = 0; i < s->nconns; i++)
		dec_stats_add(&a.errors, &s->conns[i]->router.st);
	a.accepted = s->accepted;
	a.closed = s->closed;
	bmp_gauges_store(&s->pub->gauges, &a, t);
	s->gauges_dirty = false;
}

/* Close the sessions silent or stalled past their timeouts. */
static void conns_expire(struct bmp_server *s, uint64_t t)
{
	for (unsigned i = 0; i < s->nconns;) {
		enum dec_event why;

		if (conn_timed_out(s, s->conns[i], t, &why)) {
			dec_event(&s->st, why);
			/* moves the last one to i */
			conn_close(s, i,
				   why == DEC_BMP_IDLE_TIMEOUT ?
					   "idle: nothing received for "
					   "bmp.idle_timeout_seconds" :
					   "stalled: no whole message for "
					   "bmp.message_timeout_seconds");
		} else {
			i++;
		}
	}
}

/* Shutting down: everything queued reaches the (still running) merger. */
static void queues_drain(struct bmp_server *s)
{
	struct timespec nap = { .tv_sec = 0, .tv_nsec = 100 * 1000 };

	while (s->queued > 0)
		if (!queues_flush(s))
			nanosleep(&nap, NULL);
}

static void *server_main(void *arg)
{
	struct bmp_server *s = arg;
	struct epoll_event ev[EPOLL_BATCH];
	int timeout = 1000;

	s->last_snapshot_ns = s->last_rib_ns = now_ns();
	s->rib_interval_ns = RIB_PUBLISH_SECONDS * 1000000000ULL;
	while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
		int n = epoll_wait(s->epfd, ev, EPOLL_BATCH, timeout);
		uint64_t t;

		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL)
				accept_one(s);
			else if (ev[i].data.ptr != (void *)s)
				(void)conn_read(s, ev[i].data.ptr);
		}
		t = now_ns();
		if (n > 0)
			s->gauges_dirty = true;
		conns_expire(s, t);
		if (s->cfg->bmp_snapshot_seconds != 0 &&
		    t - s->last_snapshot_ns >=
			    (uint64_t)s->cfg->bmp_snapshot_seconds *
				    1000000000ULL) {
			s->last_snapshot_ns = t;
			for (unsigned i = 0; i < s->nconns; i++) {
				s->current = s->conns[i];
				bmp_router_snapshot(&s->conns[i]->router);
			}
			s->current = NULL;
		}
		if (s->rib != NULL && t - s->last_rib_ns >= s->rib_interval_ns)
			rib_publish_due(s, t);
		timeout = backpressure_service(s, t);
		/* counters live within XPUB_PERIOD_NS, however quiet (xpub.h) */
		if (timeout > (int)(XPUB_PERIOD_NS / 1000000ULL))
			timeout = (int)(XPUB_PERIOD_NS / 1000000ULL);
		/* at most every BMP_GAUGE_NS; a session that ended at once */
		if (s->gauges_dirty &&
		    (s->gauges_closed || bmp_gauges_due(&s->pub->gauges, t))) {
			s->gauges_closed = false;
			gauges_publish(s, t);
		}
	}
	while (s->nconns > 0)
		conn_close(s, s->nconns - 1, "peerscope stopping");
	queues_drain(s);
	gauges_publish(s, now_ns());
	return NULL;
}

int bmp_server_start(struct bmp_server *s, const struct ps_config *cfg,
		     struct bmp_pub *pub, char *err, size_t errlen)
{
	if (bmp_server_bind(s, cfg, pub, err, errlen) == -1)
		return -1;
	return bmp_server_run(s, err, errlen);
}

int bmp_server_run(struct bmp_server *s, char *err, size_t errlen)
{
	/* from now on the BMP thread queues instead of waiting (above) */
	s->pub->divert = divert;
	s->pub->divert_ctx = s;
	if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
		snprintf(err, errlen, "cannot start the BMP thread");
		return -1;
	}
	s->started = true;
	return 0;
}

int bmp_server_bind(struct bmp_server *s, const struct ps_config *cfg,
		    struct bmp_pub *pub, char *err, size_t errlen)
{
	struct ps_endpoint ep;
	struct epoll_event ev;

	memset(s, 0, sizeof(*s));
	s->lfd = s->epfd = s->wakefd = -1;
	s->cfg = cfg;
	s->pub = pub;
	s->flush_wait_ms = 1;
	log_limit_init(&s->limit, LOG_LIMIT_BURST, LOG_LIMIT_PERIOD);
	jbuf_init(&s->json);
	/* both checked when the configuration was loaded (netaddr.h) */
	if (netaddr_parse_endpoint(cfg->bmp_listen, &ep, err, errlen) == -1 ||
	    netaddr_parse_allow(&s->allow, cfg->bmp_allow, err, errlen) == -1)
		return -1;
	s->conns = calloc(cfg->bmp_max_routers, sizeof(*s->conns));
	s->rbuf = malloc(BMP_SERVER_READ);
	if (s->conns == NULL || s->rbuf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (netaddr_tcp_listen(&ep, NETADDR_TCP_BACKLOG, "bmp.listen", &s->lfd,
			       err, errlen) == -1)
		return -1;
	s->port = netaddr_bound_port(s->lfd);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		goto sys;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL; /* the listener */
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) == -1)
		goto sys;
	s->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wakefd < 0)
		goto sys;
	ev.data.ptr = s; /* the stop signal */
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wakefd, &ev) == -1)
		goto sys;
	return 0;
sys:
	snprintf(err, errlen, "bmp.listen %s: %s", cfg->bmp_listen,
		 strerror(errno));
	return -1;
}

void bmp_server_stop(struct bmp_server *s)
{
	uint64_t one = 1;

	if (s->started) {
		atomic_store_explicit(&s->stop, true, memory_order_release);
		if (write(s->wakefd, &one, sizeof(one)) < 0)
			(void)0; /* the 1 s epoll timeout wakes it anyway */
		pthread_join(s->thread, NULL);
		s->started = false;
	}
	if (s->pub != NULL && s->pub->divert_ctx == s) {
		s->pub->divert = NULL;
		s->pub->divert_ctx = NULL;
	}
	if (s->pub != NULL) {
		uint64_t w = atomic_load_explicit(&s->pub->full_waits,
						  memory_order_relaxed);

		if (w != 0) {
			dec_event(&s->st, DEC_BMP_BACKPRESSURE);
			s->st.n[DEC_BMP_BACKPRESSURE] += w - 1;
		}
	}
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->wakefd >= 0)
		close(s->wakefd);
	s->lfd = s->epfd = s->wakefd = -1;
	free(s->conns);
	free(s->rbuf);
	s->conns = NULL;
	s->rbuf = NULL;
	jbuf_fini(&s->json);
}
