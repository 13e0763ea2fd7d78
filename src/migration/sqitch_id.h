/*
 * sqitch_id.h - Sqitch's change ids (internal to src/migration).
 *
 * Sqitch names a change by the SHA-1 of its "info" text (sqitchers/sqitch
 * lib/App/Sqitch/Plan/Change.pm, `info` and `id`), and records it in
 * <registry>.changes.change_id. The info text is, one item a line:
 *
 *   project <%project>
 *   uri <%uri, canonical>          (when the plan has a %uri pragma)
 *   change <name>
 *   parent <id of the change above in the plan>   (not for the first)
 *   planner <name> <<email>>
 *   date <YYYY-MM-DDTHH:MM:SSZ>
 *   requires\n  + <dep>\n  + ...  (when the change requires others)
 *   conflicts\n  - <dep>\n  - ... (when it conflicts with others)
 *   <empty line>, <note>           (when it has a note)
 *
 * and the id is sha1("change " + <byte length of info> + "\0" + info), as git
 * names its objects. A dependency is written as Sqitch's Depend->as_string:
 * without its '!' and without a "project:" prefix naming the plan's own project.
 */
#ifndef DBM_MIGRATION_SQITCH_ID_H
#define DBM_MIGRATION_SQITCH_ID_H

#include <stdbool.h>

/* What a change line of sqitch.plan says, beyond its name. Every string is owned. */
typedef struct {
    char *deps;          /* the text inside [ ], NULL when none */
    char *date;          /* "2024-01-01T00:00:00Z" */
    char *planner_name;  /* as Sqitch's planner regex takes it */
    char *planner_email; /* between < and > */
    char *note;          /* after the first '#', trimmed, \n \r \\ unescaped; "" when none */
} mig_sqitch_meta;

/*
 * Read the metadata of a change line: `rest` is the line after the change
 * name (blanks, [deps], date, planner, # note). False when the date or the
 * planner is missing or malformed (Sqitch refuses such a line); then *meta
 * holds nothing to free.
 */
bool mig_sqitch_meta_parse(mig_sqitch_meta *meta, const char *rest);
void mig_sqitch_meta_free(mig_sqitch_meta *meta);

/*
 * The info text of change `name` (above); `uri` NULL when the plan has no
 * %uri, `parent` NULL for the plan's first change. Caller frees.
 */
char *mig_sqitch_info(const char *project, const char *uri, const char *name, const char *parent,
                      const mig_sqitch_meta *meta);

/* Sqitch's id of an info text: lowercase hex SHA-1 into out[41]. */
void mig_sqitch_id(char out[41], const char *info);

/*
 * The %uri pragma's value as Perl's URI->canonical writes it for the URIs
 * plans use: the scheme lowercased; for http and https also the host
 * lowercased, the default port dropped and an empty path written "/".
 * Caller frees.
 */
char *mig_sqitch_uri_canonical(const char *uri);

#endif
