/*
 * known_hosts - ssh-known-hosts text as the tunnel reads it before it
 * connects: the lines for the bastion (plain, [host]:port and hashed |1|
 * names, @revoked and other markers) into libssh2's lists, the host key
 * algorithms asked for, and the base64 decoder used on keys. The first byte
 * picks the bastion's port (22 or 2222), so both name forms are read.
 */
#include "fuzz.h"

#include "common/error.h"
#include "net/tunnel_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static LIBSSH2_SESSION *session;
    unsigned char raw[512];
    dbm_known_hosts kh;
    char *text;
    int port;

    if (!session) {
        libssh2_init(0);
        session = libssh2_session_init();
        if (!session)
            FUZZ_FAIL();
    }
    if (size < 1)
        return 0;
    port = data[0] & 1 ? 2222 : 22;
    text = fuzz_strndup(data + 1, size - 1);
    if (dbm_known_hosts_read(&kh, session, text, "bastion.example.com", port) == 0) {
        char *methods = dbm_known_hosts_methods(&kh, "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,"
                                                     "rsa-sha2-256,ssh-rsa");
        free(methods);
        dbm_known_hosts_prefer(&kh, session);
    }
    dbm_known_hosts_clear(&kh);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, " \t\n");
        dbm_known_hosts_field_matches(p, n, "bastion.example.com");
        if (n % 4 == 0 && n <= 340 && dbm_tunnel_b64_decode(raw, sizeof(raw), p, n) > (int)n)
            FUZZ_FAIL();
        p += n + (p[n] != '\0');
    }
    fuzz_error_done();
    free(text);
    return 0;
}
