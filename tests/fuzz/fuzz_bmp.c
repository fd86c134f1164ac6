/*
 * fuzz_bmp.c - a BMP byte stream through the framer, the message decoder
 * and, for Route Monitoring, the BGP UPDATE decoder and every NLRI block
 * walked both with and without ADD-PATH path ids.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "peerscope/bmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t touch(const void *p, size_t len)
{
	return len > 0 ? ((const volatile uint8_t *)p)[len - 1] : 0;
}

static void walk(const struct bgp_nlri_block *b, struct dec_stats *st)
{
	struct bgp_prefix p;

	for (int ap = 0; ap < 2; ap++) {
		struct cur c = b->c;
		unsigned n = 0;
		int rc;

		(void)bgp_nlri_block_fits(b, ap);
		while ((rc = bgp_nlri_next(&c, b, ap, ap, &p, st)) == 1) {
			if (p.len > (b->afi == BGP_AFI_IPV6 ? 128 : 32))
				__builtin_trap();
			if (++n > 65536)
				__builtin_trap(); /* must always advance */
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bmp_msg m;    /* large: keep off the stack */
	static struct bgp_update u;
	static uint8_t shared[65536 + 8];
	struct dec_stats st;
	size_t off = 0;

	memset(&st, 0, sizeof(st));
	while (off < size) {
		uint32_t len;
		int rc = bmp_frame(data + off, size - off, &len, &st);

		if (rc != 1)
			break;
		if (len < BMP_COMMON_HDR_LEN || len > size - off)
			__builtin_trap();
		if (bmp_decode(data + off, len, &m, &st) == 0) {
			for (unsigned i = 0; i < m.ntlv; i++)
				(void)touch(m.tlv[i].value, m.tlv[i].len);
			if (m.type == BMP_ROUTE_MONITORING) {
				struct bgp_update_ctx ctx = {
					.as2 = bmp_peer_as2(&m.peer)
				};
				struct cur c = m.u.rm.bgp;

				if (bgp_update_decode(&c, &ctx, &u, &st) == 0 &&
				    !u.treat_as_withdraw) {
					const uint8_t *a =
						cur_data(&m.u.rm.bgp) +
						BGP_HEADER_LEN;
					size_t wl = (size_t)(a[0] << 8 | a[1]);
					size_t al = (size_t)(a[2 + wl] << 8 |
							     a[3 + wl]);
					int n = bgp_attrs_shared(
						a + 4 + wl, al, shared,
						sizeof(shared));

					if (n > (int)al + 8)
						__builtin_trap();
				}
				c = m.u.rm.bgp;
				if (bgp_update_decode(&c, &ctx, &u, &st) == 0) {
					walk(&u.withdrawn, &st);
					walk(&u.nlri, &st);
					walk(&u.mp_reach, &st);
					walk(&u.mp_unreach, &st);
					(void)touch(u.comm, u.ncomm * 4u);
					(void)touch(u.ext_comm, u.next_comm * 8u);
					(void)touch(u.large_comm,
						    u.nlarge_comm * 12u);
					if (u.as_path.nasn > BGP_MAX_AS_PATH)
						__builtin_trap();
				}
			}
			if (m.type == BMP_ROUTE_MIRRORING &&
			    m.u.mirror.bgp_messages > 0)
				(void)touch(cur_data(&m.u.mirror.bgp),
					    cur_left(&m.u.mirror.bgp));
			if (m.type == BMP_PEER_DOWN &&
			    m.u.down.notification_valid)
				(void)touch(m.u.down.notification.data,
					    m.u.down.notification.data_len);
		}
		off += len;
	}
	return 0;
}
