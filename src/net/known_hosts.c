/*
 * known_hosts.c - the bastion's host key against the known_hosts lines given.
 *
 * The lines are filtered here rather than by libssh2: only those naming the
 * bastion (plain or hashed) are handed to libssh2_knownhost_readline, and
 * "@revoked" lines are kept apart, since libssh2 drops a line whose host
 * field is a pattern and knows no markers. The key types found for the host
 * decide which host key algorithms the session asks for, so that a bastion
 * with several keys shows the one known_hosts has.
 */
#include "net/tunnel_internal.h"
#include "common/error.h"
#include "common/util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * OpenSSH's order when nothing is known; DSA is never offered. libssh2 1.10
 * verifies RSA host keys only with SHA-1 signatures (ssh-rsa), which OpenSSH
 * 8.8 and later no longer make by default, so RSA comes last.
 */
static const char default_hostkey_methods[] =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
    "rsa-sha2-512,rsa-sha2-256,ssh-rsa";

char *dbm_known_hosts_name(const char *host, int port)
{
    char *name = port == 22 ? dbm_xstrdup(host) : dbm_xasprintf("[%s]:%d", host, port);
    for (char *c = name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return name;
}

/* A "|1|salt|hash" field: HMAC-SHA1 of the name under the salt. */
static bool hashed_field_matches(const char *field, size_t flen, const char *name)
{
    const char *salt = field + 3, *bar = memchr(salt, '|', flen - 3);
    unsigned char s[64], h[64], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    int slen, hlen;

    if (!bar)
        return false;
    slen = dbm_tunnel_b64_decode(s, sizeof(s), salt, (size_t)(bar - salt));
    hlen = dbm_tunnel_b64_decode(h, sizeof(h), bar + 1, (size_t)(field + flen - bar - 1));
    if (slen <= 0 || hlen != SHA_DIGEST_LENGTH)
        return false;
    if (!HMAC(EVP_sha1(), s, slen, (const unsigned char *)name, strlen(name), mac, &maclen))
        return false;
    return maclen == SHA_DIGEST_LENGTH && memcmp(mac, h, SHA_DIGEST_LENGTH) == 0;
}

bool dbm_known_hosts_field_matches(const char *field, size_t flen, const char *name)
{
    if (flen > 3 && strncmp(field, "|1|", 3) == 0)
        return hashed_field_matches(field, flen, name);
    for (const char *p = field; p < field + flen;) {
        const char *comma = memchr(p, ',', (size_t)(field + flen - p));
        size_t n = comma ? (size_t)(comma - p) : (size_t)(field + flen - p);
        if (n == strlen(name) && strncasecmp(p, name, n) == 0)
            return true;
        p += n + 1;
    }
    return false;
}

/* Host key algorithm names for a known_hosts key type, in preference order. */
static const char *hostkey_methods_for(const char *keytype, size_t n)
{
    static const struct {
        const char *type;
        const char *methods;
    } map[] = {
        {"ssh-ed25519", "ssh-ed25519"},
        {"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"},
        {"ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384"},
        {"ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521"},
        {"ssh-rsa", "rsa-sha2-512,rsa-sha2-256,ssh-rsa"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strlen(map[i].type) == n && strncmp(map[i].type, keytype, n) == 0)
            return map[i].methods;
    return NULL;
}

/* Whether the comma-separated `list` holds the n-byte name `item`. */
static bool list_has(const char *list, const char *item, size_t n)
{
    for (const char *q = list; *q;) {
        size_t k = strcspn(q, ",");
        if (k == n && strncmp(q, item, n) == 0)
            return true;
        q += k + (q[k] == ',');
    }
    return false;
}

/* Append the names of `list` that are in `allowed` and not yet in `out`, in list order. */
static void list_filter(dbm_buf *out, const char *list, const char *allowed)
{
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (list_has(allowed, p, k) && !list_has(dbm_buf_cstr(out), p, k)) {
            if (out->len)
                dbm_buf_putc(out, ',');
            dbm_buf_put(out, p, k);
        }
        p += k + (p[k] == ',');
    }
}

/* Append the comma-separated `methods` to `pref`, skipping those already there. */
static void pref_add(dbm_buf *pref, const char *methods)
{
    list_filter(pref, methods, methods);
}

/*
 * One known_hosts line, trimmed: a line for this host goes into kh->hosts and
 * its key type into kh->types; an "@revoked" line into kh->revoked. Returns
 * libssh2's result (0 when the line was taken or does not concern the host).
 */
static int read_line(dbm_known_hosts *kh, char *s, const char *name)
{
    bool is_revoked = false;
    size_t hlen;
    const char *kt;
    int rc;

    if (*s == '@') {
        is_revoked = strncmp(s, "@revoked", 8) == 0 && isspace((unsigned char)s[8]);
        if (!is_revoked)
            return 0;
        s += 8;
        while (isspace((unsigned char)*s))
            s++;
    }
    hlen = strcspn(s, " \t");
    if (!is_revoked && !dbm_known_hosts_field_matches(s, hlen, name))
        return 0;
    kt = s + hlen;
    while (*kt == ' ' || *kt == '\t')
        kt++;
    if (is_revoked) {
        /* Revoked whatever the host; libssh2 drops lines whose name is a pattern. */
        char *r = dbm_xasprintf("revoked %s", kt);
        rc = libssh2_knownhost_readline(kh->revoked, r, strlen(r), LIBSSH2_KNOWNHOST_FILE_OPENSSH);
        free(r);
        return rc;
    }
    rc = libssh2_knownhost_readline(kh->hosts, s, strlen(s), LIBSSH2_KNOWNHOST_FILE_OPENSSH);
    if (rc == 0) {
        const char *m = hostkey_methods_for(kt, strcspn(kt, " \t"));
        if (m)
            pref_add(&kh->types, m);
        kh->matched++;
    }
    return rc;
}

int dbm_known_hosts_read(dbm_known_hosts *kh, LIBSSH2_SESSION *session, const char *text,
                         const char *host, int port)
{
    char *name = dbm_known_hosts_name(host, port);
    const char *p = text;
    int lineno = 0, rc = 0;

    memset(kh, 0, sizeof(*kh));
    kh->hosts = libssh2_knownhost_init(session);
    kh->revoked = libssh2_knownhost_init(session);
    if (!kh->hosts || !kh->revoked) {
        rc = dbm_error_set(DBM_EGENERIC, "unable to create an ssh known hosts list");
        goto done;
    }
    while (*p && rc == 0) {
        size_t len = strcspn(p, "\n");
        char *line = dbm_xstrndup(p, len);
        char *s = line, *e = line + len;

        lineno++;
        p += len + (p[len] == '\n');
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
        while (isspace((unsigned char)*s))
            s++;
        if (*s && *s != '#' && read_line(kh, s, name)) {
            rc = dbm_error_set(DBM_ECONFIG, "ssh-known-hosts line %d is not a known_hosts line",
                               lineno);
            dbm_error_hint("each line is 'HOST KEYTYPE BASE64KEY', as printed by "
                           "ssh-keyscan -p PORT HOST");
        }
        free(line);
    }
done:
    free(name);
    return rc;
}

void dbm_known_hosts_clear(dbm_known_hosts *kh)
{
    if (kh->hosts)
        libssh2_knownhost_free(kh->hosts);
    if (kh->revoked)
        libssh2_knownhost_free(kh->revoked);
    dbm_buf_free(&kh->types);
    memset(kh, 0, sizeof(*kh));
}

char *dbm_known_hosts_methods(const dbm_known_hosts *kh, const char *supported)
{
    dbm_buf ordered = DBM_BUF_INIT, out = DBM_BUF_INIT;

    list_filter(&ordered, default_hostkey_methods, dbm_buf_cstr(&kh->types));
    pref_add(&ordered, default_hostkey_methods);
    list_filter(&out, dbm_buf_cstr(&ordered), supported);
    dbm_buf_free(&ordered);
    return dbm_buf_detach(&out);
}

/*
 * Only the methods this libssh2 supports are asked for: libssh2 1.10's
 * libssh2_session_method_pref mishandles (overlapping memcpy) a list that
 * names one it does not know.
 */
int dbm_known_hosts_prefer(const dbm_known_hosts *kh, LIBSSH2_SESSION *session)
{
    const char **algs = NULL;
    int n = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &algs);
    dbm_buf supported = DBM_BUF_INIT;
    char *methods;
    int rc = 0;

    for (int i = 0; i < n; i++) {
        if (supported.len)
            dbm_buf_putc(&supported, ',');
        dbm_buf_puts(&supported, algs[i]);
    }
    if (n > 0)
        libssh2_free(session, (void *)algs);
    methods = dbm_known_hosts_methods(kh, dbm_buf_cstr(&supported));
    if (!*methods || libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, methods))
        rc = dbm_error_set(DBM_EGENERIC, "libssh2 supports none of the host key types '%s'",
                           dbm_buf_cstr(&kh->types));
    dbm_buf_free(&supported);
    free(methods);
    return rc;
}

