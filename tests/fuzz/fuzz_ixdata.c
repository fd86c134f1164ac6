/*
 * fuzz_ixdata.c - the IX-F and PeeringDB importers take files from the
 * outside world (collector/conn/ixdata.c).
 *
 * Input: byte 0 picks the format (bit 0: PeeringDB, else IX-F); the rest
 * is the file.  Checked: no crash, no over-read, no leak (ASan); a
 * refusal has a named reason, a detail, and a pointer that is "" or
 * starts with '/' and, when the document is JSON, resolves in it (json-c's
 * own RFC 6901 implementation); an accepted table keeps its invariants:
 * entries in ASN order, every entry found again by its ASN, each of its
 * addresses and each of its MACs, every MAC unicast, the summary's counts
 * equal to a recount.  Bit 1 of byte 0 also runs the bytes through the
 * MAC parser: what it accepts formats and parses back to itself.
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conn/ixdata.h"
#include "base/macaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checked in every build type (NDEBUG or not): a broken invariant traps. */
#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			__builtin_trap();                                      \
	} while (0)

static bool holds(const struct ixdata_entry *const *found, size_t n,
		  const struct ixdata_entry *e)
{
	for (size_t i = 0; i < n; i++)
		if (found[i] == e)
			return true;
	return false;
}

static void check_table(const struct ixdata *t)
{
	const struct ixdata_summary *sum = ixdata_summary(t);
	const struct ixdata_entry *found[64], *first;
	size_t n, k, ipv4 = 0, ipv6 = 0, macs = 0;
	const struct ixdata_entry *e = ixdata_entries(t, &n);

	CHECK(n == sum->entries && n <= IXDATA_MAX_ENTRIES);
	for (size_t i = 0; i < n; i++) {
		CHECK(e[i].asn != 0);
		CHECK(i == 0 || e[i - 1].asn <= e[i].asn);
		CHECK(e[i].n_macs <= IXDATA_MAX_MACS_PER_ENTRY);
		k = ixdata_find_asn(t, e[i].asn, &first);
		CHECK(k > 0 && first <= &e[i] && &e[i] < first + k);
		if (e[i].ipv4.af != 0) {
			CHECK(e[i].ipv4.af == 4);
			k = ixdata_find_addr(t, &e[i].ipv4, found, 64);
			CHECK(k > 64 || holds(found, k, &e[i]));
			ipv4++;
		}
		if (e[i].ipv6.af != 0) {
			CHECK(e[i].ipv6.af == 6);
			k = ixdata_find_addr(t, &e[i].ipv6, found, 64);
			CHECK(k > 64 || holds(found, k, &e[i]));
			ipv6++;
		}
		for (uint8_t m = 0; m < e[i].n_macs; m++) {
			CHECK(macaddr_is_unicast(e[i].macs[m]));
			for (uint8_t o = 0; o < m; o++)
				CHECK(memcmp(e[i].macs[o], e[i].macs[m],
					     MACADDR_LEN) != 0);
			k = ixdata_find_mac(t, e[i].macs[m], found, 64);
			CHECK(k > 64 || holds(found, k, &e[i]));
			macs++;
		}
	}
	CHECK(ipv4 == sum->ipv4 && ipv6 == sum->ipv6 && macs == sum->macs);
	ixdata_lans(t, &n);
	CHECK(n == sum->lans && n <= IXDATA_MAX_LANS);
}

static void check_refusal(const struct ixdata_err *err, const char *text,
			  size_t len)
{
	struct json_tokener *tok;
	struct json_object *doc, *at;
	char msg[600];

	CHECK(err->reason > IXDATA_OK && err->reason < IXDATA_REASON_COUNT);
	CHECK(err->detail[0] != '\0');
	CHECK(err->pointer[0] == '\0' || err->pointer[0] == '/');
	ixdata_err_format(err, msg, sizeof(msg));
	if (err->reason == IXDATA_SYNTAX || err->reason == IXDATA_TOO_DEEP ||
	    err->reason == IXDATA_TOO_LARGE || err->reason == IXDATA_NO_MEMORY)
		return;
	tok = json_tokener_new(); /* the document, as JSON: it parsed */
	CHECK(tok != NULL);
	doc = json_tokener_parse_ex(tok, text, (int)len);
	if (doc == NULL && json_tokener_get_error(tok) == json_tokener_continue)
		doc = json_tokener_parse_ex(tok, "", 1);
	json_tokener_free(tok);
	CHECK(doc != NULL);
	CHECK(json_pointer_get(doc, err->pointer, &at) == 0);
	json_object_put(doc);
}

static void check_mac(const uint8_t *data, size_t size)
{
	uint8_t mac[MACADDR_LEN], again[MACADDR_LEN];
	char text[MACADDR_TEXT_LEN];

	if (macaddr_parse((const char *)data, size, mac) == -1)
		return;
	macaddr_format(mac, text, sizeof(text));
	CHECK(strlen(text) == 17);
	CHECK(macaddr_parse(text, strlen(text), again) == 0);
	CHECK(memcmp(mac, again, MACADDR_LEN) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ixdata_format format;
	struct ixdata *t = NULL;
	struct ixdata_err err;
	const char *text;

	if (size < 1)
		return 0;
	format = data[0] & 1 ? IXDATA_PEERINGDB : IXDATA_IXF;
	if (data[0] & 2)
		check_mac(data + 1, size - 1);
	text = (const char *)data + 1; /* libFuzzer sizes it exactly */
	if (ixdata_parse(format, text, size - 1, &t, &err) == 0) {
		check_table(t);
		ixdata_free(t);
	} else {
		CHECK(t == NULL);
		check_refusal(&err, text, size - 1);
	}
	return 0;
}
