/*
 * layout.h - the migrations directory as entries (internal to src/migration):
 * listed once, sorted by name, each classified by the layout its name (and,
 * for a folder, the files in it) belongs to, and flat files read ahead on two
 * threads.
 *
 * A layout is a shape of name, shared by formats that name files alike
 * (native, dbmate and goose are all LAYOUT_FLAT); which format reads which
 * layout, and how, is the formats table's (format.h).
 */
#ifndef DBM_MIGRATION_LAYOUT_H
#define DBM_MIGRATION_LAYOUT_H

#include "common/error.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    MIG_LAYOUT_NONE = 0,
    MIG_LAYOUT_FLAT,     /* <digits>_<name>.sql: native, dbmate or goose */
    MIG_LAYOUT_GOOSE_GO, /* <digits>_<name>.go: goose */
    MIG_LAYOUT_GOLANG,   /* <digits>_<name>.up.sql / .down.sql */
    MIG_LAYOUT_FLYWAY,   /* V<ver>__<desc>.sql, R__<desc>.sql, U<ver>__<desc>.sql */
    MIG_LAYOUT_DIESEL,   /* <folder>/up.sql */
    MIG_LAYOUT_PRISMA,   /* <folder>/migration.sql */
    MIG_LAYOUT_COUNT
} mig_layout;

/* "native/dbmate/goose", "golang-migrate", ...: the formats that use a layout, for messages. */
const char *mig_layout_name(mig_layout layout);

/* The file a folder of `layout` is recognized by ("up.sql"), or NULL for a file layout. */
const char *mig_layout_folder_file(mig_layout layout);

typedef struct {
    char *name; /* entry name in the directory */
    mig_layout kind;
    bool is_dir;
    bool read;  /* text below is loaded */
    char *text; /* normalized text of the file (of a folder: of its up file) */
    size_t len;
    dbm_saved_error read_error; /* read ahead and failed: raised when the entry is loaded */
} mig_entry;

typedef struct {
    mig_entry *items; /* sorted by name */
    size_t count;
    size_t cap;
    char *unreadable; /* the first name of a migration's shape that is no file (or NULL) */
    const char *why;  /* what it is instead */
} mig_entry_list;

/*
 * List `dir`: hidden entries skipped, symlinks followed, sorted by name, each
 * classified, and files of a migration layout read ahead (a failure is kept
 * in the entry for mig_entry_text to raise). *out_dfd (caller closes) is the
 * open directory the entries are relative to. On error the list may hold
 * entries: free it with mig_entry_list_free. Errors: DBM_ECONFIG when `dir`
 * does not exist or an entry named like a migration file is not one that can
 * be read (a dangling symlink, a symlink loop, a FIFO...: skipping it would
 * apply the others and run it out of order once repaired), DBM_EGENERIC for
 * I/O.
 */
int mig_layout_list(mig_entry_list *out, int *out_dfd, const char *dir);
void mig_entry_list_free(mig_entry_list *list);

/*
 * Read an entry's text into it, once: the file itself when `rel` is NULL,
 * else the file `rel` (relative to the directory), for a folder's up file.
 * Errors: DBM_ECONFIG naming an entry whose name holds a control character
 * or is not UTF-8;
 * then those of mig_read_text, or the one saved when reading ahead.
 */
int mig_entry_text(mig_entry *e, const char *rel, int dfd, const char *dir);

/*
 * DBM_ECONFIG: the name `name` in `dir` holds a control character (shown as
 * '?') or is not valid UTF-8 (bytes shown as \xNN).
 */
int mig_bad_name(const char *dir, const char *name);

/* True when a name holds a control character or is not valid UTF-8. */
bool mig_name_unusable(const char *s);

/* Whether `rel` (relative to the directory `dfd`, symlinks followed) is a regular file. */
bool mig_exists_at(int dfd, const char *rel);

/* How many digits `s` starts with. */
size_t mig_leading_digits(const char *s);

/* Whether s[0, n) ends with `suffix`. */
bool mig_ends_with(const char *s, size_t n, const char *suffix);

/*
 * A Flyway version after the V or U: up to the first "__", starting with a
 * digit, of digits, dots and underscores. *ver_len (may be NULL) is its length.
 */
bool mig_flyway_version(const char *s, size_t *ver_len);

#endif
