/*
 * url - the addresses db-migrate takes apart itself: ssh-bastion
 * (user@host[:port], IPv6 in brackets) and the known_hosts name it gives,
 * AWS_CONTAINER_CREDENTIALS_FULL_URI's allow rule, and the Host and path an
 * STS endpoint URL is signed with. Connection strings are libpq's to parse
 * (PQconninfoParse) and are not fuzzed here.
 */
#include "fuzz.h"

#include "common/error.h"
#include "net/aws_internal.h"
#include "net/tunnel_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    char *host = NULL, *path = NULL;
    dbm_bastion_addr b;

    if (dbm_bastion_parse(&b, text) == 0) {
        char *name;
        if (!b.user || !*b.host || b.port < 1 || b.port > 65535)
            FUZZ_FAIL();
        name = dbm_known_hosts_name(b.host, b.port);
        free(name);
        dbm_bastion_addr_clear(&b);
    }
    dbm_aws_full_uri_allowed(text);
    dbm_aws_url_host_path(&host, &path, text);
    if (!host || !path || path[0] != '/')
        FUZZ_FAIL();
    free(host);
    free(path);
    fuzz_error_done();
    free(text);
    return 0;
}
