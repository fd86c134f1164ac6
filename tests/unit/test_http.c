/*
 * test_http.c - the http.listen syntax: what binds where, and what is
 * refused, against addresses written out by hand.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static void test_ipv4(void **state)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
	char err[256];

	(void)state;
	assert_int_equal(
		http_listen_parse("127.0.0.1:9464", &ss, err, sizeof(err)), 0);
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 9464);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(http_listen_parse("0.0.0.0:0", &ss, err, sizeof(err)),
			 0);
	assert_int_equal(ntohs(s4->sin_port), 0);
}

static void test_ipv6(void **state)
{
	static const uint8_t loop6[16] = { [15] = 1 };
	struct sockaddr_storage ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
	char err[256];

	(void)state;
	assert_int_equal(http_listen_parse("[::1]:80", &ss, err, sizeof(err)),
			 0);
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 80);
	assert_memory_equal(&s6->sin6_addr, loop6, 16);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"localhost:9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
		":9464",	  "[::1]9464", "[::1:9464",  "127.0.0.1:9x",
		"::1:9464",	  "",	       "1.2.3.4:-1",
	};
	struct sockaddr_storage ss;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(
			http_listen_parse(bad[i], &ss, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "expected"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
