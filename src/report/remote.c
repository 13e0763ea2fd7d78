/*
 * remote.c - a report that travels: framed in a log (run-in: ecs), and read
 * back from its JSON (json.c's fields) into a record, so that the Action
 * writes the summary, annotations and outputs of a remote run as it does for
 * a run here.
 *
 * The frame is three kinds of line, none of which a runner reads as a
 * workflow command:
 *
 *     db-migrate-report-begin v1 BYTES SHA256
 *     BASE64 (76 characters a line)
 *     db-migrate-report-end
 *
 * BYTES and SHA256 are the JSON's length and hex SHA-256: a frame cut or
 * mangled by a log pipeline is told apart from a report.
 */
#include "report/report.h"
#include "common/error.h"
#include "common/util.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_BEGIN "db-migrate-report-begin v1 "
#define FRAME_END   "db-migrate-report-end"
#define LINE_CHARS  76
#define FRAME_MAX   ((size_t)64 << 20)

char *dbm_report_frame(const char *json)
{
    size_t len = strlen(json), in_line = LINE_CHARS / 4 * 3;
    unsigned char chunk[LINE_CHARS + 1];
    dbm_buf b = DBM_BUF_INIT;
    char hex[65];

    dbm_sha256_hex(hex, json, len);
    dbm_buf_printf(&b, FRAME_BEGIN "%zu %s\n", len, hex);
    for (size_t off = 0; off < len; off += in_line) {
        size_t n = len - off < in_line ? len - off : in_line;
        EVP_EncodeBlock(chunk, (const unsigned char *)json + off, (int)n);
        dbm_buf_printf(&b, "%s\n", chunk);
    }
    dbm_buf_puts(&b, FRAME_END "\n");
    return dbm_buf_detach(&b);
}

struct dbm_frame_reader {
    bool inside;
    size_t want;
    char want_hex[65];
    dbm_buf data; /* decoded so far */
    char *json;   /* the last complete frame's */
    bool broken;  /* a frame began but did not decode */
};

dbm_frame_reader *dbm_frame_reader_new(void)
{
    return dbm_xcalloc(1, sizeof(dbm_frame_reader));
}

/* The end line: check the length and digest, keep the JSON. */
static void frame_end(dbm_frame_reader *fr)
{
    char hex[65];

    fr->inside = false;
    dbm_sha256_hex(hex, fr->data.ptr ? fr->data.ptr : "", fr->data.len);
    if (fr->data.len != fr->want || strcmp(hex, fr->want_hex) != 0) {
        fr->broken = true;
    } else {
        free(fr->json);
        fr->json = dbm_buf_detach(&fr->data);
        if (!fr->json)
            fr->json = dbm_xstrdup("");
        fr->broken = false;
    }
    dbm_buf_free(&fr->data);
}

bool dbm_frame_reader_line(dbm_frame_reader *fr, const char *line)
{
    unsigned char out[LINE_CHARS];
    size_t n = strlen(line);
    int got;

    if (dbm_starts_with(line, FRAME_BEGIN)) {
        unsigned long long want;
        dbm_buf_free(&fr->data);
        fr->inside = sscanf(line + strlen(FRAME_BEGIN), "%llu %64s", &want, fr->want_hex) == 2 &&
                     want < FRAME_MAX;
        fr->want = fr->inside ? (size_t)want : 0;
        fr->broken = !fr->inside;
        return true;
    }
    if (!fr->inside)
        return false;
    if (strcmp(line, FRAME_END) == 0) {
        frame_end(fr);
        return true;
    }
    if (n == 0 || n > LINE_CHARS || n % 4 != 0 ||
        (got = EVP_DecodeBlock(out, (const unsigned char *)line, (int)n)) < 0) {
        /* Not a line of the frame: the frame is broken, the line is the log's. */
        fr->inside = false;
        fr->broken = true;
        dbm_buf_free(&fr->data);
        return false;
    }
    /* EVP_DecodeBlock counts the padding's bytes as zeros. */
    got -= (line[n - 1] == '=') + (n > 1 && line[n - 2] == '=');
    dbm_buf_put(&fr->data, (const char *)out, (size_t)got);
    return true;
}

const char *dbm_frame_reader_json(const dbm_frame_reader *fr)
{
    return fr->json;
}

bool dbm_frame_reader_broken(const dbm_frame_reader *fr)
{
    return fr->broken || fr->inside;
}

