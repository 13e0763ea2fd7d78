/*
 * version.c - --version: db-migrate's version, then each library's version as
 * the library itself reports it at run time (not the headers it was built
 * with), so a report says what actually ran.
 */
#include "command/command.h"
#include "common/error.h"
#include "common/json.h"
#include "common/util.h"
#include "config_file.h"
#include "git/diff.h"
#include "net/aws.h"
#include "net/http.h"
#include "net/tunnel.h"
#include "postgres/pq.h"
#include "sql/parse.h"

#include <stdlib.h>

/* PQlibVersion's number as PostgreSQL writes versions: 150010 is 15.10, 90624 is 9.6.24. */
static char *pq_version_text(int v)
{
    if (v >= 100000)
        return dbm_xasprintf("%d.%d", v / 10000, v % 10000);
    return dbm_xasprintf("%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
}

/* libpq and libcurl are loaded on first use: a library that cannot be says why. */
static void put_loaded(FILE *out, const char *name, char *version)
{
    if (version)
        fprintf(out, "%s %s\n", name, version);
    else
        fprintf(out, "%s not loaded: %s\n", name, dbm_error_message());
    free(version);
    dbm_error_clear();
}

void dbm_command_version(FILE *out)
{
    int pq = dbm_pq_library_version();

    fprintf(out, "db-migrate %s\n", DBM_VERSION);
    put_loaded(out, "libpq", pq > 0 ? pq_version_text(pq) : NULL);
    put_loaded(out, "libgit2", dbm_git_library_version());
    put_loaded(out, "libcurl", dbm_http_library_version());
    fprintf(out, "Jansson %s\n", dbm_json_library_version());
    fprintf(out, "libpg_query %s (PostgreSQL's parser)\n", dbm_sql_parser_version());
    fprintf(out, "libssh2 %s\n", dbm_tunnel_library_version());
    fprintf(out, "libyaml %s\n", dbm_config_file_library_version());
    fprintf(out, "expat %s\n", dbm_aws_xml_library_version());
    fprintf(out, "OpenSSL %s\n", dbm_openssl_version());
}
