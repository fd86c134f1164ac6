/*
 * registry.h - the connection registry: the configured direct and exchange
 * connections (the `connections:` list of the configuration file), their
 * ports, and the lookups the hot path uses to attribute a sample.
 * docs/connections.md is the user's description.
 *
 * The configuration contract (issue 11; these names are used by consumers):
 *
 *   connections:
 *     - id: ams-ix-ms          # unique, [A-Za-z0-9._:-], 1..63 bytes;
 *                              # becomes connection_id and the Kafka key
 *       kind: exchange         # direct | exchange
 *       router: 192.0.2.1      # export address (sFlow agent / IPFIX
 *                              # exporter), or the router's BMP sysName
 *       interface: 17          # ifIndex (1..2^32-1), or the name
 *       peer_asn: 8075         # 1..4294967295
 *       peer_addresses: ["80.249.208.1", "2001:7f8:1::a500:8075:1"]
 *       peer_macs: ["00:11:22:33:44:55"]   # exchange: the peer's MACs
 *       capacity: 100G         # bits/s, decimal suffixes k M G T
 *       labels: {site: ams}    # copied into every message
 *       probe: true            # actively probe peer_addresses (issue 12)
 *       ix_id: 26              # optional: the PeeringDB ix id whose
 *                              # entries in ixf_member_export /
 *                              # peeringdb_netixlan fill peer_addresses /
 *                              # peer_macs from peer_asn
 *
 * A port is one (router, interface).  A direct connection takes its whole
 * port; an exchange port carries one or more exchange connections (its
 * peers), told apart by MAC or by session address.  Refused, naming the
 * file and line of both claims: an id given twice, a port claimed by two
 * direct connections or by a direct and an exchange connection, one MAC
 * or one peer address in two connections on one port.  A router or an
 * interface peerscope has not heard of is not an error (it may appear
 * later): the caller warns when it stays unseen.
 *
 * Memory: a registry is built once (start-up, SIGHUP) and is immutable
 * afterwards; conn_registry_memory() says what it takes.
 *
 * @thread built by the main thread (conn_registry_load), then read-only:
 * any thread may read it while it is published (see docs/architecture.md,
 * epochs).  @locks none.
 */
#ifndef PEERSCOPE_CONN_REGISTRY_H
#define PEERSCOPE_CONN_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config_types.h"
#include "base/macaddr.h"
#include "peerscope/addr.h"
#include "peerscope/limits.h"

#define CONN_ID_MAX	     64 /* id: at most 63 bytes */
#define CONN_NAME_MAX	     64 /* router sysName, interface name */
#define CONN_LABEL_NAME_MAX  64
#define CONN_LABEL_VALUE_MAX 256
#define CONN_ERR_MAX	     512

enum conn_kind {
	CONN_DISCOVERED = 0, /* not configured: traffic seen on a port */
	CONN_DIRECT = 1,
	CONN_EXCHANGE = 2,
};

/* "direct", "exchange", "discovered": the message field `kind`. */
const char *conn_kind_name(enum conn_kind kind);

struct conn_label {
	const char *name, *value;
};

/* Where a connection's peer addresses and MACs came from. */
#define CONN_FROM_CONFIG    0x01
#define CONN_FROM_IXF	    0x02 /* ixf_member_export */
#define CONN_FROM_PEERINGDB 0x04 /* peeringdb_netixlan */

struct conn_port;

/* One configured connection. */
struct conn {
	uint32_t index; /* 0 .. count-1, in file order: a stable slot */
	enum conn_kind kind;
	char id[CONN_ID_MAX];
	char router[CONN_NAME_MAX]; /* as written */
	struct ps_addr router_addr; /* af 0: `router` is a sysName */
	uint32_t ifindex;	    /* 0: by name */
	char ifname[CONN_NAME_MAX]; /* "": by ifIndex */
	uint32_t peer_asn;	    /* 0: not given */
	uint32_t ix_id;		    /* IX data: the PeeringDB ix id of
					its IX; 0: not given */
	uint64_t capacity_bps;	    /* 0: not given (use ifSpeed) */
	bool probe;
	uint8_t addr_from, mac_from; /* CONN_FROM_* */
	uint32_t n_addrs, n_macs, n_labels;
	const struct ps_addr *addrs;
	const uint8_t (*macs)[MACADDR_LEN];
	const struct conn_label *labels; /* in file order */
	const struct conn_port *port;
	uint32_t line; /* of its `- id:` item in the file */
};

