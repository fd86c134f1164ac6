/*
 * config.c - defaults, --set and the dump of the configuration, all by
 * walking the key table (config_keys.h says how the files divide the
 * work).
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/config.h"
#include "base/config_value.h"
#include "base/netaddr.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void config_init(struct ps_config *cfg)
{
	char err[512];
	struct cfg_src src = {"defaults", 0, err, sizeof(err)};
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < cfg_nkeys; i++) {
		int rc;

		if (cfg_keys[i].type == CFG_SECTION)
			continue;
		rc = cfg_set_text(cfg, &cfg_keys[i], cfg_keys[i].def, &src);
		assert(rc == 0 && "a default in cfg_keys[] does not parse");
		(void)rc;
	}
}

int config_set(struct ps_config *cfg, const char *key, const char *value,
	       char *err, size_t errlen)
{
	struct cfg_src src = {"command line", 0, err, errlen};
	const struct cfg_key *k = cfg_key_find(key);
	struct ps_config tmp;

	if (k == NULL || k->type == CFG_SECTION) {
		char shown[CFG_SHOW_MAX * 4 + 4];

		cfg_escape(shown, sizeof(shown), key, strlen(key));
		return cfg_fail(&src, shown, "unknown key");
	}
	tmp = *cfg;
	if (cfg_set_text(&tmp, k, value, &src) == -1)
		return -1;
	tmp.key_line[k - cfg_keys] = PS_CFG_LINE_CLI;
	*cfg = tmp;
	return 0;
}

int config_set_pair(struct ps_config *cfg, const char *key_value, char *err,
		    size_t errlen)
{
	const char *eq = strchr(key_value, '=');
	char key[CFG_PATH_MAX];
	size_t len;

	if (eq == NULL || eq == key_value ||
	    (len = (size_t)(eq - key_value)) >= sizeof(key)) {
		struct cfg_src src = {"command line", 0, err, errlen};
		char shown[CFG_SHOW_MAX * 4 + 4];

		cfg_escape(shown, sizeof(shown), key_value, strlen(key_value));
		return cfg_fail(&src, NULL, "expected key=value, got \"%s\"",
				shown);
	}
	memcpy(key, key_value, len);
	key[len] = '\0';
	return config_set(cfg, key, eq + 1, err, errlen);
}

static void dump_string(const char *s, FILE *out)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void dump_value(const struct ps_config *cfg, const struct cfg_key *k,
		       FILE *out)
{
	const char *field = (const char *)cfg + k->off;
	const struct cfg_enum_name *n;
	char buf[64];
	const char *sep = "";
	uint32_t u, i;
	double dv;
	bool b;
	int e;

	switch (k->type) {
	case CFG_SECTION:
		break;
	case CFG_UINT:
	case CFG_SIZE:
		memcpy(&u, field, sizeof(u));
		fprintf(out, " %u", u);
		break;
	case CFG_DECIMAL:
		memcpy(&dv, field, sizeof(dv));
		fprintf(out, " %g", dv);
		break;
	case CFG_BOOL:
		memcpy(&b, field, sizeof(b));
		fprintf(out, " %s", b ? "true" : "false");
		break;
	case CFG_STRING:
	case CFG_ENDPOINT:
	case CFG_ALLOW:
		fputc(' ', out);
		dump_string(field, out);
		break;
	case CFG_ENUM:
		memcpy(&e, field, sizeof(e));
		for (n = k->names; n->name; n++)
			if (n->value == e)
				break;
		fprintf(out, " %s", n->name ? n->name : "~");
		break;
	case CFG_LISTEN:
		fputs(" [", out);
		for (i = 0; i < cfg->listen_count; i++) {
			if (cfg->listen[i].proto != k->proto)
				continue;
			cfg_listen_format(&cfg->listen[i], buf, sizeof(buf));
			fprintf(out, "%s\"%s\"", sep, buf);
			sep = ", ";
		}
		fputc(']', out);
		break;
	case CFG_CPUS:
		fputs(" [", out);
		for (i = 0; i < cfg->cpu_count; i++)
			fprintf(out, "%s%u", i ? ", " : "", cfg->cpus[i]);
		fputc(']', out);
		break;
	case CFG_MAP:
		fputs(" {", out);
		for (i = 0; i < ((const struct ps_map *)field)->count; i++) {
			const struct ps_map_entry *me =
			    &((const struct ps_map *)field)->e[i];

			fputs(i ? ", " : "", out);
			dump_string(me->name, out);
			fputs(": ", out);
			dump_string(me->value, out);
		}
		fputc('}', out);
		break;
	}
}

static void dump_help(const char *help, int indent, FILE *out)
{
	while (*help) {
		const char *nl = strchr(help, '\n');
		int len = nl ? (int)(nl - help) : (int)strlen(help);

		fprintf(out, "%*s# %.*s\n", indent, "", len, help);
		help += len + (nl ? 1 : 0);
	}
}

static void dump(const struct ps_config *cfg, FILE *out, bool with_help)
{
	size_t i;

	for (i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *leaf = strrchr(k->name, '.');
		int depth = 0;
		const char *p;

		for (p = k->name; *p; p++)
			depth += *p == '.';
		leaf = leaf ? leaf + 1 : k->name;
		if (with_help) {
			if (i == 0 || cfg_keys[i - 1].type != CFG_SECTION)
				fputc('\n', out);
			dump_help(k->help, 2 * depth, out);
		}
		fprintf(out, "%*s%s:", 2 * depth, "", leaf);
		dump_value(cfg, k, out);
		fputc('\n', out);
	}
}

void config_dump(const struct ps_config *cfg, FILE *out)
{
	char shown[CFG_SHOW_MAX * 4 + 4];

	fputs("# peerscope effective configuration (", out);
	if (cfg->path[0]) {
		cfg_escape(shown, sizeof(shown), cfg->path, strlen(cfg->path));
		fprintf(out, "file %s and command line", shown);
	} else
		fputs("defaults and command line", out);
	fputs(")\n", out);
	dump(cfg, out, false);
}

void config_dump_example(FILE *out)
{
	struct ps_config cfg;

	config_init(&cfg);
	fputs("# peerscope configuration: every key, set to its default.\n"
	      "#\n"
	      "# Generated by config_dump_example() from the key table in\n"
	      "# collector/base/config_keys.c; tests/unit/test_config.c "
	      "checks that this file\n"
	      "# matches it (PEERSCOPE_UPDATE_EXAMPLE=1 test_config "
	      "rewrites it).\n"
	      "#\n"
	      "# Keys absent from a file keep their defaults; unknown and "
	      "duplicate keys\n"
	      "# are errors. On the command line, --set key=value takes the "
	      "dotted key\n"
	      "# (--set udp.batch=32) and, for lists, a comma-separated "
	      "value\n"
	      "# (--set cpus=0-3,8); the command line wins over the file.\n",
	      out);
	dump(&cfg, out, true);
	fputs("\n# Configured peering connections (docs/connections.md): a "
	      "list, read by\n# the connection registry; none by default.\n"
	      "#\n"
	      "# connections:\n"
	      "#   - id: ams-ix-ms          # unique: connection_id, the "
	      "Kafka key\n"
	      "#     kind: exchange         # direct | exchange\n"
	      "#     router: 192.0.2.1      # export address, or BMP "
	      "sysName\n"
	      "#     interface: 17          # ifIndex, or its name\n"
	      "#     peer_asn: 64496\n"
	      "#     peer_addresses: [\"192.0.2.10\", \"2001:db8::10\"]\n"
	      "#     peer_macs: [\"02:00:00:00:00:10\"]   # exchange only\n"
	      "#     capacity: 100G         # bits/s; suffixes k M G T\n"
	      "#     labels: {site: ams}\n"
	      "#     probe: false           # latency probes (issue 12)\n",
	      out);
}

enum ps_proto config_proto_for_port(const struct ps_config *cfg, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < cfg->listen_count; i++)
		if (cfg->listen[i].port == port)
			return cfg->listen[i].proto;
	return PS_PROTO_NONE;
}

/* clang-format off */
static const char *const proto_names[] = {
	[PS_PROTO_NONE] = "none",
#define PS_PROTO_NAME_(id, pname, plisten, phelp) [PS_PROTO_##id] = pname,
	PS_PROTOCOLS(PS_PROTO_NAME_)
#undef PS_PROTO_NAME_
};
/* clang-format on */

const char *ps_proto_name(enum ps_proto p)
{
	if ((unsigned)p >= ARRAY_SIZE(proto_names) || proto_names[p] == NULL)
		return "none";
	return proto_names[p];
}
