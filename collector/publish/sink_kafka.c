/* sink_kafka.c - see sink_kafka.h. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "base/kafka_topics.h"
#include "base/log.h"
#include "base/runfile.h"
#include "publish/kafka_stats.h"
#include "publish/sink_kafka.h"


#define KAFKA_EMBEDDED_PARTITIONS 3 /* shows keyed partitioning */
#define KAFKA_POLL_MS		  100

static const char *const compression_codec[] = {
	[PS_KAFKA_LZ4] = "lz4",	  [PS_KAFKA_ZSTD] = "zstd",
	[PS_KAFKA_GZIP] = "gzip", [PS_KAFKA_SNAPPY] = "snappy",
	[PS_KAFKA_NONE] = "none",
};

/* A message waiting in the sink's FIFO: key and payload in one block. */
struct kq_msg {
	enum msg_type type;
	char *buf; /* key (keylen bytes) then payload (len bytes) */
	size_t keylen;
	size_t len;
};

struct kafka_sink {
	const struct ps_kafka_config *kc;
	bool replay;
	struct logger *log; /* NULL: say nothing (tests) */
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt[MSG_TYPE_COUNT];
	rd_kafka_t *mock_rk; /* hosts the embedded cluster */
	rd_kafka_mock_cluster_t *mock;
	char bootstraps[1024];
	char topic[MSG_TYPE_COUNT][PS_MAP_VALUE_MAX]; /* in use, per type */

	/* The FIFO in front of librdkafka: a ring of fifo_cap slots. */
	struct kq_msg *fifo;
	uint32_t fifo_cap, fifo_head, fifo_count;
	uint64_t fifo_bytes;

	/* Handed to librdkafka and not yet reported on. */
	uint64_t inflight[MSG_TYPE_COUNT];
	uint64_t inflight_msgs, inflight_bytes;
	uint64_t inflight_max_msgs, inflight_max_bytes;

	bool drained;	  /* reports after the drain count as undelivered */
	uint64_t errors;  /* error_cb events (broker down, transport...) */
	uint64_t retries; /* messages sent again (stats_cb) */
	struct sink_kafka_counters c[MSG_TYPE_COUNT];
	uint64_t logged_failed[MSG_TYPE_COUNT];

	/*
	 * Health (sink.h's healthy op), merger-owned like the counters:
	 * callbacks run inside kafka_poll(), which stamps poll_ns first.
	 */
	uint64_t poll_ns;
	int brokers_up;		/* last statistics report; -1 before one */
	uint64_t reachable_ns;	/* a broker last seen up (or the open) */
	uint64_t delivered_ns;	/* the last delivery without error */
	uint64_t failed_since;	/* delivery failures since that one */
	uint64_t waiting_since_ns; /* the queue last went from empty */
	char last_error[200];	/* error_cb's latest, for the reason */

	/* SIGHUP re-creation (sinkswap.h) */
	struct kafka_sink *broker_from; /* while opening: its embedded one */
	bool broker_borrowed;		/* mock/mock_rk are broker_from's */
	struct sink_kafka_totals base; /* of the producers before, in c too */
};

/* Log the 1st, 2nd, 4th, 8th... occurrence: visible, never a flood. */
static bool should_log(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kafka_sink *k = opaque;
	enum msg_type t = (enum msg_type)(uintptr_t)m->_private;
	uint64_t bytes = m->len + m->key_len;

	(void)rk;
	k->inflight[t]--;
	k->inflight_msgs--;
	k->inflight_bytes -= bytes;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		k->c[t].delivered++;
		k->delivered_ns = k->poll_ns;
		k->failed_since = 0;
		return;
	}
	if (k->drained && m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE) {
		k->c[t].undelivered++;
		return;
	}
	if (k->drained && m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
		k->c[t].undelivered++;
		return;
	}
	k->c[t].failed++;
	k->failed_since++;
	if (k->log != NULL && should_log(++k->logged_failed[t]))
		log_event_fields(k->log, PS_LOG_WARN, "kafka_delivery_failed",
				 LOG_FIELDS({ "topic",
					      rd_kafka_topic_name(m->rkt) },
					    { "error", rd_kafka_err2name(
							       m->err) }),
				 "%s: delivery failed: %s (%llu so far)",
				 rd_kafka_topic_name(m->rkt),
				 rd_kafka_err2str(m->err),
				 (unsigned long long)k->c[t].failed);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_sink *k = opaque;

	(void)rk;
	snprintf(k->last_error, sizeof(k->last_error), "%s", reason);
	/* said at once; a statistics report says when one is back */
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		k->brokers_up = 0;
	if (k->log != NULL && should_log(++k->errors))
		log_event_fields(k->log, PS_LOG_WARN, "kafka_error",
				 LOG_FIELDS({ "error",
					      rd_kafka_err2name(
						      (rd_kafka_resp_err_t)err) }),
				 "%s (%llu errors so far)", reason,
				 (unsigned long long)k->errors);
}

