/*
 * test_sink_kafka.c - the Kafka sink against librdkafka's mock cluster,
 * started here (not the sink's embedded one) so the test can take its
 * broker down and up.  What arrived is read back with a plain librdkafka
 * consumer, and the expected sequences are written out by hand from the
 * bound arithmetic documented in sink_kafka.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "base/config.h"
#include "publish/sink_kafka.h"

#define TOPIC "peerscope.connection.metrics"

struct fixture {
	rd_kafka_t *host;
	rd_kafka_mock_cluster_t *mc;
	struct ps_config cfg;
	struct sink s;
};

static struct fixture *fixture_new(uint32_t queue_messages,
				   enum ps_kafka_drop drop)
{
	static struct fixture f; /* 100+ KB of config: off the stack */
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512];

	memset(&f, 0, sizeof(f));
	assert_int_equal(
		rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err)),
		RD_KAFKA_CONF_OK);
	f.host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	assert_non_null(f.host);
	f.mc = rd_kafka_mock_cluster_new(f.host, 1);
	assert_non_null(f.mc);
	assert_int_equal(rd_kafka_mock_topic_create(f.mc, TOPIC, 1, 1), 0);
	config_init(&f.cfg);
	f.cfg.kafka.enabled = true;
	snprintf(f.cfg.kafka.brokers, sizeof(f.cfg.kafka.brokers), "%s",
		 rd_kafka_mock_cluster_bootstraps(f.mc));
	f.cfg.kafka.queue_messages = queue_messages;
	f.cfg.kafka.drop = drop;
	f.cfg.kafka.flush_timeout_ms = 10000;
	/* Reconnect quickly once the broker is back: a fast test. */
	assert_int_equal(config_set(&f.cfg, "output.kafka.properties",
				    "reconnect.backoff.max.ms=100", err,
				    sizeof(err)),
			 0);
	assert_int_equal(config_set(&f.cfg, "output.kafka.properties",
				    "log_level=0", err, sizeof(err)),
			 0);
	return &f;
}

static void fixture_open(struct fixture *f)
{
	char err[512] = "";

	if (sink_kafka_open(&f->s, &f->cfg.kafka, false, NULL, err, sizeof(err)) ==
	    -1)
		fail_msg("open: %s", err);
}

static void fixture_free(struct fixture *f)
{
	sink_close(&f->s);
	rd_kafka_mock_cluster_destroy(f->mc);
	rd_kafka_destroy(f->host);
}

static void publish_n(struct fixture *f, int n)
{
	for (int i = 0; i < n; i++) {
		char payload[32];

		snprintf(payload, sizeof(payload), "m%d", i);
		assert_int_equal(sink_publish(&f->s, MSG_CONNECTION_METRICS,
					      "router/if1", payload,
					      strlen(payload)),
				 0);
	}
}

/* Serve the sink for ms milliseconds the way the merger does. */
static void tick(struct fixture *f, int ms)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	for (int i = 0; i < ms / 50; i++) {
		f->s.ops->flush(&f->s);
		nanosleep(&ts, NULL);
	}
}

/* Every payload of TOPIC, in offset order, joined by ",". */
static void consume_all(struct fixture *f, char *out, size_t len)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512];
	rd_kafka_t *c;
	size_t o = 0;

	out[0] = '\0';
	assert_int_equal(
		rd_kafka_conf_set(conf, "bootstrap.servers",
				  rd_kafka_mock_cluster_bootstraps(f->mc), err,
				  sizeof(err)),
		RD_KAFKA_CONF_OK);
	assert_int_equal(rd_kafka_conf_set(conf, "enable.partition.eof", "true",
					   err, sizeof(err)),
			 RD_KAFKA_CONF_OK);
	assert_int_equal(
		rd_kafka_conf_set(conf, "group.id", "test", err, sizeof(err)),
		RD_KAFKA_CONF_OK);
	c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	assert_non_null(c);
	l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, TOPIC, 0)->offset =
		RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(c, l);
	rd_kafka_topic_partition_list_destroy(l);
	for (int i = 0; i < 100; i++) { /* at most 10 s */
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
		bool eof;

		if (m == NULL)
			continue;
		eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
			o += (size_t)snprintf(out + o, len - o, "%s%.*s",
					      o ? "," : "", (int)m->len,
					      (const char *)m->payload);
		rd_kafka_message_destroy(m);
		if (eof)
			break;
	}
	rd_kafka_consumer_close(c);
	rd_kafka_destroy(c);
}

