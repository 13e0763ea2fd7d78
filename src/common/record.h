/*
 * record.h - what a run did: a plain record that every layer fills in as it goes.
 *
 * The commands, the PostgreSQL session (statement results, locks, rewrites,
 * errors), the git checks and the adoption of other tools' history write into
 * a dbm_report; report/ renders it and decides nothing. It sits in common/
 * because every layer below report/ writes it. Strings in it are owned by the
 * record (the add/set functions copy what they are given). Text that came from
 * files or the server is kept raw: it is escaped where it is written.
 */
#ifndef DBM_RECORD_H
#define DBM_RECORD_H

#include "common/log.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    DBM_MIG_PENDING = 0,
    DBM_MIG_APPLIED,
    DBM_MIG_FAILED,
    DBM_MIG_SKIPPED,
    DBM_MIG_EDITED,
    DBM_MIG_MISSING,
    DBM_MIG_ROLLED_BACK /* this run undid it (rollback): pending again */
} dbm_mig_status;

const char *dbm_mig_status_name(dbm_mig_status status);

typedef struct {
    char *relation;
    char *mode; /* "AccessExclusiveLock", ... as pg_locks says */
    /* Dry-run: the transaction held this lock already, taken by an earlier migration of
     * the same dry-run, so pg_locks could not show it; the mode is the one PostgreSQL's
     * documentation gives the statement (it runs alone in production and takes it). */
    bool held_earlier;
} dbm_lock;

typedef struct {
    char *relation;
    long long bytes;
} dbm_rewrite;

typedef struct {
    int line; /* line in the migration file */
    char *tag;
    double duration_ms;
    dbm_lock *locks;
    size_t nlocks, caplocks;
    dbm_rewrite *rewrites;
    size_t nrewrites, caprewrites;
    char *note; /* e.g. "not executed: runs outside a transaction" */
    char *sql;  /* one-line excerpt of the statement (dbm_excerpt), or NULL */
} dbm_stmt_result;

/* The session another one waited for: the holder of a lock it could not get. */
typedef struct {
    int pid;
    char *application; /* application_name, "" when unset */
    char *state;       /* pg_stat_activity.state: "active", "idle in transaction", ... */
    char *query;       /* a one-line excerpt of its current or last query */
    long long age_s;   /* how long its transaction (else its session) has been open */
} dbm_blocker;

/* Free b's strings (not b). Accepts NULL. */
void dbm_blocker_clear(dbm_blocker *b);

/* b as one line: "pid 123 (application 'x', idle in transaction for 12 s): QUERY". Caller frees. */
char *dbm_blocker_describe(const dbm_blocker *b);

typedef struct {
    char *message;
    char *sqlstate; /* NULL when the error did not come from the server */
    char *detail, *hint;
    char *file;
    int line, column;     /* in the file; 0 when unknown */
    char *context;        /* a few lines of SQL around the failing line, with line numbers */
    dbm_blocker *blocker; /* a lock timeout: the session that held the lock, when seen */
} dbm_error_info;

typedef struct {
    char *version, *name, *file;
    dbm_mig_status status;
    double duration_ms;
    bool transactional;
    int statement_count;
    dbm_stmt_result *stmts;
    size_t nstmts, capstmts;
    dbm_error_info *error; /* NULL unless failed */
    char *note;            /* one line: why skipped, where it resumed, ... */
    char *diff;            /* unified diff of an edited deployed migration */
    char *changed_by;      /* commit that changed an edited/deleted deployed migration */
    /* Not this run's change: applied by an earlier run, or (a plan of a pull request
     * without a database) already on the base branch. Reports show these as history. */
    bool earlier;
    char *applied_at; /* when an earlier run applied it (ISO 8601, UTC), or NULL */
    char *excerpt;    /* its statements, one excerpt a line (dbm_excerpt), or NULL */
    /* Recorded as failed by an earlier run and not finished (apply resumes it); pending. */
    bool failed_before;
} dbm_mig_result;

