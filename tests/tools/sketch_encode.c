/*
 * sketch_encode.c - peerscope-sketch-encode: values (decimal integers, one
 * per line) on standard input into one sketch, whose encoding is printed
 * in base64 on one line.  With --split K, the values go round-robin into K
 * sketches and K lines are printed (a consumer merges them).  A test tool:
 * tests/latency/test_sketch_decoder.py runs docs/latency.md's reference
 * decoder over its output.
 *
 * Usage: peerscope-sketch-encode [--max-buckets N] [--split K]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/sketch.h"

#define MAX_SPLIT 64

int main(int argc, char **argv)
{
	struct sketch s[MAX_SPLIT];
	unsigned long max_buckets = 0, split = 1, n = 0;
	char line[64];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--max-buckets") == 0 && i + 1 < argc)
			max_buckets = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--split") == 0 && i + 1 < argc)
			split = strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr,
				"usage: %s [--max-buckets N] [--split K]\n",
				argv[0]);
			return 2;
		}
	}
	if (split < 1 || split > MAX_SPLIT) {
		fprintf(stderr, "--split: 1..%d\n", MAX_SPLIT);
		return 2;
	}
	for (unsigned long k = 0; k < split; k++)
		sketch_init(&s[k], (uint32_t)max_buckets);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *end;
		unsigned long long v = strtoull(line, &end, 10);

		if (end == line || (*end != '\n' && *end != '\0')) {
			fprintf(stderr, "not a value: %s", line);
			return 1;
		}
		if (sketch_insert(&s[n++ % split], v) == -1)
			return 1;
	}
	for (unsigned long k = 0; k < split; k++) {
		char *b64 = sketch_encode_base64(&s[k]);

		if (b64 == NULL)
			return 1;
		printf("%s\n", b64);
		free(b64);
		sketch_fini(&s[k]);
	}
	return 0;
}
