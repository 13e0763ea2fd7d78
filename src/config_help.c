/*
 * config_help.c - the options section of --help, written from the option
 * table (config_options.c).
 *
 * Kept beside config.c, which reads the options; the commands section comes
 * from the command table.
 */
#include "config.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define HELP_COLUMN 27 /* where the text of each option starts */
#define HELP_WIDTH  100

/* Write `text` from column `col`, wrapping at spaces before HELP_WIDTH onto indented lines. */
static void put_wrapped(FILE *out, size_t col, const char *text)
{
    const char *p = text;

    while (*p) {
        size_t room = col < HELP_WIDTH ? HELP_WIDTH - col : 1, len = strlen(p);

        if (len > room) {
            size_t cut = room;
            while (cut > 0 && p[cut] != ' ')
                cut--;
            len = cut ? cut : strcspn(p, " ");
        }
        fprintf(out, "%.*s", (int)len, p);
        p += len;
        while (*p == ' ')
            p++;
        if (*p) {
            fprintf(out, "\n%*s", HELP_COLUMN, "");
            col = HELP_COLUMN;
        }
    }
    fputc('\n', out);
}

void dbm_config_options_usage(FILE *out)
{
    fputs("options (also action inputs, INPUT_<NAME>, and db-migrate.yml keys, unless marked "
          "[cli]):\n",
          out);
    for (const dbm_option *o = dbm_options; o->name; o++) {
        dbm_buf text = DBM_BUF_INIT;
        bool listed = o->values && !(o->flags & DBM_OPTION_BOOL); /* true, false go unsaid */
        char *flag;

        if (o->flags & (DBM_OPTION_NOFLAG | DBM_OPTION_HIDDEN))
            continue;
        flag = o->arg ? dbm_xasprintf("--%s %s", o->name, o->arg) : dbm_xasprintf("--%s", o->name);
        if (strlen(flag) + 3 > HELP_COLUMN)
            fprintf(out, "  %s\n%*s", flag, HELP_COLUMN, "");
        else
            fprintf(out, "  %-*s ", HELP_COLUMN - 3, flag);
        dbm_buf_puts(&text, o->help);
        if (listed) {
            dbm_buf_puts(&text, " (one of:");
            for (size_t i = 0; o->values[i]; i++)
                dbm_buf_printf(&text, "%s %s", i ? "," : "", o->values[i]);
            dbm_buf_puts(&text, o->dflt ? ";" : ")");
        } else if (o->dflt) {
            dbm_buf_puts(&text, " (");
        }
        if (o->dflt)
            dbm_buf_printf(&text, "%sdefault: %s)", listed ? " " : "", o->dflt);
        if (!(o->flags & DBM_OPTION_INPUT))
            dbm_buf_puts(&text, " [cli]");
        put_wrapped(out, HELP_COLUMN, dbm_buf_cstr(&text));
        dbm_buf_free(&text);
        free(flag);
    }
    fputs(
        "\ndurations: 500ms, 5s, 10m, 1h. Exit status: 0 done, 1 failed or blocked, 2 usage,\n"
        "3 cannot connect, 4 run lock not acquired.\n"
        "targets, shard, parallel and fail-fast choose among the targets: of db-migrate.yml;\n"
        "without any loaded they are an error (exit 2), not ignored. apply, rollback, repair and\n"
        "baseline refuse pull_request events unless allow-apply-on-pull-request is true.\n",
        out);
}