typedef enum { DBM_SEV_NOTICE = 0, DBM_SEV_WARNING, DBM_SEV_ERROR } dbm_severity;

typedef struct {
    dbm_severity severity;
    char *rule; /* e.g. "edited-applied", "require-concurrent-index" */
    char *file; /* path as shown to users (relative to the workspace); may be NULL */
    int line, col;
    char *message;
    char *hint;   /* the safe alternative / what to do; may be NULL */
    char *status; /* rules confirmed by dry-run: "confirmed", "refuted"; else NULL */
} dbm_finding;

typedef struct {
    char *kind; /* added, modified, deleted, renamed */
    char *path, *old_path;
    char *commit;
} dbm_git_change_info;

struct dbm_report;

/*
 * One target of a fleet (DESIGN section 11): its outcome and counts, and the
 * full record of its own run.
 */
typedef struct {
    char *name, *group; /* group NULL when none */
    char *outcome;      /* its report's status, or unreachable, locked, error, skipped */
    int exit_code;      /* what the run alone would have exited with (DESIGN section 7) */
    int applied_count, pending_count;
    double duration_ms;
    char *error;               /* one line, or NULL */
    struct dbm_report *detail; /* the target's own record; NULL when it was not run */
    /* Its place in the fleet's order (dbm_report_fleet_close): its stage's index in stages:
     * (the count of stages when none names its group), and its position in targets:. Both
     * are the config file's, so the shards of one fleet agree on them. */
    size_t stage, position;
} dbm_target_result;

typedef struct dbm_report {
    char *command;  /* "apply", "plan", ... */
    char *status;   /* applied, up-to-date, pending, failed, blocked, rolled-back */
    char *database; /* user@host:port/dbname, never a password; NULL offline */
    char *migrations_dir;
    char *migrations_digest; /* migration/digest.h's digest of the files read, or NULL */
    char *format;
    struct {
        char *head, *deployed, *base; /* shas; base is the PR base for plans on pull requests */
        char *compare_url;
        dbm_git_change_info *changes;
        size_t nchanges, capchanges;
    } git;
    dbm_mig_result *migs;
    size_t nmigs, capmigs;
    dbm_finding *findings;
    size_t nfindings, capfindings;
    int applied_count, pending_count;
    int rolled_back_count; /* migrations this run undid (rollback); never counted as applied */
    /* Stopped before a deadline (the Lambda runtime's) with migrations left to apply: the
     * run is to be continued (the Lambda response's "continue"). */
    bool incomplete;
    double duration_ms;
    char *error;   /* the run's error when it ended in one (one line), else NULL */
    int exit_code; /* the run's exit status (DESIGN section 7), set when it ends */
    /* A fleet's run: a row per target, in the order they are shown (failures first). */
    dbm_target_result *targets;
    size_t ntargets, captargets;
    int parallel; /* how many targets ran at once; >= 1 in a fleet's record, even without targets */
    /* A shard's run (shard: I/N): index I and count N. A merge of shards' reports: the count N
     * (index 0) and the shards it holds, so that the ones missing are told. All 0 otherwise. */
    struct {
        long index, count;
        long *merged;
        size_t nmerged, capmerged;
    } shard;
    /* A fleet's run: the targets its selection took before a shard took its share (the most
     * any of the merged reports tells); 0 when not known. */
    size_t targets_selected;
    /* The drift between the targets, as report/ computes it from the rows above: built by
     * the first rendering that needs it and kept for the others (drift_free set once it is
     * built, drift then possibly NULL). dbm_report_fleet_close and dbm_report_add_target
     * drop it; dbm_report_free frees it with drift_free. */
    void *drift;
    void (*drift_free)(void *drift);
} dbm_report;

dbm_report *dbm_report_new(const char *command);
void dbm_report_free(dbm_report *r); /* accepts NULL */

/* Append a target's row (name and group copied); valid until the next add. */
dbm_target_result *dbm_report_add_target(dbm_report *r, const char *name, const char *group);

