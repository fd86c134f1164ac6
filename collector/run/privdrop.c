/* privdrop.c - see privdrop.h. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run/privdrop.h"

#define CAP_LAST_GUESS 63 /* prctl says EINVAL past the kernel's last */

bool privdrop_has_caps(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	bool caps = false;

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long v;

		if ((sscanf(line, "CapEff: %llx", &v) == 1 ||
		     sscanf(line, "CapPrm: %llx", &v) == 1) &&
		    v != 0)
			caps = true;
	}
	fclose(f);
	return caps;
}

/* While still root: empty the bounding and ambient sets for good. */
static void drop_bounding(void)
{
	for (int cap = 0; cap <= CAP_LAST_GUESS; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
		    errno == EINVAL)
			break;
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

/*
 * Empty the effective, permitted and inheritable sets.  Lowering them needs
 * no privilege, so this also works for a service started unprivileged with
 * ambient capabilities (systemd's AmbientCapabilities=).  No libcap: one
 * system call does it.
 */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return (int)syscall(SYS_capset, &hdr, data) == 0 ? 0 : -1;
}

static int switch_user(const char *name, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc;

	rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		snprintf(err, errlen, "run_as_user: no user \"%s\"%s%s", name,
			 rc != 0 ? ": " : "", rc != 0 ? strerror(rc) : "");
		return -1;
	}
	if (getuid() != 0 && geteuid() != 0) {
		if (geteuid() == pw.pw_uid)
			return 0; /* already that user: nothing to drop */
		snprintf(err, errlen,
			 "run_as_user: cannot switch to \"%s\" without root",
			 name);
		return -1;
	}
	drop_bounding();
	/* Groups first: after setuid we could no longer change them. */
	if (setgroups(0, NULL) == -1 || setgid(pw.pw_gid) == -1 ||
	    setuid(pw.pw_uid) == -1) {
		snprintf(err, errlen, "run_as_user: switching to \"%s\": %s",
			 name, strerror(errno));
		return -1;
	}
	/* A process that could setuid(0) again has not dropped anything. */
	if (pw.pw_uid != 0 && setuid(0) != -1) {
		snprintf(err, errlen, "run_as_user: could regain root");
		return -1;
	}
	return 0;
}

int privdrop_target(const struct ps_config *cfg, uid_t *uid, gid_t *gid,
		    char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc;

	if (strcmp(cfg->run_as_user, "-") == 0 ||
	    (getuid() != 0 && geteuid() != 0))
		return 0;
	rc = getpwnam_r(cfg->run_as_user, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		snprintf(err, errlen, "run_as_user: no user \"%s\"%s%s",
			 cfg->run_as_user, rc != 0 ? ": " : "",
			 rc != 0 ? strerror(rc) : "");
		return -1;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return pw.pw_uid != 0 ? 1 : 0;
}

int privdrop_apply(const struct ps_config *cfg, char *err, size_t errlen)
{
	if (strcmp(cfg->run_as_user, "-") != 0 &&
	    switch_user(cfg->run_as_user, err, errlen) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (geteuid() == 0 || getuid() == 0) {
		if (!cfg->allow_root) {
			snprintf(err, errlen,
				 "refusing to run as root after start-up: set "
				 "run_as_user (e.g. peerscope), or allow_root: "
				 "true");
			return -1;
		}
		return 0;
	}
	if (drop_capabilities() == -1 || privdrop_has_caps()) {
		snprintf(err, errlen,
			 "capabilities left after dropping root; refusing to "
			 "run with them");
		return -1;
	}
	return 0;
}
