#include "net/sigv4.h"
#include "common/error.h"
#include "common/util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RDS_SERVICE    "rds-db"
#define RDS_EXPIRES    "900"
#define ALGORITHM      "AWS4-HMAC-SHA256"
#define EMPTY_SHA256   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGNED_HEADERS "host"

char *dbm_sigv4_uri_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    dbm_buf b = DBM_BUF_INIT;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            dbm_buf_putc(&b, (char)c);
        } else {
            dbm_buf_putc(&b, '%');
            dbm_buf_putc(&b, hex[c >> 4]);
            dbm_buf_putc(&b, hex[c & 15]);
        }
    }
    return dbm_buf_detach(&b);
}

/* HMAC-SHA256 of data under key into out[32]; 0 or -1. */
static int hmac_sha256(unsigned char out[32], const void *key, size_t key_len, const char *data)
{
    size_t out_len = 0;

    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, (const unsigned char *)data,
                   strlen(data), out, 32, &out_len) ||
        out_len != 32)
        return -1;
    return 0;
}

/*
 * A DNS name or an IPv4 address: what may stand between "https://" and ":PORT"
 * without changing the meaning of the URL the token is.
 */
static int host_is_valid(const char *host)
{
    if (!*host)
        return 0;
    for (const char *p = host; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_'))
            return 0;
    }
    return 1;
}

typedef struct {
    const char *key;
    const char *value; /* already encoded */
} query_param;

