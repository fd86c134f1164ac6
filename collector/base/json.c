/* json.c - see json.h. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/json.h"

void jbuf_init(struct jbuf *j)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = true;
}

void jbuf_fini(struct jbuf *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

void jbuf_reset(struct jbuf *j)
{
	j->len = 0;
	j->depth = 0;
	j->first[0] = true;
	j->failed = false;
	if (j->buf != NULL)
		j->buf[0] = '\0';
}

static void put(struct jbuf *j, const char *s, size_t n)
{
	if (j->failed)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 1024;
		char *p;

		while (j->len + n + 1 > cap)
			cap *= 2;
		p = realloc(j->buf, cap);
		if (p == NULL) {
			j->failed = true;
			return;
		}
		j->buf = p;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void puts_(struct jbuf *j, const char *s)
{
	put(j, s, strlen(s));
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629 §4: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0.
 */
static size_t utf8_sequence(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the terminating NUL */
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* Bytes that may be copied as they are: printable ASCII but '"' and '\\',
 * and well-formed UTF-8.  Returns how many, 0 when *s needs escaping. */
static size_t plain_run(const unsigned char *s)
{
	const unsigned char *p = s;

	for (;;) {
		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			p++;
		} else if (*p >= 0x80) {
			size_t n = utf8_sequence(p);

			if (n == 0)
				break;
			p += n;
		} else {
			break;
		}
	}
	return (size_t)(p - s);
}

/*
 * A JSON string of s.  Strings can come from the wire (BMP sysName, Peer
 * Up information), so bytes that are not well-formed UTF-8 become U+FFFD:
 * the output is valid JSON for any input.  Runs of plain bytes are copied
 * whole, one copy per run rather than per character.
 */
static void put_escaped(struct jbuf *j, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	put(j, "\"", 1);
	while (*s != '\0') {
		size_t n = plain_run(s);
		char esc[8];

		put(j, (const char *)s, n);
		s += n;
		if (*s == '\0')
			break;
		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*s;
			put(j, esc, 2);
		} else if (*s < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *s);
			puts_(j, esc);
		} else {
			puts_(j, "\\ufffd"); /* not UTF-8 */
		}
		s++;
	}
	put(j, "\"", 1);
}

/* Comma and key before a value at the current depth. */
static void lead(struct jbuf *j, const char *key)
{
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = false;
	if (key != NULL) {
		put_escaped(j, key);
		put(j, ":", 1);
	}
}

static void open_(struct jbuf *j, const char *key, const char *brace)
{
	lead(j, key);
	puts_(j, brace);
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		j->failed = true;
		return;
	}
	j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct jbuf *j, const char *brace)
{
	if (j->depth > 0)
		j->depth--;
	puts_(j, brace);
}

void json_obj_begin(struct jbuf *j, const char *key)
{
	open_(j, key, "{");
}

void json_obj_end(struct jbuf *j)
{
	close_(j, "}");
}

void json_arr_begin(struct jbuf *j, const char *key)
{
	open_(j, key, "[");
}

void json_arr_end(struct jbuf *j)
{
	close_(j, "]");
}

void json_str(struct jbuf *j, const char *key, const char *value)
{
	lead(j, key);
	put_escaped(j, value);
}

void json_u64(struct jbuf *j, const char *key, uint64_t value)
{
	char num[24];

	lead(j, key);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)value);
	puts_(j, num);
}

void json_i64(struct jbuf *j, const char *key, int64_t value)
{
	char num[24];

	lead(j, key);
	snprintf(num, sizeof(num), "%lld", (long long)value);
	puts_(j, num);
}

void json_bool(struct jbuf *j, const char *key, bool value)
{
	lead(j, key);
	puts_(j, value ? "true" : "false");
}

void json_null(struct jbuf *j, const char *key)
{
	lead(j, key);
	puts_(j, "null");
}

void json_double(struct jbuf *j, const char *key, double value, int decimals)
{
	char num[64];
	size_t n;

	if (!isfinite(value)) {
		json_null(j, key);
		return;
	}
	lead(j, key);
	snprintf(num, sizeof(num), "%.*f", decimals, value);
	n = strlen(num);
	if (memchr(num, '.', n) != NULL) {
		while (n > 0 && num[n - 1] == '0')
			num[--n] = '\0';
		if (n > 0 && num[n - 1] == '.')
			num[--n] = '\0';
	}
	if (strcmp(num, "-0") == 0)
		strcpy(num, "0");
	puts_(j, num);
}

char *json_time_text(uint64_t ns, char *buf, size_t len)
{
	time_t secs = (time_t)(ns / 1000000000ULL);
	unsigned ms = (unsigned)(ns % 1000000000ULL / 1000000ULL);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ms);
	return buf;
}

void json_time(struct jbuf *j, const char *key, uint64_t ns)
{
	char text[64];

	json_str(j, key, json_time_text(ns, text, sizeof(text)));
}
