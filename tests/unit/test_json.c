/* test_json.c - the JSON writer: commas, escaping, numbers, time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "json.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
