/*
 * fuzz_capture_frame.c - libFuzzer target for capture_frame_decode().
 *
 * The first input byte picks the link layout (CAPTURE_LINK_*, 0 and values
 * past the last included: refused), the second how many bytes the snap
 * length cut off the wire frame; the rest is the captured frame.
 */
#include <stddef.h>
#include <stdint.h>

#include "peerscope/capture_frame.h"
#include "peerscope/dec_stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dec_stats st = { 0 };
	struct capture_packet p;
	const uint8_t *frame = data + 2;
	uint64_t counted = 0;
	size_t caplen;
	int rc;

	if (size < 2)
		return 0;
	caplen = size - 2;
	rc = capture_frame_decode((enum capture_link)(data[0] % 9), frame,
				  caplen, caplen + data[1], &p, &st);
	for (unsigned int i = 0; i < DEC_REASON_COUNT; i++)
		counted += st.n[i];
	/* the contract in capture_frame.h: 0 hands out a payload inside the
	 * frame, -1 counts exactly one reason */
	if (rc == 0 && (counted != 0 || p.payload < frame ||
			p.len > caplen ||
			(size_t)(p.payload - frame) > caplen - p.len))
		__builtin_trap();
	if (rc == -1 && counted != 1)
		__builtin_trap();
	return 0;
}
