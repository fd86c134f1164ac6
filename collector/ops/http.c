/* http.c - see http.h.  The /metrics text itself is in metrics.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/netaddr.h"
#include "ops/http.h"
#include "rx/udp.h"
#include "xthread/xpub.h"

/* One connection MHD serves, as the admission and timeout rules see it. */
struct http_conn {
	bool used;
	struct MHD_Connection *c;
	int fd;
	struct ps_addr addr;
	uint64_t since_ns; /* connected, started a request or answered */
	bool busy;	   /* a request is being read or answered */
	bool closing;	   /* shut down by us: MHD closes it next */
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code,
			     const char *type, char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (body == NULL) {
		static const char oom[] = "out of memory\n";

		code = MHD_HTTP_SERVICE_UNAVAILABLE;
		type = "text/plain; charset=utf-8";
		r = MHD_create_response_from_buffer(strlen(oom), (void *)oom,
						    MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer(len, body,
						    MHD_RESPMEM_MUST_FREE);
	}
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code,
				  const char *text)
{
	return reply(c, code, "text/plain; charset=utf-8", strdup(text),
		     strlen(text));
}

static void client_name(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	snprintf(buf, len, "unknown");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
			  (socklen_t)len);
}

/* A refused request: answered, counted, logged at most a few per client. */
static enum MHD_Result reject(struct http_server *h, struct MHD_Connection *c,
			      unsigned code, const char *why)
{
	char client[INET6_ADDRSTRLEN + 1];
	char key[96], body[128];

	client_name(c, client, sizeof(client));
	snprintf(key, sizeof(key), "http.%u %s", code, client);
	atomic_store_explicit(&h->requests_rejected,
			      atomic_load_explicit(&h->requests_rejected,
						   memory_order_relaxed) +
				      1,
			      memory_order_relaxed);
	log_event_limited(h->log, &h->limit, stats_now_ns(), key, PS_LOG_WARN,
			  "http_request_rejected", "%u %s from %s", code, why,
			  client);
	snprintf(body, sizeof(body), "%s\n", why);
	return reply_text(c, code, body);
}

/* A client's address (v4-mapped IPv6 as IPv4), whatever its family. */
static void client_addr(const struct sockaddr *sa, struct ps_addr *a)
{
	struct sockaddr_storage ss;
	uint16_t port;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa,
	       sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					   sizeof(struct sockaddr_in));
	netaddr_from_sockaddr(&ss, a, &port);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct http_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/* A request started: its own timeout runs from now. */
static void conn_busy(struct http_server *h, struct MHD_Connection *c)
{
	struct http_conn *hc = conn_of(c);

	(void)h;
	if (hc != NULL) {
		hc->busy = true;
		hc->since_ns = now_ns();
	}
}

/* @thread http (every callback runs on the HTTP thread, in MHD_run). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct http_server *h = cls;
	char why[512];
	size_t len;
	bool ready;

	(void)version;
	(void)upload;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reject(h, c, MHD_HTTP_METHOD_NOT_ALLOWED,
			      "only GET and HEAD");
	/*
	 * First call: headers only.  Refuse a body now, before MHD reads it
	 * (answering mid-upload makes MHD drop the connection unanswered).
	 */
	if (*state == NULL) {
		conn_busy(h, c);
		const char *cl = MHD_lookup_connection_value(
			c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		const char *te = MHD_lookup_connection_value(
			c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);

		*state = h;
		if ((cl != NULL && strcmp(cl, "0") != 0) || te != NULL)
			return reject(h, c, MHD_HTTP_CONTENT_TOO_LARGE,
				      "no request body");
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;
		return reject(h, c, MHD_HTTP_CONTENT_TOO_LARGE,
			      "no request body");
	}
	if (strcmp(url, "/metrics") == 0) {
		char *text = http_render_metrics(h, &len);

		return reply(c, MHD_HTTP_OK,
			     "text/plain; version=0.0.4; charset=utf-8", text,
			     len);
	}
	if (strcmp(url, "/healthz") == 0)
		return reply_text(c, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/readyz") == 0) {
		char body[600];

		ready = http_readiness(h, why, sizeof(why));
		snprintf(body, sizeof(body), "%s%s\n",
			 ready ? "ready" : "not ready: ", ready ? "" : why);
		return reply_text(
			c, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			body);
	}
	return reject(h, c, MHD_HTTP_NOT_FOUND,
		      "not found: try /metrics, /healthz or /readyz");
}

int http_bind(const struct ps_config *cfg, int *fd, char *err, size_t errlen)
{
	struct ps_endpoint ep;

	*fd = -1;
	if (netaddr_parse_endpoint(cfg->http_listen, &ep, err, errlen) == -1)
		return -1; /* config_load() said so already */
	return netaddr_tcp_listen(&ep, NETADDR_TCP_BACKLOG, "http.listen", fd, err,
				  errlen);
}

