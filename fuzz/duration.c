/*
 * duration - the option values parsed by hand: durations ("500ms", "5s",
 * "10m", "1h"), counts and format names. A duration accepted must be a
 * non-negative number of milliseconds.
 */
#include "fuzz.h"

#include "common/error.h"
#include "common/util.h"
#include "migration/migration.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    long long ms = -1;
    long count = -1;
    dbm_format format;

    if (dbm_parse_duration_ms(&ms, "lock-timeout", text) == 0 && ms < 0)
        FUZZ_FAIL();
    if (dbm_parse_count(&count, "max-lag", text) == 0 && count < 0)
        FUZZ_FAIL();
    dbm_format_parse(&format, text);
    fuzz_error_done();
    free(text);
    return 0;
}
