/*
 * migration.h - find, name, order, read and checksum migration files.
 *
 * A migration set is read whole from a directory in one of thirteen formats
 * (DESIGN section 4; the other tools' rules are those of
 * shared/corpora/apply-with-psql.sh). Reading does no SQL parsing: splitting
 * statements is sqlparse's job, running them is db's.
 *
 * Text is normalized on load: a leading UTF-8 BOM is dropped and CRLF becomes
 * LF, so the bytes hashed for the checksum are the bytes sent to the server,
 * and line numbers are unchanged. The other tools' own hashes (tool_hash) are
 * computed as each tool computes them, most of the file's bytes as they are.
 *
 * This is the header other folders include. Inside the folder, each format is
 * a row of one table (format.h) that a single loader (load.c) walks; read.h,
 * section.h and layout.h are the steps it uses. Those headers are internal.
 */
#ifndef DBM_MIGRATION_H
#define DBM_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef enum {
    DBM_FORMAT_AUTO = 0,
    DBM_FORMAT_NATIVE,
    DBM_FORMAT_GOLANG_MIGRATE,
    DBM_FORMAT_DBMATE,
    DBM_FORMAT_GOOSE,
    DBM_FORMAT_FLYWAY,
    DBM_FORMAT_DIESEL,
    DBM_FORMAT_PRISMA,
    DBM_FORMAT_SQLX,
    DBM_FORMAT_DRIZZLE,
    DBM_FORMAT_SUPABASE,
    DBM_FORMAT_ATLAS,
    DBM_FORMAT_SQITCH,
    DBM_FORMAT_GRAPHILE_MIGRATE
} dbm_format;

/* "native", "golang-migrate", ... Returns 0, or DBM_ECONFIG naming the accepted values. */
int dbm_format_parse(dbm_format *out, const char *name);
const char *dbm_format_name(dbm_format format);

/* The names dbm_format_parse takes, "auto" first, in dbm_format order; NULL-terminated. */
extern const char *const dbm_format_names[];

typedef struct {
    char *version; /* the key recorded in history: "20240101120000", "2.1" (Flyway),
                      "R__Jobs_view" (Flyway repeatable), the folder name (Prisma) */
    char *name;    /* human description, from the file or folder name */
    char *path;    /* the up file, relative to the migrations directory */
    char *up;      /* the up section, normalized; NUL-terminated */
    size_t up_len;
    int up_line; /* 1-based line of the file where `up` starts */
    char *down;  /* the down section or down file, NULL when there is none */
    size_t down_len;
    int down_line;
    char *down_path;      /* file holding the down section (may equal path), NULL if none */
    bool no_transaction;  /* a directive or metadata says: run outside a transaction */
    bool repeatable;      /* Flyway R__: after versioned ones, again when the checksum changes */
    long long tool_stamp; /* Drizzle: the journal entry's "when" (its history's created_at) */
    bool reset_session;   /* Supabase: the session's settings reset (RESET ALL) before it runs */
    char checksum[72];    /* "sha256:" + 64 hex digits of `up` */
    char *verify;         /* Sqitch: the verify script, run after the up; NULL when none */
    size_t verify_len;
    char *verify_path; /* relative to the migrations directory, NULL when none */
    char *tool_hash;   /* the other tool's own hash of the file, as its history records it,
                          computed as the tool does (of the bytes on disk, CRLF and BOM kept,
                          where the tool hashes those): Sqitch's script_hash, graphile-migrate's
                          "sha1:...", sqlx's SHA-384, Drizzle's SHA-256 (hex); for Prisma, the
                          SHA-256s it accepts (the file's, with CRLF as LF, with LF as CRLF),
                          space-separated; NULL when none */
    char *tool_id;     /* Sqitch: the change id (SHA-1 of the change's info text), as
                          <registry>.changes.change_id records it; NULL for other formats */
} dbm_migration;

