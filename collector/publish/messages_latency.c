/*
 * messages_latency.c - the `latency` object of connection_metrics: one
 * figure per source (agg/latency.h for the passive ones, the probe
 * thread's results for probe_icmp / probe_tcp / probe_stamp), each with
 * its quantiles in milliseconds and its sketch's encoding (sketch.h,
 * docs/latency.md) so that consumers merge windows exactly.  Schema:
 * schemas/connection_metrics.v1.schema.json, $defs latency.
 */
#include <math.h>
#include <stdlib.h>

#include "publish/messages.h"

/* ns to ms with ns resolution; NaN (nothing to say) as null */
static void json_ms(struct jbuf *j, const char *key, double ns)
{
	if (isnan(ns))
		json_null(j, key);
	else
		json_double(j, key, ns / 1e6, 6);
}

/* count, quantiles, mean, folded and the encoding of one sketch; values
 * in `scale` units per reported unit (ns for ms, 1 for bytes) */
static void sketch_fields(struct jbuf *j, const struct sketch *s)
{
	char *b64 = sketch_encode_base64(s);

	json_u64(j, "count", s->count);
	json_ms(j, "min_ms", s->count ? (double)s->min : NAN);
	json_ms(j, "p50_ms", sketch_quantile(s, 0.5));
	json_ms(j, "p90_ms", sketch_quantile(s, 0.9));
	json_ms(j, "p99_ms", sketch_quantile(s, 0.99));
	json_ms(j, "max_ms", s->count ? (double)s->max : NAN);
	json_ms(j, "mean_ms", sketch_mean(s));
	json_u64(j, "folded", s->folded);
	json_str(j, "sketch", b64 != NULL ? b64 : "");
	free(b64);
}

static void rejected_block(struct jbuf *j, const struct sketch_rejects *r)
{
	json_obj_begin(j, "rejected");
	for (int i = 0; i < SKETCH_REJECT_COUNT; i++)
		json_u64(j, sketch_reject_name((enum sketch_reject)i), r->n[i]);
	json_obj_end(j);
}

static bool figure_is_empty(const struct lat_figure *f)
{
	return f->records == 0 && f->saturated == 0;
}

static void nullable_double(struct jbuf *j, const char *key, double v,
			    bool have, int decimals)
{
	if (have)
		json_double(j, key, v, decimals);
	else
		json_null(j, key);
}

/* Queue depth (bytes): the same figures, not in ms. */
static void queue_depth_block(struct jbuf *j, const struct sketch *s)
{
	char *b64 = sketch_encode_base64(s);
	bool any = s->count > 0;

	json_obj_begin(j, "queue_depth_bytes");
	json_u64(j, "count", s->count);
	nullable_double(j, "min", (double)s->min, any, 0);
	nullable_double(j, "p50", sketch_quantile(s, 0.5), any, 0);
	nullable_double(j, "p90", sketch_quantile(s, 0.9), any, 0);
	nullable_double(j, "p99", sketch_quantile(s, 0.99), any, 0);
	nullable_double(j, "max", (double)s->max, any, 0);
	nullable_double(j, "mean", sketch_mean(s), any, 1);
	json_str(j, "sketch", b64 != NULL ? b64 : "");
	free(b64);
	json_obj_end(j);
}

static void passive_block(struct jbuf *j, const struct agg_latency *l,
			  enum lat_source src)
{
	const struct lat_figure *f = &l->src[src];
	struct sketch all;

