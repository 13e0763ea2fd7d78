#include "net/http.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_TIMEOUT_MS 30000L
#define CONNECT_TIMEOUT_MS 10000L
#define BACKOFF_BASE_MS    250L
#define BACKOFF_CAP_MS     8000L
#define RETRY_AFTER_CAP_S  20L

/*
 * libcurl is loaded on first use, not at start-up: only IAM authentication and
 * pull-request comments speak HTTP, and libcurl's dependencies (a second TLS
 * stack among them) cost every other run a few MiB of memory and start-up
 * time. The functions used are resolved once, here.
 */
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    void (*free)(void *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLU *(*url)(void);
    void (*url_cleanup)(CURLU *);
    CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
    CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
    curl_version_info_data *(*version_info)(CURLversion);
} lc;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;
static char load_error[256];

static void global_init(void)
{
    static const dbm_lib_sym syms[] = {
#define SYM(f) {"curl_" #f, offsetof(__typeof__(lc), f)}
        SYM(global_init),  SYM(easy_init),      SYM(easy_setopt),   SYM(easy_perform),
        SYM(easy_getinfo), SYM(easy_cleanup),   SYM(easy_strerror), SYM(free),
        SYM(slist_append), SYM(slist_free_all), SYM(url),           SYM(url_cleanup),
        SYM(url_get),      SYM(url_set),        SYM(version_info),
#undef SYM
    };

    if (dbm_lib_load("libcurl.so.4", RTLD_NOW | RTLD_LOCAL, syms, sizeof(syms) / sizeof(syms[0]),
                     &lc, load_error, sizeof(load_error)))
        global_rc = lc.global_init(CURL_GLOBAL_DEFAULT);
}

/*
 * "scheme://host[:port]" of a URL, for messages: never the path or the query,
 * which may carry tokens (ECS credential paths, OIDC request URLs).
 */
static char *url_origin(const char *url)
{
    CURLU *u = lc.url();
    char *scheme = NULL, *host = NULL, *port = NULL, *res;

    if (u && lc.url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        lc.url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        lc.url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        lc.url_get(u, CURLUPART_PORT, &port, 0);
        res = port ? dbm_xasprintf("%s://%s:%s", scheme, host, port)
                   : dbm_xasprintf("%s://%s", scheme, host);
    } else {
        res = dbm_xstrdup("(invalid url)");
    }
    lc.free(scheme);
    lc.free(host);
    lc.free(port);
    lc.url_cleanup(u);
    return res;
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
    dbm_buf_put(userdata, data, size * n);
    return size * n;
}

/*
 * Keep the header lines of the last response only: a status line starts a
 * new response (after a 100 Continue, for instance). The status line and the
 * blank line that ends the block are not kept.
 */
static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
    dbm_buf *b = userdata;
    size_t len = size * n;

    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
        dbm_buf_truncate(b, 0);
    else if (!(len == 2 && data[0] == '\r') && !(len == 1 && data[0] == '\n'))
        dbm_buf_put(b, data, len);
    return len;
}

