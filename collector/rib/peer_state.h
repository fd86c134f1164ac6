/*
 * peer_state.h - a BGP session's state as its router's BMP feed last told
 * it: set by the BMP sessions (bmp/bmp_session.h), published with the RIB
 * snapshots (rib_snap.h) to the connections' `bgp` block.
 */
#ifndef PEERSCOPE_PEER_STATE_H
#define PEERSCOPE_PEER_STATE_H

enum bmp_peer_state { BMP_STATE_UNKNOWN = 0, BMP_STATE_UP, BMP_STATE_DOWN };

/* "up", "down" or "unknown". */
const char *bmp_state_name(enum bmp_peer_state s);

#endif /* PEERSCOPE_PEER_STATE_H */
