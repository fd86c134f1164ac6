/*
 * runfile.h - files in runtime_dir (default /run/peerscope) that tell
 * other programs on the host about the running collector:
 *
 *   kafka-brokers   the embedded Kafka broker's address, one line
 *                   ("127.0.0.1:45493"): `peerscope top` reads it, and so
 *                   can any client (kcat -b "$(cat /run/peerscope/...)").
 *
 * Written atomically (a temporary file renamed into place), readable by
 * everyone (an address on loopback is no secret), never writable by
 * others.  Removed when the collector stops using it, and only while it
 * still holds what this process wrote, so a newer instance's file stays.
 * A runtime file that cannot be written is logged, never fatal.
 *
 * @thread main, or the merger when a SIGHUP starts the embedded broker.
 */
#ifndef PEERSCOPE_RUNFILE_H
#define PEERSCOPE_RUNFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/config.h"

#define RUNFILE_KAFKA_BROKERS "kafka-brokers"

/*
 * Before dropping privileges: make runtime_dir (0755) and, when give is
 * set, hand it to uid/gid, who will write in it.  0, or -1 with err;
 * nothing to do when runtime_dir is "-".
 */
int runfile_dir_prepare(const struct ps_config *cfg, bool give, uid_t uid,
			gid_t gid, char *err, size_t errlen);

/* runtime_dir/name := text plus a newline.  0, or -1 with err. */
int runfile_write(const struct ps_config *cfg, const char *name,
		  const char *text, char *err, size_t errlen);

/* Remove runtime_dir/name if it still says text. */
void runfile_remove(const struct ps_config *cfg, const char *name,
		    const char *text);

/* The first line of dir/name into buf.  0, or -1 (absent, unreadable). */
int runfile_read(const char *dir, const char *name, char *buf, size_t len);

#endif /* PEERSCOPE_RUNFILE_H */