/* Failures where another attempt may succeed: the network, not the request. */
static int transient(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* Exponential backoff with jitter: a random delay in [d/2, d], d = base * 2^attempt. */
static long backoff_ms(int attempt)
{
    long d = BACKOFF_BASE_MS;
    unsigned int r = 0;

    for (int i = 0; i < attempt && d < BACKOFF_CAP_MS; i++)
        d *= 2;
    if (d > BACKOFF_CAP_MS)
        d = BACKOFF_CAP_MS;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (unsigned int)time(NULL);
    return d / 2 + (long)(r % (unsigned int)(d / 2 + 1));
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* A Retry-After given in seconds, within reason; else -1. */
static long retry_after_ms(const dbm_http_response *resp)
{
    char *v = dbm_http_header(resp, "Retry-After");
    char *end = NULL;
    long s = -1;

    if (v) {
        s = strtol(v, &end, 10);
        if (end == v || *end != '\0' || s < 0 || s > RETRY_AFTER_CAP_S)
            s = -1;
    }
    free(v);
    return s < 0 ? -1 : s * 1000;
}

static CURL *prepare(const dbm_http_request *req, struct curl_slist *headers, dbm_buf *body,
                     dbm_buf *head)
{
    CURL *c = lc.easy_init();
    long timeout = req->timeout_ms > 0   ? req->timeout_ms
                   : req->timeout_ms < 0 ? 0
                                         : DEFAULT_TIMEOUT_MS;
    const char *method = req->method ? req->method : "GET";

    if (!c)
        return NULL;
    lc.easy_setopt(c, CURLOPT_URL, req->url);
    lc.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    lc.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    lc.easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    lc.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   timeout && timeout < CONNECT_TIMEOUT_MS ? timeout : CONNECT_TIMEOUT_MS);
    lc.easy_setopt(c, CURLOPT_USERAGENT, "db-migrate/" DBM_VERSION);
    lc.easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    lc.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    lc.easy_setopt(c, CURLOPT_WRITEDATA, body);
    lc.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    lc.easy_setopt(c, CURLOPT_HEADERDATA, head);
    if (strcmp(method, "GET") == 0) {
        lc.easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        lc.easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(method, "POST") != 0)
            lc.easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        lc.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
        lc.easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    }
    return c;
}

/* libcurl loaded and initialised, once per process; the error when it cannot be. */
static int http_ready(void)
{
    int rc;

    pthread_once(&global_once, global_init);
    if (load_error[0]) {
        rc = dbm_error_set(DBM_EGENERIC, "unable to load libcurl: %s", load_error);
        dbm_error_hint("install libcurl (Debian: libcurl4) for IAM authentication and "
                       "pull-request comments");
        return rc;
    }
    if (global_rc != CURLE_OK)
        return dbm_error_set(DBM_EGENERIC, "unable to initialise libcurl: %s",
                             lc.easy_strerror(global_rc));
    return 0;
}

char *dbm_http_library_version(void)
{
    const curl_version_info_data *v;

    if (http_ready() < 0)
        return NULL;
    v = lc.version_info(CURLVERSION_NOW);
    return v->ssl_version ? dbm_xasprintf("%s (%s)", v->version, v->ssl_version)
                          : dbm_xstrdup(v->version);
}

/* The request's header lines as a libcurl list, which the caller frees (also on failure). */
static int headers_build(struct curl_slist **out, const dbm_http_request *req, const char *origin)
{
    *out = NULL;
    for (const char *const *h = req->headers; h && *h; h++) {
        struct curl_slist *n = lc.slist_append(*out, *h);
        if (!n)
            return dbm_error_set(DBM_EGENERIC, "out of memory building a request to '%s'", origin);
        *out = n;
    }
    return 0;
}

/* The attempts at one request: the handle and buffers of the last, and its outcome. */
typedef struct {
    CURL *c;
    dbm_buf body, head;
    dbm_http_response *resp; /* the last answer received, if any */
    CURLcode crc;            /* the last attempt's result */
} http_attempts;

/* One attempt; an answer replaces st->resp. DBM_EGENERIC when no request can be made. */
static int attempt_send(http_attempts *st, const dbm_http_request *req, struct curl_slist *headers,
                        const char *origin)
{
    long status = 0;

    dbm_buf_wipe(&st->body);
    dbm_buf_wipe(&st->head);
    lc.easy_cleanup(st->c);
    st->c = prepare(req, headers, &st->body, &st->head);
    if (!st->c)
        return dbm_error_set(DBM_EGENERIC, "unable to create a request to '%s'", origin);
    st->crc = lc.easy_perform(st->c);
    if (st->crc == CURLE_OK) {
        lc.easy_getinfo(st->c, CURLINFO_RESPONSE_CODE, &status);
        dbm_http_response_free(st->resp);
        st->resp = dbm_xcalloc(1, sizeof(*st->resp));
        st->resp->status = status;
        st->resp->body_len = st->body.len;
        st->resp->body = dbm_buf_detach(&st->body);
        st->resp->headers = dbm_buf_detach(&st->head);
    }
    return 0;
}

