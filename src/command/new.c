/*
 * new.c - create <migrations-dir>/<UTC timestamp>_NAME.sql from a template.
 * Touches no database; the file's name and template are migration/'s.
 */
#include "command/commands.h"
#include "command/run.h"
#include "common/error.h"
#include "common/log.h"
#include "migration/migration.h"

#include <stdlib.h>
#include <time.h>

int dbm_cmd_new_check(const dbm_config *cfg, const char *name)
{
    int error;

    if (cfg->args[0])
        return 0;
    error = dbm_error_set(DBM_ECONFIG, "'%s' needs a name", name);
    dbm_error_hint("run: db-migrate new add_users_table");
    return error;
}

int dbm_cmd_new(dbm_run_ctx *ctx)
{
    const dbm_config *cfg = ctx->cfg;
    char *path = NULL;
    int error = dbm_migration_new_file(&path, cfg->migrations_dir, cfg->args[0], time(NULL));
    if (error == 0)
        dbm_log("created %s", path);
    free(path);
    return error;
}
