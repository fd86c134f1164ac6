/*
 * test_sinkswap.c - SIGHUP changes to the sinks (sinkswap.h), applied to a
 * merger with no workers: the test publishes configurations the way
 * live.c does and calls sinkswap_apply() where the merger thread would.
 * JSON output goes to files read back here; Kafka to librdkafka's mock
 * cluster started by the test (so it can take the broker down), and the
 * expected counts are the messages the test itself published.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "xthread/cfgpub.h"
#include "base/config.h"
#include "publish/merger.h"
#include "publish/sink_kafka.h"
#include "publish/sinkswap.h"
#include "publish/stats_merger.h"
#include "xthread/stats.h"

#define TOPIC "peerscope.connection.metrics"

struct fixture {
	struct ps_config *boot;
	struct cfg_pub pub;
	struct stats_hub hub;
	struct merger m;
	struct sink json, kafka;
	char dir[64];
	rd_kafka_t *host; /* the test's own mock cluster */
	rd_kafka_mock_cluster_t *mc;
};

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void set(struct ps_config *c, const char *k, const char *v)
{
	char err[256];

	if (config_set(c, k, v, err, sizeof(err)) == -1)
		fail_msg("%s=%s: %s", k, v, err);
}

static void path_in(const struct fixture *f, const char *name, char *out,
		    size_t len)
{
	snprintf(out, len, "%s/%s", f->dir, name);
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512], a[128];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/ps-sinkswap-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(
		rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err)),
		RD_KAFKA_CONF_OK);
	f->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	assert_non_null(f->host);
	f->mc = rd_kafka_mock_cluster_new(f->host, 1);
	assert_non_null(f->mc);
	assert_int_equal(rd_kafka_mock_topic_create(f->mc, TOPIC, 1, 1), 0);

	f->boot = calloc(1, sizeof(*f->boot));
	assert_non_null(f->boot);
	config_init(f->boot);
	path_in(f, "a.jsonl", a, sizeof(a));
	set(f->boot, "output.json.path", a);
	cfgpub_init(&f->pub, f->boot);
	stats_hub_init(&f->hub, f->boot);
	merger_init(&f->m, NULL, 0, f->boot);
	f->m.pub = &f->hub;
	f->m.cfgpub = &f->pub;
	f->m.json_sink = &f->json;
	f->m.kafka_sink = &f->kafka;
	f->m.json_cfg = f->boot;
	f->m.kafka_cfg = f->boot;
	assert_int_equal(sink_json_open(&f->json, a, true, err, sizeof(err)),
			 0);
	merger_add_sink(&f->m, &f->json);
	stats_sinks_changed(&f->hub, &f->m);
	return f;
}

static void fixture_free(struct fixture *f)
{
	char cmd[128];

	if (merger_has_sink(&f->m, &f->json))
		sink_close(&f->json);
	if (merger_has_sink(&f->m, &f->kafka))
		sink_close(&f->kafka);
	merger_fini(&f->m);
	stats_hub_fini(&f->hub);
	cfgpub_fini(&f->pub);
	free(f->boot);
	rd_kafka_mock_cluster_destroy(f->mc);
	rd_kafka_destroy(f->host);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
}

/* A reload: the latest configuration with `n` keys changed, published. */
static void reload(struct fixture *f, unsigned n, const char *const *kv)
{
	struct ps_config *fresh = malloc(sizeof(*fresh));
	uint64_t effective;

	assert_non_null(fresh);
	memcpy(fresh, cfgpub_latest(&f->pub), sizeof(*fresh));
	for (unsigned i = 0; i < n; i++)
		set(fresh, kv[2 * i], kv[2 * i + 1]);
	assert_int_equal(
		cfgpub_publish(&f->pub, fresh, wall_ns(), &effective), 0);
}

static void publish(struct fixture *f, const char *text)
{
	for (unsigned i = 0; i < f->m.nsinks; i++)
		(void)sink_publish(f->m.sinks[i], MSG_CONNECTION_METRICS, "k",
				   text, strlen(text));
	for (unsigned i = 0; i < f->m.nsinks; i++)
		(void)f->m.sinks[i]->ops->flush(f->m.sinks[i]);
}