static int param_cmp(const void *a, const void *b)
{
    const query_param *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Why no token can be made from these inputs, as DBM_ECONFIG; 0 when they will do. */
static int rds_inputs_check(const char *host, int port, const char *user, const char *region,
                            const char *access_key_id, const char *secret_access_key)
{
    int rc;

    if (!host || !host_is_valid(host)) {
        rc = dbm_error_set(DBM_ECONFIG, "invalid database host '%s' for an rds auth token",
                           host ? host : "");
        dbm_error_hint("give the database endpoint's DNS name or IPv4 address");
        return rc;
    }
    if (port < 1 || port > 65535)
        return dbm_error_set(DBM_ECONFIG, "invalid database port '%d' for an rds auth token", port);
    if (!user || !*user) {
        rc = dbm_error_set(DBM_ECONFIG, "an rds auth token needs a database user");
        dbm_error_hint("set the user in database-url (or PGUSER)");
        return rc;
    }
    if (!region || !*region) {
        rc = dbm_error_set(DBM_ECONFIG, "an rds auth token needs an aws region");
        dbm_error_hint("set aws-region (or AWS_REGION)");
        return rc;
    }
    if (!access_key_id || !*access_key_id || !secret_access_key || !*secret_access_key)
        return dbm_error_set(DBM_ECONFIG, "an rds auth token needs aws credentials");
    return 0;
}

/* The signing time as 20161107T173933Z into amz_date, and its date into date; 0 or an error. */
static int format_time(char amz_date[17], char date[9], time_t now)
{
    struct tm tm;

    if (!gmtime_r(&now, &tm) || strftime(amz_date, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        return dbm_error_set(DBM_EGENERIC, "unable to format the signing time '%lld'",
                             (long long)now);
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    return 0;
}

/* What a token is made of: the signing time and the query parameters, encoded. */
typedef struct {
    char amz_date[17], date[9]; /* 20161107T173933Z, 20161107 */
    char *enc_user, *credential, *enc_cred, *enc_token;
    char *signed_host; /* the host header: lowercase, without the default https port */
    query_param params[8];
    size_t nparams;
} rds_request;

static int rds_request_init(rds_request *r, const char *host, int port, const char *user,
                            const char *region, const char *access_key_id,
                            const char *session_token, time_t now)
{
    int rc = format_time(r->amz_date, r->date, now);

    if (rc < 0)
        return rc;

    r->enc_user = dbm_sigv4_uri_encode(user);
    r->credential =
        dbm_xasprintf("%s/%s/%s/" RDS_SERVICE "/aws4_request", access_key_id, r->date, region);
    r->enc_cred = dbm_sigv4_uri_encode(r->credential);
    if (session_token && *session_token)
        r->enc_token = dbm_sigv4_uri_encode(session_token);
    r->signed_host = port == 443 ? dbm_xstrdup(host) : dbm_xasprintf("%s:%d", host, port);
    for (char *p = r->signed_host; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');

    r->params[r->nparams++] = (query_param){"Action", "connect"};
    r->params[r->nparams++] = (query_param){"DBUser", r->enc_user};
    r->params[r->nparams++] = (query_param){"X-Amz-Algorithm", ALGORITHM};
    r->params[r->nparams++] = (query_param){"X-Amz-Credential", r->enc_cred};
    r->params[r->nparams++] = (query_param){"X-Amz-Date", r->amz_date};
    r->params[r->nparams++] = (query_param){"X-Amz-Expires", RDS_EXPIRES};
    r->params[r->nparams++] = (query_param){"X-Amz-SignedHeaders", SIGNED_HEADERS};
    if (r->enc_token)
        r->params[r->nparams++] = (query_param){"X-Amz-Security-Token", r->enc_token};
    return 0;
}

static void rds_request_clear(rds_request *r)
{
    dbm_secret_free(r->enc_token);
    free(r->enc_user);
    free(r->credential);
    free(r->enc_cred);
    free(r->signed_host);
}

/* Hex SHA-256 of the canonical request; sorts r->params, as the canonical query wants. */
static void canonical_request_hash(char out[65], rds_request *r)
{
    dbm_buf canonical = DBM_BUF_INIT;

    qsort(r->params, r->nparams, sizeof(r->params[0]), param_cmp);
    dbm_buf_puts(&canonical, "GET\n/\n");
    for (size_t i = 0; i < r->nparams; i++)
        dbm_buf_printf(&canonical, "%s%s=%s", i ? "&" : "", r->params[i].key, r->params[i].value);
    dbm_buf_printf(&canonical, "\nhost:%s\n\n" SIGNED_HEADERS "\n" EMPTY_SHA256, r->signed_host);
    dbm_sha256_hex(out, canonical.ptr, canonical.len);
    dbm_buf_wipe(&canonical);
}

/* The signature of `to_sign` in hex, with the key derived for the date, region and service. */
static int signature_hex(char out[65], const char *secret_access_key, const char *date,
                         const char *region, const char *service, const char *to_sign)
{
    unsigned char k1[32], k2[32], sig[32];
    char *sign_key = dbm_xasprintf("AWS4%s", secret_access_key);
    int rc = 0;

    if (hmac_sha256(k1, sign_key, strlen(sign_key), date) < 0 ||
        hmac_sha256(k2, k1, sizeof(k1), region) < 0 ||
        hmac_sha256(k1, k2, sizeof(k2), service) < 0 ||
        hmac_sha256(k2, k1, sizeof(k1), "aws4_request") < 0 ||
        hmac_sha256(sig, k2, sizeof(k2), to_sign) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "unable to compute an hmac-sha256 signature");
        goto done;
    }
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", sig[i]);
done:
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    dbm_secret_free(sign_key);
    return rc;
}

/*
 * The signed request is GET / on HOST:PORT with the operation parameters and
 * the X-Amz-* parameters in the query, the host header only, and the hash of
 * an empty payload. The host header is lowercase and omits the default https
 * port; the token keeps the host as given, and always the port, as the AWS
 * SDKs' generators do.
 */
int dbm_sigv4_rds_token(char **out, const char *host, int port, const char *user,
                        const char *region, const char *access_key_id,
                        const char *secret_access_key, const char *session_token, time_t now)
{
    rds_request r;
    char cr_hash[65], sig_hex[65];
    dbm_buf to_sign = DBM_BUF_INIT, token = DBM_BUF_INIT;
    int rc;

    *out = NULL;
    memset(&r, 0, sizeof(r));
    rc = rds_inputs_check(host, port, user, region, access_key_id, secret_access_key);
    if (rc == 0)
        rc = rds_request_init(&r, host, port, user, region, access_key_id, session_token, now);
    if (rc < 0)
        goto done;

    /* The token lists the parameters in this order; the signature wants them sorted. */
    dbm_buf_printf(&token, "%s:%d/?", host, port);
    for (size_t i = 0; i < r.nparams; i++)
        dbm_buf_printf(&token, "%s=%s&", r.params[i].key, r.params[i].value);

    canonical_request_hash(cr_hash, &r);
    dbm_buf_printf(&to_sign, ALGORITHM "\n%s\n%s/%s/" RDS_SERVICE "/aws4_request\n%s", r.amz_date,
                   r.date, region, cr_hash);
    rc = signature_hex(sig_hex, secret_access_key, r.date, region, RDS_SERVICE, to_sign.ptr);
    if (rc < 0)
        goto done;
    dbm_buf_printf(&token, "X-Amz-Signature=%s", sig_hex);
    *out = dbm_buf_detach(&token);

done:
    rds_request_clear(&r);
    dbm_buf_free(&to_sign);
    dbm_buf_wipe(&token);
    return rc;
}

/*
 * The canonical request of a header-signed call: no query, the signed headers
 * content-type, host, x-amz-date, x-amz-security-token (with a session
 * token) and x-amz-target (with a target), sorted as SigV4 wants them, and the payload's hash.
 */
static void header_canonical_hash(char out[65], const dbm_sigv4_request *r, const char *amz_date,
                                  const char *signed_headers)
{
    dbm_buf canonical = DBM_BUF_INIT;
    char payload[65];
    int token = r->session_token && *r->session_token;

    dbm_sha256_hex(payload, r->body ? r->body : "", r->body ? r->body_len : 0);
    dbm_buf_printf(&canonical, "%s\n%s\n\ncontent-type:%s\nhost:%s\nx-amz-date:%s\n", r->method,
                   r->path, r->content_type, r->host, amz_date);
    if (token)
        dbm_buf_printf(&canonical, "x-amz-security-token:%s\n", r->session_token);
    if (r->target)
        dbm_buf_printf(&canonical, "x-amz-target:%s\n", r->target);
    dbm_buf_printf(&canonical, "\n%s\n%s", signed_headers, payload);
    dbm_sha256_hex(out, canonical.ptr, canonical.len);
    dbm_buf_wipe(&canonical);
}

int dbm_sigv4_sign_headers(char **authorization, char amz_date[17], const dbm_sigv4_request *r)
{
    char date[9], cr_hash[65], sig_hex[65], *signed_headers;
    dbm_buf to_sign = DBM_BUF_INIT;
    int rc;

    *authorization = NULL;
    if (!r->access_key_id || !*r->access_key_id || !r->secret_access_key || !*r->secret_access_key)
        return dbm_error_set(DBM_ECONFIG, "a signed aws request needs aws credentials");
    rc = format_time(amz_date, date, r->now);
    if (rc < 0)
        return rc;
    signed_headers =
        dbm_xasprintf("content-type;host;x-amz-date%s%s",
                      r->session_token && *r->session_token ? ";x-amz-security-token" : "",
                      r->target ? ";x-amz-target" : "");
    header_canonical_hash(cr_hash, r, amz_date, signed_headers);
    dbm_buf_printf(&to_sign, ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, date, r->region,
                   r->service, cr_hash);
    rc = signature_hex(sig_hex, r->secret_access_key, date, r->region, r->service, to_sign.ptr);
    if (rc == 0)
        *authorization =
            dbm_xasprintf(ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, "
                                    "SignedHeaders=%s, Signature=%s",
                          r->access_key_id, date, r->region, r->service, signed_headers, sig_hex);
    free(signed_headers);
    dbm_buf_free(&to_sign);
    return rc;
}
