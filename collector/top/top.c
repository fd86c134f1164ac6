/* top.c - see top.h. */
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "base/config.h"
#include "base/kafka_topics.h"
#include "base/runfile.h"
#include "peerscope/limits.h"
#include "top/top.h"

#define TOP_ID_MAX	   128
#define TOP_BAR		   10 /* characters of the capacity bar */

struct top_row {
	char id[TOP_ID_MAX];
	/* BGP rows: who, as the bgp_session message says (not its key) */
	char router[64], peer[96];
	double peer_as;		/* < 0: absent */
	char state[16];		/* status, else oper_status */
	char kind[16];		/* direct, exchange, discovered or - */
	char window_end[32];
	char last_change[32];	/* window end when the state last changed */
	double in_bps, out_bps; /* mean; < 0: absent */
	double in_p95, out_p95; /* < 0: absent */
	double util, util_p95;	/* the busier direction's, %; < 0: absent */
	double availability;	/* 0..1; < 0: absent */
	double capacity_bps;	/* 0: unknown */
	double p50_ms, p99_ms;	/* < 0: absent */
	double prefixes;	/* < 0: absent */
};

struct top {
	const char *brokers;
	char brokers_found[1024]; /* from the configuration or runtime_dir */
	const char *brokers_from; /* where brokers came from, for the header */
	const char *metrics_topic;
	const char *sessions_topic;
	struct ps_config cfg; /* --config / --set: brokers, topics, runtime_dir */
	bool once;
	unsigned interval_ms;
	unsigned timeout_s;
	rd_kafka_t *rk;
	unsigned partitions, eof_partitions;
	/* --once: which partitions reached their end ([0] metrics topic). */
	bool eof_seen[2][TOP_MAX_PARTITIONS];
	struct top_row conns[TOP_MAX_ROWS];
	unsigned nconns;
	struct top_row sessions[TOP_MAX_ROWS];
	unsigned nsessions;
	/* connection_metrics and bgp_session messages read, each its own */
	unsigned long long messages, session_messages, unparsed, refused;
};

/* json-c accessors that take NULL (an absent field) as "not there". */
static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static bool jis(struct json_object *v, enum json_type t)
{
	return v != NULL && json_object_is_type(v, t);
}

static bool jis_number(struct json_object *v)
{
	return jis(v, json_type_int) || jis(v, json_type_double);
}

static double num_or(struct json_object *v, double absent)
{
	return jis_number(v) ? json_object_get_double(v) : absent;
}

/*
 * Mean and p95 of one direction: its `rate` (the figures utilisation and
 * status use), else the counters' or the samples' mean without a p95.
 */
static void dir_bps(struct json_object *msg, const char *dir, double *mean,
		    double *p95)
{
	struct json_object *d = jget(msg, dir);
	struct json_object *rate = jget(d, "rate");
	struct json_object *b = jget(d, "counters");

	if (jis(rate, json_type_object)) {
		*mean = num_or(jget(rate, "mean_bits_per_second"), -1);
		*p95 = num_or(jget(rate, "p95_bits_per_second"), -1);
		return;
	}
	if (!jis(b, json_type_object))
		b = jget(d, "samples");
	*mean = num_or(jget(b, "bits_per_second"), -1);
	*p95 = -1;
}

static double max2(double a, double b)
{
	return a > b ? a : b;
}

/*
 * Utilisation in % of the busier direction, mean and p95: the message's
 * `utilisation`, else the mean over capacity_bps; < 0 when unknown.
 */
static void utilisation(struct json_object *msg, struct top_row *r)
{
	struct json_object *u = jget(msg, "utilisation");

	r->util = r->util_p95 = -1;
	if (jis(u, json_type_object)) {
		r->util = 100.0 * max2(num_or(jget(u, "in"), -1),
				       num_or(jget(u, "out"), -1));
		r->util_p95 = 100.0 * max2(num_or(jget(u, "in_p95"), -0.01),
					   num_or(jget(u, "out_p95"), -0.01));
	} else if (r->capacity_bps > 0 && max2(r->in_bps, r->out_bps) >= 0) {
		r->util = 100.0 * max2(r->in_bps, r->out_bps) / r->capacity_bps;
	}
}

