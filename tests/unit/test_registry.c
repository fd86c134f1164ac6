/*
 * test_registry.c - the connection registry (conn/registry.h): the lab's
 * demo-peering configuration read back field by field against the file
 * as written by hand; the lookups (port by router and ifIndex, peer by
 * MAC and address, by id, named ports); every refusal with its file:line
 * and the claim it collides with; warnings; capacities with suffixes;
 * exchange connections filled from the IX data example files, whose
 * entries were counted by hand (deploy/examples).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/config.h"
#include "base/netaddr.h"
#include "conn/registry.h"

/* A file of tests/data (PEERSCOPE_TEST_DATA, set by ctest). */
static const char *data_path(const char *rel)
{
	static char buf[1024];
	const char *dir = getenv("PEERSCOPE_TEST_DATA");

	snprintf(buf, sizeof(buf), "%s/%s", dir ? dir : "tests/data", rel);
	return buf;
}

static struct ps_addr addr(const char *text)
{
	struct ps_addr a;

	assert_int_equal(netaddr_parse_addr(text, &a), 0);
	return a;
}

static const uint8_t *mac(const char *text)
{
	static uint8_t m[MACADDR_LEN];

	assert_int_equal(macaddr_parse(text, strlen(text), m), 0);
	return m;
}

static struct conn_registry *parse_ok(const char *yaml,
				      const struct ps_config *cfg)
{
	struct conn_registry *r = NULL;
	struct conn_registry_err err = { { 0 } };

	if (conn_registry_parse("t.yaml", yaml, strlen(yaml), cfg, &r, &err) !=
	    0)
		fail_msg("refused: %s", err.text);
	return r;
}

/* The error text of a refused document. */
static const char *refused(const char *yaml)
{
	static struct conn_registry_err err;
	struct conn_registry *r = NULL;

	memset(&err, 0, sizeof(err));
	assert_int_equal(conn_registry_parse("t.yaml", yaml, strlen(yaml), NULL,
					     &r, &err),
			 -1);
	assert_null(r);
	return err.text;
}

#define assert_has(hay, needle)                                                \
	do {                                                                   \
		if (strstr((hay), (needle)) == NULL)                           \
			fail_msg("\"%s\" lacks \"%s\"", (hay), (needle));      \
	} while (0)