/* librdkafka's syslog levels onto ours. */
static enum ps_log_level log_level_of(int syslog_level)
{
	return syslog_level <= 3 ? PS_LOG_ERROR :
	       syslog_level == 4 ? PS_LOG_WARN :
	       syslog_level <= 6 ? PS_LOG_INFO :
				   PS_LOG_DEBUG;
}

static void log_line(struct logger *lg, const rd_kafka_t *rk, int level,
		     const char *fac, const char *buf)
{
	if (lg != NULL)
		log_event_fields(lg, log_level_of(level), "kafka_log",
				 LOG_FIELDS({ "facility", fac },
					    { "client", rd_kafka_name(rk) }),
				 "%s", buf);
}

/*
 * librdkafka's own lines ("%3|...|FAIL|..." on stderr by default) as our
 * events, from its threads: log_event() takes no lock and writes a line
 * at once.  The producer's opaque is its sink, which outlives it.
 */
static void producer_log_cb(const rd_kafka_t *rk, int level, const char *fac,
			    const char *buf)
{
	const struct kafka_sink *k = rd_kafka_opaque(rk);

	log_line(k != NULL ? k->log : NULL, rk, level, fac, buf);
}

/* The embedded broker's handle moves between sinks: its opaque is the
 * logger itself, which lives as long as the process. */
static void broker_log_cb(const rd_kafka_t *rk, int level, const char *fac,
			  const char *buf)
{
	log_line(rd_kafka_opaque(rk), rk, level, fac, buf);
}

/*
 * librdkafka's statistics (statistics.interval.ms, 1 s by default here)
 * are the only place it says how often it sent messages again: its
 * top-level "txmsgs" counts every transmission, retransmissions after a
 * retriable error included.  Transmissions beyond the messages that got a
 * report (or still wait) are retries.  The figure is exact once nothing is
 * in flight, and only grows.
 */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	struct kafka_sink *k = opaque;
	uint64_t reported = k->inflight_msgs, txmsgs;
	struct kafka_stats st;

	(void)rk;
	if (kafka_stats_parse(json, len, &st) == -1)
		return 0;
	k->brokers_up = (int)st.brokers_up;
	if (st.brokers_up > 0)
		k->reachable_ns = k->poll_ns;
	if (st.has_txmsgs) {
		txmsgs = st.txmsgs;
		/* This producer's own reports: not its predecessors'. */
		for (int t = 0; t < MSG_TYPE_COUNT; t++)
			reported += k->c[t].delivered + k->c[t].failed -
				    k->base.c[t].delivered -
				    k->base.c[t].failed;
		if (txmsgs > reported &&
		    k->base.retries + txmsgs - reported > k->retries)
			k->retries = k->base.retries + txmsgs - reported;
	}
	return 0; /* librdkafka frees json */
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Every rd_kafka_poll(): the callbacks it runs read poll_ns. */
static void kafka_poll(struct kafka_sink *k, int timeout_ms)
{
	k->poll_ns = mono_ns();
	rd_kafka_poll(k->rk, timeout_ms);
}

static uint64_t kafka_waiting(const struct kafka_sink *k)
{
	return k->fifo_count + k->inflight_msgs;
}

static void kq_free(struct kq_msg *q)
{
	free(q->buf);
	q->buf = NULL;
}

static struct kq_msg *fifo_front(struct kafka_sink *k)
{
	return &k->fifo[k->fifo_head];
}

static void fifo_pop(struct kafka_sink *k)
{
	struct kq_msg *q = fifo_front(k);

	k->fifo_bytes -= q->keylen + q->len;
	kq_free(q);
	k->fifo_head = (k->fifo_head + 1) % k->fifo_cap;
	k->fifo_count--;
}

/*
 * Hand one message to librdkafka, which copies it (RD_KAFKA_MSG_F_COPY):
 * 0, 1 if it must wait (QUEUE_FULL), -1 if refused (counted here).
 */
