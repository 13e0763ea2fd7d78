/*
 * new.c - create a migration in <migrations-dir>, in the layout of its format.
 * Touches no database; the file's name and template are migration/'s.
 */
#include "command/commands.h"
#include "command/run.h"
#include "common/error.h"
#include "common/log.h"
#include "migration/migration.h"

#include <stdlib.h>
#include <string.h>
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
    int error =
        dbm_migration_new_file(&path, cfg->migrations_dir, cfg->format, cfg->args[0], time(NULL));
    size_t n = path ? strlen(path) : 0;

    /* a name reduced by new holds no dot: only golang-migrate's up file ends so */
    if (error == 0 && n > 7 && strcmp(path + n - 7, ".up.sql") == 0)
        dbm_log("created %s and %.*s.down.sql", path, (int)(n - 7), path);
    else if (error == 0)
        dbm_log("created %s", path);
    free(path);
    return error;
}
