/* peer_state.c - see peer_state.h. */
#include "rib/peer_state.h"

const char *bmp_state_name(enum bmp_peer_state s)
{
	switch (s) {
	case BMP_STATE_UP:
		return "up";
	case BMP_STATE_DOWN:
		return "down";
	default:
		return "unknown";
	}
}