static int kafka_produce(struct kafka_sink *k, enum msg_type type,
			 const char *key, size_t keylen, const char *payload,
			 size_t len)
{
	const struct msg_info *mi = msg_info(type);
	char version[16];
	rd_kafka_resp_err_t err;

	snprintf(version, sizeof(version), "%u", mi->version);
	/* VALUE is a non-const void * in the API; with F_COPY it is only read. */
	err = rd_kafka_producev(
		k->rk, RD_KAFKA_V_RKT(k->rkt[type]),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		RD_KAFKA_V_KEY(key, keylen),
		RD_KAFKA_V_VALUE((char *)payload, len),
		RD_KAFKA_V_HEADER("type", mi->type, -1),
		RD_KAFKA_V_HEADER("schema_version", version, -1),
		RD_KAFKA_V_OPAQUE((void *)(uintptr_t)type), RD_KAFKA_V_END);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		k->inflight[type]++;
		k->inflight_msgs++;
		k->inflight_bytes += keylen + len;
		return 0;
	}
	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
		return 1;
	if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
		if (should_log(++k->c[type].too_large) && k->log != NULL)
			log_event_fields(
				k->log, PS_LOG_WARN, "kafka_message_too_large",
				LOG_FIELDS({ "topic",
					     rd_kafka_topic_name(k->rkt[type]) }),
				"message of %zu bytes over message.max.bytes "
				"(%llu so far)",
				len, (unsigned long long)k->c[type].too_large);
		return -1;
	}
	if (should_log(++k->c[type].failed) && k->log != NULL)
		log_event_fields(k->log, PS_LOG_WARN, "kafka_produce_failed",
				 LOG_FIELDS({ "topic",
					      rd_kafka_topic_name(k->rkt[type]) }),
				 "produce: %s", rd_kafka_err2str(err));
	return -1;
}

/* Move FIFO messages into librdkafka while its half of the bound allows. */
static void kafka_pump(struct kafka_sink *k)
{
	while (k->fifo_count > 0 && k->inflight_msgs < k->inflight_max_msgs) {
		struct kq_msg *q = fifo_front(k);

		if (k->inflight_msgs > 0 &&
		    k->inflight_bytes + q->keylen + q->len >
			    k->inflight_max_bytes)
			return;
		if (kafka_produce(k, q->type, q->buf, q->keylen,
				  q->buf + q->keylen, q->len) == 1)
			return;
		fifo_pop(k);
	}
}

static int kafka_publish(struct sink *s, enum msg_type type, const char *key,
			 const char *json, size_t len)
{
	struct kafka_sink *k = s->ctx;
	size_t keylen = key != NULL ? strlen(key) : 0;
	uint64_t size = keylen + len;
	struct kq_msg *q;

	kafka_poll(k, 0); /* serve delivery reports */
	if (kafka_waiting(k) == 0)
		k->waiting_since_ns = k->poll_ns;
	k->c[type].accepted++;
	if (size > k->inflight_max_bytes) {
		/* Could never be held within the byte bound. */
		if (should_log(++k->c[type].too_large) && k->log != NULL)
			log_event(k->log, PS_LOG_WARN,
				  "kafka_message_too_large",
				  "message of %zu bytes over half of "
				  "output.kafka.queue.bytes",
				  len);
		return -1;
	}
	/*
	 * Fast path, the usual case: nothing waits and librdkafka's half has
	 * room, so it copies straight from the caller's buffers.
	 */
	if (k->fifo_count == 0 && k->inflight_msgs < k->inflight_max_msgs &&
	    (k->inflight_msgs == 0 ||
	     k->inflight_bytes + size <= k->inflight_max_bytes)) {
		int rc = kafka_produce(k, type, key, keylen, json, len);

		if (rc != 1)
			return rc;
	}
	while (k->fifo_count + k->inflight_msgs + 1 > k->kc->queue_messages ||
	       k->fifo_bytes + k->inflight_bytes + size > k->kc->queue_bytes ||
	       k->fifo_count == k->fifo_cap) {
		if (k->kc->drop == PS_KAFKA_DROP_NEWEST || k->fifo_count == 0) {
			k->c[type].dropped++;
			return 0;
		}
		k->c[fifo_front(k)->type].dropped++;
		fifo_pop(k);
	}
	q = &k->fifo[(k->fifo_head + k->fifo_count) % k->fifo_cap];
	q->buf = malloc(size > 0 ? size : 1);
	if (q->buf == NULL) {
		k->c[type].dropped++;
		return -1;
	}
	if (keylen > 0)
		memcpy(q->buf, key, keylen);
	memcpy(q->buf + keylen, json, len);
	q->type = type;
	q->keylen = keylen;
	q->len = len;
	k->fifo_count++;
	k->fifo_bytes += size;
	kafka_pump(k);
	return 0;
}

