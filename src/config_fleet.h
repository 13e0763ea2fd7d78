/*
 * config_fleet.h - the fleet options config.c reads: shard, and whether
 * targets, shard, parallel and fail-fast have targets to choose from.
 * Internal to the config layer.
 */
#ifndef DBM_CONFIG_FLEET_H
#define DBM_CONFIG_FLEET_H

#include "config_remote.h"

/*
 * shard I/N, this matrix job's share: digits only, 1 <= I <= N <= 1000 (a
 * matrix counts from 1), into cfg->shard_index and shard_count. 0 for NULL
 * or empty; DBM_ECONFIG saying what is wrong.
 */
int dbm_config_read_shard(dbm_config *cfg, const char *v);

/*
 * The fleet's options (targets, shard, parallel, fail-fast: true) choose among
 * the config file's targets: without any loaded they would be ignored and the
 * command would run on the one database of database-url, which `--targets
 * canary` or a matrix of shards never meant. DBM_ECONFIG naming the option and
 * where the file was looked for. 0 for --help, --version and --generate, which
 * read no file.
 */
int dbm_config_check_fleet(const dbm_config *cfg, dbm_config_lookup_fn lookup, const void *pa);

#endif