/* A MAC or an address of a port, and the connection it belongs to. */
struct conn_mac_ref {
	uint64_t mac; /* the 6 bytes, big-endian, in the low 48 bits */
	const struct conn *conn;
};
struct conn_addr_ref {
	struct ps_addr addr;
	const struct conn *conn;
};

/* One (router, interface) that has configured connections. */
struct conn_port {
	uint32_t index;		    /* 0 .. ports-1 */
	enum conn_kind kind;	    /* CONN_DIRECT or CONN_EXCHANGE */
	struct ps_addr router_addr; /* af 0: by sysName */
	char router[CONN_NAME_MAX];
	uint32_t ifindex; /* 0: by name */
	char ifname[CONN_NAME_MAX];
	uint32_t n_conns;
	const struct conn *const *conns; /* direct: exactly one */
	/* exchange: sorted, for the lookups below */
	uint32_t n_macs, n_addrs;
	const struct conn_mac_ref *macs;
	const struct conn_addr_ref *addrs;
};

struct conn_registry;

/* Where the registry comes from: the configuration file's text. */
struct conn_registry_err {
	char text[CONN_ERR_MAX]; /* "FILE:LINE: connections[2].id: ..." */
};

/*
 * Build a registry from the configuration `cfg` (its file, cfg->path, for
 * `connections:`; the IX data files it names).  An empty path or a file
 * without `connections:` gives an empty registry.  0 with *out set (the
 * caller's, conn_registry_free), or -1 with err filled and *out untouched:
 * a caller that already runs a registry keeps it.
 */
int conn_registry_load(const struct ps_config *cfg, struct conn_registry **out,
		       struct conn_registry_err *err);

/* The same from YAML text (len bytes), named `name` in messages. */
int conn_registry_parse(const char *name, const char *text, size_t len,
			const struct ps_config *cfg, struct conn_registry **out,
			struct conn_registry_err *err);

void conn_registry_free(struct conn_registry *r);

/* Connections in file order (index i is conn_registry_conns()[i]). */
const struct conn *conn_registry_conns(const struct conn_registry *r,
				       size_t *n);
const struct conn_port *conn_registry_ports(const struct conn_registry *r,
					    size_t *n);

/* The connection with this id, or NULL. */
const struct conn *conn_registry_find_id(const struct conn_registry *r,
					 const char *id);

/*
 * The hot path: the port of (exporter address, ifIndex), or NULL when no
 * connection claims it (the traffic is discovered).  A hash lookup.
 */
const struct conn_port *conn_registry_port(const struct conn_registry *r,
					   const struct ps_addr *router,
					   uint32_t ifindex);

/*
 * Ports written with a router sysName or an interface name: `sysname`
 * (NULL: none known for this exporter) and `ifname` (NULL: none) are
 * tried with the exporter address and the ifIndex.  Slower (a scan of
 * the named ports); conn_registry_has_names() says whether any exist.
 */
const struct conn_port *conn_registry_port_named(const struct conn_registry *r,
						 const struct ps_addr *router,
						 const char *sysname,
						 uint32_t ifindex,
						 const char *ifname);
bool conn_registry_has_names(const struct conn_registry *r);

/* On an exchange port: the connection of a peer MAC / address, or NULL. */
const struct conn *conn_port_by_mac(const struct conn_port *p,
				    const uint8_t mac[MACADDR_LEN]);
const struct conn *conn_port_by_addr(const struct conn_port *p,
				     const struct ps_addr *addr);

/* Whether `addr` is one of c's peer addresses. */
bool conn_has_addr(const struct conn *c, const struct ps_addr *addr);

/*
 * Things worth a warning that did not refuse the file ("FILE:LINE:
 * connections[3]: exchange connection with no peer_macs or
 * peer_addresses: all its port's traffic is unattributed"), one a line.
 */
const char *const *conn_registry_warnings(const struct conn_registry *r,
					  size_t *n);

/* Bytes the registry holds (structs, arrays, strings, indexes). */
size_t conn_registry_memory(const struct conn_registry *r);

/* Parse "100G", "2.5G", "400M", "10000000": bits/s; 0, or -1. */
int conn_parse_capacity(const char *text, uint64_t *bps);

#endif /* PEERSCOPE_CONN_REGISTRY_H */
