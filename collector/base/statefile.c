/* statefile.c - see statefile.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/statefile.h"

#define STATEFILE_PATH_MAX 4096
#define STATEFILE_TRIES	   16

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void sync_dir(const char *path)
{
	char copy[STATEFILE_PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

int statefile_write(const char *path, const void *data, size_t len, mode_t mode,
		    char *err, size_t errlen)
{
	char tmp[STATEFILE_PATH_MAX];
	int fd = -1;

	if ((mode & 0027) != 0 || (mode & ~(mode_t)0777) != 0) {
		snprintf(err, errlen,
			 "%s: mode %04o is too open (use 0600 "
			 "or 0640)",
			 path, (unsigned)mode);
		return -1;
	}
	for (int i = 0; i < STATEFILE_TRIES && fd == -1; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d.%ld", path,
				     (int)getpid(),
				     ts.tv_nsec + i) >= sizeof(tmp)) {
			snprintf(err, errlen, "%s: path too long", path);
			return -1;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd == -1 && errno != EEXIST)
			break;
	}
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) == -1 || write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	sync_dir(path);
	return 0;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}
