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
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "netaddr.h"

#define HTTP_BACKLOG 16

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

/* @thread http (MHD's internal thread runs every callback). */
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
	return netaddr_tcp_listen(&ep, HTTP_BACKLOG, "http.listen", fd, err,
				  errlen);
}

int http_start(struct http_server *h, const struct pipeline *p,
	       const struct ps_config *cfg, struct logger *log, char *err,
	       size_t errlen)
{
	int fd;

	memset(h, 0, sizeof(*h));
	if (http_bind(cfg, &fd, err, errlen) == -1)
		return -1;
	return http_start_fd(h, p, cfg, log, fd, err, errlen);
}

int http_start_fd(struct http_server *h, const struct pipeline *p,
		  const struct ps_config *cfg, struct logger *log, int fd,
		  char *err, size_t errlen)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	unsigned per_ip = cfg->http_max_clients / 4;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(h, 0, sizeof(*h));
	h->p = p;
	h->log = log;
	h->start_time_s = (uint64_t)time(NULL);
	atomic_init(&h->phase, HTTP_PHASE_STARTING);
	log_limit_init(&h->limit, LOG_LIMIT_BURST, LOG_LIMIT_PERIOD);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		snprintf(err, errlen, "http.listen %s: %s", cfg->http_listen,
			 strerror(errno));
		close(fd);
		return -1;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * No MHD_USE_ERROR_LOG: MHD would print to stderr in its own format;
	 * what matters to an operator (refused requests) we log ourselves.
	 */
	h->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET,
		fd, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)cfg->http_max_clients,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip > 0 ? per_ip : 1U,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)cfg->http_timeout_seconds,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)HTTP_BACKLOG,
		MHD_OPTION_END);
	if (h->daemon == NULL) {
		snprintf(err, errlen, "http.listen %s: cannot serve",
			 cfg->http_listen);
		close(fd);
		return -1;
	}
	h->port = netaddr_bound_port(fd);
	return 0;
}

void http_set_phase(struct http_server *h, enum http_phase phase)
{
	atomic_store_explicit(&h->phase, (int)phase, memory_order_relaxed);
}

void http_stop(struct http_server *h)
{
	if (h == NULL || h->daemon == NULL)
		return;
	MHD_stop_daemon(h->daemon);
	h->daemon = NULL;
}

int http_serve_replay(struct pipeline *p, const struct ps_config *cfg,
		      uint32_t seconds)
{
	struct http_server h;
	struct logger log;
	struct timespec ts = { .tv_sec = seconds, .tv_nsec = 0 };
	sigset_t set, old;
	char err[256];

	/* The sinks drained after the merger's last window: show that. */
	stats_merger_final(&p->hub, &p->merger);
	log_init(&log, 2);
	log_configure(&log, cfg->log_level, cfg->log_format);
	/* Before the server thread exists, so only sigtimedwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if (http_start(&h, p, cfg, &log, err, sizeof(err)) == -1) {
		log_event(&log, PS_LOG_ERROR, "http_failed", "%s", err);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	http_set_phase(&h, HTTP_PHASE_REPLAY_DONE);
	log_event(&log, PS_LOG_INFO, "http_listening",
		  "serving the replay's metrics on %s port %u for %us",
		  cfg->http_listen, h.port, seconds);
	while (sigtimedwait(&set, NULL, &ts) == -1 && errno == EINTR)
		;
	http_stop(&h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}