/*
 * Once per window, and from the merger's tick (sink.h's service op) at
 * least every XPUB_PERIOD_NS: serve reports and statistics, move waiting
 * messages on; never block.
 */
static void kafka_service(struct sink *s)
{
	struct kafka_sink *k = s->ctx;

	kafka_poll(k, 0);
	kafka_pump(k);
}

static int kafka_flush(struct sink *s)
{
	kafka_service(s);
	return 0;
}

/*
 * Down (sink.h) when, for output.kafka.down_after_ms, no broker was
 * reachable, or deliveries failed without one succeeding, or messages
 * waited without any delivered: librdkafka retries for ever (message
 * expiry is off by default), so only time tells an outage from a blip.
 */
static bool kafka_healthy(struct sink *s, uint64_t now_ns, char *why,
			  size_t whylen)
{
	const struct kafka_sink *k = s->ctx;
	uint64_t limit = (uint64_t)k->kc->down_after_ms * 1000000ULL;
	uint64_t since = k->delivered_ns > k->waiting_since_ns ?
				 k->delivered_ns :
				 k->waiting_since_ns;

	if (k->brokers_up == 0 && now_ns - k->reachable_ns >= limit) {
		snprintf(why, whylen, "no broker reachable for %llu s%s%s",
			 (unsigned long long)((now_ns - k->reachable_ns) /
					      1000000000ULL),
			 k->last_error[0] ? ": " : "", k->last_error);
		return false;
	}
	if (kafka_waiting(k) == 0 || now_ns - since < limit)
		return true;
	if (k->failed_since > 0)
		snprintf(why, whylen,
			 "deliveries failing: %llu failed, none delivered for "
			 "%llu s",
			 (unsigned long long)k->failed_since,
			 (unsigned long long)((now_ns - since) / 1000000000ULL));
	else
		snprintf(why, whylen,
			 "deliveries stalled: %llu messages waiting, none "
			 "delivered for %llu s",
			 (unsigned long long)kafka_waiting(k),
			 (unsigned long long)((now_ns - since) / 1000000000ULL));
	return false;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void sink_kafka_drain(struct sink *s)
{
	struct kafka_sink *k = s->ctx;
	uint64_t deadline;

	if (k == NULL || k->drained)
		return;
	deadline = now_ms() + k->kc->flush_timeout_ms;
	for (;;) {
		kafka_pump(k);
		if (k->fifo_count == 0 && k->inflight_msgs == 0)
			break;
		if (now_ms() >= deadline)
			break;
		kafka_poll(k, KAFKA_POLL_MS);
	}
	k->drained = true;
	while (k->fifo_count > 0) {
		k->c[fifo_front(k)->type].undelivered++;
		fifo_pop(k);
	}
	if (k->inflight_msgs > 0) {
		/* Purged messages report __PURGE_*: counted undelivered. */
		rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE |
					      RD_KAFKA_PURGE_F_INFLIGHT |
					      RD_KAFKA_PURGE_F_NON_BLOCKING);
		for (int i = 0; i < 50 && k->inflight_msgs > 0; i++)
			kafka_poll(k, KAFKA_POLL_MS);
		/* Any message librdkafka never reported on is lost to us. */
		for (int t = 0; t < MSG_TYPE_COUNT; t++) {
			k->c[t].undelivered += k->inflight[t];
			k->inflight[t] = 0;
		}
		k->inflight_msgs = 0;
		k->inflight_bytes = 0;
	}
}

/*
 * Set by a SIGINT/SIGTERM during kafka_serve().  A handler rather than a
 * blocked mask: threads we did not create (other subsystems, libraries)
 * may leave the signals unblocked, and the default action would then kill
 * the process wherever the signal lands.  The one mutable global of this
 * file; a signal handler can reach nothing else.
 */
static volatile sig_atomic_t serve_stop;

static void serve_on_signal(int sig)
{
	(void)sig;
	serve_stop = 1;
}

/* Replay + embedded broker: stay up for consumers, until time or signal. */
static void kafka_serve(struct kafka_sink *k)
{
	struct sigaction sa, old_int, old_term;
	struct timespec tick = { 0, KAFKA_POLL_MS * 1000000L };
	uint64_t deadline = now_ms() + (uint64_t)k->kc->serve_seconds * 1000;
	sigset_t set, old;

	if (k->log != NULL)
		log_event_fields(k->log, PS_LOG_INFO, "kafka_serving",
				 LOG_FIELDS({ "brokers", k->bootstraps }),
				 "the embedded broker stays up %u s for "
				 "consumers (SIGINT or SIGTERM to stop)",
				 k->kc->serve_seconds);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = serve_on_signal;
	sigemptyset(&sa.sa_mask);
	serve_stop = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &set, &old);
	while (!serve_stop && now_ms() < deadline)
		nanosleep(&tick, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
}

