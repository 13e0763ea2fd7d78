/*
 * test_ssh_key.c - the bastion's private key as text: normalizing, the checks
 * made before libssh2 reads it, and the algorithm named in login messages.
 *
 * Keys are made here: OpenSSH-format bodies are assembled byte by byte (only
 * their header and public part are read), PEM and PKCS#8 keys are generated
 * with OpenSSL. No private key is stored in the tree.
 */
#include "unit.h"

#include "common/error.h"
#include "common/util.h"
#include "net/tunnel_internal.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void put_u32(dbm_buf *b, uint32_t v)
{
    char be[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
    dbm_buf_put(b, be, 4);
}

static void put_string(dbm_buf *b, const char *s, size_t n)
{
    put_u32(b, (uint32_t)n);
    dbm_buf_put(b, s, n);
}

/* An OpenSSH private key text whose header names `cipher` and whose public key is of `type`. */
static char *openssh_key(const char *cipher, const char *type)
{
    dbm_buf raw = DBM_BUF_INIT, pub = DBM_BUF_INIT, text = DBM_BUF_INIT;
    const char *kdf = strcmp(cipher, "none") == 0 ? "none" : "bcrypt";
    unsigned char *b64;
    int n;

    dbm_buf_put(&raw, "openssh-key-v1", 15); /* with its NUL */
    put_string(&raw, cipher, strlen(cipher));
    put_string(&raw, kdf, strlen(kdf));
    put_string(&raw, "", 0);
    put_u32(&raw, 1);
    put_string(&pub, type, strlen(type));
    put_string(&pub, "0123456789abcdef0123456789abcdef", 32);
    put_string(&raw, pub.ptr, pub.len);
    put_string(&raw, "private part, not read", 22);

    b64 = dbm_xmalloc(4 * ((raw.len + 2) / 3) + 1);
    n = EVP_EncodeBlock(b64, (const unsigned char *)raw.ptr, (int)raw.len);
    dbm_buf_puts(&text, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for (int i = 0; i < n; i += 70)
        dbm_buf_printf(&text, "%.*s\n", n - i < 70 ? n - i : 70, (const char *)b64 + i);
    dbm_buf_puts(&text, "-----END OPENSSH PRIVATE KEY-----\n");
    free(b64);
    dbm_buf_free(&raw);
    dbm_buf_free(&pub);
    return dbm_buf_detach(&text);
}

/* A generated key as PKCS#8 PEM, or traditional PEM; encrypted with "secret" when asked. */
static char *pem_key(EVP_PKEY *pk, bool traditional, bool encrypted)
{
    BIO *bio = BIO_new(BIO_s_mem());
    const EVP_CIPHER *cipher = encrypted ? EVP_aes_256_cbc() : NULL;
    unsigned char *pass = encrypted ? (unsigned char *)"secret" : NULL;
    int passlen = encrypted ? 6 : 0;
    char *data = NULL, *out;
    long len;

    assert_non_null(bio);
    if (traditional)
        assert_int_equal(
            PEM_write_bio_PrivateKey_traditional(bio, pk, cipher, pass, passlen, NULL, NULL), 1);
    else
        assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, cipher, pass, passlen, NULL, NULL), 1);
    len = BIO_get_mem_data(bio, &data);
    out = dbm_xstrndup(data, (size_t)len);
    BIO_free(bio);
    return out;
}

static void normalize_trims_and_makes_crlf_lf(void **state)
{
    char *k = dbm_ssh_key_normalize("  \r\n-----BEGIN X-----\r\nabc\r\n-----END X-----\r\n\r\n ");
    char *bare = dbm_ssh_key_normalize("-----BEGIN X-----\nabc\n-----END X-----");

    assert_string_equal(k, "-----BEGIN X-----\nabc\n-----END X-----\n");
    assert_string_equal(bare, "-----BEGIN X-----\nabc\n-----END X-----\n");
    dbm_secret_free(k);
    dbm_secret_free(bare);
}

