/*
 * config_remote.h - what config.c reads beside the options of a run here:
 * the GitHub context of the run and the options of a remote run (run-in,
 * ecs-*, lambda-function, remote-timeout), and whether the fleet's options
 * have targets to choose from. Internal to the config layer.
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

/*
 * The fleet's options (targets, shard, parallel, fail-fast: true) choose among
 * the config file's targets: without any loaded they would be ignored and the
 * command would run on the one database of database-url, which `--targets
 * canary` or a matrix of shards never meant. DBM_ECONFIG naming the option and
 * where the file was looked for. 0 for --help, --version and --generate, which
 * read no file.
 */
int dbm_config_check_fleet(const dbm_config *cfg, dbm_config_lookup_fn lookup, const void *pa);

/* The GitHub context from GITHUB_* variables. */
void dbm_config_load_github(dbm_github *gh);

/* report-file's default: in Actions, a file in the runner's temporary directory; else NULL. */
char *dbm_config_default_report_file(void);

#endif
