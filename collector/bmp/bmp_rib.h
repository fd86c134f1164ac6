/*
 * bmp_rib.h - what the flow workers and the merger will read of a BMP
 * router's routes and peers: snapshots built from its session's tables
 * (rib_snap.h says what a snapshot is and how it is read), published to
 * the pipeline's registry (rib_lookup.h says when).
 *
 * @thread the BMP thread (replay: the main thread playing its part).
 */
#ifndef PEERSCOPE_BMP_RIB_H
#define PEERSCOPE_BMP_RIB_H

#include "bmp/bmp_session.h"
#include "peerscope/bmp.h"
#include "rib/rib_lookup.h"
#include "rib/rib_snap.h"

/* The unicast routes of one view; NULL when out of memory. */
struct rib_snap *bmp_rib_snap(struct bmp_router *r, enum bmp_view view);

/* The router's peers (not Loc-RIB); NULL when out of memory. */
struct rib_snap *bmp_rib_snap_peers(const struct bmp_router *r);

/*
 * The routes of every lookup view and the peer states, published to g
 * (clears r->rib_dirty, or sets it again when a table could not be
 * built).  0, or -1 (out of memory, or no slot: nothing changed).
 */
int bmp_rib_publish(struct rib_registry *g, struct bmp_router *r);

/* The peer states alone (clears r->peers_dirty); 0 or -1 as
 * bmp_rib_publish. */
int bmp_rib_publish_peers(struct rib_registry *g, struct bmp_router *r);

#endif /* PEERSCOPE_BMP_RIB_H */