	json_obj_begin(j, lat_source_name(src));
	/* out of memory: an empty figure (its values counted no_memory in
	 * peerscope_latency_no_memory_total) rather than a part of it */
	(void)agg_latency_total(l, src, &all);
	sketch_fields(j, &all);
	sketch_fini(&all);
	json_u64(j, "records", f->records);
	rejected_block(j, &f->rejected);
	if (f->has_bounds) {
		json_obj_begin(j, "bounds");
		json_ms(j, "min_ms", (double)f->bound_min_ns);
		json_ms(j, "max_ms", (double)f->bound_max_ns);
		json_obj_end(j);
	} else {
		json_null(j, "bounds");
	}
	if (src == LAT_DEVICE_TRANSIT) {
		json_u64(j, "saturated", f->saturated);
		queue_depth_block(j, &l->queue_depth);
	} else {
		json_null(j, "saturated");
		json_null(j, "queue_depth_bytes");
	}
	if (src == LAT_TCP_HANDSHAKE)
		json_u64(j, "paired", l->handshakes_paired);
	else
		json_null(j, "paired");
	if (lat_part_name(src, LAT_PART_A) != NULL) {
		json_obj_begin(j, "parts");
		for (int p = LAT_PART_A; p <= LAT_PART_B; p++) {
			json_obj_begin(j, lat_part_name(src, (enum lat_part)p));
			sketch_fields(j, &f->part[p]);
			json_obj_end(j);
		}
		json_obj_end(j);
	} else {
		json_null(j, "parts");
	}
	json_obj_end(j);
}

static bool passive_is_empty(const struct agg_latency *l, enum lat_source s)
{
	return l == NULL ||
	       (figure_is_empty(&l->src[s]) &&
		(s != LAT_DEVICE_TRANSIT || sketch_is_empty(&l->queue_depth)) &&
		(s != LAT_TCP_HANDSHAKE || l->handshakes_paired == 0));
}

static void probe_block(struct jbuf *j, const char *name,
			const struct probe_result *r,
			const struct msg_probe_latency *probes)
{
	json_obj_begin(j, name);
	sketch_fields(j, &r->rtt);
	json_u64(j, "sent", r->sent);
	json_u64(j, "answered", r->answered);
	json_u64(j, "lost", r->lost);
	json_double(j, "loss_pct", probe_result_loss_pct(r), 3);
	json_ms(j, "jitter_ms", r->jitter_pairs ? probe_result_jitter_ms(r) * 1e6 :
						  NAN);
	if (r->sent)
		json_double(j, "availability", probe_result_availability(r), 4);
	else
		json_null(j, "availability");
	json_u64(j, "late", r->late);
	json_u64(j, "refused", r->refused);
	json_u64(j, "unreachable", r->unreachable);
	json_u64(j, "send_errors", r->send_errors);
	json_u64(j, "skipped", r->skipped);
	json_u64(j, "kernel_timed", r->kernel_timed);
	json_arr_begin(j, "targets");
	for (unsigned i = 0; i < probes->ntargets[r->method]; i++)
		json_str(j, NULL, probes->targets[r->method][i]);
	json_arr_end(j);
	rejected_block(j, &r->rejects);
	json_obj_end(j);
}

bool msg_latency_any(const struct agg_latency *l,
		     const struct msg_probe_latency *probes)
{
	if (probes != NULL)
		for (int m = 0; m < PROBE_METHOD_COUNT; m++)
			if (probes->method[m] != NULL)
				return true;
	return l != NULL && !agg_latency_is_empty(l);
}

void msg_latency(struct jbuf *j, const struct agg_latency *l,
		 const struct msg_probe_latency *probes)
{
	if (!msg_latency_any(l, probes)) {
		json_null(j, "latency");
		return;
	}
	json_obj_begin(j, "latency");
	for (int s = 0; s < LAT_SOURCE_COUNT; s++)
		if (passive_is_empty(l, (enum lat_source)s))
			json_null(j, lat_source_name((enum lat_source)s));
		else
			passive_block(j, l, (enum lat_source)s);
	for (int m = 0; m < PROBE_METHOD_COUNT; m++) {
		const struct probe_result *r =
			probes != NULL ? probes->method[m] : NULL;
		const char *name = probe_source_name((enum probe_method)m);

		if (r == NULL)
			json_null(j, name);
		else
			probe_block(j, name, r, probes);
	}
	json_obj_end(j);
}
