/*
 * test_statewriter.c - the state-file writer: snapshots handed over by a
 * worker land on disk byte for byte (read back here), a newer snapshot
 * replaces a waiting one of the same file, a full queue drops and counts,
 * a write that fails is counted as failed, never as anything else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "xthread/statewriter.h"

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ps-statewriter-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *dup_text(const char *s)
{
	char *b = malloc(strlen(s));

	assert_non_null(b);
	memcpy(b, s, strlen(s));
	return b;
}

static void submit(struct state_writer *sw, const char *name,
		   const char *text, int want)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(state_writer_submit(sw, path, dup_text(text),
					     strlen(text), false),
			 want);
}

static void expect_file(const char *name, const char *text)
{
	char path[128], buf[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(n, strlen(text));
	assert_memory_equal(buf, text, n);
}

static uint64_t ld(const _Atomic uint64_t *v)
{
	return atomic_load(v);
}

/* Written by the writer's own thread, all there once stop returns. */
static void test_saves_land_on_disk(void **state)
{
	struct state_writer sw;

	(void)state;
	assert_int_equal(state_writer_init(&sw), 0);
	assert_int_equal(state_writer_start(&sw), 0);
	submit(&sw, "s.0", "zero", 0);
	submit(&sw, "s.1", "one", 0);
	state_writer_stop(&sw);
	expect_file("s.0", "zero");
	expect_file("s.1", "one");
	assert_int_equal(ld(&sw.stats.saved), 2);
	assert_int_equal(ld(&sw.stats.failed), 0);
	state_writer_fini(&sw);
}

/* Thread not started: the queue fills, the newer snapshot of a waiting
 * file replaces it, the 17th file is dropped and counted. */
static void test_bounded_queue(void **state)
{
	struct state_writer sw;
	char name[16];

	(void)state;
	assert_int_equal(state_writer_init(&sw), 0);
	for (int i = 0; i < PS_STATE_WRITER_QUEUE; i++) {
		snprintf(name, sizeof(name), "q.%d", i);
		submit(&sw, name, "old", 0);
	}
	submit(&sw, "q.3", "new", 0); /* replaces, takes no slot */
	submit(&sw, "q.extra", "lost", -1);
	assert_int_equal(ld(&sw.stats.dropped), 1);
	state_writer_stop(&sw); /* writes what is queued */
	expect_file("q.3", "new");
	expect_file("q.0", "old");
	assert_int_equal(ld(&sw.stats.saved), PS_STATE_WRITER_QUEUE);
	snprintf(name, sizeof(name), "q.extra");
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		assert_int_equal(access(path, F_OK), -1);
	}
	state_writer_fini(&sw);
}

/* A file that cannot be written is a failed save. */
static void test_failed_write_counted(void **state)
{
	struct state_writer sw;

	(void)state;
	assert_int_equal(state_writer_init(&sw), 0);
	assert_int_equal(state_writer_start(&sw), 0);
	submit(&sw, "no-such-dir/s.0", "x", 0);
	state_writer_count_failed(&sw); /* a snapshot that failed */
	state_writer_stop(&sw);
	assert_int_equal(ld(&sw.stats.failed), 2);
	assert_int_equal(ld(&sw.stats.saved), 0);
	assert_int_equal(ld(&sw.stats.dropped), 0);
	state_writer_fini(&sw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_saves_land_on_disk),
		cmocka_unit_test(test_bounded_queue),
		cmocka_unit_test(test_failed_write_counted),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
