/*
 * github - the sticky pull-request comment's inputs from outside: the event
 * payload (GITHUB_EVENT_PATH, JSON) and GitHub's answers (the comment lists,
 * their Link headers, error bodies). The input is the payload, then the
 * answers, separated by "=====" lines (fuzz.h). The token must never be sent
 * anywhere but the configured API, whatever the Link header says.
 */
#include "fuzz.h"

#include "common/error.h"
#include "net/github.h"

#include <stdlib.h>
#include <string.h>

#define API   "https://api.github.test"
#define TOKEN "ghs_fuzztoken"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *event;
    size_t elen;
    char *path;

    /* The token is not in what GitHub sends: only then is finding it in a message a leak. */
    if (memmem(data, size, TOKEN, strlen(TOKEN)))
        return 0;
    fuzz_env(NULL);
    if (!fuzz_next_part(&data, &size, &event, &elen))
        return 0;
    path = fuzz_write("event.json", event, elen);
    fuzz_http_serve(data, size, API "/");
    dbm_github_comment_post(&(dbm_github_comment_opts){.command = "plan",
                                                       .history_schema = "db_migrate",
                                                       .migrations_dir = "migrations",
                                                       .token = TOKEN,
                                                       .api_url = API,
                                                       .repository = "owner/repo",
                                                       .event_name = "pull_request",
                                                       .event_path = path},
                            "## db-migrate plan\n\n1 migration to apply\n");
    if (strstr(dbm_error_message(), TOKEN))
        FUZZ_FAIL();
    fuzz_http_done();
    fuzz_error_done();
    free(path);
    return 0;
}