/* Within the bound: an outage loses nothing and keeps the order. */
static void test_outage_within_bound(void **state)
{
	struct fixture *f = fixture_new(100, PS_KAFKA_DROP_OLDEST);
	const struct sink_kafka_counters *c;
	char got[512];

	(void)state;
	assert_int_equal(rd_kafka_mock_broker_set_down(f->mc, 1), 0);
	fixture_open(f);
	publish_n(f, 8);
	tick(f, 1000);
	c = sink_kafka_counters(&f->s, MSG_CONNECTION_METRICS);
	assert_int_equal(c->delivered, 0);
	assert_int_equal(rd_kafka_mock_broker_set_up(f->mc, 1), 0);
	sink_kafka_drain(&f->s);
	assert_int_equal(c->accepted, 8);
	assert_int_equal(c->delivered, 8);
	assert_int_equal(c->failed + c->dropped + c->undelivered, 0);
	consume_all(f, got, sizeof(got));
	assert_string_equal(got, "m0,m1,m2,m3,m4,m5,m6,m7");
	fixture_free(f);
}

/*
 * Bound 4: librdkafka holds the first 2 (half the bound), the FIFO the
 * other 2; each further message drops the FIFO's oldest.  Of m0..m9,
 * m0 m1 m8 m9 survive and exactly 6 are counted dropped.
 */
static void test_outage_drop_oldest(void **state)
{
	struct fixture *f = fixture_new(4, PS_KAFKA_DROP_OLDEST);
	const struct sink_kafka_counters *c;
	char got[512];

	(void)state;
	assert_int_equal(rd_kafka_mock_broker_set_down(f->mc, 1), 0);
	fixture_open(f);
	publish_n(f, 10);
	tick(f, 500);
	assert_int_equal(rd_kafka_mock_broker_set_up(f->mc, 1), 0);
	sink_kafka_drain(&f->s);
	c = sink_kafka_counters(&f->s, MSG_CONNECTION_METRICS);
	assert_int_equal(c->accepted, 10);
	assert_int_equal(c->dropped, 6);
	assert_int_equal(c->delivered, 4);
	assert_int_equal(c->failed + c->undelivered, 0);
	consume_all(f, got, sizeof(got));
	assert_string_equal(got, "m0,m1,m8,m9");
	fixture_free(f);
}

/* Drop newest: the first 4 survive, the 6 later ones are dropped. */
static void test_outage_drop_newest(void **state)
{
	struct fixture *f = fixture_new(4, PS_KAFKA_DROP_NEWEST);
	const struct sink_kafka_counters *c;
	char got[512];

	(void)state;
	assert_int_equal(rd_kafka_mock_broker_set_down(f->mc, 1), 0);
	fixture_open(f);
	publish_n(f, 10);
	tick(f, 500);
	assert_int_equal(rd_kafka_mock_broker_set_up(f->mc, 1), 0);
	sink_kafka_drain(&f->s);
	c = sink_kafka_counters(&f->s, MSG_CONNECTION_METRICS);
	assert_int_equal(c->dropped, 6);
	assert_int_equal(c->delivered, 4);
	consume_all(f, got, sizeof(got));
	assert_string_equal(got, "m0,m1,m2,m3");
	fixture_free(f);
}

