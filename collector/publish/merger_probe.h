/*
 * merger_probe.h - probe results into connection_metrics (issue 12).
 *
 * The probe thread hands one window of results (per target and method)
 * over its ring (probe.h).  A target is (connection id, peer address) of
 * a configured connection with `probe: true`; its results join the merged
 * window of the same start, on the connection's port (router, ifIndex),
 * the key connection_metrics is published under, so a port with probe
 * results is published even without traffic.  Per method, the results of
 * the connection's addresses are merged (sketches, counts, jitter pairs).
 * A merged window waits for its probe results beyond the workers'
 * watermark, at most merger.probe_wait_ns of wall clock.
 *
 * The same results are also kept by connection id, whatever the port
 * (an exchange connection shares its port; a router named by sysName has
 * no port yet): a connection's status reads its own (conn_report.h).
 *
 * @thread merger.
 */
#ifndef PEERSCOPE_MERGER_PROBE_H
#define PEERSCOPE_MERGER_PROBE_H

#include <stdbool.h>

#include "publish/merger.h"
#include "publish/messages.h"

/* Give merged window p the probe window w (owned by p from now on) and
 * an entry for each port its results join. */
void merger_probe_attach(struct merger *m, struct merged_window *p,
			 struct probe_window *w);

/* May window p be published as far as probes go (at `now_real_ns`)? */
bool merger_probes_ready(const struct merger *m,
			 const struct merged_window *p, uint64_t now_real_ns);

/*
 * A merged window's probe results by port and by connection: build (NULL
 * when none, or out of memory: published without them, counted unjoined;
 * a result without a port is counted unjoined too), look one up, free.
 */
struct probe_join;
struct probe_join *probe_join_build(struct merger *m,
				    const struct merged_window *p);
const struct msg_probe_latency *probe_join_find(struct probe_join *j,
						 const struct conn_key *key);
/* The results of the connection with this id (NULL: none). */
const struct msg_probe_latency *probe_join_find_conn(struct probe_join *j,
						      const char *conn_id);
void probe_join_free(struct probe_join *j);

#endif /* PEERSCOPE_MERGER_PROBE_H */
