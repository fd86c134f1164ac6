/* stream_sync.c - message starts in TCP streams.  See stream_sync.h. */
#include <stdlib.h>
#include <string.h>

#include "peerscope/limits.h"
#include "replay/stream_sync.h"

#define STREAM_SYNC_BUF_MIN 4096

void stream_sync_begin(struct stream_sync *s, unsigned protos)
{
	stream_sync_fini(s);
	s->protos = protos;
	s->skipped = 0;
}

void stream_sync_fini(struct stream_sync *s)
{
	if (s == NULL)
		return;
	free(s->buf);
	s->buf = NULL;
	s->len = 0;
	s->cap = 0;
}

void stream_sync_hole(struct stream_sync *s)
{
	s->skipped += s->len;
	s->len = 0;
}

/* Keep buf[from..len) only; the rest was passed over. */
static void drop_front(struct stream_sync *s, size_t from)
{
	memmove(s->buf, s->buf + from, s->len - from);
	s->len -= from;
	s->skipped += from;
}

static int hold(struct stream_sync *s, const uint8_t *data, size_t len)
{
	if (len == 0)
		return 0; /* nothing to hold (and buf may still be NULL) */
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : STREAM_SYNC_BUF_MIN;
		uint8_t *b;

		while (cap < s->len + len)
			cap *= 2;
		b = realloc(s->buf, cap);
		if (b == NULL)
			return -1;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

static enum stream_sync_state found(struct stream_sync *s,
				    const struct recognise_scan *sc,
				    const uint8_t *base, size_t len,
				    enum recognise_proto *proto,
				    const uint8_t **out, size_t *out_len)
{
	s->skipped += sc->offset;
	*proto = sc->proto;
	*out = base + sc->offset;
	*out_len = len - sc->offset;
	return STREAM_SYNC_FOUND;
}

static enum stream_sync_state abandon(struct stream_sync *s)
{
	stream_sync_fini(s);
	return STREAM_SYNC_ABANDONED;
}

enum stream_sync_state stream_sync_feed(struct stream_sync *s,
					const uint8_t *data, size_t len,
					enum recognise_proto *proto,
					const uint8_t **out, size_t *out_len)
{
	struct recognise_scan sc;

	if (s->len == 0) {
		/* nothing held: search the caller's bytes, copy only a tail */
		if (recognise_stream_scan(data, len, s->protos, false, &sc) ==
		    RECOGNISE_SCAN_FOUND)
			return found(s, &sc, data, len, proto, out, out_len);
		s->skipped += sc.offset;
		if (s->skipped > PS_STREAM_RESYNC_MAX ||
		    hold(s, data + sc.offset, len - sc.offset) == -1)
			return abandon(s);
		return STREAM_SYNC_SEARCHING;
	}
	if (hold(s, data, len) == -1)
		return abandon(s);
	if (recognise_stream_scan(s->buf, s->len, s->protos, false, &sc) ==
	    RECOGNISE_SCAN_FOUND)
		return found(s, &sc, s->buf, s->len, proto, out, out_len);
	drop_front(s, sc.offset);
	if (s->skipped > PS_STREAM_RESYNC_MAX)
		return abandon(s);
	return STREAM_SYNC_SEARCHING;
}

enum stream_sync_state stream_sync_end(struct stream_sync *s,
				       enum recognise_proto *proto,
				       const uint8_t **out, size_t *out_len)
{
	struct recognise_scan sc;

	if (s->len > 0 && recognise_stream_scan(s->buf, s->len, s->protos, true,
						&sc) == RECOGNISE_SCAN_FOUND)
		return found(s, &sc, s->buf, s->len, proto, out, out_len);
	s->skipped += s->len;
	return abandon(s);
}
