/*
 * comment.h - the run's summary as the pull request's sticky comment.
 *
 * Internal to src/command/. The Markdown is report/'s and the GitHub calls
 * net/github's; this module only says what the comment is about and keeps
 * the run's own outcome apart from the comment's.
 */
#ifndef DBM_COMMAND_COMMENT_H
#define DBM_COMMAND_COMMENT_H

#include "common/record.h"
#include "config.h"

/*
 * Post the report's summary as the pull request's comment, one per command,
 * history schema and migrations directory. run_error is the run's code: when
 * it is an error the report says so, and its message and hint are kept for
 * main to print. A failure to comment is a warning only: the run's outcome
 * does not depend on it.
 */
void dbm_comment_post(const dbm_config *cfg, dbm_report *report, int run_error);

#endif
