/*
 * cursor.h - the one way decoders read the wire.
 *
 * A cursor is a (pointer, bytes left) pair over a caller-owned buffer.
 * Every read checks the remaining length first, returns -1 without moving
 * the cursor when the bytes are not there, and must have its result checked
 * (warn_unused_result).  Lengths are compared with `left`, never pointers,
 * so no length taken from the wire can wrap an address computation.
 *
 * All multi-byte reads are network byte order (big endian).
 *
 * @thread any, @locks none: a cursor is a value owned by its caller.
 */
#ifndef PEERSCOPE_CURSOR_H
#define PEERSCOPE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CUR_WUR __attribute__((warn_unused_result))

struct cur {
	const uint8_t *p; /* next unread byte */
	size_t left;	  /* bytes that may still be read */
};

static inline void cur_init(struct cur *c, const void *buf, size_t len)
{
	c->p = buf;
	c->left = len;
}

static inline size_t cur_left(const struct cur *c)
{
	return c->left;
}

static inline bool cur_is_empty(const struct cur *c)
{
	return c->left == 0;
}

static inline CUR_WUR int cur_u8(struct cur *c, uint8_t *v)
{
	if (c->left < 1)
		return -1;
	*v = c->p[0];
	c->p += 1;
	c->left -= 1;
	return 0;
}

static inline CUR_WUR int cur_u16(struct cur *c, uint16_t *v)
{
	if (c->left < 2)
		return -1;
	*v = (uint16_t)((uint16_t)c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->left -= 2;
	return 0;
}

static inline CUR_WUR int cur_u24(struct cur *c, uint32_t *v)
{
	if (c->left < 3)
		return -1;
	*v = (uint32_t)c->p[0] << 16 | (uint32_t)c->p[1] << 8 | c->p[2];
	c->p += 3;
	c->left -= 3;
	return 0;
}

static inline CUR_WUR int cur_u32(struct cur *c, uint32_t *v)
{
	if (c->left < 4)
		return -1;
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	     (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	c->left -= 4;
	return 0;
}

static inline CUR_WUR int cur_u64(struct cur *c, uint64_t *v)
{
	uint32_t hi, lo;

	if (c->left < 8)
		return -1;
	hi = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	     (uint32_t)c->p[2] << 8 | c->p[3];
	lo = (uint32_t)c->p[4] << 24 | (uint32_t)c->p[5] << 16 |
	     (uint32_t)c->p[6] << 8 | c->p[7];
	*v = (uint64_t)hi << 32 | lo;
	c->p += 8;
	c->left -= 8;
	return 0;
}

/* Copy n bytes out. */
static inline CUR_WUR int cur_bytes(struct cur *c, void *dst, size_t n)
{
	if (c->left < n)
		return -1;
	if (n > 0)
		memcpy(dst, c->p, n);
	c->p += n;
	c->left -= n;
	return 0;
}

/* Borrow a pointer to the next n bytes and step over them (zero copy). */
static inline CUR_WUR int cur_ptr(struct cur *c, size_t n, const uint8_t **out)
{
	if (c->left < n)
		return -1;
	*out = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

static inline CUR_WUR int cur_skip(struct cur *c, size_t n)
{
	if (c->left < n)
		return -1;
	c->p += n;
	c->left -= n;
	return 0;
}

/*
 * Carve the next n bytes into *sub and step over them: the parser of a
 * length-prefixed element gets a cursor that cannot reach its neighbours.
 */
static inline CUR_WUR int cur_sub(struct cur *c, size_t n, struct cur *sub)
{
	if (c->left < n)
		return -1;
	sub->p = c->p;
	sub->left = n;
	c->p += n;
	c->left -= n;
	return 0;
}

/* Look at the next byte(s) without consuming them. */
static inline CUR_WUR int cur_peek_u8(const struct cur *c, uint8_t *v)
{
	if (c->left < 1)
		return -1;
	*v = c->p[0];
	return 0;
}

static inline CUR_WUR int cur_peek_u16(const struct cur *c, uint16_t *v)
{
	if (c->left < 2)
		return -1;
	*v = (uint16_t)((uint16_t)c->p[0] << 8 | c->p[1]);
	return 0;
}

/*
 * The unread bytes, cur_left() of them, for a caller that hands the whole
 * rest to a function taking (pointer, length) or keeps it past the read.
 */
static inline const uint8_t *cur_data(const struct cur *c)
{
	return c->p;
}

/*
 * Keep only the next n bytes readable (a length field that covers less
 * than the buffer: bytes after it are ignored).  n larger than what is
 * left is refused and the cursor is unchanged.
 */
static inline CUR_WUR int cur_truncate(struct cur *c, size_t n)
{
	if (c->left < n)
		return -1;
	c->left = n;
	return 0;
}

/* Give up on the rest (it is unreadable): nothing more can be read. */
static inline void cur_abandon(struct cur *c)
{
	c->left = 0;
}

/* Bytes read from `mark` (an earlier copy of c) to c. */
static inline size_t cur_consumed(const struct cur *mark, const struct cur *c)
{
	return mark->left - c->left;
}

#endif /* PEERSCOPE_CURSOR_H */
