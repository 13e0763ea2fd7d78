#include "unit.h"

#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void duration_parses_units(void **state)
{
    static const struct {
        const char *text;
        long long ms;
    } ok[] = {{"0", 0},        {"500ms", 500},    {"5s", 5000},    {"1.5s", 1500},
              {"10m", 600000}, {"10min", 600000}, {"1h", 3600000}, {"0s", 0},
              {"0.5ms", 1},    {"00", 0},         {"0.0", 0},      {"596h", 2145600000},
              {"007s", 7000},  {"2.25m", 135000}, {"0ms", 0},      {"1000ms", 1000}};
    static const char *bad[] = {"5x",
                                "",
                                "s",
                                "-1s",
                                "5",
                                "5 s",
                                "nan",
                                "1e99h",
                                "0x10s",
                                "1e3ms",
                                "1E3s",
                                "+5s",
                                " 5s",
                                "5s ",
                                ".5s",
                                "5.s",
                                "5.",
                                "inf",
                                "infs",
                                "0x0",
                                "1,5s",
                                "1.5.s",
                                "5S",
                                "5sec",
                                "5ms5",
                                "-0",
                                "1h30m",
                                "\t5s",
                                "nans",
                                "0e0",
                                "123456789012345678901h"};
    long long ms;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (dbm_parse_duration_ms(&ms, "lock-timeout", ok[i].text) != 0)
            fail_msg("'%s' refused: %s", ok[i].text, dbm_error_message());
        assert_int_equal(ms, ok[i].ms);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (dbm_parse_duration_ms(&ms, "lock-timeout", bad[i]) != DBM_ECONFIG)
            fail_msg("'%s' accepted as %lld ms", bad[i], ms);
        assert_non_null(strstr(dbm_error_message(), "lock-timeout"));
        assert_non_null(strstr(dbm_error_hint_text(), "500ms, 1.5s, 10m, 1h"));
    }
}

/* A value pasted with its line end is named on one line (found by fuzz/duration). */
static void invalid_values_are_named_on_one_line(void **state)
{
    long long ms;
    long n;

    assert_int_equal(dbm_parse_duration_ms(&ms, "lock-timeout", "5s\r\n"), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "invalid duration '5s?\?' for lock-timeout");
    assert_int_equal(dbm_parse_count(&n, "lock-retries", "3\n"), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "invalid number '3?' for lock-retries");
}

/* Whatever a message quotes (a server's text, a library's), it is printed as one line. */
static void error_message_and_hint_are_one_line(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"unable to read: ERROR:  x\n", "unable to read: ERROR:  x"},
        {"server closed the connection unexpectedly\n\tThis probably means ...\n",
         "server closed the connection unexpectedly This probably means ..."},
        {"a \r\n b", "a b"},
        {"\nleading", "leading"},
        {"'my  file.sql' kept", "'my  file.sql' kept"},
        {"bell\a and escape\x1b[2J", "bell? and escape?[2J"},
        {"trailing spaces   ", "trailing spaces"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(dbm_error_set(DBM_EGENERIC, "%s", cases[i].in), DBM_EGENERIC);
        assert_string_equal(dbm_error_message(), cases[i].out);
        dbm_error_hint("%s", cases[i].in);
        assert_string_equal(dbm_error_hint_text(), cases[i].out);
    }
}

/* A connection string quoted by mistake loses its password, whatever message quotes it. */
static void error_message_and_hint_hide_passwords(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"unexpected argument 'postgresql://app:s3cret@db:5432/x'",
         "unexpected argument 'postgresql://app:***@db:5432/x'"},
        {"postgres://app:p@ss@db/x?sslmode=require", "postgres://app:***@db/x?sslmode=require"},
        {"'host=db password=s3cret dbname=x'", "'host=db password=*** dbname=x'"},
        {"host=db password='s3 \\'cret' dbname=x", "host=db password='***' dbname=x"},
        {"PASSWORD=s3cret", "PASSWORD=***"},
        /* nothing to hide */
        {"postgresql://app@db:5432/x", "postgresql://app@db:5432/x"},
        {"https://github.com/o/r/actions/runs/1", "https://github.com/o/r/actions/runs/1"},
        {"ssh://git@host:22/repo", "ssh://git@host:22/repo"},
        {"the password= option", "the password= option"},
        {"mypassword=x", "mypassword=x"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dbm_error_set(DBM_ECONFIG, "%s", cases[i].in);
        assert_string_equal(dbm_error_message(), cases[i].out);
        dbm_error_hint("%s", cases[i].in);
        assert_string_equal(dbm_error_hint_text(), cases[i].out);
    }
}

static void count_rejects_negative_and_garbage(void **state)
{
    long n;
    assert_int_equal(dbm_parse_count(&n, "lock-retries", "3"), 0);
    assert_int_equal(n, 3);
    assert_int_equal(dbm_parse_count(&n, "lock-retries", "-1"), DBM_ECONFIG);
    assert_int_equal(dbm_parse_count(&n, "lock-retries", "3x"), DBM_ECONFIG);
    assert_int_equal(dbm_parse_count(&n, "lock-retries", ""), DBM_ECONFIG);
    assert_int_equal(dbm_parse_count(&n, "lock-retries", " 3"), DBM_ECONFIG);
    assert_int_equal(dbm_parse_count(&n, "lock-retries", "+3"), DBM_ECONFIG);
    assert_int_equal(dbm_parse_count(&n, "lock-retries", "0x3"), DBM_ECONFIG);
    assert_int_equal(dbm_parse_count(&n, "lock-retries", "3 "), DBM_ECONFIG);
    assert_int_equal(dbm_parse_count(&n, "lock-retries", "99999999999999999999"), DBM_ECONFIG);
    assert_int_equal(dbm_parse_count(&n, "lock-retries", "007"), 0);
    assert_int_equal(n, 7);
}

