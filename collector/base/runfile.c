/* runfile.c - see runfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/runfile.h"

static bool runfile_on(const struct ps_config *cfg)
{
	return strcmp(cfg->runtime_dir, "-") != 0;
}

int runfile_dir_prepare(const struct ps_config *cfg, bool give, uid_t uid,
			gid_t gid, char *err, size_t errlen)
{
	struct stat st;

	if (!runfile_on(cfg))
		return 0;
	if (mkdir(cfg->runtime_dir, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "runtime_dir %s: %s", cfg->runtime_dir,
			 strerror(errno));
		return -1;
	}
	if (stat(cfg->runtime_dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "runtime_dir %s: not a directory",
			 cfg->runtime_dir);
		return -1;
	}
	/* ours to give only when root made it (systemd's RuntimeDirectory
	 * is already the service user's) */
	if (give && st.st_uid == 0 && chown(cfg->runtime_dir, uid, gid) == -1) {
		snprintf(err, errlen, "runtime_dir %s: chown: %s",
			 cfg->runtime_dir, strerror(errno));
		return -1;
	}
	return 0;
}

int runfile_write(const struct ps_config *cfg, const char *name,
		  const char *text, char *err, size_t errlen)
{
	char path[512], tmp[540];
	size_t len = strlen(text);
	int fd;

	if (!runfile_on(cfg))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", cfg->runtime_dir, name);
	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1)
		goto fail;
	if (fchmod(fd, 0644) == -1 || write(fd, text, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1) {
		close(fd);
		(void)unlink(tmp);
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		(void)unlink(tmp);
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

int runfile_read(const char *dir, const char *name, char *buf, size_t len)
{
	char path[512];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] != '\0' ? 0 : -1;
}

void runfile_remove(const struct ps_config *cfg, const char *name,
		    const char *text)
{
	char path[512], have[512];

	if (!runfile_on(cfg) ||
	    runfile_read(cfg->runtime_dir, name, have, sizeof(have)) == -1 ||
	    strcmp(have, text) != 0)
		return;
	snprintf(path, sizeof(path), "%s/%s", cfg->runtime_dir, name);
	(void)unlink(path);
}
