/*
 * ixfill.h - exchange connections filled from the IX's own data: the
 * files named by `ixf_member_export` and `peeringdb_netixlan` give the
 * peer addresses (both) and MACs (IX-F only) of every exchange connection
 * that lists a peer_asn and leaves peer_addresses / peer_macs out.
 *
 * Rules (docs/connections.md, "Connections from IX data"):
 *   - only what the connection leaves out is filled; a hand-typed list
 *     always wins;
 *   - addresses come from the IX-F export, else from PeeringDB; MACs from
 *     the IX-F export only (PeeringDB has none);
 *   - the entries are those of peer_asn on the IX `ix_id` (the PeeringDB
 *     ix id) when given; without it, those of the one IX the file has for
 *     that ASN; an ASN on several IXes and no ix_id is a warning, nothing
 *     filled.
 * A malformed file refuses the whole registry ("PATH: at \"POINTER\":
 * REASON: DETAIL"), so the running one (with the previous data) stays.
 *
 * @thread main (registry build).  @locks none.
 */
#ifndef PEERSCOPE_CONN_IXFILL_H
#define PEERSCOPE_CONN_IXFILL_H

#include "base/config_types.h"
#include "conn/registry.h"

/* 0, or -1 with err filled. `name` is the configuration, for warnings. */
int conn_ixfill(struct conn_registry *r, const struct ps_config *cfg,
		const char *name, struct conn_registry_err *err);

#endif /* PEERSCOPE_CONN_IXFILL_H */
