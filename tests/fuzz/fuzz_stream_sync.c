/*
 * fuzz_stream_sync.c - content recognition (decoders/recognise.c) and the
 * search for a message start in a stream fed in chunks
 * (collector/replay/stream_sync.c).
 *
 * Input: byte 0 chooses what is searched for (BMP, IPFIX, both) and seeds
 * the chunk sizes; the rest is a stream, also tried as one datagram.
 * Checked: no crash, no over-read (ASan); the chunked search finds
 * exactly what one scan over the whole stream at its end finds (the
 * answer never depends on how TCP cut the stream); what it hands on is
 * the stream from that offset; the bytes it passed over are that offset;
 * a recognised datagram is never refused a reason, a refused one always
 * has one.  (Inputs past PS_STREAM_RESYNC_MAX are skipped: there the
 * search gives up on purpose.)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "peerscope/limits.h"
#include "peerscope/recognise.h"
#include "replay/stream_sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_datagram(const uint8_t *p, size_t n)
{
	enum dec_reason why = DEC_NONE;
	enum recognise_proto r = recognise_datagram(p, n, &why);

	if ((r == RECOGNISE_NONE) != (why != DEC_NONE))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned choices[] = { RECOGNISE_TCP_ANY,
					    RECOGNISE_BIT(RECOGNISE_BMP),
					    RECOGNISE_BIT(RECOGNISE_IPFIX) };
	struct recognise_scan whole;
	struct stream_sync s;
	enum stream_sync_state st = STREAM_SYNC_SEARCHING;
	enum recognise_proto proto = RECOGNISE_NONE;
	const uint8_t *p, *out = NULL;
	size_t n, off = 0, out_len = 0;
	uint32_t x;
	unsigned protos;

	/* past the bound the search gives up where one whole scan would not */
	if (size < 1 || size - 1 > PS_STREAM_RESYNC_MAX)
		return 0;
	protos = choices[data[0] % 3];
	x = data[0];
	p = data + 1;
	n = size - 1;
	check_datagram(p, n);
	if (recognise_stream_scan(p, n, protos, true, &whole) ==
	    RECOGNISE_SCAN_MORE)
		whole.proto = RECOGNISE_NONE;

	memset(&s, 0, sizeof(s));
	stream_sync_begin(&s, protos);
	while (off < n && st == STREAM_SYNC_SEARCHING) {
		size_t chunk;

		x = x * 1103515245u + 12345u;
		chunk = 1 + (x >> 16) % 97;
		if (chunk > n - off)
			chunk = n - off;
		st = stream_sync_feed(&s, p + off, chunk, &proto, &out,
				      &out_len);
		off += chunk;
		if (s.len > n)
			__builtin_trap();
	}
	if (st == STREAM_SYNC_SEARCHING)
		st = stream_sync_end(&s, &proto, &out, &out_len);
	if (st == STREAM_SYNC_FOUND) {
		size_t at = off - out_len;

		if (whole.proto == RECOGNISE_NONE || proto != whole.proto ||
		    at != whole.offset || s.skipped != at ||
		    memcmp(out, p + at, out_len) != 0)
			__builtin_trap();
	} else if (whole.proto != RECOGNISE_NONE ||
		   st != STREAM_SYNC_ABANDONED || s.skipped != n) {
		__builtin_trap();
	}
	stream_sync_fini(&s);
	return 0;
}
