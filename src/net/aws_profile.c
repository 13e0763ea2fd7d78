/*
 * aws_profile.c - credentials and region from the AWS shared config and
 * credentials files, as the AWS CLI and SDKs read them on a laptop.
 *
 * Files: AWS_CONFIG_FILE (default ~/.aws/config, sections `[profile NAME]`
 * and `[default]`) and AWS_SHARED_CREDENTIALS_FILE (default
 * ~/.aws/credentials, sections `[NAME]`); a key in the credentials file wins
 * over the same key in the config file. The profile is AWS_PROFILE, else
 * "default". A profile gives credentials by role_arn + source_profile (STS
 * AssumeRole signed with the source profile's credentials), by static keys,
 * or by credential_process (credential_process.c), in the AWS CLI's order.
 *
 * The files are INI as Python's configparser reads them. Debian has INI
 * libraries (libinih, GLib's GKeyFile), but none reads what the AWS CLI
 * accepts: `key: value`, values continued on indented lines (the nested
 * `s3 =` blocks), sections named with inner spaces. Hence the small reader
 * below, a pure function over a buffer that the unit tests drive directly.
 */
#include "net/aws_internal.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_CHAIN 5

/* ---- the INI reader ---- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* s[0..*n) without leading and trailing blanks: the new start, *n updated. */
static const char *trim(const char *s, size_t *n)
{
    while (*n && is_blank(s[0]))
        s++, (*n)--;
    while (*n && is_blank(s[*n - 1]))
        (*n)--;
    return s;
}

typedef struct {
    const char *path;
    dbm_ini_fn fn;
    void *ud;
    char *section; /* NULL before the first header */
    dbm_buf key, value;
    int key_line; /* the line of the pending key; 0: none */
} ini_state;

static int ini_bad_line(const ini_state *st, int line, const char *what)
{
    /* The line itself is not quoted: it may hold a secret key. */
    int rc = dbm_error_set(DBM_ECONFIG, "unable to read '%s': line %d %s", st->path, line, what);
    dbm_error_hint("write `[profile NAME]` (config) or `[NAME]` (credentials) headers and "
                   "`key = value` lines; comments start with # or ;");
    return rc;
}

/* Hands the pending key and value to the callback. */
static int ini_flush(ini_state *st)
{
    int rc = 0;

    if (st->key_line)
        rc = st->fn(st->ud, st->section, dbm_buf_cstr(&st->key), dbm_buf_cstr(&st->value),
                    st->key_line);
    st->key_line = 0;
    dbm_buf_truncate(&st->key, 0);
    dbm_buf_wipe(&st->value);
    return rc;
}

/* `[ name ]`, with "profile   x" written as "profile x". */
static int ini_section(ini_state *st, const char *s, size_t n, int line)
{
    const char *close = memchr(s, ']', n);
    dbm_buf name = DBM_BUF_INIT;
    size_t len;

    if (!close || close != s + n - 1)
        return ini_bad_line(st, line, "is a section header without its closing ']'");
    len = (size_t)(close - s - 1);
    s = trim(s + 1, &len);
    if (len == 0)
        return ini_bad_line(st, line, "is a section header without a name");
    if (len > 8 && strncmp(s, "profile", 7) == 0 && is_blank(s[7])) {
        size_t rest = len - 7;
        const char *r = trim(s + 7, &rest);
        dbm_buf_puts(&name, "profile ");
        dbm_buf_put(&name, r, rest);
    } else {
        dbm_buf_put(&name, s, len);
    }
    free(st->section);
    st->section = dbm_buf_detach(&name);
    return st->fn(st->ud, st->section, NULL, NULL, line);
}

/* `key = value` or `key: value`, whichever delimiter comes first; keys are lowercased. */
static int ini_key(ini_state *st, const char *s, size_t n, int line)
{
    size_t k = 0, vlen;
    const char *v;

    while (k < n && s[k] != '=' && s[k] != ':')
        k++;
    if (k == n)
        return ini_bad_line(st, line, "is neither a section header, a key = value nor a comment");
    if (!st->section)
        return ini_bad_line(st, line, "comes before any [section] header");
    vlen = n - k - 1;
    v = trim(s + k + 1, &vlen);
    s = trim(s, &k);
    if (k == 0)
        return ini_bad_line(st, line, "has no key before its '='");
    for (size_t i = 0; i < k; i++)
        dbm_buf_putc(&st->key, (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i]));
    dbm_buf_put(&st->value, v, vlen);
    dbm_buf_puts(&st->value, "");
    st->key_line = line;
    return 0;
}

