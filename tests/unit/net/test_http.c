#include "unit.h"

#include "common/error.h"
#include "fixture.h"
#include "net/http.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int clean_environment(void **state)
{
    unsetenv("http_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("https_proxy");
    unsetenv("ALL_PROXY");
    unsetenv("all_proxy");
    setenv("NO_PROXY", "127.0.0.1", 1);
    dbm_error_clear();
    return 0;
}

static void request_and_response_round_trip(void **state)
{
    static const char *const headers[] = {"X-Custom: some value", "Content-Type: text/plain", NULL};
    static const char body[] = "a=1&b=two%20words";
    dbm_http_response *resp = NULL;
    char *url, *v;
    fixture f;

    assert_int_equal(
        fixture_start(&f, "[{'method':'PUT','path':'/things/1','query':{'x':'y z'},"
                          "'form':{'a':'1','b':'two words'},"
                          "'headers':{'X-Custom':'some value','Content-Type':'text/plain'},"
                          "'reply':{'status':201,'headers':{'X-Request-Id':'r-42',"
                          "'Content-Type':'application/json'},'raw':'{\\'ok\\':true}'}}]"),
        0);
    url = fixture_url(&f, "/things/1?x=y%20z");
    assert_int_equal(dbm_http_send(&resp, &(dbm_http_request){.method = "PUT",
                                                              .url = url,
                                                              .headers = headers,
                                                              .body = body,
                                                              .body_len = strlen(body)}),
                     0);
    assert_int_equal(fixture_finish(&f), 0);
    assert_int_equal(resp->status, 201);
    assert_string_equal(resp->body, "{\"ok\":true}");
    assert_int_equal(resp->body_len, 11);
    v = dbm_http_header(resp, "x-request-id");
    assert_string_equal(v, "r-42");
    free(v);
    v = dbm_http_header(resp, "CONTENT-TYPE");
    assert_string_equal(v, "application/json");
    free(v);
    assert_null(dbm_http_header(resp, "X-Missing"));
    assert_null(dbm_http_header(resp, "X-Request")); /* a prefix is not a match */
    /* Header lines only: no status line. */
    assert_false(dbm_starts_with(resp->headers, "HTTP/"));
    assert_null(strstr(resp->headers, "\nHTTP/"));
    dbm_http_response_free(resp);
    free(url);
}

static void too_many_requests_is_retried_after_retry_after(void **state)
{
    dbm_http_response *resp = NULL;
    char *url;
    fixture f;

    assert_int_equal(fixture_start(&f, "[{'path':'/r','reply':{'status':429,"
                                       "'headers':{'Retry-After':'0'},'raw':'slow down'}},"
                                       "{'path':'/r','reply':{'status':200,'raw':'done'}}]"),
                     0);
    url = fixture_url(&f, "/r");
    assert_int_equal(
        dbm_http_send(&resp, &(dbm_http_request){.method = "GET", .url = url, .retries = 1}), 0);
    assert_int_equal(fixture_finish(&f), 0);
    assert_int_equal(resp->status, 200);
    assert_string_equal(resp->body, "done");
    dbm_http_response_free(resp);
    free(url);
}

static void last_server_error_is_returned_after_the_retries(void **state)
{
#define E503 "{'path':'/r','reply':{'status':503,'headers':{'X-Attempt':'n'},'raw':'busy'}}"
    dbm_http_response *resp = NULL;
    char *url;
    fixture f;

    assert_int_equal(fixture_start(&f, "[" E503 "," E503 ","
                                       "{'path':'/r','reply':{'status':502,'raw':'last'}}]"),
                     0);
#undef E503
    url = fixture_url(&f, "/r");
    assert_int_equal(
        dbm_http_send(&resp, &(dbm_http_request){.method = "GET", .url = url, .retries = 2}), 0);
    assert_int_equal(fixture_finish(&f), 0);
    assert_int_equal(resp->status, 502);
    assert_string_equal(resp->body, "last");
    /* The headers are those of the last attempt. */
    assert_null(dbm_http_header(resp, "X-Attempt"));
    dbm_http_response_free(resp);
    free(url);
}

static void client_errors_are_not_retried(void **state)
{
    dbm_http_response *resp = NULL;
    char *url;
    fixture f;

    /* A second request would be unexpected, and fail the fixture. */
    assert_int_equal(
        fixture_start(&f, "[{'method':'POST','path':'/r','form':{},'reply':{'status':404}}]"), 0);
    url = fixture_url(&f, "/r");
    assert_int_equal(
        dbm_http_send(&resp, &(dbm_http_request){.method = "POST", .url = url, .retries = 3}), 0);
    assert_int_equal(fixture_finish(&f), 0);
    assert_int_equal(resp->status, 404);
    assert_string_equal(resp->body, "");
    dbm_http_response_free(resp);
    free(url);
}

/* A port on 127.0.0.1 where nothing listens. */
static int closed_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(s >= 0);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

static void connection_failure_names_only_the_origin(void **state)
{
    static const char *const headers[] = {"Authorization: bearer header-secret", NULL};
    dbm_http_response *resp = (dbm_http_response *)"untouched";
    int port = closed_port();
    char *url = dbm_xasprintf("http://127.0.0.1:%d/path-secret?token=query-secret", port);
    char *origin = dbm_xasprintf("'http://127.0.0.1:%d'", port);

    assert_int_equal(
        dbm_http_send(
            &resp,
            &(dbm_http_request){.method = "GET", .url = url, .headers = headers, .retries = 2}),
        DBM_ECONNECT);
    assert_null(resp);
    assert_non_null(strstr(dbm_error_message(), origin));
    assert_null(strstr(dbm_error_message(), "secret"));
    assert_non_null(dbm_error_hint_text());
    assert_null(strstr(dbm_error_hint_text(), "secret"));
    free(url);
    free(origin);
}

static void timeout_is_a_connection_failure(void **state)
{
    dbm_http_response *resp = NULL;
    int64_t start;
    char *url;
    fixture f;

    assert_int_equal(
        fixture_start(&f, "[{'path':'/slow','reply':{'status':200,'delay_ms':3000,'raw':'late'}}]"),
        0);
    url = fixture_url(&f, "/slow");
    start = dbm_now_ms();
    assert_int_equal(
        dbm_http_send(&resp, &(dbm_http_request){.method = "GET", .url = url, .timeout_ms = 300}),
        DBM_ECONNECT);
    assert_true(dbm_now_ms() - start < 2500);
    assert_non_null(strstr(dbm_error_message(), "imeout"));
    assert_int_equal(fixture_finish(&f), 0);
    free(url);
}

static void header_lookup_reads_raw_lines(void **state)
{
    dbm_http_response r = {.status = 200,
                           .headers = (char *)"Content-Type: text/xml\r\n"
                                              "X-Empty:\r\n"
                                              "x-amzn-requestid:   abc def  \r\n"};
    char *v;

    v = dbm_http_header(&r, "X-Amzn-RequestId");
    assert_string_equal(v, "abc def");
    free(v);
    v = dbm_http_header(&r, "x-empty");
    assert_string_equal(v, "");
    free(v);
    assert_null(dbm_http_header(&r, "Type"));
    assert_null(dbm_http_header(NULL, "Content-Type"));
    dbm_http_response_free(NULL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup(name, clean_environment)
    const struct CMUnitTest tests[] = {
        T(request_and_response_round_trip),
        T(too_many_requests_is_retried_after_retry_after),
        T(last_server_error_is_returned_after_the_retries),
        T(client_errors_are_not_retried),
        T(connection_failure_names_only_the_origin),
        T(timeout_is_a_connection_failure),
        T(header_lookup_reads_raw_lines),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
