/*
 * command.h - the commands (DESIGN section 2): their table, and running one.
 *
 * A command is a function over the run's context: it fills the report and
 * returns 0 or an error code. A command that found a blocking problem returns
 * DBM_EBLOCKED with the problems as findings. Its row in the table (table.c)
 * says what is checked before it runs and what is done around it. main.c
 * finds the row of the command word, emits the report and turns the code
 * into the exit status; this module prints nothing of its own. Adding a
 * command: a file in src/command/, its function in command/commands.h, its
 * row in table.c.
 */
#ifndef DBM_COMMAND_H
#define DBM_COMMAND_H

#include "common/record.h"
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The run's context, shared by a command's steps (command/run.h, internal). */
typedef struct dbm_run_ctx dbm_run_ctx;

/* A row's flags. */
#define DBM_COMMAND_NO_REPORT  0x1 /* writes no report (summary, outputs, JSON) */
#define DBM_COMMAND_PR_COMMENT 0x2 /* with comment-on-pr, its summary goes to the pull request */
#define DBM_COMMAND_TERSE      0x4 /* its log tells a run that went well: no table on a terminal */
/* reads JSON reports, not a database: any number of arguments (FILE...), never a fleet's
 * run nor a remote one */
#define DBM_COMMAND_FILES 0x8
/* changes the database or its history: refused on pull_request* events unless
 * allow-apply-on-pull-request is true */
#define DBM_COMMAND_WRITES 0x10

typedef struct {
    const char *name;            /* the command word */
    int (*fn)(dbm_run_ctx *ctx); /* runs it */
    bool needs_db;               /* cannot run without a database: --offline is refused */
    const char *help;            /* its line in --help */
    const char *arg;             /* the argument it takes, as --help names it; NULL: none */
    const char *files; /* a glob of the files its arguments name, which the shell completions
                          offer (with directories); NULL: none */
    /* Checks of the configuration before anything runs (DBM_ECONFIG naming what is
     * missing), called with the row's name; NULL: none. */
    int (*check)(const dbm_config *cfg, const char *name);
    unsigned flags; /* DBM_COMMAND_* */
} dbm_command_row;

/* The table, in the order --help lists it. */
extern const dbm_command_row dbm_commands[];
extern const size_t dbm_ncommands;

/*
 * The row of the command word. DBM_ECONFIG ("unknown command 'x'", with a
 * hint listing the commands) when there is none.
 */
int dbm_command_find(const dbm_command_row **out, const char *word);

/*
 * Check the command line for `cmd`: no argument after the word beyond what
 * the row takes ("unexpected argument 'x'"), --exit-code only for status, a
 * command that writes (DBM_COMMAND_WRITES) not on a pull_request* event
 * unless allow-apply-on-pull-request, then the row's own check.
 * Returns 0 or DBM_ECONFIG.
 */
int dbm_command_check_args(const dbm_command_row *cmd, const dbm_config *cfg);

/* Write --help to out: the commands from the table, then the options (config.h). */
void dbm_command_usage(FILE *out);

/*
 * Write --version to out: db-migrate's version, then a line "NAME VERSION"
 * per library with the version the library reports at run time (libpq and
 * libcurl are loaded for it; one that cannot be is "NAME not loaded: why").
 */
void dbm_command_version(FILE *out);

/*
 * Write what --generate names to out, from the command and option tables:
 * "completion-bash", "completion-zsh" or "man" (docs.c). Returns 0, or
 * DBM_ECONFIG naming the accepted values.
 */
int dbm_command_generate(FILE *out, const char *what);

/*
 * Run `cmd` over cfg, filling report (both borrowed): refuses --offline when
 * it needs a database (after reading the files, whose problems come first),
 * and posts the pull-request comment when the row and comment-on-pr say so.
 * Returns the command's code, its message recorded (error.h).
 */
int dbm_command_run(const dbm_command_row *cmd, const dbm_config *cfg, dbm_report *report);

/*
 * Whether `cmd` runs on the config file's targets (DESIGN section 11): the
 * file lists targets, and the command reports on a database (not `new` or
 * `history`, nor a plan --offline).
 */
bool dbm_command_is_fleet(const dbm_command_row *cmd, const dbm_config *cfg);

/*
 * Run `cmd` on each target the `targets` option selects, `parallel` at once
 * (fleet.c), filling report with a row per target (failures first) and each
 * target's own record. Returns the worst target's code (an exit status of 2,
 * then 1, then 3, then 4), its message naming the targets that did not succeed;
 * DBM_ECONFIG before anything runs when a glob selects nothing, or when a
 * command other than apply, plan, status, dry-run and verify is given several
 * targets. With comment-on-pr, posts one comment for the fleet.
 */
int dbm_command_run_fleet(const dbm_command_row *cmd, const dbm_config *cfg, dbm_report *report);

#endif
