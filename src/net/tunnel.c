/*
 * tunnel.c - SSH bastion tunnel: libssh2 session, local listener, relay thread.
 *
 * dbm_tunnel_open does everything that can be refused on the caller's thread,
 * in blocking mode with a timeout: TCP connect, handshake, host key check,
 * public key login, and one direct-tcpip channel opened eagerly, so that a
 * bastion that forbids forwarding or cannot reach the database is reported
 * with its own message before libpq ever connects. That channel is kept for
 * the first connection the listener accepts.
 *
 * After open returns, the session belongs to the relay thread: libssh2 is not
 * thread-safe per session, so no other thread calls into it. The thread runs
 * the session non-blocking and multiplexes the listener, the SSH socket and
 * every accepted connection with poll(). Since libssh2 may read packets for
 * one channel while serving another, every pass tries every channel, and the
 * thread only sleeps in poll() after a pass that moved nothing.
 */
#include "net/tunnel.h"
#include "common/error.h"
#include "common/util.h"

#include <libssh2.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TUNNEL_TIMEOUT_MS 15000 /* each blocking step of open, and the close at free */
#define CLOSE_TIMEOUT_MS  3000
#define RELAY_BUF         32768

typedef struct relay_conn {
    int fd;              /* accepted client socket; -1 once closed */
    LIBSSH2_CHANNEL *ch; /* NULL until the channel is open */
    char up[RELAY_BUF];  /* client -> channel */
    size_t up_len, up_off;
    char down[RELAY_BUF]; /* channel -> client */
    size_t down_len, down_off;
    bool client_eof, eof_sent, channel_eof, shut_wr;
    bool done; /* nothing more to relay: close the channel */
    struct relay_conn *next;
} relay_conn;

struct dbm_tunnel {
    int sock;      /* TCP connection to the bastion */
    int listen_fd; /* 127.0.0.1:port */
    int port;
    int wake[2]; /* self-pipe: a byte written by dbm_tunnel_free stops the relay */
    LIBSSH2_SESSION *session;
    LIBSSH2_CHANNEL *first; /* opened by dbm_tunnel_open, for the first connection */
    char *dest_host;
    int dest_port;
    char *bastion; /* "host:port", for messages */
    relay_conn *conns;
    pthread_t thread;
    bool thread_started;
    bool libssh2_inited;
    bool handshaken;      /* a disconnect message may be sent */
    bool sock_closed;     /* the bastion closed the connection: stop polling it */
    pthread_mutex_t lock; /* guards relay_error */
    char *relay_error;
};

/* The parts of "user@host[:port]". */
typedef struct {
    char *user;
    char *host;
    int port;
} bastion_addr;

static void bastion_addr_clear(bastion_addr *b)
{
    free(b->user);
    free(b->host);
    memset(b, 0, sizeof(*b));
}

/*
 * Parse "user@host[:port]". The host may be a name, an IPv4 literal, a
 * bracketed IPv6 literal ("[::1]:2222") or a bare IPv6 literal ("::1",
 * port 22). Returns 0 or DBM_ECONFIG.
 */
static int bastion_parse(bastion_addr *out, const char *text)
{
    const char *at = strrchr(text, '@');
    const char *h, *colon, *end;
    char *portend = NULL;
    long port = 22;

    memset(out, 0, sizeof(*out));
    if (!at || at == text || !at[1])
        goto bad;
    h = at + 1;
    if (*h == '[') {
        end = strchr(h, ']');
        if (!end || end == h + 1)
            goto bad;
        out->host = dbm_xstrndup(h + 1, (size_t)(end - h - 1));
        if (end[1] == ':')
            colon = end + 1;
        else if (end[1] == '\0')
            colon = NULL;
        else
            goto bad;
    } else {
        colon = strchr(h, ':');
        if (colon && strchr(colon + 1, ':'))
            colon = NULL; /* a bare IPv6 literal */
        out->host = dbm_xstrndup(h, colon ? (size_t)(colon - h) : strlen(h));
    }
    if (colon) {
        errno = 0;
        port = strtol(colon + 1, &portend, 10);
        if (errno || portend == colon + 1 || *portend || port < 1 || port > 65535)
            goto bad;
    }
    if (!*out->host || strpbrk(out->host, " \t\r\n/"))
        goto bad;
    out->user = dbm_xstrndup(text, (size_t)(at - text));
    out->port = (int)port;
    return 0;
bad:
    bastion_addr_clear(out);
    dbm_error_set(DBM_ECONFIG, "ssh-bastion '%s' is not user@host[:port]", text);
    dbm_error_hint("write it as deploy@bastion.example.com or deploy@203.0.113.10:2222 "
                   "([2001:db8::1]:2222 for an IPv6 address with a port)");
    return DBM_ECONFIG;
}

