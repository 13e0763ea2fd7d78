/*
 * json.h - Jansson helpers shared by the JSON log lines and the JSON report.
 */
#ifndef DBM_JSON_H
#define DBM_JSON_H

#include <jansson.h>

/*
 * A new JSON string for `s`: JSON null when s is NULL; text that is not valid
 * UTF-8 has its bytes from 0x80 up replaced by '?', so nothing is dropped.
 * The caller owns the reference (json_decref).
 */
json_t *dbm_json_text(const char *s);

/* The linked Jansson's version ("2.14"), for --version. Static. */
const char *dbm_json_library_version(void);

#endif
