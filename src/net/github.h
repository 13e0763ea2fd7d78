/*
 * github.h - the sticky pull-request comment with a plan or dry-run summary.
 *
 * One comment per pull request, command, history schema and migrations
 * directory: it is found again by a hidden marker in its body and updated on
 * later pushes, so two steps of one workflow keep separate comments. Talks to
 * the GitHub REST API through http.h; renders nothing itself (the Markdown
 * comes from report.h) and decides nothing about the run's outcome.
 */
#ifndef DBM_GITHUB_H
#define DBM_GITHUB_H

/* What the comment needs of the run and its configuration; every string is borrowed. */
typedef struct {
    const char *command;                 /* "plan", "dry-run": one comment per command */
    const char *history_schema;          /* one comment per history schema */
    const char *migrations_dir;          /* as users see it: relative to the workspace */
    const char *token;                   /* github-token; never printed */
    const char *api_url;                 /* GITHUB_API_URL; NULL: https://api.github.com */
    const char *repository;              /* GITHUB_REPOSITORY, owner/name */
    const char *event_name, *event_path; /* GITHUB_EVENT_NAME and its payload */
} dbm_github_comment_opts;

/*
 * The hidden marker for these options, e.g.
 * "<!-- db-migrate:comment command=plan schema=db_migrate dir=migrations -->".
 * Characters that could end the HTML comment are replaced. Caller frees.
 */
char *dbm_github_comment_marker(const dbm_github_comment_opts *opts);

/*
 * The comment's body: the marker line, then `markdown`, cut when it is longer
 * than the 60,000 bytes a comment keeps: at a line end within the last 4 KB
 * before that, else at a character boundary, then a line saying so. Bytes that
 * are not UTF-8 become '?'. Caller frees.
 */
char *dbm_github_comment_body(const char *marker, const char *markdown);

/*
 * Create or update the comment on the pull request of the current event with
 * `markdown` (cut to fit GitHub's comment limit) and the marker. The pull
 * request number is read from the event payload (GITHUB_EVENT_PATH).
 *
 * Returns 0 when the comment was written, and also when there is nothing to do
 * or it may not be done: not a pull-request event (a log line says so), or
 * GitHub answered 403 or 404, as it does to the read-only token of a pull
 * request from a fork (a warning is printed). Returns DBM_ECONFIG when the
 * token, repository or event payload is missing or unreadable, DBM_ECONNECT
 * when GitHub could not be reached, DBM_EGENERIC for any other answer; the
 * message never contains the token.
 */
int dbm_github_comment_post(const dbm_github_comment_opts *opts, const char *markdown);

#endif
