/* test_cursor.c - the cursor functions decoders use instead of its fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "peerscope/cursor.h"

static const uint8_t buf[] = { 0xff, 0x01, 0x02, 0x03, 0x04, 0x05 };

static void test_cursor_peek_does_not_move(void **state)
{
	struct cur c;
	uint8_t v = 0;

	(void)state;
	cur_init(&c, buf, sizeof(buf));
	assert_int_equal(cur_peek_u8(&c, &v), 0);
	assert_int_equal(v, 0xff);
	assert_int_equal(cur_left(&c), 6);
	assert_ptr_equal(cur_data(&c), buf);
	cur_init(&c, buf, 0);
	assert_int_equal(cur_peek_u8(&c, &v), -1);
}

static void test_cursor_truncate_narrows_only(void **state)
{
	struct cur c;
	uint8_t out[4];

	(void)state;
	cur_init(&c, buf, sizeof(buf));
	assert_int_equal(cur_truncate(&c, 7), -1); /* cannot widen */
	assert_int_equal(cur_left(&c), 6);
	assert_int_equal(cur_truncate(&c, 3), 0);
	assert_int_equal(cur_left(&c), 3);
	assert_int_equal(cur_bytes(&c, out, 4), -1); /* byte 4 is cut off */
	assert_int_equal(cur_bytes(&c, out, 3), 0);
	assert_memory_equal(out, buf, 3);
	assert_true(cur_is_empty(&c));
}

static void test_cursor_consumed_and_abandon(void **state)
{
	struct cur c, mark;
	uint16_t v;

	(void)state;
	cur_init(&c, buf, sizeof(buf));
	mark = c;
	assert_int_equal(cur_u16(&c, &v), 0);
	assert_int_equal(cur_skip(&c, 1), 0);
	assert_int_equal(cur_consumed(&mark, &c), 3);
	assert_ptr_equal(cur_data(&c), buf + 3);
	cur_abandon(&c);
	assert_true(cur_is_empty(&c));
	assert_int_equal(cur_skip(&c, 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor_peek_does_not_move),
		cmocka_unit_test(test_cursor_truncate_narrows_only),
		cmocka_unit_test(test_cursor_consumed_and_abandon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