/*
 * Milliseconds to wait before attempt number attempt + 1, or -1 when the last
 * outcome is final: an answer that is not 429 or 5xx, a failure another
 * attempt would not cure, or no retries left. Retry-After wins over backoff.
 */
static long retry_wait(const http_attempts *st, const dbm_http_request *req, int attempt)
{
    long wait = -1;

    if (st->crc == CURLE_OK) {
        if (st->resp->status != 429 && st->resp->status < 500)
            return -1;
        wait = retry_after_ms(st->resp);
    } else if (!transient(st->crc)) {
        return -1;
    }
    if (attempt >= req->retries)
        return -1;
    return wait < 0 ? backoff_ms(attempt) : wait;
}

/* Attempt until the outcome is final, with a warning before each retry. */
static int send_with_retries(http_attempts *st, const dbm_http_request *req,
                             struct curl_slist *headers, const char *origin)
{
    for (int attempt = 0;; attempt++) {
        int rc = attempt_send(st, req, headers, origin);
        long wait;

        if (rc < 0)
            return rc;
        wait = retry_wait(st, req, attempt);
        if (wait < 0)
            return 0;
        if (st->crc == CURLE_OK)
            dbm_warn("'%s' answered HTTP %ld, retrying in %ld ms (attempt %d of %d)", origin,
                     st->resp->status, wait, attempt + 2, req->retries + 1);
        else
            dbm_warn("unable to reach '%s': %s, retrying in %ld ms (attempt %d of %d)", origin,
                     lc.easy_strerror(st->crc), wait, attempt + 2, req->retries + 1);
        sleep_ms(wait);
    }
}

int dbm_http_send(dbm_http_response **out, const dbm_http_request *req)
{
    struct curl_slist *headers = NULL;
    http_attempts st = {NULL, DBM_BUF_INIT, DBM_BUF_INIT, NULL, CURLE_OK};
    char *origin = NULL;
    int rc;

    *out = NULL;
    rc = http_ready();
    if (rc < 0)
        return rc; /* nothing of libcurl may be called */
    origin = url_origin(req->url ? req->url : "");
    rc = headers_build(&headers, req, origin);
    if (rc == 0)
        rc = send_with_retries(&st, req, headers, origin);
    if (rc < 0)
        goto done;
    if (st.crc != CURLE_OK) {
        rc = dbm_error_set(DBM_ECONNECT, "unable to reach '%s': %s", origin,
                           lc.easy_strerror(st.crc));
        if (transient(st.crc))
            dbm_error_hint("check the network path to '%s' (DNS, firewall, proxy variables)",
                           origin);
        goto done;
    }
    *out = st.resp;
    st.resp = NULL;

done:
    dbm_http_response_free(st.resp);
    lc.easy_cleanup(st.c);
    lc.slist_free_all(headers);
    dbm_buf_wipe(&st.body);
    dbm_buf_wipe(&st.head);
    free(origin);
    return rc;
}

char *dbm_http_header(const dbm_http_response *resp, const char *name)
{
    size_t nlen = strlen(name);
    const char *line;

    if (!resp || !resp->headers)
        return NULL;
    for (line = resp->headers; *line;) {
        const char *eol = strchr(line, '\n');
        const char *end = eol ? eol : line + strlen(line);

        if ((size_t)(end - line) > nlen && strncasecmp(line, name, nlen) == 0 &&
            line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
            return dbm_xstrndup(v, (size_t)(end - v));
        }
        if (!eol)
            break;
        line = eol + 1;
    }
    return NULL;
}

/* Bodies and headers may hold credentials: wiped before they are freed. */
void dbm_http_response_free(dbm_http_response *resp)
{
    if (!resp)
        return;
    if (resp->body) {
        explicit_bzero(resp->body, resp->body_len);
        free(resp->body);
    }
    dbm_secret_free(resp->headers);
    free(resp);
}
