/*
 * config_file.h - db-migrate.yml: option defaults, rule levels, targets and
 * placeholders (DESIGN section 3, "Config file").
 *
 * The file is read with libyaml and checked whole on load: an unknown key, a
 * value of the wrong shape, a bad rule level or an unset ${VAR} is an error
 * naming the file and the line. ${VAR} in any value is replaced by the
 * variable's value from the environment. Which value wins over which (flag,
 * input, environment, file, default) is config.c's business; this module only
 * says what the file holds. It opens the one file and nothing else.
 */
#ifndef DBM_CONFIG_FILE_H
#define DBM_CONFIG_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* A rule's level set in the file; DBM_RULE_LEVEL_DEFAULT when the file does not name it. */
typedef enum {
    DBM_RULE_LEVEL_DEFAULT = 0,
    DBM_RULE_LEVEL_ERROR,
    DBM_RULE_LEVEL_WARNING,
    DBM_RULE_LEVEL_OFF
} dbm_rule_level;

/* One entry of `targets:` (DESIGN section 11). */
typedef struct {
    char *name;
    char *group;        /* NULL when not given */
    char *database_url; /* NULL when not given; a secret (wiped when freed) */
    char *schemas;      /* a query whose rows name the schemas to migrate; NULL when not given */
    /* With schemas: templates holding {schema}; NULL when not given (the fleet's defaults). */
    char *history_schema; /* each schema's history schema, e.g. "{schema}_db_migrate" */
    char *search_path;    /* each schema's search_path, e.g. "{schema}, public" */
    int line;
    /* "config file 'F' line N: environment variable 'V' is not set" when database-url names
     * a variable this process does not have (database_url is then NULL), else NULL. Not an
     * error when the file is read: a target another job or an ECS task migrates needs its
     * variables there, not here (command/fleet.c refuses a target it runs with one). */
    char *url_error;
} dbm_config_target;

typedef struct {
    char *name; /* as written, without a leading ':' */
    char *value;
} dbm_config_placeholder;

typedef struct dbm_config_file dbm_config_file;

/*
 * Where db-migrate.yml is looked for when --config is not given: the root of
 * the git repository holding `start` (the migrations directory when it is
 * known and exists, else the working directory), else `workdir` (NULL: the
 * working directory). Returns a path the caller frees; the file need not exist.
 */
char *dbm_config_file_default_path(const char *start, const char *workdir);

/*
 * Read and check the file at `path`. When it does not exist and `optional` is
 * true, *out is NULL and 0 is returned. Returns 0, or DBM_ECONFIG with a
 * message "'PATH' line N: ..." and a hint. *out belongs to the caller.
 */
int dbm_config_file_read(dbm_config_file **out, const char *path, bool optional);

/* Parse `len` bytes of YAML as if read from `path` (the name in messages). As above. */
int dbm_config_file_parse(dbm_config_file **out, const char *path, const char *text, size_t len);

void dbm_config_file_free(dbm_config_file *f);

/* The file's value for the option `name` (an action input's name, config.h), or NULL. Borrowed. */
const char *dbm_config_file_option(const dbm_config_file *f, const char *name);

/* The line of the option's value in the file, 0 when it holds none. */
int dbm_config_file_option_line(const dbm_config_file *f, const char *name);

/* The path the file was read from, as given. */
const char *dbm_config_file_path(const dbm_config_file *f);

/* The level `rules:` sets for the rule `id`; DBM_RULE_LEVEL_DEFAULT when f is NULL or silent. */
dbm_rule_level dbm_config_file_rule_level(const dbm_config_file *f, const char *id);

/* `targets:` and `placeholders:` in file order; *n is 0 (and the result NULL) when none. */
const dbm_config_target *dbm_config_file_targets(const dbm_config_file *f, size_t *n);
const dbm_config_placeholder *dbm_config_file_placeholders(const dbm_config_file *f, size_t *n);

/* `stages:`: group globs in the order their targets run; *n is 0 (and NULL) when none. */
const char *const *dbm_config_file_stages(const dbm_config_file *f, size_t *n);

/* The linked libyaml's version ("0.2.5"), for --version. Static. */
const char *dbm_config_file_library_version(void);

#endif
