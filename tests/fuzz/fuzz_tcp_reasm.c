/*
 * fuzz_tcp_reasm.c - TCP segments of up to four streams in any order,
 * with any flags, sequence numbers near the 2^32 wrap and small caps,
 * through replay's reassembler (collector/replay/tcp_reasm.c, compiled in).
 * Every payload byte is a function of its sequence number, so whatever
 * is delivered must be exactly the stream's bytes at the sequence numbers
 * it claims, holes given up included; the caps must hold throughout;
 * every stream opened closes, once, and only open streams hear of holes.
 *
 * Input: 6-byte records: flags, stream (low 2 bits), sequence offset
 * (16 bits, from a base just below the wrap), length (x3), and a byte
 * whose low nibble 0xf makes the owner give the newest stream up.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../collector/replay/tcp_reasm.c"

#define FUZZ_SEQ_BASE 0xffffc000u
/* every byte a segment can carry: offsets up to 0xffff, a SYN's one,
 * then 3 * 255 bytes of payload */
#define FUZZ_STREAM_LEN (0x10000 + 1 + 3 * 255)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_state {
	unsigned open, closed;
};

/* The user area: whether the stream is open (callbacks cross-checked). */
struct fuzz_user {
	bool open;
};

static uint8_t byte_at(uint32_t seq)
{
	return (uint8_t)((seq * 2654435761u) >> 24);
}

/*
 * The bytes of every stream from FUZZ_SEQ_BASE on, made once: segments
 * point into it and deliveries are compared with it by memcmp, so no
 * input pays a per-byte loop (they were most of this target's time).
 */
static uint8_t stream_bytes[FUZZ_STREAM_LEN];

static const uint8_t *stream_at(uint32_t seq, uint32_t len)
{
	uint32_t off = seq - FUZZ_SEQ_BASE; /* across the wrap too */

	if (off > FUZZ_STREAM_LEN || len > FUZZ_STREAM_LEN - off)
		__builtin_trap(); /* a sequence number no segment had */
	return stream_bytes + off;
}

static void fuzz_open(void *ctx, struct tcp_stream *s)
{
	struct fuzz_user *u = (struct fuzz_user *)s->user;

	if (u->open) /* the user area is zeroed at every open */
		__builtin_trap();
	u->open = true;
	((struct fuzz_state *)ctx)->open++;
}

static void fuzz_deliver(void *ctx, struct tcp_stream *s, const uint8_t *d,
			 uint32_t len, uint64_t ts_ns)
{
	uint32_t start = s->next - len; /* next already covers these bytes */

	(void)ctx;
	(void)ts_ns;
	if (len == 0 || !s->open || !((struct fuzz_user *)s->user)->open ||
	    memcmp(d, stream_at(start, len), len) != 0)
		__builtin_trap();
}

static void fuzz_gap(void *ctx, struct tcp_stream *s, uint32_t lost)
{
	(void)ctx;
	if (lost == 0 || !((struct fuzz_user *)s->user)->open)
		__builtin_trap();
}

static void fuzz_close(void *ctx, struct tcp_stream *s)
{
	struct fuzz_user *u = (struct fuzz_user *)s->user;

	if (!u->open)
		__builtin_trap();
	u->open = false;
	((struct fuzz_state *)ctx)->closed++;
}

static const struct tcp_reasm_ops fuzz_ops = { fuzz_open, fuzz_deliver,
					       fuzz_gap, fuzz_close };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tcp_reasm_limits lim = { 3, 16, 2048, 3072 };
	struct fuzz_state fs = { 0, 0 };
	struct dec_stats st;
	struct tcp_reasm *r;
	static bool ready;

	for (uint32_t i = 0; !ready && i < FUZZ_STREAM_LEN; i++)
		stream_bytes[i] = byte_at(FUZZ_SEQ_BASE + i);
	ready = true;
	memset(&st, 0, sizeof(st));
	r = tcp_reasm_new(&fuzz_ops, &fs, sizeof(struct fuzz_user), &lim, &st);
	if (r == NULL)
		return 0;
	for (size_t off = 0; off + 6 <= size; off += 6) {
		const uint8_t *rec = data + off;
		struct capture_packet pk;
		uint32_t first;

		memset(&pk, 0, sizeof(pk));
		pk.kind = CAPTURE_TCP;
		pk.ts_ns = off;
		pk.src.af = 4;
		pk.src.bytes[3] = (uint8_t)(rec[1] & 3);
		pk.dst.af = 4;
		pk.src_port = 40000;
		pk.dst_port = 4739;
		pk.tcp_flags = rec[0];
		pk.tcp_seq = FUZZ_SEQ_BASE + (uint32_t)(rec[2] << 8 | rec[3]);
		pk.len = (size_t)rec[4] * 3;
		/* a SYN's data starts after the SYN's sequence number */
		first = pk.tcp_seq + ((pk.tcp_flags & CAPTURE_TCP_SYN) ? 1 : 0);
		pk.payload = stream_at(first, (uint32_t)pk.len);
		tcp_reasm_segment(r, &pk);
		for (struct tcp_stream *s = r->oldest; s != NULL; s = s->newer)
			if (s->ooo_segs > lim.max_ooo_segs ||
			    s->ooo_bytes > lim.max_ooo_bytes || !s->open)
				__builtin_trap();
		if (r->nstreams > lim.max_streams ||
		    r->ooo_total > lim.max_ooo_total)
			__builtin_trap();
		/* now and then the owner gives a stream up */
		if ((rec[5] & 0x0f) == 0x0f && r->newest != NULL)
			tcp_reasm_ignore(r->newest);
	}
	tcp_reasm_close_all(r);
	if (fs.open != fs.closed)
		__builtin_trap(); /* every stream opened was closed once */
	tcp_reasm_free(r);
	return 0;
}