static const char *hostkey_type_name(int type)
{
    switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA:
        return "ssh-rsa";
    case LIBSSH2_HOSTKEY_TYPE_DSS:
        return "ssh-dss";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
        return "ecdsa-sha2-nistp256";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
        return "ecdsa-sha2-nistp384";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
        return "ecdsa-sha2-nistp521";
    case LIBSSH2_HOSTKEY_TYPE_ED25519:
        return "ssh-ed25519";
    default:
        return "unknown";
    }
}

static int hostkey_knownhost_mask(int type)
{
    switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA:
        return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS:
        return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
        return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
        return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
        return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519:
        return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default:
        return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
    }
}

/* "SHA256:" + unpadded base64 of the SHA-256 of the key blob, as OpenSSH prints it. */
static char *fingerprint_sha256(const char *blob, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    unsigned char b64[64];
    int n;

    SHA256((const unsigned char *)blob, len, md);
    n = EVP_EncodeBlock(b64, md, (int)sizeof(md));
    while (n > 0 && b64[n - 1] == '=')
        n--;
    return dbm_xasprintf("SHA256:%.*s", n, (const char *)b64);
}

/* Whether the key (base64 of its blob) is on an "@revoked" line. */
static bool key_revoked(const dbm_known_hosts *kh, const char *b64)
{
    struct libssh2_knownhost *entry = NULL;

    while (libssh2_knownhost_get(kh->revoked, &entry, entry) == 0)
        if (entry->key && strcmp(entry->key, b64) == 0)
            return true;
    return false;
}

