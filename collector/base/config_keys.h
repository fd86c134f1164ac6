/*
 * config_keys.h - configuration as a table of keys: the table
 * (config_keys.c) and what it is made of, for the config files of base/
 * (the rest of the collector includes config.h).
 *
 * cfg_keys[] is the only place a key is described: its dotted path,
 * type, field, bounds, default (as text, parsed like any other value) and
 * help.  Everything else walks the table:
 *
 *   config_init()          parses each default
 *   config_load()          YAML events (libyaml) -> dotted path -> key
 *   config_set()           command line text -> key
 *   config_validate()      per-key bounds again, then cross-field checks
 *   config_dump()          the table back out as YAML
 *   config_dump_example()  the same, with help: deploy/peerscope.example.yaml
 *
 * Sections (nested mappings) are table entries too, so any path not in the
 * table is an unknown key, and the loader never needs to skip a subtree:
 * the first thing it does not know about is an error.  Loads and sets work
 * on a copy that replaces the caller's struct only on success.
 *
 * The files: config_keys.c the table; config_value.c text into a key's
 * field (every path: defaults, YAML, --set); config_yaml.c the YAML file;
 * config_check.c validation; config.c defaults, --set and the dump;
 * config_diff.c what a reload changes.
 */
#ifndef PEERSCOPE_CONFIG_KEYS_H
#define PEERSCOPE_CONFIG_KEYS_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config_types.h"

#define CFG_PATH_MAX 128 /* longest dotted key we could know */
#define CFG_ITEM_MAX 128 /* longest list item ("[IPv6]:port", "0-1023") */
#define CFG_SHOW_MAX 64	 /* bytes of a bad value quoted in an error */
#define CFG_CPU_MAX  (CPU_SETSIZE - 1)

enum cfg_type {
	CFG_SECTION, /* a mapping of further keys */
	CFG_UINT,    /* uint32_t, decimal */
	CFG_SIZE,    /* uint32_t byte count, suffixes k/M/G (binary) */
	CFG_DECIMAL, /* double, a decimal number between min and max */
	CFG_BOOL,    /* bool */
	CFG_STRING,  /* char[size], non-empty */
	CFG_ENUM,    /* an enum stored as int, by name */
	CFG_LISTEN,  /* cfg->listen entries of one protocol */
	CFG_CPUS,    /* cfg->cpus */
	CFG_MAP,     /* struct ps_map: string -> string */
	CFG_ENDPOINT, /* char[size]: one listener address (netaddr.h) */
	CFG_ALLOW,   /* char[size]: an allow-list (netaddr.h) */
};

struct cfg_enum_name {
	const char *name;
	int value;
};

struct cfg_key {
	const char *name; /* dotted path */
	enum cfg_type type;
	size_t off;  /* field in struct ps_config (scalar types) */
	size_t size; /* CFG_STRING: buffer size */
	uint32_t min, max;
	bool pow2;			   /* CFG_UINT: a power of two */
	const struct cfg_enum_name *names; /* CFG_ENUM, NULL-terminated */
	enum ps_proto proto;		   /* CFG_LISTEN */
	bool off_ok;			   /* CFG_ENDPOINT: "-" = off */
	const char *def;		   /* default, as config_set text */
	const char *help;		   /* lines split by \n */
	int (*map_check)(const char *name, const char *value); /* CFG_MAP */
};

/* The table: one row per key and section, sections first. */
extern const struct cfg_key cfg_keys[];
extern const size_t cfg_nkeys;

/* The key (or section) at dotted path `name`, or NULL. */
const struct cfg_key *cfg_key_find(const char *name);

/* Whether key k is a list (listen.<proto>, cpus). */
bool cfg_is_list(const struct cfg_key *k);

#endif /* PEERSCOPE_CONFIG_KEYS_H */
