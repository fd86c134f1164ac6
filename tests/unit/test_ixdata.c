/*
 * test_ixdata.c - the IX-F and PeeringDB imports: the example files of
 * deploy/examples read back as counted by hand; the MAC placements of
 * schema 0.5 and 1.0; every refusal reason with the JSON pointer of the
 * offending element, each pointer checked to resolve in the document
 * with json-c's own RFC 6901 implementation (json_pointer_get); a
 * refused load leaves the caller's table as it was.  Documents are
 * written with ' for " to keep them readable.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conn/ixdata.h"
#include "base/macaddr.h"

/* ' becomes ": a document written readably in C. */
static char *dq(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	for (char *p = d; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static struct ps_addr addr(const char *text)
{
	struct ps_addr a;

	assert_int_equal(netaddr_parse_addr(text, &a), 0);
	return a;
}

static void mac(const char *text, uint8_t out[MACADDR_LEN])
{
	assert_int_equal(macaddr_parse(text, strlen(text), out), 0);
}

static char *example_path(const char *name)
{
	const char *data = getenv("PEERSCOPE_TEST_DATA");
	char *path;

	assert_non_null(data);
	assert_true(asprintf(&path, "%s/../../deploy/examples/%s", data, name) >
		    0);
	return path;
}

static struct ixdata *load_example(enum ixdata_format f, const char *name)
{
	struct ixdata *t = NULL;
	struct ixdata_err err;
	char *path = example_path(name);
	char msg[512];

	if (ixdata_load(f, path, &t, &err) == -1)
		fail_msg("%s", ixdata_err_format(&err, msg, sizeof(msg)));
	free(path);
	return t;
}

/* deploy/examples/ixf-member-export.example.json, counted by hand. */
static void test_ixf_example(void **state)
{
	struct ixdata *t =
		load_example(IXDATA_IXF, "ixf-member-export.example.json");
	const struct ixdata_summary *sum = ixdata_summary(t);
	const struct ixdata_entry *e, *found[4];
	const struct ixdata_lan *lan;
	struct ps_addr a;
	uint8_t m[MACADDR_LEN];

	(void)state;
	assert_int_equal(sizeof(struct ixdata_entry), 104); /* ixdata.h */
	assert_int_equal(sum->entries, 5); /* vlan_list elements */
	assert_int_equal(sum->asns, 4);
	assert_int_equal(sum->ipv4, 4);
	assert_int_equal(sum->ipv6, 4);
	assert_int_equal(sum->macs, 5); /* 64496's MAC is listed twice */
	assert_int_equal(sum->lans, 1);
	assert_int_equal(sum->skipped, 0);

	assert_int_equal(ixdata_find_asn(t, 64497, &e), 2);
	assert_int_equal(e[0].asn, 64497);
	assert_int_equal(e[1].asn, 64497);
	assert_int_equal(e[0].speed_mbps + e[1].speed_mbps, 20000 + 10000);
	assert_int_equal(ixdata_find_asn(t, 64499, &e), 0);
	assert_null(e);

	a = addr("192.0.2.12");
	assert_int_equal(ixdata_find_addr(t, &a, found, 4), 1);
	assert_int_equal(found[0]->asn, 64497);
	assert_int_equal(found[0]->speed_mbps, 10000);
	assert_int_equal(found[0]->ix_id, 1);
	assert_int_equal(found[0]->lan_id, 10);
	assert_int_equal(found[0]->flags, IXDATA_HAS_IX | IXDATA_HAS_LAN);
	assert_int_equal(found[0]->ipv6.af, 0);
	assert_int_equal(found[0]->n_macs, 1);
	mac("02:00:00:00:00:b2", m);
	assert_memory_equal(found[0]->macs[0], m, MACADDR_LEN);

	a = addr("2001:db8:10::c");
	assert_int_equal(ixdata_find_addr(t, &a, found, 4), 1);
	assert_int_equal(found[0]->asn, 64498);
	assert_int_equal(found[0]->ipv4.af, 0);
	assert_int_equal(found[0]->speed_mbps, 1000);

	mac("02:00:00:00:00:0a", m);
	assert_int_equal(ixdata_find_mac(t, m, found, 4), 1);
	assert_int_equal(found[0]->asn, 64496);
	assert_int_equal(found[0]->n_macs, 1);
	assert_int_equal(found[0]->speed_mbps, 100000);
	assert_int_equal(found[0]->ipv4.af, 4);
	assert_int_equal(found[0]->ipv6.af, 6);
	mac("0a:00:00:00:00:fe", m);
	assert_int_equal(ixdata_find_mac(t, m, found, 4), 1);
	assert_int_equal(found[0]->asn, 64511);
	assert_int_equal(found[0]->speed_mbps, 0); /* no if_list */
	mac("02:00:00:00:00:99", m);
	assert_int_equal(ixdata_find_mac(t, m, found, 4), 0);

	a = addr("192.0.2.77");
	lan = ixdata_lan_of(t, &a);
	assert_non_null(lan);
	assert_string_equal(lan->ix_name, "EXAMPLE-IX");
	assert_int_equal(lan->lan_id, 10);
	assert_int_equal(lan->ipv4.len, 24);
	assert_int_equal(lan->ipv6.len, 64);
	a = addr("2001:db8:10::1234");
	assert_ptr_equal(ixdata_lan_of(t, &a), lan);
	a = addr("198.51.100.1");
	assert_null(ixdata_lan_of(t, &a));
	a = addr("2001:db8:11::1");
	assert_null(ixdata_lan_of(t, &a));
	ixdata_free(t);
}

/* deploy/examples/peeringdb-netixlan.example.json, counted by hand. */
static void test_peeringdb_example(void **state)
{
	struct ixdata *t = load_example(IXDATA_PEERINGDB,
					"peeringdb-netixlan.example.json");
	const struct ixdata_summary *sum = ixdata_summary(t);
	const struct ixdata_entry *e, *found[2];
	struct ps_addr a;
	size_t n;

	(void)state;
	assert_int_equal(sum->entries, 3);
	assert_int_equal(sum->skipped, 1); /* status "deleted" */
	assert_int_equal(sum->asns, 2);
	assert_int_equal(sum->ipv4, 3);
	assert_int_equal(sum->ipv6, 2); /* one ipaddr6 is null */
	assert_int_equal(sum->macs, 0);
	assert_int_equal(sum->lans, 0);
	assert_int_equal(ixdata_find_asn(t, 64497, &e), 2);
	a = addr("192.0.2.12");
	assert_int_equal(ixdata_find_addr(t, &a, found, 2), 1);
	assert_int_equal(found[0]->speed_mbps, 10000);
	assert_int_equal(found[0]->ix_id, 999901);
	assert_int_equal(found[0]->peeringdb_ix_id, 999901);
	assert_int_equal(found[0]->lan_id, 999901);
	assert_int_equal(found[0]->flags, IXDATA_HAS_IX | IXDATA_HAS_LAN);
	assert_int_equal(found[0]->ipv6.af, 0);
	a = addr("192.0.2.99");
	assert_int_equal(ixdata_find_addr(t, &a, found, 2), 0);
	ixdata_entries(t, &n);
	assert_int_equal(n, 3);
	assert_null(ixdata_lans(t, &n));
	assert_int_equal(n, 0);
	ixdata_free(t);
}

static struct ixdata *parse_ok(enum ixdata_format f, const char *doc)
{
	struct ixdata *t = NULL;
	struct ixdata_err err;
	char *text = dq(doc);
	char msg[512];

	if (ixdata_parse(f, text, strlen(text), &t, &err) == -1)
		fail_msg("%s", ixdata_err_format(&err, msg, sizeof(msg)));
	free(text);
	return t;
}

/*
 * Schema 0.4/0.5 put one "mac_address" in the VLAN entry; 0.6 onwards
 * "mac_addresses" in ipv4 and ipv6.  Both are read, merged.
 */
static void test_mac_placements(void **state)
{
	struct ixdata *t;
	const struct ixdata_entry *e;
	uint8_t m[MACADDR_LEN];

	(void)state;
	t = parse_ok(IXDATA_IXF,
		     "{'version':'0.5','ixp_list':[{'ixp_id':7,'shortname':"
		     "'X'}],'member_list':[{'asnum':64500,'connection_list':"
		     "[{'ixp_id':7,'vlan_list':[{'vlan_id':0,'mac_address':"
		     "'0011.2233.4455','ipv4':{'address':'192.0.2.5'}}]}]}]}");
	assert_int_equal(ixdata_find_asn(t, 64500, &e), 1);
	assert_int_equal(e->n_macs, 1);
	mac("00:11:22:33:44:55", m);
	assert_memory_equal(e->macs[0], m, MACADDR_LEN);
	assert_int_equal(e->lan_id, 0);
	assert_int_equal(e->flags, IXDATA_HAS_IX | IXDATA_HAS_LAN);
	ixdata_free(t);

	t = parse_ok(IXDATA_IXF,
		     "{'version':'1.0','ixp_list':[{'ixp_id':7,'shortname':"
		     "'X','peeringdb_id':42}],'member_list':[{'asnum':64500,"
		     "'connection_list':[{'ixp_id':7,'vlan_list':[{"
		     "'mac_address':'02-00-00-00-00-01','ipv4':{'address':"
		     "'192.0.2.5','mac_addresses':['02:00:00:00:00:02',"
		     "'02:00:00:00:00:01']},'ipv6':{'address':'2001:db8::5',"
		     "'mac_addresses':['020000000003','02:00:00:00:00:02']}}]"
		     "}]}]}");
	assert_int_equal(ixdata_find_asn(t, 64500, &e), 1);
	assert_int_equal(e->n_macs, 3);		   /* 01 02 03, each once */
	assert_int_equal(e->flags, IXDATA_HAS_IX); /* no vlan_id */
	assert_int_equal(e->peeringdb_ix_id, 42);
	mac("02:00:00:00:00:03", m);
	assert_memory_equal(e->macs[2], m, MACADDR_LEN);
	ixdata_free(t);
}

/* The versions accepted, and members the reader ignores. */
static void test_versions(void **state)
{
	static const char *const ok[] = { "0.4", "0.6", "0.7", "0.8",
					  "1.0", "1.1", "0.10" };
	char doc[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct ixdata *t;

		snprintf(doc, sizeof(doc),
			 "{'version':'%s','timestamp':'x','future':{'a':[1]},"
			 "'ixp_list':[],'member_list':[]}",
			 ok[i]);
		t = parse_ok(IXDATA_IXF, doc);
		assert_int_equal(ixdata_summary(t)->entries, 0);
		ixdata_free(t);
	}
}

/* An address two entries share is found for both. */
static void test_shared_address(void **state)
{
	struct ixdata *t = parse_ok(
		IXDATA_PEERINGDB,
		"{'data':[{'asn':64501,'ipaddr4':'192.0.2.1'},{'asn':64500,"
		"'ipaddr4':'192.0.2.1','status':'ok'},{'asn':64502,'ipaddr4':"
		"'192.0.2.1','status':'pending'}]}");
	const struct ixdata_entry *found[1];
	struct ps_addr a = addr("192.0.2.1");

	(void)state;
	assert_int_equal(ixdata_find_addr(t, &a, found, 1), 2); /* 1 copied */
	assert_int_equal(found[0]->asn, 64500);			/* ASN order */
	assert_int_equal(ixdata_summary(t)->skipped, 1);
	ixdata_free(t);
}

struct refusal {
	enum ixdata_format format;
	const char *doc;
	enum ixdata_reason reason;
	const char *pointer;
};

#define IXF_HEAD "{'version':'1.0','ixp_list':[{'ixp_id':1}],"
#define VLAN(x)                                                                \
	IXF_HEAD "'member_list':[{'asnum':64496,'connection_list':[{'ixp_id':" \
		 "1,'vlan_list':[" x "]}]}]}"
#define VPTR "/member_list/0/connection_list/0/vlan_list/0"
#define LAN(x)                                                                 \
	"{'version':'1.0','ixp_list':[{'ixp_id':1,'vlan':[" x                  \
	"]}],'member_list':[]}"

static const struct refusal refusals[] = {
	{ IXDATA_IXF, "[]", IXDATA_TYPE, "" },
	{ IXDATA_IXF, "{'ixp_list':[],'member_list':[]}", IXDATA_MISSING, "" },
	{ IXDATA_IXF, "{'version':'0.3','ixp_list':[],'member_list':[]}",
	  IXDATA_VERSION, "/version" },
	{ IXDATA_IXF, "{'version':'2014110401','ixp_list':[],'member_list':[]}",
	  IXDATA_VERSION, "/version" },
	{ IXDATA_IXF, "{'version':'2.0','ixp_list':[],'member_list':[]}",
	  IXDATA_VERSION, "/version" },
	{ IXDATA_IXF, "{'version':1.0,'ixp_list':[],'member_list':[]}",
	  IXDATA_TYPE, "/version" },
	{ IXDATA_IXF, "{'version':'1.0','ixp_list':{},'member_list':[]}",
	  IXDATA_TYPE, "/ixp_list" },
	{ IXDATA_IXF, "{'version':'1.0','ixp_list':[]}", IXDATA_MISSING, "" },
	{ IXDATA_IXF,
	  "{'version':'1.0','ixp_list':[{'ixp_id':null}],"
	  "'member_list':[]}",
	  IXDATA_TYPE, "/ixp_list/0/ixp_id" },
	{ IXDATA_IXF,
	  "{'version':'1.0','ixp_list':[{'ixp_id':1},{'ixp_id':1}],"
	  "'member_list':[]}",
	  IXDATA_DUPLICATE, "/ixp_list/1/ixp_id" },
	{ IXDATA_IXF, LAN("{'ipv4':{'prefix':'nope','mask_length':24}}"),
	  IXDATA_PREFIX, "/ixp_list/0/vlan/0/ipv4/prefix" },
	{ IXDATA_IXF, LAN("{'ipv4':{'prefix':'192.0.2.0','mask_length':33}}"),
	  IXDATA_PREFIX, "/ixp_list/0/vlan/0/ipv4/mask_length" },
	{ IXDATA_IXF, LAN("{'id':1},{'ipv6':{'prefix':'2001:db8::'}}"),
	  IXDATA_MISSING, "/ixp_list/0/vlan/1/ipv6" },
	{ IXDATA_IXF, LAN("{'ipv6':{'prefix':'192.0.2.0','mask_length':64}}"),
	  IXDATA_PREFIX, "/ixp_list/0/vlan/0/ipv6/prefix" },
	{ IXDATA_IXF, IXF_HEAD "'member_list':[{'connection_list':[]}]}",
	  IXDATA_MISSING, "/member_list/0" },
	{ IXDATA_IXF,
	  IXF_HEAD "'member_list':[{'asnum':0,'connection_list':[]}]}",
	  IXDATA_ASN, "/member_list/0/asnum" },
	{ IXDATA_IXF,
	  IXF_HEAD "'member_list':[{'asnum':4294967296,'connection_list':[]}]}",
	  IXDATA_ASN, "/member_list/0/asnum" },
	{ IXDATA_IXF,
	  IXF_HEAD "'member_list':[{'asnum':'64496','connection_list':[]}]}",
	  IXDATA_TYPE, "/member_list/0/asnum" },
	{ IXDATA_IXF,
	  IXF_HEAD "'member_list':[{'asnum':64496.0,'connection_list':[]}]}",
	  IXDATA_TYPE, "/member_list/0/asnum" },
	{ IXDATA_IXF, IXF_HEAD "'member_list':[{'asnum':64496}]}",
	  IXDATA_MISSING, "/member_list/0" },
	{ IXDATA_IXF,
	  IXF_HEAD "'member_list':[{'asnum':64496,'connection_list':[{}]}]}",
	  IXDATA_MISSING, "/member_list/0/connection_list/0" },
	{ IXDATA_IXF,
	  IXF_HEAD
	  "'member_list':[{'asnum':64496,'connection_list':[{'ixp_id':2"
	  "}]}]}",
	  IXDATA_UNKNOWN_IXP, "/member_list/0/connection_list/0/ixp_id" },
	{ IXDATA_IXF,
	  IXF_HEAD
	  "'member_list':[{'asnum':64496,'connection_list':[{'ixp_id':1"
	  ",'if_list':[{'if_speed':-5}]}]}]}",
	  IXDATA_RANGE, "/member_list/0/connection_list/0/if_list/0/if_speed" },
	{ IXDATA_IXF, VLAN("'v'"), IXDATA_TYPE, VPTR },
	{ IXDATA_IXF, VLAN("{'vlan_id':-1}"), IXDATA_RANGE, VPTR "/vlan_id" },
	{ IXDATA_IXF, VLAN("{'ipv4':{'address':'2001:db8::1'}}"),
	  IXDATA_ADDRESS, VPTR "/ipv4/address" },
	{ IXDATA_IXF, VLAN("{'ipv4':{'address':'192.0.2.300'}}"),
	  IXDATA_ADDRESS, VPTR "/ipv4/address" },
	{ IXDATA_IXF, VLAN("{},{'ipv6':{'address':'192.0.2.1'}}"),
	  IXDATA_ADDRESS,
	  "/member_list/0/connection_list/0/vlan_list/1/ipv6/address" },
	{ IXDATA_IXF, VLAN("{'ipv4':[]}"), IXDATA_TYPE, VPTR "/ipv4" },
	{ IXDATA_IXF, VLAN("{'ipv4':{'mac_addresses':['02:00:00:00:00']}}"),
	  IXDATA_MAC, VPTR "/ipv4/mac_addresses/0" },
	{ IXDATA_IXF,
	  VLAN("{'ipv6':{'mac_addresses':['02:00:00:00:00:01',"
	       "'01:00:5e:00:00:01']}}"),
	  IXDATA_MAC, VPTR "/ipv6/mac_addresses/1" },
	{ IXDATA_IXF, VLAN("{'ipv6':{'mac_addresses':['00:00:00:00:00:00']}}"),
	  IXDATA_MAC, VPTR "/ipv6/mac_addresses/0" },
	{ IXDATA_IXF, VLAN("{'ipv4':{'mac_addresses':[5]}}"), IXDATA_TYPE,
	  VPTR "/ipv4/mac_addresses/0" },
	{ IXDATA_IXF, VLAN("{'mac_address':'zz'}"), IXDATA_MAC,
	  VPTR "/mac_address" },
	{ IXDATA_IXF,
	  VLAN("{'ipv4':{'mac_addresses':['02:00:00:00:00:01','02:00:00:00:00:"
	       "02','02:00:00:00:00:03','02:00:00:00:00:04','02:00:00:00:00:05"
	       "']},'ipv6':{'mac_addresses':['02:00:00:00:00:01','02:00:00:00:"
	       "00:06','02:00:00:00:00:07','02:00:00:00:00:08','02:00:00:00:00:"
	       "09']}}"),
	  IXDATA_MACS_CAP, VPTR "/ipv6/mac_addresses/4" },
	{ IXDATA_IXF, "{'version':'1.0',}", IXDATA_SYNTAX, "" },
	{ IXDATA_IXF, "{'version':'1.0'", IXDATA_SYNTAX, "" },
	{ IXDATA_IXF, "", IXDATA_SYNTAX, "" },
	{ IXDATA_IXF, "{'version':'1.0'} {}", IXDATA_SYNTAX, "" },
	{ IXDATA_IXF, "{'version':'\xff'}", IXDATA_SYNTAX, "" },
	{ IXDATA_IXF, "{'a':[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}",
	  IXDATA_TOO_DEEP, "" },
	{ IXDATA_PEERINGDB, "{}", IXDATA_MISSING, "" },
	{ IXDATA_PEERINGDB, "{'data':{}}", IXDATA_TYPE, "/data" },
	{ IXDATA_PEERINGDB, "{'data':[1]}", IXDATA_TYPE, "/data/0" },
	{ IXDATA_PEERINGDB, "{'data':[{'asn':0}]}", IXDATA_ASN, "/data/0/asn" },
	{ IXDATA_PEERINGDB, "{'data':[{'asn':null}]}", IXDATA_TYPE,
	  "/data/0/asn" },
	{ IXDATA_PEERINGDB, "{'data':[{'asn':1},{'ipaddr4':'192.0.2.1'}]}",
	  IXDATA_MISSING, "/data/1" },
	{ IXDATA_PEERINGDB, "{'data':[{'asn':64496,'ipaddr4':'2001:db8::1'}]}",
	  IXDATA_ADDRESS, "/data/0/ipaddr4" },
	{ IXDATA_PEERINGDB, "{'data':[{'asn':64496,'ipaddr6':'x\\u0000'}]}",
	  IXDATA_ADDRESS, "/data/0/ipaddr6" },
	{ IXDATA_PEERINGDB, "{'data':[{'asn':64496,'ix_id':-1}]}", IXDATA_RANGE,
	  "/data/0/ix_id" },
	{ IXDATA_PEERINGDB, "{'data':[{'asn':64496,'speed':'10G'}]}",
	  IXDATA_TYPE, "/data/0/speed" },
	{ IXDATA_PEERINGDB, "{'data':[{'asn':64496,'status':1}]}", IXDATA_TYPE,
	  "/data/0/status" },
};

/* The refusal: reason, pointer, the caller's table untouched. */
static void check_refusal(enum ixdata_format f, const char *text, size_t len,
			  enum ixdata_reason reason, const char *pointer)
{
	struct ixdata *t = (struct ixdata *)&t; /* "the previous table" */
	struct ixdata *before = t;
	struct ixdata_err err;
	char msg[512];

	assert_int_equal(ixdata_parse(f, text, len, &t, &err), -1);
	assert_ptr_equal(t, before);
	if (err.reason != reason || strcmp(err.pointer, pointer) != 0)
		fail_msg("%.60s: got %s at \"%s\", want %s at \"%s\" (%s)",
			 text, ixdata_reason_name(err.reason), err.pointer,
			 ixdata_reason_name(reason), pointer, err.detail);
	assert_true(err.detail[0] != '\0');
	ixdata_err_format(&err, msg, sizeof(msg));
	assert_non_null(strstr(msg, ixdata_reason_name(reason)));
	/* the pointer names an element that is there (RFC 6901, json-c) */
	if (reason != IXDATA_SYNTAX && reason != IXDATA_TOO_DEEP) {
		struct json_object *doc = json_tokener_parse(text), *at;

		assert_non_null(doc);
		if (json_pointer_get(doc, pointer, &at) != 0)
			fail_msg("pointer \"%s\" does not resolve", pointer);
		json_object_put(doc);
	}
}

static void test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		char *text = dq(refusals[i].doc);

		check_refusal(refusals[i].format, text, strlen(text),
			      refusals[i].reason, refusals[i].pointer);
		free(text);
	}
}