void dbm_frame_reader_free(dbm_frame_reader *fr)
{
    if (!fr)
        return;
    dbm_buf_free(&fr->data);
    free(fr->json);
    free(fr);
}

/* ---- the JSON report back into a record ---- */

static const char *str(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int num_int(const json_t *o, const char *key)
{
    return (int)json_integer_value(json_object_get(o, key));
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static void read_statement(dbm_mig_result *m, const json_t *js)
{
    dbm_stmt_result *s = dbm_report_add_stmt(m, num_int(js, "line"), str(js, "tag"));
    json_t *v;
    size_t i;

    s->duration_ms = num(js, "duration_ms");
    dbm_report_set(&s->note, str(js, "note"));
    dbm_report_set(&s->sql, str(js, "sql"));
    json_array_foreach(json_object_get(js, "locks"), i, v)
    {
        if (json_is_true(json_object_get(v, "held_by_earlier_migration")))
            dbm_report_add_lock_held(s, str(v, "relation"), str(v, "mode"));
        else
            dbm_report_add_lock(s, str(v, "relation"), str(v, "mode"));
    }
    json_array_foreach(json_object_get(js, "rewrites"), i, v)
    {
        dbm_report_add_rewrite(s, str(v, "relation"),
                               (long long)json_integer_value(json_object_get(v, "bytes")));
    }
}

static dbm_mig_status status_of(const char *name)
{
    static const dbm_mig_status all[] = {DBM_MIG_PENDING,    DBM_MIG_APPLIED, DBM_MIG_FAILED,
                                         DBM_MIG_SKIPPED,    DBM_MIG_EDITED,  DBM_MIG_MISSING,
                                         DBM_MIG_ROLLED_BACK};
    for (size_t i = 0; name && i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(dbm_mig_status_name(all[i]), name) == 0)
            return all[i];
    return DBM_MIG_PENDING;
}

static void read_migration(dbm_report *r, const json_t *jm)
{
    dbm_mig_result *m = dbm_report_add_migration(r, str(jm, "version"), str(jm, "name"),
                                                 str(jm, "file"), status_of(str(jm, "status")));
    json_t *e = json_object_get(jm, "error"), *v;
    size_t i;

    m->duration_ms = num(jm, "duration_ms");
    m->transactional = json_is_true(json_object_get(jm, "transactional"));
    m->statement_count = num_int(jm, "statement_count");
    m->earlier = json_is_true(json_object_get(jm, "earlier"));
    m->failed_before = json_is_true(json_object_get(jm, "failed_before"));
    dbm_report_set(&m->note, str(jm, "note"));
    dbm_report_set(&m->diff, str(jm, "diff"));
    dbm_report_set(&m->changed_by, str(jm, "changed_by"));
    dbm_report_set(&m->applied_at, str(jm, "applied_at"));
    dbm_report_set(&m->excerpt, str(jm, "excerpt"));
    json_array_foreach(json_object_get(jm, "statements"), i, v)
    {
        read_statement(m, v);
    }
    if (json_is_object(e)) {
        dbm_error_info *ei = dbm_report_set_error(m, str(e, "message"), str(e, "sqlstate"));
        dbm_report_set(&ei->file, str(e, "file"));
        ei->line = num_int(e, "line");
        ei->column = num_int(e, "column");
        dbm_report_set(&ei->detail, str(e, "detail"));
        dbm_report_set(&ei->hint, str(e, "hint"));
        dbm_report_set(&ei->context, str(e, "context"));
    }
}

static void read_finding(dbm_report *r, const json_t *jf)
{
    const char *sev = str(jf, "severity");
    dbm_severity s = sev && !strcmp(sev, "error")     ? DBM_SEV_ERROR
                     : sev && !strcmp(sev, "warning") ? DBM_SEV_WARNING
                                                      : DBM_SEV_NOTICE;
    const char *message = str(jf, "message");
    dbm_finding *f =
        dbm_report_add_finding(r, s, str(jf, "rule"), str(jf, "file"), num_int(jf, "line"),
                               num_int(jf, "column"), "%s", message ? message : "");

    dbm_report_set(&f->hint, str(jf, "hint"));
    dbm_report_set(&f->status, str(jf, "dry_run"));
}

static void read_git(dbm_report *r, const json_t *git)
{
    json_t *c;
    size_t i;

    dbm_report_set(&r->git.head, str(git, "head"));
    dbm_report_set(&r->git.deployed, str(git, "deployed"));
    dbm_report_set(&r->git.base, str(git, "base"));
    dbm_report_set(&r->git.compare_url, str(git, "compare_url"));
    json_array_foreach(json_object_get(git, "changes"), i, c)
    {
        dbm_report_add_git_change(r, str(c, "kind"), str(c, "path"), str(c, "old_path"),
                                  str(c, "commit"));
    }
}

static void read_report(dbm_report *r, const json_t *root);

/* o[a][b], or NULL. */
static json_t *member(const json_t *o, const char *a, const char *b)
{
    return json_object_get(json_object_get(o, a), b);
}

/* targets[]: each row, and the target's own report under it (a fleet's report, fleet.c). */
static void read_targets(dbm_report *r, const json_t *root)
{
    json_t *v;
    size_t i;

    r->parallel = num_int(root, "parallel");
    r->targets_selected = (size_t)json_integer_value(json_object_get(root, "targets_selected"));
    if (json_is_object(json_object_get(root, "shard"))) {
        r->shard.index = (long)json_integer_value(member(root, "shard", "index"));
        r->shard.count = (long)json_integer_value(member(root, "shard", "count"));
    } else if (json_is_object(json_object_get(root, "shards"))) {
        r->shard.count = (long)json_integer_value(member(root, "shards", "count"));
        json_array_foreach(member(root, "shards", "merged"), i, v)
        {
            dbm_array_grow((void **)&r->shard.merged, &r->shard.capmerged, r->shard.nmerged + 1,
                           sizeof(*r->shard.merged));
            r->shard.merged[r->shard.nmerged++] = (long)json_integer_value(v);
        }
    }
    json_array_foreach(json_object_get(root, "targets"), i, v)
    {
        dbm_target_result *t;
        json_t *detail = json_object_get(v, "report");
        if (!str(v, "name") || !str(v, "outcome"))
            continue;
        t = dbm_report_add_target(r, str(v, "name"), str(v, "group"));
        t->outcome = dbm_xstrdup(str(v, "outcome"));
        t->exit_code = num_int(v, "exit_code");
        t->applied_count = num_int(v, "applied_count");
        t->pending_count = num_int(v, "pending_count");
        t->duration_ms = num(v, "duration_ms");
        t->error = dbm_xstrdup(str(v, "error"));
        t->stage = (size_t)json_integer_value(json_object_get(v, "stage"));
        t->position = (size_t)json_integer_value(json_object_get(v, "position"));
        if (json_is_object(detail)) {
            t->detail = dbm_report_new(str(detail, "command"));
            read_report(t->detail, detail);
        }
    }
}

static void read_report(dbm_report *r, const json_t *root)
{
    json_t *v;
    size_t i;

    dbm_report_set(&r->command, str(root, "command"));
    dbm_report_set(&r->status, str(root, "status"));
    dbm_report_set(&r->database, str(root, "database"));
    dbm_report_set(&r->migrations_dir, str(root, "migrations_dir"));
    dbm_report_set(&r->migrations_digest, str(root, "migrations_digest"));
    dbm_report_set(&r->format, str(root, "format"));
    dbm_report_set(&r->error, str(root, "error"));
    r->applied_count = num_int(root, "applied_count");
    r->pending_count = num_int(root, "pending_count");
    r->rolled_back_count = num_int(root, "rolled_back_count");
    r->duration_ms = num(root, "duration_ms");
    r->exit_code = num_int(root, "exit_code");
    read_git(r, json_object_get(root, "git"));
    json_array_foreach(json_object_get(root, "migrations"), i, v)
    {
        read_migration(r, v);
    }
    json_array_foreach(json_object_get(root, "findings"), i, v)
    {
        read_finding(r, v);
    }
    read_targets(r, root);
}

int dbm_report_from_json(dbm_report *r, const char *json, size_t len)
{
    json_t *root = json_loadb(json, len, 0, NULL);

    if (!json_is_object(root) || !str(root, "command") || !str(root, "status")) {
        json_decref(root);
        return dbm_error_set(DBM_EGENERIC, "the remote run's report is not a db-migrate report");
    }
    read_report(r, root);
    json_decref(root);
    return 0;
}
