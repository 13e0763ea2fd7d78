/*
 * The one loader: a format's row of the formats table (format.h) applied to
 * the listed directory, in passes that are each linear. List the entries once
 * (layout.c), read every up migration of the format in name order (so the
 * first bad file in name order is the one named), put them in apply order,
 * attach the down files by version, and move the result into the set.
 */
#include "migration/migration.h"
#include "common/error.h"
#include "common/util.h"
#include "migration/format.h"
#include "migration/layout.h"
#include "migration/read.h"
#include "migration/section.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static dbm_migration *add_item(mig_item_list *items, const char *sort_name)
{
    mig_item *it;

    dbm_array_grow((void **)&items->items, &items->cap, items->count + 1, sizeof(mig_item));
    it = &items->items[items->count++];
    it->sort_name = sort_name;
    return &it->m;
}

dbm_migration *mig_item_add(mig_item_list *items)
{
    dbm_migration *m = add_item(items, "");
    memset(m, 0, sizeof(*m));
    return m;
}

static void migration_clear(dbm_migration *m)
{
    free(m->version);
    free(m->name);
    free(m->path);
    free(m->up);
    free(m->down);
    free(m->down_path);
    free(m->verify);
    free(m->verify_path);
    free(m->tool_hash);
    free(m->tool_id);
    memset(m, 0, sizeof(*m));
}

/*
 * Whether the entry holds one of f's migrations: a file of f's layout, or a
 * folder with f's up file in it (a folder of another folder layout may hold
 * both files).
 */
static bool holds_migration(const mig_format *f, const mig_entry *e, int dfd)
{
    char *rel;
    bool found;

    if (!f->folders) {
        if (f->all_sql)
            return !e->is_dir && mig_ends_with(e->name, strlen(e->name), ".sql");
        return !e->is_dir && (e->kind == f->layout || (f->also && e->kind == f->also));
    }
    if (!e->is_dir || e->kind == MIG_LAYOUT_NONE)
        return false;
    if (e->kind == f->layout)
        return true;
    rel = dbm_xasprintf("%s/%s", e->name, f->up);
    found = mig_exists_at(dfd, rel);
    free(rel);
    return found;
}

static int no_up_marker(const char *dir, const char *name, const char *what)
{
    int rc = dbm_error_set(DBM_ECONFIG, "'%s/%s' has no '%s' line", dir, name, what);
    dbm_error_hint("the up section starts after a '%s' line", what);
    return rc;
}

/* m's sections from the entry's text: split at the row's markers, or all of it the up. */
static int set_sections(dbm_migration *m, const mig_format *f, const mig_entry *e, const char *dir)
{
    if (f->sections && mig_sections_split(m, e->text, e->len, f->sections) == 0)
        return 0;
    /* the markers are missing: an error, unless there is nothing to run */
    if (f->sections && !mig_blank(e->text, e->len))
        return no_up_marker(dir, e->name, f->sections->up_marker);
    mig_set_section(&m->up, &m->up_len, &m->up_line, e->text, 0, e->len);
    return 0;
}

/* A folder format's down file, when the folder holds one. */
static int read_down_file(dbm_migration *m, const mig_format *f, const mig_entry *e, int dfd,
                          const char *dir)
{
    char *rel, *text = NULL;
    size_t len;
    int rc;

    if (!f->folders || !f->down)
        return 0;
    rel = dbm_xasprintf("%s/%s", e->name, f->down);
    rc = mig_read_text(&text, &len, dfd, dir, rel, true);
    if (rc < 0) {
        free(rel);
        return rc == DBM_ENOTFOUND ? 0 : rc;
    }
    m->down = text;
    m->down_len = len;
    m->down_line = 1;
    m->down_path = rel;
    return 0;
}

/* The row's transaction setting beside the migration, when that file exists. */
static int read_tx_file(dbm_migration *m, const mig_format *f, const mig_entry *e, int dfd,
                        const char *dir)
{
    char *rel, *text = NULL;
    size_t len;
    int rc;

    if (!f->tx.suffix)
        return 0;
    rel = dbm_xasprintf("%s%s", e->name, f->tx.suffix);
    rc = mig_read_text(&text, &len, dfd, dir, rel, true);
    free(rel);
    if (rc < 0)
        return rc == DBM_ENOTFOUND ? 0 : rc;
    if (mig_config_false(text, f->tx.key, f->tx.alias, f->tx.toml))
        m->no_transaction = true;
    free(text);
    return 0;
}