static void kafka_close(struct sink *s)
{
	struct kafka_sink *k = s->ctx;

	if (k == NULL)
		return;
	if (k->rk != NULL) {
		sink_kafka_drain(s);
		for (int t = 0; t < MSG_TYPE_COUNT; t++)
			if (k->rkt[t] != NULL)
				rd_kafka_topic_destroy(k->rkt[t]);
		rd_kafka_destroy(k->rk);
	}
	if (k->mock != NULL && k->replay && k->kc->serve_seconds > 0)
		kafka_serve(k);
	if (k->mock != NULL)
		rd_kafka_mock_cluster_destroy(k->mock);
	if (k->mock_rk != NULL)
		rd_kafka_destroy(k->mock_rk);
	free(k->fifo);
	free(k);
	s->ctx = NULL;
}

static const struct sink_ops kafka_ops = {
	.name = "kafka",
	.publish = kafka_publish,
	.flush = kafka_flush,
	.close = kafka_close,
	.service = kafka_service,
	.healthy = kafka_healthy,
};

static int conf_put(rd_kafka_conf_t *conf, const char *key, const char *name,
		    const char *value, char *err, size_t errlen)
{
	char why[512];

	if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) ==
	    RD_KAFKA_CONF_OK)
		return 0;
	snprintf(err, errlen, "%s: %s: %s", key, name, why);
	return -1;
}

/* The embedded broker: a mock cluster on its own handle, on loopback. */
static int embedded_start(struct kafka_sink *k, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char why[512];

	/*
	 * The hosting handle never produces: it has no brokers, and its
	 * warning saying so would only confuse (log_level 3 = errors).
	 */
	if (conf_put(conf, "output.kafka.brokers", "log_level", "3", err,
		     errlen) == -1) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	rd_kafka_conf_set_log_cb(conf, broker_log_cb);
	rd_kafka_conf_set_opaque(conf, k->log);
	k->mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (k->mock_rk == NULL) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, errlen, "output.kafka.brokers: embedded: %s",
			 why);
		return -1;
	}
	k->mock = rd_kafka_mock_cluster_new(k->mock_rk, 1);
	if (k->mock == NULL) {
		snprintf(err, errlen,
			 "output.kafka.brokers: embedded: cannot start the "
			 "mock cluster");
		return -1;
	}
	snprintf(k->bootstraps, sizeof(k->bootstraps), "%s",
		 rd_kafka_mock_cluster_bootstraps(k->mock));
	if (k->log != NULL)
		log_event_fields(k->log, PS_LOG_INFO, "kafka_embedded_broker",
				 LOG_FIELDS({ "brokers", k->bootstraps }),
				 "embedded Kafka-protocol broker started on "
				 "loopback");
	return 0;
}

/* Every broker host must resolve: a typo is a start-up error. */
static int brokers_check(const char *list, char *err, size_t errlen)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		char item[256], *host = item, *port;
		struct addrinfo hints, *res = NULL;
		int rc;

		if (n == 0 || n >= sizeof(item)) {
			snprintf(err, errlen,
				 "output.kafka.brokers: bad entry in \"%s\"",
				 list);
			return -1;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		p += n + (p[n] == ',');
		if (strstr(host, "://") != NULL) /* PLAINTEXT://host:port */
			host = strstr(host, "://") + 3;
		if (host[0] == '[') { /* [IPv6]:port */
			port = strchr(host, ']');
			host++;
			if (port != NULL)
				*port++ = '\0';
		} else {
			port = strrchr(host, ':');
			if (port != NULL)
				*port = '\0';
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		rc = getaddrinfo(host, NULL, &hints, &res);
		if (rc != 0) {
			snprintf(err, errlen,
				 "output.kafka.brokers: %s: cannot resolve: %s",
				 host, gai_strerror(rc));
			return -1;
		}
		freeaddrinfo(res);
	}
	return 0;
}

static void topics_resolve(struct kafka_sink *k)
{
	for (int t = 0; t < MSG_TYPE_COUNT; t++) {
		const char *name = msg_info((enum msg_type)t)->type;
		const char *topic = kafka_topic_of(k->kc, name);

		if (topic != NULL)
			snprintf(k->topic[t], sizeof(k->topic[t]), "%s", topic);
		else
			snprintf(k->topic[t], sizeof(k->topic[t]),
				 "peerscope.%s", name);
	}
}

