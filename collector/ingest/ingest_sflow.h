/*
 * ingest_sflow.h - the worker's sFlow v5 path: samples and counters of one
 * datagram into the open window.
 */
#ifndef PEERSCOPE_INGEST_SFLOW_H
#define PEERSCOPE_INGEST_SFLOW_H

struct worker;
struct rx_datagram;

/* @thread worker.  One sFlow datagram, called by worker_process. */
void ingest_sflow(struct worker *w, const struct rx_datagram *d);

#endif /* PEERSCOPE_INGEST_SFLOW_H */