/* A growing buffer for the generated documents. */
struct gen {
	char *s;
	size_t len, cap;
};

static void put(struct gen *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(g->s + g->len, g->cap - g->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < g->cap - g->len)
			break;
		g->cap = 2 * (g->cap + (size_t)n);
		g->s = realloc(g->s, g->cap);
		assert_non_null(g->s);
	}
	g->len += (size_t)n;
}

/* Each cap: one element past it is refused there. */
static void test_caps(void **state)
{
	struct gen g = { 0 };

	(void)state;
	g.cap = 1 << 16;
	g.s = malloc(g.cap);
	assert_non_null(g.s);

	put(&g, "{\"data\":[");
	for (int i = 0; i <= IXDATA_MAX_ENTRIES; i++)
		put(&g, "%s{\"asn\":64496}", i ? "," : "");
	put(&g, "]}");
	check_refusal(IXDATA_PEERINGDB, g.s, g.len, IXDATA_ENTRIES_CAP,
		      "/data/131072");
	g.len = 0;
	put(&g, "{\"version\":\"1.0\",\"member_list\":[],\"ixp_list\":[");
	for (int i = 0; i <= IXDATA_MAX_IXPS; i++)
		put(&g, "%s{\"ixp_id\":%d}", i ? "," : "", i);
	put(&g, "]}");
	check_refusal(IXDATA_IXF, g.s, g.len, IXDATA_IXPS_CAP, "/ixp_list/64");
	g.len = 0;
	put(&g, "{\"version\":\"1.0\",\"member_list\":[],\"ixp_list\":[{"
		"\"ixp_id\":1,\"vlan\":[");
	for (int i = 0; i <= IXDATA_MAX_LANS; i++)
		put(&g, "%s{\"id\":%d}", i ? "," : "", i);
	put(&g, "]}]}");
	check_refusal(IXDATA_IXF, g.s, g.len, IXDATA_LANS_CAP,
		      "/ixp_list/0/vlan/256");
	/* and exactly at the caps: accepted */
	g.len = 0;
	put(&g, "{\"data\":[");
	for (int i = 0; i < IXDATA_MAX_ENTRIES; i++)
		put(&g, "%s{\"asn\":%d}", i ? "," : "", 64496 + i % 16);
	put(&g, "]}");
	{
		struct ixdata *t = NULL;
		struct ixdata_err err;

		assert_int_equal(
			ixdata_parse(IXDATA_PEERINGDB, g.s, g.len, &t, &err),
			0);
		assert_int_equal(ixdata_summary(t)->entries,
				 IXDATA_MAX_ENTRIES);
		assert_int_equal(ixdata_summary(t)->asns, 16);
		ixdata_free(t);
	}
	free(g.s);
}

