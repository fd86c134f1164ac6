/*
 * test_config.c - the YAML loader, command-line overrides, validation, the
 * dump and the checked-in example file.
 *
 * Every test writes its YAML to a mkstemp() file, loads it over the
 * defaults and asserts either the parsed values or the exact error text
 * (which names the file, the line and the key).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/config.h"

#define ERR_LEN 512

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Load len bytes of YAML over cfg from a temporary file named in path. */
static int load_bytes(struct ps_config *cfg, const char *text, size_t len,
		      char path[64], char *err)
{
	const char *dir = getenv("TMPDIR");
	int fd, rc;

	snprintf(path, 64, "%s/peerscope-cfg-XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, text, len);
	rc = config_load(cfg, path, err, ERR_LEN);
	unlink(path);
	return rc;
}

static int load_text(struct ps_config *cfg, const char *yaml, char path[64],
		     char *err)
{
	return load_bytes(cfg, yaml, strlen(yaml), path, err);
}

/* Load yaml over the defaults: it must succeed. */
static void load_ok(struct ps_config *cfg, const char *yaml)
{
	char path[64], err[ERR_LEN] = "";

	config_init(cfg);
	if (load_text(cfg, yaml, path, err) != 0)
		fail_msg("unexpected error: %s", err);
	assert_string_equal(cfg->path, path);
}

/*
 * Load yaml over the defaults: it must fail with "<file>:<rest>" and leave
 * the struct untouched.
 */
static void load_err_bytes(const char *yaml, size_t len, const char *rest)
{
	struct ps_config cfg, orig;
	char path[64], err[ERR_LEN], want[ERR_LEN + 64];

	config_init(&cfg);
	memcpy(&orig, &cfg, sizeof(cfg));
	assert_int_equal(load_bytes(&cfg, yaml, len, path, err), -1);
	snprintf(want, sizeof(want), "%s:%s", path, rest);
	assert_string_equal(err, want);
	assert_memory_equal(&cfg, &orig, sizeof(cfg));
}

/* As load_err_bytes, checking only the start of the message. */
static void load_err_prefix(const char *yaml, const char *rest)
{
	struct ps_config cfg;
	char path[64], err[ERR_LEN], want[ERR_LEN + 64];

	config_init(&cfg);
	assert_int_equal(load_text(&cfg, yaml, path, err), -1);
	snprintf(want, sizeof(want), "%s:%s", path, rest);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", err, want);
}

static void load_err(const char *yaml, const char *rest)
{
	load_err_bytes(yaml, strlen(yaml), rest);
}

static void set_ok(struct ps_config *cfg, const char *key, const char *value)
{
	char err[ERR_LEN] = "";

	if (config_set(cfg, key, value, err, sizeof(err)) != 0)
		fail_msg("config_set(%s, %s): %s", key, value, err);
}

static void set_err(const char *key, const char *value, const char *want)
{
	struct ps_config cfg, orig;
	char err[ERR_LEN];

	config_init(&cfg);
	memcpy(&orig, &cfg, sizeof(cfg));
	assert_int_equal(config_set(&cfg, key, value, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_memory_equal(&cfg, &orig, sizeof(cfg));
}

static void validate_err(const struct ps_config *cfg, const char *want)
{
	char err[ERR_LEN];

	assert_int_equal(config_validate(cfg, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

static void validate_ok(const struct ps_config *cfg)
{
	char err[ERR_LEN] = "";

	if (config_validate(cfg, err, sizeof(err)) != 0)
		fail_msg("config_validate: %s", err);
}

static void assert_listen(const struct ps_listen *l, enum ps_proto proto,
			  uint8_t af, const uint8_t *bytes, uint16_t port)
{
	uint8_t want[16] = {0};

	if (bytes)
		memcpy(want, bytes, af == 4 ? 4 : 16);
	assert_int_equal(l->proto, proto);
	assert_int_equal(l->addr.af, af);
	assert_memory_equal(l->addr.bytes, want, 16);
	assert_int_equal(l->port, port);
}

/*
 * The listeners of one protocol: replacing a protocol's list moves it after
 * the others (ipfix and netflow have defaults), so tests look them up by
 * protocol rather than by absolute position.
 */
static uint32_t listen_count_of(const struct ps_config *cfg,
				enum ps_proto proto)
{
	uint32_t i, n = 0;

	for (i = 0; i < cfg->listen_count; i++)
		n += cfg->listen[i].proto == proto;
	return n;
}

static const struct ps_listen *listen_of(const struct ps_config *cfg,
					 enum ps_proto proto, uint32_t nth)
{
	uint32_t i;

	for (i = 0; i < cfg->listen_count; i++)
		if (cfg->listen[i].proto == proto && nth-- == 0)
			return &cfg->listen[i];
	fail_msg("no listener %u of protocol %d", nth, proto);
	return NULL;
}

/* ---- defaults and a full file ---------------------------------------- */

static void test_defaults(void **state)
{
	struct ps_config cfg;

	(void)state;
	config_init(&cfg);
	assert_string_equal(cfg.path, "");
	assert_int_equal(cfg.workers, 0);
	assert_int_equal(cfg.cpu_count, 0);
	assert_true(cfg.pin_workers);
	assert_int_equal(cfg.window_seconds, 60);
	assert_int_equal(listen_count_of(&cfg, PS_PROTO_SFLOW), 2);
	assert_listen(listen_of(&cfg, PS_PROTO_SFLOW, 0), PS_PROTO_SFLOW, 4, NULL, 6343);
	assert_listen(listen_of(&cfg, PS_PROTO_SFLOW, 1), PS_PROTO_SFLOW, 6, NULL, 6343);
	/* IPFIX on its IANA port, NetFlow on the customary 2055 (issue 3). */
	assert_int_equal(cfg.listen_count, 6);
	assert_listen(listen_of(&cfg, PS_PROTO_IPFIX, 0), PS_PROTO_IPFIX, 4, NULL,
		      4739);
	assert_listen(listen_of(&cfg, PS_PROTO_IPFIX, 1), PS_PROTO_IPFIX, 6, NULL,
		      4739);
	assert_listen(listen_of(&cfg, PS_PROTO_NETFLOW, 0), PS_PROTO_NETFLOW, 4,
		      NULL, 2055);
	assert_listen(listen_of(&cfg, PS_PROTO_NETFLOW, 1), PS_PROTO_NETFLOW, 6,
		      NULL, 2055);
	assert_int_equal(config_proto_for_port(&cfg, 4739), PS_PROTO_IPFIX);
	assert_int_equal(config_proto_for_port(&cfg, 2055), PS_PROTO_NETFLOW);
	assert_int_equal(cfg.rcvbuf_bytes, 32u << 20);
	assert_int_equal(cfg.batch, 64);
	assert_int_equal(cfg.ring_slots, 1024);
	assert_int_equal(cfg.max_connections, 65536);
	assert_int_equal(cfg.max_exporters, 4096);
	assert_true(cfg.json_enabled);
	assert_string_equal(cfg.json_path, "-");
	assert_int_equal(cfg.progress, PS_PROGRESS_AUTO);
	validate_ok(&cfg);
}

static void test_full_file(void **state)
{
	static const uint8_t v4[4] = {192, 0, 2, 1};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	struct ps_config cfg;

	(void)state;
	load_ok(&cfg, "# a comment\n"
		      "workers: 4\n"
		      "cpus: [2, 3]\n"
		      "pin_workers: false\n"
		      "window_seconds: 10\n"
		      "listen:\n"
		      "  sflow: [\"192.0.2.1:6343\", \"[2001:db8::1]:9999\"]\n"
		      "udp:\n"
		      "  rcvbuf_bytes: 8388608\n"
		      "  batch: 32\n"
		      "ring:\n"
		      "  slots: 256\n"
		      "limits:\n"
		      "  connections_per_worker: 1000\n"
		      "  exporters_per_worker: 10\n"
		      "output:\n"
		      "  json:\n"
		      "    enabled: false\n"
		      "    path: /var/lib/peerscope/out.json\n"
		      "replay:\n"
		      "  progress: off\n");
	assert_int_equal(cfg.workers, 4);
	assert_int_equal(cfg.cpu_count, 2);
	assert_int_equal(cfg.cpus[0], 2);
	assert_int_equal(cfg.cpus[1], 3);
	assert_false(cfg.pin_workers);
	assert_int_equal(cfg.window_seconds, 10);
	assert_int_equal(listen_count_of(&cfg, PS_PROTO_SFLOW), 2);
	assert_listen(listen_of(&cfg, PS_PROTO_SFLOW, 0), PS_PROTO_SFLOW, 4, v4, 6343);
	assert_listen(listen_of(&cfg, PS_PROTO_SFLOW, 1), PS_PROTO_SFLOW, 6, v6, 9999);
	assert_int_equal(cfg.rcvbuf_bytes, 8388608);
	assert_int_equal(cfg.batch, 32);
	assert_int_equal(cfg.ring_slots, 256);
	assert_int_equal(cfg.max_connections, 1000);
	assert_int_equal(cfg.max_exporters, 10);
	assert_false(cfg.json_enabled);
	assert_string_equal(cfg.json_path, "/var/lib/peerscope/out.json");
	assert_int_equal(cfg.progress, PS_PROGRESS_OFF);
	validate_ok(&cfg);
}

/* Keys absent from the file keep what cfg had: the file merges over it. */
static void test_merge_over_existing(void **state)
{
	struct ps_config cfg;
	char path[64], err[ERR_LEN];

	(void)state;
	config_init(&cfg);
	set_ok(&cfg, "udp.batch", "8");
	assert_int_equal(load_text(&cfg, "window_seconds: 5\n", path, err), 0);
	assert_int_equal(cfg.batch, 8);
	assert_int_equal(cfg.window_seconds, 5);
}

static void test_empty_documents(void **state)
{
	struct ps_config cfg;

	(void)state;
	load_ok(&cfg, "");
	assert_int_equal(cfg.window_seconds, 60);
	load_ok(&cfg, "# only a comment\n");
	load_ok(&cfg, "---\n");
	load_ok(&cfg, "---\nwindow_seconds: 7\n...\n");
	assert_int_equal(cfg.window_seconds, 7);
	/* A section whose keys are all commented out. */
	load_ok(&cfg, "udp:\n#  batch: 3\nwindow_seconds: 9\n");
	assert_int_equal(cfg.batch, 64);
	assert_int_equal(cfg.window_seconds, 9);
}

/* ---- types ------------------------------------------------------------ */

static void test_uint(void **state)
{
	struct ps_config cfg;

	(void)state;
	load_ok(&cfg, "window_seconds: 1\n");
	assert_int_equal(cfg.window_seconds, 1);
	load_ok(&cfg, "window_seconds: 86400\n");
	assert_int_equal(cfg.window_seconds, 86400);
	load_ok(&cfg, "window_seconds: \"30\"\n"); /* quoted is accepted */
	assert_int_equal(cfg.window_seconds, 30);

	load_err("\n\nwindow_seconds: abc\n",
		 "3: window_seconds: expected an integer between 1 and "
		 "86400, got \"abc\"");
	load_err("window_seconds: 0\n",
		 "1: window_seconds: expected an integer between 1 and "
		 "86400, got \"0\"");
	load_err("window_seconds: 86401\n",
		 "1: window_seconds: expected an integer between 1 and "
		 "86400, got \"86401\"");
	load_err("window_seconds: -1\n",
		 "1: window_seconds: expected an integer between 1 and "
		 "86400, got \"-1\"");
	load_err("window_seconds: 060\n",
		 "1: window_seconds: expected an integer between 1 and "
		 "86400, got \"060\"");
	load_err("window_seconds: 1.5\n",
		 "1: window_seconds: expected an integer between 1 and "
		 "86400, got \"1.5\"");
	load_err("window_seconds: 99999999999999999999999\n",
		 "1: window_seconds: expected an integer between 1 and "
		 "86400, got \"99999999999999999999999\"");
	load_err("window_seconds: 4k\n", /* suffixes only on sizes */
		 "1: window_seconds: expected an integer between 1 and "
		 "86400, got \"4k\"");
	load_err("window_seconds:\n",
		 "1: window_seconds: expected an integer between 1 and "
		 "86400, got null");
	load_err("workers: 65\n",
		 "1: workers: expected an integer between 0 and 64, got "
		 "\"65\"");
	load_ok(&cfg, "workers: 64\n");
	assert_int_equal(cfg.workers, 64);
}

static void test_pow2(void **state)
{
	struct ps_config cfg;

	(void)state;
	load_ok(&cfg, "ring:\n  slots: 2\n");
	assert_int_equal(cfg.ring_slots, 2);
	load_ok(&cfg, "ring:\n  slots: 65536\n");
	assert_int_equal(cfg.ring_slots, 65536);
	load_err("ring:\n  slots: 1000\n",
		 "2: ring.slots: expected a power of two between 2 and 65536, "
		 "got \"1000\"");
	load_err("ring:\n  slots: 1\n",
		 "2: ring.slots: expected a power of two between 2 and 65536, "
		 "got \"1\"");
	load_err("ring:\n  slots: 131072\n",
		 "2: ring.slots: expected a power of two between 2 and 65536, "
		 "got \"131072\"");
}

static void test_size_suffixes(void **state)
{
	static const struct {
		const char *text;
		uint32_t bytes;
	} ok[] = {
	    {"4096", 4096},   {"4k", 4096},	    {"4K", 4096},
	    {"4KiB", 4096},   {"32MiB", 32u << 20}, {"32M", 32u << 20},
	    {"1G", 1u << 30}, {"1GiB", 1u << 30},
	};
	static const char *const bad[] = {"4095",
					  "3k",
					  "2G",
					  "4KB",
					  "4kb",
					  "4 k",
					  "k",
					  "4Mi",
					  "-4k",
					  "",
					  "18446744073709551615G"};
	struct ps_config cfg;
	char yaml[128], want[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(yaml, sizeof(yaml), "udp:\n  rcvbuf_bytes: %s\n",
			 ok[i].text);
		load_ok(&cfg, yaml);
		assert_int_equal(cfg.rcvbuf_bytes, ok[i].bytes);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), "udp:\n  rcvbuf_bytes: \"%s\"\n",
			 bad[i]);
		snprintf(want, sizeof(want),
			 "2: udp.rcvbuf_bytes: expected a byte count between "
			 "4096 and 1073741824 (suffixes k, M, G), got \"%s\"",
			 bad[i]);
		load_err(yaml, want);
	}
}

static void test_bool(void **state)
{
	static const struct {
		const char *text;
		bool value;
	} ok[] = {
	    {"true", true}, {"false", false}, {"yes", true},  {"no", false},
	    {"on", true},   {"off", false},   {"True", true}, {"FALSE", false},
	};
	struct ps_config cfg;
	char yaml[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(yaml, sizeof(yaml), "pin_workers: %s\n", ok[i].text);
		load_ok(&cfg, yaml);
		assert_int_equal(cfg.pin_workers, ok[i].value);
	}
	load_err("pin_workers: maybe\n",
		 "1: pin_workers: expected true or false, got \"maybe\"");
	load_err("pin_workers: 1\n",
		 "1: pin_workers: expected true or false, got \"1\"");
	load_err("output:\n  json:\n    enabled: ~\n",
		 "3: output.json.enabled: expected true or false, got null");
}

static void test_string(void **state)
{
	struct ps_config cfg;
	char yaml[1024], want[512];

	(void)state;
	load_ok(&cfg, "output:\n  json:\n    path: 'a \"quoted\" path'\n");
	assert_string_equal(cfg.json_path, "a \"quoted\" path");
	load_ok(&cfg, "output:\n  json:\n    path: 123\n");
	assert_string_equal(cfg.json_path, "123");

	load_err("output:\n  json:\n    path: \"\"\n",
		 "3: output.json.path: expected a non-empty string of at "
		 "most 255 bytes, got \"\"");
	load_err("output:\n  json:\n    path:\n",
		 "3: output.json.path: expected a non-empty string of at "
		 "most 255 bytes, got null");
	load_err("output:\n  json:\n    path: \"a\\0b\"\n",
		 "3: output.json.path: value contains a NUL byte");

	/* 255 bytes fit, 256 do not; the error shows 64 and "...". */
	memset(want, 'x', 255);
	want[255] = '\0';
	snprintf(yaml, sizeof(yaml), "output:\n  json:\n    path: %s\n", want);
	load_ok(&cfg, yaml);
	assert_string_equal(cfg.json_path, want);
	snprintf(yaml, sizeof(yaml), "output:\n  json:\n    path: %sx\n", want);
	snprintf(want, sizeof(want),
		 "3: output.json.path: expected a non-empty string of at "
		 "most 255 bytes, got \"%.64s...\"",
		 cfg.json_path);
	load_err(yaml, want);

	/* Control bytes in a bad value are escaped in the message. */
	load_err("window_seconds: \"a\\tb\"\n",
		 "1: window_seconds: expected an integer between 1 and "
		 "86400, got \"a\\x09b\"");
}

static void test_enum(void **state)
{
	struct ps_config cfg;

	(void)state;
	load_ok(&cfg, "replay:\n  progress: on\n");
	assert_int_equal(cfg.progress, PS_PROGRESS_ON);
	load_ok(&cfg, "replay:\n  progress: off\n");
	assert_int_equal(cfg.progress, PS_PROGRESS_OFF);
	load_ok(&cfg, "replay:\n  progress: auto\n");
	assert_int_equal(cfg.progress, PS_PROGRESS_AUTO);
	load_err("replay:\n  progress: sometimes\n",
		 "2: replay.progress: expected one of auto, on, off, got "
		 "\"sometimes\"");
	load_err("replay:\n  progress: AUTO\n",
		 "2: replay.progress: expected one of auto, on, off, got "
		 "\"AUTO\"");
}

static void test_listen(void **state)
{
	static const uint8_t lo4[4] = {127, 0, 0, 1};
	static const uint8_t lo6[16] = {[15] = 1};
	struct ps_config cfg;

	(void)state;
	/* A scalar, replacing both defaults. */
	load_ok(&cfg, "listen:\n  sflow: 127.0.0.1:6000\n");
	assert_int_equal(listen_count_of(&cfg, PS_PROTO_SFLOW), 1);
	assert_listen(listen_of(&cfg, PS_PROTO_SFLOW, 0), PS_PROTO_SFLOW, 4, lo4, 6000);

	/* A comma-separated scalar. */
	load_ok(&cfg, "listen:\n  sflow: \"127.0.0.1:1, [::1]:2\"\n");
	assert_int_equal(listen_count_of(&cfg, PS_PROTO_SFLOW), 2);
	assert_listen(listen_of(&cfg, PS_PROTO_SFLOW, 0), PS_PROTO_SFLOW, 4, lo4, 1);
	assert_listen(listen_of(&cfg, PS_PROTO_SFLOW, 1), PS_PROTO_SFLOW, 6, lo6, 2);

	/* ":port" is both wildcards; block sequence. */
	load_ok(&cfg, "listen:\n  sflow:\n    - \":65535\"\n    - "
		      "\"[::1]:7\"\n");
	assert_int_equal(listen_count_of(&cfg, PS_PROTO_SFLOW), 3);
	assert_listen(listen_of(&cfg, PS_PROTO_SFLOW, 0), PS_PROTO_SFLOW, 4, NULL, 65535);
	assert_listen(listen_of(&cfg, PS_PROTO_SFLOW, 1), PS_PROTO_SFLOW, 6, NULL, 65535);
	assert_listen(listen_of(&cfg, PS_PROTO_SFLOW, 2), PS_PROTO_SFLOW, 6, lo6, 7);
	validate_ok(&cfg);
	assert_int_equal(config_proto_for_port(&cfg, 65535), PS_PROTO_SFLOW);
	assert_int_equal(config_proto_for_port(&cfg, 7), PS_PROTO_SFLOW);
	assert_int_equal(config_proto_for_port(&cfg, 6343), PS_PROTO_NONE);

	/* An empty list turns the protocol off; with all three off,
	 * validation fails. */
	load_ok(&cfg, "listen:\n  sflow: []\n");
	assert_int_equal(listen_count_of(&cfg, PS_PROTO_SFLOW), 0);
	assert_int_equal(cfg.listen_count, 4);
	validate_ok(&cfg);
	load_ok(&cfg, "listen:\n  sflow: []\n  ipfix: []\n  netflow: []\n");
	assert_int_equal(cfg.listen_count, 0);
	validate_err(&cfg, "configuration: listen: nothing to listen on: every "
			   "listen.* list is empty and flow.tcp_listen and "
			   "bmp.listen are off");
	/* ... unless BMP (or IPFIX over TCP) is what comes in */
	load_ok(&cfg, "listen:\n  sflow: []\n  ipfix: []\n  netflow: []\n"
		      "bmp:\n  listen: \":11019\"\n");
	validate_ok(&cfg);
	load_ok(&cfg, "listen:\n  sflow:\n");
	assert_int_equal(listen_count_of(&cfg, PS_PROTO_SFLOW), 0);
	/* "-" off too; on the command line [] as in YAML, and "" */
	load_ok(&cfg, "listen:\n  sflow: \"-\"\n");
	assert_int_equal(listen_count_of(&cfg, PS_PROTO_SFLOW), 0);
	config_init(&cfg);
	set_ok(&cfg, "listen.ipfix", "[]");
	set_ok(&cfg, "listen.netflow", "");
	assert_int_equal(listen_count_of(&cfg, PS_PROTO_IPFIX), 0);
	assert_int_equal(listen_count_of(&cfg, PS_PROTO_NETFLOW), 0);
	assert_int_equal(listen_count_of(&cfg, PS_PROTO_SFLOW), 2);

#define LISTEN_WANT                                                            \
	"listen.sflow: expected \":port\", \"IPv4:port\" or \"[IPv6]:port\", "
#define LISTEN_KIND                                                            \
	"listen.sflow: expected a list of \":port\", \"IPv4:port\" or "        \
	"\"[IPv6]:port\" (port 1..65535), or [] for none, "
	load_err("listen:\n  sflow: \"::1:6343\"\n",
		 "2: " LISTEN_WANT "got \"::1:6343\" (an IPv6 address goes "
		 "in brackets)");
	load_err("listen:\n  sflow: 127.0.0.1\n",
		 "2: " LISTEN_WANT "got \"127.0.0.1\"");
	load_err("listen:\n  sflow: 6343\n",
		 "2: " LISTEN_WANT "got \"6343\" (a bare port: write \":PORT\" for every address)");
	load_err("listen:\n  sflow: \"127.0.0.1:0\"\n",
		 "2: listen.sflow: port 0 in \"127.0.0.1:0\": every worker "
		 "would get a different port");
	load_err("listen:\n  sflow: \"127.0.0.1:65536\"\n",
		 "2: " LISTEN_WANT "got \"127.0.0.1:65536\" (port: 0..65535)");
	load_err("listen:\n  sflow: \"localhost:6343\"\n",
		 "2: " LISTEN_WANT "got \"localhost:6343\" (not an IPv4 "
		 "address; host names are not taken)");
	load_err("listen:\n  sflow: \"[::1]6343\"\n",
		 "2: " LISTEN_WANT "got \"[::1]6343\"");
	load_err("listen:\n  sflow: \"[127.0.0.1]:6343\"\n",
		 "2: " LISTEN_WANT "got \"[127.0.0.1]:6343\" (not an IPv6 "
		 "address)");
	load_err("listen:\n  sflow: \"1.2.3.4:\"\n",
		 "2: " LISTEN_WANT "got \"1.2.3.4:\" (port: 0..65535)");
	/* The failing item of a list, on its own line. */
	load_err("listen:\n  sflow:\n    - \":1\"\n    - \"1.2.3.4:x\"\n",
		 "4: " LISTEN_WANT "got \"1.2.3.4:x\" (port: 0..65535)");
	load_err("listen:\n  sflow: \":1,,:2\"\n",
		 "2: " LISTEN_KIND "got \":1,,:2\"");
	load_err("listen:\n  sflow: [[\":1\"]]\n",
		 "2: " LISTEN_KIND "got a sequence");
	load_err("listen:\n  sflow: [~]\n", "2: " LISTEN_KIND "got null");
	load_err("listen:\n  sflow: {a: 1}\n",
		 "2: " LISTEN_KIND "got a mapping");
	load_err("listen:\n  bogus: \":4739\"\n",
		 "2: listen.bogus: unknown key");
	load_err("listen: \":6343\"\n",
		 "1: listen: expected a mapping, got a scalar");
#undef LISTEN_WANT
#undef LISTEN_KIND

	/* 24 listeners fit (20 sFlow and the 4 IPFIX/NetFlow defaults),
	 * 25 do not. */
	load_ok(&cfg, "listen:\n  sflow: \":1,:2,:3,:4,:5,:6,:7,:8,:9,:10\"\n");
	assert_int_equal(listen_count_of(&cfg, PS_PROTO_SFLOW), 20);
	assert_int_equal(cfg.listen_count, 24);
	load_err("listen:\n  sflow: \":1,:2,:3,:4,:5,:6,:7,:8,:9,:10,"
		 "1.1.1.1:11\"\n",
		 "2: listen.sflow: more than 24 listeners in all protocols");
	/* A port taken by a default of another protocol is an error, not a
	 * silent override: replay tells protocols apart by port. */
	load_ok(&cfg, "listen:\n  sflow: \":4739\"\n");
	{
		char err[ERR_LEN], want[ERR_LEN];

		/* found by validation, placed on the line of the key */
		snprintf(want, sizeof(want),
			 "%s:2: listen.sflow: port 4739 is also used by "
			 "listen.ipfix (replay tells protocols apart by port)",
			 cfg.path);
		assert_int_equal(config_validate(&cfg, err, sizeof(err)), -1);
		assert_string_equal(err, want);
	}
	load_ok(&cfg, "listen:\n  sflow: \":4739\"\n  ipfix: []\n");
	validate_ok(&cfg);
}

static void test_cpus(void **state)
{
	struct ps_config cfg;
	char yaml[512];
	size_t o, i;

	(void)state;
	load_ok(&cfg, "cpus: [0, 1]\n");
	assert_int_equal(cfg.cpu_count, 2);
	assert_int_equal(cfg.cpus[0], 0);
	assert_int_equal(cfg.cpus[1], 1);
	load_ok(&cfg, "cpus: 5\n");
	assert_int_equal(cfg.cpu_count, 1);
	assert_int_equal(cfg.cpus[0], 5);
	load_ok(&cfg, "cpus: \"0-3, 8\"\n");
	assert_int_equal(cfg.cpu_count, 5);
	assert_int_equal(cfg.cpus[3], 3);
	assert_int_equal(cfg.cpus[4], 8);
	load_ok(&cfg, "cpus: [2-3, 1023]\n");
	assert_int_equal(cfg.cpu_count, 3);
	assert_int_equal(cfg.cpus[2], 1023);
	load_ok(&cfg, "cpus: []\n");
	assert_int_equal(cfg.cpu_count, 0);
	load_ok(&cfg, "cpus: 0-63\n");
	assert_int_equal(cfg.cpu_count, 64);

#define CPUS_WANT                                                              \
	"1: cpus: expected CPU numbers or ranges such as \"0,2-5\" "           \
	"(0..1023), got "
	load_err("cpus: [1, x]\n", CPUS_WANT "\"x\"");
	load_err("cpus: 3-1\n", CPUS_WANT "\"3-1\"");
	load_err("cpus: 1024\n", CPUS_WANT "\"1024\"");
	load_err("cpus: \"1-\"\n", CPUS_WANT "\"1-\"");
	load_err("cpus: -1\n", CPUS_WANT "\"-1\"");
	load_err("cpus: [[1]]\n", CPUS_WANT "a sequence");
	load_err("cpus: {a: 1}\n", CPUS_WANT "a mapping");
#undef CPUS_WANT
	load_err("cpus: 0-64\n", "1: cpus: more than 64 CPUs");
	o = (size_t)snprintf(yaml, sizeof(yaml), "cpus: [");
	for (i = 0; i < 65; i++)
		o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "%s%zu",
				      i ? ", " : "", i);
	snprintf(yaml + o, sizeof(yaml) - o, "]\n");
	load_err(yaml, "1: cpus: more than 64 CPUs");
}

/* ---- structure errors -------------------------------------------------- */

static void test_unknown_keys(void **state)
{
	(void)state;
	load_err("workers: 1\nwindow_second: 5\n",
		 "2: window_second: unknown key");
	load_err("window_seconds: 5\nudp:\n  rcvbuff: 1\n",
		 "3: udp.rcvbuff: unknown key");
	load_err("output:\n  json:\n    enabled: true\n    colour: red\n",
		 "4: output.json.colour: unknown key");
	load_err("kafka:\n  brokers: x\n", "1: kafka: unknown key");
	load_err("udp.batch: 3\n",
		 "1: udp.batch: unknown key (nest mappings instead of dotted "
		 "keys)");
	load_err("\"wor\\tkers\": 1\n", "1: wor\\x09kers: unknown key");
	load_err("? [a, b]\n: 1\n", "1: a key must be a plain name");
	load_err("udp:\n  ? {a: 1}\n  : 1\n",
		 "2: udp: a key must be a plain name");
}

static void test_wrong_kind(void **state)
{
	(void)state;
	load_err("window_seconds: [60]\n",
		 "1: window_seconds: expected an integer between 1 and "
		 "86400, got a sequence");
	load_err("window_seconds:\n  - 60\n",
		 "2: window_seconds: expected an integer between 1 and "
		 "86400, got a sequence");
	load_err("window_seconds: {a: 1}\n",
		 "1: window_seconds: expected an integer between 1 and "
		 "86400, got a mapping");
	load_err("pin_workers: [true]\n",
		 "1: pin_workers: expected true or false, got a sequence");
	load_err("udp: 5\n", "1: udp: expected a mapping, got a scalar");
	load_err("udp: [1]\n", "1: udp: expected a mapping, got a sequence");
	load_err("output:\n  json: yes\n",
		 "2: output.json: expected a mapping, got a scalar");
	load_err("- workers: 1\n",
		 "1: expected a mapping of keys at the top level, got a "
		 "sequence");
	load_err("hello\n",
		 "1: expected a mapping of keys at the top level, got a "
		 "scalar");
	load_err("w: &a 1\n", "1: w: unknown key");
	load_err("workers: &a 1\nwindow_seconds: *a\n",
		 "2: window_seconds: expected an integer between 1 and "
		 "86400, got an alias (aliases are not supported)");
}

static void test_duplicates(void **state)
{
	(void)state;
	load_err("workers: 1\nwindow_seconds: 5\nworkers: 2\n",
		 "3: workers: duplicate key (first on line 1)");
	load_err("udp:\n  batch: 1\nring:\n  slots: 2\nudp:\n  "
		 "rcvbuf_bytes: 4096\n",
		 "5: udp: duplicate key (first on line 1)");
	load_err("udp:\n  batch: 1\n  batch: 2\n",
		 "3: udp.batch: duplicate key (first on line 2)");
	load_err("listen:\n  sflow: \":1\"\n  sflow: \":2\"\n",
		 "3: listen.sflow: duplicate key (first on line 2)");
}

static void test_syntax_errors(void **state)
{
	(void)state;
	load_err("workers: 1\ncpus: [1, 2\n",
		 "3: YAML syntax error: did not find expected ',' or ']' "
		 "(while parsing a flow sequence on line 2)");
	load_err("workers: 1\nwindow_seconds: 5: 6\n",
		 "2: YAML syntax error: mapping values are not allowed in "
		 "this context");
	load_err("workers: 1\n  pin_workers: true\n window_seconds: 5\n",
		 "2: YAML syntax error: mapping values are not allowed in "
		 "this context");
	load_err("workers: 1\nudp:\n  batch: 3\n bad: 1\n",
		 "4: YAML syntax error: did not find expected key (while "
		 "parsing a block mapping on line 1)");
	load_err("output:\n  json:\n    path: \"abc\n",
		 "4: YAML syntax error: found unexpected end of stream "
		 "(while scanning a quoted scalar on line 3)");
	/* libyaml's wording for tabs changed across versions. */
	load_err_prefix("workers: 1\n\tpin_workers: true\n",
			"2: YAML syntax error: ");
	load_err("workers: 1\n---\nworkers: 2\n",
		 "2: more than one YAML document (one is expected)");
	load_err_bytes("workers: \xff\n", 10,
		       " byte 9: invalid leading UTF-8 octet");
}

/* ---- files ------------------------------------------------------------ */

static void test_missing_file(void **state)
{
	struct ps_config cfg;
	char err[ERR_LEN];

	(void)state;
	config_init(&cfg);
	assert_int_equal(
	    config_load(&cfg, "/nonexistent/peerscope.yaml", err, sizeof(err)),
	    -1);
	assert_string_equal(err, "/nonexistent/peerscope.yaml: No such file "
				 "or directory");
}

/* Error messages are cut to the caller's buffer, never overrun it. */
static void test_small_error_buffer(void **state)
{
	struct ps_config cfg;
	char err[16];

	(void)state;
	config_init(&cfg);
	memset(err, 'z', sizeof(err));
	assert_int_equal(config_set(&cfg, "window_seconds", "x", err, 8), -1);
	assert_string_equal(err, "command");
	assert_int_equal(err[8], 'z');
}

/* ---- flow.sampling_default / flow.sampling_force ------------------------ */

#define RATE_WANT "expected \"IP\" or \"IP/ifN\" mapped to a rate 1..4294967295, "

static void test_sampling_maps(void **state)
{
	struct ps_config cfg;

	(void)state;
	load_ok(&cfg, "flow:\n  sampling_default:\n    192.0.2.1: 1000\n"
		      "    \"2001:db8::1/if10\": 4294967295\n"
		      "  sampling_force: {\"192.0.2.1/if7\": 7}\n");
	assert_int_equal(cfg.flow_sampling_default.count, 2);
	assert_int_equal(cfg.flow_sampling_force.count, 1);
	validate_ok(&cfg);

	/* Each bad entry names file, line and key. */
	load_err("flow:\n  sampling_default:\n    192.0.2.300: 100\n",
		 "3: flow.sampling_default: " RATE_WANT
		 "got \"192.0.2.300\" = \"100\"");
	load_err("flow:\n  sampling_default:\n    192.0.2.1: 100\n"
		 "    192.0.2.2: 0\n",
		 "4: flow.sampling_default: " RATE_WANT
		 "got \"192.0.2.2\" = \"0\"");
	load_err("flow:\n  sampling_force:\n    192.0.2.1: 4294967296\n",
		 "3: flow.sampling_force: " RATE_WANT
		 "got \"192.0.2.1\" = \"4294967296\"");
	load_err("flow:\n  sampling_force:\n    192.0.2.1/if0: 10\n",
		 "3: flow.sampling_force: " RATE_WANT
		 "got \"192.0.2.1/if0\" = \"10\"");
	load_err("flow:\n  sampling_force:\n    192.0.2.1/eth1: 10\n",
		 "3: flow.sampling_force: " RATE_WANT
		 "got \"192.0.2.1/eth1\" = \"10\"");
	load_err("flow:\n  sampling_force:\n    router1: 10\n",
		 "3: flow.sampling_force: " RATE_WANT
		 "got \"router1\" = \"10\"");
	load_err("flow:\n  sampling_force:\n    192.0.2.1: \"+10\"\n",
		 "3: flow.sampling_force: " RATE_WANT
		 "got \"192.0.2.1\" = \"+10\"");
	set_err("flow.sampling_default", "192.0.2.1/if7=x",
		"command line: flow.sampling_default: " RATE_WANT
		"got \"192.0.2.1/if7\" = \"x\"");
}

#undef RATE_WANT

/* ---- command line -------------------------------------------------------- */

static void test_config_set(void **state)
{
	static const uint8_t v4[4] = {10, 0, 0, 1};
	struct ps_config cfg;
	char err[ERR_LEN];

	(void)state;
	config_init(&cfg);
	set_ok(&cfg, "workers", "3");
	set_ok(&cfg, "cpus", "1,4-5");
	set_ok(&cfg, "pin_workers", "no");
	set_ok(&cfg, "window_seconds", "120");
	set_ok(&cfg, "listen.sflow", "10.0.0.1:6343,:9");
	set_ok(&cfg, "udp.rcvbuf_bytes", "4MiB");
	set_ok(&cfg, "udp.batch", "1024");
	set_ok(&cfg, "ring.slots", "4096");
	set_ok(&cfg, "limits.connections_per_worker", "16777216");
	set_ok(&cfg, "limits.exporters_per_worker", "1048576");
	set_ok(&cfg, "output.json.enabled", "false");
	set_ok(&cfg, "output.json.path", "/tmp/x.json");
	set_ok(&cfg, "replay.progress", "on");
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(cfg.cpu_count, 3);
	assert_int_equal(cfg.cpus[0], 1);
	assert_int_equal(cfg.cpus[2], 5);
	assert_false(cfg.pin_workers);
	assert_int_equal(cfg.window_seconds, 120);
	assert_int_equal(listen_count_of(&cfg, PS_PROTO_SFLOW), 3);
	assert_listen(listen_of(&cfg, PS_PROTO_SFLOW, 0), PS_PROTO_SFLOW, 4, v4, 6343);
	assert_listen(listen_of(&cfg, PS_PROTO_SFLOW, 1), PS_PROTO_SFLOW, 4, NULL, 9);
	assert_listen(listen_of(&cfg, PS_PROTO_SFLOW, 2), PS_PROTO_SFLOW, 6, NULL, 9);
	assert_int_equal(cfg.rcvbuf_bytes, 4u << 20);
	assert_int_equal(cfg.batch, 1024);
	assert_int_equal(cfg.ring_slots, 4096);
	assert_int_equal(cfg.max_connections, 16777216);
	assert_int_equal(cfg.max_exporters, 1048576);
	assert_false(cfg.json_enabled);
	assert_string_equal(cfg.json_path, "/tmp/x.json");
	assert_int_equal(cfg.progress, PS_PROGRESS_ON);
	assert_string_equal(cfg.path, "");
	validate_ok(&cfg);

	/* "" empties a list. */
	set_ok(&cfg, "cpus", "");
	assert_int_equal(cfg.cpu_count, 0);

	/* key=value */
	assert_int_equal(config_set_pair(&cfg, "udp.batch=7", err, sizeof(err)),
			 0);
	assert_int_equal(cfg.batch, 7);
	assert_int_equal(
	    config_set_pair(&cfg, "output.json.path=a=b", err, sizeof(err)), 0);
	assert_string_equal(cfg.json_path, "a=b");
	assert_int_equal(config_set_pair(&cfg, "udp.batch", err, sizeof(err)),
			 -1);
	assert_string_equal(err, "command line: expected key=value, got "
				 "\"udp.batch\"");
	assert_int_equal(config_set_pair(&cfg, "=3", err, sizeof(err)), -1);
	assert_string_equal(err, "command line: expected key=value, got "
				 "\"=3\"");
	assert_int_equal(config_set_pair(&cfg, "udp.batch=0", err, sizeof(err)),
			 -1);
	assert_string_equal(err, "command line: udp.batch: expected an integer "
				 "between 1 and 1024, got \"0\"");
}

static void test_config_set_errors(void **state)
{
	(void)state;
	set_err("window_seconds", "abc",
		"command line: window_seconds: expected an integer between 1 "
		"and 86400, got \"abc\"");
	set_err("window_seconds", "",
		"command line: window_seconds: expected an integer between 1 "
		"and 86400, got \"\"");
	set_err("window_seconds", " 5",
		"command line: window_seconds: expected an integer between 1 "
		"and 86400, got \" 5\"");
	set_err("windows", "5", "command line: windows: unknown key");
	set_err("udp", "5", "command line: udp: unknown key");
	set_err("udp.", "5", "command line: udp.: unknown key");
	set_err("ring.slots", "3",
		"command line: ring.slots: expected a power of two between 2 "
		"and 65536, got \"3\"");
	set_err("listen.sflow", ":1,bad",
		"command line: listen.sflow: expected \":port\", "
		"\"IPv4:port\" or \"[IPv6]:port\", got \"bad\"");
	set_err("bmp.listen", "11019",
		"command line: bmp.listen: expected \":port\", \"IPv4:port\" "
		"or \"[IPv6]:port\", got \"11019\" (a bare port: write "
		"\":PORT\" for every address)");
	set_err("output.json.path", "",
		"command line: output.json.path: expected a non-empty string "
		"of at most 255 bytes, got \"\"");
	set_err("replay.progress", "yes",
		"command line: replay.progress: expected one of auto, on, off, "
		"got \"yes\"");
}

/* ---- validation ---------------------------------------------------------- */

static void test_validate(void **state)
{
	struct ps_config cfg;

	(void)state;
	config_init(&cfg);
	cfg.ring_slots = 1000;
	validate_err(&cfg, "configuration: ring.slots: 1000 is not a power of "
			   "two between 2 and 65536");

	config_init(&cfg);
	cfg.workers = 65;
	validate_err(&cfg, "configuration: workers: 65 is not an integer "
			   "between 0 and 64");

	config_init(&cfg);
	cfg.json_path[0] = '\0';
	validate_err(&cfg, "configuration: output.json.path: expected a "
			   "non-empty string of at most 255 bytes");

	config_init(&cfg);
	cfg.progress = (enum ps_progress)7;
	validate_err(&cfg, "configuration: replay.progress: 7 is not one of "
			   "auto, on, off");

	config_init(&cfg);
	cfg.cpu_count = 1;
	cfg.cpus[0] = 5000;
	validate_err(&cfg, "configuration: cpus: CPU 5000 is not in 0..1023");

	/* Errors found after loading still say where the key was set. */
	config_init(&cfg);
	set_ok(&cfg, "listen.sflow", ":6343,0.0.0.0:6343");
	validate_err(&cfg, "command line: listen.sflow: 0.0.0.0:6343 listed "
			   "twice");

	config_init(&cfg);
	set_ok(&cfg, "listen.sflow", "[::]:1,[::]:1");
	validate_err(&cfg, "command line: listen.sflow: [::]:1 listed twice");

	/* Same port, different addresses: fine. */
	config_init(&cfg);
	set_ok(&cfg, "listen.sflow", "127.0.0.1:1,127.0.0.2:1");
	validate_ok(&cfg);

	config_init(&cfg);
	cfg.listen[1].port = 0;
	validate_err(&cfg, "configuration: listen.sflow: entry 1 has no "
			   "address or port");
}

/*
 * Every listener key takes the one syntax (netaddr.h), checked when it is
 * set, so errors name file and line; "-", [] and null turn the optional
 * ones off.  Allow-lists are checked the same way.
 */
static void test_endpoint_keys(void **state)
{
	struct ps_config cfg;
	char path[64], err[ERR_LEN];

	(void)state;
	load_ok(&cfg, "bmp:\n  listen: \":11019\"\nflow:\n  tcp_listen: "
		      "\"[::1]:4739\"\nhttp:\n  listen: \":0\"\n");
	assert_string_equal(cfg.bmp_listen, ":11019");
	assert_string_equal(cfg.flow_tcp_listen, "[::1]:4739");
	assert_string_equal(cfg.http_listen, ":0");
	validate_ok(&cfg);
	load_ok(&cfg, "bmp:\n  listen: []\nflow:\n  tcp_listen:\n");
	assert_string_equal(cfg.bmp_listen, "-");
	assert_string_equal(cfg.flow_tcp_listen, "-");
	config_init(&cfg);
	set_ok(&cfg, "bmp.listen", "127.0.0.1:11019");
	set_ok(&cfg, "bmp.listen", "[]");
	assert_string_equal(cfg.bmp_listen, "-");

#define EP_WANT "expected \":port\", \"IPv4:port\" or \"[IPv6]:port\""
	load_err("\nbmp:\n  listen: 11019\n",
		 "3: bmp.listen: " EP_WANT ", got \"11019\" (a bare port: "
		 "write \":PORT\" for every address)");
	load_err("flow:\n  tcp_listen: \"localhost:4739\"\n",
		 "2: flow.tcp_listen: " EP_WANT ", got \"localhost:4739\" "
		 "(not an IPv4 address; host names are not taken)");
	load_err("http:\n  listen: \"-\"\n",
		 "2: http.listen: " EP_WANT ", got \"-\"");
	load_err("http:\n  listen: []\n",
		 "2: http.listen: " EP_WANT ", got a sequence");
	load_err("bmp:\n  listen: [\":1\"]\n",
		 "2: bmp.listen: " EP_WANT ", or \"-\" for none, got a "
		 "non-empty sequence");
#undef EP_WANT

	load_ok(&cfg, "bmp:\n  allow: \"192.0.2.0/24, 2001:db8::1\"\n"
		      "udp:\n  allow: 10.0.0.0/8\n");
	validate_ok(&cfg);
	load_err("udp:\n  batch: 64\n  allow: \"10.0.0.0/33\"\n",
		 "3: udp.allow: \"/33\" is not a prefix length 0..32");
	load_err("bmp:\n  allow: router1\n",
		 "2: bmp.allow: \"router1\" is not an IPv4 or IPv6 address");

	/* config_key_error(): a later finding, placed where the key was */
	config_init(&cfg);
	assert_int_equal(load_text(&cfg, "window_seconds: 5\nbmp:\n  listen: "
					 "\"192.0.2.1:1\"\n",
				   path, err),
			 0);
	config_key_error(&cfg, "bmp.listen", err, sizeof(err), "%s", "why");
	assert_non_null(strstr(err, ":3: bmp.listen: why"));
	set_ok(&cfg, "bmp.listen", ":1");
	config_key_error(&cfg, "bmp.listen", err, sizeof(err), "why");
	assert_string_equal(err, "command line: bmp.listen: why");
	config_key_error(&cfg, "http.listen", err, sizeof(err), "why");
	assert_string_equal(err, "configuration: http.listen: why");
}

/* ---- dump ---------------------------------------------------------------- */

static void test_dump_round_trip(void **state)
{
	struct ps_config a, b;
	char path[64], err[ERR_LEN], *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	config_init(&a);
	set_ok(&a, "workers", "2");
	set_ok(&a, "cpus", "3,1");
	set_ok(&a, "pin_workers", "false");
	set_ok(&a, "window_seconds", "300");
	set_ok(&a, "listen.sflow", "192.0.2.7:1,[2001:db8::5]:2");
	set_ok(&a, "udp.rcvbuf_bytes", "1M");
	set_ok(&a, "udp.batch", "16");
	set_ok(&a, "ring.slots", "64");
	set_ok(&a, "limits.connections_per_worker", "10");
	set_ok(&a, "limits.exporters_per_worker", "11");
	set_ok(&a, "output.json.enabled", "false");
	set_ok(&a, "output.json.path", "we\"ird\\ \tpath: #x");
	set_ok(&a, "replay.progress", "off");

	f = open_memstream(&text, &len);
	assert_non_null(f);
	config_dump(&a, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "\n  sflow: [\"192.0.2.7:1\", "
				     "\"[2001:db8::5]:2\"]\n"));
	assert_non_null(strstr(text, "\ncpus: [3, 1]\n"));
	assert_non_null(strstr(text, "    path: \"we\\\"ird\\\\ \\x09path: "
				     "#x\"\n"));

	config_init(&b);
	assert_int_equal(load_text(&b, text, path, err), 0);
	free(text);
	assert_int_equal(b.workers, a.workers);
	assert_int_equal(b.cpu_count, a.cpu_count);
	assert_memory_equal(b.cpus, a.cpus, sizeof(a.cpus));
	assert_int_equal(b.pin_workers, a.pin_workers);
	assert_int_equal(b.window_seconds, a.window_seconds);
	assert_int_equal(b.listen_count, a.listen_count);
	/* Same listeners per protocol, in the same order within each. */
	for (uint32_t i = 0; i < a.listen_count; i++) {
		enum ps_proto p = a.listen[i].proto;
		uint32_t nth = 0;

		for (uint32_t j = 0; j < i; j++)
			nth += a.listen[j].proto == p;
		assert_listen(listen_of(&b, p, nth), p, a.listen[i].addr.af,
			      a.listen[i].addr.bytes, a.listen[i].port);
	}
	assert_int_equal(b.rcvbuf_bytes, a.rcvbuf_bytes);
	assert_int_equal(b.batch, a.batch);
	assert_int_equal(b.ring_slots, a.ring_slots);
	assert_int_equal(b.max_connections, a.max_connections);
	assert_int_equal(b.max_exporters, a.max_exporters);
	assert_int_equal(b.json_enabled, a.json_enabled);
	assert_string_equal(b.json_path, a.json_path);
	assert_int_equal(b.progress, a.progress);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void dump_to_string(const struct ps_config *cfg, char **text)
{
	size_t len = 0;
	FILE *f;

	*text = NULL;
	f = open_memstream(text, &len);
	assert_non_null(f);
	config_dump(cfg, f);
	assert_int_equal(fclose(f), 0);
}

static void example_path(char *buf, size_t len)
{
	const char *data = getenv("PEERSCOPE_TEST_DATA");

	if (data)
		snprintf(buf, len, "%s/../../deploy/peerscope.example.yaml",
			 data);
	else /* run by hand from the source tree */
		snprintf(buf, len, "deploy/peerscope.example.yaml");
}

/*
 * deploy/peerscope.example.yaml is config_dump_example(): it loads cleanly,
 * gives the defaults, and stays in step with the key table.
 */
static void test_example_file(void **state)
{
	struct ps_config cfg, defaults;
	char path[512], err[ERR_LEN] = "";
	char *want = NULL, *have, *want_dump;
	size_t want_len = 0, have_len = 0;
	bool same;
	FILE *f;

	(void)state;
	example_path(path, sizeof(path));
	f = open_memstream(&want, &want_len);
	assert_non_null(f);
	config_dump_example(f);
	assert_int_equal(fclose(f), 0);

	if (getenv("PEERSCOPE_UPDATE_EXAMPLE")) {
		write_file(path, want, want_len);
		fprintf(stderr, "rewrote %s\n", path);
	}

	config_init(&cfg);
	if (config_load(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	validate_ok(&cfg);
	/* Same values as the defaults: compare the dumps, path aside. */
	config_init(&defaults);
	cfg.path[0] = '\0';
	dump_to_string(&cfg, &have);
	dump_to_string(&defaults, &want_dump);
	assert_string_equal(have, want_dump);
	free(have);
	free(want_dump);

	have = read_all(path, &have_len);
	assert_non_null(have);
	same = have_len == want_len && memcmp(have, want, want_len) == 0;
	free(have);
	free(want);
	if (!same)
		fail_msg("%s differs from config_dump_example(); run "
			 "test_config with PEERSCOPE_UPDATE_EXAMPLE=1 to "
			 "regenerate it",
			 path);
}

static void test_proto_names(void **state)
{
	struct ps_config cfg;

	(void)state;
	assert_string_equal(ps_proto_name(PS_PROTO_SFLOW), "sflow");
	assert_string_equal(ps_proto_name(PS_PROTO_NONE), "none");
	assert_string_equal(ps_proto_name((enum ps_proto)99), "none");
	config_init(&cfg);
	assert_int_equal(config_proto_for_port(&cfg, 6343), PS_PROTO_SFLOW);
	assert_int_equal(config_proto_for_port(&cfg, 6344), PS_PROTO_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full_file),
	    cmocka_unit_test(test_merge_over_existing),
	    cmocka_unit_test(test_empty_documents),
	    cmocka_unit_test(test_uint),
	    cmocka_unit_test(test_pow2),
	    cmocka_unit_test(test_size_suffixes),
	    cmocka_unit_test(test_bool),
	    cmocka_unit_test(test_string),
	    cmocka_unit_test(test_enum),
	    cmocka_unit_test(test_listen),
	    cmocka_unit_test(test_endpoint_keys),
	    cmocka_unit_test(test_sampling_maps),
	    cmocka_unit_test(test_cpus),
	    cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_wrong_kind),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_small_error_buffer),
	    cmocka_unit_test(test_config_set),
	    cmocka_unit_test(test_config_set_errors),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_dump_round_trip),
	    cmocka_unit_test(test_example_file),
	    cmocka_unit_test(test_proto_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