typedef struct {
    dbm_migration *items; /* in apply order */
    size_t count;
    dbm_format format; /* the format used (resolved when AUTO was asked) */
    char *dir;
    /* The tool's own edit detection disagrees with the files (atlas.sum): what it says, for
     * plan and verify; NULL when it agrees or the tool has none. */
    char *tool_check;
} dbm_migration_set;

/*
 * Read every migration under `dir` in `format` (AUTO detects it; a directory
 * mixing layouts is DBM_ECONFIG naming two files of different layouts).
 * Errors: DBM_ECONFIG for a missing directory, two files with one version
 * (naming both), a file that is not valid UTF-8 (naming the line), a name the
 * format cannot parse where the format requires it; DBM_EGENERIC for I/O.
 * Files that are not migrations in the format (README, expected-schema.sql,
 * SOURCE.txt, down files) are skipped. An empty set is not an error.
 * A name with a control character (newline) is DBM_ECONFIG. Warnings (goose
 * .go files skipped, dbmate string order differing from numeric order) go
 * through dbm_warn. docs/formats.md has each format's rules.
 */
int dbm_migrations_load(dbm_migration_set **out, const char *dir, dbm_format format);
void dbm_migrations_free(dbm_migration_set *set);

/* A placeholder's value: graphile-migrate's :NAME. */
typedef struct {
    const char *name; /* with or without its leading ':' */
    const char *value;
} dbm_placeholder;

/*
 * graphile-migrate's placeholders, in the up sections of a graphile-migrate
 * set (other sets are left alone): every :NAME of `given` (db-migrate.yml's
 * placeholders:), or when none is given of the "placeholders" of a .gmrc in
 * the migrations directory or the one above it ("!ENV" takes the environment
 * variable NAME), then :DATABASE_NAME and :DATABASE_OWNER when `database`
 * and `owner` are not NULL, is replaced where a word boundary follows, the
 * first name in that order winning, as graphile-migrate does. Names not given
 * stay as written, so a second call can give the database's. Checksums stay
 * those of the files. Returns 0.
 */
int dbm_migrations_placeholders(dbm_migration_set *set, const dbm_placeholder *given, size_t n,
                                const char *database, const char *owner);

/* The migration with that version, or NULL. */
const dbm_migration *dbm_migrations_find(const dbm_migration_set *set, const char *version);

/*
 * Order two versions the way `format` orders them: <0, 0, >0. Native,
 * golang-migrate, goose: numbers of any length; dbmate, diesel: as strings
 * (diesel without dashes); Flyway: numeric dotted parts, repeatables after
 * all versioned; Prisma: bytewise.
 */
int dbm_version_cmp(dbm_format format, const char *a, const char *b);

/* Whether `hash` is one of the space-separated hashes of `list` (a tool_hash; NULL: none). */
bool dbm_tool_hash_lists(const char *list, const char *hash);

/* Checksum of section text as DESIGN section 4 defines it, into out[72]. */
void dbm_checksum(char out[72], const char *text, size_t len);

/*
 * `new NAME`: create a migration in `dir` in the layout of its migrations
 * read as `format` (AUTO: detected; an empty directory is native), with `now`
 * as the clock: <UTC yyyymmddHHMMSS>_<name>.sql with -- migrate:up/down
 * sections (native, dbmate), goose's -- +goose Up/Down, golang-migrate's
 * <v>_<name>.up.sql and .down.sql, Flyway's V<v>__<name>.sql; a directory
 * numbered in sequence gets the next number, as wide as the newest. Other
 * formats are DBM_ECONFIG naming the tool's own command. NAME is reduced to
 * [a-z0-9_]. Refuses to overwrite. *out_path (caller frees) is the (up) file
 * created. Errors of dbm_migrations_load too.
 */
int dbm_migration_new_file(char **out_path, const char *dir, dbm_format format, const char *name,
                           time_t now);

/*
 * Whether the file at `path` still holds exactly the template `new` writes:
 * created, never written. False when it differs or cannot be read.
 */
bool dbm_migration_is_new_template(const char *path);

#endif