static void read_file(const char *path, char *out, size_t len)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(out, 1, len - 1, fp);
	out[n] = '\0';
	fclose(fp);
}

static const char *hub_name(struct fixture *f, unsigned i)
{
	return atomic_load(&f->hub.sink_name[i]);
}

static void test_json_toggle_and_path(void **state)
{
	struct fixture *f = fixture_new();
	char a[128], b[128], text[256];
	uint64_t failed = 0;

	(void)state;
	path_in(f, "a.jsonl", a, sizeof(a));
	path_in(f, "b.jsonl", b, sizeof(b));
	publish(f, "{\"n\":1}");

	/* Off: the sink leaves the list and its file is flushed and closed. */
	reload(f, 1, (const char *const[]){ "output.json.enabled", "false" });
	assert_true(sinkswap_apply(&f->m, &failed));
	assert_int_equal(f->m.nsinks, 0);
	assert_int_equal(atomic_load(&f->hub.nsinks), 0);
	publish(f, "{\"n\":2}"); /* goes nowhere */
	read_file(a, text, sizeof(text));
	assert_string_equal(text, "{\"n\":1}\n");

	/* Nothing changed: nothing happens. */
	reload(f, 1, (const char *const[]){ "log.level", "debug" });
	assert_false(sinkswap_apply(&f->m, &failed));

	/* On again, to another file; the message count continues. */
	reload(f, 2,
	       (const char *const[]){ "output.json.enabled", "true",
				      "output.json.path", b });
	assert_true(sinkswap_apply(&f->m, &failed));
	assert_int_equal(f->m.nsinks, 1);
	assert_int_equal(atomic_load(&f->hub.nsinks), 1);
	assert_string_equal(hub_name(f, 0), "json");
	publish(f, "{\"n\":3}");
	assert_int_equal(f->json.published[MSG_CONNECTION_METRICS], 2);

	/* A file that cannot open: counted, the running one stays. */
	reload(f, 1,
	       (const char *const[]){ "output.json.path",
				      "/nonexistent-dir/x.jsonl" });
	assert_false(sinkswap_apply(&f->m, &failed));
	assert_int_equal(failed, 1);
	publish(f, "{\"n\":4}");
	read_file(b, text, sizeof(text));
	assert_string_equal(text, "{\"n\":3}\n{\"n\":4}\n");
	read_file(a, text, sizeof(text));
	assert_string_equal(text, "{\"n\":1}\n");
	fixture_free(f);
}

/* Serve delivery reports until `want` are delivered (bounded: 10 s). */
static uint64_t delivered_wait(struct fixture *f, uint64_t want)
{
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	const struct sink_kafka_counters *c = NULL;

	for (int i = 0; i < 1000; i++) {
		(void)f->kafka.ops->flush(&f->kafka);
		c = sink_kafka_counters(&f->kafka, MSG_CONNECTION_METRICS);
		if (c->delivered >= want)
			break;
		nanosleep(&nap, NULL);
	}
	return c->delivered;
}

static uint64_t hub_kafka(struct fixture *f, enum stats_kafka_field k)
{
	return atomic_load(&f->hub.kafka[MSG_CONNECTION_METRICS][k]);
}

