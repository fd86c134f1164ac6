/* log.c - see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/json.h"
#include "base/log.h"

static const char *const level_names[] = {
	[PS_LOG_ERROR] = "error",
	[PS_LOG_WARN] = "warn",
	[PS_LOG_INFO] = "info",
	[PS_LOG_DEBUG] = "debug",
};

const char *log_level_name(enum ps_log_level level)
{
	if ((unsigned)level > PS_LOG_DEBUG)
		return "unknown";
	return level_names[level];
}

void log_init(struct logger *lg, int fd)
{
	atomic_init(&lg->level, PS_LOG_INFO);
	atomic_init(&lg->format, PS_LOG_LOGFMT);
	lg->fd = fd;
}

void log_configure(struct logger *lg, enum ps_log_level level,
		   enum ps_log_format format)
{
	atomic_store_explicit(&lg->level, (int)level, memory_order_relaxed);
	atomic_store_explicit(&lg->format, (int)format, memory_order_relaxed);
}

bool log_enabled(const struct logger *lg, enum ps_log_level level)
{
	return (int)level <=
	       atomic_load_explicit(&lg->level, memory_order_relaxed);
}

/* Appends within a fixed line; a line that does not fit is cut, not split. */
struct line {
	char buf[LOG_LINE_MAX];
	size_t len;
};

static void line_putc(struct line *l, char c)
{
	/* Keep one byte for the newline. */
	if (l->len + 1 < sizeof(l->buf))
		l->buf[l->len++] = c;
}

static void line_puts(struct line *l, const char *s)
{
	while (*s != '\0')
		line_putc(l, *s++);
}

/*
 * A value quoted and escaped the same way for logfmt and JSON: backslash,
 * quote and control characters escaped, so text from the network (an
 * exporter's bytes in an error message) cannot forge a field or a line.
 */
static void line_quoted(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	line_putc(l, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			line_putc(l, '\\');
			line_putc(l, (char)c);
		} else if (c == '\n') {
			line_puts(l, "\\n");
		} else if (c < 0x20 || c == 0x7f) {
			line_puts(l, "\\u00");
			line_putc(l, hex[c >> 4]);
			line_putc(l, hex[c & 15]);
		} else {
			line_putc(l, (char)c);
		}
	}
	line_putc(l, '"');
}

static void line_field(struct line *l, bool json, bool first, const char *key,
		       const char *value, bool quote)
{
	if (json) {
		line_puts(l, first ? "{\"" : ",\"");
		line_puts(l, key);
		line_puts(l, "\":");
	} else {
		if (!first)
			line_putc(l, ' ');
		line_puts(l, key);
		line_putc(l, '=');
	}
	if (quote)
		line_quoted(l, value);
	else
		line_puts(l, value);
}

static void timestamp(char *buf, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_time_text((uint64_t)ts.tv_sec * 1000000000ULL +
			       (uint64_t)ts.tv_nsec,
		       buf, len);
}

/* logfmt leaves a value bare when nothing in it could be misread. */
static bool needs_quotes(const char *s)
{
	if (*s == '\0')
		return true;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == '"' || *s == '=' ||
		    *s == '\\' || (unsigned char)*s == 0x7f)
			return true;
	return false;
}

