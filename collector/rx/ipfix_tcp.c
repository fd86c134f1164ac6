/* ipfix_tcp.c - IPFIX over TCP on worker 0.  See ipfix_tcp.h. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/netaddr.h"
#include "ingest/ingest_ipfix.h"
#include "ingest/worker_state.h"
#include "peerscope/ipfix.h"
#include "peerscope/limits.h"
#include "rx/ipfix_tcp.h"

#define IPFIX_TCP_HEADER_LEN 16
#define IPFIX_TCP_VERSION    10

struct ipfix_tcp_conn {
	int fd; /* -1 = free slot */
	struct ps_addr src;
	uint16_t src_port;
	uint32_t used; /* bytes in buf */
	uint8_t *buf;  /* IPFIX_TCP_BUF_BYTES, while connected */
	/* timeouts: when it connected, its last byte, its last whole
	 * message (or its connection, before the first) */
	uint64_t connected_ns, last_rx_ns, last_msg_ns;
	uint64_t messages;
};

/*
 * Where a service pass is (ipfix_tcp_next): each call resumes it at
 * `step` and returns at the next message, so the worker processes every
 * message before the listener reads, frames or closes anything more.
 */
enum pass_step {
	PASS_IDLE,   /* no pass: the next call starts one (accept) */
	PASS_CONN,   /* entering conns[conn]: its timeouts */
	PASS_READ,   /* reading conns[conn] (at most PASS_READS reads) */
	PASS_FRAME,  /* framing what it read, from `off` */
	PASS_FRAMED, /* the worker is done with the message handed out */
};

#define PASS_READS 4 /* reads per connection and pass: none starves */

struct ipfix_tcp_pass {
	enum pass_step step;
	uint64_t now_ns;
	unsigned conn;		    /* the connection being served */
	unsigned reads;		    /* reads done on it in this pass */
	uint32_t off;		    /* bytes of its buffer framed so far */
	enum ipfix_tcp_frame frame; /* of the message handed out last */
};

struct ipfix_tcp {
	int lfd;
	uint16_t port;
	struct ipfix_tcp_conn conns[PS_MAX_IPFIX_TCP_CONNS];
	struct ipfix_tcp_stats st;
	struct ipfix_tcp_pass pass;
};

int ipfix_tcp_open(struct ipfix_tcp **out, const char *addr, char *err,
		   size_t errlen)
{
	struct ps_endpoint ep;
	struct ipfix_tcp *t;

	*out = NULL;
	if (netaddr_parse_endpoint(addr, &ep, err, errlen) == -1)
		return -1;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < PS_MAX_IPFIX_TCP_CONNS; i++)
		t->conns[i].fd = -1;
	if (netaddr_tcp_listen(&ep, NETADDR_TCP_BACKLOG, "flow.tcp_listen",
			       &t->lfd, err, errlen) == -1) {
		free(t);
		return -1;
	}
	t->port = netaddr_bound_port(t->lfd);
	*out = t;
	return 0;
}

uint16_t ipfix_tcp_bound_port(const struct ipfix_tcp *t)
{
	return t->port;
}

/* Live templates in the worker's cache (0 before the first flow). */
static uint32_t templates_live(struct worker *w)
{
	const struct ipfix_cache *tc =
		w->flow != NULL ? ingest_flow_cache(w->flow) : NULL;

	return tc != NULL ? tc->live : 0;
}

uint64_t ipfix_tcp_forget(struct worker *w, const struct ps_addr *src)
{
	/* the cache is keyed by exporter address, one connection each:
	 * what leaves it now was this connection's */
	uint32_t before = templates_live(w);

	ingest_flow_forget_exporter(w, src);
	return before - templates_live(w);
}

/* The connection's templates go with it (RFC 7011 section 8, TCP). */
static void conn_close(struct ipfix_tcp *t, struct ipfix_tcp_conn *c,
		       struct worker *w)
{
	close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->used = 0;
	if (w != NULL)
		t->st.n[IPFIX_TCP_TEMPLATES_DROPPED] +=
			ipfix_tcp_forget(w, &c->src);
	t->st.n[IPFIX_TCP_CLOSED]++;
	t->st.open--;
}