/* Files: unreadable, too large (sparse), and the path in the message. */
static void test_files(void **state)
{
	char path[] = "/tmp/peerscope-test-ixdata-XXXXXX";
	struct ixdata *t = NULL;
	struct ixdata_err err;
	char msg[512];
	int fd;

	(void)state;
	assert_int_equal(
		ixdata_load(IXDATA_IXF, "/nonexistent/ix.json", &t, &err), -1);
	assert_null(t);
	assert_int_equal(err.reason, IXDATA_IO);
	ixdata_err_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, "/nonexistent/ix.json: at \"\": io: No such "
				 "file or directory");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, IXDATA_MAX_FILE_BYTES + 1), 0);
	assert_int_equal(ixdata_load(IXDATA_PEERINGDB, path, &t, &err), -1);
	assert_int_equal(err.reason, IXDATA_TOO_LARGE);
	assert_string_equal(err.path, path);
	/* at the cap exactly it is read (and is not JSON: NULs) */
	assert_int_equal(ftruncate(fd, IXDATA_MAX_FILE_BYTES), 0);
	assert_int_equal(ixdata_load(IXDATA_PEERINGDB, path, &t, &err), -1);
	assert_int_equal(err.reason, IXDATA_SYNTAX);
	close(fd);
	unlink(path);

	assert_int_equal(
		ixdata_parse(IXDATA_IXF, "{\"version\":\"1.0\"}", 17, &t, &err),
		-1);
	ixdata_err_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, "(memory): at \"\": missing: member "
				 "\"ixp_list\" is missing");
}