static void test_kafka_lifecycle(void **state)
{
	struct fixture *f = fixture_new();
	const char *brokers = rd_kafka_mock_cluster_bootstraps(f->mc);
	uint64_t failed = 0;

	(void)state;
	/* Enabled live, beside JSON (which stays first). */
	reload(f, 4,
	       (const char *const[]){ "output.kafka.enabled", "true",
				      "output.kafka.brokers", brokers,
				      "output.kafka.flush_timeout_ms", "500",
				      "output.kafka.properties",
				      "log_level=0" });
	assert_true(sinkswap_apply(&f->m, &failed));
	assert_int_equal(f->m.nsinks, 2);
	assert_int_equal(atomic_load(&f->hub.nsinks), 2);
	assert_string_equal(hub_name(f, 1), "kafka");
	for (int i = 0; i < 3; i++)
		publish(f, "{\"m\":1}");
	assert_int_equal(delivered_wait(f, 3), 3);

	/* A property changed: a new producer, counters continue. */
	reload(f, 1,
	       (const char *const[]){ "output.kafka.properties",
				      "linger.ms=1" });
	assert_true(sinkswap_apply(&f->m, &failed));
	assert_int_equal(failed, 0);
	assert_int_equal(f->m.nsinks, 2);
	for (int i = 0; i < 2; i++)
		publish(f, "{\"m\":2}");
	assert_int_equal(delivered_wait(f, 5), 5);
	assert_int_equal(sink_kafka_counters(&f->kafka, MSG_CONNECTION_METRICS)
				 ->accepted,
			 5);

	/* An unusable property: the running producer stays, counted. */
	reload(f, 1,
	       (const char *const[]){ "output.kafka.properties",
				      "no.such.property=1" });
	assert_false(sinkswap_apply(&f->m, &failed));
	assert_int_equal(failed, 1);
	publish(f, "{\"m\":3}");
	assert_int_equal(delivered_wait(f, 6), 6);

	/*
	 * Broker down, then Kafka off: the drain gives up after
	 * flush_timeout_ms and the 4 messages waiting are dropped, counted.
	 */
	assert_int_equal(rd_kafka_mock_broker_set_down(f->mc, 1), 0);
	for (int i = 0; i < 4; i++)
		publish(f, "{\"m\":4}");
	reload(f, 1, (const char *const[]){ "output.kafka.enabled", "false" });
	assert_true(sinkswap_apply(&f->m, &failed));
	assert_int_equal(f->m.nsinks, 1);
	assert_int_equal(atomic_load(&f->hub.nsinks), 1);
	assert_string_equal(hub_name(f, 0), "json");
	/* Still on /metrics, as run totals: 10 in, 6 out, 4 dropped. */
	assert_int_equal(hub_kafka(f, STATS_KAFKA_ACCEPTED), 10);
	assert_int_equal(hub_kafka(f, STATS_KAFKA_DELIVERED), 6);
	assert_int_equal(hub_kafka(f, STATS_KAFKA_DROPPED), 4);
	assert_int_equal(hub_kafka(f, STATS_KAFKA_FAILED), 0);

	/* On again: it starts from the run totals. */
	assert_int_equal(rd_kafka_mock_broker_set_up(f->mc, 1), 0);
	reload(f, 3,
	       (const char *const[]){ "output.kafka.enabled", "true",
				      "output.kafka.properties", "",
				      "output.kafka.properties",
				      "log_level=0" });
	assert_true(sinkswap_apply(&f->m, &failed));
	publish(f, "{\"m\":5}");
	assert_int_equal(delivered_wait(f, 7), 7);
	assert_int_equal(sink_kafka_counters(&f->kafka, MSG_CONNECTION_METRICS)
				 ->dropped,
			 4);
	fixture_free(f);
}

/* Both on the embedded broker: the new producer keeps the old one's. */
static void test_kafka_embedded_kept(void **state)
{
	struct fixture *f = fixture_new();
	char first[256];
	uint64_t failed = 0;

	(void)state;
	reload(f, 2,
	       (const char *const[]){ "output.kafka.enabled", "true",
				      "output.kafka.properties",
				      "log_level=0" });
	assert_true(sinkswap_apply(&f->m, &failed));
	snprintf(first, sizeof(first), "%s", sink_kafka_bootstraps(&f->kafka));
	assert_non_null(strstr(first, "127.0.0.1:"));
	publish(f, "{\"e\":1}");
	assert_int_equal(delivered_wait(f, 1), 1);

	/* A failed re-creation must not take the broker from the old one. */
	reload(f, 1,
	       (const char *const[]){ "output.kafka.properties",
				      "linger.ms=banana" });
	assert_false(sinkswap_apply(&f->m, &failed));
	publish(f, "{\"e\":2}");
	assert_int_equal(delivered_wait(f, 2), 2);

	reload(f, 1,
	       (const char *const[]){ "output.kafka.properties",
				      "linger.ms=1" });
	assert_true(sinkswap_apply(&f->m, &failed));
	assert_string_equal(sink_kafka_bootstraps(&f->kafka), first);
	publish(f, "{\"e\":3}");
	assert_int_equal(delivered_wait(f, 3), 3);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_toggle_and_path),
		cmocka_unit_test(test_kafka_lifecycle),
		cmocka_unit_test(test_kafka_embedded_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
