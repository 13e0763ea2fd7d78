/*
 * sha1.c - SHA-1 through OpenSSL's EVP interface, as util.c does SHA-256.
 */
#include "common/sha1.h"

#include <openssl/evp.h>

void dbm_sha1_hex(char hex[41], const void *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[20];
    unsigned int mdlen = 0;

    EVP_Digest(data, len, md, &mdlen, EVP_sha1(), NULL);
    for (int i = 0; i < 20; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[40] = '\0';
}
