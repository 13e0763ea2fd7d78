/*
 * ssh_key - ssh-private-key text as the tunnel checks it before libssh2
 * sees it: normalizing (spaces, CRLF), the passphrase and "no key" checks,
 * and the key type read from an OpenSSH or PEM key's own bytes.
 */
#include "fuzz.h"

#include "common/error.h"
#include "net/tunnel_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    char *key = dbm_ssh_key_normalize(text);

    if (!key)
        FUZZ_FAIL();
    if (dbm_ssh_key_precheck(key) == 0 && !dbm_ssh_key_kind(key))
        FUZZ_FAIL();
    dbm_ssh_key_kind(text);
    fuzz_error_done();
    free(key);
    free(text);
    return 0;
}
