/*
 * node.h - internal to src/sql/: small readers over libpg_query's JSON nodes.
 *
 * libpg_query omits fields that are false, 0 or NULL, so an absent member
 * reads as false or NULL here. Shared by the statement tags and flags
 * (tags.c, classify.c) and the rules (rules*.c); nothing outside src/sql/
 * includes this header.
 */
#ifndef DBM_SQL_NODE_H
#define DBM_SQL_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <string.h>

/* The string member `key` of a node, or NULL. */
static inline const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Whether the string member `key` is `want`. */
static inline bool jstr_is(const json_t *obj, const char *key, const char *want)
{
    const char *v = jstr(obj, key);
    return v && strcmp(v, want) == 0;
}

/* The boolean member `key` (absent: false). */
static inline bool jbool(const json_t *obj, const char *key)
{
    return json_is_true(json_object_get(obj, key));
}

#endif
