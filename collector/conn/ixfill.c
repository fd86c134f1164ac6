/* ixfill.c - exchange connections filled from IX data; see ixfill.h. */
#include "conn/ixfill.h"

#include <stdio.h>
#include <string.h>

#include "conn/ixdata.h"
#include "conn/registry_int.h"

static bool file_named(const char *path)
{
	return path[0] && strcmp(path, "-") != 0;
}

static int load(enum ixdata_format f, const char *path, struct ixdata **t,
		struct conn_registry_err *err)
{
	struct ixdata_err e;

	*t = NULL;
	if (!file_named(path))
		return 0;
	if (ixdata_load(f, path, t, &e) == 0)
		return 0;
	ixdata_err_format(&e, err->text, sizeof(err->text));
	return -1;
}

/* The entries of c's ASN on its IX: *n of them from *first, or a warning. */
struct pick {
	const struct ixdata_entry *e[64]; /* entries of one ASN kept */
	size_t n;
};

static int pick_entries(struct conn_registry *r, const struct ixdata *t,
			const struct conn *c, const char *name,
			const char *file, struct pick *out)
{
	const struct ixdata_entry *first;
	size_t n = ixdata_find_asn(t, c->peer_asn, &first);
	uint32_t ix = c->ix_id;

	out->n = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t eix = first[i].peeringdb_ix_id;

		if (ix && eix != ix)
			continue;
		if (!ix && out->n && eix != out->e[0]->peeringdb_ix_id) {
			out->n = 0;
			return reg_warn(r,
					"%s:%u: connections[%u] (%s): AS%u is "
					"on several IXes in %s: give ix_id "
					"(the PeeringDB ix id); nothing "
					"filled from it",
					name, c->line, c->index, c->id,
					c->peer_asn, file);
		}
		if (out->n < sizeof(out->e) / sizeof(out->e[0]))
			out->e[out->n++] = &first[i];
	}
	return 0;
}

static int fill_addrs(struct conn_registry *r, struct conn *c,
		      const struct pick *p, uint8_t from)
{
	struct ps_addr tmp[CONN_MAX_PEER_ADDRESSES], *out;
	uint32_t k = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct ps_addr *a[2] = { &p->e[i]->ipv4, &p->e[i]->ipv6 };

		for (int j = 0; j < 2; j++) {
			bool dup = false;

			if (a[j]->af == 0 || k == CONN_MAX_PEER_ADDRESSES)
				continue;
			for (uint32_t x = 0; x < k; x++)
				dup |= reg_addr_cmp(&tmp[x], a[j]) == 0;
			if (!dup)
				tmp[k++] = *a[j];
		}
	}
	if (k == 0)
		return 0;
	out = reg_alloc(r, k, sizeof(*out));
	if (out == NULL)
		return -1;
	memcpy(out, tmp, k * sizeof(*out));
	c->addrs = out;
	c->n_addrs = k;
	c->addr_from = from;
	return 0;
}

static int fill_macs(struct conn_registry *r, struct conn *c,
		     const struct pick *p)
{
	uint8_t tmp[CONN_MAX_PEER_MACS][MACADDR_LEN];
	uint8_t(*out)[MACADDR_LEN];
	uint32_t k = 0;

	for (size_t i = 0; i < p->n; i++)
		for (uint8_t m = 0; m < p->e[i]->n_macs; m++) {
			bool dup = false;

			for (uint32_t x = 0; x < k; x++)
				dup |= memcmp(tmp[x], p->e[i]->macs[m],
					      MACADDR_LEN) == 0;
			if (!dup && k < CONN_MAX_PEER_MACS)
				memcpy(tmp[k++], p->e[i]->macs[m], MACADDR_LEN);
		}
	if (k == 0)
		return 0;
	out = reg_alloc(r, k, sizeof(*out));
	if (out == NULL)
		return -1;
	memcpy(out, tmp, k * sizeof(*out));
	c->macs = (const uint8_t(*)[MACADDR_LEN])out;
	c->n_macs = k;
	c->mac_from = CONN_FROM_IXF;
	return 0;
}

static int fill_one(struct conn_registry *r, struct conn *c,
		    const struct ixdata *ixf, const struct ixdata *pdb,
		    const struct ps_config *cfg, const char *name)
{
	struct pick p;

	if (ixf) {
		if (pick_entries(r, ixf, c, name, cfg->ixf_member_export, &p) ==
		    -1)
			return -1;
		if (c->n_addrs == 0 &&
		    fill_addrs(r, c, &p, CONN_FROM_IXF) == -1)
			return -1;
		if (c->n_macs == 0 && fill_macs(r, c, &p) == -1)
			return -1;
	}
	if (pdb && c->n_addrs == 0) {
		if (pick_entries(r, pdb, c, name, cfg->peeringdb_netixlan,
				 &p) == -1)
			return -1;
		if (fill_addrs(r, c, &p, CONN_FROM_PEERINGDB) == -1)
			return -1;
	}
	return 0;
}

int conn_ixfill(struct conn_registry *r, const struct ps_config *cfg,
		const char *name, struct conn_registry_err *err)
{
	struct ixdata *ixf = NULL, *pdb = NULL;
	int rc = 0;

	if (cfg == NULL)
		return 0;
	if (load(IXDATA_IXF, cfg->ixf_member_export, &ixf, err) == -1 ||
	    load(IXDATA_PEERINGDB, cfg->peeringdb_netixlan, &pdb, err) == -1) {
		ixdata_free(ixf);
		return -1;
	}
	for (uint32_t i = 0; rc == 0 && i < r->n_conns && (ixf || pdb); i++) {
		struct conn *c = &r->conns[i];

		if (c->kind != CONN_EXCHANGE || c->peer_asn == 0 ||
		    (c->n_addrs && c->n_macs))
			continue;
		rc = fill_one(r, c, ixf, pdb, cfg, name);
	}
	if (rc == -1)
		snprintf(err->text, sizeof(err->text), "%s: out of memory",
			 name);
	ixdata_free(ixf);
	ixdata_free(pdb);
	return rc;
}
