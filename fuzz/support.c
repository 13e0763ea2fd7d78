/*
 * support.c - the helpers of fuzz.h, and the HTTP answers that stand in for
 * the network: every harness is linked with -Wl,--wrap=dbm_http_send, so the
 * product's calls to dbm_http_send land in __wrap_dbm_http_send below.
 */
#include "fuzz.h"

#include "common/error.h"
#include "common/util.h"
#include "net/http.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int __wrap_dbm_http_send(dbm_http_response **out, const dbm_http_request *req);

char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = dbm_xmalloc(size + 1);

    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

bool fuzz_next_part(const uint8_t **data, size_t *size, const uint8_t **part, size_t *plen)
{
    const size_t seplen = strlen(FUZZ_SEP);
    const uint8_t *sep;

    if (!*data)
        return false;
    sep = memmem(*data, *size, FUZZ_SEP, seplen);
    *part = *data;
    if (!sep) {
        *plen = *size;
        *data = NULL;
        *size = 0;
        return true;
    }
    *plen = (size_t)(sep - *data);
    *size -= *plen + seplen;
    *data = sep + seplen;
    return true;
}

void fuzz_fail(const char *file, int line)
{
    fprintf(stderr, "fuzz: check failed at %s:%d (last error: %s)\n", file, line,
            dbm_error_message());
    abort();
}

static bool has_control(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20)
            return true;
    return false;
}

void fuzz_error_done(void)
{
    if (has_control(dbm_error_message()) || has_control(dbm_error_hint_text())) {
        fprintf(stderr, "fuzz: the error message or hint holds a control character; hint: %s\n",
                dbm_error_hint_text() ? dbm_error_hint_text() : "(none)");
        FUZZ_FAIL();
    }
    dbm_error_clear();
}

/* ---- scratch directory ---- */

static char scratch[64];

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void scratch_remove(void)
{
    if (scratch[0])
        nftw(scratch, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void)
{
    if (!scratch[0]) {
        snprintf(scratch, sizeof(scratch), "/tmp/dbm-fuzz-XXXXXX");
        if (!mkdtemp(scratch)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(scratch_remove);
    }
    return scratch;
}

char *fuzz_write(const char *name, const void *data, size_t len)
{
    char *path = dbm_xasprintf("%s/%s", fuzz_dir(), name);
    bool short_write;
    FILE *f;

    for (char *p = path + strlen(scratch) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
    /* A name the input made may clash with a folder it made: not the product's business. */
    if (!(f = fopen(path, "wb"))) {
        free(path);
        return NULL;
    }
    short_write = len && fwrite(data, 1, len, f) != len;
    if (fclose(f) != 0 || short_write) {
        perror(path);
        abort();
    }
    return path;
}

/* ---- environment ---- */

static const char *const product_env[] = {"GITHUB_ACTIONS",
                                          "GITHUB_TOKEN",
                                          "GITHUB_EVENT_PATH",
                                          "GITHUB_EVENT_NAME",
                                          "GITHUB_API_URL",
                                          "GITHUB_REPOSITORY",
                                          "ACTIONS_ID_TOKEN_REQUEST_URL",
                                          "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                                          "AWS_ACCESS_KEY_ID",
                                          "AWS_SECRET_ACCESS_KEY",
                                          "AWS_SESSION_TOKEN",
                                          "AWS_PROFILE",
                                          "AWS_CONFIG_FILE",
                                          "AWS_SHARED_CREDENTIALS_FILE",
                                          "AWS_REGION",
                                          "AWS_DEFAULT_REGION",
                                          "AWS_ROLE_ARN",
                                          "AWS_WEB_IDENTITY_TOKEN_FILE",
                                          "AWS_ROLE_SESSION_NAME",
                                          "AWS_ENDPOINT_URL",
                                          "AWS_ENDPOINT_URL_STS",
                                          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                          "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                          "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                          NULL};

void fuzz_env(const char *const *pairs)
{
    for (size_t i = 0; product_env[i]; i++)
        unsetenv(product_env[i]);
    /* No ~/.aws or other files of the machine's user. */
    setenv("HOME", fuzz_dir(), 1);
    for (; pairs && pairs[0]; pairs += 2)
        if (pairs[1])
            setenv(pairs[0], pairs[1], 1);
}

/* ---- HTTP answers ---- */

static const uint8_t *answers;
static size_t answers_len;
static char *allowed_prefix;
static int requests;

void fuzz_http_serve(const uint8_t *data, size_t size, const char *token_prefix)
{
    answers = data;
    answers_len = size;
    free(allowed_prefix);
    allowed_prefix = token_prefix ? dbm_xstrdup(token_prefix) : NULL;
    requests = 0;
}

int fuzz_http_done(void)
{
    int n = requests;

    answers = NULL;
    answers_len = 0;
    free(allowed_prefix);
    allowed_prefix = NULL;
    requests = 0;
    return n;
}

static bool has_authorization(const dbm_http_request *req)
{
    for (const char *const *h = req->headers; h && *h; h++)
        if (strncasecmp(*h, "Authorization:", 14) == 0)
            return true;
    return false;
}

/* One part as a response: [status line] [header lines, blank line] body. */
static dbm_http_response *answer_of(const uint8_t *p, size_t n)
{
    dbm_http_response *resp = dbm_xcalloc(1, sizeof(*resp));
    const uint8_t *eol = memchr(p, '\n', n), *blank;
    dbm_buf head = DBM_BUF_INIT;
    char *first = fuzz_strndup(p, eol ? (size_t)(eol - p) : n);
    char *end = NULL;
    long status = strtol(first, &end, 10);

    resp->status = 200;
    if (eol && end != first && *end == '\0' && status >= 100 && status <= 599) {
        resp->status = status;
        n -= (size_t)(eol + 1 - p);
        p = eol + 1;
    }
    free(first);
    if (n && p[0] == '\n') {
        p++, n--;
    } else if ((blank = memmem(p, n, "\n\n", 2))) {
        /* kept as libcurl's are: "Name: value\r\n" lines */
        for (const uint8_t *l = p; l <= blank;) {
            const uint8_t *e = memchr(l, '\n', (size_t)(blank + 1 - l));
            dbm_buf_put(&head, (const char *)l, (size_t)(e - l));
            dbm_buf_puts(&head, "\r\n");
            l = e + 1;
        }
        n -= (size_t)(blank + 2 - p);
        p = blank + 2;
    }
    resp->headers = dbm_buf_detach(&head);
    resp->body = fuzz_strndup(p, n);
    resp->body_len = n;
    return resp;
}

int __wrap_dbm_http_send(dbm_http_response **out, const dbm_http_request *req)
{
    const uint8_t *part;
    size_t plen;

    *out = NULL;
    requests++;
    if (allowed_prefix && has_authorization(req) &&
        strncmp(req->url, allowed_prefix, strlen(allowed_prefix)) != 0) {
        fprintf(stderr, "fuzz: a token was sent to '%s', outside '%s'\n", req->url, allowed_prefix);
        abort();
    }
    if (!fuzz_next_part(&answers, &answers_len, &part, &plen))
        return dbm_error_set(DBM_ECONNECT, "unable to reach the server (fuzz: no more answers)");
    *out = answer_of(part, plen);
    return 0;
}
