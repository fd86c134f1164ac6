/*
 * json.h - a small JSON writer into a growable buffer.
 *
 * Commas are placed by the writer (a per-depth "first" flag), strings are
 * escaped, and numbers are written without locale surprises.  Used by the
 * message builders; never on the per-packet path.
 */
#ifndef PEERSCOPE_JSON_H
#define PEERSCOPE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peerscope/limits.h"

struct jbuf {
	char *buf;
	size_t len;
	size_t cap;
	unsigned depth;
	bool first[JSON_MAX_DEPTH];
	bool failed; /* out of memory or depth: output unusable */
};

void jbuf_init(struct jbuf *j);
void jbuf_fini(struct jbuf *j);
void jbuf_reset(struct jbuf *j);

void json_obj_begin(struct jbuf *j,
		    const char *key); /* key NULL at top/in arrays */
void json_obj_end(struct jbuf *j);
void json_arr_begin(struct jbuf *j, const char *key);
void json_arr_end(struct jbuf *j);
void json_str(struct jbuf *j, const char *key, const char *value);
void json_u64(struct jbuf *j, const char *key, uint64_t value);
void json_i64(struct jbuf *j, const char *key, int64_t value);
void json_bool(struct jbuf *j, const char *key, bool value);
void json_null(struct jbuf *j, const char *key);
/* Finite doubles with `decimals` places, trailing zeros trimmed. */
void json_double(struct jbuf *j, const char *key, double value, int decimals);
/* RFC 3339 UTC time with milliseconds, from ns since the epoch. */
void json_time(struct jbuf *j, const char *key, uint64_t ns);

/*
 * The same text into buf ("2026-11-26T07:53:35.000Z", 25 bytes with the
 * NUL): messages, log lines and log fields all write times this way.
 * Returns buf.  @thread any.
 */
char *json_time_text(uint64_t ns, char *buf, size_t len);

#endif /* PEERSCOPE_JSON_H */
