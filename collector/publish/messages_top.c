/*
 * messages_top.c - the "top" block of connection_metrics: who a
 * connection's traffic belongs to, per direction (agg/mix.h): the top.n
 * source ASNs, destination ASNs and DSCP classes by bytes, the rest as
 * other_bytes, what named no AS or class as unknown_bytes.  Per list:
 * entries + other_bytes + unknown_bytes = the direction's bytes.
 */
#include <stdint.h>

#include "agg/mix.h"
#include "base/json.h"
#include "publish/messages.h"

/* One ASN list: the summary's top n, with each count's error. */
static void as_list(struct jbuf *j, const char *key,
		    const struct agg_mix_dir *x, int s, uint32_t n)
{
	struct topn_item items[TOPN_MAX_N];
	uint64_t other = 0;
	uint32_t got = topn_top(&x->as[s], n, items, &other);

	json_obj_begin(j, key);
	json_arr_begin(j, "entries");
	for (uint32_t i = 0; i < got; i++) {
		json_obj_begin(j, NULL);
		json_u64(j, "asn", items[i].key);
		json_u64(j, "bytes", items[i].count);
		json_u64(j, "error_bytes", items[i].error);
		json_obj_end(j);
	}
	json_arr_end(j);
	/* what the summary could not take counts with the rest */
	json_u64(j, "other_bytes", other + x->as_refused[s]);
	json_u64(j, "unknown_bytes", x->as_unknown[s]);
	json_u64(j, "error_bound_bytes", topn_bound(&x->as[s]));
	json_obj_end(j);
}

/* The n heaviest DSCP classes, exact (64 counters). */
static void dscp_list(struct jbuf *j, const struct agg_mix_dir *x, uint32_t n)
{
	uint8_t cls[MIX_DSCP_VALUES];
	uint64_t other;
	uint32_t got = mix_dscp_top(x, n, cls, &other);

	json_obj_begin(j, "dscp");
	json_arr_begin(j, "entries");
	for (uint32_t i = 0; i < got; i++) {
		json_obj_begin(j, NULL);
		json_u64(j, "dscp", cls[i]);
		json_u64(j, "bytes", x->dscp[cls[i]]);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_u64(j, "other_bytes", other);
	json_u64(j, "unknown_bytes", x->dscp_unknown);
	json_obj_end(j);
}

void msg_connection_top(struct jbuf *j, const struct agg_mix *m)
{
	static const char *const dir_name[2] = { "in", "out" };
	uint32_t n;

	if (m == NULL) {
		json_null(j, "top");
		return;
	}
	n = m->n < TOPN_MAX_N ? m->n : TOPN_MAX_N;
	json_obj_begin(j, "top");
	json_u64(j, "n", n);
	for (int d = 0; d < 2; d++) {
		const struct agg_mix_dir *x = &m->dir[d];

		json_obj_begin(j, dir_name[d]);
		json_u64(j, "bytes", x->total);
		as_list(j, "src_as", x, MIX_SRC_AS, n);
		as_list(j, "dst_as", x, MIX_DST_AS, n);
		dscp_list(j, x, n);
		json_obj_end(j);
	}
	json_obj_end(j);
}