/* The connection's kind: the message's, else `discovered` for a
 * discovered one without a status (a configured one has one). */
static void kind_of(struct json_object *msg, char *buf, size_t len)
{
	struct json_object *k = jget(msg, "kind");

	if (jis(k, json_type_string))
		snprintf(buf, len, "%s", json_object_get_string(k));
	else if (json_object_get_boolean(jget(msg, "discovered")) &&
		 !jis(jget(msg, "status"), json_type_string))
		snprintf(buf, len, "discovered");
	else
		snprintf(buf, len, "-");
}

/*
 * Latency of the best source a message carries (connection_metrics
 * latency.<source>, docs/latency.md): a probe of the peer (ICMP, then
 * STAMP, then TCP), else the routers' own figures, most direct first.
 * None: the row shows "-".  The source names are the contract's labels.
 */
static void latency(struct json_object *msg, struct top_row *r)
{
	static const char *const best[] = {
		"probe_icmp", "probe_stamp",	"probe_tcp",
		"tcp_info",   "path_delay",	"tcp_handshake",
		"app_network", "device_transit",
	};
	struct json_object *l = jget(msg, "latency");

	r->p50_ms = r->p99_ms = -1;
	for (size_t i = 0; i < sizeof(best) / sizeof(best[0]); i++) {
		struct json_object *s = jget(l, best[i]);

		if (num_or(jget(s, "count"), 0) > 0) {
			r->p50_ms = num_or(jget(s, "p50_ms"), -1);
			r->p99_ms = num_or(jget(s, "p99_ms"), -1);
			return;
		}
	}
}

/* Prefixes: a number, or an object of numbers (per AFI) summed. */
static double prefixes(struct json_object *msg)
{
	struct json_object *p = jget(msg, "prefixes");
	struct json_object *bgp = jget(msg, "bgp");
	double sum = 0;

	if (p == NULL && bgp != NULL)
		p = jget(bgp, "prefixes");
	if (jis_number(p))
		return json_object_get_double(p);
	if (!jis(p, json_type_object))
		return -1;
	json_object_object_foreach(p, name, v)
	{
		(void)name;
		sum += num_or(v, 0);
	}
	return sum;
}

static struct top_row *row_get(struct top_row *rows, unsigned *n,
			       const char *id, unsigned long long *refused)
{
	for (unsigned i = 0; i < *n; i++)
		if (strcmp(rows[i].id, id) == 0)
			return &rows[i];
	if (*n == TOP_MAX_ROWS) {
		(*refused)++;
		return NULL;
	}
	memset(&rows[*n], 0, sizeof(rows[*n]));
	snprintf(rows[*n].id, sizeof(rows[*n].id), "%s", id);
	return &rows[(*n)++];
}

static void copy_str(char *dst, size_t len, struct json_object *v,
		     const char *def)
{
	snprintf(dst, len, "%s",
		 jis(v, json_type_string) ? json_object_get_string(v) : def);
}

static void row_state(struct top_row *r, const char *state, const char *end)
{
	if (strcmp(r->state, state) != 0)
		snprintf(r->last_change, sizeof(r->last_change), "%s", end);
	snprintf(r->state, sizeof(r->state), "%s", state);
	snprintf(r->window_end, sizeof(r->window_end), "%s", end);
}

static void take_metrics(struct top *t, struct json_object *msg)
{
	struct json_object *w = jget(msg, "window");
	struct json_object *id = jget(msg, "connection_id");
	char state[16], end[32];
	struct top_row *r;

	t->messages++;
	if (!jis(id, json_type_string))
		goto bad;
	r = row_get(t->conns, &t->nconns, json_object_get_string(id),
		    &t->refused);
	if (r == NULL)
		return;
	/* a configured connection's status, else the interface's state */
	copy_str(state, sizeof(state),
		 jis(jget(msg, "status"), json_type_string) ?
			 jget(msg, "status") :
			 jget(msg, "oper_status"),
		 "-");
	copy_str(end, sizeof(end), jget(w, "end"), "-");
	row_state(r, state, end);
	kind_of(msg, r->kind, sizeof(r->kind));
	r->peer_as = num_or(jget(msg, "peer_asn"), -1);
	r->availability = num_or(jget(msg, "availability"), -1);
	dir_bps(msg, "in", &r->in_bps, &r->in_p95);
	dir_bps(msg, "out", &r->out_bps, &r->out_p95);
	r->capacity_bps = num_or(jget(msg, "capacity_bps"), 0);
	utilisation(msg, r);
	latency(msg, r);
	r->prefixes = prefixes(msg);
	return;
bad:
	t->unparsed++;
}