static bool exporter_connected(const struct ipfix_tcp *t,
			       const struct ps_addr *a)
{
	for (unsigned i = 0; i < PS_MAX_IPFIX_TCP_CONNS; i++)
		if (t->conns[i].fd != -1 &&
		    memcmp(&t->conns[i].src, a, sizeof(*a)) == 0)
			return true;
	return false;
}

/*
 * Every slot taken: the oldest connection that has not completed a
 * message makes room (counted).  The slot it freed, or NULL.
 */
static struct ipfix_tcp_conn *make_room(struct ipfix_tcp *t, struct worker *w)
{
	struct ipfix_tcp_conn *victim = NULL;

	for (unsigned i = 0; i < PS_MAX_IPFIX_TCP_CONNS; i++) {
		struct ipfix_tcp_conn *c = &t->conns[i];

		if (c->fd != -1 && c->messages == 0 &&
		    (victim == NULL || c->connected_ns < victim->connected_ns))
			victim = c;
	}
	if (victim == NULL)
		return NULL;
	t->st.n[IPFIX_TCP_EVICTED]++;
	conn_close(t, victim, w);
	return victim;
}

/* Why a new connection cannot be served, or IPFIX_TCP_ACCEPTED; *c is
 * the slot to use (made by eviction when every slot is taken). */
static enum ipfix_tcp_counter conn_admit(struct ipfix_tcp *t,
					 struct ipfix_tcp_conn **c,
					 const struct ps_addr *a,
					 struct worker *w)
{
	if (exporter_connected(t, a))
		return IPFIX_TCP_REFUSED_EXPORTER;
	if (*c == NULL || t->st.open >= w->cfg->flow_tcp_max_connections)
		*c = make_room(t, w);
	if (*c == NULL)
		return IPFIX_TCP_REFUSED_CAP;
	(*c)->buf = malloc(IPFIX_TCP_BUF_BYTES);
	if ((*c)->buf == NULL)
		return IPFIX_TCP_REFUSED_MEMORY;
	return IPFIX_TCP_ACCEPTED;
}