static void test_demo_peering(void **state)
{
	struct ps_config cfg;
	struct conn_registry *r = NULL;
	struct conn_registry_err err;
	const struct conn *c;
	const struct conn_port *ix, *pni;
	struct ps_addr router = addr("198.51.100.5");
	size_t n;
	char err_text[512];

	(void)state;
	config_init(&cfg);
	if (config_load(&cfg, data_path("peering/peerscope.demo-peering.yaml"),
			err_text, sizeof(err_text)) != 0)
		fail_msg("%s", err_text);
	assert_int_not_equal(cfg.connections_line, 0);
	assert_int_equal(conn_registry_load(&cfg, &r, &err), 0);

	c = conn_registry_conns(r, &n);
	assert_int_equal(n, 4);
	/* as written in the file */
	assert_string_equal(c[0].id, "ix-peer-a");
	assert_int_equal(c[0].kind, CONN_EXCHANGE);
	assert_string_equal(c[0].router, "198.51.100.5");
	assert_int_equal(c[0].ifindex, 17);
	assert_int_equal(c[0].peer_asn, 64497);
	assert_int_equal(c[0].n_addrs, 2);
	assert_int_equal(c[0].n_macs, 1);
	assert_int_equal(c[0].capacity_bps, 1000000000ULL);
	assert_int_equal(c[0].n_labels, 3);
	assert_string_equal(c[0].labels[0].name, "site");
	assert_string_equal(c[0].labels[0].value, "lab");
	assert_string_equal(c[0].labels[2].name, "peer");
	assert_string_equal(c[0].labels[2].value, "peer-a");
	assert_int_equal(c[1].peer_asn, 65537);
	assert_int_equal(c[2].n_addrs, 1);
	assert_string_equal(c[3].id, "pni-peer-d");
	assert_int_equal(c[3].kind, CONN_DIRECT);
	assert_int_equal(c[3].ifindex, 23);
	assert_int_equal(c[3].n_labels, 2);
	assert_false(c[3].probe);

	ix = conn_registry_port(r, &router, 17);
	pni = conn_registry_port(r, &router, 23);
	assert_non_null(ix);
	assert_non_null(pni);
	assert_int_equal(ix->kind, CONN_EXCHANGE);
	assert_int_equal(ix->n_conns, 3);
	assert_int_equal(pni->kind, CONN_DIRECT);
	assert_int_equal(pni->n_conns, 1);
	assert_ptr_equal(pni->conns[0], &c[3]);
	assert_ptr_equal(c[3].port, pni);
	assert_null(conn_registry_port(r, &router, 18));
	struct ps_addr other = addr("198.51.100.6");
	assert_null(conn_registry_port(r, &other, 17));

	assert_ptr_equal(conn_port_by_mac(ix, mac("02:00:00:00:01:11")), &c[0]);
	assert_ptr_equal(conn_port_by_mac(ix, mac("02:00:00:00:01:12")), &c[1]);
	assert_ptr_equal(conn_port_by_mac(ix, mac("02:00:00:00:01:13")), &c[2]);
	/* the two unconfigured IX members: the port's unattributed */
	assert_null(conn_port_by_mac(ix, mac("02:00:00:00:01:f1")));
	assert_null(conn_port_by_mac(ix, mac("02:00:00:00:01:f2")));
	struct ps_addr b6 = addr("2001:db8:1::12"), c4 = addr("192.0.2.13"),
		       x4 = addr("192.0.2.14");
	assert_ptr_equal(conn_port_by_addr(ix, &b6), &c[1]);
	assert_ptr_equal(conn_port_by_addr(ix, &c4), &c[2]);
	assert_null(conn_port_by_addr(ix, &x4));
	assert_true(conn_has_addr(&c[2], &c4));
	assert_false(conn_has_addr(&c[1], &c4));

	assert_ptr_equal(conn_registry_find_id(r, "pni-peer-d"), &c[3]);
	assert_ptr_equal(conn_registry_find_id(r, "ix-peer-a"), &c[0]);
	assert_null(conn_registry_find_id(r, "ix-peer"));
	assert_false(conn_registry_has_names(r));
	conn_registry_warnings(r, &n);
	assert_int_equal(n, 0);
	assert_true(conn_registry_memory(r) > 4 * sizeof(struct conn));
	conn_registry_free(r);
}

static void test_no_connections(void **state)
{
	struct ps_config cfg;
	struct conn_registry *r = NULL;
	struct conn_registry_err err;
	struct ps_addr a = addr("192.0.2.1");
	size_t n;

	(void)state;
	config_init(&cfg); /* no file */
	assert_int_equal(conn_registry_load(&cfg, &r, &err), 0);
	conn_registry_conns(r, &n);
	assert_int_equal(n, 0);
	assert_null(conn_registry_port(r, &a, 1));
	conn_registry_free(r);
	r = parse_ok("window_seconds: 10\n", NULL);
	conn_registry_conns(r, &n);
	assert_int_equal(n, 0);
	conn_registry_free(r);
	r = parse_ok("connections: []\n", NULL);
	conn_registry_free(r);
	r = parse_ok("connections:\n", NULL);
	conn_registry_free(r);
}

static void test_named(void **state)
{
	struct conn_registry *r;
	const struct conn_port *p;
	struct ps_addr a = addr("192.0.2.1"), b = addr("192.0.2.2");

	(void)state;
	r = parse_ok("connections:\n"
		     "  - {id: a, kind: direct, router: edge1, interface: 5}\n"
		     "  - {id: b, kind: direct, router: 192.0.2.1, "
		     "interface: Ethernet3/1}\n"
		     "  - {id: c, kind: direct, router: 192.0.2.1, "
		     "interface: 6, probe: true, peer_asn: AS64500}\n",
		     NULL);
	assert_true(conn_registry_has_names(r));
	p = conn_registry_port_named(r, &b, "edge1", 5, NULL);
	assert_non_null(p);
	assert_string_equal(p->conns[0]->id, "a");
	assert_null(conn_registry_port_named(r, &b, "edge2", 5, NULL));
	assert_null(conn_registry_port_named(r, &b, NULL, 5, NULL));
	p = conn_registry_port_named(r, &a, NULL, 99, "Ethernet3/1");
	assert_non_null(p);
	assert_string_equal(p->conns[0]->id, "b");
	p = conn_registry_port_named(r, &a, NULL, 6, NULL);
	assert_non_null(p);
	assert_string_equal(p->conns[0]->id, "c");
	assert_true(p->conns[0]->probe);
	assert_int_equal(p->conns[0]->peer_asn, 64500);
	assert_null(conn_registry_port(r, &a, 5));
	conn_registry_free(r);
}