/* The message for a key that libssh2_knownhost_checkp did not match (rc its result). */
static int key_refused(int rc, const dbm_known_hosts *kh, const dbm_tunnel *t,
                       const dbm_bastion_addr *b, const char *type, const char *fp)
{
    switch (rc) {
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
        dbm_error_set(DBM_ECONNECT,
                      "host key of ssh-bastion '%s' does not match ssh-known-hosts: the server "
                      "sent %s %s",
                      t->bastion, type, fp);
        dbm_error_hint("the host key changed or someone is in between: check that fingerprint "
                       "with the bastion's owner, then replace the line with the output of "
                       "'ssh-keyscan -p %d %s'",
                       b->port, b->host);
        break;
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
        if (kh->matched)
            dbm_error_set(DBM_ECONNECT,
                          "ssh-known-hosts has no %s key for ssh-bastion '%s': the server sent "
                          "%s %s",
                          type, t->bastion, type, fp);
        else
            dbm_error_set(DBM_ECONNECT,
                          "ssh-bastion '%s' is not in ssh-known-hosts: the server sent %s %s",
                          t->bastion, type, fp);
        dbm_error_hint("add the line for this key from 'ssh-keyscan -p %d %s' to ssh-known-hosts "
                       "after checking the fingerprint with the bastion's owner",
                       b->port, b->host);
        break;
    default:
        dbm_error_set(DBM_ECONNECT, "unable to check the host key of ssh-bastion '%s' (%s %s)",
                      t->bastion, type, fp);
        break;
    }
    return DBM_ECONNECT;
}

int dbm_known_hosts_verify(const dbm_known_hosts *kh, const dbm_tunnel *t,
                           const dbm_bastion_addr *b)
{
    size_t len = 0;
    int type = 0, rc, error = 0;
    const char *key = libssh2_session_hostkey(t->session, &len, &type);
    struct libssh2_knownhost *entry = NULL;
    char *fp = NULL, *b64 = NULL;

    if (!key) {
        dbm_error_set(DBM_ECONNECT, "ssh-bastion '%s' sent no host key", t->bastion);
        return DBM_ECONNECT;
    }
    fp = fingerprint_sha256(key, len);
    b64 = dbm_xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)key, (int)len);
    if (key_revoked(kh, b64)) {
        error = dbm_error_set(DBM_ECONNECT,
                              "host key of ssh-bastion '%s' is revoked in ssh-known-hosts (%s %s)",
                              t->bastion, hostkey_type_name(type), fp);
        dbm_error_hint("the bastion still uses a key marked @revoked: it must get a new host key");
        goto done;
    }
    rc = libssh2_knownhost_checkp(kh->hosts, b->host, b->port, key, len,
                                  LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
                                      hostkey_knownhost_mask(type),
                                  &entry);
    if (rc != LIBSSH2_KNOWNHOST_CHECK_MATCH)
        error = key_refused(rc, kh, t, b, hostkey_type_name(type), fp);
done:
    free(fp);
    free(b64);
    return error;
}
