/*
 * test_statefile.c - atomic state files: content, mode whatever the umask,
 * replacement, no temporary left behind, refusal of open modes, and the
 * old file untouched when the directory is not writable.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/statefile.h"

static char dir[] = "/tmp/ps-statefile-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static unsigned entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void test_write_and_replace(void **state)
{
	char path[256], err[256], got[64];
	struct stat st;
	mode_t old;

	(void)state;
	snprintf(path, sizeof(path), "%s/templates.bin", dir);
	old = umask(0); /* a permissive umask must not widen the mode */
	assert_int_equal(
		statefile_write(path, "first", 5, 0600, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	slurp(path, got, sizeof(got));
	assert_string_equal(got, "first");
	assert_int_equal(
		statefile_write(path, "second!", 7, 0640, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	slurp(path, got, sizeof(got));
	assert_string_equal(got, "second!");
	assert_int_equal(entries(), 1); /* no temporary left */
}

static void test_refuses_open_modes(void **state)
{
	char path[256], err[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/x", dir);
	assert_int_equal(statefile_write(path, "x", 1, 0644, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "too open"));
	assert_int_equal(statefile_write(path, "x", 1, 0660, err, sizeof(err)),
			 -1);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_missing_dir_leaves_nothing(void **state)
{
	char path[256], err[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/no/such/file", dir);
	assert_int_equal(statefile_write(path, "x", 1, 0600, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_and_replace),
		cmocka_unit_test(test_refuses_open_modes),
		cmocka_unit_test(test_missing_dir_leaves_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