/* The name known_hosts uses for host:port: "host" on 22, "[host]:port" elsewhere. */
static char *known_hosts_name(const char *host, int port)
{
    char *name = port == 22 ? dbm_xstrdup(host) : dbm_xasprintf("[%s]:%d", host, port);
    for (char *c = name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return name;
}

static int b64_decode(unsigned char *out, size_t cap, const char *in, size_t len)
{
    unsigned char tmp[256];
    int n;
    if (len == 0 || len > 340 || len % 4 != 0)
        return -1;
    n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
    if (n < 0)
        return -1;
    while (len > 0 && in[len - 1] == '=') {
        n--;
        len--;
    }
    if ((size_t)n > cap)
        return -1;
    memcpy(out, tmp, (size_t)n);
    return n;
}

/*
 * Does the host field of a known_hosts line name `name`? Plain comma-separated
 * names compare without case; "|1|salt|hash" entries are HMAC-SHA1(salt, name).
 * Patterns with wildcards or negations are not supported and never match.
 */
static bool host_field_matches(const char *field, size_t flen, const char *name)
{
    if (flen > 3 && strncmp(field, "|1|", 3) == 0) {
        const char *salt = field + 3, *bar = memchr(salt, '|', flen - 3);
        unsigned char s[64], h[64], mac[EVP_MAX_MD_SIZE];
        unsigned int maclen = 0;
        int slen, hlen;
        if (!bar)
            return false;
        slen = b64_decode(s, sizeof(s), salt, (size_t)(bar - salt));
        hlen = b64_decode(h, sizeof(h), bar + 1, (size_t)(field + flen - bar - 1));
        if (slen <= 0 || hlen != SHA_DIGEST_LENGTH)
            return false;
        if (!HMAC(EVP_sha1(), s, slen, (const unsigned char *)name, strlen(name), mac, &maclen))
            return false;
        return maclen == SHA_DIGEST_LENGTH && memcmp(mac, h, SHA_DIGEST_LENGTH) == 0;
    }
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

/*
 * OpenSSH's order when nothing is known; DSA is never offered. libssh2 1.10
 * verifies RSA host keys only with SHA-1 signatures (ssh-rsa), which OpenSSH
 * 8.8 and later no longer make by default, so RSA comes last.
 */
static const char default_hostkey_methods[] =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
    "rsa-sha2-512,rsa-sha2-256,ssh-rsa";

/*
 * Keep only the methods this libssh2 supports, in order: libssh2 1.10's
 * libssh2_session_method_pref mishandles (overlapping memcpy) a list that
 * names one it does not know.
 */
static char *pref_supported(LIBSSH2_SESSION *session, const char *pref)
{
    const char **algs = NULL;
    int n = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &algs);
    dbm_buf supported = DBM_BUF_INIT, out = DBM_BUF_INIT;

    for (int i = 0; i < n; i++) {
        if (supported.len)
            dbm_buf_putc(&supported, ',');
        dbm_buf_puts(&supported, algs[i]);
    }
    if (n > 0)
        libssh2_free(session, (void *)algs);
    list_filter(&out, pref, dbm_buf_cstr(&supported));
    dbm_buf_free(&supported);
    return dbm_buf_detach(&out);
}

/* Append the comma-separated `methods` to `pref`, skipping those already there. */
static void pref_add(dbm_buf *pref, const char *methods)
{
    list_filter(pref, methods, methods);
}

/*
 * Read the known_hosts text. Lines for this host go into `hosts` through
 * libssh2_knownhost_readline, and the algorithms of their keys, first, into
 * `pref`; "@revoked" lines go into `revoked` whatever their host; other
 * markers (@cert-authority) are skipped. A line libssh2 cannot read is an
 * error naming its number.
 */
static int known_hosts_load(LIBSSH2_KNOWNHOSTS *hosts, LIBSSH2_KNOWNHOSTS *revoked, dbm_buf *pref,
                            int *matched, const char *text, const char *name)
{
    const char *p = text;
    int lineno = 0;

    *matched = 0;
    while (*p) {
        size_t len = strcspn(p, "\n");
        char *line = dbm_xstrndup(p, len);
        char *s = line, *e;
        size_t hlen;
        bool is_revoked = false;

        lineno++;
        p += len + (p[len] == '\n');
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '#') {
            free(line);
            continue;
        }
        if (*s == '@') {
            is_revoked = strncmp(s, "@revoked", 8) == 0 && isspace((unsigned char)s[8]);
            if (!is_revoked) {
                free(line);
                continue;
            }
            s += 8;
            while (isspace((unsigned char)*s))
                s++;
        }
        hlen = strcspn(s, " \t");
        if (is_revoked || host_field_matches(s, hlen, name)) {
            const char *kt = s + hlen;
            size_t ktlen;
            int rc;
            while (*kt == ' ' || *kt == '\t')
                kt++;
            ktlen = strcspn(kt, " \t");
            if (is_revoked) {
                /* Revoked whatever the host; libssh2 drops lines whose name is a pattern. */
                char *r = dbm_xasprintf("revoked %s", kt);
                rc = libssh2_knownhost_readline(revoked, r, strlen(r),
                                                LIBSSH2_KNOWNHOST_FILE_OPENSSH);
                free(r);
            } else {
                rc =
                    libssh2_knownhost_readline(hosts, s, strlen(s), LIBSSH2_KNOWNHOST_FILE_OPENSSH);
            }
            if (rc) {
                free(line);
                dbm_error_set(DBM_ECONFIG, "ssh-known-hosts line %d is not a known_hosts line",
                              lineno);
                dbm_error_hint("each line is 'HOST KEYTYPE BASE64KEY', as printed by "
                               "ssh-keyscan -p PORT HOST");
                return DBM_ECONFIG;
            }
            if (!is_revoked) {
                const char *m = hostkey_methods_for(kt, ktlen);
                if (m)
                    pref_add(pref, m);
                (*matched)++;
            }
        }
        free(line);
    }
    return 0;
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

/* libssh2's last error message for the session ("" when none). */
static const char *session_error(LIBSSH2_SESSION *s, int *code)
{
    char *msg = NULL;
    int rc = libssh2_session_last_error(s, &msg, NULL, 0);
    if (code)
        *code = rc;
    return msg ? msg : "";
}

/*
 * Check the server's host key against the known_hosts lines for the bastion.
 * Unknown, changed or revoked: DBM_ECONNECT with the key type and fingerprint.
 */
static int hostkey_verify(dbm_tunnel *t, LIBSSH2_KNOWNHOSTS *hosts, LIBSSH2_KNOWNHOSTS *revoked,
                          int matched, const bastion_addr *b)
{
    size_t len = 0;
    int type = 0, rc, error = DBM_ECONNECT;
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
    while (libssh2_knownhost_get(revoked, &entry, entry) == 0)
        if (entry->key && strcmp(entry->key, b64) == 0) {
            dbm_error_set(DBM_ECONNECT,
                          "host key of ssh-bastion '%s' is revoked in ssh-known-hosts (%s %s)",
                          t->bastion, hostkey_type_name(type), fp);
            dbm_error_hint(
                "the bastion still uses a key marked @revoked: it must get a new host key");
            goto done;
        }
    rc = libssh2_knownhost_checkp(hosts, b->host, b->port, key, len,
                                  LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
                                      hostkey_knownhost_mask(type),
                                  &entry);
    switch (rc) {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH:
        error = 0;
        break;
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
        dbm_error_set(DBM_ECONNECT,
                      "host key of ssh-bastion '%s' does not match ssh-known-hosts: the server "
                      "sent %s %s",
                      t->bastion, hostkey_type_name(type), fp);
        dbm_error_hint("the host key changed or someone is in between: check that fingerprint "
                       "with the bastion's owner, then replace the line with the output of "
                       "'ssh-keyscan -p %d %s'",
                       b->port, b->host);
        break;
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
        if (matched)
            dbm_error_set(DBM_ECONNECT,
                          "ssh-known-hosts has no %s key for ssh-bastion '%s': the server sent "
                          "%s %s",
                          hostkey_type_name(type), t->bastion, hostkey_type_name(type), fp);
        else
            dbm_error_set(DBM_ECONNECT,
                          "ssh-bastion '%s' is not in ssh-known-hosts: the server sent %s %s",
                          t->bastion, hostkey_type_name(type), fp);
        dbm_error_hint("add the line for this key from 'ssh-keyscan -p %d %s' to ssh-known-hosts "
                       "after checking the fingerprint with the bastion's owner",
                       b->port, b->host);
        break;
    default:
        dbm_error_set(DBM_ECONNECT, "unable to check the host key of ssh-bastion '%s' (%s %s)",
                      t->bastion, hostkey_type_name(type), fp);
        break;
    }
done:
    free(fp);
    free(b64);
    return error;
}

/* The key's first line, to tell formats apart in messages. */
static bool key_has(const char *key, const char *marker)
{
    return strstr(key, marker) != NULL;
}

/*
 * An OpenSSH-format key is encrypted when its cipher name is not "none". The
 * header is: "openssh-key-v1\0", then a string (uint32 length + bytes).
 */
static bool openssh_key_encrypted(const char *key)
{
    const char *b = strstr(key, "-----BEGIN OPENSSH PRIVATE KEY-----");
    unsigned char raw[64];
    char chunk[65];
    size_t n = 0;
    int got;

    if (!b)
        return false;
    b += strlen("-----BEGIN OPENSSH PRIVATE KEY-----");
    while (*b && n < 64) {
        if (!isspace((unsigned char)*b))
            chunk[n++] = *b;
        b++;
    }
    chunk[n] = '\0';
    got = b64_decode(raw, sizeof(raw), chunk, n - n % 4);
    if (got < 19 || memcmp(raw, "openssh-key-v1", 15) != 0)
        return false;
    {
        uint32_t l =
            (uint32_t)raw[15] << 24 | (uint32_t)raw[16] << 16 | (uint32_t)raw[17] << 8 | raw[18];
        return !(l == 4 && got >= 23 && memcmp(raw + 19, "none", 4) == 0);
    }
}

/* A copy of the key text with CRLF made LF and a final newline. Caller wipes. */
static char *key_normalize(const char *key)
{
    dbm_buf b = DBM_BUF_INIT;
    while (isspace((unsigned char)*key))
        key++;
    for (const char *c = key; *c; c++)
        if (*c != '\r')
            dbm_buf_putc(&b, *c);
    while (b.len && isspace((unsigned char)b.ptr[b.len - 1]))
        b.len--;
    dbm_buf_putc(&b, '\n');
    return dbm_buf_detach(&b);
}

/* Check the key text before libssh2 sees it, for messages that say what to do. */
static int key_precheck(const char *key)
{
    if (!key_has(key, "-----BEGIN ") || !key_has(key, "PRIVATE KEY-----")) {
        dbm_error_set(DBM_ECONFIG, "ssh-private-key does not hold a private key");
        dbm_error_hint("pass the key's text (the lines from -----BEGIN ... PRIVATE KEY----- to "
                       "-----END ... PRIVATE KEY-----), for example from a secret, not a path; "
                       "convert a PuTTY key with puttygen KEY.ppk -O private-openssh -o KEYFILE");
        return DBM_ECONFIG;
    }
    if (key_has(key, "Proc-Type: 4,ENCRYPTED") || key_has(key, "BEGIN ENCRYPTED PRIVATE KEY") ||
        openssh_key_encrypted(key)) {
        dbm_error_set(DBM_ECONFIG, "ssh-private-key is protected by a passphrase");
        dbm_error_hint("give a key without a passphrase (a deploy key for the bastion): "
                       "ssh-keygen -p -N '' -f KEYFILE removes it from a copy");
        return DBM_ECONFIG;
    }
    return 0;
}

/* A big-endian uint32 length and that many bytes: the SSH wire "string". */
static bool ssh_string(const unsigned char **p, const unsigned char *end, const unsigned char **s,
                       uint32_t *len)
{
    if (end - *p < 4)
        return false;
    *len = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 | (uint32_t)(*p)[2] << 8 | (*p)[3];
    *p += 4;
    if ((uint32_t)(end - *p) < *len)
        return false;
    *s = *p;
    *p += *len;
    return true;
}

/*
 * The key's algorithm for messages: "rsa", "ecdsa", "ed25519" or "unknown".
 * PEM and PKCS#8 are read with OpenSSL; an OpenSSH key's public part names
 * its type in clear after the cipher, KDF and key count.
 */
static const char *key_kind(const char *key)
{
    const char *b = strstr(key, "-----BEGIN OPENSSH PRIVATE KEY-----");
    const char *kind = "unknown";

    if (b) {
        const char *e = strstr(b, "-----END");
        dbm_buf b64 = DBM_BUF_INIT;
        unsigned char *raw;
        int n;
        b += strlen("-----BEGIN OPENSSH PRIVATE KEY-----");
        for (; e && b < e; b++)
            if (!isspace((unsigned char)*b))
                dbm_buf_putc(&b64, *b);
        raw = dbm_xmalloc(b64.len + 1);
        n = b64.len ? EVP_DecodeBlock(raw, (unsigned char *)b64.ptr, (int)b64.len) : -1;
        if (n > 15 && memcmp(raw, "openssh-key-v1", 15) == 0) {
            const unsigned char *p = raw + 15, *end = raw + n, *str, *pub_end;
            uint32_t len;
            if (ssh_string(&p, end, &str, &len) && ssh_string(&p, end, &str, &len) &&
                ssh_string(&p, end, &str, &len) && end - p >= 4) {
                p += 4; /* number of keys */
                if (ssh_string(&p, end, &str, &len)) {
                    pub_end = str + len;
                    p = str;
                    if (ssh_string(&p, pub_end, &str, &len)) {
                        if (len == 7 && memcmp(str, "ssh-rsa", 7) == 0)
                            kind = "rsa";
                        else if (len == 11 && memcmp(str, "ssh-ed25519", 11) == 0)
                            kind = "ed25519";
                        else if (len > 6 && memcmp(str, "ecdsa-", 6) == 0)
                            kind = "ecdsa";
                    }
                }
            }
        }
        dbm_buf_wipe(&b64);
        free(raw);
        return kind;
    }
    {
        BIO *bio = BIO_new_mem_buf(key, -1);
        EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"") : NULL;
        if (pk) {
            int id = EVP_PKEY_get_base_id(pk);
            kind = id == EVP_PKEY_RSA       ? "rsa"
                   : id == EVP_PKEY_EC      ? "ecdsa"
                   : id == EVP_PKEY_ED25519 ? "ed25519"
                                            : "unknown";
        }
        EVP_PKEY_free(pk);
        BIO_free(bio);
    }
    return kind;
}

