/*
 * cpulimit.h - how many CPUs this process may really use, for the default
 * number of workers (workers: 0).
 *
 * The affinity mask says which CPUs the scheduler may run us on; in a
 * container it is usually every CPU of the node.  The CPU quota of the
 * cgroup says how much of them we get: a pod limited to 2 CPUs on a
 * 64-core node has 64 CPUs in its mask and 2 CPUs of time.  Sixty-four
 * workers there would each get a thirty-second of a core, be throttled in
 * turn, and drop datagrams while they wait.  So the default is the
 * smaller of the two, the quota rounded up (1.5 CPUs: 2 workers).
 *
 *   cgroup v2   cpu.max: "max 100000" (none) or "QUOTA PERIOD" in us
 *   cgroup v1   cpu.cfs_quota_us (-1: none) and cpu.cfs_period_us, in the
 *               cpu controller's hierarchy
 *
 * The process's cgroup comes from /proc/self/cgroup; every level from it
 * up to the root is read and the smallest limit wins (a parent's quota
 * holds its children).  Inside a container's cgroup namespace the path is
 * "/" and the container's own files sit at the mount point.
 *
 * @thread main (start-up), @locks none.
 */
#ifndef PEERSCOPE_CPULIMIT_H
#define PEERSCOPE_CPULIMIT_H

#include <stddef.h>

/*
 * CPUs the cgroup quota allows, rounded up, or 0 when there is no quota.
 * `root` is where the cgroup file system is mounted ("/sys/fs/cgroup")
 * and `self` the file naming the process's cgroups ("/proc/self/cgroup"):
 * tests point both at files of their own.
 */
unsigned cpulimit_cgroup(const char *root, const char *self);

/* CPUs in the process's affinity mask (at least 1). */
unsigned cpulimit_affinity(void);

/*
 * The workers to start when `workers` is 0: min(affinity, quota), at
 * least 1, at most max; why says how it was found.
 */
unsigned cpulimit_workers(unsigned max, char *why, size_t whylen);

#endif /* PEERSCOPE_CPULIMIT_H */