/*
 * Routes of a bgp_session message (schemas/bgp_session.v1): the first of
 * the post-policy, pre-policy and Loc-RIB views present, summed over
 * address families.
 */
static double session_routes(struct json_object *msg)
{
	static const char *const pick[] = { "post_policy", "pre_policy",
					    "loc_rib" };
	struct json_object *views = jget(msg, "views");

	for (size_t i = 0; i < sizeof(pick) / sizeof(pick[0]); i++) {
		struct json_object *v = jget(views, pick[i]);
		double sum = 0;

		if (!jis(v, json_type_object))
			continue;
		json_object_object_foreach(v, fam, f)
		{
			(void)fam;
			sum += num_or(jget(f, "routes"), 0);
		}
		return sum;
	}
	return -1;
}

/* bgp_session: one row per session id (the message key). */
static void take_session(struct top *t, struct json_object *msg,
			 const char *key)
{
	struct json_object *lc = jget(msg, "last_change");
	struct json_object *peer = jget(msg, "peer");
	const char *type;
	char state[16], when[32], addr[64], rd[24];
	struct top_row *r;

	t->session_messages++;
	if (key == NULL || key[0] == '\0') {
		t->unparsed++;
		return;
	}
	r = row_get(t->sessions, &t->nsessions, key, &t->refused);
	if (r == NULL)
		return;
	copy_str(r->router, sizeof(r->router), jget(msg, "router"), "-");
	copy_str(addr, sizeof(addr), jget(peer, "address"), "-");
	copy_str(rd, sizeof(rd), jget(peer, "distinguisher"), "");
	type = jis(jget(peer, "type"), json_type_string) ?
		       json_object_get_string(jget(peer, "type")) :
		       "global";
	/* a VRF's or another instance's peer: its distinguisher tells */
	if (strcmp(type, "global") != 0 && rd[0] != '\0')
		snprintf(r->peer, sizeof(r->peer), "%s rd %s", addr, rd);
	else
		snprintf(r->peer, sizeof(r->peer), "%s", addr);
	r->peer_as = num_or(jget(peer, "asn"), -1);
	copy_str(state, sizeof(state), jget(msg, "state"), "-");
	copy_str(when, sizeof(when), jget(msg, "time"), "-");
	row_state(r, state, when);
	if (jis(lc, json_type_string)) /* the router's own record wins */
		copy_str(r->last_change, sizeof(r->last_change), lc, "-");
	r->prefixes = session_routes(msg);
	r->in_bps = r->out_bps = r->p50_ms = r->p99_ms = -1;
}

static void take(struct top *t, const rd_kafka_message_t *m)
{
	char key[TOP_ID_MAX];
	struct json_tokener *tok;
	const char *type;
	struct json_object *msg;

	tok = json_tokener_new();
	if (tok == NULL || m->len > INT32_MAX) {
		t->unparsed++;
		json_tokener_free(tok);
		return;
	}
	msg = json_tokener_parse_ex(tok, m->payload, (int)m->len);
	if (msg == NULL ||
	    json_tokener_get_error(tok) != json_tokener_success ||
	    !jis(msg, json_type_object)) {
		t->unparsed++;
		json_object_put(msg);
		json_tokener_free(tok);
		return;
	}
	json_tokener_free(tok);
	type = jis(jget(msg, "type"), json_type_string) ?
		       json_object_get_string(jget(msg, "type")) :
		       NULL;
	snprintf(key, sizeof(key), "%.*s",
		 (int)(m->key_len < sizeof(key) ? m->key_len : sizeof(key) - 1),
		 m->key != NULL ? (const char *)m->key : "");
	if (type != NULL && strcmp(type, "connection_metrics") == 0)
		take_metrics(t, msg);
	else if (type != NULL && strcmp(type, "bgp_session") == 0)
		take_session(t, msg, key);
	json_object_put(msg);
}