__attribute__((format(printf, 7, 0))) static void
log_vevent(struct logger *lg, enum ps_log_level level, const char *event,
	   uint32_t suppressed, const struct log_field *fields, unsigned nf,
	   const char *fmt, va_list ap)
{
	bool json = atomic_load_explicit(&lg->format, memory_order_relaxed) ==
		    PS_LOG_JSON;
	char msg[LOG_LINE_MAX];
	char ts[48];
	char num[24];
	struct line l;
	ssize_t n;

	l.len = 0;
	timestamp(ts, sizeof(ts));
	vsnprintf(msg, sizeof(msg), fmt, ap);
	line_field(&l, json, true, "ts", ts, json);
	line_field(&l, json, false, "level", log_level_name(level), json);
	line_field(&l, json, false, "event", event, json);
	line_field(&l, json, false, "msg", msg, true);
	for (unsigned i = 0; i < nf; i++)
		line_field(&l, json, false, fields[i].key,
			   fields[i].value != NULL ? fields[i].value : "",
			   json || needs_quotes(fields[i].value != NULL ?
							fields[i].value :
							""));
	if (suppressed > 0) {
		snprintf(num, sizeof(num), "%u", suppressed);
		line_field(&l, json, false, "suppressed", num, false);
	}
	if (json)
		line_putc(&l, '}');
	l.buf[l.len++] = '\n';
	/* One write per line; a short write to a full pipe loses the rest. */
	n = write(lg->fd, l.buf, l.len);
	(void)n;
}

void log_event(struct logger *lg, enum ps_log_level level, const char *event,
	       const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(lg, level))
		return;
	va_start(ap, fmt);
	log_vevent(lg, level, event, 0, NULL, 0, fmt, ap);
	va_end(ap);
}

void log_event_fields(struct logger *lg, enum ps_log_level level,
		      const char *event, const struct log_field *fields,
		      unsigned n, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(lg, level))
		return;
	va_start(ap, fmt);
	log_vevent(lg, level, event, 0, fields, n, fmt, ap);
	va_end(ap);
}

void log_limit_init(struct log_limit *l, uint32_t burst, uint32_t period_s)
{
	memset(l, 0, sizeof(*l));
	l->burst = burst;
	l->period_ns = (uint64_t)period_s * 1000000000ULL;
}

/* FNV-1a; never 0, which marks a free slot. */
static uint64_t key_hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 1099511628211ULL;
	}
	return h == 0 ? 1 : h;
}

bool log_limit_allow(struct log_limit *l, const char *key, uint64_t now_ns,
		     uint32_t *suppressed)
{
	uint64_t h = key_hash(key);
	struct log_limit_slot *s = &l->slot[h % LOG_LIMIT_SLOTS];

	*suppressed = 0;
	/*
	 * A colliding key takes the slot over.  An attacker cycling keys can
	 * at worst get `burst` lines per key through, and keys come from a
	 * bounded set (reason names x capped exporters), so the total stays
	 * bounded too.
	 */
	if (s->key_hash != h) {
		s->key_hash = h;
		s->period_start_ns = now_ns;
		s->lines = 0;
		s->suppressed = 0;
	}
	if (now_ns - s->period_start_ns >= l->period_ns) {
		s->period_start_ns = now_ns;
		s->lines = 0;
	}
	if (s->lines >= l->burst) {
		s->suppressed++;
		l->suppressed_total++;
		return false;
	}
	s->lines++;
	*suppressed = s->suppressed;
	s->suppressed = 0;
	return true;
}

void log_event_limited(struct logger *lg, struct log_limit *l, uint64_t now_ns,
		       const char *key, enum ps_log_level level,
		       const char *event, const char *fmt, ...)
{
	uint32_t suppressed;
	va_list ap;

	if (!log_enabled(lg, level) ||
	    !log_limit_allow(l, key, now_ns, &suppressed))
		return;
	va_start(ap, fmt);
	log_vevent(lg, level, event, suppressed, NULL, 0, fmt, ap);
	va_end(ap);
}

void log_event_limited_fields(struct logger *lg, struct log_limit *l,
			      uint64_t now_ns, const char *key,
			      enum ps_log_level level, const char *event,
			      const struct log_field *fields, unsigned n,
			      const char *fmt, ...)
{
	uint32_t suppressed;
	va_list ap;

	if (!log_enabled(lg, level) ||
	    !log_limit_allow(l, key, now_ns, &suppressed))
		return;
	va_start(ap, fmt);
	log_vevent(lg, level, event, suppressed, fields, n, fmt, ap);
	va_end(ap);
}
