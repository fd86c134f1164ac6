/* sinkswap.c - see sinkswap.h. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/config_diff.h"
#include "base/log.h"
#include "base/runfile.h"
#include "publish/merger.h"
#include "publish/sink_kafka.h"
#include "publish/sinkswap.h"
#include "publish/stats_merger.h"
#include "xthread/cfgpub.h"
#include "xthread/stats.h"

__attribute__((format(printf, 4, 5))) static void
say(struct merger *m, enum ps_log_level level, const char *event,
    const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (m->log != NULL)
		log_event(m->log, level, event, "%s", msg);
	else
		fprintf(stderr, "peerscope: %s: %s\n", event, msg);
}

/* Message counts are totals of the run: the new sink continues them. */
static void carry_counts(struct sink *fresh, const struct sink *old)
{
	memcpy(fresh->published, old->published, sizeof(fresh->published));
	memcpy(fresh->failed, old->failed, sizeof(fresh->failed));
	fresh->flush_failed = old->flush_failed;
	/* a fresh output starts clean: old failures are not new ones */
	fresh->failed_seen = sink_failed_total(old);
}

static bool json_apply(struct merger *m, const struct ps_config *want,
		       uint64_t *failed)
{
	const struct ps_config *have = m->json_cfg;
	bool open = merger_has_sink(m, m->json_sink);
	struct sink fresh, old;
	char err[320];

	if (!want->json_enabled) {
		m->json_cfg = want;
		if (!open)
			return false;
		merger_remove_sink(m, m->json_sink);
		sink_close(m->json_sink); /* flushes what it still buffered */
		say(m, PS_LOG_INFO, "sink_closed",
		    "output.json.enabled false: JSON lines to %s stopped",
		    have->json_path);
		return true;
	}
	if (open && strcmp(want->json_path, have->json_path) == 0) {
		m->json_cfg = want;
		return false;
	}
	/* Open the new output first: a failure leaves the old one running. */
	if (sink_json_open(&fresh, want->json_path, true, err, sizeof(err)) ==
	    -1) {
		(*failed)++;
		say(m, PS_LOG_ERROR, "sink_reload_failed", "%s; %s", err,
		    open ? "JSON lines keep going to the running file" :
			   "JSON lines stay off");
		return false;
	}
	carry_counts(&fresh, m->json_sink);
	old = *m->json_sink;
	*m->json_sink = fresh;
	if (open)
		sink_close(&old);
	else
		merger_add_sink(m, m->json_sink);
	m->json_cfg = want;
	say(m, PS_LOG_INFO, "sink_opened", "JSON lines to %s",
	    want->json_path);
	return true;
}

/*
 * Drain a producer out of use for up to its flush_timeout_ms, keep its
 * counters as run totals (what it could not deliver: dropped), close it.
 */
static void kafka_retire(struct merger *m, struct sink *s, const char *why)
{
	uint64_t undelivered = 0, delivered = 0;
	char brokers[256];

	snprintf(brokers, sizeof(brokers), "%s", sink_kafka_bootstraps(s));
	sink_kafka_drain(s);
	for (int t = 0; t < MSG_TYPE_COUNT; t++) {
		undelivered += sink_kafka_counters(s, t)->undelivered;
		delivered += sink_kafka_counters(s, t)->delivered;
	}
	sink_kafka_totals_get(s, &m->kafka_retired);
	m->kafka_retired_any = true;
	sink_close(s);
	say(m, undelivered > 0 ? PS_LOG_WARN : PS_LOG_INFO, "sink_closed",
	    "%s: Kafka producer on %s drained and closed; %llu messages "
	    "delivered in the run so far, %llu it could not deliver counted "
	    "as dropped",
	    why, brokers, (unsigned long long)delivered,
	    (unsigned long long)undelivered);
}

static bool kafka_apply(struct merger *m, const struct ps_config *want,
			uint64_t *failed)
{
	bool open = merger_has_sink(m, m->kafka_sink);
	struct sink fresh, old;
	char err[600];

	if (!want->kafka.enabled) {
		char brokers[1024];

		m->kafka_cfg = want;
		if (!open)
			return false;
		snprintf(brokers, sizeof(brokers), "%s",
			 sink_kafka_bootstraps(m->kafka_sink));
		merger_remove_sink(m, m->kafka_sink);
		kafka_retire(m, m->kafka_sink, "output.kafka.enabled false");
		runfile_remove(want, RUNFILE_KAFKA_BROKERS, brokers);
		return true;
	}
	/* -1 (out of memory): try the re-creation rather than ignore it. */
	if (open &&
	    config_diff_changed(m->kafka_cfg, want, "output.kafka.*") == 0) {
		m->kafka_cfg = want;
		return false;
	}
	/* The new producer first: a failure leaves the old one running. */
	if (sink_kafka_open_beside(&fresh, &want->kafka,
				   open ? m->kafka_sink : NULL, m->log, err,
				   sizeof(err)) == -1) {
		sink_close(&fresh); /* what the half-open one started */
		(*failed)++;
		say(m, PS_LOG_ERROR, "sink_reload_failed", "%s; %s", err,
		    open ? "keeping the running Kafka producer" :
			   "Kafka stays off");
		return false;
	}
	carry_counts(&fresh, m->kafka_sink);
	old = *m->kafka_sink;
	*m->kafka_sink = fresh;
	m->kafka_cfg = want;
	if (open)
		kafka_retire(m, &old, "output.kafka changed");
	sink_kafka_set_base(m->kafka_sink, &m->kafka_retired);
	if (!open)
		merger_add_sink(m, m->kafka_sink);
	say(m, PS_LOG_INFO, "sink_opened", "Kafka producer on %s",
	    sink_kafka_bootstraps(m->kafka_sink));
	sink_kafka_tell_address(m->kafka_sink, want, m->log);
	return true;
}

bool sinkswap_apply(struct merger *m, uint64_t *failed)
{
	const struct ps_config *want;
	bool changed;

	if (m->cfgpub == NULL || m->json_sink == NULL || m->kafka_sink == NULL)
		return false;
	want = cfgpub_latest(m->cfgpub);
	changed = json_apply(m, want, failed);
	if (kafka_apply(m, want, failed))
		changed = true;
	if (changed && m->pub != NULL)
		stats_sinks_changed(m->pub, m);
	return changed;
}

void sinkswap_service(struct stats_hub *h, struct merger *m)
{
	uint64_t failed = 0;

	/* Once per merger loop, not per packet: an exchange is fine here. */
	if (!atomic_exchange_explicit(&h->reopen_sinks, false,
				      memory_order_acq_rel))
		return;
	/* Sinks opened, re-created or closed first; a new file's reopen
	 * below is then a no-op. */
	(void)sinkswap_apply(m, &failed);
	for (unsigned i = 0; i < m->nsinks; i++) {
		struct sink *s = m->sinks[i];
		char err[320];

		if (s->ops->reopen == NULL ||
		    s->ops->reopen(s, err, sizeof(err)) == 0)
			continue;
		failed++;
		/* e.g. a root-owned file after the switch to run_as_user */
		if (m->log != NULL)
			log_event_fields(m->log, PS_LOG_WARN,
					 "sink_reopen_failed",
					 LOG_FIELDS({ "sink", s->ops->name },
						    { "reason", err }),
					 "cannot reopen the %s output (%s); "
					 "still writing to the old file",
					 s->ops->name, err);
	}
	STATS_STORE(h->sink_reopen_failures,
	      atomic_load_explicit(&h->sink_reopen_failures,
				   memory_order_relaxed) +
		      failed);
	xpub_bump(&h->sink_reopens);
}
