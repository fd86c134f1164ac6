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

/* small: quotas, fair eviction and slot reclaiming get hit */
#define FUZZ_MAX_TEMPLATES 16
#define FUZZ_QUOTA	   8
#define FUZZ_MEM	   (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_state {
	struct ipfix_cache tc;
	_Alignas(16) uint8_t mem[FUZZ_MEM];
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

/*
 * The caps hold whatever came in, and the slots agree with the counters:
 * live slots = live, live + withdrawn = used <= 3/4 of the capacity, no
 * exporter over its quota, and every live template is found by its key
 * (backward-shift deletion left no probe chain broken).
 */
static void cache_check(const struct ipfix_cache *tc)
{
	uint32_t live = 0, used = 0, per[4] = { 0 };

	for (uint32_t i = 0; i < tc->capacity; i++) {
		const struct ipfix_template *t = &tc->slots[i];

		if (t->state == IPFIX_T_EMPTY)
			continue;
		used++;
		if (ipfix_cache_find(tc, &t->key) != t)
			__builtin_trap();
		if (t->state != IPFIX_T_LIVE)
			continue;
		live++;
		per[t->key.exporter.bytes[3] & 3]++;
	}
	if (live != tc->live || used != tc->used ||
	    live > FUZZ_MAX_TEMPLATES || used * 4 > tc->capacity * 3)
		__builtin_trap();
	for (unsigned i = 0; i < 4; i++)
		if (per[i] > FUZZ_QUOTA)
			__builtin_trap();
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
		const struct ipfix_cache_limits lim = { FUZZ_MAX_TEMPLATES,
							FUZZ_QUOTA, 0 };

		if (ipfix_cache_mem_size(&lim) > sizeof(fs.mem) ||
		    ipfix_cache_init(&fs.tc, fs.mem, sizeof(fs.mem), &lim) ==
			    -1)
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
	cache_check(&fs.tc);
	return 0;
}
