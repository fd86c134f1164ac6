/*
 * fuzz_packet.c - libFuzzer target for pkt_decode().
 *
 * The first input byte picks the sFlow header_protocol (Ethernet, raw IPv4,
 * raw IPv6); the rest is the sampled header.
 */
#include <stddef.h>
#include <stdint.h>

#include "peerscope/dec_stats.h"
#include "peerscope/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t protos[] = {
		PKT_PROTO_ETHERNET,
		PKT_PROTO_IPV4,
		PKT_PROTO_IPV6,
	};
	struct dec_stats st = { 0 };
	struct pkt_info pi;
	uint64_t counted = 0;
	int rc;

	if (size < 1)
		return 0;
	rc = pkt_decode(data + 1, size - 1, protos[data[0] % 3], &pi, &st);
	for (unsigned int i = 0; i < DEC_REASON_COUNT; i++)
		counted += st.n[i];
	/* the contract in packet.h: 0 means something was decoded, -1 has
	 * a reason, and no call counts more than one reason */
	if ((rc == 0) != (pi.depth != PKT_DEPTH_NONE) ||
	    (rc == -1 && counted == 0) || counted > 1)
		__builtin_trap();
	return 0;
}
