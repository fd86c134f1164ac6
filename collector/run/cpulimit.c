/* cpulimit.c - see cpulimit.h. */
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/cpulimit.h"

#define CG_PATH_MAX 1024

/* CPUs of quota/period, rounded up; 0 for no limit or nonsense. */
static unsigned cpus_of(long long quota, long long period)
{
	if (quota <= 0 || period <= 0)
		return 0;
	return (unsigned)((quota + period - 1) / period);
}

/* cgroup v2: "max PERIOD" or "QUOTA PERIOD" in dir/cpu.max. */
static unsigned v2_limit(const char *dir)
{
	char path[3 * CG_PATH_MAX], quota[32];
	long long period = 0;
	unsigned n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cpu.max", dir);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%31s %lld", quota, &period) == 2 &&
	    strcmp(quota, "max") != 0)
		n = cpus_of(strtoll(quota, NULL, 10), period);
	fclose(f);
	return n;
}

static long long read_ll(const char *dir, const char *name)
{
	char path[3 * CG_PATH_MAX];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* cgroup v1: cpu.cfs_quota_us over cpu.cfs_period_us in dir. */
static unsigned v1_limit(const char *dir)
{
	return cpus_of(read_ll(dir, "cpu.cfs_quota_us"),
		       read_ll(dir, "cpu.cfs_period_us"));
}

static unsigned smaller(unsigned a, unsigned b)
{
	return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

/*
 * The smallest limit from mount/path up to mount itself; when mount/path
 * is not there (a container that mounts its own cgroup at the mount
 * point), the mount point alone.
 */
static unsigned walk_up(const char *mount, const char *cg_path, bool v2)
{
	char path[CG_PATH_MAX], dir[2 * CG_PATH_MAX];
	unsigned best = 0;
	FILE *probe;

	snprintf(path, sizeof(path), "%s", cg_path);
	snprintf(dir, sizeof(dir), "%s%s/%s", mount, path,
		 v2 ? "cpu.max" : "cpu.cfs_quota_us");
	probe = fopen(dir, "re");
	if (probe == NULL)
		snprintf(path, sizeof(path), "/");
	else
		fclose(probe);
	for (;;) {
		char *slash;

		snprintf(dir, sizeof(dir), "%s%s", mount,
			 strcmp(path, "/") == 0 ? "" : path);
		best = smaller(best, v2 ? v2_limit(dir) : v1_limit(dir));
		slash = strrchr(path, '/');
		if (slash == NULL || strcmp(path, "/") == 0)
			return best;
		if (slash == path)
			slash[1] = '\0'; /* "/a" -> "/" */
		else
			*slash = '\0';
	}
}

/* Whether a v1 controller list ("cpu,cpuacct") names cpu. */
static bool has_cpu(const char *list)
{
	char copy[256], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", list);
	for (char *c = strtok_r(copy, ",", &save); c != NULL;
	     c = strtok_r(NULL, ",", &save))
		if (strcmp(c, "cpu") == 0)
			return true;
	return false;
}

/* The v1 cpu hierarchy is mounted under one of these names. */
static unsigned v1_walk(const char *root, const char *list, const char *path)
{
	static const char *const names[] = { "cpu", "cpu,cpuacct",
					     "cpuacct,cpu" };
	char mount[CG_PATH_MAX], probe[CG_PATH_MAX + 32];
	unsigned best = 0;

	(void)list;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		FILE *f;

		snprintf(mount, sizeof(mount), "%s/%s", root, names[i]);
		snprintf(probe, sizeof(probe), "%s/cpu.cfs_period_us", mount);
		f = fopen(probe, "re");
		if (f == NULL)
			continue;
		fclose(f);
		best = smaller(best, walk_up(mount, path, false));
		break;
	}
	return best;
}

unsigned cpulimit_cgroup(const char *root, const char *self)
{
	char line[CG_PATH_MAX + 256], unified[CG_PATH_MAX];
	unsigned best = 0;
	FILE *f = fopen(self, "re");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *list, *path;

		line[strcspn(line, "\n")] = '\0';
		/* hierarchy-ID:controller-list:cgroup-path */
		list = strchr(line, ':');
		path = list != NULL ? strchr(list + 1, ':') : NULL;
		if (path == NULL)
			continue;
		*path++ = '\0';
		*list++ = '\0';
		if (path[0] != '/')
			continue;
		if (strcmp(line, "0") == 0 && list[0] == '\0') {
			/* v2: at the root, or at root/unified (hybrid) */
			best = smaller(best, walk_up(root, path, true));
			snprintf(unified, sizeof(unified), "%s/unified", root);
			best = smaller(best, walk_up(unified, path, true));
		} else if (has_cpu(list)) {
			best = smaller(best, v1_walk(root, list, path));
		}
	}
	fclose(f);
	return best;
}

unsigned cpulimit_affinity(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) == -1)
		return 1;
	n = CPU_COUNT(&set);
	return n < 1 ? 1 : (unsigned)n;
}

unsigned cpulimit_workers(unsigned max, char *why, size_t whylen)
{
	unsigned mask = cpulimit_affinity();
	unsigned quota = cpulimit_cgroup("/sys/fs/cgroup", "/proc/self/cgroup");
	unsigned n = smaller(mask, quota);

	if (n > max)
		n = max;
	if (quota != 0 && quota < mask)
		snprintf(why, whylen,
			 "the cgroup's CPU quota: %u CPUs, of %u in the "
			 "affinity mask",
			 quota, mask);
	else
		snprintf(why, whylen, "one per CPU of the affinity mask: %u",
			 mask);
	return n;
}
