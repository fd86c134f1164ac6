/* fuzz_sflow.c - every sample of one sFlow datagram through the decoder. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "peerscope/sflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read the last byte of a borrowed range so ASan checks the pointer. */
static uint8_t touch(const void *p, size_t len)
{
	return len > 0 ? ((const volatile uint8_t *)p)[len - 1] : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sflow_sample s; /* large: keep it off the stack */
	struct dec_stats st;
	struct sflow_iter it;
	struct sflow_datagram d;
	const struct sflow_flow_sample *f = &s.u.flow;
	unsigned samples = 0;
	int rc;

	memset(&st, 0, sizeof(st));
	if (sflow_datagram_open(&it, data, size, &d, &st) == -1)
		return 0;
	while ((rc = sflow_next_sample(&it, &s, &st)) == 1) {
		/* never more samples than the datagram declared */
		if (++samples > d.num_samples)
			__builtin_trap();
		if (s.kind == SFLOW_SAMPLE_COUNTERS)
			continue;
		if (f->present & SFLOW_HAS_RAW_HEADER)
			(void)touch(f->raw.header, f->raw.header_length);
		if (f->present & SFLOW_HAS_URL) {
			(void)touch(f->rec.url.url.s, f->rec.url.url.len);
			(void)touch(f->rec.url.host.s, f->rec.url.host.len);
		}
		if (f->present & SFLOW_HAS_USER) {
			(void)touch(f->rec.user.src_user.s,
				    f->rec.user.src_user.len);
			(void)touch(f->rec.user.dst_user.s,
				    f->rec.user.dst_user.len);
		}
	}
	/* after the end the iterator stays ended */
	if (sflow_next_sample(&it, &s, &st) != 0)
		__builtin_trap();
	return 0;
}