int http_start(struct http_server *h, const struct http_view *view,
	       const struct ps_config *cfg, struct logger *log, char *err,
	       size_t errlen)
{
	int fd;

	memset(h, 0, sizeof(*h));
	if (http_bind(cfg, &fd, err, errlen) == -1)
		return -1;
	return http_start_fd(h, view, cfg, log, fd, err, errlen);
}

/* MHD_OPTION_NOTIFY_COMPLETED: the answer went out (or was abandoned). */
static void on_completed(void *cls, struct MHD_Connection *c, void **state,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_conn *hc = conn_of(c);

	(void)cls;
	(void)state;
	(void)toe;
	if (hc != NULL) {
		hc->busy = false;
		hc->since_ns = now_ns();
	}
}

/*
 * MHD_OPTION_NOTIFY_CONNECTION: a connection MHD took (from
 * MHD_add_connection, so admitted) or closed.  Our record, in a slot of
 * the table that never moves, is its socket context.
 */
static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *h = cls;
	const union MHD_ConnectionInfo *ci;
	struct http_conn *hc = NULL;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		hc = *ctx;
		if (hc != NULL) {
			hc->used = false;
			h->nconns--;
		}
		*ctx = NULL;
		xpub_store(&h->open, h->nconns);
		return;
	}
	for (uint32_t i = 0; hc == NULL && i < h->conns_cap; i++)
		if (!h->conns[i].used)
			hc = &h->conns[i];
	if (hc == NULL)
		return; /* cannot happen: MHD's limit is the table's size */
	memset(hc, 0, sizeof(*hc));
	hc->used = true;
	hc->c = c;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	hc->fd = ci != NULL ? ci->connect_fd : -1;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL)
		client_addr(ci->client_addr, &hc->addr);
	hc->since_ns = now_ns();
	*ctx = hc;
	h->nconns++;
	xpub_store(&h->open, h->nconns);
}

/* Close a connection MHD serves: it sees the shutdown in its next run. */
static void conn_shut(struct http_server *h, struct http_conn *hc,
		      enum http_close why)
{
	if (hc->closing || hc->fd < 0)
		return;
	shutdown(hc->fd, SHUT_RDWR);
	hc->closing = true;
	xpub_bump(&h->closed[why]);
}

static uint32_t conns_live(const struct http_server *h,
			   const struct ps_addr *from)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < h->conns_cap; i++)
		n += h->conns[i].used && !h->conns[i].closing &&
		     (from == NULL ||
		      memcmp(&h->conns[i].addr, from, sizeof(*from)) == 0);
	return n;
}

/* Every slot taken: the connection waiting longest for a request goes. */
static bool make_room(struct http_server *h)
{
	struct http_conn *victim = NULL;

	for (uint32_t i = 0; i < h->conns_cap; i++) {
		struct http_conn *hc = &h->conns[i];

		if (hc->used && !hc->closing && !hc->busy &&
		    (victim == NULL || hc->since_ns < victim->since_ns))
			victim = hc;
	}
	if (victim == NULL)
		return false;
	conn_shut(h, victim, HTTP_CLOSED_EVICTED);
	return true;
}

/* Why a new connection from `a` may not be served, or -1 when it may. */
static int admit(struct http_server *h, const struct ps_addr *a)
{
	if (!netaddr_allow_match(&h->allow, a))
		return HTTP_REFUSED_NOT_ALLOWED;
	if (conns_live(h, a) >= h->per_address)
		return HTTP_REFUSED_PER_ADDRESS;
	if (conns_live(h, NULL) >= h->max_clients && !make_room(h))
		return HTTP_REFUSED_CAP;
	return -1;
}