static void precheck_refuses_a_path_or_public_key(void **state)
{
    const char *texts[] = {"/home/deploy/.ssh/id_ed25519",
                           "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGLVUjRLruQM9hQlvzfQ deploy",
                           "-----BEGIN PUBLIC KEY-----\nMCow\n-----END PUBLIC KEY-----\n"};

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        dbm_error_clear();
        assert_int_equal(dbm_ssh_key_precheck(texts[i]), DBM_ECONFIG);
        assert_string_equal(dbm_error_message(), "ssh-private-key does not hold a private key");
        assert_non_null(strstr(dbm_error_hint_text(), "not a path"));
    }
}

static void precheck_refuses_keys_with_a_passphrase(void **state)
{
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char *keys[3];

    assert_non_null(ec);
    keys[0] = openssh_key("aes256-ctr", "ssh-ed25519");
    keys[1] = pem_key(ec, false, true); /* BEGIN ENCRYPTED PRIVATE KEY */
    keys[2] = pem_key(ec, true, true);  /* Proc-Type: 4,ENCRYPTED */
    assert_non_null(strstr(keys[1], "BEGIN ENCRYPTED PRIVATE KEY"));
    assert_non_null(strstr(keys[2], "Proc-Type: 4,ENCRYPTED"));
    for (size_t i = 0; i < 3; i++) {
        dbm_error_clear();
        assert_int_equal(dbm_ssh_key_precheck(keys[i]), DBM_ECONFIG);
        assert_string_equal(dbm_error_message(), "ssh-private-key is protected by a passphrase");
        dbm_secret_free(keys[i]);
    }
    EVP_PKEY_free(ec);
}

static void precheck_accepts_unencrypted_keys(void **state)
{
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char *openssh = openssh_key("none", "ssh-ed25519");
    char *pkcs8 = pem_key(ec, false, false);
    char *traditional = pem_key(ec, true, false);

    assert_int_equal(dbm_ssh_key_precheck(openssh), 0);
    assert_int_equal(dbm_ssh_key_precheck(pkcs8), 0);
    assert_int_equal(dbm_ssh_key_precheck(traditional), 0);
    dbm_secret_free(openssh);
    dbm_secret_free(pkcs8);
    dbm_secret_free(traditional);
    EVP_PKEY_free(ec);
}

static void kind_reads_the_public_part_of_openssh_keys(void **state)
{
    static const struct {
        const char *type, *kind;
    } cases[] = {
        {"ssh-ed25519", "ed25519"},       {"ecdsa-sha2-nistp256", "ecdsa"},
        {"ecdsa-sha2-nistp521", "ecdsa"}, {"ssh-rsa", "rsa"},
        {"ssh-dss", "unknown"},           {"sk-ssh-ed25519@openssh.com", "unknown"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *key = openssh_key("none", cases[i].type);
        assert_string_equal(dbm_ssh_key_kind(key), cases[i].kind);
        dbm_secret_free(key);
    }
    assert_string_equal(dbm_ssh_key_kind("-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n"
                                         "-----END OPENSSH PRIVATE KEY-----\n"),
                        "unknown");
    assert_string_equal(dbm_ssh_key_kind("-----BEGIN OPENSSH PRIVATE KEY-----\n"), "unknown");
}

static void kind_reads_pem_and_pkcs8_keys(void **state)
{
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    char *keys[4] = {pem_key(ed, false, false), pem_key(ec, true, false), pem_key(rsa, true, false),
                     pem_key(rsa, false, false)};
    const char *kinds[4] = {"ed25519", "ecdsa", "rsa", "rsa"};

    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(dbm_ssh_key_kind(keys[i]), kinds[i]);
        dbm_secret_free(keys[i]);
    }
    assert_string_equal(dbm_ssh_key_kind("-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                         "-----END PRIVATE KEY-----\n"),
                        "unknown");
    EVP_PKEY_free(ed);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalize_trims_and_makes_crlf_lf),
        cmocka_unit_test(precheck_refuses_a_path_or_public_key),
        cmocka_unit_test(precheck_refuses_keys_with_a_passphrase),
        cmocka_unit_test(precheck_accepts_unencrypted_keys),
        cmocka_unit_test(kind_reads_the_public_part_of_openssh_keys),
        cmocka_unit_test(kind_reads_pem_and_pkcs8_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