static void test_macaddr(void **state)
{
	static const char *const good[] = { "02:00:5E:10:00:0a",
					    "02-00-5e-10-00-0A",
					    "0200.5e10.000a", "02005e10000a" };
	static const char *const bad[] = {
		"02:00:5e:10:00",     "02:00:5e:10:00:0a:01",
		"02:00-5e:10:00:0a",  "2:00:5e:10:00:0a",
		"0200.5e10.000",      "02005e10000g",
		"02:00:5e:10:00:0a ", "",
		"0200:5e10:000a",
	};
	uint8_t m[MACADDR_LEN];
	char text[MACADDR_TEXT_LEN];

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		memset(m, 0, sizeof(m));
		assert_int_equal(macaddr_parse(good[i], strlen(good[i]), m), 0);
		assert_string_equal(macaddr_format(m, text, sizeof(text)),
				    "02:00:5e:10:00:0a");
		assert_true(macaddr_is_unicast(m));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (macaddr_parse(bad[i], strlen(bad[i]), m) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
	mac("ff:ff:ff:ff:ff:ff", m);
	assert_false(macaddr_is_unicast(m));
	mac("01:80:c2:00:00:0e", m);
	assert_false(macaddr_is_unicast(m));
	mac("000000000000", m);
	assert_false(macaddr_is_unicast(m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ixf_example),
		cmocka_unit_test(test_peeringdb_example),
		cmocka_unit_test(test_mac_placements),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_shared_address),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_macaddr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
