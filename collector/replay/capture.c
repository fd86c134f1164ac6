/*
 * capture.c - UDP datagrams and TCP segments out of pcap / pcapng files,
 * plain or gzip-compressed, for `peerscope replay`.
 *
 * Files: libpcap reads both pcap and pcapng from a FILE *, asked for
 * nanosecond timestamps so that nanosecond files stay exact (microsecond
 * files are scaled by libpcap).  A gzip file (magic 0x1f 0x8b, RFC 1952
 * section 2.3.1, whatever its name) is inflated by zlib as a stream behind a
 * fopencookie() FILE *, so memory does not grow with the file; libpcap only
 * fread()s its input, for pcapng too.
 *
 * Frames: each record's bytes go to capture_frame_decode()
 * (decoders/capture_frame.c), which parses the link, IP, UDP and TCP
 * headers through a cursor; the time stamp is read here.
 *
 * @thread any, @locks none: a struct capture belongs to its caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <zlib.h>

#include "replay/capture.h"

#define CAPTURE_GZ_BUFFER (128 * 1024) /* zlib input and output buffers */

struct capture {
	pcap_t *pcap;
	FILE *fp;	    /* owned by pcap, closed by pcap_close() */
	gzFile gz;	    /* gzip stream behind fp, or NULL (plain file) */
	int linktype;	    /* DLT_* of the file */
	enum capture_link link; /* its frame layout */
	uint64_t file_size; /* bytes on disk */
	uint64_t frames;    /* records read */
	char gz_error[128]; /* why the gzip stream failed, or "" */
	char error[512];    /* capture_error() */
	char path[];
};

/* The frame layout of a DLT_ link type, or 0 for one not supported. */
static enum capture_link capture_link_of(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
		return CAPTURE_LINK_ETHERNET;
	case DLT_LINUX_SLL:
		return CAPTURE_LINK_SLL;
	case DLT_LINUX_SLL2:
		return CAPTURE_LINK_SLL2;
	case DLT_RAW:
		return CAPTURE_LINK_IP;
	case DLT_IPV4:
		return CAPTURE_LINK_IPV4;
	case DLT_IPV6:
		return CAPTURE_LINK_IPV6;
	case DLT_NULL:
	case DLT_LOOP:
		return CAPTURE_LINK_NULL;
	default:
		return 0;
	}
}

/* One frame: 0 and *out filled, or -1 with a reason counted. */
static int capture_frame(const struct capture *c, const struct pcap_pkthdr *hdr,
			 const uint8_t *data, struct capture_packet *out,
			 struct dec_stats *st)
{
	uint64_t sec;

	/*
	 * pcap's seconds are unsigned 32 bits but libpcap sign-extends them
	 * into tv_sec: undo that for times after 2038.  tv_usec holds
	 * nanoseconds, as asked of pcap_fopen_offline_with_tstamp_precision.
	 */
	if (hdr->ts.tv_sec < 0)
		sec = (uint32_t)hdr->ts.tv_sec;
	else
		sec = (uint64_t)hdr->ts.tv_sec;
	out->ts_ns = sec * 1000000000u + (uint64_t)hdr->ts.tv_usec;
	return capture_frame_decode(c->link, data, hdr->caplen, hdr->len, out,
				    st);
}

/* fopencookie() read: inflate into buf; -1 also for a cut gzip stream. */
static ssize_t capture_gz_read(void *cookie, char *buf, size_t size)
{
	struct capture *c = cookie;
	const char *msg;
	int n, errnum;

	if (size > INT_MAX)
		size = INT_MAX;
	n = gzread(c->gz, buf, (unsigned)size);
	if (n > 0)
		return n;
	msg = gzerror(c->gz, &errnum);
	/* zlib reports a stream cut short as Z_BUF_ERROR, not as a failure. */
	if (n < 0 || errnum != Z_OK) {
		snprintf(c->gz_error, sizeof(c->gz_error), "%s",
			 errnum == Z_BUF_ERROR ? "compressed data cut short" :
						 msg);
		errno = EIO;
		return -1;
	}
	return 0;
}

static int capture_gz_close(void *cookie)
{
	struct capture *c = cookie;
	int rc = gzclose(c->gz);

	c->gz = NULL;
	return rc == Z_OK ? 0 : EOF;
}

