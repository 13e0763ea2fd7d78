/*
 * format.h - the formats table (internal to src/migration): one row per
 * format saying how its migrations are named and found, how a version and a
 * name are read from a file or folder name, how the text is split, where a
 * run-outside-a-transaction setting lives and how versions are ordered. One
 * loader (load.c) walks a row; auto-detection (detect.c) picks one.
 *
 * Adding a format is a row in format.c, plus a hook where the row's data is
 * not enough: a version syntax (name.c), a section syntax (section.h), an
 * `order` function for a format ordered by a file of its own, `other` for
 * entries it refuses or warns about, `check` for warnings about the loaded
 * set. A new shape of name is a layout (layout.h) and a line in detect.c.
 */
#ifndef DBM_MIGRATION_FORMAT_H
#define DBM_MIGRATION_FORMAT_H

#include "migration/layout.h"
#include "migration/migration.h"
#include "migration/section.h"

#include <stdbool.h>
#include <stddef.h>

/* A migration being loaded, and the tie-breaker ordering needs that the migration does not carry.
 */
typedef struct {
    dbm_migration m;
    const char *sort_name; /* the entry's name, borrowed from the entry list */
} mig_item;

typedef struct {
    mig_item *items;
    size_t count;
    size_t cap;
    char *tool_check; /* set by a row's `order`: the tool's own edit detection disagrees */
} mig_item_list;

/* What an entry of a format's layout is to the format. */
typedef enum {
    MIG_ROLE_NONE = 0,   /* not one of its migrations */
    MIG_ROLE_UP,         /* a migration (its up) */
    MIG_ROLE_REPEATABLE, /* a migration run again when it changes (Flyway R__) */
    MIG_ROLE_DOWN        /* the down of the migration with the same version */
} mig_role;

typedef struct mig_format mig_format;

/*
 * A version syntax: how a format reads an entry's name. `version` and `name`
 * are called only for an entry `role` gave a role; `name` only for an up or
 * a repeatable. Both return a string the caller frees.
 */
typedef struct {
    mig_role (*role)(const mig_format *f, const char *entry);
    char *(*version)(const mig_format *f, const char *entry);
    char *(*name)(const mig_format *f, const char *entry);
} mig_syntax;

extern const mig_syntax mig_syntax_digits; /* <digits>_<name><up>, <digits>_<name><down> */
extern const mig_syntax mig_syntax_flyway; /* V<ver>__<desc>, R__<desc>, U<ver>__<desc> */
extern const mig_syntax mig_syntax_folder; /* the folder name; name after its first '_' */
extern const mig_syntax mig_syntax_diesel; /* the folder name up to '_', without dashes */

/* A key=value file beside a migration whose key, set to false, runs it outside a transaction. */
typedef struct {
    const char *suffix; /* appended to the entry name: ".conf", "/metadata.toml"; NULL: none */
    const char *key;
    const char *alias; /* another spelling of the key, or NULL */
    bool toml;         /* the key counts only before the first [table] */
} mig_tx_file;

struct mig_format {
    dbm_format format;
    const char *name;   /* as configured: "golang-migrate" */
    mig_layout layout;  /* the entries that hold its migrations */
    mig_layout also;    /* a second layout it reads (sqlx: simple and .up/.down files), or NONE */
    bool all_sql;       /* every *.sql file is a migration, whatever its layout (Atlas, Drizzle) */
    const char *marker; /* a file whose presence makes auto-detection pick it, or NULL */
    bool folders;       /* one folder per migration; else one file (or an up/down pair) */
    const char *up;     /* files: the suffix of an up's name; folders: the up file's name */
    const char *down;   /* files: the suffix of a down's name; folders: the down file's; or NULL */
    const mig_syntax *syntax;     /* version syntax */
    const mig_sections *sections; /* sections and directives in the text; NULL: all of it is up */
    mig_tx_file tx;               /* the transaction setting beside a migration */
    int (*cmp)(const char *a, const char *b); /* version order: <0, 0, >0 */
    /*
     * Put the loaded items in apply order, which must agree with `cmp` (sets
     * are searched by version). NULL: sort by `cmp`, then by entry name.
     */
    int (*order)(mig_item_list *items, const mig_format *f, int dfd, const char *dir);
    /* Called for each entry outside `layout`: 0 to skip it (perhaps warning), or an error. */
    int (*other)(const mig_entry *e, const char *dir);
    /* Called once the set is loaded and ordered: warnings about it. */
    void (*check)(const mig_item_list *items);
    /* Called for each migration read, with its entry's text: directives the sections miss. */
    int (*each)(dbm_migration *m, const mig_entry *e, const char *dir);
    /*
     * A format kept in files of its own (sqitch.plan, committed/): reads the
     * migrations from the directory itself, in apply order, in place of the
     * layout walk (then `order`, `other` and `each` are unused). NULL: the walk.
     */
    int (*load)(mig_item_list *items, const mig_format *f, int dfd, const char *dir);
    /*
     * The tool's own hash of a migration's up file from its bytes as they are on disk, for
     * dbm_migration.tool_hash (tool_hash.c); caller frees. NULL: the tool records none, or the
     * row's `load` sets it.
     */
    char *(*tool_hash)(const char *raw, size_t len);
    /* Auto-detection ahead of layouts: whether the listed directory is this format's. */
    bool (*claims)(const mig_entry_list *list, int dfd);
};