static void test_refusals(void **state)
{
	(void)state;
	/* duplicate id: both lines */
	assert_has(refused("connections:\n"
			   "  - {id: x, kind: direct, router: 192.0.2.1, "
			   "interface: 1}\n"
			   "  - {id: x, kind: direct, router: 192.0.2.1, "
			   "interface: 2}\n"),
		   "t.yaml:3: connections[1].id: duplicate id x (first on "
		   "line 2)");
	/* one interface, two direct connections */
	assert_has(refused("connections:\n"
			   "  - {id: x, kind: direct, router: 192.0.2.1, "
			   "interface: 1}\n"
			   "  - {id: y, kind: direct, router: 192.0.2.1, "
			   "interface: 1}\n"),
		   "t.yaml:3: connections[1]: router 192.0.2.1 interface 1 is "
		   "claimed by two direct connections: x (line 2) and y (line "
		   "3)");
	/* a direct and an exchange connection on one port */
	assert_has(refused("connections:\n"
			   "  - {id: x, kind: exchange, router: 192.0.2.1, "
			   "interface: 1, peer_macs: [02:00:00:00:00:01]}\n"
			   "  - {id: y, kind: direct, router: 192.0.2.1, "
			   "interface: 1}\n"),
		   "claimed by direct connection y (line 3) and exchange "
		   "connection x (line 2)");
	/* one MAC, two connections, one port */
	assert_has(refused("connections:\n"
			   "  - {id: x, kind: exchange, router: 192.0.2.1, "
			   "interface: 1, peer_macs: [02:00:00:00:00:01]}\n"
			   "  - {id: y, kind: exchange, router: 192.0.2.1, "
			   "interface: 1, peer_macs: ['0200.0000.0001']}\n"),
		   "t.yaml:3: connections[1].peer_macs: 02:00:00:00:00:01 is "
		   "in two connections on router 192.0.2.1 interface 1: x "
		   "(line 2) and y (line 3)");
	/* one peer address, two connections, one port */
	assert_has(refused("connections:\n"
			   "  - {id: x, kind: exchange, router: 192.0.2.1, "
			   "interface: 1, peer_addresses: [192.0.2.9]}\n"
			   "  - {id: y, kind: exchange, router: 192.0.2.1, "
			   "interface: 1, peer_addresses: [192.0.2.9]}\n"),
		   "192.0.2.9 is in two connections");
	/* bad values, named by key and line */
	assert_has(refused("connections:\n"
			   "  - id: x\n"
			   "    kind: private\n"),
		   "t.yaml:3: connections[0].kind: expected direct or "
		   "exchange");
	assert_has(refused("connections:\n"
			   "  - id: 'a b'\n"),
		   "t.yaml:2: connections[0].id: \"a b\" is not an id");
	assert_has(refused("connections:\n"
			   "  - {id: x, kind: direct, router: 192.0.2.1}\n"),
		   "t.yaml:2: connections[0]: missing key interface");
	assert_has(refused("connections:\n"
			   "  - {id: x, kind: exchange, router: 192.0.2.1,\n"
			   "     interface: 0}\n"),
		   "t.yaml:3: connections[0].interface: ifIndex \"0\"");
	assert_has(
		refused("connections:\n"
			"  - {id: x, kind: exchange, router: 192.0.2.1,\n"
			"     interface: 1, peer_macs: [01:00:5e:00:00:01]}\n"),
		"t.yaml:3: connections[0].peer_macs: 01:00:5e:00:00:01 is "
		"not a unicast MAC address");
	assert_has(refused("connections:\n"
			   "  - {id: x, kind: exchange, router: 192.0.2.1,\n"
			   "     interface: 1, peer_macs: [02:00:00:00:00:01,\n"
			   "     02-00-00-00-00-01]}\n"),
		   "t.yaml:4: connections[0].peer_macs: 02-00-00-00-00-01 "
		   "listed twice");
	assert_has(
		refused("connections:\n"
			"  - {id: x, kind: exchange, router: 192.0.2.1,\n"
			"     interface: 1, peer_addresses: [192.0.2.300]}\n"),
		"connections[0].peer_addresses: \"192.0.2.300\" is not an "
		"IPv4 or IPv6 address");
	assert_has(refused("connections:\n"
			   "  - {id: x, kind: direct, router: 192.0.2.1,\n"
			   "     interface: 1, capacity: 10X}\n"),
		   "t.yaml:3: connections[0].capacity: \"10X\"");
	assert_has(refused("connections:\n"
			   "  - {id: x, kind: direct, router: 192.0.2.1,\n"
			   "     interface: 1, peer_asn: 0}\n"),
		   "connections[0].peer_asn: \"0\" is not an ASN");
	assert_has(refused("connections:\n"
			   "  - {id: x, kind: direct, router: 192.0.2.1,\n"
			   "     interface: 1, colour: red}\n"),
		   "t.yaml:3: connections[0]: colour: unknown key");
	assert_has(refused("connections:\n"
			   "  - {id: x, kind: direct, router: 192.0.2.1,\n"
			   "     interface: 1, labels: {1x: y}}\n"),
		   "connections[0].labels: \"1x\" is not a label name");
	assert_has(
		refused("connections:\n"
			"  - {id: x, kind: direct, router: 192.0.2.1,\n"
			"     interface: 1, peer_macs: [02:00:00:00:00:01]}\n"),
		"only exchange connections have peer_macs");
	assert_has(refused("connections: {id: x}\n"),
		   "t.yaml:1: connections: expected a list of connections");
	assert_has(refused("connections:\n  - [a, b]\n"),
		   "t.yaml:2: connections[0]: expected a mapping");
	assert_has(refused("connections:\n  - {id: x, id: y}\n"),
		   "connections[0].id: duplicate key (first on line 2)");
}

