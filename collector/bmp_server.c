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

#include "bmp_msg.h"
#include "bmp_server.h"
#include "bmp_session.h"
#include "rib_lookup.h"

#define EPOLL_BATCH 64

struct bmp_conn {
	int fd;
	uint64_t last_rx_ns; /* for bmp.idle_timeout_seconds */
	struct bmp_router router;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void on_event(void *ctx, const struct bmp_router *r,
		     const struct bmp_peer *p, const char *event)
{
	struct bmp_server *s = ctx;
	char key[200];

	if (strcmp(event, "down") == 0)
		s->rib_dirty = true;

	jbuf_reset(&s->json);
	msg_bgp_session(&s->json, r, p, event, key, sizeof(key));
	if (!s->json.failed &&
	    bmp_pub_push(s->pub, MSG_BGP_SESSION, key, s->json.buf,
			 s->json.len) == -1)
		dec_count(&s->st, DEC_BMP_BACKPRESSURE);
}

/* "IPv4:port", "[IPv6]:port" or ":port" (dual stack). */
static int parse_listen(const char *text, struct sockaddr_storage *ss,
			socklen_t *len, bool *dual)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	unsigned long port;
	char *end;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	*dual = false;
	if (colon == NULL)
		return -1;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || port > 65535)
		return -1;
	hl = (size_t)(colon - text);
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (hl == 0) {
		*dual = true;
		v6->sin6_family = AF_INET6;
		v6->sin6_addr = in6addr_any;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return 0;
	}
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) != 1)
			return -1;
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return 0;
	}
	if (inet_pton(AF_INET, host, &v4->sin_addr) != 1)
		return -1;
	v4->sin_family = AF_INET;
	v4->sin_port = htons((uint16_t)port);
	*len = sizeof(*v4);
	return 0;
}

static int parse_allow(struct bmp_server *s, const char *list)
{
	char buf[sizeof(s->cfg->bmp_allow)], *save = NULL, *tok;

	if (strcmp(list, "any") == 0)
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ", ", &save); tok != NULL;
	     tok = strtok_r(NULL, ", ", &save)) {
		struct ps_addr *a;

		if (s->nallow == BMP_SERVER_MAX_ALLOW)
			return -1;
		a = &s->allow[s->nallow];
		memset(a, 0, sizeof(*a));
		if (inet_pton(AF_INET, tok, a->bytes) == 1)
			a->af = 4;
		else if (inet_pton(AF_INET6, tok, a->bytes) == 1)
			a->af = 6;
		else
			return -1;
		s->nallow++;
	}
	return 0;
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

static bool allowed(const struct bmp_server *s, const struct ps_addr *a)
{
	if (s->nallow == 0)
		return true;
	for (unsigned i = 0; i < s->nallow; i++)
		if (memcmp(&s->allow[i], a, sizeof(*a)) == 0)
			return true;
	return false;
}