/* Version orders the rows share: numbers of any length; dbmate's (file name) order; bytes. */
int mig_cmp_native(const char *a, const char *b);
int mig_cmp_dbmate(const char *a, const char *b);
int mig_cmp_bytes(const char *a, const char *b);

/* Sort items by `f->cmp`, then by entry name (the default order). */
void mig_items_sort(mig_item_list *items, const mig_format *f);

/* Free what item i holds, and drop it from the list (later items move up). */
void mig_item_drop(mig_item_list *items, size_t i);

/* The rows' own parts, one file per format (format_<name>.c). */
extern const mig_syntax mig_syntax_sqlx;
int mig_sqlx_each(dbm_migration *m, const mig_entry *e, const char *dir);
int mig_sqlx_other(const mig_entry *e, const char *dir);
extern const mig_syntax mig_syntax_drizzle;
int mig_drizzle_order(mig_item_list *items, const mig_format *f, int dfd, const char *dir);
int mig_supabase_order(mig_item_list *items, const mig_format *f, int dfd, const char *dir);
int mig_supabase_other(const mig_entry *e, const char *dir);
extern const mig_syntax mig_syntax_atlas;
int mig_atlas_each(dbm_migration *m, const mig_entry *e, const char *dir);
int mig_atlas_order(mig_item_list *items, const mig_format *f, int dfd, const char *dir);

/* Rows with their own files (format_sqitch.c, format_graphile.c): load and claims hooks. */
int mig_sqitch_load(mig_item_list *items, const mig_format *f, int dfd, const char *dir);
bool mig_sqitch_claims(const mig_entry_list *list, int dfd);
int mig_graphile_load(mig_item_list *items, const mig_format *f, int dfd, const char *dir);
bool mig_graphile_claims(const mig_entry_list *list, int dfd);

/* The other tools' hashes of a file's bytes (tool_hash.c): sqlx's SHA-384, Drizzle's SHA-256,
 * and Prisma's three accepted SHA-256s (the file's, CRLF as LF, LF as CRLF), space-separated. */
char *mig_tool_hash_sqlx(const char *raw, size_t len);
char *mig_tool_hash_drizzle(const char *raw, size_t len);
char *mig_tool_hash_prisma(const char *raw, size_t len);

/* A new item of `items` (zeroed); its sort name is set to its path once that is known. */
dbm_migration *mig_item_add(mig_item_list *items);

/* The first row whose `claims` hook takes the listed directory, or NULL. */
const mig_format *mig_format_claiming(const mig_entry_list *list, int dfd);

/* The row of `format`, or NULL for DBM_FORMAT_AUTO and values that are no format. */
const mig_format *mig_format_of(dbm_format format);

/* The row at index `i`, NULL past the last: for walking every format (tests, fuzzing). */
const mig_format *mig_format_at(size_t i);

/* The first row, in table order, whose migrations are in `layout`; NULL if none. */
const mig_format *mig_format_of_layout(mig_layout layout);

/*
 * The format of the directory listed in `list`: the one layout its entries
 * have, and for flat files their text (goose's annotations, or native).
 * Errors: DBM_ECONFIG naming two entries of different layouts, or a goose
 * and a dbmate file; those of mig_entry_text for the flat files it reads.
 */
int mig_format_detect(dbm_format *out, mig_entry_list *list, int dfd, const char *dir);

#endif
