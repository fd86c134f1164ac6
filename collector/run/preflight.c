/* preflight.c - see preflight.h. */
#include <errno.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/netaddr.h"
#include "publish/sink_kafka.h"
#include "run/preflight.h"

#define FINDING_MAX 700

struct findings {
	const struct ps_config *cfg;
	FILE *out;
	unsigned n;
};

__attribute__((format(printf, 3, 4))) static void
found(struct findings *f, const char *key, const char *fmt, ...)
{
	char msg[FINDING_MAX], line[FINDING_MAX + 300];
	va_list ap;

	if (f->n++ >= PREFLIGHT_MAX_FINDINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_key_error(f->cfg, key, line, sizeof(line), "%s", msg);
	fprintf(f->out, "peerscope: %s\n", line);
}

/* One listener key's address must be this host's. */
static void check_endpoint(struct findings *f, const char *key,
			   const char *text)
{
	struct ps_endpoint ep;
	char why[300];

	if (strcmp(text, "-") == 0 ||
	    netaddr_parse_endpoint(text, &ep, why, sizeof(why)) == -1)
		return; /* off, or config.c said so already */
	if (!netaddr_is_local(&ep, why, sizeof(why)))
		found(f, key, "%s", why);
}

static void check_listeners(struct findings *f)
{
	const struct ps_config *cfg = f->cfg;
	char key[64], why[300];

	for (uint32_t i = 0; i < cfg->listen_count; i++) {
		const struct ps_listen *l = &cfg->listen[i];
		struct ps_endpoint ep = { .addr = l->addr, .port = l->port };

		/* one wildcard half of ":port" is always local */
		if (netaddr_is_local(&ep, why, sizeof(why)))
			continue;
		snprintf(key, sizeof(key), "listen.%s",
			 ps_proto_name(l->proto));
		found(f, key, "%s", why);
	}
	check_endpoint(f, "bmp.listen", cfg->bmp_listen);
	check_endpoint(f, "flow.tcp_listen", cfg->flow_tcp_listen);
	if (cfg->http_enabled)
		check_endpoint(f, "http.listen", cfg->http_listen);
}

static void check_user(struct findings *f)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc;

	if (strcmp(f->cfg->run_as_user, "-") == 0)
		return;
	rc = getpwnam_r(f->cfg->run_as_user, &pw, buf, sizeof(buf), &res);
	if (res == NULL)
		found(f, "run_as_user", "no user \"%s\"%s%s",
		      f->cfg->run_as_user, rc != 0 ? ": " : "",
		      rc != 0 ? strerror(rc) : "");
}

/* The directory a file would be created in: exists, is one, writable. */
static void check_dir_of(struct findings *f, const char *key, const char *path,
			 bool writable)
{
	char copy[sizeof(f->cfg->json_path) + sizeof(f->cfg->flow_state_file)];
	struct stat st;
	const char *dir;

	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	if (stat(dir, &st) == -1)
		found(f, key, "%s: directory %s: %s", path, dir,
		      strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		found(f, key, "%s: %s is not a directory", path, dir);
	else if (writable && access(dir, W_OK | X_OK) == -1)
		found(f, key, "%s: cannot create files in %s: %s", path, dir,
		      strerror(errno));
}

static void check_files(struct findings *f)
{
	const struct ps_config *cfg = f->cfg;
	const char *json = cfg->json_path;
	struct stat st;

	if (cfg->json_enabled && strcmp(json, "-") != 0) {
		if (stat(json, &st) == -1)
			check_dir_of(f, "output.json.path", json, true);
		else if (S_ISDIR(st.st_mode))
			found(f, "output.json.path", "%s is a directory", json);
		else if (access(json, W_OK) == -1)
			found(f, "output.json.path", "%s: %s", json,
			      strerror(errno));
	}
	/* written as FILE.<worker> by the workers, after any user switch */
	if (strcmp(cfg->flow_state_file, "-") != 0)
		check_dir_of(f, "flow.state_file", cfg->flow_state_file, false);
}

/* sink_kafka_check() says "<key>: <why>": place it where key was set. */
static void check_kafka(struct findings *f)
{
	char err[FINDING_MAX], key[64];
	size_t klen;

	if (!f->cfg->kafka.enabled ||
	    sink_kafka_check(&f->cfg->kafka, err, sizeof(err)) == 0)
		return;
	klen = strcspn(err, ":");
	if (err[klen] != ':' || klen >= sizeof(key)) {
		found(f, "output.kafka", "%s", err);
		return;
	}
	memcpy(key, err, klen);
	key[klen] = '\0';
	found(f, key, "%s", err + klen + (err[klen + 1] == ' ' ? 2 : 1));
}

unsigned preflight_check(const struct ps_config *cfg, bool replay, FILE *out)
{
	struct findings f = { .cfg = cfg, .out = out, .n = 0 };

	if (!replay) {
		check_listeners(&f);
		check_user(&f);
	}
	check_files(&f);
	check_kafka(&f);
	if (f.n > PREFLIGHT_MAX_FINDINGS)
		fprintf(out, "peerscope: ... and %u more\n",
			f.n - PREFLIGHT_MAX_FINDINGS);
	return f.n;
}
