/*
 * capture.h - read pcap and pcapng files, plain or gzip-compressed, and
 * hand out their UDP datagrams and TCP segments (`peerscope replay`).
 *
 * The file format is libpcap's business; gzip is recognised by its magic
 * bytes (0x1f 0x8b), never by the file name, and inflated as a stream, so
 * memory stays bounded whatever the size of the capture.  The link, IP, UDP
 * and TCP headers of every frame are parsed by capture_frame_decode()
 * (include/peerscope/capture_frame.h); every frame that yields nothing
 * (ARP, ICMP, fragments, truncated or invalid headers) is counted into the
 * caller's dec_stats under a named reason (reasons_capture.def) and
 * skipped.
 *
 * Link types: Ethernet (802.1Q / 802.1ad / QinQ tags), Linux cooked SLL and
 * SLL2, raw IP (DLT_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6), BSD loopback
 * (DLT_NULL in either byte order, DLT_LOOP).  Other link types are refused
 * by capture_open().
 *
 * @thread any, @locks none: a struct capture belongs to one thread.
 */
#ifndef PEERSCOPE_CAPTURE_H
#define PEERSCOPE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "peerscope/capture_frame.h" /* struct capture_packet */
#include "peerscope/dec_stats.h"

struct capture;

/*
 * Open a capture file.  Returns NULL and writes a message into err (which
 * names the file) when it cannot be opened, is not a pcap/pcapng file, or
 * has an unsupported link type.
 */
struct capture *capture_open(const char *path, char *err, size_t errlen);

/*
 * Next UDP datagram or TCP segment into *out.  Frames that carry neither are
 * counted into st and skipped.  Returns 1 with a packet, 0 at the end of the
 * file, -1 on a read error (a truncated or corrupt file; see
 * capture_error()).  The payload is valid until the next call.
 */
int capture_next(struct capture *c, struct capture_packet *out,
		 struct dec_stats *st);

/* Why the last capture_next() returned -1 ("" if it did not). */
const char *capture_error(const struct capture *c);

/*
 * Bytes of the file (compressed bytes for gzip) consumed so far and the
 * file's size, for a progress line.  done may run ahead of the frames handed
 * out by up to one read buffer.
 */
void capture_progress(const struct capture *c, uint64_t *done, uint64_t *total);

/* Frames read from the file so far, whether or not they yielded a packet. */
uint64_t capture_frames(const struct capture *c);

/* Close the file and free everything; accepts NULL. */
void capture_close(struct capture *c);

#endif /* PEERSCOPE_CAPTURE_H */
