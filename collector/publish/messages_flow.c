/*
 * messages_flow.c - the "flow" block of exporter_health: what IPFIX and
 * NetFlow exporters add (templates, held data sets, sampling).
 */
#include "agg/flow_health.h"
#include "base/json.h"
#include "publish/messages.h"

void msg_flow_health(struct jbuf *j, const struct agg_flow_health *h)
{
	json_obj_begin(j, "flow");
	json_u64(j, "version", h->version);
	json_u64(j, "data_records", h->data_records);
	json_u64(j, "bytes", h->bytes);
	json_u64(j, "packets", h->packets);
	json_u64(j, "reverse_bytes", h->rev_bytes);
	json_u64(j, "reverse_packets", h->rev_packets);
	json_u64(j, "options_records", h->options_records);
	json_obj_begin(j, "templates");
	json_u64(j, "known", h->templates_known);
	json_u64(j, "added", h->templates_added);
	json_u64(j, "withdrawn", h->templates_withdrawn);
	json_u64(j, "refused", h->templates_refused);
	json_obj_end(j);
	json_obj_begin(j, "held_data_sets");
	json_u64(j, "held", h->sets_held);
	json_u64(j, "decoded", h->sets_held_decoded);
	json_u64(j, "aged_out", h->sets_aged_out);
	json_u64(j, "refused", h->sets_refused);
	json_obj_end(j);
	json_u64(j, "late_records", h->placement[FLOW_PLACED_BEFORE_OPEN]);
	json_obj_begin(j, "placement");
	json_u64(j, "by_time", h->placement[FLOW_PLACED_BY_TIME]);
	json_u64(j, "before_open_windows",
		 h->placement[FLOW_PLACED_BEFORE_OPEN]);
	json_u64(j, "after_current_window",
		 h->placement[FLOW_PLACED_AFTER_CURRENT]);
	json_u64(j, "at_arrival", h->placement[FLOW_PLACED_ARRIVAL]);
	json_obj_end(j);
	if (h->clock_datagrams == 0) {
		json_null(j, "clock");
	} else {
		json_obj_begin(j, "clock");
		json_i64(j, "offset_ms_min", h->clock_offset_min_ms);
		json_i64(j, "offset_ms_max", h->clock_offset_max_ms);
		json_u64(j, "datagrams", h->clock_datagrams);
		json_obj_end(j);
	}
	json_obj_begin(j, "sampling");
	json_u64(j, "unknown_records", h->sampling_unknown);
	json_u64(j, "rate_min", h->sampling_rate_min);
	json_u64(j, "rate_max", h->sampling_rate_max);
	json_obj_end(j);
	json_obj_end(j);
}
