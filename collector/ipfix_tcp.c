/* ipfix_tcp.c - IPFIX over TCP on worker 0.  See ipfix_tcp.h. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "ingest_ipfix.h"
#include "ipfix_tcp.h"
#include "udp.h"
#include "worker.h"
#include "peerscope/limits.h"

#define IPFIX_TCP_HEADER_LEN 16
#define IPFIX_TCP_VERSION    10

struct ipfix_tcp_conn {
	int fd; /* -1 = free slot */
	struct ps_addr src;
	uint16_t src_port;
	uint32_t used; /* bytes in buf */
	uint8_t *buf;  /* IPFIX_TCP_BUF_BYTES, while connected */
};

struct ipfix_tcp {
	int lfd;
	uint16_t port;
	struct ipfix_tcp_conn conns[PS_MAX_IPFIX_TCP_CONNS];
	struct ipfix_tcp_stats st;
};

int ipfix_tcp_open(struct ipfix_tcp **out, const char *addr, char *err,
		   size_t errlen)
{
	struct sockaddr_storage ss;
	struct ipfix_tcp *t;
	socklen_t sl;
	int one = 1;

	*out = NULL;
	if (http_listen_parse(addr, &ss, err, errlen) == -1)
		return -1;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < PS_MAX_IPFIX_TCP_CONNS; i++)
		t->conns[i].fd = -1;
	sl = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					sizeof(struct sockaddr_in);
	t->lfd = socket(ss.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->lfd == -1 ||
	    setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
		    -1 ||
	    bind(t->lfd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(t->lfd, 16) == -1) {
		snprintf(err, errlen, "flow.tcp_listen %s: %s", addr,
			 strerror(errno));
		if (t->lfd != -1)
			close(t->lfd);
		free(t);
		return -1;
	}
	t->port = ntohs(ss.ss_family == AF_INET6 ?
				((struct sockaddr_in6 *)&ss)->sin6_port :
				((struct sockaddr_in *)&ss)->sin_port);
	*out = t;
	return 0;
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
		ingest_flow_forget_exporter(w, &c->src);
	t->st.closed++;
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

static void accept_all(struct ipfix_tcp *t)
{
	/* bounded: at most one pass over the free slots plus refusals */
	for (unsigned round = 0; round < 2 * PS_MAX_IPFIX_TCP_CONNS; round++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct ipfix_tcp_conn *c = NULL;
		struct ps_addr a;
		uint16_t port;
		int fd = accept4(t->lfd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1)
			return; /* EAGAIN, or an error the next pass retries */
		udp_addr_from_sockaddr(&ss, &a, &port);
		for (unsigned i = 0; i < PS_MAX_IPFIX_TCP_CONNS; i++)
			if (t->conns[i].fd == -1) {
				c = &t->conns[i];
				break;
			}
		if (c == NULL || exporter_connected(t, &a) ||
		    (c->buf = malloc(IPFIX_TCP_BUF_BYTES)) == NULL) {
			close(fd);
			t->st.refused++;
			continue;
		}
		c->fd = fd;
		c->src = a;
		c->src_port = port;
		c->used = 0;
		t->st.accepted++;
	}
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Hand every complete message in the buffer to the worker.  false: the
 * framing is lost (a bad header), and the connection must close.
 */
static bool conn_frame(struct ipfix_tcp *t, struct ipfix_tcp_conn *c,
		       struct worker *w, uint64_t now_ns)
{
	uint32_t off = 0;
	bool ok = true;

	while (c->used - off >= 4) {
		struct rx_datagram d;
		uint16_t version = be16(c->buf + off);
		uint16_t len = be16(c->buf + off + 2);

		memset(&d, 0, sizeof(d));
		d.ts_ns = now_ns;
		d.src = c->src;
		d.src_port = c->src_port;
		d.dst_port = t->port;
		d.proto = PS_PROTO_IPFIX;
		if (version != IPFIX_TCP_VERSION ||
		    len < IPFIX_TCP_HEADER_LEN) {
			/* once, so the decoder counts the named defect */
			d.data = c->buf + off;
			d.len = c->used - off;
			worker_process(w, &d);
			t->st.framing_errors++;
			ok = false;
			off = c->used;
			break;
		}
		if (c->used - off < len)
			break;
		d.data = c->buf + off;
		d.len = len;
		worker_process(w, &d);
		t->st.messages++;
		off += len;
	}
	memmove(c->buf, c->buf + off, c->used - off);
	c->used -= off;
	return ok;
}

void ipfix_tcp_service(struct ipfix_tcp *t, struct worker *w, uint64_t now_ns)
{
	accept_all(t);
	for (unsigned i = 0; i < PS_MAX_IPFIX_TCP_CONNS; i++) {
		struct ipfix_tcp_conn *c = &t->conns[i];

		/* a few reads per pass, so one busy exporter cannot starve */
		for (unsigned r = 0; c->fd != -1 && r < 4; r++) {
			ssize_t n = recv(c->fd, c->buf + c->used,
					 IPFIX_TCP_BUF_BYTES - c->used, 0);

			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n <= 0) {
				conn_close(t, c, w);
				break;
			}
			c->used += (uint32_t)n;
			if (!conn_frame(t, c, w, now_ns)) {
				conn_close(t, c, w);
				break;
			}
		}
	}
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