static int topics_check(const struct ps_kafka_config *kc, char *err,
			size_t errlen)
{
	for (uint32_t i = 0; i < kc->topics.count; i++) {
		int t;

		for (t = 0; t < MSG_TYPE_COUNT; t++)
			if (strcmp(kc->topics.e[i].name, msg_info(t)->type) ==
			    0)
				break;
		if (t == MSG_TYPE_COUNT) {
			snprintf(err, errlen,
				 "output.kafka.topics: %s: not a message type",
				 kc->topics.e[i].name);
			return -1;
		}
		if (kc->topics.e[i].value[0] == '\0') {
			snprintf(err, errlen,
				 "output.kafka.topics: %s: empty topic name",
				 kc->topics.e[i].name);
			return -1;
		}
	}
	return 0;
}

static int producer_conf(struct kafka_sink *k, rd_kafka_conf_t *conf, char *err,
			 size_t errlen)
{
	const struct ps_kafka_config *kc = k->kc;
	char num[32];

	if (conf_put(conf, "output.kafka.brokers", "bootstrap.servers",
		     k->bootstraps, err, errlen) == -1 ||
	    conf_put(conf, "output.kafka.compression", "compression.codec",
		     compression_codec[kc->compression], err, errlen) == -1 ||
	    conf_put(conf, "output.kafka", "enable.idempotence", "true", err,
		     errlen) == -1)
		return -1;
	if (conf_put(conf, "output.kafka", "statistics.interval.ms", "1000",
		     err, errlen) == -1)
		return -1;
	snprintf(num, sizeof(num), "%u", kc->message_timeout_ms);
	if (conf_put(conf, "output.kafka.message_timeout_ms",
		     "message.timeout.ms", num, err, errlen) == -1)
		return -1;
	/* Headroom over our own half of the bound: QUEUE_FULL stays rare. */
	snprintf(num, sizeof(num), "%llu",
		 (unsigned long long)k->inflight_max_msgs + 1024);
	if (conf_put(conf, "output.kafka.queue.messages",
		     "queue.buffering.max.messages", num, err, errlen) == -1)
		return -1;
	snprintf(num, sizeof(num), "%llu",
		 (unsigned long long)(k->inflight_max_bytes / 1024 + 1024));
	if (conf_put(conf, "output.kafka.queue.bytes",
		     "queue.buffering.max.kbytes", num, err, errlen) == -1)
		return -1;
	for (uint32_t i = 0; i < kc->properties.count; i++)
		if (conf_put(conf, "output.kafka.properties",
			     kc->properties.e[i].name,
			     kc->properties.e[i].value, err, errlen) == -1)
			return -1;
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_stats_cb(conf, stats_cb);
	rd_kafka_conf_set_log_cb(conf, producer_log_cb);
	rd_kafka_conf_set_opaque(conf, k);
	return 0;
}

static int kafka_start(struct sink *s, struct kafka_sink *k, char *err,
		       size_t errlen);

static int kafka_open(struct sink *s, const struct ps_kafka_config *kc,
		      bool replay, struct sink *old, struct logger *log,
		      char *err, size_t errlen);

int sink_kafka_open(struct sink *s, const struct ps_kafka_config *kc,
		    bool replay, struct logger *log, char *err, size_t errlen)
{
	return kafka_open(s, kc, replay, NULL, log, err, errlen);
}

int sink_kafka_open_beside(struct sink *s, const struct ps_kafka_config *kc,
			   struct sink *old, struct logger *log, char *err,
			   size_t errlen)
{
	return kafka_open(s, kc, false, old, log, err, errlen);
}

/*
 * The embedded broker changes hands only once the new producer is up: on
 * failure the old producer keeps it (and the half-open sink, closed by
 * the caller, must not destroy it).
 */
static void broker_settle(struct kafka_sink *k, bool opened)
{
	if (!k->broker_borrowed)
		return;
	if (opened) {
		k->broker_from->mock = NULL;
		k->broker_from->mock_rk = NULL;
	} else {
		k->mock = NULL;
		k->mock_rk = NULL;
	}
	k->broker_borrowed = false;
}