/* One migration of f from the entry, which the row's syntax says is an up or a repeatable. */
static int load_up(mig_item_list *items, const mig_format *f, mig_entry *e, mig_role role, int dfd,
                   const char *dir)
{
    char *up_rel = f->folders ? dbm_xasprintf("%s/%s", e->name, f->up) : NULL;
    dbm_migration *m;
    int rc = mig_entry_text(e, up_rel, dfd, dir);

    if (rc < 0) {
        free(up_rel);
        return rc;
    }
    m = add_item(items, e->name);
    m->version = f->syntax->version(f, e->name);
    m->name = f->syntax->name(f, e->name);
    m->path = up_rel ? up_rel : dbm_xstrdup(e->name);
    m->repeatable = role == MIG_ROLE_REPEATABLE;
    if ((rc = set_sections(m, f, e, dir)) < 0)
        return rc;
    if ((rc = read_down_file(m, f, e, dfd, dir)) < 0)
        return rc;
    if (f->each && (rc = f->each(m, e, dir)) < 0)
        return rc;
    if (f->tool_hash) { /* the tool hashes the file's bytes, not the normalized text */
        char *raw = NULL;
        size_t raw_len = 0;
        if ((rc = mig_read_raw(&raw, &raw_len, dfd, dir, m->path)) < 0)
            return rc;
        m->tool_hash = f->tool_hash(raw, raw_len);
        free(raw);
    }
    return read_tx_file(m, f, e, dfd, dir);
}

