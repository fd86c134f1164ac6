/* kafka_stats.c - see kafka_stats.h. */
#include <limits.h>

#include <json-c/json.h>

#include "kafka_stats.h"

int kafka_stats_txmsgs(const char *json, size_t len, uint64_t *txmsgs)
{
	struct json_tokener *tok;
	struct json_object *root, *tx = NULL;
	int rc = -1;

	if (len > INT_MAX)
		return -1;
	tok = json_tokener_new();
	if (tok == NULL)
		return -1;
	root = json_tokener_parse_ex(tok, json, (int)len);
	if (root != NULL && json_object_object_get_ex(root, "txmsgs", &tx) &&
	    json_object_is_type(tx, json_type_int) &&
	    json_object_get_int64(tx) >= 0) {
		*txmsgs = (uint64_t)json_object_get_int64(tx);
		rc = 0;
	}
	json_object_put(root);
	json_tokener_free(tok);
	return rc;
}