static int kafka_open(struct sink *s, const struct ps_kafka_config *kc,
		      bool replay, struct sink *old, struct logger *log,
		      char *err, size_t errlen)
{
	struct kafka_sink *k;
	sigset_t set, mask;
	int rc;

	memset(s, 0, sizeof(*s));
	s->ops = &kafka_ops;
	if (topics_check(kc, err, errlen) == -1)
		return -1;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		goto err_oom;
	s->ctx = k;
	k->kc = kc;
	k->replay = replay;
	k->log = log;
	/* a fresh producer gets down_after_ms to reach a broker */
	k->brokers_up = -1;
	k->poll_ns = k->reachable_ns = mono_ns();
	k->broker_from = old != NULL ? old->ctx : NULL;
	topics_resolve(k);
	/* Half the bound for librdkafka, half for the FIFO (header). */
	k->inflight_max_msgs = (kc->queue_messages + 1) / 2;
	k->inflight_max_bytes = ((uint64_t)kc->queue_bytes + 1) / 2;
	k->fifo_cap = kc->queue_messages;
	k->fifo = calloc(k->fifo_cap, sizeof(*k->fifo));
	if (k->fifo == NULL)
		goto err_oom;

	/*
	 * librdkafka's threads (the mock cluster's too) inherit our signal
	 * mask: with SIGINT/SIGTERM blocked there, only the main thread's
	 * sigwait()/sigtimedwait() sees them, and a stop request never
	 * kills the process through a helper thread.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &mask);
	rc = kafka_start(s, k, err, errlen);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	broker_settle(k, rc == 0);
	k->broker_from = NULL;
	return rc;

err_oom:
	snprintf(err, errlen, "output.kafka: out of memory");
	return -1;
}

/* sink_kafka_open(), past the allocations: the librdkafka handles. */
static int kafka_start(struct sink *s, struct kafka_sink *k, char *err,
		       size_t errlen)
{
	const struct ps_kafka_config *kc = k->kc;
	rd_kafka_conf_t *conf;
	char why[512];

	(void)s;
	if (strcmp(kc->brokers, "embedded") == 0) {
		if (k->broker_from != NULL && k->broker_from->mock != NULL) {
			k->mock = k->broker_from->mock;
			k->mock_rk = k->broker_from->mock_rk;
			k->broker_borrowed = true;
			snprintf(k->bootstraps, sizeof(k->bootstraps), "%s",
				 k->broker_from->bootstraps);
		} else if (embedded_start(k, err, errlen) == -1) {
			return -1;
		}
		for (int t = 0; t < MSG_TYPE_COUNT; t++)
			rd_kafka_mock_topic_create(k->mock, k->topic[t],
						   KAFKA_EMBEDDED_PARTITIONS,
						   1);
	} else {
		if (brokers_check(kc->brokers, err, errlen) == -1)
			return -1;
		snprintf(k->bootstraps, sizeof(k->bootstraps), "%s",
			 kc->brokers);
	}

	conf = rd_kafka_conf_new();
	if (producer_conf(k, conf, err, errlen) == -1) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (k->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, errlen, "output.kafka: %s", why);
		return -1;
	}
	for (int t = 0; t < MSG_TYPE_COUNT; t++) {
		k->rkt[t] = rd_kafka_topic_new(k->rk, k->topic[t], NULL);
		if (k->rkt[t] == NULL) {
			snprintf(err, errlen, "output.kafka.topics: %s: %s",
				 k->topic[t],
				 rd_kafka_err2str(rd_kafka_last_error()));
			return -1;
		}
	}
	return 0;
}

/* librdkafka's lines while checking are the check's business alone. */
static void log_quiet(const rd_kafka_t *rk, int level, const char *fac,
		      const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

int sink_kafka_check(const struct ps_kafka_config *kc, char *err,
		     size_t errlen)
{
	struct kafka_sink *k = calloc(1, sizeof(*k));
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	char why[512];
	int rc = -1;

	if (k == NULL) {
		snprintf(err, errlen, "output.kafka: out of memory");
		return -1;
	}
	k->kc = kc;
	k->inflight_max_msgs = (kc->queue_messages + 1) / 2;
	k->inflight_max_bytes = ((uint64_t)kc->queue_bytes + 1) / 2;
	if (topics_check(kc, err, errlen) == -1)
		goto out;
	if (strcmp(kc->brokers, "embedded") != 0) {
		if (brokers_check(kc->brokers, err, errlen) == -1)
			goto out;
		snprintf(k->bootstraps, sizeof(k->bootstraps), "%s",
			 kc->brokers);
	}
	conf = rd_kafka_conf_new();
	if (producer_conf(k, conf, err, errlen) == -1) {
		rd_kafka_conf_destroy(conf);
		goto out;
	}
	rd_kafka_conf_set_log_cb(conf, log_quiet);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, errlen, "output.kafka.properties: %s", why);
		goto out;
	}
	rd_kafka_destroy(rk);
	rc = 0;