/* message.timeout.ms set: expiries during an outage are counted failed. */
static void test_outage_expiry_counted(void **state)
{
	struct fixture *f = fixture_new(100, PS_KAFKA_DROP_OLDEST);
	const struct sink_kafka_counters *c;

	(void)state;
	f->cfg.kafka.message_timeout_ms = 300;
	assert_int_equal(rd_kafka_mock_broker_set_down(f->mc, 1), 0);
	fixture_open(f);
	publish_n(f, 3);
	tick(f, 2000);
	c = sink_kafka_counters(&f->s, MSG_CONNECTION_METRICS);
	assert_int_equal(c->failed, 3);
	assert_int_equal(c->delivered, 0);
	fixture_free(f);
}

/* Still down at shutdown: the drain gives up on time, counts the rest. */
static void test_drain_timeout_counts_undelivered(void **state)
{
	struct fixture *f = fixture_new(4, PS_KAFKA_DROP_OLDEST);
	const struct sink_kafka_counters *c;
	struct timespec t0, t1;
	double took;

	(void)state;
	f->cfg.kafka.flush_timeout_ms = 300;
	assert_int_equal(rd_kafka_mock_broker_set_down(f->mc, 1), 0);
	fixture_open(f);
	publish_n(f, 3); /* 2 in librdkafka, 1 in the FIFO */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sink_kafka_drain(&f->s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	c = sink_kafka_counters(&f->s, MSG_CONNECTION_METRICS);
	assert_int_equal(c->undelivered, 3);
	assert_int_equal(c->delivered + c->failed, 0);
	assert_true(took < 3.0);
	fixture_free(f);
}

/*
 * Retriable produce errors (the broker answers NOT_ENOUGH_REPLICAS to two
 * Produce requests): librdkafka sends again, everything arrives once and
 * in order, and the retransmissions are counted: each refused request
 * carried at least one message, so at least 2.
 */
static void test_retries_counted(void **state)
{
	struct fixture *f = fixture_new(100, PS_KAFKA_DROP_OLDEST);
	const struct sink_kafka_counters *c;
	char got[512];

	(void)state;
	assert_int_equal(config_set(&f->cfg, "output.kafka.properties",
				    "statistics.interval.ms=100", got,
				    sizeof(got)),
			 0);
	rd_kafka_mock_push_request_errors(
		f->mc, 0 /* Produce */, 2,
		RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
		RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
	fixture_open(f);
	publish_n(f, 5);
	tick(f, 1500); /* deliveries, then a statistics report */
	sink_kafka_drain(&f->s);
	c = sink_kafka_counters(&f->s, MSG_CONNECTION_METRICS);
	assert_int_equal(c->delivered, 5);
	assert_int_equal(c->failed + c->dropped + c->undelivered, 0);
	consume_all(f, got, sizeof(got));
	assert_string_equal(got, "m0,m1,m2,m3,m4");
	assert_true(sink_kafka_retries(&f->s) >= 2);
	fixture_free(f);
}

/* A permanent error (not authorised to write the topic): counted failed. */
static void test_unauthorised_topic_counted(void **state)
{
	struct fixture *f = fixture_new(100, PS_KAFKA_DROP_OLDEST);
	const struct sink_kafka_counters *c;

	(void)state;
	rd_kafka_mock_push_request_errors(
		f->mc, 0 /* Produce */, 1,
		RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
	fixture_open(f);
	publish_n(f, 1);
	tick(f, 1000);
	sink_kafka_drain(&f->s);
	c = sink_kafka_counters(&f->s, MSG_CONNECTION_METRICS);
	assert_int_equal(c->accepted, 1);
	assert_int_equal(c->failed, 1);
	assert_int_equal(c->delivered + c->undelivered, 0);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outage_within_bound),
		cmocka_unit_test(test_outage_drop_oldest),
		cmocka_unit_test(test_outage_drop_newest),
		cmocka_unit_test(test_outage_expiry_counted),
		cmocka_unit_test(test_drain_timeout_counts_undelivered),
		cmocka_unit_test(test_retries_counted),
		cmocka_unit_test(test_unauthorised_topic_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
