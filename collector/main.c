/*
 * main.c - the peerscope command line.
 *
 *   peerscope [options]                    run the collector (live sockets)
 *   peerscope replay [options] CAPTURE...  replay captures, then exit
 *
 * Named flags are shorthands for configuration keys, applied after the
 * configuration file, so `--window 10` is `--set window_seconds=10`.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "conn/registry.h"
#include "replay/replay.h"
#include "run/live.h"
#include "run/pipeline.h"
#include "run/preflight.h"
#include "top/top.h"

#define PEERSCOPE_VERSION "0.1.0"

static void usage(FILE *out)
{
	fputs("usage: peerscope [options]                    run the collector\n"
	      "       peerscope replay [options] CAPTURE...  replay pcap/pcapng (plain or gzip)\n"
	      "       peerscope top [--brokers LIST] [--once] view connections from Kafka\n"
	      "\n"
	      "options:\n"
	      "  -c, --config FILE      YAML configuration file\n"
	      "  -s, --set KEY=VALUE    set a configuration key (repeatable)\n"
	      "  -w, --workers N        worker threads (0 = one per CPU)\n"
	      "      --window SECONDS   aggregation window\n"
	      "  -o, --output FILE      JSON lines output (- = stdout)\n"
	      "      --stats FILE       write the run's counters as JSON (replay)\n"
	      "      --serve-metrics S  replay: then serve /metrics for S seconds\n"
	      "      --check-config     validate the configuration, print it, exit\n"
	      "  -V, --version          print the version\n"
	      "  -h, --help             this text\n",
	      out);
}

struct cli {
	const char *stats_path;
	bool check_config;
};

/* Apply "KEY=VALUE" through the configuration table. */
static int set_pair(struct ps_config *cfg, const char *pair)
{
	char err[512];

	if (config_set_pair(cfg, pair, err, sizeof(err)) == -1) {
		fprintf(stderr, "peerscope: %s\n", err);
		return -1;
	}
	return 0;
}

static int set_key(struct ps_config *cfg, const char *key, const char *value)
{
	char err[512];

	if (config_set(cfg, key, value, err, sizeof(err)) == -1) {
		fprintf(stderr, "peerscope: %s\n", err);
		return -1;
	}
	return 0;
}

enum { OPT_WINDOW = 256, OPT_STATS, OPT_CHECK, OPT_SERVE };

/*
 * Two passes: the configuration file first, then every flag over it, so
 * flags win whatever their order on the command line.
 */
static int parse_args(int argc, char **argv, struct ps_config *cfg,
		      struct cli *cli)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "workers", required_argument, NULL, 'w' },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "output", required_argument, NULL, 'o' },
		{ "stats", required_argument, NULL, OPT_STATS },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "serve-metrics", required_argument, NULL, OPT_SERVE },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *shortopts = "c:s:w:o:Vh";
	char err[512];
	int c;

	opterr = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (config_load(cfg, optarg, err, sizeof(err)) == -1) {
				fprintf(stderr, "peerscope: %s\n", err);
				return -1;
			}
			break;
		case 'V':
			printf("peerscope %s\n", PEERSCOPE_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case '?':
			usage(stderr);
			return -1;
		default:
			break;
		}
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		int rc = 0;

		switch (c) {
		case 's':
			rc = set_pair(cfg, optarg);
			break;
		case 'w':
			rc = set_key(cfg, "workers", optarg);
			break;
		case OPT_WINDOW:
			rc = set_key(cfg, "window_seconds", optarg);
			break;
		case 'o':
			rc = set_key(cfg, "output.json.path", optarg);
			break;
		case OPT_STATS:
			cli->stats_path = optarg;
			break;
		case OPT_CHECK:
			cli->check_config = true;
			break;
		case OPT_SERVE:
			rc = set_key(cfg, "replay.serve_metrics_seconds",
				     optarg);
			break;
		default:
			break;
		}
		if (rc == -1)
			return -1;
	}
	if (config_validate(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "peerscope: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * The connection registry of `cfg` (its file's `connections:` and the IX
 * data files it names) into cfg->registry; warnings on stderr.  0, or -1
 * with the reason in err (cfg->registry stays NULL).
 */
static int registry_attach(struct ps_config *cfg, char *err, size_t errlen)
{
	struct conn_registry *r = NULL;
	struct conn_registry_err e;
	const char *const *warn;
	size_t n;

	cfg->registry = NULL;
	if (conn_registry_load(cfg, &r, &e) == -1) {
		snprintf(err, errlen, "%s", e.text);
		return -1;
	}
	warn = conn_registry_warnings(r, &n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "peerscope: warning: %s\n", warn[i]);
	cfg->registry = r;
	return 0;
}

/* The command line, kept for SIGHUP: a reload re-reads it over the file. */
struct reload_args {
	int argc;
	char **argv;
};

/* @thread main.  live_reload_fn: file first for a precise error, then all. */
static int reload_config(struct ps_config *fresh, const char *path,
			 void *ctx, char *err, size_t errlen)
{
	const struct reload_args *a = ctx;
	struct cli ignored = { NULL, false };

	config_init(fresh);
	if (path[0] != '\0' && config_load(fresh, path, err, errlen) == -1)
		return -1;
	config_init(fresh);
	if (parse_args(a->argc, a->argv, fresh, &ignored) == 0)
		return registry_attach(fresh, err, errlen);
	/* parse_args() printed why; when the file alone says so, log it. */
	config_init(fresh);
	if (path[0] != '\0' && config_load(fresh, path, err, errlen) == 0 &&
	    config_validate(fresh, err, errlen) == -1)
		return -1;
	snprintf(err, errlen, "%s: rejected (reason above)",
		 path[0] ? path : "command line");
	return -1;
}

/* Live collector: see live.c (signals, privileges, /metrics, reload). */
static int run_live(const struct ps_config *cfg, const struct cli *cli,
		    int argc, char **argv)
{
	struct reload_args a = { argc, argv };

	return live_run(cfg, cli->stats_path, reload_config, &a);
}

/* After the configuration and its registry are built. */
static int run(struct ps_config *cfg, const struct cli *cli, bool replay,
	       int argc, char **argv)
{
	/* What start-up would refuse, said before anything starts. */
	if (preflight_check(cfg, replay, stderr) > 0)
		return 2;
	if (cli->check_config) {
		config_dump(cfg, stdout);
		return 0;
	}
	if (!replay)
		return run_live(cfg, cli, argc, argv);
	if (optind >= argc) {
		fprintf(stderr, "peerscope replay: no capture given\n");
		usage(stderr);
		return 2;
	}
	return replay_run(cfg, argv + optind, argc - optind, cli->stats_path);
}

int main(int argc, char **argv)
{
	struct ps_config cfg;
	struct cli cli = { NULL, false };
	bool replay = argc > 1 && strcmp(argv[1], "replay") == 0;
	char err[CONN_ERR_MAX];
	int rc;

	if (argc > 1 && strcmp(argv[1], "top") == 0)
		return top_main(argc - 1, argv + 1);
	config_init(&cfg);
	if (replay) {
		argv++;
		argc--;
	}
	if (parse_args(argc, argv, &cfg, &cli) == -1)
		return 2;
	if (registry_attach(&cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "peerscope: %s\n", err);
		return 2;
	}
	rc = run(&cfg, &cli, replay, argc, argv);
	conn_registry_free((struct conn_registry *)cfg.registry);
	return rc;
}