static int key_error(const dbm_tunnel *t, const bastion_addr *b, const char *key)
{
    int code = 0;
    const char *msg = session_error(t->session, &code);
    const char *kind = key_kind(key);

    if (code == LIBSSH2_ERROR_SOCKET_SEND || code == LIBSSH2_ERROR_SOCKET_RECV ||
        code == LIBSSH2_ERROR_SOCKET_DISCONNECT || code == LIBSSH2_ERROR_TIMEOUT) {
        dbm_error_set(DBM_ECONNECT, "ssh-bastion '%s' closed the connection during login: %s",
                      t->bastion, msg);
        dbm_error_hint("check the bastion's sshd log for user '%s' (MaxAuthTries, AllowUsers)",
                       b->user);
        return DBM_ECONNECT;
    }
    /* Anything but a refusal is libssh2 failing to use the key (-14, -16...). */
    if (code != LIBSSH2_ERROR_AUTHENTICATION_FAILED && code != LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED) {
        dbm_error_set(DBM_ECONFIG, "ssh-private-key could not be read by libssh2: %s", msg);
        dbm_error_hint("give an unencrypted RSA, ECDSA or Ed25519 key in OpenSSH format, PEM or "
                       "PKCS#8; ssh-keygen -p -N '' -f KEYFILE rewrites a copy in OpenSSH format, "
                       "ssh-keygen -p -m PEM -N '' -f KEYFILE in PEM (RSA, ECDSA)");
        return DBM_ECONFIG;
    }
    dbm_error_set(DBM_ECONNECT, "ssh-bastion '%s' refused the %s key for user '%s': %s", t->bastion,
                  kind, b->user, msg);
    if (strcmp(kind, "rsa") == 0)
        dbm_error_hint("libssh2 1.10 signs with RSA keys only as ssh-rsa (SHA-1), which OpenSSH "
                       "8.8 and later refuse by default: use an Ed25519 or ECDSA key; otherwise "
                       "add the public key (ssh-keygen -y -f KEYFILE) to ~%s/.ssh/authorized_keys "
                       "on the bastion",
                       b->user);
    else
        dbm_error_hint("add the public key (ssh-keygen -y -f KEYFILE) to ~%s/.ssh/authorized_keys "
                       "on the bastion, or fix the user name in ssh-bastion",
                       b->user);
    return DBM_ECONNECT;
}

