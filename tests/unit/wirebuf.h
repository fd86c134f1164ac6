/*
 * wirebuf.h - wire bytes for unit tests: a fixed buffer written in network
 * byte order.  Writing past its end fails the test instead of corrupting
 * the stack.  Include after <cmocka.h>.
 */
#ifndef PEERSCOPE_TEST_WIREBUF_H
#define PEERSCOPE_TEST_WIREBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	uint8_t b[4096];
	size_t n;
};

static inline void p8(struct buf *b, unsigned v)
{
	assert_true(b->n < sizeof(b->b));
	b->b[b->n++] = (uint8_t)v;
}

static inline void p16(struct buf *b, unsigned v)
{
	p8(b, v >> 8);
	p8(b, v);
}

static inline void p32(struct buf *b, uint32_t v)
{
	p16(b, v >> 16);
	p16(b, v & 0xffff);
}

static inline void pbytes(struct buf *b, const void *d, size_t n)
{
	if (n == 0)
		return; /* d may be NULL */
	assert_true(n <= sizeof(b->b) - b->n);
	memcpy(b->b + b->n, d, n);
	b->n += n;
}

#endif /* PEERSCOPE_TEST_WIREBUF_H */
