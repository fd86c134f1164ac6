/*
 * statefile.h - write a state file (templates, caches) so that readers see
 * either the old content or the new, never a torn file, and nobody else
 * can read it in between.
 *
 *   statefile_write("/var/lib/peerscope/templates.bin", buf, len, 0600,
 *                   err, sizeof(err));
 *
 * The data goes to a temporary file created O_EXCL with `mode` in the same
 * directory, is fsync'd, renamed over `path`, and the directory is fsync'd
 * so the rename survives a crash.  `mode` is applied with fchmod, so the
 * umask cannot widen or narrow it.  On error the temporary file is removed
 * and `path` is untouched.
 *
 * @thread any, @locks none (two writers of the same path: last rename wins).
 */
#ifndef PEERSCOPE_STATEFILE_H
#define PEERSCOPE_STATEFILE_H

#include <stddef.h>
#include <sys/types.h>

/* mode: 0600 or 0640 are the sensible ones; anything group/world-writable
 * or world-readable is refused. */
int statefile_write(const char *path, const void *data, size_t len, mode_t mode,
		    char *err, size_t errlen);

#endif /* PEERSCOPE_STATEFILE_H */
