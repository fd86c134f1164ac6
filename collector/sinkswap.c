/* sinkswap.c - see sinkswap.h. */
#include <stdbool.h>
#include <string.h>

#include "cfgpub.h"
#include "merger.h"
#include "sinkswap.h"

bool sinkswap_apply(struct merger *m, uint64_t *failed)
{
	const struct ps_config *want, *have = m->sinks_cfg;
	struct sink fresh, old;
	char err[320];

	if (m->cfgpub == NULL || m->json_sink == NULL || have == NULL)
		return false;
	want = cfgpub_latest(m->cfgpub);
	if (want == have || !want->json_enabled ||
	    strcmp(want->json_path, have->json_path) == 0) {
		/* Nothing this function applies changed (enable: restart). */
		if (want->json_enabled == have->json_enabled &&
		    strcmp(want->json_path, have->json_path) == 0)
			m->sinks_cfg = want;
		return false;
	}
	/* Open the new output first: a failure leaves the old one running. */
	if (sink_json_open(&fresh, want->json_path, err, sizeof(err)) == -1) {
		(*failed)++;
		return false;
	}
	/* Keep the sink's counters: they are totals of the run. */
	memcpy(fresh.published, m->json_sink->published,
	       sizeof(fresh.published));
	memcpy(fresh.failed, m->json_sink->failed, sizeof(fresh.failed));
	old = *m->json_sink;
	*m->json_sink = fresh;
	sink_close(&old); /* flushes what the old file still buffered */
	m->sinks_cfg = want;
	return true;
}