static void accept_all(struct ipfix_tcp *t, struct worker *w, uint64_t now_ns)
{
	/* bounded: at most one pass over the free slots plus refusals */
	for (unsigned round = 0; round < 2 * PS_MAX_IPFIX_TCP_CONNS; round++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct ipfix_tcp_conn *c = NULL;
		enum ipfix_tcp_counter verdict;
		struct ps_addr a;
		uint16_t port;
		int fd = accept4(t->lfd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1)
			return; /* EAGAIN, or an error the next pass retries */
		netaddr_from_sockaddr(&ss, &a, &port);
		for (unsigned i = 0; i < PS_MAX_IPFIX_TCP_CONNS; i++)
			if (t->conns[i].fd == -1) {
				c = &t->conns[i];
				break;
			}
		verdict = conn_admit(t, &c, &a, w);
		t->st.n[verdict]++;
		if (verdict != IPFIX_TCP_ACCEPTED) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->src = a;
		c->src_port = port;
		c->used = 0;
		c->connected_ns = c->last_rx_ns = c->last_msg_ns = now_ns;
		c->messages = 0;
		t->st.open++;
	}
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

enum ipfix_tcp_frame ipfix_tcp_frame_next(const uint8_t *buf, uint32_t avail,
					  uint32_t *len)
{
	uint16_t version, msg_len;

	*len = 0;
	if (avail < 4)
		return IPFIX_TCP_FRAME_NEED_MORE;
	version = be16(buf);
	msg_len = be16(buf + 2);
	if (version != IPFIX_TCP_VERSION || msg_len < IPFIX_TCP_HEADER_LEN) {
		*len = avail;
		return IPFIX_TCP_FRAME_BROKEN;
	}
	if (avail < msg_len)
		return IPFIX_TCP_FRAME_NEED_MORE;
	*len = msg_len;
	return IPFIX_TCP_FRAME_MESSAGE;
}

/*
 * Why c must close now (IPFIX_TCP_TIMEOUT_*), or IPFIX_TCP_COUNTER_COUNT:
 * silent for the idle timeout, or no whole message (none yet, or one left
 * incomplete) for the message timeout.
 */
static enum ipfix_tcp_counter conn_timed_out(const struct ipfix_tcp_conn *c,
					     const struct ps_config *cfg,
					     uint64_t now_ns)
{
	uint64_t idle = (uint64_t)cfg->flow_tcp_idle_seconds * 1000000000ULL;
	uint64_t msg = (uint64_t)cfg->flow_tcp_message_seconds * 1000000000ULL;

	if (idle != 0 && now_ns > c->last_rx_ns &&
	    now_ns - c->last_rx_ns > idle)
		return IPFIX_TCP_TIMEOUT_IDLE;
	if ((c->messages == 0 || c->used > 0) && now_ns > c->last_msg_ns &&
	    now_ns - c->last_msg_ns > msg)
		return IPFIX_TCP_TIMEOUT_MESSAGE;
	return IPFIX_TCP_COUNTER_COUNT;
}

/* The framed bytes leave the buffer; the rest waits for more. */
static void pass_consume(struct ipfix_tcp_conn *c, struct ipfix_tcp_pass *p)
{
	memmove(c->buf, c->buf + p->off, c->used - p->off);
	c->used -= p->off;
	p->off = 0;
}

static void pass_next_conn(struct ipfix_tcp_pass *p)
{
	p->conn++;
	p->step = PASS_CONN;
}

/* Message p->off of c's buffer, `len` bytes, as a datagram. */
static void pass_message(const struct ipfix_tcp *t,
			 const struct ipfix_tcp_conn *c,
			 const struct ipfix_tcp_pass *p, uint32_t len,
			 struct rx_datagram *d)
{
	memset(d, 0, sizeof(*d));
	d->ts_ns = p->now_ns;
	d->src = c->src;
	d->src_port = c->src_port;
	d->dst_port = t->port;
	d->proto = PS_PROTO_IPFIX;
	/* BROKEN: once, so the decoder counts the named defect */
	d->data = c->buf + p->off;
	d->len = len;
}

bool ipfix_tcp_next(struct ipfix_tcp *t, struct worker *w, uint64_t now_ns,
		    struct rx_datagram *d)
{
	struct ipfix_tcp_pass *p = &t->pass;

	if (p->step == PASS_IDLE) {
		accept_all(t, w, now_ns);
		p->now_ns = now_ns;
		p->conn = 0;
		p->step = PASS_CONN;
	}
	while (p->conn < PS_MAX_IPFIX_TCP_CONNS) {
		struct ipfix_tcp_conn *c = &t->conns[p->conn];
		enum ipfix_tcp_counter why;
		uint32_t len;
		ssize_t n;

		switch (p->step) {
		case PASS_IDLE:
		case PASS_CONN:
			if (c->fd != -1 &&
			    (why = conn_timed_out(c, w->cfg, p->now_ns)) !=
				    IPFIX_TCP_COUNTER_COUNT) {
				t->st.n[why]++;
				conn_close(t, c, w);
				pass_next_conn(p);
				break;
			}
			p->reads = 0;
			p->step = PASS_READ;
			break;
		case PASS_READ:
			if (c->fd == -1 || p->reads == PASS_READS) {
				pass_next_conn(p);
				break;
			}
			p->reads++;
			n = recv(c->fd, c->buf + c->used,
				 IPFIX_TCP_BUF_BYTES - c->used, 0);
			if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
				pass_next_conn(p);
				break;
			}
			if (n <= 0) {
				conn_close(t, c, w);
				pass_next_conn(p);
				break;
			}
			c->used += (uint32_t)n;
			c->last_rx_ns = p->now_ns;
			t->st.n[IPFIX_TCP_BYTES] += (uint64_t)n;
			p->off = 0;
			p->step = PASS_FRAME;
			break;
		case PASS_FRAME:
			p->frame = ipfix_tcp_frame_next(c->buf + p->off,
							c->used - p->off, &len);
			if (p->frame == IPFIX_TCP_FRAME_NEED_MORE) {
				pass_consume(c, p);
				p->step = PASS_READ;
				break;
			}
			pass_message(t, c, p, len, d);
			p->off += len;
			p->step = PASS_FRAMED;
			return true;
		case PASS_FRAMED:
			if (p->frame == IPFIX_TCP_FRAME_BROKEN) {
				/* the framing is lost: the connection closes */
				t->st.n[IPFIX_TCP_FRAMING_ERRORS]++;
				pass_consume(c, p);
				conn_close(t, c, w);
				pass_next_conn(p);
				break;
			}
			t->st.n[IPFIX_TCP_MESSAGES]++;
			c->messages++;
			c->last_msg_ns = p->now_ns;
			p->step = PASS_FRAME;
			break;
		}
	}
	p->step = PASS_IDLE;
	return false;
}