out:
	free(k);
	return rc;
}

const struct sink_kafka_counters *sink_kafka_counters(const struct sink *s,
						      enum msg_type t)
{
	const struct kafka_sink *k = s->ctx;

	return &k->c[t];
}

uint64_t sink_kafka_retries(const struct sink *s)
{
	const struct kafka_sink *k = s->ctx;

	return k->retries;
}

void sink_kafka_totals_get(const struct sink *s, struct sink_kafka_totals *t)
{
	const struct kafka_sink *k = s->ctx;

	memset(t, 0, sizeof(*t));
	if (k == NULL)
		return;
	for (int i = 0; i < MSG_TYPE_COUNT; i++) {
		t->c[i] = k->c[i];
		t->c[i].dropped += t->c[i].undelivered;
		t->c[i].undelivered = 0;
	}
	t->errors = k->errors;
	t->retries = k->retries;
}

void sink_kafka_set_base(struct sink *s, const struct sink_kafka_totals *t)
{
	struct kafka_sink *k = s->ctx;

	for (int i = 0; i < MSG_TYPE_COUNT; i++) {
		struct sink_kafka_counters *c = &k->c[i];
		const struct sink_kafka_counters *b = &t->c[i];

		c->accepted += b->accepted;
		c->delivered += b->delivered;
		c->failed += b->failed;
		c->dropped += b->dropped;
		c->too_large += b->too_large;
		c->undelivered += b->undelivered;
	}
	k->errors += t->errors;
	k->retries += t->retries;
	k->base = *t;
}

bool sink_kafka_embedded(const struct sink *s)
{
	const struct kafka_sink *k = s->ctx;

	return k != NULL && k->mock != NULL;
}

void sink_kafka_tell_address(const struct sink *s, const struct ps_config *cfg,
			     struct logger *log)
{
	const struct kafka_sink *k = s->ctx;
	char err[600];

	if (!sink_kafka_embedded(s) ||
	    runfile_write(cfg, RUNFILE_KAFKA_BROKERS, k->bootstraps, err,
			  sizeof(err)) == 0)
		return;
	if (log != NULL)
		log_event(log, PS_LOG_WARN, "runtime_file_failed",
			  "%s; peerscope top needs --brokers %s", err,
			  k->bootstraps);
}

const char *sink_kafka_bootstraps(const struct sink *s)
{
	const struct kafka_sink *k = s->ctx;

	return k->bootstraps;
}

void sink_kafka_summary(const struct sink *s, FILE *out)
{
	const struct kafka_sink *k = s->ctx;

	if (k == NULL)
		return;
	for (int t = 0; t < MSG_TYPE_COUNT && k->rk != NULL; t++) {
		const struct sink_kafka_counters *c = &k->c[t];

		fprintf(out,
			"summary: kafka %s accepted=%llu delivered=%llu "
			"failed=%llu dropped=%llu too_large=%llu "
			"undelivered=%llu\n",
			k->topic[t], (unsigned long long)c->accepted,
			(unsigned long long)c->delivered,
			(unsigned long long)c->failed,
			(unsigned long long)c->dropped,
			(unsigned long long)c->too_large,
			(unsigned long long)c->undelivered);
	}
	fprintf(out, "summary: kafka brokers=%s errors=%llu retries=%llu\n",
		k->bootstraps, (unsigned long long)k->errors,
		(unsigned long long)k->retries);
}

void sink_kafka_stats_json(const struct sink *s, struct jbuf *j)
{
	const struct kafka_sink *k = s->ctx;

	if (k == NULL)
		return;
	json_obj_begin(j, "kafka");
	json_str(j, "brokers", k->bootstraps);
	for (int t = 0; t < MSG_TYPE_COUNT; t++) {
		const struct sink_kafka_counters *c = &k->c[t];

		json_obj_begin(j, k->topic[t]);
		json_u64(j, "accepted", c->accepted);
		json_u64(j, "delivered", c->delivered);
		json_u64(j, "failed", c->failed);
		json_u64(j, "dropped", c->dropped);
		json_u64(j, "too_large", c->too_large);
		json_u64(j, "undelivered", c->undelivered);
		json_obj_end(j);
	}
	json_u64(j, "errors", k->errors);
	json_u64(j, "retries", k->retries);
	json_obj_end(j);
}
