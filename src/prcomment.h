/*
 * prcomment.h - the sticky pull-request comment with a plan or dry-run summary.
 *
 * One comment per pull request, command, history schema and migrations
 * directory: it is found again by a hidden marker in its body and updated on
 * later pushes, so two steps of one workflow keep separate comments. Talks to
 * the GitHub REST API through http.h; renders nothing itself (the Markdown
 * comes from report.h) and decides nothing about the run's outcome.
 */
#ifndef DBM_PRCOMMENT_H
#define DBM_PRCOMMENT_H

#include "config.h"

/*
 * The hidden marker for this configuration, e.g.
 * "<!-- db-migrate:comment command=plan schema=db_migrate dir=migrations -->".
 * Characters that could end the HTML comment are replaced. Caller frees.
 */
char *dbm_prcomment_marker(const dbm_config *cfg);

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
int dbm_prcomment_post(const dbm_config *cfg, const char *markdown);

#endif