static void buf_grows_and_detaches(void **state)
{
    dbm_buf b = DBM_BUF_INIT;
    char *s;

    assert_string_equal(dbm_buf_cstr(&b), "");
    for (int i = 0; i < 1000; i++)
        dbm_buf_printf(&b, "%d,", i);
    assert_true(b.len > 2000);
    dbm_buf_truncate(&b, 4);
    assert_string_equal(b.ptr, "0,1,");
    s = dbm_buf_detach(&b);
    assert_null(b.ptr);
    assert_string_equal(s, "0,1,");
    free(s);
}

static void utf8_validation_finds_first_bad_byte(void **state)
{
    size_t off = 99;
    assert_true(dbm_utf8_valid("héllo ✓ 𝄞", strlen("héllo ✓ 𝄞"), &off));
    assert_false(dbm_utf8_valid("ab\xff", 3, &off));
    assert_int_equal(off, 2);
    assert_false(dbm_utf8_valid("a\xc3", 2, &off)); /* truncated */
    assert_int_equal(off, 1);
    assert_false(dbm_utf8_valid("\xc0\xaf", 2, &off));     /* overlong */
    assert_false(dbm_utf8_valid("\xed\xa0\x80", 3, &off)); /* surrogate */
}

static void sha256_known_answer(void **state)
{
    char hex[65];
    dbm_sha256_hex(hex, "abc", 3);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void command_escaping_follows_the_runner(void **state)
{
    char *d = dbm_escape_command_data("50% done\r\nnext: a,b");
    char *p = dbm_escape_command_property("a:b,c%\n");
    assert_string_equal(d, "50%25 done%0D%0Anext: a,b");
    assert_string_equal(p, "a%3Ab%2Cc%25%0A");
    free(d);
    free(p);
}

static void saved_error_is_raised_with_code_message_and_hint(void **state)
{
    dbm_saved_error e = {DBM_OK, NULL, NULL};

    dbm_error_set(DBM_ECONFIG, "'%s' is not valid UTF-8 at line %d", "a.sql", 3);
    dbm_error_hint("convert the file");
    dbm_error_save(&e);
    dbm_error_set(DBM_EGENERIC, "something else");
    assert_int_equal(dbm_error_raise(&e), DBM_ECONFIG);
    {
        dbm_saved_error again = {DBM_OK, NULL, NULL};
        dbm_error_save(&again); /* the raised code is the thread's again */
        assert_int_equal(again.code, DBM_ECONFIG);
        dbm_saved_error_free(&again);
    }
    assert_string_equal(dbm_error_message(), "'a.sql' is not valid UTF-8 at line 3");
    assert_string_equal(dbm_error_hint_text(), "convert the file");
    dbm_saved_error_free(&e);
    assert_int_equal(e.code, DBM_OK);
    assert_null(e.message);

    dbm_error_set(DBM_EFAILED, "no hint");
    dbm_error_save(&e);
    dbm_error_hint("stale");
    dbm_error_raise(&e);
    assert_null(dbm_error_hint_text());
    dbm_saved_error_free(&e);
}

static void lib_load_fills_the_table_or_says_what_is_missing(void **state)
{
    struct {
        size_t (*len)(const char *);
        int (*cmp)(const char *, const char *);
    } t = {NULL, NULL};
    const dbm_lib_sym ok[] = {{"strlen", offsetof(__typeof__(t), len)},
                              {"strcmp", offsetof(__typeof__(t), cmp)}};
    const dbm_lib_sym missing[] = {{"strlen", 0}, {"dbm_no_such_function", 0}};
    char err[256] = "";

    (void)state;
    assert_true(dbm_lib_load("libc.so.6", RTLD_LAZY | RTLD_LOCAL, ok, 2, &t, err, sizeof(err)));
    assert_int_equal(t.len("four"), 4);
    assert_true(t.cmp("a", "b") < 0);
    assert_false(
        dbm_lib_load("libc.so.6", RTLD_LAZY | RTLD_LOCAL, missing, 2, &t, err, sizeof(err)));
    assert_string_equal(err, "libc.so.6 lacks dbm_no_such_function");
    assert_false(dbm_lib_load("libdbm-none.so.1", RTLD_LAZY, ok, 2, &t, err, sizeof(err)));
    assert_non_null(strstr(err, "libdbm-none.so.1"));
}

static void exit_status_maps_codes(void **state)
{
    assert_int_equal(dbm_error_exit_status(DBM_OK), 0);
    assert_int_equal(dbm_error_exit_status(DBM_EFAILED), 1);
    assert_int_equal(dbm_error_exit_status(DBM_EBLOCKED), 1);
    assert_int_equal(dbm_error_exit_status(DBM_ECONFIG), 2);
    assert_int_equal(dbm_error_exit_status(DBM_ECONNECT), 3);
    assert_int_equal(dbm_error_exit_status(DBM_ELOCKED), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(duration_parses_units),
        cmocka_unit_test(error_message_and_hint_are_one_line),
        cmocka_unit_test(error_message_and_hint_hide_passwords),
        cmocka_unit_test(invalid_values_are_named_on_one_line),
        cmocka_unit_test(count_rejects_negative_and_garbage),
        cmocka_unit_test(buf_grows_and_detaches),
        cmocka_unit_test(utf8_validation_finds_first_bad_byte),
        cmocka_unit_test(sha256_known_answer),
        cmocka_unit_test(command_escaping_follows_the_runner),
        cmocka_unit_test(exit_status_maps_codes),
        cmocka_unit_test(lib_load_fills_the_table_or_says_what_is_missing),
        cmocka_unit_test(saved_error_is_raised_with_code_message_and_hint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
