/*
 * config_remote.h - what config.c reads beside the options of a run here:
 * the GitHub context of the run and the options of a remote run (run-in,
 * ecs-*, lambda-function, remote-timeout). Internal to the config layer.
 */
#ifndef DBM_CONFIG_REMOTE_H
#define DBM_CONFIG_REMOTE_H

#include "config.h"

/* An option's value by the precedence of config.c (flag, input, config file), or NULL. */
typedef const char *(*dbm_config_lookup_fn)(const void *pa, const char *name);

/*
 * run-in and the options of a remote run, into cfg. DBM_ECONFIG naming the
 * option for a bad value, or for a remote run that lacks what it needs
 * (run-in: ecs without ecs-task-definition or ecs-service, lambda without
 * lambda-function).
 */
int dbm_config_read_remote(dbm_config *cfg, dbm_config_lookup_fn lookup, const void *pa);
void dbm_config_remote_free(dbm_config *cfg); /* the fields read_remote set */

/* The GitHub context from GITHUB_* variables. */
void dbm_config_load_github(dbm_github *gh);

/* report-file's default: in Actions, a file in the runner's temporary directory; else NULL. */
char *dbm_config_default_report_file(void);

#endif
