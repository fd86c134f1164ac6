/*
 * log.h - leveled event logs, one line per event, to a file descriptor
 * (stderr in the daemon, so journald and container runtimes collect them).
 *
 *   logfmt: ts=2026-11-26T08:00:00.123Z level=info event=start msg="..."
 *   json:   {"ts":"...","level":"info","event":"start","msg":"..."}
 *
 * An event may carry fields after msg (log_event_fields()), the values a
 * log shipper filters on: `event=listening protocol=sflow port=6343
 * workers=2`.  Field names are ours (snake_case, fixed); values are
 * escaped like msg, and quoted in logfmt when they need it.  Times in
 * fields and messages are RFC 3339 UTC (json_time_text()), never epoch
 * numbers.
 *
 * Each line goes out in one write(2), so lines from different threads never
 * interleave (lines are capped at LOG_LINE_MAX, below PIPE_BUF).  There is
 * no lock: the level and format are relaxed atomics so a configuration
 * reload can change them while other threads log.
 *
 * Events that an outsider can trigger at will (a malformed datagram, a bad
 * HTTP request) go through a struct log_limit owned by the calling thread:
 * at most `burst` lines per event key per period, then one line saying how
 * many were suppressed.  The limiter is per thread so that the per-packet
 * path never shares a cache line or takes a lock to log.
 */
#ifndef PEERSCOPE_LOG_H
#define PEERSCOPE_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/config.h"
#include "peerscope/limits.h"

#define LOG_LINE_MAX	 1024
#define LOG_LIMIT_BURST	 5  /* lines per key per period */
#define LOG_LIMIT_PERIOD 10 /* seconds */

/* One field of an event: a fixed name and its text. */
struct log_field {
	const char *key;
	const char *value;
};

/* LOG_FIELDS({"router", name}, {"port", port}): an array and its length. */
#define LOG_FIELDS(...)                                                       \
	(const struct log_field[]){ __VA_ARGS__ },                             \
		sizeof((const struct log_field[]){ __VA_ARGS__ }) /            \
			sizeof(struct log_field)

struct logger {
	_Atomic int level;  /* enum ps_log_level */
	_Atomic int format; /* enum ps_log_format */
	int fd;
};

struct log_limit_slot {
	uint64_t key_hash; /* 0 = free */
	uint64_t period_start_ns;
	uint32_t lines;	     /* lines written in this period */
	uint32_t suppressed; /* lines dropped since the last written */
};

struct log_limit {
	struct log_limit_slot slot[LOG_LIMIT_SLOTS];
	uint32_t burst;
	uint64_t period_ns;
	uint64_t suppressed_total; /* owner-written, for /metrics */
};

/* @thread main (start-up).  Defaults: info, logfmt. */
void log_init(struct logger *lg, int fd);

/* @thread any, @locks none.  Takes effect for the next line. */
void log_configure(struct logger *lg, enum ps_log_level level,
		   enum ps_log_format format);

/* @thread any, @locks none. */
bool log_enabled(const struct logger *lg, enum ps_log_level level);

/*
 * @thread any, @locks none.  One event: a stable snake_case name (what
 * log shippers filter on) and a human sentence.
 */
__attribute__((format(printf, 4, 5))) void log_event(struct logger *lg,
						     enum ps_log_level level,
						     const char *event,
						     const char *fmt, ...);

/*
 * @thread any, @locks none.  log_event() with fields after msg (above);
 * `fields` may be NULL when n is 0.
 */
__attribute__((format(printf, 6, 7))) void
log_event_fields(struct logger *lg, enum ps_log_level level, const char *event,
		 const struct log_field *fields, unsigned n, const char *fmt,
		 ...);

/* @thread owner of `l`. */
void log_limit_init(struct log_limit *l, uint32_t burst, uint32_t period_s);

/*
 * @thread owner of `l`.  Whether a line for `key` may go out at `now_ns`;
 * when it may, *suppressed is how many were held back since the last one.
 */
bool log_limit_allow(struct log_limit *l, const char *key, uint64_t now_ns,
		     uint32_t *suppressed);

/*
 * @thread owner of `l`.  log_event() through the limiter, keyed by `key`
 * (e.g. "sflow.header.version 192.0.2.1"); adds suppressed=N when earlier
 * lines were held back.
 */
__attribute__((format(printf, 7, 8))) void
log_event_limited(struct logger *lg, struct log_limit *l, uint64_t now_ns,
		  const char *key, enum ps_log_level level, const char *event,
		  const char *fmt, ...);

/* @thread owner of `l`.  log_event_limited() with fields (above). */
__attribute__((format(printf, 9, 10))) void
log_event_limited_fields(struct logger *lg, struct log_limit *l,
			 uint64_t now_ns, const char *key,
			 enum ps_log_level level, const char *event,
			 const struct log_field *fields, unsigned n,
			 const char *fmt, ...);

/* "error", "warn", "info", "debug". */
const char *log_level_name(enum ps_log_level level);

#endif /* PEERSCOPE_LOG_H */
