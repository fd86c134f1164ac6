/*
 * test_netaddr.c - the one address syntax (netaddr.h): endpoints of every
 * listener key, against socket addresses written out by hand, and the
 * allow-lists of udp.allow and bmp.allow, prefix parsing and matching.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "base/netaddr.h"

static struct ps_addr addr(const char *text)
{
	struct ps_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, text, a.bytes) == 1)
		a.af = 4;
	else if (inet_pton(AF_INET6, text, a.bytes) == 1)
		a.af = 6;
	return a;
}

static bool allows(const struct netaddr_allow *l, const char *text)
{
	struct ps_addr a = addr(text);

	return netaddr_allow_match(l, &a);
}

static void test_any(void **state)
{
	struct netaddr_allow l;
	char err[160];

	(void)state;
	assert_int_equal(netaddr_parse_allow(&l, "any", err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	assert_true(allows(&l, "198.51.100.7"));
	assert_true(allows(&l, "2001:db8::1"));
}

static void test_prefixes(void **state)
{
	struct netaddr_allow l;
	char err[160];

	(void)state;
	/* host bits set on purpose: 192.0.2.77/25 means 192.0.2.0/25 */
	assert_int_equal(netaddr_parse_allow(&l,
					     "192.0.2.77/25, 10.1.2.3,"
					     "2001:db8:80::/41",
					     err, sizeof(err)),
			 0);
	assert_int_equal(l.n, 3);
	assert_true(allows(&l, "192.0.2.0"));
	assert_true(allows(&l, "192.0.2.127"));
	assert_false(allows(&l, "192.0.2.128")); /* outside the /25 */
	assert_true(allows(&l, "10.1.2.3"));	 /* a bare address: /32 */
	assert_false(allows(&l, "10.1.2.4"));
	/* 2001:db8:80::/41: the 41st bit is the top bit of byte 5 (0x80) */
	assert_true(allows(&l, "2001:db8:80::1"));
	assert_true(allows(&l, "2001:db8:ff::1"));
	assert_false(allows(&l, "2001:db8:7f::1"));
	/* families never match each other */
	assert_false(allows(&l, "::ffff:10.1.2.3"));
	assert_int_equal(netaddr_parse_allow(&l, "0.0.0.0/0", err, sizeof(err)),
			 0);
	assert_true(allows(&l, "203.0.113.9"));
	assert_false(allows(&l, "2001:db8::9"));
}

static void test_allow_refused(void **state)
{
	struct netaddr_allow l;
	char err[160];

	(void)state;
	assert_int_equal(
		netaddr_parse_allow(&l, "10.0.0.0/33", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0..32"));
	assert_int_equal(
		netaddr_parse_allow(&l, "2001:db8::/129", err, sizeof(err)),
		-1);
	assert_int_equal(netaddr_parse_allow(&l, "10.0.0.0/", err, sizeof(err)),
			 -1);
	assert_int_equal(
		netaddr_parse_allow(&l, "10.0.0.0/8x", err, sizeof(err)), -1);
	assert_int_equal(netaddr_parse_allow(&l, "router1", err, sizeof(err)),
			 -1);
	assert_int_equal(netaddr_parse_allow(&l, " , ", err, sizeof(err)), -1);
}

static void test_endpoint_ipv4(void **state)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
	struct ps_endpoint ep;
	char err[256], text[64];

	(void)state;
	assert_int_equal(
		netaddr_parse_endpoint("127.0.0.1:9464", &ep, err, sizeof(err)),
		0);
	assert_int_equal(ep.addr.af, 4);
	assert_int_equal(ep.port, 9464);
	assert_int_equal(netaddr_sockaddr(&ep, AF_INET6, &ss), sizeof(*s4));
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 9464);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x7f000001);
	netaddr_format_endpoint(&ep, text, sizeof(text));
	assert_string_equal(text, "127.0.0.1:9464");
	/* port 0: the kernel picks (http.listen, bmp.listen) */
	assert_int_equal(
		netaddr_parse_endpoint("0.0.0.0:0", &ep, err, sizeof(err)), 0);
	assert_int_equal(ep.port, 0);
}

static void test_endpoint_ipv6(void **state)
{
	static const uint8_t loop6[16] = { [15] = 1 };
	struct sockaddr_storage ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
	struct ps_endpoint ep;
	char err[256], text[64];

	(void)state;
	assert_int_equal(
		netaddr_parse_endpoint("[::1]:80", &ep, err, sizeof(err)), 0);
	assert_int_equal(netaddr_sockaddr(&ep, AF_INET, &ss), sizeof(*s6));
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 80);
	assert_memory_equal(&s6->sin6_addr, loop6, 16);
	netaddr_format_endpoint(&ep, text, sizeof(text));
	assert_string_equal(text, "[::1]:80");
}

/* ":port": every address; [::] for a dual-stack socket, or 0.0.0.0. */
static void test_endpoint_any(void **state)
{
	static const uint8_t any6[16] = { 0 };
	struct sockaddr_storage ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
	struct ps_endpoint ep;
	char err[256], text[64];

	(void)state;
	assert_int_equal(
		netaddr_parse_endpoint(":11019", &ep, err, sizeof(err)), 0);
	assert_int_equal(ep.addr.af, 0);
	assert_int_equal(ep.port, 11019);
	netaddr_sockaddr(&ep, AF_INET6, &ss);
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_memory_equal(&s6->sin6_addr, any6, 16);
	assert_int_equal(ntohs(s6->sin6_port), 11019);
	netaddr_sockaddr(&ep, AF_INET, &ss);
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(s4->sin_addr.s_addr, 0);
	netaddr_format_endpoint(&ep, text, sizeof(text));
	assert_string_equal(text, ":11019");
}

static void test_endpoint_refused(void **state)
{
	static const char *const bad[] = {
		"localhost:9464", "127.0.0.1", "127.0.0.1:",  "127.0.0.1:65536",
		"11019",	  "[::1]9464", "[::1:9464",   "127.0.0.1:9x",
		"::1:9464",	  "",	       "1.2.3.4:-1",  "1.2.3.4:+80",
		"[1.2.3.4]:80",	  ":",	       "1.2.3.4: 80",
	};
	struct ps_endpoint ep;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(
			netaddr_parse_endpoint(bad[i], &ep, err, sizeof(err)),
			-1);
		assert_non_null(strstr(err, "expected"));
	}
	/* the mistakes people make get a hint */
	netaddr_parse_endpoint("11019", &ep, err, sizeof(err));
	assert_non_null(strstr(err, "bare port"));
	netaddr_parse_endpoint("::1:9464", &ep, err, sizeof(err));
	assert_non_null(strstr(err, "brackets"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_any),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_allow_refused),
		cmocka_unit_test(test_endpoint_ipv4),
		cmocka_unit_test(test_endpoint_ipv6),
		cmocka_unit_test(test_endpoint_any),
		cmocka_unit_test(test_endpoint_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
