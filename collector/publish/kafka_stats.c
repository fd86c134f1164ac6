/* kafka_stats.c - see kafka_stats.h. */
#include <limits.h>
#include <string.h>

#include <json-c/json.h>

#include "publish/kafka_stats.h"

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * librdkafka lists every broker it knows with its connection state (INIT,
 * DOWN, CONNECT, ..., UP): the bootstrap entries, the learned ones, and an
 * internal pseudo-broker ("source": "internal") that never connects.
 */
static void count_brokers(struct json_object *root, struct kafka_stats *out)
{
	struct json_object *brokers = NULL;

	if (!json_object_object_get_ex(root, "brokers", &brokers) ||
	    !json_object_is_type(brokers, json_type_object))
		return;
	json_object_object_foreach(brokers, name, b)
	{
		const char *source, *state;

		(void)name;
		if (!json_object_is_type(b, json_type_object))
			continue;
		source = str_of(b, "source");
		state = str_of(b, "state");
		if (source != NULL && strcmp(source, "internal") == 0)
			continue;
		out->brokers++;
		if (state != NULL && strcmp(state, "UP") == 0)
			out->brokers_up++;
	}
}

int kafka_stats_parse(const char *json, size_t len, struct kafka_stats *out)
{
	struct json_tokener *tok;
	struct json_object *root, *tx = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len > INT_MAX)
		return -1;
	tok = json_tokener_new();
	if (tok == NULL)
		return -1;
	root = json_tokener_parse_ex(tok, json, (int)len);
	if (root != NULL && json_object_is_type(root, json_type_object)) {
		if (json_object_object_get_ex(root, "txmsgs", &tx) &&
		    json_object_is_type(tx, json_type_int) &&
		    json_object_get_int64(tx) >= 0) {
			out->txmsgs = (uint64_t)json_object_get_int64(tx);
			out->has_txmsgs = true;
		}
		count_brokers(root, out);
		rc = 0;
	}
	json_object_put(root);
	json_tokener_free(tok);
	return rc;
}