/* One line (without its '\n'); `indented`: it starts with a blank. */
static int ini_line(ini_state *st, const char *s, size_t n, int line)
{
    bool indented = n && is_blank(s[0]);
    int rc;

    if (memchr(s, '\0', n))
        return ini_bad_line(st, line, "holds a NUL byte");
    s = trim(s, &n);
    if (n == 0 || s[0] == '#' || s[0] == ';')
        return n == 0 ? ini_flush(st) : 0;
    if (indented && st->key_line) {
        /* A continuation: configparser joins the lines of a value with '\n'. */
        if (st->value.len)
            dbm_buf_putc(&st->value, '\n');
        dbm_buf_put(&st->value, s, n);
        return 0;
    }
    if ((rc = ini_flush(st)) != 0)
        return rc;
    if (s[0] == '[')
        return ini_section(st, s, n, line);
    return ini_key(st, s, n, line);
}

int dbm_ini_parse(const char *text, size_t len, const char *path, dbm_ini_fn fn, void *ud)
{
    ini_state st = {.path = path, .fn = fn, .ud = ud};
    const char *p = text, *end = text + len;
    int line = 0, rc = 0;

    /* A UTF-8 byte order mark, as Windows editors write it. */
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    while (rc == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        rc = ini_line(&st, p, (size_t)(stop - p), ++line);
        p = nl ? nl + 1 : end;
    }
    if (rc == 0)
        rc = ini_flush(&st);
    free(st.section);
    dbm_buf_free(&st.key);
    dbm_buf_wipe(&st.value);
    return rc;
}

/* ---- the files and one profile ---- */

typedef struct {
    char *path;
    char *text; /* NULL: no such file */
    size_t len;
} ini_file;

typedef struct {
    ini_file config, credentials;
    char *profile;
    bool explicit_profile; /* AWS_PROFILE was set */
} aws_files;

typedef struct {
    char *key, *value;
} setting;

typedef struct {
    const char *name;
    bool config_file; /* which file is being read: sections are named differently */
    bool found;
    setting *items;
    size_t count, cap;
} profile;

static const char *profile_get(const profile *p, const char *key)
{
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->items[i].key, key) == 0)
            return *p->items[i].value ? p->items[i].value : NULL;
    return NULL;
}

static void profile_clear(profile *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].key);
        dbm_secret_free(p->items[i].value);
    }
    free(p->items);
    memset(p, 0, sizeof(*p));
}

static int profile_collect(void *ud, const char *section, const char *key, const char *value,
                           int line)
{
    profile *p = ud;
    bool mine;

    (void)line;
    if (p->config_file)
        mine = (dbm_starts_with(section, "profile ") && strcmp(section + 8, p->name) == 0) ||
               (strcmp(p->name, "default") == 0 && strcmp(section, "default") == 0);
    else
        mine = strcmp(section, p->name) == 0;
    if (!mine)
        return 0;
    p->found = true;
    if (!key)
        return 0;
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->items[i].key, key) == 0) {
            dbm_secret_free(p->items[i].value);
            p->items[i].value = dbm_xstrdup(value);
            return 0;
        }
    dbm_array_grow((void **)&p->items, &p->cap, p->count + 1, sizeof(*p->items));
    p->items[p->count++] = (setting){dbm_xstrdup(key), dbm_xstrdup(value)};
    return 0;
}

/* The profile `name`: config file first, then the credentials file over it. */
static int profile_load(profile *p, const aws_files *f, const char *name)
{
    int rc = 0;

    memset(p, 0, sizeof(*p));
    p->name = name;
    p->config_file = true;
    if (f->config.text)
        rc = dbm_ini_parse(f->config.text, f->config.len, f->config.path, profile_collect, p);
    p->config_file = false;
    if (rc == 0 && f->credentials.text)
        rc = dbm_ini_parse(f->credentials.text, f->credentials.len, f->credentials.path,
                           profile_collect, p);
    return rc;
}

