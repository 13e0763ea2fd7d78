/*
 * remote_report - a remote run's report as the Action reads it back
 * (report/remote.c): the frame in a log ("db-migrate-report-begin v1 BYTES
 * SHA256", base64 lines, "db-migrate-report-end") among the log's lines, then
 * the JSON report read into a record and written again as the summary, the
 * terminal text and the JSON report. The first byte picks: even, the rest is
 * a log; odd, the rest is a JSON report, framed and read back, which must
 * give the same bytes.
 */
#include "fuzz.h"

#include "common/error.h"
#include "common/record.h"
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

/* Each line of text through the reader; the last complete frame's JSON, or NULL. */
static char *read_log(const char *text, size_t len, bool *broken)
{
    dbm_frame_reader *fr = dbm_frame_reader_new();
    const char *p = text, *end = text + len;
    char *json;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = strndup(p, n);

        dbm_frame_reader_line(fr, line);
        free(line);
        p += n + (nl != NULL);
    }
    json = dbm_frame_reader_json(fr) ? strdup(dbm_frame_reader_json(fr)) : NULL;
    *broken = dbm_frame_reader_broken(fr);
    dbm_frame_reader_free(fr);
    return json;
}

static void render(const char *json)
{
    dbm_report *r = dbm_report_new("apply");
    dbm_emit_opts opts;

    memset(&opts, 0, sizeof(opts));
    if (dbm_report_from_json(r, json, strlen(json)) == 0) {
        free(dbm_report_json(r));
        free(dbm_report_markdown(r, &opts));
        free(dbm_report_terminal(r, true));
    }
    fuzz_error_done();
    dbm_report_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, *json, *framed;
    bool broken;

    if (size < 1)
        return 0;
    text = fuzz_strndup(data + 1, size - 1);
    if (data[0] & 1) {
        /* A report as JSON text has no NUL: strlen is its length. */
        framed = dbm_report_frame(text);
        json = read_log(framed, strlen(framed), &broken);
        if (broken || !json || strcmp(json, text) != 0)
            FUZZ_FAIL(); /* a frame written is read back whole */
        free(framed);
    } else {
        json = read_log(text, size - 1, &broken);
    }
    if (json)
        render(json);
    free(json);
    free(text);
    return 0;
}
