/* bmp_msg.c - see bmp_msg.h. */
#include <stdio.h>
#include <string.h>

#include "base/msgtype.h"
#include "bmp/bmp_msg.h"

static const char *const peer_type_names[] = { "global", "rd_instance",
					       "local_instance", "loc_rib" };

static const char *const down_reason_names[] = {
	"other",	     "local_notification", "local_no_notification",
	"remote_notification", "remote_no_data",     "deconfigured",
	"loc_rib_disabled",  "other",
};

const char *bmp_msg_down_reason_name(uint8_t reason)
{
	return down_reason_names[reason < 8 ? reason : 0];
}

void bmp_msg_ipv4_text(uint32_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255,
		 (v >> 8) & 255, v & 255);
}

static void distinguisher_text(const struct bmp_peer *p, char *buf,
			       size_t len)
{
	snprintf(buf, len, "%016llx", (unsigned long long)p->distinguisher);
}

void bmp_msg_session_key(const struct bmp_router *r, const struct bmp_peer *p,
			 char *key, size_t keylen)
{
	char addr[64], rd[20];

	ps_addr_format(&p->addr, addr, sizeof(addr));
	distinguisher_text(p, rd, sizeof(rd));
	snprintf(key, keylen, "%s|%u|%s|%s", r->name, p->peer_type, rd, addr);
}

void bmp_msg_peer_block(struct jbuf *j, const struct bmp_peer *p)
{
	char addr[64], rd[20], id[20];

	ps_addr_format(&p->addr, addr, sizeof(addr));
	distinguisher_text(p, rd, sizeof(rd));
	bmp_msg_ipv4_text(p->bgp_id, id, sizeof(id));
	json_obj_begin(j, "peer");
	json_str(j, "address", addr);
	json_str(j, "type", p->peer_type < 4 ? peer_type_names[p->peer_type] :
					       "unknown");
	json_str(j, "distinguisher", rd);
	json_u64(j, "asn", p->peer_as);
	json_str(j, "bgp_id", id);
	json_obj_end(j);
}

static void views_block(struct jbuf *j, const struct bmp_peer *p)
{
	json_obj_begin(j, "views");
	for (int v = 0; v < BMP_VIEW_COUNT; v++) {
		bool any = false;

		for (int a = 0; a < BGP_AFS_COUNT && !any; a++)
			any = p->routes[v][a] || p->counts[v][a].announced ||
			      p->counts[v][a].withdrawn || p->counts[v][a].eor;
		if (!any)
			continue;
		json_obj_begin(j, bmp_view_name((enum bmp_view)v));
		for (int a = 0; a < BGP_AFS_COUNT; a++) {
			const struct bmp_counts *c = &p->counts[v][a];

			if (!p->routes[v][a] && !c->announced &&
			    !c->withdrawn && !c->eor)
				continue;
			json_obj_begin(j, bgp_afs_name(a));
			json_u64(j, "routes", p->routes[v][a]);
			json_u64(j, "announced", c->announced);
			json_u64(j, "withdrawn", c->withdrawn);
			json_u64(j, "withdraw_of_unknown",
				 c->withdraw_of_unknown);
			json_u64(j, "end_of_rib", c->eor);
			json_obj_end(j);
		}
		json_obj_end(j);
	}
	json_obj_end(j);
}

static void down_block(struct jbuf *j, const struct bmp_peer *p)
{
	char num[8];

	if (p->downs == 0) {
		json_null(j, "down_reason");
	} else {
		json_obj_begin(j, "down_reason");
		json_u64(j, "code", p->last_reason);
		json_str(j, "name",
			 down_reason_names[p->last_reason < 8 ? p->last_reason :
								7]);
		if (p->last_has_notification) {
			json_obj_begin(j, "notification");
			json_u64(j, "code", p->notif_code);
			json_u64(j, "subcode", p->notif_subcode);
			json_obj_end(j);
		} else {
			json_null(j, "notification");
		}
		if (p->last_reason == BMP_DOWN_LOCAL_FSM)
			json_u64(j, "fsm_event", p->fsm_event);
		else
			json_null(j, "fsm_event");
		json_obj_end(j);
	}
	json_obj_begin(j, "downs_by_reason");
	for (unsigned i = 0; i < 8; i++) {
		if (p->down_by_reason[i] == 0)
			continue;
		snprintf(num, sizeof(num), "%u", i);
		json_u64(j, num, p->down_by_reason[i]);
	}
	json_obj_end(j);
}

void msg_bgp_session(struct jbuf *j, const struct bmp_router *r,
		     const struct bmp_peer *p, const char *event, char *key,
		     size_t keylen)
{
	const struct msg_info *mi = msg_info(MSG_BGP_SESSION);
	char num[8];
	uint64_t now = r->now_ns;

	bmp_msg_session_key(r, p, key, keylen);
	json_obj_begin(j, NULL);
	json_str(j, "type", mi->type);
	json_u64(j, "schema_version", mi->version);
	json_str(j, "event", event);
	json_str(j, "session_id", key);
	json_time(j, "time", now);
	json_str(j, "router", r->name);
	if (r->sys_name[0] != '\0')
		json_str(j, "sys_name", r->sys_name);
	else
		json_null(j, "sys_name");
	bmp_msg_peer_block(j, p);
	if (p->up_info[0] != '\0')
		json_str(j, "peer_up_info", p->up_info);
	else
		json_null(j, "peer_up_info");
	if (p->table_name[0] != '\0')
		json_str(j, "table_name", p->table_name);
	else
		json_null(j, "table_name");
	json_str(j, "state", bmp_state_name(p->state));
	if (p->last_change_ns != 0)
		json_time(j, "last_change", p->last_change_ns);
	else
		json_null(j, "last_change");
	if (p->state == BMP_STATE_UP && now >= p->up_since_ns)
		json_u64(j, "uptime_seconds",
			 (now - p->up_since_ns) / 1000000000ULL);
	else
		json_null(j, "uptime_seconds");
	json_u64(j, "ups", p->ups);
	json_u64(j, "downs", p->downs);
	json_u64(j, "flaps", p->flaps);
	down_block(j, p);
	views_block(j, p);
	json_obj_begin(j, "stats");
	json_u64(j, "reports", p->stats_reports);
	json_obj_begin(j, "last");
	for (unsigned i = 0; i < BMP_MAX_STAT_TYPES; i++) {
		char name[48];

		if (p->stat_seen & (1u << i)) {
			snprintf(num, sizeof(num), "%u", i);
			json_u64(j, num, p->stat_last[i]);
		}
		for (int a = 0; a < BGP_AFS_COUNT; a++) {
			if (!(p->stat_afs_seen[i] & (1u << a)))
				continue;
			snprintf(name, sizeof(name), "%u/%s", i,
				 bgp_afs_name(a));
			json_u64(j, name, p->stat_afs[i][a]);
		}
	}
	json_obj_end(j);
	json_obj_end(j);
	json_obj_begin(j, "messages");
	for (unsigned i = 0; i < BMP_TYPE_COUNT; i++)
		if (i != BMP_INITIATION && i != BMP_TERMINATION)
			json_u64(j, bmp_type_name(i), p->messages[i]);
	json_obj_end(j);
	json_obj_begin(j, "route_mirroring"); /* RFC 7854 §4.7 */
	json_u64(j, "bgp_messages", p->mirrored);
	json_u64(j, "errored_pdus", p->mirror_errored);
	json_u64(j, "messages_lost", p->mirror_lost);
	json_u64(j, "other_information", p->mirror_info_other);
	json_obj_end(j);
	json_obj_end(j);
}
