/* test_udp_allow.c - udp.allow: prefix parsing and matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "udp_allow.h"

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

static bool allows(const struct udp_allow *l, const char *text)
{
	struct ps_addr a = addr(text);

	return udp_allow_match(l, &a);
}

static void test_any(void **state)
{
	struct udp_allow l;
	char err[160];

	(void)state;
	assert_int_equal(udp_allow_parse(&l, "any", err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	assert_true(allows(&l, "198.51.100.7"));
	assert_true(allows(&l, "2001:db8::1"));
}

static void test_prefixes(void **state)
{
	struct udp_allow l;
	char err[160];

	(void)state;
	/* host bits set on purpose: 192.0.2.77/25 means 192.0.2.0/25 */
	assert_int_equal(udp_allow_parse(&l,
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
	assert_int_equal(udp_allow_parse(&l, "0.0.0.0/0", err, sizeof(err)), 0);
	assert_true(allows(&l, "203.0.113.9"));
	assert_false(allows(&l, "2001:db8::9"));
}

static void test_refused(void **state)
{
	struct udp_allow l;
	char err[160];

	(void)state;
	assert_int_equal(udp_allow_parse(&l, "10.0.0.0/33", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "0..32"));
	assert_int_equal(
		udp_allow_parse(&l, "2001:db8::/129", err, sizeof(err)), -1);
	assert_int_equal(udp_allow_parse(&l, "10.0.0.0/", err, sizeof(err)),
			 -1);
	assert_int_equal(udp_allow_parse(&l, "10.0.0.0/8x", err, sizeof(err)),
			 -1);
	assert_int_equal(udp_allow_parse(&l, "router1", err, sizeof(err)), -1);
	assert_int_equal(udp_allow_parse(&l, " , ", err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_any),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