static void test_warnings(void **state)
{
	struct conn_registry *r;
	const char *const *w;
	size_t n;

	(void)state;
	r = parse_ok("connections:\n"
		     "  - {id: x, kind: exchange, router: 192.0.2.1, "
		     "interface: 1, peer_asn: 64500}\n",
		     NULL);
	w = conn_registry_warnings(r, &n);
	assert_int_equal(n, 1);
	assert_has(w[0], "t.yaml:2: connections[0] (x): exchange connection "
			 "with no peer_macs and no peer_addresses");
	conn_registry_free(r);
}

static void test_capacity(void **state)
{
	static const struct {
		const char *text;
		uint64_t bps;
	} ok[] = {
		{ "100G", 100000000000ULL },  { "2.5G", 2500000000ULL },
		{ "400M", 400000000ULL },     { "10k", 10000ULL },
		{ "10K", 10000ULL },	      { "1T", 1000000000000ULL },
		{ "1.6T", 1600000000000ULL }, { "10000000", 10000000ULL },
		{ "0.5k", 500ULL },
	};
	static const char *const bad[] = {
		"",	     "G",    "10X",
		"10GG",	     "1.5",  "0.0001k",
		"-1G",	     "1e9",  "18446744073709551616",
		"20000000T", "10 G",
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(conn_parse_capacity(ok[i].text, &v), 0);
		assert_int_equal(v, ok[i].bps);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (conn_parse_capacity(bad[i], &v) == 0)
			fail_msg("\"%s\" accepted as %llu", bad[i],
				 (unsigned long long)v);
}

static void test_many_ports(void **state)
{
	/* 1,000 direct connections on 10 routers: every port found */
	size_t cap = 200000, o = 0;
	char *yaml = malloc(cap);
	struct conn_registry *r;
	size_t n;

	(void)state;
	assert_non_null(yaml);
	o += (size_t)snprintf(yaml + o, cap - o, "connections:\n");
	for (int i = 0; i < 1000; i++)
		o += (size_t)snprintf(yaml + o, cap - o,
				      "  - {id: c%d, kind: direct, router: "
				      "192.0.2.%d, interface: %d}\n",
				      i, i % 10 + 1, i / 10 + 1);
	r = parse_ok(yaml, NULL);
	conn_registry_ports(r, &n);
	assert_int_equal(n, 1000);
	for (int i = 0; i < 1000; i++) {
		char text[32];
		struct ps_addr a;
		const struct conn_port *p;

		snprintf(text, sizeof(text), "192.0.2.%d", i % 10 + 1);
		a = addr(text);
		p = conn_registry_port(r, &a, (uint32_t)(i / 10 + 1));
		assert_non_null(p);
		assert_int_equal(p->conns[0]->index, i);
	}
	conn_registry_free(r);
	free(yaml);
}

/*
 * The IX data example files (deploy/examples), read by hand: in the IX-F
 * export, AS64497 has two connections on ixp 1, 192.0.2.11 /
 * 2001:db8:10::b1 with MAC 02:00:00:00:00:b1 and 192.0.2.12 with
 * 02:00:00:00:00:b2; AS64498 2001:db8:10::c with 06:00:00:00:00:0c.  In
 * the netixlan dump (ix_id 999901), AS64497 has the same three addresses
 * and no MACs; AS64499's only record is "deleted".
 */
static struct ps_config ix_cfg(const char *ixf, const char *pdb)
{
	struct ps_config cfg;

	config_init(&cfg);
	if (ixf) {
		assert_true(strlen(data_path(ixf)) <
			    sizeof(cfg.ixf_member_export));
		strcpy(cfg.ixf_member_export, data_path(ixf));
	}
	if (pdb) {
		assert_true(strlen(data_path(pdb)) <
			    sizeof(cfg.peeringdb_netixlan));
		strcpy(cfg.peeringdb_netixlan, data_path(pdb));
	}
	return cfg;
}

#define IXF_EXAMPLE "../../deploy/examples/ixf-member-export.example.json"
#define PDB_EXAMPLE "../../deploy/examples/peeringdb-netixlan.example.json"

static void test_ixdata_fill(void **state)
{
	struct ps_config cfg = ix_cfg(IXF_EXAMPLE, PDB_EXAMPLE);
	struct ps_addr a11 = addr("192.0.2.11"), a12 = addr("192.0.2.12"),
		       b1 = addr("2001:db8:10::b1"),
		       c6 = addr("2001:db8:10::c");
	const char *yaml =
		"connections:\n"
		"  - {id: b, kind: exchange, router: 192.0.2.1, interface: 7,\n"
		"     peer_asn: 64497}\n"
		"  - {id: c, kind: exchange, router: 192.0.2.1, interface: 7,\n"
		"     peer_asn: 64498, peer_macs: ['02:00:00:00:00:cc']}\n"
		"  - {id: gone, kind: exchange, router: 192.0.2.1, interface: "
		"7,\n"
		"     peer_asn: 64499}\n";
	struct conn_registry *r = parse_ok(yaml, &cfg);
	const struct conn *c;
	const struct conn_port *p;
	const char *const *w;
	size_t n;

	(void)state;
	c = conn_registry_conns(r, &n);
	assert_int_equal(n, 3);
	assert_int_equal(c[0].n_addrs, 3);
	assert_true(conn_has_addr(&c[0], &a11));
	assert_true(conn_has_addr(&c[0], &a12));
	assert_true(conn_has_addr(&c[0], &b1));
	assert_int_equal(c[0].addr_from, CONN_FROM_IXF);
	assert_int_equal(c[0].n_macs, 2);
	assert_int_equal(c[0].mac_from, CONN_FROM_IXF);
	p = c[0].port;
	assert_ptr_equal(conn_port_by_mac(p, mac("02:00:00:00:00:b1")), &c[0]);
	assert_ptr_equal(conn_port_by_mac(p, mac("02:00:00:00:00:b2")), &c[0]);
	/* a hand-typed MAC wins; the address comes from the file */
	assert_int_equal(c[1].n_macs, 1);
	assert_int_equal(c[1].mac_from, CONN_FROM_CONFIG);
	assert_ptr_equal(conn_port_by_mac(p, mac("02:00:00:00:00:cc")), &c[1]);
	assert_null(conn_port_by_mac(p, mac("06:00:00:00:00:0c")));
	assert_int_equal(c[1].n_addrs, 1);
	assert_true(conn_has_addr(&c[1], &c6));
	/* deleted in PeeringDB, absent from IX-F: nothing, a warning */
	assert_int_equal(c[2].n_addrs, 0);
	assert_int_equal(c[2].n_macs, 0);
	w = conn_registry_warnings(r, &n);
	assert_int_equal(n, 1);
	assert_has(w[0], "connections[2] (gone)");
	conn_registry_free(r);

	/* PeeringDB alone: addresses, no MACs; ix_id selects */
	cfg = ix_cfg(NULL, PDB_EXAMPLE);
	r = parse_ok("connections:\n"
		     "  - {id: b, kind: exchange, router: 192.0.2.1, "
		     "interface: 7, peer_asn: 64497, ix_id: 999901}\n"
		     "  - {id: b2, kind: exchange, router: 192.0.2.1, "
		     "interface: 8, peer_asn: 64497, ix_id: 5}\n",
		     &cfg);
	c = conn_registry_conns(r, &n);
	assert_int_equal(c[0].n_addrs, 3);
	assert_int_equal(c[0].addr_from, CONN_FROM_PEERINGDB);
	assert_int_equal(c[0].n_macs, 0);
	assert_ptr_equal(conn_port_by_addr(c[0].port, &a12), &c[0]);
	assert_int_equal(c[1].n_addrs, 0);
	conn_registry_free(r);
}

/* A malformed IX file refuses the registry: path, pointer, reason. */
static void test_ixdata_refused(void **state)
{
	char path[] = "/tmp/test_registry_ixf_XXXXXX";
	int fd = mkstemp(path);
	const char *bad =
		"{\"version\": \"1.0\", \"ixp_list\": [{\"ixp_id\": 1}], "
		"\"member_list\": [{\"asnum\": 64496, \"connection_list\": "
		"[{\"ixp_id\": 1, \"vlan_list\": [{\"ipv4\": {\"address\": "
		"\"192.0.2.10\", \"mac_addresses\": "
		"[\"01:00:5e:00:00:01\"]}}]}]}]}";
	struct ps_config cfg;
	struct conn_registry *r = NULL;
	struct conn_registry_err err;
	const char *yaml = "connections:\n"
			   "  - {id: a, kind: exchange, router: 192.0.2.1, "
			   "interface: 7, peer_asn: 64496}\n";
	char want[600];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	config_init(&cfg);
	snprintf(cfg.ixf_member_export, sizeof(cfg.ixf_member_export), "%s",
		 path);
	assert_int_equal(conn_registry_parse("t.yaml", yaml, strlen(yaml), &cfg,
					     &r, &err),
			 -1);
	assert_null(r);
	snprintf(want, sizeof(want),
		 "%s: at \"/member_list/0/connection_list/0/vlan_list/0/ipv4/"
		 "mac_addresses/0\": mac:",
		 path);
	assert_has(err.text, want);
	unlink(path);
	snprintf(cfg.ixf_member_export, sizeof(cfg.ixf_member_export),
		 "/nonexistent/ixf.json");
	assert_int_equal(conn_registry_parse("t.yaml", yaml, strlen(yaml), &cfg,
					     &r, &err),
			 -1);
	assert_has(err.text, "/nonexistent/ixf.json: at \"\": io:");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_peering),
		cmocka_unit_test(test_no_connections),
		cmocka_unit_test(test_named),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_many_ports),
		cmocka_unit_test(test_ixdata_fill),
		cmocka_unit_test(test_ixdata_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
