/* replay_ports.c - replay's per-port accounting.  See replay_ports.h. */
#include <stdlib.h>
#include <string.h>

#include "base/htab.h"
#include "run/replay_ports.h"

#define OTHER_PORTS 2 /* the transport value of the shared entry */

/* Reasons a port's traffic goes unused (a row each in the entry): a
 * decoder's (recognise.h) or replay's own events. */
static const unsigned unused_reasons[] = {
	DEC_CAPTURE_UDP_UNRECOGNISED_VERSION,
	DEC_CAPTURE_UDP_UNRECOGNISED_HEADER,
	DEC_CAPTURE_UDP_UNRECOGNISED_STRUCTURE,
	DEC_CAPTURE_UDP_OVER_CAP,
	DEC_CAPTURE_TCP_UNRECOGNISED,
	DEC_CAPTURE_TCP_RESYNC_ABANDONED,
	DEC_BMP_CONN_CAPPED,
};
#define UNUSED_REASONS (sizeof(unused_reasons) / sizeof(unused_reasons[0]))

struct port_key {
	uint16_t port;
	uint8_t transport; /* enum replay_transport, or OTHER_PORTS */
	uint8_t pad;
};

struct port_use {
	struct port_key key;
	const char *by; /* configuration key that forced it, or NULL */
	uint64_t used[RECOGNISE_PROTO_COUNT];
	uint64_t used_bytes;
	uint64_t unused[UNUSED_REASONS];
	uint64_t unused_n, unused_bytes;
	uint64_t resyncs, skipped_bytes;
};

struct replay_ports {
	struct htab tab;
};

struct replay_ports *replay_ports_new(void)
{
	struct replay_ports *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	/* one more than the ports kept apart: the shared entry */
	if (htab_init(&t->tab, sizeof(struct port_key), sizeof(struct port_use),
		      REPLAY_PORTS_MAX + 1) == -1) {
		free(t);
		return NULL;
	}
	return t;
}

void replay_ports_free(struct replay_ports *t)
{
	if (t == NULL)
		return;
	htab_fini(&t->tab);
	free(t);
}

static struct port_use *entry(struct replay_ports *t, enum replay_transport tr,
			      uint16_t port)
{
	struct port_key k = { .port = port, .transport = (uint8_t)tr };
	struct port_use *u = htab_find(&t->tab, &k);
	bool created;

	if (u != NULL)
		return u;
	if (t->tab.count >= REPLAY_PORTS_MAX)
		k = (struct port_key){ .transport = OTHER_PORTS };
	return htab_insert(&t->tab, &k, &created);
}

void replay_ports_used(struct replay_ports *t, enum replay_transport tr,
		       uint16_t port, enum recognise_proto proto,
		       const char *by, uint64_t n, uint64_t bytes)
{
	struct port_use *u = entry(t, tr, port);

	if (u == NULL || (unsigned)proto >= RECOGNISE_PROTO_COUNT)
		return;
	u->used[proto] += n;
	u->used_bytes += bytes;
	if (by != NULL)
		u->by = by;
}

void replay_ports_unused(struct replay_ports *t, enum replay_transport tr,
			 uint16_t port, unsigned why, uint64_t n,
			 uint64_t bytes)
{
	struct port_use *u = entry(t, tr, port);

	if (u == NULL)
		return;
	for (unsigned i = 0; i < UNUSED_REASONS; i++)
		if (unused_reasons[i] == why)
			u->unused[i] += n;
	u->unused_n += n;
	u->unused_bytes += bytes;
}

void replay_ports_resync(struct replay_ports *t, uint16_t port, uint64_t bytes)
{
	struct port_use *u = entry(t, REPLAY_TCP, port);

	if (u == NULL)
		return;
	u->resyncs++;
	u->skipped_bytes += bytes;
}

static bool is_used(const struct port_use *u)
{
	for (unsigned p = 0; p < RECOGNISE_PROTO_COUNT; p++)
		if (u->used[p] != 0)
			return true;
	return false;
}

void replay_ports_totals(const struct replay_ports *t, uint64_t *used,
			 uint64_t *unused)
{
	const struct port_use *u;
	uint32_t pos = 0;

	*used = 0;
	*unused = 0;
	while ((u = htab_next(&t->tab, &pos)) != NULL) {
		for (unsigned p = 0; p < RECOGNISE_PROTO_COUNT; p++)
			*used += u->used[p];
		*unused += u->unused_n;
	}
}

static const char *transport_name(uint8_t tr)
{
	return tr == REPLAY_UDP ? "udp" : tr == REPLAY_TCP ? "tcp" : "any";
}

static const char *unit_name(uint8_t tr)
{
	return tr == REPLAY_UDP ? "datagrams" : "streams";
}

