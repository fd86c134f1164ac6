/*
 * registry_int.h - the registry's insides, shared by registry.c (lookups,
 * memory) and registry_build.c (the file into a registry).  Not for
 * other modules: they use registry.h.
 */
#ifndef PEERSCOPE_CONN_REGISTRY_INT_H
#define PEERSCOPE_CONN_REGISTRY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/macaddr.h"
#include "peerscope/addr.h"

/* registry.h's types, named without including it (no module cycle) */
struct conn;
struct conn_port;

struct conn_registry {
	struct conn *conns;
	uint32_t n_conns;
	const struct conn **by_id; /* sorted by id */
	struct conn_port *ports;
	uint32_t n_ports;
	/* (router address, ifIndex) -> port: open addressing, UINT32_MAX
	 * = empty, at most half full */
	uint32_t *slots;
	uint32_t slot_mask; /* 0: no numeric port */
	uint32_t *named;    /* ports written with a sysName or an ifname */
	uint32_t n_named;
	const char **warn;
	uint32_t n_warn;
	/* every allocation, freed together */
	void **allocs;
	size_t n_allocs, cap_allocs;
	size_t mem;
};

/* n * size zeroed bytes owned by r, or NULL. */
void *reg_alloc(struct conn_registry *r, size_t n, size_t size);
char *reg_strdup(struct conn_registry *r, const char *s);
/* A warning line; -1 when out of memory. */
__attribute__((format(printf, 2, 3))) int reg_warn(struct conn_registry *r,
						   const char *fmt, ...);

uint64_t reg_port_hash(const struct ps_addr *a, uint32_t ifindex);
uint64_t reg_mac_key(const uint8_t mac[MACADDR_LEN]);
int reg_addr_cmp(const struct ps_addr *a, const struct ps_addr *b);

#endif /* PEERSCOPE_CONN_REGISTRY_INT_H */
