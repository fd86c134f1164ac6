/*
 * config_value.h - text into a key's field, and the error messages that
 * say where a bad value came from: the one path for defaults (config.c),
 * the YAML file (config_yaml.c) and the command line (config.c), for the
 * config files of base/.
 */
#ifndef PEERSCOPE_CONFIG_VALUE_H
#define PEERSCOPE_CONFIG_VALUE_H

#include <stddef.h>

#include "base/config_keys.h"

/* Where a value came from, for error messages. */
struct cfg_src {
	const char *name;   /* file path, or "command line" */
	unsigned long line; /* 1-based; 0 = no line */
	char *err;
	size_t errlen;
};

/* An error about key (NULL: none) from src, into src->err: -1. */
__attribute__((format(printf, 3, 4))) int
cfg_fail(const struct cfg_src *src, const char *key, const char *fmt, ...);

/* Untrusted text made printable for a message (\xNN), cut with "...". */
void cfg_escape(char *out, size_t outlen, const char *in, size_t inlen);

/* What a key accepts, for "expected ..." messages. */
void cfg_expect(const struct cfg_key *k, char *buf, size_t len);

/* "<key>: expected <what k takes>, got "<text>"": -1. */
int cfg_bad_value(const struct cfg_src *src, const struct cfg_key *k,
		  const char *text, size_t len);

/* "<key>: expected <what k takes>, got <what>" for non-scalars: -1. */
int cfg_bad_kind(const struct cfg_src *src, const struct cfg_key *k,
		 const char *what);

/* Forget the listeners of k's protocol, or all CPUs. */
void cfg_list_clear(struct ps_config *cfg, const struct cfg_key *k);

/* Append comma-separated items to a list key. */
int cfg_list_add(struct ps_config *cfg, const struct cfg_key *k,
		 const char *text, const struct cfg_src *src);

/* Add or replace one entry of a CFG_MAP key. */
int cfg_map_put(struct ps_config *cfg, const struct cfg_key *k,
		const char *name, const char *value, const struct cfg_src *src);

/* "NAME=VALUE" adds or replaces an entry; "" empties the map. */
int cfg_map_set_text(struct ps_config *cfg, const struct cfg_key *k,
		     const char *text, const struct cfg_src *src);

/* An endpoint or allow-list key, checked by netaddr.h's parser. */
int cfg_check_address(const struct cfg_key *k, const char *text,
		      const struct cfg_src *src);

/* Set key k from text (a YAML scalar or a command-line value). */
int cfg_set_text(struct ps_config *cfg, const struct cfg_key *k,
		 const char *text, const struct cfg_src *src);

/* A listener as "address:port" text. */
void cfg_listen_format(const struct ps_listen *l, char *buf, size_t len);

#endif /* PEERSCOPE_CONFIG_VALUE_H */
