/*
 * json.c - Jansson helpers shared by the JSON log lines and the JSON report.
 */
#include "common/json.h"
#include "common/util.h"

#include <stdlib.h>

json_t *dbm_json_text(const char *s)
{
    json_t *j;

    if (!s)
        return json_null();
    j = json_string(s);
    if (!j) {
        char *copy = dbm_xstrdup(s);
        for (char *p = copy; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
        j = json_string(copy);
        free(copy);
    }
    return j ? j : json_null();
}

const char *dbm_json_library_version(void)
{
    return jansson_version_str();
}
