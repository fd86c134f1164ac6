/*
 * fuzz_bmp_session.c - a BMP byte stream through the whole session layer:
 * framing with a bounded buffer, decoding, the session table, ADD-PATH
 * decisions, the route tables and attribute interning, then the end of
 * the session.  The first input byte picks the read size, so chunking is
 * fuzzed too.  The collector sources are compiled in here (fuzz targets
 * link only the decoders library).
 */
#include <stddef.h>
#include <stdint.h>

#include "../../collector/bmp_session.c"
#include "../../collector/htab.c"
#include "../../collector/rib.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bmp_router r; /* large: keep it off the stack */
	const struct bmp_router_limits lim = { 8, 256, 1 << 16, 1024 };
	size_t chunk, off;

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 64 + 1;
	bmp_router_init(&r, "fuzz", NULL, &lim, NULL, NULL);
	for (off = 1; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		(void)bmp_router_feed(&r, data + off, n);
	}
	/* every cap holds whatever came in */
	if (r.npeers > lim.max_peers || r.len > lim.max_buffer ||
	    r.routes_total > lim.max_router_routes)
		__builtin_trap();
	for (uint32_t i = 0; i < r.npeers; i++)
		if (r.peers[i]->rib.count > lim.max_routes)
			__builtin_trap();
	bmp_router_close(&r);
	if (r.routes_total != 0 || r.attrs.live != 0)
		__builtin_trap(); /* the end of a session frees every route */
	bmp_router_fini(&r);
	return 0;
}
