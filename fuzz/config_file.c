/*
 * config_file - db-migrate.yml as the config file reader takes it (libyaml,
 * then every check: keys, shapes, rule levels, targets, placeholders, ${VAR}
 * substitution with DBM_FUZZ_VAR set), and every accessor on what it read.
 */
#include "fuzz.h"

#include "common/error.h"
#include "config.h"
#include "config_file.h"
#include "sql/rules.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const env[] = {"DBM_FUZZ_VAR", "${DBM_FUZZ_VAR}", NULL};
    dbm_config_file *f = NULL;
    size_t n;

    fuzz_env(env);
    if (dbm_config_file_parse(&f, "db-migrate.yml", (const char *)data, size) == 0) {
        for (const dbm_option *o = dbm_options; o->name; o++) {
            const char *v = dbm_config_file_option(f, o->name);
            if (v && dbm_config_file_option_line(f, o->name) < 1)
                FUZZ_FAIL();
        }
        for (size_t i = 0; dbm_rules[i].id; i++)
            dbm_config_file_rule_level(f, dbm_rules[i].id);
        dbm_config_file_rule_level(f, "no-such-rule");
        {
            const dbm_config_target *t = dbm_config_file_targets(f, &n);
            for (size_t i = 0; i < n; i++)
                if (!t[i].name || strlen(t[i].name) > size)
                    FUZZ_FAIL();
        }
        {
            const dbm_config_placeholder *p = dbm_config_file_placeholders(f, &n);
            for (size_t i = 0; i < n; i++)
                if (!p[i].name || !p[i].value)
                    FUZZ_FAIL();
        }
    }
    dbm_config_file_free(f);
    fuzz_error_done();
    return 0;
}
