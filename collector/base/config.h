/*
 * config.h - the collector's configuration: YAML file, command-line
 * overrides, validation and a dump of the effective values.
 *
 * Config as a table: config_keys.c holds one table of keys (dotted path, type,
 * offset into struct ps_config, bounds, default, help).  The same table
 * drives config_init() (defaults), the YAML loader, config_set() (--set
 * key=value and named flags), config_validate(), config_dump() and the
 * documented example file (config_dump_example(), checked in as
 * deploy/peerscope.example.yaml and compared by the unit test).
 *
 * YAML nested mappings map to dotted keys ("udp: {batch: 64}" is the key
 * "udp.batch").  Unknown keys, duplicate keys (a YAML error by the spec),
 * aliases and more than one document are errors.  Errors read
 *     peerscope.yaml:7: window_seconds: expected an integer between 1 and
 *     86400, got "abc"
 * or, for config_set(), "command line: window_seconds: ...".
 *
 * Lifecycle: config_init(), config_load() (optional), config_set() for
 * each flag, config_validate(); afterwards the struct is read-only and
 * passed by pointer.  A reload (SIGHUP) builds a fresh struct the same way
 * rather than merging over the running one.
 *
 * @thread main (start-up and reload), @locks none: functions touch only the
 * struct they are given.
 */
#ifndef PEERSCOPE_CONFIG_H
#define PEERSCOPE_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "base/config_types.h"

/* Defaults for every key; path "". */
void config_init(struct ps_config *cfg);

/*
 * Merge the YAML file at path over cfg (keys absent from the file keep
 * their value; a listen.<proto> key replaces that protocol's listeners).
 * Returns 0, or -1 with a message in err and cfg unchanged.
 */
int config_load(struct ps_config *cfg, const char *path, char *err,
		size_t errlen);

/*
 * Set one dotted key from text, as given on the command line
 * ("window_seconds", "60").  List keys (listen.<proto>, cpus) take a
 * comma-separated value and replace the list; "" empties it.  Returns 0,
 * or -1 with "command line: <key>: ..." in err and cfg unchanged.
 */
int config_set(struct ps_config *cfg, const char *key, const char *value,
	       char *err, size_t errlen);

/* config_set() for "key=value" as given to --set. */
int config_set_pair(struct ps_config *cfg, const char *key_value, char *err,
		    size_t errlen);

/*
 * Cross-field checks, and every per-key bound again (the struct may have
 * been filled by code): ring.slots a power of two, at least one listener,
 * no address:port listed twice, no port shared by two protocols.
 * Returns 0, or -1 with "<key>: ..." in err.
 */
int config_validate(const struct ps_config *cfg, char *err, size_t errlen);

/*
 * An error about `key` in err, placed where the key was set:
 * "peerscope.yaml:12: bmp.listen: ...", "command line: ...", or
 * "configuration: ..." for a default.  Returns -1.
 */
__attribute__((format(printf, 5, 6))) int
config_key_error(const struct ps_config *cfg, const char *key, char *err,
		 size_t errlen, const char *fmt, ...);

/* The effective configuration as YAML that config_load() accepts. */
void config_dump(const struct ps_config *cfg, FILE *out);

/* The defaults as YAML with every key documented: the example file. */
void config_dump_example(FILE *out);

/* Protocol configured on a UDP destination port (for replay), or
 * PS_PROTO_NONE (0). */
enum ps_proto config_proto_for_port(const struct ps_config *cfg, uint16_t port);

/* "sflow"; "none" for PS_PROTO_NONE and anything out of range. */
const char *ps_proto_name(enum ps_proto p);

#endif /* PEERSCOPE_CONFIG_H */