static void print_entry(const struct port_use *u, FILE *out)
{
	const char *unit = unit_name(u->key.transport);

	if (u->key.transport == OTHER_PORTS)
		fprintf(out, "summary: other ports:");
	else
		fprintf(out, "summary: port %u/%s:", u->key.port,
			transport_name(u->key.transport));
	for (unsigned p = 1; p < RECOGNISE_PROTO_COUNT; p++)
		if (u->used[p] != 0)
			fprintf(out, " %s %s=%llu", recognise_proto_name(p),
				unit, (unsigned long long)u->used[p]);
	if (u->used[RECOGNISE_NONE] != 0)
		fprintf(out, " unrecognised %s=%llu", unit,
			(unsigned long long)u->used[RECOGNISE_NONE]);
	if (is_used(u)) {
		fprintf(out, " bytes=%llu", (unsigned long long)u->used_bytes);
		if (u->resyncs != 0)
			fprintf(out, " resynchronised=%llu skipped_bytes=%llu",
				(unsigned long long)u->resyncs,
				(unsigned long long)u->skipped_bytes);
		fprintf(out, " (by %s)", u->by != NULL ? u->by : "content");
	}
	if (u->unused_n != 0) {
		fprintf(out, "%snot used %s=%llu bytes=%llu:",
			is_used(u) ? "; " : " ", unit,
			(unsigned long long)u->unused_n,
			(unsigned long long)u->unused_bytes);
		for (unsigned i = 0; i < UNUSED_REASONS; i++)
			if (u->unused[i] != 0)
				fprintf(out, " %s=%llu",
					dec_reason_name(unused_reasons[i]),
					(unsigned long long)u->unused[i]);
	}
	fputc('\n', out);
}

static int by_port(const void *a, const void *b)
{
	const struct port_use *x = *(const struct port_use *const *)a;
	const struct port_use *y = *(const struct port_use *const *)b;

	if (x->key.transport != y->key.transport)
		return x->key.transport < y->key.transport ? -1 : 1;
	return x->key.port < y->key.port ? -1 : x->key.port > y->key.port;
}

/* The most bytes not used first: a stream outweighs a stray datagram. */
static int by_unused_desc(const void *a, const void *b)
{
	const struct port_use *x = *(const struct port_use *const *)a;
	const struct port_use *y = *(const struct port_use *const *)b;

	if (x->unused_bytes != y->unused_bytes)
		return x->unused_bytes > y->unused_bytes ? -1 : 1;
	return by_port(a, b);
}

/* The entries, used ones first (by port), then the rest (most bytes
 * not used first). */
static const struct port_use **sorted(const struct replay_ports *t,
				      uint32_t *n_used, uint32_t *n_all)
{
	const struct port_use **v = calloc(t->tab.count + 1, sizeof(*v));
	const struct port_use *u;
	uint32_t pos = 0, used = 0, all = 0;

	if (v == NULL)
		return NULL;
	while ((u = htab_next(&t->tab, &pos)) != NULL)
		if (is_used(u))
			v[used++] = u;
	all = used;
	pos = 0;
	while ((u = htab_next(&t->tab, &pos)) != NULL)
		if (!is_used(u))
			v[all++] = u;
	qsort(v, used, sizeof(*v), by_port);
	qsort(v + used, all - used, sizeof(*v), by_unused_desc);
	*n_used = used;
	*n_all = all;
	return v;
}

void replay_ports_summary(const struct replay_ports *t, FILE *out)
{
	const struct port_use **v;
	uint32_t used, all, shown;
	uint64_t rest_n[2] = { 0, 0 }, rest_bytes = 0;

	if (t == NULL || (v = sorted(t, &used, &all)) == NULL)
		return;
	shown = used + REPLAY_PORTS_SUMMARY_UNUSED < all ?
			used + REPLAY_PORTS_SUMMARY_UNUSED :
			all;
	for (uint32_t i = 0; i < shown; i++)
		print_entry(v[i], out);
	for (uint32_t i = shown; i < all; i++) {
		rest_n[v[i]->key.transport == REPLAY_UDP ? 0 : 1] +=
			v[i]->unused_n;
		rest_bytes += v[i]->unused_bytes;
	}
	if (shown < all)
		fprintf(out,
			"summary: %u more ports not used: datagrams=%llu "
			"streams=%llu bytes=%llu (all in --stats)\n",
			all - shown, (unsigned long long)rest_n[0],
			(unsigned long long)rest_n[1],
			(unsigned long long)rest_bytes);
	free(v);
}

static void json_entry(const struct port_use *u, struct jbuf *j)
{
	json_obj_begin(j, NULL);
	json_str(j, "transport", transport_name(u->key.transport));
	if (u->key.transport == OTHER_PORTS)
		json_null(j, "port");
	else
		json_u64(j, "port", u->key.port);
	json_str(j, "unit", unit_name(u->key.transport));
	json_obj_begin(j, "decoded");
	for (unsigned p = 0; p < RECOGNISE_PROTO_COUNT; p++)
		if (u->used[p] != 0)
			json_u64(j,
				 p == RECOGNISE_NONE ? "unrecognised" :
						       recognise_proto_name(p),
				 u->used[p]);
	json_obj_end(j);
	json_u64(j, "decoded_bytes", u->used_bytes);
	if (!is_used(u))
		json_null(j, "by");
	else
		json_str(j, "by", u->by != NULL ? u->by : "content");
	json_u64(j, "resynchronised", u->resyncs);
	json_u64(j, "skipped_bytes", u->skipped_bytes);
	json_obj_begin(j, "not_used");
	for (unsigned i = 0; i < UNUSED_REASONS; i++)
		if (u->unused[i] != 0)
			json_u64(j, dec_reason_name(unused_reasons[i]),
				 u->unused[i]);
	json_obj_end(j);
	json_u64(j, "not_used_bytes", u->unused_bytes);
	json_obj_end(j);
}

void replay_ports_json(const struct replay_ports *t, struct jbuf *j)
{
	const struct port_use **v;
	uint32_t used, all;

	if (t == NULL || (v = sorted(t, &used, &all)) == NULL)
		return;
	json_arr_begin(j, "ports");
	for (uint32_t i = 0; i < all; i++)
		json_entry(v[i], j);
	json_arr_end(j);
	free(v);
}