static void conn_close(struct bmp_server *s, unsigned i)
{
	struct bmp_conn *c = s->conns[i];

	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	/* the routes stay published unless a Termination withdrew them
	 * (rib_lookup.h) */
	if (s->rib != NULL && c->router.bytes > 0 && !c->router.terminated)
		(void)rib_registry_publish(s->rib, &c->router);
	bmp_router_close(&c->router);
	if (s->rib != NULL && c->router.bytes > 0 && c->router.terminated)
		(void)rib_registry_publish(s->rib, &c->router);
	s->rib_dirty = false;
	dec_stats_add(&s->st, &c->router.st);
	bmp_router_fini(&c->router);
	free(c);
	s->conns[i] = s->conns[--s->nconns];
	s->closed++;
	s->gauges_dirty = true;
	s->gauges_closed = true;
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
	if (!allowed(s, &a)) {
		dec_count(&s->st, DEC_BMP_CONN_NOT_ALLOWED);
		close(fd);
		return;
	}
	if (s->nconns >= s->cfg->bmp_max_routers) {
		dec_count(&s->st, DEC_BMP_CONN_CAPPED);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->last_rx_ns = now_ns();
	lim.max_peers = s->cfg->bmp_max_peers;
	lim.max_routes = s->cfg->bmp_max_routes;
	lim.max_router_routes = s->cfg->bmp_max_router_routes;
	lim.max_buffer = s->cfg->bmp_max_buffer;
	ps_addr_format(&a, name, sizeof(name));
	bmp_router_init(&c->router, name, &a, &lim, on_event, s);
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
}

static unsigned conn_index(const struct bmp_server *s,
			   const struct bmp_conn *c)
{
	for (unsigned i = 0; i < s->nconns; i++)
		if (s->conns[i] == c)
			return i;
	return s->nconns;
}

/* One read for one router: fairness comes from reading once per round. */
static void conn_read(struct bmp_server *s, struct bmp_conn *c)
{
	ssize_t n = read(c->fd, s->rbuf, BMP_SERVER_READ);
	unsigned i;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		c->last_rx_ns = now_ns();
	if (n > 0) {
		int rc = bmp_router_feed(&c->router, s->rbuf, (size_t)n);

		if (rc == 0 && s->rib_dirty && s->rib != NULL) {
			/* after a Peer Down, its routes stop matching now */
			s->rib_dirty = false;
			(void)rib_registry_publish(s->rib, &c->router);
		}
		if (rc == 0)
			return;
	}
	/* closed, reset, or the stream lost its framing */
	i = conn_index(s, c);
	if (i < s->nconns)
		conn_close(s, i);
}

/* Count sessions and routes for /metrics (bmp_gauge.h). */
static void gauges_publish(struct bmp_server *s, uint64_t t)
{
	struct bmp_gauge_acc a;

	bmp_gauge_acc_init(&a);
	for (unsigned i = 0; i < s->nconns; i++)
		bmp_gauge_acc_add(&a, &s->conns[i]->router);
	bmp_gauges_store(&s->pub->gauges, &a, t);
	s->gauges_dirty = false;
}

static void *server_main(void *arg)
{
	struct bmp_server *s = arg;
	struct epoll_event ev[EPOLL_BATCH];

	s->last_snapshot_ns = now_ns();
	while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
		int n = epoll_wait(s->epfd, ev, EPOLL_BATCH, 1000);
		uint64_t t;

		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL)
				accept_one(s);
			else if (ev[i].data.ptr != (void *)s)
				conn_read(s, ev[i].data.ptr);
		}
		t = now_ns();
		if (n > 0)
			s->gauges_dirty = true;
		for (unsigned i = 0; s->cfg->bmp_idle_seconds != 0 &&
				     i < s->nconns;) {
			if (t - s->conns[i]->last_rx_ns >
			    (uint64_t)s->cfg->bmp_idle_seconds * 1000000000ULL) {
				dec_count(&s->st, DEC_BMP_IDLE_TIMEOUT);
				conn_close(s, i); /* moves the last one to i */
			} else {
				i++;
			}
		}
		if (s->cfg->bmp_snapshot_seconds != 0 &&
		    t - s->last_snapshot_ns >=
			    (uint64_t)s->cfg->bmp_snapshot_seconds *
				    1000000000ULL) {
			s->last_snapshot_ns = t;
			for (unsigned i = 0; i < s->nconns; i++)
				bmp_router_snapshot(&s->conns[i]->router);
		}
		if (s->rib != NULL &&
		    t - s->last_rib_ns >= RIB_PUBLISH_SECONDS * 1000000000ULL) {
			/* the flow workers' view of the routes (rib_lookup.h) */
			s->last_rib_ns = t;
			for (unsigned i = 0; i < s->nconns; i++)
				(void)rib_registry_publish(
					s->rib, &s->conns[i]->router);
			rib_registry_reclaim(s->rib);
		}
		/* at most every BMP_GAUGE_NS; a session that ended at once */
		if (s->gauges_dirty &&
		    (s->gauges_closed || bmp_gauges_due(&s->pub->gauges, t))) {
			s->gauges_closed = false;
			gauges_publish(s, t);
		}
	}
	while (s->nconns > 0)
		conn_close(s, s->nconns - 1);
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
	struct sockaddr_storage ss;
	struct epoll_event ev;
	socklen_t sl;
	bool dual;
	int one = 1, zero = 0;

	memset(s, 0, sizeof(*s));
	s->lfd = s->epfd = s->wakefd = -1;
	s->cfg = cfg;
	s->pub = pub;
	jbuf_init(&s->json);
	if (parse_listen(cfg->bmp_listen, &ss, &sl, &dual) == -1) {
		snprintf(err, errlen, "bmp.listen: cannot parse \"%s\"",
			 cfg->bmp_listen);
		return -1;
	}
	if (parse_allow(s, cfg->bmp_allow) == -1) {
		snprintf(err, errlen, "bmp.allow: cannot parse \"%s\"",
			 cfg->bmp_allow);
		return -1;
	}
	s->conns = calloc(cfg->bmp_max_routers, sizeof(*s->conns));
	s->rbuf = malloc(BMP_SERVER_READ);
	if (s->conns == NULL || s->rbuf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	if (s->lfd < 0)
		goto sys;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (dual)
		setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
			   sizeof(zero));
	if (bind(s->lfd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(s->lfd, 64) == -1)
		goto sys;
	sl = sizeof(ss);
	if (getsockname(s->lfd, (struct sockaddr *)&ss, &sl) == 0)
		s->port = ntohs(ss.ss_family == AF_INET ?
					((struct sockaddr_in *)&ss)->sin_port :
					((struct sockaddr_in6 *)&ss)->sin6_port);
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
	if (s->pub != NULL) {
		uint64_t w = atomic_load_explicit(&s->pub->full_waits,
						  memory_order_relaxed);

		if (w != 0) {
			dec_count(&s->st, DEC_BMP_BACKPRESSURE);
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