/* One file: `variable`, else ~/.aws/`name`. A missing file is no error: text stays NULL. */
static int file_load(ini_file *f, const char *variable, const char *name)
{
    const char *set = dbm_getenv(variable);
    const char *home = dbm_getenv("HOME");
    struct stat sb;
    int rc;

    if (set)
        f->path = dbm_xstrdup(set);
    else
        f->path = dbm_xasprintf("%s/.aws/%s", home ? home : "", name);
    if (stat(f->path, &sb) < 0 && errno == ENOENT)
        return 0;
    if ((rc = dbm_read_file(&f->text, &f->len, f->path)) < 0) {
        rc = dbm_error_set(DBM_ECONFIG, "unable to read the aws %s file '%s'", name, f->path);
        dbm_error_hint("check the file's permissions, or %s", variable);
    }
    return rc;
}

static void files_free(aws_files *f)
{
    ini_file *both[] = {&f->config, &f->credentials};

    for (int i = 0; i < 2; i++) {
        if (both[i]->text)
            explicit_bzero(both[i]->text, both[i]->len);
        free(both[i]->text);
        free(both[i]->path);
    }
    free(f->profile);
}

static int files_load(aws_files *f)
{
    const char *name = dbm_getenv("AWS_PROFILE");
    int rc;

    memset(f, 0, sizeof(*f));
    f->explicit_profile = name && *name;
    f->profile = dbm_xstrdup(f->explicit_profile ? name : "default");
    rc = file_load(&f->config, "AWS_CONFIG_FILE", "config");
    if (rc == 0)
        rc = file_load(&f->credentials, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
    return rc;
}

static int profile_not_found(const aws_files *f, const char *name, const char *needed_by)
{
    int rc;

    if (needed_by)
        rc = dbm_error_set(DBM_ECONFIG,
                           "the source_profile '%s' of aws profile '%s' is not in '%s' or '%s'",
                           name, needed_by, f->config.path, f->credentials.path);
    else
        rc = dbm_error_set(DBM_ECONFIG, "the aws profile '%s' (AWS_PROFILE) is not in '%s' or '%s'",
                           name, f->config.path, f->credentials.path);
    dbm_error_hint("add [profile %s] to the config file or [%s] to the credentials file "
                   "(aws configure --profile %s), or set AWS_PROFILE to an existing profile",
                   name, name, name);
    return rc;
}

/* ---- resolution ---- */

typedef struct {
    const aws_files *files;
    const char *region, *session_name;
} resolver;

static int profile_static_keys(dbm_aws_credentials **out, const profile *p)
{
    const char *akid = profile_get(p, "aws_access_key_id");
    const char *secret = profile_get(p, "aws_secret_access_key");
    char *source;
    int rc;

    if (!akid || !secret) {
        rc = dbm_error_set(DBM_ECONFIG, "aws profile '%s' has %s but not %s", p->name,
                           akid ? "aws_access_key_id" : "aws_secret_access_key",
                           akid ? "aws_secret_access_key" : "aws_access_key_id");
        dbm_error_hint("set both in the profile (aws configure --profile %s)", p->name);
        return rc;
    }
    source = dbm_xasprintf("profile:%s", p->name);
    *out = dbm_aws_credentials_new(dbm_xstrdup(akid), dbm_xstrdup(secret),
                                   dbm_xstrdup(profile_get(p, "aws_session_token")), source);
    free(source);
    return 0;
}

static int resolve_profile(dbm_aws_credentials **out, const resolver *r, const char *name,
                           const char *needed_by, int depth);

/* role_arn: AssumeRole, signed with the source profile's credentials. */
static int profile_assume_role(dbm_aws_credentials **out, const resolver *r, const profile *p,
                               int depth)
{
    const char *source_profile = profile_get(p, "source_profile");
    const char *session = profile_get(p, "role_session_name");
    dbm_aws_credentials *signer = NULL;
    char *source = NULL;
    int rc;

    if (!source_profile || profile_get(p, "mfa_serial")) {
        bool mfa = source_profile != NULL;
        rc = dbm_error_set(DBM_ECONFIG, "aws profile '%s' has role_arn %s", p->name,
                           mfa ? "with mfa_serial, which needs a code typed in"
                               : "without source_profile");
        dbm_error_hint(mfa ? "use a profile without mfa_serial, or export the credentials of "
                             "`aws sts assume-role` (or a credential_process) instead"
                           : "set source_profile to the profile whose keys may assume the role "
                             "(credential_source is not supported)");
        return rc;
    }
    if (depth >= MAX_CHAIN) {
        rc = dbm_error_set(DBM_ECONFIG, "aws profile '%s' starts a chain of more than %d roles",
                           p->name, MAX_CHAIN);
        dbm_error_hint("check source_profile for a loop");
        return rc;
    }
    if (strcmp(source_profile, p->name) == 0)
        rc = profile_static_keys(&signer, p);
    else
        rc = resolve_profile(&signer, r, source_profile, p->name, depth + 1);
    if (rc < 0)
        return rc;
    source = dbm_xasprintf("profile:%s", p->name);
    rc =
        dbm_aws_sts_assume(out, &(dbm_sts_call){.region = r->region,
                                                .role_arn = profile_get(p, "role_arn"),
                                                .session_name = session ? session : r->session_name,
                                                .signer = signer,
                                                .external_id = profile_get(p, "external_id"),
                                                .source = source});
    free(source);
    dbm_aws_credentials_free(signer);
    return rc;
}

/*
 * The credentials of profile `name`, in the AWS CLI's order: role_arn, static
 * keys, credential_process. needed_by: the profile that names this one as
 * its source_profile, or NULL for AWS_PROFILE's. 0 with *out NULL when the
 * starting profile is absent or empty and AWS_PROFILE was not set.
 */
static int resolve_profile(dbm_aws_credentials **out, const resolver *r, const char *name,
                           const char *needed_by, int depth)
{
    profile p;
    const char *process;
    char *shown = dbm_printable(name);
    int rc;

    *out = NULL;
    /* Every message below names the profile: it must print as one line. */
    if (strcmp(shown, name) != 0) {
        rc = dbm_error_set(DBM_ECONFIG, "aws profile name '%s' holds a control character", shown);
        if (needed_by)
            dbm_error_hint("fix source_profile in aws profile '%s'", needed_by);
        else
            dbm_error_hint("fix AWS_PROFILE");
        free(shown);
        return rc;
    }
    free(shown);
    if ((rc = profile_load(&p, r->files, name)) < 0)
        goto done;
    if (!p.found) {
        if (needed_by || r->files->explicit_profile)
            rc = profile_not_found(r->files, name, needed_by);
        goto done;
    }
    process = profile_get(&p, "credential_process");
    if (profile_get(&p, "role_arn"))
        rc = profile_assume_role(out, r, &p, depth);
    else if (profile_get(&p, "aws_access_key_id") || profile_get(&p, "aws_secret_access_key"))
        rc = profile_static_keys(out, &p);
    else if (process)
        rc = dbm_aws_credential_process(out, process, name);
    else if (needed_by || r->files->explicit_profile || profile_get(&p, "sso_session") ||
             profile_get(&p, "sso_start_url")) {
        rc = dbm_error_set(DBM_ECONFIG, "aws profile '%s' has no credentials db-migrate can use",
                           name);
        dbm_error_hint("give it aws_access_key_id and aws_secret_access_key, role_arn with "
                       "source_profile, or credential_process (for SSO: credential_process = "
                       "aws configure export-credentials --profile %s --format process)",
                       name);
    }
done:
    profile_clear(&p);
    return rc;
}

int dbm_aws_profile_credentials(dbm_aws_credentials **out, const char *region,
                                const char *session_name)
{
    aws_files files;
    int rc;

    *out = NULL;
    rc = files_load(&files);
    if (rc == 0)
        rc = resolve_profile(
            out, &(resolver){.files = &files, .region = region, .session_name = session_name},
            files.profile, NULL, 0);
    files_free(&files);
    return rc;
}

int dbm_aws_profile_region(char **out)
{
    aws_files files;
    profile p;
    int rc;

    *out = NULL;
    memset(&p, 0, sizeof(p));
    rc = files_load(&files);
    if (rc == 0)
        rc = profile_load(&p, &files, files.profile);
    if (rc == 0 && !p.found && files.explicit_profile)
        rc = profile_not_found(&files, files.profile, NULL);
    if (rc == 0)
        *out = dbm_xstrdup(profile_get(&p, "region"));
    profile_clear(&p);
    files_free(&files);
    return rc;
}