/* A FILE * for the file at fd, inflating if it starts with gzip's magic. */
static FILE *capture_stream(struct capture *c, int fd, char *err, size_t errlen)
{
	static const cookie_io_functions_t gz_io = {
		.read = capture_gz_read,
		.close = capture_gz_close,
	};
	uint8_t magic[2];
	ssize_t n;
	FILE *fp;

	n = pread(fd, magic, sizeof(magic), 0);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (n < 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
		fp = fdopen(fd, "rb");
		if (fp == NULL) {
			snprintf(err, errlen, "%s: %s", c->path,
				 strerror(errno));
			close(fd);
		}
		return fp;
	}
	c->gz = gzdopen(fd, "rb");
	if (c->gz == NULL) {
		snprintf(err, errlen, "%s: cannot start gzip stream", c->path);
		close(fd);
		return NULL;
	}
	/* Only fails after the first read; a failure keeps the default. */
	gzbuffer(c->gz, CAPTURE_GZ_BUFFER);
	fp = fopencookie(c, "rb", gz_io);
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
		gzclose(c->gz);
		c->gz = NULL;
	}
	return fp;
}

/* @thread any */
struct capture *capture_open(const char *path, char *err, size_t errlen)
{
	char pcap_err[PCAP_ERRBUF_SIZE];
	size_t path_len = strlen(path);
	struct capture *c;
	struct stat sb;
	int fd;

	c = calloc(1, sizeof(*c) + path_len + 1);
	if (c == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	memcpy(c->path, path, path_len + 1);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail_free;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		goto fail_free;
	}
	c->file_size = (uint64_t)sb.st_size;
	c->fp = capture_stream(c, fd, err, errlen); /* owns fd from here */
	if (c->fp == NULL)
		goto fail_free;
	c->pcap = pcap_fopen_offline_with_tstamp_precision(
		c->fp, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
	if (c->pcap == NULL) {
		snprintf(err, errlen, "%s: %s%s%s", path, pcap_err,
			 c->gz_error[0] != '\0' ? ": gzip: " : "", c->gz_error);
		goto fail_fclose;
	}
	c->linktype = pcap_datalink(c->pcap);
	c->link = capture_link_of(c->linktype);
	if (c->link == 0) {
		const char *name = pcap_datalink_val_to_name(c->linktype);

		snprintf(err, errlen, "%s: link type %d (%s) is not supported",
			 path, c->linktype, name != NULL ? name : "unknown");
		pcap_close(c->pcap); /* closes fp */
		goto fail_free;
	}
	return c;

fail_fclose:
	fclose(c->fp); /* libpcap leaves fp open when it fails */
fail_free:
	free(c);
	return NULL;
}

/* @thread owner of c */
int capture_next(struct capture *c, struct capture_packet *out,
		 struct dec_stats *st)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc;

	for (;;) {
		rc = pcap_next_ex(c->pcap, &hdr, &data);
		if (rc == PCAP_ERROR_BREAK) /* end of the file */
			return 0;
		if (rc != 1) {
			snprintf(c->error, sizeof(c->error), "%s: %s%s%s",
				 c->path, pcap_geterr(c->pcap),
				 c->gz_error[0] != '\0' ? ": gzip: " : "",
				 c->gz_error);
			return -1;
		}
		c->frames++;
		if (capture_frame(c, hdr, data, out, st) == 0)
			return 1;
	}
}

const char *capture_error(const struct capture *c)
{
	return c->error;
}

void capture_progress(const struct capture *c, uint64_t *done, uint64_t *total)
{
	long pos;

	*total = c->file_size;
	if (c->gz != NULL) {
		z_off_t off = gzoffset(c->gz);

		*done = off > 0 ? (uint64_t)off : 0;
	} else {
		pos = ftell(c->fp);
		*done = pos > 0 ? (uint64_t)pos : 0;
	}
	if (*done > *total)
		*done = *total;
}

uint64_t capture_frames(const struct capture *c)
{
	return c->frames;
}

void capture_close(struct capture *c)
{
	if (c == NULL)
		return;
	pcap_close(c->pcap); /* closes fp, and through it the gzip stream */
	free(c);
}