void ipfix_tcp_free(struct ipfix_tcp *t, struct worker *w)
{
	if (t == NULL)
		return;
	for (unsigned i = 0; i < PS_MAX_IPFIX_TCP_CONNS; i++)
		if (t->conns[i].fd != -1)
			conn_close(t, &t->conns[i], w);
	close(t->lfd);
	free(t);
}

const struct ipfix_tcp_stats *ipfix_tcp_stats(const struct ipfix_tcp *t)
{
	return &t->st;
}

static const struct {
	const char *name;   /* JSON summary key */
	const char *family; /* /metrics, without peerscope_ipfix_tcp_ */
	const char *reason; /* label value, "" = no label */
	const char *help;
} counter_info[IPFIX_TCP_COUNTER_COUNT] = {
	[IPFIX_TCP_ACCEPTED] = { "accepted", "connections_accepted_total", "",
				 "IPFIX/TCP connections accepted." },
	[IPFIX_TCP_REFUSED_CAP] = { "refused_cap", "connections_refused_total",
				    "cap",
				    "IPFIX/TCP connections closed at once: "
				    "cap (flow.tcp_max_connections open, "
				    "each having sent a message), "
				    "exporter_connected (one per exporter "
				    "address) or out_of_memory." },
	[IPFIX_TCP_REFUSED_EXPORTER] = { "refused_exporter_connected",
					 "connections_refused_total",
					 "exporter_connected", NULL },
	[IPFIX_TCP_REFUSED_MEMORY] = { "refused_out_of_memory",
				       "connections_refused_total",
				       "out_of_memory", NULL },
	[IPFIX_TCP_CLOSED] = { "closed", "connections_closed_total", "",
			       "IPFIX/TCP connections closed after being "
			       "accepted." },
	[IPFIX_TCP_BYTES] = { "bytes", "received_bytes_total", "",
			      "Bytes received on IPFIX/TCP connections." },
	[IPFIX_TCP_MESSAGES] = { "messages", "messages_total", "",
				 "IPFIX messages framed on TCP and decoded." },
	[IPFIX_TCP_FRAMING_ERRORS] = { "framing_errors", "framing_errors_total",
				       "",
				       "IPFIX/TCP streams closed because a "
				       "message header broke the framing." },
	[IPFIX_TCP_TEMPLATES_DROPPED] = { "templates_dropped",
					  "templates_dropped_total", "",
					  "Templates forgotten because their "
					  "IPFIX/TCP connection closed." },
	[IPFIX_TCP_TIMEOUT_IDLE] = { "timed_out_idle",
				     "connections_timed_out_total", "idle",
				     "IPFIX/TCP connections closed by a "
				     "timeout: idle (nothing for "
				     "flow.tcp_idle_timeout_seconds) or "
				     "message (no whole message for "
				     "flow.tcp_message_timeout_seconds)." },
	[IPFIX_TCP_TIMEOUT_MESSAGE] = { "timed_out_message",
					"connections_timed_out_total",
					"message", NULL },
	[IPFIX_TCP_EVICTED] = { "evicted", "connections_evicted_total", "",
				"IPFIX/TCP connections that had sent no "
				"whole message, closed to serve a new one "
				"(every slot was taken)." },
};

const char *ipfix_tcp_counter_name(enum ipfix_tcp_counter c)
{
	return counter_info[c].name;
}

const char *ipfix_tcp_counter_family(enum ipfix_tcp_counter c,
				     const char **reason, const char **help)
{
	*reason = counter_info[c].reason;
	*help = counter_info[c].help;
	return counter_info[c].family;
}
