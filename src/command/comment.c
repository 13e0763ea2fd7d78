/*
 * comment.c - post the run's summary as the pull request's sticky comment.
 */
#include "command/comment.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "net/github.h"
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

/* The comment's Markdown: the summary, with the run's error when it ended in one. */
static char *comment_markdown(const dbm_config *cfg, dbm_report *report, int run_error,
                              const char *msg)
{
    dbm_emit_opts opts;

    if (run_error < 0 && msg && *msg && !report->error)
        dbm_report_set(&report->error, msg);
    if (run_error < 0 && !report->status)
        dbm_report_set(&report->status, "failed");
    memset(&opts, 0, sizeof(opts));
    opts.server_url = cfg->gh.server_url;
    opts.repository = cfg->gh.repository;
    /* GitHub keeps 60,000 bytes of the comment (net/github.c); its marker line goes first. */
    opts.limit = 60000 - 1024;
    return dbm_report_markdown(report, &opts);
}

void dbm_comment_post(const dbm_config *cfg, dbm_report *report, int run_error)
{
    char *msg = run_error < 0 ? dbm_xstrdup(dbm_error_message()) : NULL;
    char *hint = run_error < 0 ? dbm_xstrdup(dbm_error_hint_text()) : NULL;
    char *md = comment_markdown(cfg, report, run_error, msg);
    dbm_github_comment_opts gh = {.command = report->command,
                                  .history_schema = cfg->history_schema,
                                  .migrations_dir = cfg->shown_dir,
                                  .token = cfg->github_token,
                                  .api_url = cfg->gh.api_url,
                                  .repository = cfg->gh.repository,
                                  .event_name = cfg->gh.event_name,
                                  .event_path = cfg->gh.event_path};

    if (dbm_github_comment_post(&gh, md) < 0)
        dbm_warn("%s", dbm_error_message());
    free(md);
    if (run_error < 0) {
        dbm_error_set(run_error, "%s", msg ? msg : "");
        if (hint)
            dbm_error_hint("%s", hint);
    } else {
        dbm_error_clear();
    }
    free(msg);
    free(hint);
}
