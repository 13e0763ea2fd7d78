/*
 * ssh_key.c - the private key for the bastion: checks before libssh2 reads it,
 * the login, and what to say when the login fails.
 *
 * libssh2's own errors about keys are terse ("Unable to extract public key
 * from private key file"), so the key text is looked at first: a text that is
 * no private key, or one protected by a passphrase, is refused here with a
 * message that says what to give instead. The key's algorithm is read (from
 * an OpenSSH key's public part, or with OpenSSL for PEM and PKCS#8) only to
 * explain a refused login.
 */
#include "net/tunnel_internal.h"
#include "common/error.h"
#include "common/util.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define OPENSSH_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"

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
    const char *b = strstr(key, OPENSSH_BEGIN);
    unsigned char raw[64];
    char chunk[65];
    size_t n = 0;
    int got;
    uint32_t l;

    if (!b)
        return false;
    b += strlen(OPENSSH_BEGIN);
    while (*b && n < 64) {
        if (!isspace((unsigned char)*b))
            chunk[n++] = *b;
        b++;
    }
    chunk[n] = '\0';
    got = dbm_tunnel_b64_decode(raw, sizeof(raw), chunk, n - n % 4);
    if (got < 19 || memcmp(raw, "openssh-key-v1", 15) != 0)
        return false;
    l = (uint32_t)raw[15] << 24 | (uint32_t)raw[16] << 16 | (uint32_t)raw[17] << 8 | raw[18];
    return !(l == 4 && got >= 23 && memcmp(raw + 19, "none", 4) == 0);
}

char *dbm_ssh_key_normalize(const char *key)
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

int dbm_ssh_key_precheck(const char *key)
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
 * The type named by the decoded body of an OpenSSH key: after the magic, the
 * cipher, KDF, KDF options and key count, the first public key starts with
 * its type as a string.
 */
static const char *openssh_blob_kind(const unsigned char *raw, int n)
{
    const unsigned char *p, *end, *str, *pub_end;
    uint32_t len;

    if (n <= 15 || memcmp(raw, "openssh-key-v1", 15) != 0)
        return "unknown";
    p = raw + 15;
    end = raw + n;
    if (!ssh_string(&p, end, &str, &len) || !ssh_string(&p, end, &str, &len) ||
        !ssh_string(&p, end, &str, &len) || end - p < 4)
        return "unknown";
    p += 4; /* number of keys */
    if (!ssh_string(&p, end, &str, &len))
        return "unknown";
    pub_end = str + len;
    p = str;
    if (!ssh_string(&p, pub_end, &str, &len))
        return "unknown";
    if (len == 7 && memcmp(str, "ssh-rsa", 7) == 0)
        return "rsa";
    if (len == 11 && memcmp(str, "ssh-ed25519", 11) == 0)
        return "ed25519";
    if (len > 6 && memcmp(str, "ecdsa-", 6) == 0)
        return "ecdsa";
    return "unknown";
}

/* The kind of an OpenSSH key, whose text starts at `b` (its BEGIN line). */
static const char *openssh_key_kind(const char *b)
{
    const char *e = strstr(b, "-----END");
    dbm_buf b64 = DBM_BUF_INIT;
    unsigned char *raw;
    const char *kind;
    int n;

    b += strlen(OPENSSH_BEGIN);
    for (; e && b < e; b++)
        if (!isspace((unsigned char)*b))
            dbm_buf_putc(&b64, *b);
    raw = dbm_xmalloc(b64.len + 1);
    n = b64.len ? EVP_DecodeBlock(raw, (unsigned char *)b64.ptr, (int)b64.len) : -1;
    kind = openssh_blob_kind(raw, n);
    dbm_buf_wipe(&b64);
    free(raw);
    return kind;
}

/* The kind of a PEM or PKCS#8 key, as OpenSSL reads it. */
static const char *pem_key_kind(const char *key)
{
    BIO *bio = BIO_new_mem_buf(key, -1);
    EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"") : NULL;
    const char *kind = "unknown";

    if (pk) {
        int id = EVP_PKEY_get_base_id(pk);
        kind = id == EVP_PKEY_RSA       ? "rsa"
               : id == EVP_PKEY_EC      ? "ecdsa"
               : id == EVP_PKEY_ED25519 ? "ed25519"
                                        : "unknown";
    }
    EVP_PKEY_free(pk);
    BIO_free(bio);
    return kind;
}

const char *dbm_ssh_key_kind(const char *key)
{
    const char *b = strstr(key, OPENSSH_BEGIN);
    return b ? openssh_key_kind(b) : pem_key_kind(key);
}

/* The message for a failed login, from libssh2's last error. */
static int login_error(const dbm_tunnel *t, const dbm_bastion_addr *b, const char *key)
{
    int code = 0;
    const char *msg = dbm_tunnel_session_error(t->session, &code);
    const char *kind = dbm_ssh_key_kind(key);

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

int dbm_ssh_key_login(dbm_tunnel *t, const dbm_bastion_addr *b, const char *key)
{
    if (libssh2_userauth_publickey_frommemory(t->session, b->user, strlen(b->user), NULL, 0, key,
                                              strlen(key), NULL))
        return login_error(t, b, key);
    return 0;
}