/* "1.23G" style, 7 columns; "-" when absent. */
static void fmt_rate(char *buf, size_t len, double bps)
{
	static const char *const unit[] = { "", "k", "M", "G", "T" };
	unsigned u = 0;

	if (bps < 0) {
		snprintf(buf, len, "-");
		return;
	}
	while (bps >= 1000 && u < 4) {
		bps /= 1000;
		u++;
	}
	snprintf(buf, len, "%.2f%s", bps, unit[u]);
}

/* v with `decimals` digits, or "-" when absent (negative). */
static void fmt_num(char *buf, size_t len, double v, int decimals)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", decimals, v);
}

static void bar(char *buf, double bps, double capacity)
{
	int fill = 0;

	if (capacity > 0 && bps > 0) {
		fill = (int)(bps / capacity * TOP_BAR + 0.999);
		if (fill > TOP_BAR)
			fill = TOP_BAR;
	}
	for (int i = 0; i < TOP_BAR; i++)
		buf[i] = capacity <= 0 ? ' ' : i < fill ? '#' : '.';
	buf[TOP_BAR] = '\0';
}

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct top_row *)a)->id,
		      ((const struct top_row *)b)->id);
}

/* BGP rows by router, then peer address as text, then the key. */
static int session_cmp(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;
	int c = strcmp(x->router, y->router);

	if (c == 0)
		c = strcmp(x->peer, y->peer);
	return c != 0 ? c : strcmp(x->id, y->id);
}

static void render(struct top *t, FILE *out, bool in_place)
{
	char in[16], outr[16], in95[16], out95[16];
	char bin[TOP_BAR + 1], bout[TOP_BAR + 1];
	char util[16], util95[16], avail[16], as[16], p50[16], p99[16],
		pfx[16];

	if (in_place)
		fputs("\033[H\033[2J", out);
	qsort(t->conns, t->nconns, sizeof(t->conns[0]), row_cmp);
	fprintf(out, "peerscope top  %s%s  %s: %u connections, %llu messages\n",
		t->brokers, t->brokers_from, t->metrics_topic, t->nconns,
		t->messages);
	fprintf(out,
		"%-28s %-9s %-10s %-8s %6s %9s %9s %-10s %9s %9s %-10s %6s "
		"%6s %7s %7s %8s %-24s %s\n",
		"CONNECTION", "STATUS", "KIND", "PEER AS", "AVAIL%",
		"IN bit/s", "IN p95", "", "OUT bit/s", "OUT p95", "", "UTIL%",
		"P95 U%", "P50 ms", "P99 ms", "PREFIXES", "WINDOW END",
		"LAST CHANGE");
	for (unsigned i = 0; i < t->nconns; i++) {
		const struct top_row *r = &t->conns[i];

		fmt_rate(in, sizeof(in), r->in_bps);
		fmt_rate(outr, sizeof(outr), r->out_bps);
		fmt_rate(in95, sizeof(in95), r->in_p95);
		fmt_rate(out95, sizeof(out95), r->out_p95);
		bar(bin, r->in_bps, r->capacity_bps);
		bar(bout, r->out_bps, r->capacity_bps);
		fmt_num(util, sizeof(util), r->util, 2);
		fmt_num(util95, sizeof(util95), r->util_p95, 2);
		fmt_num(avail, sizeof(avail),
			r->availability >= 0 ? 100.0 * r->availability : -1,
			2);
		fmt_num(as, sizeof(as), r->peer_as, 0);
		fmt_num(p50, sizeof(p50), r->p50_ms, 1);
		fmt_num(p99, sizeof(p99), r->p99_ms, 1);
		fmt_num(pfx, sizeof(pfx), r->prefixes, 0);
		fprintf(out,
			"%-28s %-9s %-10s %-8s %6s %9s %9s %-10s %9s %9s %-10s "
			"%6s %6s %7s %7s %8s %-24s %s\n",
			r->id, r->state, r->kind, as, avail, in, in95, bin,
			outr, out95, bout, util, util95, p50, p99, pfx,
			r->window_end, r->last_change);
	}
	if (t->nsessions > 0) {
		qsort(t->sessions, t->nsessions, sizeof(t->sessions[0]),
		      session_cmp);
		fprintf(out, "\n%s: %u BGP sessions, %llu messages\n",
			t->sessions_topic, t->nsessions, t->session_messages);
		fprintf(out, "%-20s %-28s %10s %-12s %8s %s\n", "ROUTER",
			"PEER", "AS", "STATE", "PREFIXES", "LAST CHANGE");
		for (unsigned i = 0; i < t->nsessions; i++) {
			const struct top_row *r = &t->sessions[i];

			fmt_num(pfx, sizeof(pfx), r->prefixes, 0);
			fmt_num(as, sizeof(as), r->peer_as, 0);
			fprintf(out, "%-20s %-28s %10s %-12s %8s %s\n",
				r->router, r->peer, as, r->state, pfx,
				r->last_change);
		}
	}
	if (t->unparsed > 0 || t->refused > 0)
		fprintf(out,
			"(%llu messages not understood, %llu rows over "
			"%d)\n",
			t->unparsed, t->refused, TOP_MAX_ROWS);
	fflush(out);
}