/* Connect a socket with a timeout; returns the fd or -1 with errno set. */
static int connect_timeout(const struct addrinfo *ai, int timeout_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int fl, err = 0;
    socklen_t elen = sizeof(err);
    struct pollfd pfd;

    if (fd < 0)
        return -1;
    fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        goto ok;
    if (errno != EINPROGRESS)
        goto fail;
    pfd.fd = fd;
    pfd.events = POLLOUT;
    pfd.revents = 0;
    for (;;) {
        int rc = poll(&pfd, 1, timeout_ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0) {
            errno = ETIMEDOUT;
            goto fail;
        }
        if (rc < 0)
            goto fail;
        break;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        goto fail;
    if (err) {
        errno = err;
        goto fail;
    }
ok:
    fcntl(fd, F_SETFL, fl);
    return fd;
fail:
    err = errno;
    close(fd);
    errno = err;
    return -1;
}

static int tcp_connect(dbm_tunnel *t, const bastion_addr *b)
{
    struct addrinfo hints, *res = NULL;
    char port[16];
    int rc, err = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", b->port);
    rc = getaddrinfo(b->host, port, &hints, &res);
    if (rc) {
        dbm_error_set(DBM_ECONNECT, "unable to resolve ssh-bastion host '%s': %s", b->host,
                      gai_strerror(rc));
        dbm_error_hint("check the host name in ssh-bastion and this machine's DNS");
        return DBM_ECONNECT;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        t->sock = connect_timeout(ai, TUNNEL_TIMEOUT_MS);
        if (t->sock >= 0)
            break;
        err = errno;
    }
    freeaddrinfo(res);
    if (t->sock < 0) {
        dbm_error_set(DBM_ECONNECT, "unable to reach ssh-bastion '%s': %s", t->bastion,
                      strerror(err));
        dbm_error_hint("check the host and port in ssh-bastion, and that the bastion accepts SSH "
                       "from this machine (security group, firewall)");
        return DBM_ECONNECT;
    }
    return 0;
}

static int listener_open(dbm_tunnel *t)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    t->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (t->listen_fd < 0)
        goto fail;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    if (bind(t->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(t->listen_fd, 16) < 0 || getsockname(t->listen_fd, (struct sockaddr *)&sa, &len) < 0)
        goto fail;
    t->port = ntohs(sa.sin_port);
    if (pipe2(t->wake, O_CLOEXEC | O_NONBLOCK) < 0)
        goto fail;
    return 0;
fail:
    return dbm_error_set(DBM_EGENERIC, "unable to listen on 127.0.0.1 for the ssh tunnel: %s",
                         strerror(errno));
}

/* Open the first direct-tcpip channel, in blocking mode, to test forwarding. */
static int channel_first(dbm_tunnel *t)
{
    int code = 0;
    const char *msg;

    t->first = libssh2_channel_direct_tcpip_ex(t->session, t->dest_host, t->dest_port, "127.0.0.1",
                                               t->port);
    if (t->first)
        return 0;
    msg = session_error(t->session, &code);
    if (strstr(msg, "prohibited")) {
        dbm_error_set(DBM_ECONNECT, "ssh-bastion '%s' refuses to forward to '%s:%d': %s",
                      t->bastion, t->dest_host, t->dest_port, msg);
        dbm_error_hint("the bastion's sshd must allow it: AllowTcpForwarding yes (or local) for "
                       "this user, and PermitOpen, if set, must list %s:%d",
                       t->dest_host, t->dest_port);
    } else if (strstr(msg, "connect failed") || strstr(msg, "Connect failed")) {
        dbm_error_set(DBM_ECONNECT, "ssh-bastion '%s' could not connect to '%s:%d': %s", t->bastion,
                      t->dest_host, t->dest_port, msg);
        dbm_error_hint("the database host and port in database-url are used from the bastion: "
                       "check them, and that the database accepts connections from the bastion");
    } else {
        dbm_error_set(DBM_ECONNECT, "ssh-bastion '%s' did not open a channel to '%s:%d': %s",
                      t->bastion, t->dest_host, t->dest_port, msg);
        dbm_error_hint("check that the bastion allows TCP forwarding (AllowTcpForwarding) and "
                       "reaches the database host and port given in database-url");
    }
    return DBM_ECONNECT;
}

static void *relay_main(void *arg);

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

int dbm_tunnel_open(dbm_tunnel **out, const char *bastion, const char *private_key,
                    const char *known_hosts, const char *dest_host, int dest_port)
{
    bastion_addr b;
    dbm_tunnel *t = NULL;
    LIBSSH2_KNOWNHOSTS *hosts = NULL, *revoked = NULL;
    dbm_buf pref = DBM_BUF_INIT, ordered = DBM_BUF_INIT;
    char *key = NULL, *name = NULL, *methods = NULL;
    int matched = 0, rc, error;

    *out = NULL;
    error = bastion_parse(&b, bastion);
    if (error)
        return error;
    if (!private_key || !*private_key || !known_hosts || !*known_hosts) {
        error = dbm_error_set(DBM_ECONFIG, "ssh-bastion is set but ssh-%s is empty",
                              !private_key || !*private_key ? "private-key" : "known-hosts");
        dbm_error_hint("ssh-private-key takes the key's text; ssh-known-hosts takes the bastion's "
                       "known_hosts lines (ssh-keyscan -p %d %s, checked with its owner)",
                       b.port, b.host);
        goto done;
    }
    if (!dest_host || !*dest_host || dest_port < 1 || dest_port > 65535) {
        error = dbm_error_set(DBM_ECONFIG, "the ssh tunnel needs the database host and port");
        dbm_error_hint("give the database host in database-url as the bastion sees it");
        goto done;
    }
    key = key_normalize(private_key);
    error = key_precheck(key);
    if (error)
        goto done;

    t = dbm_xcalloc(1, sizeof(*t));
    t->sock = t->listen_fd = t->wake[0] = t->wake[1] = -1;
    pthread_mutex_init(&t->lock, NULL);
    t->dest_host = dbm_xstrdup(dest_host);
    t->dest_port = dest_port;
    t->bastion = strchr(b.host, ':') ? dbm_xasprintf("[%s]:%d", b.host, b.port)
                                     : dbm_xasprintf("%s:%d", b.host, b.port);

    pthread_mutex_lock(&init_lock);
    rc = libssh2_init(0);
    pthread_mutex_unlock(&init_lock);
    if (rc) {
        error = dbm_error_set(DBM_EGENERIC, "unable to initialize libssh2");
        goto done;
    }
    t->libssh2_inited = true;
    t->session = libssh2_session_init();
    if (!t->session) {
        error = dbm_error_set(DBM_EGENERIC, "unable to create an ssh session");
        goto done;
    }
    libssh2_session_set_blocking(t->session, 1);
    libssh2_session_set_timeout(t->session, TUNNEL_TIMEOUT_MS);

    hosts = libssh2_knownhost_init(t->session);
    revoked = libssh2_knownhost_init(t->session);
    if (!hosts || !revoked) {
        error = dbm_error_set(DBM_EGENERIC, "unable to create an ssh known hosts list");
        goto done;
    }
    name = known_hosts_name(b.host, b.port);
    error = known_hosts_load(hosts, revoked, &pref, &matched, known_hosts, name);
    if (error)
        goto done;
    /*
     * Ask first for the key types known_hosts has for this host, in OpenSSH's
     * order of preference, then for the others (to name an unknown key).
     */
    list_filter(&ordered, default_hostkey_methods, dbm_buf_cstr(&pref));
    pref_add(&ordered, default_hostkey_methods);
    methods = pref_supported(t->session, dbm_buf_cstr(&ordered));
    if (!*methods || libssh2_session_method_pref(t->session, LIBSSH2_METHOD_HOSTKEY, methods)) {
        error = dbm_error_set(DBM_EGENERIC, "libssh2 supports none of the host key types '%s'",
                              dbm_buf_cstr(&pref));
        goto done;
    }

    error = tcp_connect(t, &b);
    if (error)
        goto done;
    if (libssh2_session_handshake(t->session, t->sock)) {
        error = dbm_error_set(DBM_ECONNECT, "ssh handshake with ssh-bastion '%s' failed: %s",
                              t->bastion, session_error(t->session, NULL));
        dbm_error_hint("check that '%s' is an SSH server that offers Ed25519, ECDSA or "
                       "RSA (SHA-2) host keys",
                       t->bastion);
        goto done;
    }
    t->handshaken = true;
    error = hostkey_verify(t, hosts, revoked, matched, &b);
    if (error)
        goto done;
    if (libssh2_userauth_publickey_frommemory(t->session, b.user, strlen(b.user), NULL, 0, key,
                                              strlen(key), NULL)) {
        error = key_error(t, &b, key);
        goto done;
    }
    error = listener_open(t);
    if (error)
        goto done;
    error = channel_first(t);
    if (error)
        goto done;

    libssh2_session_set_blocking(t->session, 0);
    if (pthread_create(&t->thread, NULL, relay_main, t)) {
        error = dbm_error_set(DBM_EGENERIC, "unable to start the ssh relay thread");
        goto done;
    }
    t->thread_started = true;
    *out = t;
    t = NULL;
    error = 0;
done:
    if (hosts)
        libssh2_knownhost_free(hosts);
    if (revoked)
        libssh2_knownhost_free(revoked);
    dbm_buf_free(&pref);
    dbm_buf_free(&ordered);
    free(name);
    free(methods);
    dbm_secret_free(key);
    bastion_addr_clear(&b);
    dbm_tunnel_free(t);
    return error;
}

int dbm_tunnel_port(const dbm_tunnel *t)
{
    return t->port;
}

char *dbm_tunnel_relay_error(dbm_tunnel *t)
{
    char *msg;
    if (!t)
        return NULL;
    pthread_mutex_lock(&t->lock);
    msg = dbm_xstrdup(t->relay_error);
    pthread_mutex_unlock(&t->lock);
    return msg;
}

/* Record the relay's first failure for dbm_tunnel_relay_error (the thread records no dbm_error). */
static void relay_fail(dbm_tunnel *t, const char *what)
{
    int code = 0;
    const char *msg = session_error(t->session, &code);
    pthread_mutex_lock(&t->lock);
    if (!t->relay_error)
        t->relay_error = dbm_xasprintf("%s: %s", what, *msg ? msg : "connection lost");
    pthread_mutex_unlock(&t->lock);
}

static void conn_close_fd(relay_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/*
 * Move what can move for one connection without blocking. Returns true when
 * something happened (bytes moved, a state changed), so the caller loops
 * again before sleeping.
 */
static bool relay_step(dbm_tunnel *t, relay_conn *c)
{
    bool progress = false;
    ssize_t n;

    if (c->done)
        return false;
    if (!c->ch) {
        char *msg = NULL;
        c->ch = libssh2_channel_direct_tcpip_ex(t->session, t->dest_host, t->dest_port, "127.0.0.1",
                                                t->port);
        if (!c->ch) {
            if (libssh2_session_last_error(t->session, &msg, NULL, 0) == LIBSSH2_ERROR_EAGAIN)
                return false;
            relay_fail(t, "the bastion did not open a channel to the database");
            c->done = true;
            return true;
        }
        progress = true;
    }

    /* client -> channel */
    if (c->up_off == c->up_len && !c->client_eof) {
        n = recv(c->fd, c->up, sizeof(c->up), 0);
        if (n > 0) {
            c->up_len = (size_t)n;
            c->up_off = 0;
            progress = true;
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            c->client_eof = true;
            progress = true;
        }
    }
    while (c->up_off < c->up_len) {
        n = libssh2_channel_write(c->ch, c->up + c->up_off, c->up_len - c->up_off);
        if (n == LIBSSH2_ERROR_EAGAIN)
            break;
        if (n < 0) {
            relay_fail(t, "the ssh channel to the database failed");
            c->done = true;
            return true;
        }
        c->up_off += (size_t)n;
        progress = true;
    }
    if (c->up_off == c->up_len)
        c->up_off = c->up_len = 0;
    if (c->client_eof && c->up_len == 0 && !c->eof_sent) {
        int rc = libssh2_channel_send_eof(c->ch);
        if (rc != LIBSSH2_ERROR_EAGAIN) {
            c->eof_sent = true;
            progress = true;
        }
    }

    /* channel -> client */
    if (c->down_off == c->down_len && !c->channel_eof) {
        n = libssh2_channel_read(c->ch, c->down, sizeof(c->down));
        if (n > 0) {
            c->down_len = (size_t)n;
            c->down_off = 0;
            progress = true;
        } else if (n == 0 || (n < 0 && n != LIBSSH2_ERROR_EAGAIN)) {
            if (n < 0)
                relay_fail(t, "the ssh channel to the database failed");
            if (n < 0 || libssh2_channel_eof(c->ch)) {
                c->channel_eof = true;
                progress = true;
            }
        }
    }
    while (c->down_off < c->down_len && c->fd >= 0) {
        n = send(c->fd, c->down + c->down_off, c->down_len - c->down_off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        if (n <= 0) {
            /* The client went away: nothing more can be delivered. */
            c->down_off = c->down_len;
            c->client_eof = c->channel_eof = true;
            progress = true;
            break;
        }
        c->down_off += (size_t)n;
        progress = true;
    }
    if (c->down_off == c->down_len)
        c->down_off = c->down_len = 0;
    if (c->channel_eof && c->down_len == 0 && !c->shut_wr && c->fd >= 0) {
        shutdown(c->fd, SHUT_WR);
        c->shut_wr = true;
        progress = true;
    }
    if (c->client_eof && c->eof_sent && c->channel_eof && c->down_len == 0) {
        c->done = true;
        progress = true;
    }
    return progress;
}

/* Free finished connections whose channel closed; true when one was freed. */
static bool relay_reap(dbm_tunnel *t)
{
    bool progress = false;
    for (relay_conn **pp = &t->conns; *pp;) {
        relay_conn *c = *pp;
        if (c->done) {
            conn_close_fd(c);
            if (c->ch && libssh2_channel_free(c->ch) == LIBSSH2_ERROR_EAGAIN) {
                pp = &c->next;
                continue;
            }
            *pp = c->next;
            free(c);
            progress = true;
            continue;
        }
        pp = &c->next;
    }
    return progress;
}

static bool relay_accept(dbm_tunnel *t)
{
    bool progress = false;
    for (;;) {
        int fd = accept4(t->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        relay_conn *c;
        if (fd < 0)
            return progress;
        c = dbm_xcalloc(1, sizeof(*c));
        c->fd = fd;
        c->ch = t->first;
        t->first = NULL;
        c->next = t->conns;
        t->conns = c;
        progress = true;
    }
}

static bool relay_stopping(dbm_tunnel *t)
{
    char byte;
    return read(t->wake[0], &byte, 1) == 1;
}

static void relay_wait(dbm_tunnel *t)
{
    struct pollfd *pfd;
    size_t n = 0, cap = 3;
    int dirs = libssh2_session_block_directions(t->session);

    for (relay_conn *c = t->conns; c; c = c->next)
        cap++;
    pfd = dbm_xcalloc(cap, sizeof(*pfd));
    pfd[n].fd = t->wake[0];
    pfd[n++].events = POLLIN;
    pfd[n].fd = t->listen_fd;
    pfd[n++].events = POLLIN;
    /* A closed socket stays readable: polling it would spin. */
    pfd[n].fd = t->sock_closed ? -1 : t->sock;
    pfd[n++].events =
        (short)(POLLIN | POLLRDHUP | (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND ? POLLOUT : 0));
    for (relay_conn *c = t->conns; c; c = c->next) {
        if (c->fd < 0 || c->done)
            continue;
        pfd[n].fd = c->fd;
        pfd[n].events = 0;
        if (c->up_len == 0 && !c->client_eof && c->ch)
            pfd[n].events |= POLLIN;
        if (c->down_len > 0)
            pfd[n].events |= POLLOUT;
        n++;
    }
    /* A timeout, in case libssh2 holds data that no socket announces. */
    if (poll(pfd, n, 1000) > 0 && (pfd[2].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
        t->sock_closed = true;
        relay_fail(t, "the bastion closed the ssh connection");
    }
    free(pfd);
}

/* Close everything in blocking mode with a short timeout: the thread is ending. */
static void relay_shutdown(dbm_tunnel *t)
{
    libssh2_session_set_timeout(t->session, CLOSE_TIMEOUT_MS);
    libssh2_session_set_blocking(t->session, 1);
    while (t->conns) {
        relay_conn *c = t->conns;
        t->conns = c->next;
        conn_close_fd(c);
        if (c->ch)
            libssh2_channel_free(c->ch);
        free(c);
    }
    if (t->first) {
        libssh2_channel_free(t->first);
        t->first = NULL;
    }
}

static void *relay_main(void *arg)
{
    dbm_tunnel *t = arg;

    while (!relay_stopping(t)) {
        bool progress = relay_accept(t);
        for (relay_conn *c = t->conns; c; c = c->next)
            progress |= relay_step(t, c);
        progress |= relay_reap(t);
        if (!progress)
            relay_wait(t);
    }
    relay_shutdown(t);
    return NULL;
}

void dbm_tunnel_free(dbm_tunnel *t)
{
    if (!t)
        return;
    if (t->thread_started) {
        char byte = 1;
        while (write(t->wake[1], &byte, 1) < 0 && errno == EINTR)
            ;
        pthread_join(t->thread, NULL);
    } else if (t->session) {
        relay_shutdown(t);
    }
    if (t->session) {
        libssh2_session_set_timeout(t->session, CLOSE_TIMEOUT_MS);
        libssh2_session_set_blocking(t->session, 1);
        if (t->handshaken)
            libssh2_session_disconnect(t->session, "db-migrate done");
        libssh2_session_free(t->session);
    }
    if (t->libssh2_inited) {
        pthread_mutex_lock(&init_lock);
        libssh2_exit();
        pthread_mutex_unlock(&init_lock);
    }
    if (t->sock >= 0)
        close(t->sock);
    if (t->listen_fd >= 0)
        close(t->listen_fd);
    if (t->wake[0] >= 0)
        close(t->wake[0]);
    if (t->wake[1] >= 0)
        close(t->wake[1]);
    pthread_mutex_destroy(&t->lock);
    free(t->relay_error);
    free(t->dest_host);
    free(t->bastion);
    free(t);
}
