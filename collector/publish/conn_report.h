/*
 * conn_report.h - the merger's side of a configured connection's status:
 * its figures for a window (sessions, status, reasons; agg/conn_status.h)
 * and the connection_event message when the status changes.
 *
 * The merger remembers each connection's last published status by id
 * (an aging table: a connection the registry no longer has is forgotten
 * CONN_REPORT_HOLD_NS after its last window).  A connection seen for the
 * first time publishes an event with previous_status null, so a consumer
 * that starts reading learns every connection's status; afterwards, one
 * event per change of status (up, down, degraded, unknown), not per
 * change of reasons.
 *
 * Figures the thresholds use, from the connection's merged window entry
 * (NULL when it had no traffic): utilisation = mean bits/s per direction
 * (interface counters where they cover the window, else the sampled
 * estimate) over capacity (configured, else ifSpeed); errors = (errors +
 * discards) / packets of the interface counters; drops = sFlow
 * discarded-packet samples scaled by the sampling rate over the packets
 * in.  Probe loss and p99: the connection's own probe results of the
 * window (every peer address merged per method, as published in
 * latency.probe_*): loss_pct = lost / sent, p99 from the RTT sketch; the
 * worst method's figure, and that method, go to the thresholds (a router
 * that answers TCP at once and de-prioritises ICMP is degraded by its
 * ICMP figure, named probe_icmp in the reason).
 *
 * @thread merger.  @locks none.
 */
#ifndef PEERSCOPE_CONN_REPORT_H
#define PEERSCOPE_CONN_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "agg/agg.h"
#include "agg/conn_rates.h"
#include "agg/conn_status.h"
#include "base/htab.h"
#include "base/json.h"
#include "conn/registry.h"
#include "publish/messages.h"

#define CONN_REPORT_HOLD_NS (3600ULL * 1000000000ULL)

struct conn_report {
	struct htab last; /* struct conn_report_last, by id */
	uint64_t clock_ns; /* the window being published: the table's clock */
	bool ok;
};

struct conn_report_last {
	char id[CONN_ID_MAX];
	uint8_t code;	   /* enum conn_status_code */
	uint64_t since_ns; /* end of the window it was first published */
};

int conn_report_init(struct conn_report *r, uint32_t max_conns);
void conn_report_fini(struct conn_report *r);

/*
 * The figures of the connection's window entry `ac` (NULL: no traffic)
 * the thresholds use: utilisation and drops as published
 * (ac->rates_out, conn_rates.h: the mean rate over the configured
 * capacity, else ifSpeed), errors and discards from its counters.
 */
void conn_report_health(const struct agg_conn *ac, struct conn_health *h);

/* Add the worst probe loss and p99 of pl (NULL: no probes) to h. */
void conn_report_probe_health(const struct msg_probe_latency *pl,
			      struct conn_health *h);

/* Sessions and status of configured connection c over [start, end). */
void conn_report_derive(struct rib_registry *g, const struct conn *c,
			const struct conn_health *h,
			const struct ps_status_config *th, uint64_t start_ns,
			uint64_t end_ns, struct conn_sessions *s,
			struct conn_status *st);

/*
 * Remember c's status for the window ending at end_ns: true, with the
 * connection_event message in j, when it differs from the last one
 * (or c is new).
 */
bool conn_report_event(struct conn_report *r, struct jbuf *j,
		       const struct conn *c, const struct conn_sessions *s,
		       const struct conn_status *st, uint64_t start_ns,
		       uint64_t end_ns);

#endif /* PEERSCOPE_CONN_REPORT_H */