/* Assign every partition of topic from the beginning; partitions added. */
static int assign_topic(struct top *t, rd_kafka_topic_partition_list_t *l,
			const char *topic, bool required)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(t->rk, topic, NULL);
	rd_kafka_resp_err_t err;
	int n = -1;

	if (rkt == NULL)
		return -1;
	err = rd_kafka_metadata(t->rk, 0, rkt, &md, 5000);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
	    md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		n = md->topics[0].partition_cnt;
		for (int i = 0; i < n && l->cnt < TOP_MAX_PARTITIONS; i++)
			rd_kafka_topic_partition_list_add(
				l, topic, md->topics[0].partitions[i].id)
				->offset = RD_KAFKA_OFFSET_BEGINNING;
	}
	if (n < 0 && required)
		fprintf(stderr, "peerscope top: %s: %s\n", topic,
			err != RD_KAFKA_RESP_ERR_NO_ERROR ?
				rd_kafka_err2str(err) :
			md->topic_cnt != 1 ?
				"no such topic" :
				rd_kafka_err2str(md->topics[0].err));
	if (md != NULL)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return n;
}

static int top_connect(struct top *t)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char why[512];

	if (rd_kafka_conf_set(conf, "bootstrap.servers", t->brokers, why,
			      sizeof(why)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.partition.eof", "true", why,
			      sizeof(why)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", why,
			      sizeof(why)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "group.id", "peerscope-top", why,
			      sizeof(why)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "peerscope top: %s\n", why);
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	t->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (t->rk == NULL) {
		fprintf(stderr, "peerscope top: %s\n", why);
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	l = rd_kafka_topic_partition_list_new(16);
	if (assign_topic(t, l, t->metrics_topic, true) < 0) {
		rd_kafka_topic_partition_list_destroy(l);
		return -1;
	}
	(void)assign_topic(t, l, t->sessions_topic, false);
	t->partitions = (unsigned)l->cnt;
	rd_kafka_assign(t->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	return 0;
}

/* Count each partition's first end-of-partition event once. */
static void eof_mark(struct top *t, const rd_kafka_message_t *m)
{
	int which = strcmp(rd_kafka_topic_name(m->rkt), t->metrics_topic) != 0;

	if (m->partition < 0 || m->partition >= TOP_MAX_PARTITIONS ||
	    t->eof_seen[which][m->partition])
		return;
	t->eof_seen[which][m->partition] = true;
	t->eof_partitions++;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(FILE *out)
{
	fputs("usage: peerscope top [options]\n"
	      "  -b, --brokers LIST     bootstrap servers (default: the\n"
	      "                         collector's output.kafka.brokers, or\n"
	      "                         its embedded broker, from\n"
	      "                         runtime_dir/kafka-brokers)\n"
	      "  -c, --config FILE      the collector's configuration: "
	      "brokers,\n"
	      "                         topics and runtime_dir come from it\n"
	      "      --set KEY=VALUE    a key of it, as for the collector\n"
	      "      --topic TOPIC      metrics topic (default "
	      "peerscope.connection.metrics)\n"
	      "      --sessions-topic T bgp_session topic (default "
	      "peerscope.bgp.sessions)\n"
	      "      --once             read to the end, print once, exit\n"
	      "      --interval MS      live refresh (default 1000)\n"
	      "      --timeout SECONDS  --once: give up after (default 10)\n",
	      out);
}

/*
 * Which brokers, when --brokers did not say: the collector's own
 * (output.kafka.brokers), or for "embedded" the address the collector
 * wrote to runtime_dir; else Kafka's usual localhost:9092.
 */
static void brokers_find(struct top *t)
{
	const struct ps_config *cfg = &t->cfg;

	t->brokers_from = "";
	if (t->brokers != NULL)
		return;
	if (strcmp(cfg->kafka.brokers, "embedded") != 0) {
		t->brokers = cfg->kafka.brokers;
		return;
	}
	if (strcmp(cfg->runtime_dir, "-") != 0 &&
	    runfile_read(cfg->runtime_dir, RUNFILE_KAFKA_BROKERS,
			 t->brokers_found, sizeof(t->brokers_found)) == 0) {
		t->brokers = t->brokers_found;
		t->brokers_from = " (embedded)";
		return;
	}
	fprintf(stderr,
		"peerscope top: no embedded broker found (%s/%s); trying "
		"localhost:9092 (--brokers to choose)\n",
		cfg->runtime_dir, RUNFILE_KAFKA_BROKERS);
	t->brokers = "localhost:9092";
}

static int parse(struct top *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 'S' },
		{ "topic", required_argument, NULL, 't' },
		{ "sessions-topic", required_argument, NULL, 's' },
		{ "once", no_argument, NULL, '1' },
		{ "interval", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[600];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "b:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			t->brokers = optarg;
			break;
		case 'c':
			if (config_load(&t->cfg, optarg, err, sizeof(err)) ==
			    -1) {
				fprintf(stderr, "peerscope top: %s\n", err);
				return -1;
			}
			break;
		case 'S':
			if (config_set_pair(&t->cfg, optarg, err,
					    sizeof(err)) == -1) {
				fprintf(stderr, "peerscope top: %s\n", err);
				return -1;
			}
			break;
		case 't':
			t->metrics_topic = optarg;
			break;
		case 's':
			t->sessions_topic = optarg;
			break;
		case '1':
			t->once = true;
			break;
		case 'i':
			t->interval_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'T':
			t->timeout_s = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || t->interval_ms == 0) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int top_main(int argc, char **argv)
{
	struct top *t = calloc(1, sizeof(*t));
	uint64_t deadline, next_draw;
	bool in_place;
	sigset_t set;
	int rc = 0;

	if (t == NULL)
		return 1;
	config_init(&t->cfg);
	t->interval_ms = 1000;
	t->timeout_s = 10;
	if (parse(t, argc, argv) == -1) {
		free(t);
		return 2;
	}
	if (t->metrics_topic == NULL)
		t->metrics_topic =
			kafka_topic_of(&t->cfg.kafka, "connection_metrics");
	if (t->sessions_topic == NULL)
		t->sessions_topic = kafka_topic_of(&t->cfg.kafka, "bgp_session");
	brokers_find(t);
	if (!isatty(STDOUT_FILENO))
		t->once = true;
	in_place = !t->once;
	/* SIGINT/SIGTERM end the live view; checked between polls. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (top_connect(t) == -1) {
		rc = 1;
		goto out;
	}
	deadline = now_ms() + (uint64_t)t->timeout_s * 1000;
	next_draw = now_ms() + t->interval_ms;
	for (;;) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(t->rk, 100);
		struct timespec zero = { 0, 0 };

		if (m != NULL) {
			if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
				eof_mark(t, m);
			else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
				take(t, m);
			else
				fprintf(stderr, "peerscope top: %s\n",
					rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
		}
		if (t->once && t->eof_partitions >= t->partitions)
			break;
		if (t->once && now_ms() >= deadline) {
			fprintf(stderr, "peerscope top: timeout before the end "
					"of every partition\n");
			rc = 1;
			break;
		}
		if (!t->once && now_ms() >= next_draw) {
			render(t, stdout, in_place);
			next_draw = now_ms() + t->interval_ms;
		}
		if (!t->once && sigtimedwait(&set, NULL, &zero) > 0)
			break;
	}
	render(t, stdout, false);
out:
	if (t->rk != NULL) {
		rd_kafka_consumer_close(t->rk);
		rd_kafka_destroy(t->rk);
	}
	free(t);
	return rc;
}