/* Free and forget r's kept drift (r->drift): the rows it was read from are changing. */
void dbm_report_drop_drift(dbm_report *r);

/*
 * A fleet's record, shared by a fleet's run (command/fleet.c) and the merge of
 * its shards' reports (command/report.c), so that both tell a fleet alike.
 */

/*
 * How bad a target's exit status is, for the fleet's exit status and the
 * order of its rows: stopped by a signal (6), then usage or configuration
 * (5: nothing there is right), then a failed migration or blocking problem
 * (4: a person must look), then cannot connect (3), then the run lock (2:
 * another run is at work), then done (0). A target not started ranks 1.
 */
int dbm_fleet_rank(int exit_status);

/* The outcome a target ended with, from its exit status and its own report's status
 * (NULL when it has none): that status, or error, unreachable, locked, cancelled, blocked,
 * failed. Borrowed. */
const char *dbm_target_outcome(int exit_status, const char *status);

/*
 * Close a fleet's record once its rows are added: put them in order (the
 * worst rank first, then by stage, position and name), sum their applied
 * and pending counts into r's, and set r->status (the worst failure, else
 * applied, pending or up-to-date); a drift kept from before is dropped.
 * Returns DBM_OK, or the code of the worst target's exit status with the
 * message "N of M targets did not succeed: NAME (OUTCOME), ..." recorded
 * (common/error.h).
 */
int dbm_report_fleet_close(dbm_report *r);

/* Whether r is a fleet's record: rows of targets, or a fleet's run that holds none (a shard
 * of a fleet whose share is empty). */
bool dbm_report_is_fleet(const dbm_report *r);

/*
 * The shards a merge of shards' reports lacks: the indices from 1 to
 * r->shard.count that r->shard.merged does not hold, written to out (at most
 * max of them; out may be NULL with max 0). Returns how many there are.
 */
size_t dbm_report_shards_missing(const dbm_report *r, long *out, size_t max);

/* Set a string field of the report, copying value (NULL clears). */
void dbm_report_set(char **field, const char *value);

/* Append a migration row; the returned pointer is valid until the next add. */
dbm_mig_result *dbm_report_add_migration(dbm_report *r, const char *version, const char *name,
                                         const char *file, dbm_mig_status status);
/* The row for `version` if one exists (its status set to `status`), else a new row. */
dbm_mig_result *dbm_report_migration(dbm_report *r, const char *version, const char *name,
                                     const char *file, dbm_mig_status status);
dbm_stmt_result *dbm_report_add_stmt(dbm_mig_result *m, int line, const char *tag);
void dbm_report_add_lock(dbm_stmt_result *s, const char *relation, const char *mode);
/* A lock the statement takes that an earlier migration of the dry-run held already. */
void dbm_report_add_lock_held(dbm_stmt_result *s, const char *relation, const char *mode);
void dbm_report_add_rewrite(dbm_stmt_result *s, const char *relation, long long bytes);
dbm_error_info *dbm_report_set_error(dbm_mig_result *m, const char *message, const char *sqlstate);

dbm_finding *dbm_report_add_finding(dbm_report *r, dbm_severity severity, const char *rule,
                                    const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
dbm_git_change_info *dbm_report_add_git_change(dbm_report *r, const char *kind, const char *path,
                                               const char *old_path, const char *commit);

/*
 * A one-line excerpt of `len` bytes of SQL: whitespace runs (newlines too) become
 * one space, control characters a space, and text past `max` bytes is cut at a
 * character boundary and ends with "…". Caller frees.
 */
char *dbm_excerpt(const char *sql, size_t len, size_t max);

/* True when a finding of severity error exists. */
bool dbm_report_has_blocking(const dbm_report *r);

/*
 * The blocking problems, as every count of them says: the files with a
 * finding of severity error (however many checks found it), and each such
 * finding about no file.
 */
size_t dbm_report_blocking_count(const dbm_report *r);

#endif
