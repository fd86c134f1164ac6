/*
 * flow_override.h - the entries of flow.sampling_default and
 * flow.sampling_force: "IP" or "IP/ifN" mapped to a sampling rate.
 * Shared by config validation (a bad entry is a configuration error with
 * file, line and key) and ingest_ipfix.c (which builds its table from it).
 */
#ifndef PEERSCOPE_FLOW_OVERRIDE_H
#define PEERSCOPE_FLOW_OVERRIDE_H

#include <stdint.h>

#include "peerscope/addr.h"

/* "192.0.2.1" or "2001:db8::1/if10" -> address, ifindex (0 = whole
 * exporter); 0, or -1 when malformed.  Pure. */
int flow_override_parse_name(const char *name, struct ps_addr *exporter,
			     uint32_t *ifindex);

/* "1000" -> 1000; 1..UINT32_MAX decimal, else -1.  Pure. */
int flow_override_parse_rate(const char *value, uint32_t *rate);

/* Both, for config.c's map check; 0 or -1. */
int flow_override_check(const char *name, const char *value);

#endif /* PEERSCOPE_FLOW_OVERRIDE_H */