/* Every up migration of f, in entry (name) order; other entries go to the row's `other`. */
static int load_ups(mig_item_list *items, const mig_format *f, mig_entry_list *list, int dfd,
                    const char *dir)
{
    for (size_t i = 0; i < list->count; i++) {
        mig_entry *e = &list->items[i];
        mig_role role;
        int rc = 0;

        if (!holds_migration(f, e, dfd))
            rc = f->other ? f->other(e, dir) : 0;
        else if ((role = f->syntax->role(f, e->name)) == MIG_ROLE_UP || role == MIG_ROLE_REPEATABLE)
            rc = load_up(items, f, e, role, dfd, dir);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int item_cmp(const void *a, const void *b, void *arg)
{
    const mig_format *f = arg;
    const mig_item *x = a, *y = b;
    int c = f->cmp(x->m.version, y->m.version);
    return c ? c : strcmp(x->sort_name, y->sort_name);
}

void mig_items_sort(mig_item_list *items, const mig_format *f)
{
    if (items->count > 1)
        qsort_r(items->items, items->count, sizeof(mig_item), item_cmp, (void *)f);
}

void mig_item_drop(mig_item_list *items, size_t i)
{
    migration_clear(&items->items[i].m);
    memmove(&items->items[i], &items->items[i + 1], (items->count - i - 1) * sizeof(mig_item));
    items->count--;
}

/* Apply order (the row's own, or by version then name); then no two may share a version. */
static int order_items(mig_item_list *items, const mig_format *f, int dfd, const char *dir)
{
    int rc;

    if (f->order) {
        if ((rc = f->order(items, f, dfd, dir)) < 0)
            return rc;
    } else {
        mig_items_sort(items, f);
    }
    for (size_t i = 1; i < items->count; i++) {
        const dbm_migration *a = &items->items[i - 1].m, *b = &items->items[i].m;
        if (f->cmp(a->version, b->version) == 0) {
            rc = dbm_error_set(DBM_ECONFIG, "'%s' and '%s' in '%s' have the same version '%s'",
                               a->path, b->path, dir, b->version);
            dbm_error_hint("give each migration its own version");
            return rc;
        }
    }
    return 0;
}

static mig_item *find_item(mig_item_list *items, const mig_format *f, const char *version)
{
    size_t lo = 0, hi = items->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = f->cmp(items->items[mid].m.version, version);
        if (c == 0)
            return &items->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int duplicate_down(const char *dir, const char *a, const char *b, const char *version)
{
    int rc = dbm_error_set(DBM_ECONFIG, "'%s' and '%s' in '%s' are both the down of version '%s'",
                           a, b, dir, version);
    dbm_error_hint("keep one down file per version");
    return rc;
}

/*
 * Attach each down file to the (ordered) migration of its version; a down
 * without its up has nothing to roll back and is skipped.
 */
static int attach_downs(mig_item_list *items, const mig_format *f, mig_entry_list *list, int dfd,
                        const char *dir)
{
    if (f->folders)
        return 0; /* a folder's down file was read with its up */
    for (size_t i = 0; i < list->count; i++) {
        mig_entry *e = &list->items[i];
        char *version;
        mig_item *it;
        int rc;

        if (!holds_migration(f, e, dfd) || f->syntax->role(f, e->name) != MIG_ROLE_DOWN)
            continue;
        version = f->syntax->version(f, e->name);
        it = find_item(items, f, version);
        free(version);
        if (!it)
            continue;
        if (it->m.down_path)
            return duplicate_down(dir, it->m.down_path, e->name, it->m.version);
        if ((rc = mig_entry_text(e, NULL, dfd, dir)) < 0)
            return rc;
        mig_set_section(&it->m.down, &it->m.down_len, &it->m.down_line, e->text, 0, e->len);
        it->m.down_path = dbm_xstrdup(e->name);
    }
    return 0;
}

/* The set, with the items' migrations moved into it (items is left empty) and checksummed. */
static dbm_migration_set *make_set(mig_item_list *items, dbm_format format, const char *dir)
{
    dbm_migration_set *set = dbm_xcalloc(1, sizeof(*set));

    set->format = format;
    set->dir = dbm_xstrdup(dir);
    set->count = items->count;
    set->items = dbm_xcalloc(items->count ? items->count : 1, sizeof(dbm_migration));
    for (size_t i = 0; i < items->count; i++) {
        dbm_migration *m = &set->items[i];
        *m = items->items[i].m;
        dbm_checksum(m->checksum, m->up, m->up_len);
    }
    items->count = 0;
    set->tool_check = items->tool_check;
    items->tool_check = NULL;
    return set;
}

int dbm_migrations_load(dbm_migration_set **out, const char *dir, dbm_format format)
{
    mig_entry_list list = {NULL, 0, 0, NULL, NULL};
    mig_item_list items = {NULL, 0, 0, NULL};
    const mig_format *f;
    int dfd = -1, rc;

    *out = NULL;
    if ((rc = mig_layout_list(&list, &dfd, dir)) < 0)
        goto done;
    if (format == DBM_FORMAT_AUTO && (rc = mig_format_detect(&format, &list, dfd, dir)) < 0)
        goto done;
    f = mig_format_of(format);
    if (!f) {
        rc = dbm_error_set(DBM_EGENERIC, "unknown format %d", (int)format);
        goto done;
    }
    if (f->load) {
        if ((rc = f->load(&items, f, dfd, dir)) < 0 || (rc = order_items(&items, f, dfd, dir)) < 0)
            goto done;
    } else if ((rc = load_ups(&items, f, &list, dfd, dir)) < 0 ||
               (rc = order_items(&items, f, dfd, dir)) < 0 ||
               (rc = attach_downs(&items, f, &list, dfd, dir)) < 0)
        goto done;
    if (f->check)
        f->check(&items);
    *out = make_set(&items, format, dir);
done:
    for (size_t i = 0; i < items.count; i++)
        migration_clear(&items.items[i].m);
    free(items.items);
    free(items.tool_check);
    mig_entry_list_free(&list);
    if (dfd >= 0)
        close(dfd);
    return rc;
}

void dbm_migrations_free(dbm_migration_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++)
        migration_clear(&set->items[i]);
    free(set->items);
    free(set->dir);
    free(set->tool_check);
    free(set);
}

const dbm_migration *dbm_migrations_find(const dbm_migration_set *set, const char *version)
{
    size_t lo = 0, hi;

    if (!set || !version)
        return NULL;
    hi = set->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = dbm_version_cmp(set->format, set->items[mid].version, version);
        if (c == 0)
            return &set->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
