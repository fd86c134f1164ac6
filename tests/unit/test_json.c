/* test_json.c - the JSON writer: commas, escaping, numbers, time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "base/json.h"

static void test_json_shapes(void **state)
{
	struct jbuf j;

	(void)state;
	jbuf_init(&j);
	json_obj_begin(&j, NULL);
	json_str(&j, "s", "a\"b\\c\n");
	json_u64(&j, "u", 18446744073709551615ULL);
	json_i64(&j, "i", -5);
	json_double(&j, "d", 2.5000, 3);
	json_double(&j, "z", -0.0001, 3);
	json_double(&j, "n", NAN, 3);
	json_arr_begin(&j, "a");
	json_bool(&j, NULL, true);
	json_null(&j, NULL);
	json_arr_end(&j);
	json_obj_begin(&j, "o");
	json_obj_end(&j);
	/* 2026-11-26T09:00:00.123Z = 1795683600 s since the epoch */
	json_time(&j, "t", 1795683600123456789ULL);
	json_obj_end(&j);
	assert_false(j.failed);
	assert_string_equal(
		j.buf,
		"{\"s\":\"a\\\"b\\\\c\\u000a\",\"u\":18446744073709551615,"
		"\"i\":-5,\"d\":2.5,\"z\":0,\"n\":null,"
		"\"a\":[true,null],\"o\":{},"
		"\"t\":\"2026-11-26T09:00:00.123Z\"}");
	jbuf_fini(&j);
}

/* The string of one json_str call, as written between the braces. */
static void assert_str_written(const char *value, const char *want)
{
	struct jbuf j;

	jbuf_init(&j);
	json_obj_begin(&j, NULL);
	json_str(&j, "k", value);
	json_obj_end(&j);
	assert_false(j.failed);
	assert_string_equal(j.buf, want);
	jbuf_fini(&j);
}

/*
 * Strings from the wire: well-formed UTF-8 (RFC 3629) passes unchanged;
 * every byte that does not start a well-formed sequence becomes U+FFFD.
 */
static void test_json_utf8(void **state)
{
	(void)state;
	/* e-acute (2 bytes), euro sign (3), U+1F600 (4), DEL stays */
	assert_str_written("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\x7f",
			   "{\"k\":\"caf\xc3\xa9 \xe2\x82\xac "
			   "\xf0\x9f\x98\x80\x7f\"}");
	/* a lone 0xff; a stray continuation byte */
	assert_str_written("a\xff" "b\x80", "{\"k\":\"a\\ufffdb\\ufffd\"}");
	/* overlong NUL (C0 80): two replaced bytes */
	assert_str_written("\xc0\x80", "{\"k\":\"\\ufffd\\ufffd\"}");
	/* overlong 3-byte form of '/' (E0 80 AF) */
	assert_str_written("\xe0\x80\xaf",
			   "{\"k\":\"\\ufffd\\ufffd\\ufffd\"}");
	/* surrogate U+D800 (ED A0 80) */
	assert_str_written("\xed\xa0\x80",
			   "{\"k\":\"\\ufffd\\ufffd\\ufffd\"}");
	/* past U+10FFFF (F4 90 80 80) */
	assert_str_written("\xf4\x90\x80\x80",
			   "{\"k\":\"\\ufffd\\ufffd\\ufffd\\ufffd\"}");
	/* a sequence cut by the end of the string (a truncated TLV) */
	assert_str_written("x\xe2\x82", "{\"k\":\"x\\ufffd\\ufffd\"}");
	/* controls and the two escapes, between plain runs */
	assert_str_written("\x01q\"\\\t", "{\"k\":\"\\u0001q\\\"\\\\\\u0009\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_shapes),
		cmocka_unit_test(test_json_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
