/*
 * mock_kafka.c - peerscope-mock-kafka: librdkafka's mock cluster in a
 * process of its own, driven over stdin by the Kafka end-to-end test, so
 * the test can take the broker down and up while a separate peerscope
 * publishes to it.
 *
 *   peerscope-mock-kafka TOPIC...
 *
 * Prints "bootstrap HOST:PORT" once the cluster is up (each TOPIC created
 * with 3 partitions), then reads commands, one per line, answering "ok":
 *   down   the broker refuses connections and drops the ones it has
 *   up     the broker accepts connections again
 *   quit   (or end of input) stop
 * It exits after 10 minutes whatever happens, so a failed test cannot leave
 * it behind.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MOCK_PARTITIONS 3
#define MOCK_LIFETIME_S 600

int main(int argc, char **argv)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_mock_cluster_t *mc;
	char err[512], line[64];
	rd_kafka_t *rk;

	alarm(MOCK_LIFETIME_S);
	if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK)
		return 1;
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (rk == NULL) {
		fprintf(stderr, "mock: %s\n", err);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, 1);
	if (mc == NULL) {
		fprintf(stderr, "mock: cannot start the cluster\n");
		return 1;
	}
	for (int i = 1; i < argc; i++)
		rd_kafka_mock_topic_create(mc, argv[i], MOCK_PARTITIONS, 1);
	printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR_NO_ERROR;

		if (strncmp(line, "down", 4) == 0)
			rc = rd_kafka_mock_broker_set_down(mc, 1);
		else if (strncmp(line, "up", 2) == 0)
			rc = rd_kafka_mock_broker_set_up(mc, 1);
		else if (strncmp(line, "quit", 4) == 0)
			break;
		printf("%s\n", rc == RD_KAFKA_RESP_ERR_NO_ERROR ?
				       "ok" :
				       rd_kafka_err2str(rc));
		fflush(stdout);
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
