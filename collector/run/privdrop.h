/*
 * privdrop.h - give up root after the sockets are bound.
 *
 * The collector needs privilege only to bind (ports below 1024, a large
 * SO_RCVBUFFORCE).  Once every socket is open, privdrop_apply() switches
 * to run_as_user and its primary group, drops supplementary groups, and
 * leaves no capability in the effective, permitted, inheritable, ambient
 * or bounding sets; no_new_privs stops a later exec from regaining any.
 * Then, unless allow_root is set, it refuses to go on as root.
 *
 * @thread main, while the other threads run: glibc applies set*id() to
 * every thread of the process.
 */
#ifndef PEERSCOPE_PRIVDROP_H
#define PEERSCOPE_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/config.h"

/* 0, or -1 with a reason in err (the caller must then exit). */
int privdrop_apply(const struct ps_config *cfg, char *err, size_t errlen);

/*
 * Whom privdrop_apply() will switch to: 1 with *uid and *gid when it will
 * (run_as_user set, and running as root), 0 when it will not, -1 with err
 * when the user does not exist.  Files made before the switch are handed
 * to that user (live.c).
 */
int privdrop_target(const struct ps_config *cfg, uid_t *uid, gid_t *gid,
		    char *err, size_t errlen);

/* Capabilities left in the effective or permitted set (from /proc). */
bool privdrop_has_caps(void);

#endif /* PEERSCOPE_PRIVDROP_H */
