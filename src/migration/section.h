/*
 * section.h - what a migration file's text says (internal to src/migration):
 * its up and down sections, its run-outside-a-transaction directives, and the
 * key=value files some formats keep beside a migration for that setting.
 *
 * Each format's marker lines are a mig_sections value that the formats table
 * (format.h) names; text is split at those lines without parsing SQL
 * (splitting statements is sqlparse's job).
 */
#ifndef DBM_MIGRATION_SECTION_H
#define DBM_MIGRATION_SECTION_H

#include "migration/migration.h"

#include <stdbool.h>
#include <stddef.h>

/* What one line of text is to a format's sections. */
typedef enum { MIG_MARK_NONE, MIG_MARK_UP, MIG_MARK_DOWN, MIG_MARK_NO_TX } mig_mark;

/* How a format marks sections inside a file. */
typedef struct {
    /*
     * Which marker the line [line, line + n) is. An option on the up line that
     * says "no transaction" sets *tx_false; tx_false may be NULL.
     */
    mig_mark (*mark)(const char *line, size_t n, bool *tx_false);
    const char *up_marker; /* the line that starts the up section, as messages show it */
    bool up_optional;      /* without an up marker, the text before any down marker is up */
    bool no_tx_directive;  /* a MIG_MARK_NO_TX line means: run outside a transaction */
} mig_sections;

extern const mig_sections mig_sections_native; /* dbmate's markers, optional; no-transaction */
extern const mig_sections mig_sections_dbmate; /* "-- migrate:up" / "-- migrate:down" */
extern const mig_sections mig_sections_goose;  /* "-- +goose Up" / "Down" / "NO TRANSACTION" */

/*
 * Split `s` into m->up and m->down (each a copy, with its first line number)
 * at the first up and first down marker, and set m->no_transaction from the
 * directives. A down section sets m->down_path to a copy of m->path, which
 * must be set. Returns 0, or DBM_ENOTFOUND (nothing set, no message) when the
 * up marker is required and missing.
 */
int mig_sections_split(dbm_migration *m, const char *s, size_t len, const mig_sections *syntax);

/* *text = a copy of s[start, end), *tlen its length, *line the line where it starts. */
void mig_set_section(char **text, size_t *tlen, int *line, const char *s, size_t start, size_t end);

/* Whether s[0, n) is only whitespace. */
bool mig_blank(const char *s, size_t n);

/* What a flat file's text says about its format, for auto-detection. */
typedef struct {
    bool goose_up;   /* a "-- +goose Up" line */
    bool migrate_up; /* a "-- migrate:up" line */
} mig_flat_traits;

mig_flat_traits mig_scan_traits(const char *s, size_t len);

/*
 * Whether a key=value text sets `key` (or `alias`, which may be NULL) to false,
 * the value compared without case; the last setting wins. '#' starts a
 * comment. With `toml`, keys count only before the first [table] header.
 * `text` is modified (split into lines).
 */
bool mig_config_false(char *text, const char *key, const char *alias, bool toml);

#endif
