/*
 * test_log.c - log lines (logfmt and JSON, escaping) and the per-key rate
 * limiter, with hand-written expected lines and a fake clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"

/* One line written through a pipe, without its timestamp field. */
static void read_line(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);

	assert_true(n > 0);
	buf[n] = '\0';
}

static void test_logfmt_escapes(void **state)
{
	struct logger lg;
	char line[LOG_LINE_MAX + 1];
	int fds[2];
	const char *rest;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	log_init(&lg, fds[1]);
	/* A hostile string: quote, newline, control byte, backslash. */
	log_event(&lg, PS_LOG_WARN, "bad_input",
		  "agent \"x\"\nlevel=error \x01\\");
	read_line(fds[0], line, sizeof(line));
	assert_memory_equal(line, "ts=20", 5);
	rest = strstr(line, " level=");
	assert_non_null(rest);
	assert_string_equal(rest, " level=warn event=bad_input msg=\"agent "
				  "\\\"x\\\"\\nlevel=error \\u0001\\\\\"\n");
	close(fds[0]);
	close(fds[1]);
}

/* Fields after msg: bare when safe in logfmt, quoted and escaped if not. */
static void test_fields(void **state)
{
	struct logger lg;
	char line[LOG_LINE_MAX + 1];
	int fds[2];
	const char *rest;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	log_init(&lg, fds[1]);
	log_event_fields(&lg, PS_LOG_INFO, "listening",
			 LOG_FIELDS({ "protocol", "sflow" },
				    { "address", "[::]" }, { "port", "6343" },
				    { "reason", "a b=\"c\"" },
				    { "empty", "" }),
			 "sFlow on %s", "[::]:6343");
	read_line(fds[0], line, sizeof(line));
	rest = strstr(line, " level=");
	assert_non_null(rest);
	assert_string_equal(rest, " level=info event=listening msg=\"sFlow on "
				  "[::]:6343\" protocol=sflow address=[::] "
				  "port=6343 reason=\"a b=\\\"c\\\"\" "
				  "empty=\"\"\n");
	log_configure(&lg, PS_LOG_INFO, PS_LOG_JSON);
	log_event_fields(&lg, PS_LOG_INFO, "listening",
			 LOG_FIELDS({ "port", "6343" }), "x");
	read_line(fds[0], line, sizeof(line));
	rest = strstr(line, ",\"level\"");
	assert_non_null(rest);
	assert_string_equal(rest, ",\"level\":\"info\",\"event\":\"listening\","
				  "\"msg\":\"x\",\"port\":\"6343\"}\n");
	close(fds[0]);
	close(fds[1]);
}

static void test_json_and_level(void **state)
{
	struct logger lg;
	char line[LOG_LINE_MAX + 1];
	int fds[2];
	const char *rest;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	log_init(&lg, fds[1]);
	log_configure(&lg, PS_LOG_WARN, PS_LOG_JSON);
	log_event(&lg, PS_LOG_INFO, "quiet", "not written");
	log_event(&lg, PS_LOG_ERROR, "loud", "a=%d", 7);
	read_line(fds[0], line, sizeof(line));
	assert_memory_equal(line, "{\"ts\":\"20", 9);
	rest = strstr(line, ",\"level\"");
	assert_non_null(rest);
	assert_string_equal(rest, ",\"level\":\"error\",\"event\":\"loud\","
				  "\"msg\":\"a=7\"}\n");
	close(fds[0]);
	close(fds[1]);
}

static void test_limiter(void **state)
{
	const uint64_t s = 1000000000ULL;
	struct log_limit l;
	uint32_t sup;
	int allowed = 0;

	(void)state;
	log_limit_init(&l, 3, 10);
	/* 100 events of one key in one second: 3 pass. */
	for (int i = 0; i < 100; i++)
		allowed += log_limit_allow(&l, "sflow.x 192.0.2.1",
					   5 * s + (uint64_t)i, &sup);
	assert_int_equal(allowed, 3);
	assert_int_equal(l.suppressed_total, 97);
	/* Another key is not affected. */
	assert_true(log_limit_allow(&l, "sflow.y 192.0.2.1", 5 * s, &sup));
	assert_int_equal(sup, 0);
	/* After the period, the first line says how many were held back. */
	assert_true(log_limit_allow(&l, "sflow.x 192.0.2.1", 15 * s, &sup));
	assert_int_equal(sup, 97);
	assert_true(log_limit_allow(&l, "sflow.x 192.0.2.1", 15 * s, &sup));
	assert_int_equal(sup, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logfmt_escapes),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_json_and_level),
		cmocka_unit_test(test_limiter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
