/*
 * test_cpulimit.c - workers from the cgroup CPU quota, against cgroup
 * trees written out by hand in a temporary directory: the files the
 * kernel documents (Documentation/admin-guide/cgroup-v2.rst, cpu.max;
 * cgroup-v1/cfs: cpu.cfs_quota_us, cpu.cfs_period_us) and
 * /proc/self/cgroup lines as proc(5) gives them.
 */
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

#include "run/cpulimit.h"

struct tree {
	char root[64];
	char self[128];
};

static void put(const struct tree *t, const char *rel, const char *text)
{
	char path[512], dir[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	/* every directory on the way */
	for (char *s = strchr(path + strlen(t->root) + 1, '/'); s != NULL;
	     s = strchr(s + 1, '/')) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(s - path), path);
		mkdir(dir, 0755);
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void tree_new(struct tree *t, const char *proc_self_cgroup)
{
	FILE *f;

	snprintf(t->root, sizeof(t->root), "/tmp/ps-cg-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	snprintf(t->self, sizeof(t->self), "%s/self-cgroup", t->root);
	f = fopen(t->self, "w");
	assert_non_null(f);
	fputs(proc_self_cgroup, f);
	fclose(f);
}

static void tree_free(struct tree *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	assert_int_equal(system(cmd), 0);
}

/* v2, a Kubernetes pod limited to 2 CPUs: cpu.max "200000 100000". */
static void test_v2_pod(void **state)
{
	struct tree t;

	(void)state;
	tree_new(&t, "0::/kubepods/burstable/pod1/ctr\n");
	put(&t, "kubepods/cpu.max", "max 100000\n");
	put(&t, "kubepods/burstable/cpu.max", "max 100000\n");
	put(&t, "kubepods/burstable/pod1/cpu.max", "200000 100000\n");
	put(&t, "kubepods/burstable/pod1/ctr/cpu.max", "max 100000\n");
	assert_int_equal(cpulimit_cgroup(t.root, t.self), 2);
	/* 1.5 CPUs: rounded up; the parent's stricter limit wins */
	put(&t, "kubepods/burstable/pod1/ctr/cpu.max", "150000 100000\n");
	assert_int_equal(cpulimit_cgroup(t.root, t.self), 2);
	put(&t, "kubepods/burstable/cpu.max", "50000 100000\n");
	assert_int_equal(cpulimit_cgroup(t.root, t.self), 1);
	tree_free(&t);
}

/* No quota anywhere: "max"; and a missing cpu.max. */
static void test_v2_unlimited(void **state)
{
	struct tree t;

	(void)state;
	tree_new(&t, "0::/system.slice/peerscope.service\n");
	put(&t, "system.slice/peerscope.service/cpu.max", "max 100000\n");
	assert_int_equal(cpulimit_cgroup(t.root, t.self), 0);
	tree_free(&t);
	tree_new(&t, "0::/system.slice/peerscope.service\n");
	assert_int_equal(cpulimit_cgroup(t.root, t.self), 0);
	tree_free(&t);
}

/* In a cgroup namespace the path is "/", the container's files at the
 * mount point; without one, the path is not under the mount. */
static void test_v2_namespace(void **state)
{
	struct tree t;

	(void)state;
	tree_new(&t, "0::/\n");
	put(&t, "cpu.max", "400000 100000\n");
	assert_int_equal(cpulimit_cgroup(t.root, t.self), 4);
	tree_free(&t);
	tree_new(&t, "0::/kubepods/pod9/ctr\n");
	put(&t, "cpu.max", "300000 100000\n");
	assert_int_equal(cpulimit_cgroup(t.root, t.self), 3);
	tree_free(&t);
}

/* v1 (and hybrid): the cpu controller's files, quota -1 = none. */
static void test_v1(void **state)
{
	struct tree t;

	(void)state;
	tree_new(&t, "12:pids:/docker/abc\n"
		     "4:cpu,cpuacct:/docker/abc\n"
		     "0::/docker/abc\n");
	put(&t, "cpu,cpuacct/cpu.cfs_period_us", "100000\n");
	put(&t, "cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
	put(&t, "cpu,cpuacct/docker/cpu.cfs_period_us", "100000\n");
	put(&t, "cpu,cpuacct/docker/cpu.cfs_quota_us", "-1\n");
	put(&t, "cpu,cpuacct/docker/abc/cpu.cfs_period_us", "50000\n");
	put(&t, "cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "125000\n");
	assert_int_equal(cpulimit_cgroup(t.root, t.self), 3); /* 2.5 */
	put(&t, "cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n");
	assert_int_equal(cpulimit_cgroup(t.root, t.self), 0);
	tree_free(&t);
}

/* Garbage and absent files: no limit, never a crash. */
static void test_garbage(void **state)
{
	struct tree t;

	(void)state;
	tree_new(&t, "junk\n0::relative\n::\n0::/a\n");
	put(&t, "a/cpu.max", "lots 0\n");
	assert_int_equal(cpulimit_cgroup(t.root, t.self), 0);
	put(&t, "a/cpu.max", "100000 0\n");
	assert_int_equal(cpulimit_cgroup(t.root, t.self), 0);
	assert_int_equal(cpulimit_cgroup(t.root, "/nonexistent/cgroup"), 0);
	tree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_pod),
		cmocka_unit_test(test_v2_unlimited),
		cmocka_unit_test(test_v2_namespace),
		cmocka_unit_test(test_v1),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
