/*
 * bench_kafka.c - peerscope-bench-kafka: what publishing costs.
 *
 *   peerscope-bench-kafka [--messages N] [--keys K] [--brokers LIST]
 *                         [--set KEY=VALUE]...
 *
 * Publishes N connection_metrics messages (a real message of the demo
 * capture, 1 KB, with the connection id varied over K keys) through the
 * Kafka sink exactly as the merger does (publish per message, flush every
 * K messages as at a window's end), then drains, into the embedded broker
 * by default.  Prints messages/s to the broker (until every delivery
 * report is in) and the CPU seconds of the publishing thread and of the
 * whole process (librdkafka's threads, and the embedded broker's, which
 * a real deployment runs elsewhere).  Pin it to one core with taskset for
 * the one-core figure.  A benchmark: nothing is asserted.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/config.h"
#include "publish/sink_kafka.h"

static const char message[] =
	"{\"type\":\"connection_metrics\",\"schema_version\":1,\"window\":{"
	"\"start\":\"2026-11-26T07:57:00.000Z\",\"end\":\"2026-11-26T07:58:"
	"00.000Z\",\"seconds\":60},\"connection_id\":\"%s\",\"router\":\"127"
	".0.0.1\",\"ifindex\":10,\"discovered\":true,\"admin_status\":\"up\","
	"\"oper_status\":\"up\",\"capacity_bps\":1000000000,\"in\":{\"counter"
	"s\":{\"source\":\"interface_counters\",\"bytes\":3074814,\"packets\""
	":2143,\"bits_per_second\":410000.53,\"packets_per_second\":35.71,\""
	"interval_seconds\":60,\"errors\":0,\"discards\":0},\"samples\":{\"so"
	"urce\":\"flow_samples\",\"bytes\":1248730,\"packets\":1076,\"bits_pe"
	"r_second\":166497.33,\"packets_per_second\":17.93,\"sample_count\":1"
	"076,\"sampled_bytes\":1248730,\"sampling_rate\":1,\"sampling_rate_mi"
	"n\":1,\"pool_weighted_samples\":1076,\"error_pct_95\":5.97,\"discard"
	"_samples\":0}},\"out\":{\"counters\":{\"source\":\"interface_counter"
	"s\",\"bytes\":150832,\"packets\":1023,\"bits_per_second\":20110.93,"
	"\"packets_per_second\":17.05,\"interval_seconds\":60,\"errors\":0,\""
	"discards\":0},\"samples\":{\"source\":\"flow_samples\",\"bytes\":213"
	"173,\"packets\":934,\"bits_per_second\":28423.07,\"packets_per_secon"
	"d\":15.57,\"sample_count\":934,\"sampled_bytes\":213173,\"sampling_r"
	"ate\":1,\"sampling_rate_min\":1,\"pool_weighted_samples\":934,\"erro"
	"r_pct_95\":6.41,\"discard_samples\":0}},\"utilisation\":{\"in\":0.00"
	"041,\"out\":0.00002,\"in_source\":\"counters\",\"out_source\":\"coun"
	"ters\"},\"counter_samples\":2,\"counter_resets\":0}";

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "messages", required_argument, NULL, 'n' },
		{ "keys", required_argument, NULL, 'k' },
		{ "brokers", required_argument, NULL, 'b' },
		{ "set", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	static struct ps_config cfg; /* large: off the stack */
	const struct sink_kafka_counters *c;
	unsigned long n = 1000000, keys = 10000;
	double w0, t0, p0, w1, t1, p1, w2, t2, p2;
	char err[512], key[64], *buf;
	struct sink s;
	size_t len = 0;
	int opt;

	config_init(&cfg);
	cfg.kafka.enabled = true;
	/* The whole run fits the bound: measure delivery, not drops. */
	cfg.kafka.queue_messages = 1000000;
	cfg.kafka.queue_bytes = 1U << 31;
	cfg.kafka.flush_timeout_ms = 600000;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'k':
			keys = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			snprintf(cfg.kafka.brokers, sizeof(cfg.kafka.brokers),
				 "%s", optarg);
			break;
		case 's':
			if (config_set_pair(&cfg, optarg, err, sizeof(err))) {
				fprintf(stderr, "%s\n", err);
				return 2;
			}
			break;
		default:
			return 2;
		}
	}
	if (keys == 0)
		keys = 1;
	buf = malloc(sizeof(message) + 64);
	if (buf == NULL ||
	    sink_kafka_open(&s, &cfg.kafka, false, NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "open: %s\n", buf ? err : "out of memory");
		return 1;
	}
	w0 = clock_s(CLOCK_MONOTONIC);
	t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	p0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (unsigned long i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "192.0.2.%lu/if%lu", i % keys % 250,
			 i % keys);
		len = (size_t)snprintf(buf, sizeof(message) + 64, message, key);
		sink_publish(&s, MSG_CONNECTION_METRICS, key, buf, len);
		if ((i + 1) % keys == 0)
			s.ops->flush(&s);
	}
	w1 = clock_s(CLOCK_MONOTONIC);
	t1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	p1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	sink_kafka_drain(&s);
	w2 = clock_s(CLOCK_MONOTONIC);
	t2 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	p2 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	c = sink_kafka_counters(&s, MSG_CONNECTION_METRICS);
	printf("messages=%lu bytes_each=%zu keys=%lu compression=%d\n", n, len,
	       keys, (int)cfg.kafka.compression);
	printf("publish: %.3f s wall, %.0f msg/s into the sink, publishing "
	       "thread %.3f s CPU (%.2f us/msg)\n",
	       w1 - w0, (double)n / (w1 - w0), t1 - t0,
	       (t1 - t0) * 1e6 / (double)n);
	printf("delivered=%llu dropped=%llu failed=%llu undelivered=%llu in "
	       "%.3f s: %.0f msg/s to the broker\n",
	       (unsigned long long)c->delivered, (unsigned long long)c->dropped,
	       (unsigned long long)c->failed,
	       (unsigned long long)c->undelivered, w2 - w0,
	       (double)c->delivered / (w2 - w0));
	printf("CPU: publishing thread %.3f s, whole process %.3f s (%.3f s "
	       "while publishing; %.2f us/msg, broker included)\n",
	       t2 - t0, p2 - p0, p1 - p0, (p2 - p0) * 1e6 / (double)n);
	sink_close(&s);
	free(buf);
	return 0;
}
