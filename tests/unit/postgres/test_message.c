/*
 * test_message.c - libpq's and the server's error text as one clean line:
 * no severity, no newline, no doubled space, quoted names left as spelled.
 */
#include "unit.h"

#include "postgres/message.h"
#include "offline_conn.h"

#include <stdlib.h>
#include <string.h>

static void message_is_one_line_without_libpq_severity(void **state)
{
    static const struct {
        const char *raw, *clean;
    } cases[] = {
        {"FATAL:  terminating connection due to administrator command\n",
         "terminating connection due to administrator command"},
        {"ERROR:  permission denied for schema db_migrate\n",
         "permission denied for schema db_migrate"},
        {"PANIC:  could not write to file\n", "could not write to file"},
        /* a translated severity (the server's lc_messages) */
        {"FATAL:  Verbindung wurde beendet\n", "Verbindung wurde beendet"},
        {"SCHWERWIEGEND:  Verbindung wurde beendet\n", "Verbindung wurde beendet"},
        /* libpq's own explanation after the first line */
        {"server closed the connection unexpectedly\n\tThis probably means the server "
         "terminated abnormally\n\tbefore or while processing the request.\n",
         "server closed the connection unexpectedly This probably means the server terminated "
         "abnormally before or while processing the request."},
        {"  \n could not receive data from server: Connection timed out\n",
         "could not receive data from server: Connection timed out"},
        /* a RAISE message with newlines and doubled spaces */
        {"first line\nsecond  line\r\n", "first line second line"},
        /* a quoted name keeps its spaces */
        {"relation \"my  table\" does not exist", "relation \"my  table\" does not exist"},
        /* an upper-case word without libpq's two spaces is part of the message */
        {"SSL: certificate verify failed", "SSL: certificate verify failed"},
        {"ERROR: one space", "ERROR: one space"},
        {"", ""},
        {"\n\n", ""},
    };
    char out[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(dbm_db_message_clean(out, sizeof(out), cases[i].raw, strlen(cases[i].raw)),
                         strlen(cases[i].clean));
        assert_string_equal(out, cases[i].clean);
    }
}

static void message_takes_only_len_bytes(void **state)
{
    static const char raw[] = "FATAL:  first\nsecond";
    char out[64];

    dbm_db_message_clean(out, sizeof(out), raw, strcspn(raw, "\n"));
    assert_string_equal(out, "first");
}

static void long_message_is_cut_at_a_character(void **state)
{
    /* "é" is two bytes: a cut after 7 bytes must not keep half of one */
    static const char raw[] = "ERROR:  ab\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 end";
    char out[11];

    dbm_db_message_clean(out, sizeof(out), raw, strlen(raw));
    assert_string_equal(out, "ab\xc3\xa9\xc3\xa9...");
    dbm_db_message_clean(out, 1, raw, strlen(raw));
    assert_string_equal(out, "");
}

static void failed_connection_message_is_its_first_line(void **state)
{
    const char *m = dbm_db_message(NULL, conn);

    /* libpq: connection to server on socket "...": No such file ...\n\tIs the server running */
    assert_non_null(strstr(m, "/nonexistent/db-migrate-test"));
    assert_null(strchr(m, '\n'));
    assert_null(strchr(m, '\t'));
    assert_null(strstr(m, "Is the server running"));
    assert_null(strstr(m, "  "));
}

static void no_message_at_all_is_connection_lost(void **state)
{
    assert_string_equal(dbm_db_message(NULL, NULL), "connection lost");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_is_one_line_without_libpq_severity),
        cmocka_unit_test(message_takes_only_len_bytes),
        cmocka_unit_test(long_message_is_cut_at_a_character),
        cmocka_unit_test(failed_connection_message_is_its_first_line),
        cmocka_unit_test(no_message_at_all_is_connection_lost),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