static void accept_burst(struct http_server *h)
{
	for (unsigned n = 0; n < HTTP_ACCEPT_BURST; n++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct ps_addr a;
		int why, fd = accept4(h->lfd, (struct sockaddr *)&ss, &sl,
				      SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return; /* EAGAIN, or retried next turn */
		client_addr((struct sockaddr *)&ss, &a);
		why = admit(h, &a);
		if (why >= 0) {
			xpub_bump(&h->refused[why]);
			close(fd);
			continue;
		}
		/* MHD closes the socket itself when it cannot take it */
		if (MHD_add_connection(h->daemon, fd, (struct sockaddr *)&ss,
				       sl) == MHD_YES)
			xpub_bump(&h->accepted);
		else
			xpub_bump(&h->refused[HTTP_REFUSED_CAP]);
	}
}

/* Connections past their deadline (http.h) are closed and counted. */
static void conns_expire(struct http_server *h, uint64_t t)
{
	for (uint32_t i = 0; i < h->conns_cap; i++)
		if (h->conns[i].used && !h->conns[i].closing &&
		    t - h->conns[i].since_ns > h->timeout_ns)
			conn_shut(h, &h->conns[i], HTTP_CLOSED_TIMEOUT);
}

/* @thread http: accept, let MHD run, time out; until stopped. */
static void *http_main(void *arg)
{
	struct http_server *h = arg;
	struct epoll_event ev[8];

	while (!atomic_load_explicit(&h->stop, memory_order_acquire)) {
		MHD_UNSIGNED_LONG_LONG mhd_ms = 0;
		int timeout = 100; /* timeouts checked at least this often */

		if (MHD_get_timeout(h->daemon, &mhd_ms) == MHD_YES &&
		    mhd_ms < (MHD_UNSIGNED_LONG_LONG)timeout)
			timeout = (int)mhd_ms;
		int n = epoll_wait(h->epfd, ev, 8, timeout);

		for (int i = 0; i < n; i++)
			if (ev[i].data.fd == h->lfd)
				accept_burst(h);
		MHD_run(h->daemon);
		conns_expire(h, now_ns());
	}
	return NULL;
}

static int watch(int epfd, int fd)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int http_start_fd(struct http_server *h, const struct http_view *view,
		  const struct ps_config *cfg, struct logger *log, int fd,
		  char *err, size_t errlen)
{
	const union MHD_DaemonInfo *di;

	memset(h, 0, sizeof(*h));
	h->view = *view;
	h->log = log;
	h->lfd = fd;
	h->epfd = h->wakefd = -1;
	h->start_time_s = (uint64_t)time(NULL);
	atomic_init(&h->phase, HTTP_PHASE_STARTING);
	log_limit_init(&h->limit, LOG_LIMIT_BURST, LOG_LIMIT_PERIOD);
	h->max_clients = cfg->http_max_clients;
	h->per_address = cfg->http_max_clients / 4 > 0 ?
				 cfg->http_max_clients / 4 :
				 1;
	h->timeout_ns = (uint64_t)cfg->http_timeout_seconds * 1000000000ULL;
	/* evicted and timed-out ones stay until MHD's next run: room */
	h->conns_cap = cfg->http_max_clients + HTTP_ACCEPT_BURST;
	h->conns = calloc(h->conns_cap, sizeof(*h->conns));
	if (h->conns == NULL ||
	    netaddr_parse_allow(&h->allow, cfg->http_allow, err, errlen) == -1)
		goto fail;
	/*
	 * No MHD_USE_ERROR_LOG: MHD would print to stderr in its own format;
	 * what matters to an operator (refused requests) we log ourselves.
	 * MHD's own timeout is a backstop after ours (we count ours).
	 */
	h->daemon = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL,
		on_request, h, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)h->conns_cap, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)cfg->http_timeout_seconds + 2,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
	di = h->daemon != NULL ?
		     MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD) :
		     NULL;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	h->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (di == NULL || h->epfd < 0 || h->wakefd < 0 ||
	    watch(h->epfd, h->lfd) == -1 ||
	    watch(h->epfd, di->epoll_fd) == -1 ||
	    watch(h->epfd, h->wakefd) == -1) {
		snprintf(err, errlen, "http.listen %s: cannot serve",
			 cfg->http_listen);
		goto fail;
	}
	h->port = netaddr_bound_port(fd);
	if (pthread_create(&h->thread, NULL, http_main, h) != 0) {
		snprintf(err, errlen, "cannot start the HTTP thread");
		goto fail;
	}
	h->started = true;
	return 0;
fail:
	http_stop(h);
	return -1;
}

void http_set_phase(struct http_server *h, enum http_phase phase)
{
	atomic_store_explicit(&h->phase, (int)phase, memory_order_relaxed);
}

void http_stop(struct http_server *h)
{
	uint64_t one = 1;

	if (h == NULL)
		return;
	if (h->started) {
		atomic_store_explicit(&h->stop, true, memory_order_release);
		if (write(h->wakefd, &one, sizeof(one)) < 0)
			(void)0; /* the 100 ms epoll timeout wakes it anyway */
		pthread_join(h->thread, NULL);
		h->started = false;
	}
	if (h->daemon != NULL)
		MHD_stop_daemon(h->daemon); /* closes its connections */
	h->daemon = NULL;
	if (h->lfd >= 0)
		close(h->lfd);
	if (h->epfd >= 0)
		close(h->epfd);
	if (h->wakefd >= 0)
		close(h->wakefd);
	h->lfd = h->epfd = h->wakefd = -1;
	free(h->conns);
	h->conns = NULL;
}
