/*
 * fuzz_ipfix.c - IPFIX / NetFlow v9 / v5 messages through the decoders,
 * with the template cache kept across inputs: a template learnt from one
 * input shapes how a later input's data sets are read, as on the wire.
 *
 * Input: byte 0 picks one of four exporters (so state is per exporter and
 * withdrawals/redefinitions of one do not reach another) and one of two
 * source ports (transport sessions: templates are per session); the rest
 * is the UDP payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "peerscope/ipfix.h"
#include "peerscope/netflow5.h"

#define FUZZ_SLOTS	   64 /* small: the cap and tombstone reuse get hit */
#define FUZZ_MAX_TEMPLATES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_state {
	struct ipfix_cache tc;
	struct ipfix_template slots[FUZZ_SLOTS];
	struct ipfix_exporter_count counts[4]; /* 3 exporters of 4 fit */
	unsigned flows;
	uint8_t sink;
	int ready;
};

static uint8_t touch(const void *p, size_t len)
{
	return len > 0 ? ((const volatile uint8_t *)p)[len - 1] : 0;
}

static void on_flow(void *arg, const struct ipfix_msg *m, struct ps_flow *f)
{
	struct fuzz_state *fs = arg;

	(void)m;
	fs->flows++;
	if (f->present & FLOW_HAS_FRAME) {
		fs->sink ^= touch(f->frame, f->frame_len);
		if (f->frame_len == 0 && f->frame == NULL)
			__builtin_trap();
	}
	if (f->extra_count > FLOW_MAX_EXTRA)
		__builtin_trap();
	/* a rate is 1 in N, N >= 1; a basis is one of the named ones */
	if ((f->present & FLOW_HAS_SAMPLING) && f->sampling_interval == 0)
		__builtin_trap();
	if (f->byte_basis >= FLOW_BASIS_COUNT)
		__builtin_trap();
	for (unsigned i = 0; i < f->extra_count; i++)
		fs->sink ^= touch(f->extra[i].value, f->extra[i].len);
}

static void on_unknown(void *arg, const struct ipfix_msg *m, uint16_t set_id,
		       const uint8_t *set, size_t len)
{
	struct fuzz_state *fs = arg;

	(void)m;
	if (set_id < 256)
		__builtin_trap();
	fs->sink ^= touch(set, len);
}

static void on_options(void *arg, const struct ipfix_msg *m,
		       const struct ipfix_options *o)
{
	(void)arg;
	(void)m;
	if ((o->present & IPFIX_OPT_RATE) && o->rate == 0)
		__builtin_trap();
}

static void on_nf5(void *arg, const struct nf5_header *h, struct ps_flow *f)
{
	struct fuzz_state *fs = arg;

	(void)h;
	(void)f;
	fs->flows++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_state fs; /* lives across inputs on purpose */
	struct ipfix_handler h = {
		.arg = &fs,
		.flow = on_flow,
		.options = on_options,
		.unknown_set = on_unknown,
	};
	struct ipfix_msg hdr;
	int rc;
	struct ps_addr exporter;
	struct ipfix_msg m;
	struct nf5_header nh;
	struct dec_stats st;

	if (!fs.ready) {
		if (ipfix_cache_init(&fs.tc, fs.slots, FUZZ_SLOTS,
				     FUZZ_MAX_TEMPLATES, 0) == -1 ||
		    ipfix_cache_limit_exporters(&fs.tc, fs.counts, 4, 8) == -1)
			__builtin_trap();
		fs.ready = 1;
	}
	if (size < 1)
		return 0;
	memset(&exporter, 0, sizeof(exporter));
	exporter.af = 4;
	exporter.bytes[3] = data[0] & 3;
	memset(&st, 0, sizeof(st));
	memset(&m, 0, sizeof(m));
	m.src_port = (uint16_t)(data[0] >> 2 & 1);
	rc = ipfix_decode(&fs.tc, &exporter, data + 1, size - 1, &m, &h, &st);
	if (rc == -1)
		fs.sink ^= 1; /* rejected: counted in st, nothing else to do */
	/* the header alone is refused exactly when the message is */
	if (ipfix_header_read(data + 1, size - 1, &hdr, &st) != rc)
		__builtin_trap();
	if (nf5_decode(data + 1, size - 1, &nh, on_nf5, &fs, &st) == -1)
		fs.sink ^= 2;
	/* the caps hold whatever came in */
	if (fs.tc.live > FUZZ_MAX_TEMPLATES || fs.tc.used > FUZZ_SLOTS ||
	    fs.tc.exporters_used > 3)
		__builtin_trap();
	for (unsigned i = 0; i < 4; i++)
		if (fs.counts[i].live > 8)
			__builtin_trap();
	return 0;
}
