/*
 * github.c - create or update the sticky pull-request comment through the
 * GitHub REST API (issue comments: a pull request is an issue to that API).
 *
 * The comments are listed 100 at a time, following the Link header's
 * rel="next" URL, and the first whose body holds the marker is updated with
 * PATCH; without one a new comment is created with POST. A next-page URL that
 * does not lead back to the configured API is not followed: the token is only
 * ever sent there.
 */
#include "net/github.h"
#include "common/error.h"
#include "net/http.h"
#include "common/log.h"
#include "common/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define COMMENT_LIMIT 60000 /* bytes; GitHub refuses bodies over 65536 characters */
#define MAX_PAGES     50

typedef struct {
    const char *api; /* without a trailing slash */
    const char *repo;
    const char *headers[7];
    char *auth; /* "Authorization: Bearer ..." (secret) */
    long pr;
} gh_ctx;

char *dbm_github_comment_marker(const dbm_github_comment_opts *cfg)
{
    const char *dir = cfg->migrations_dir ? cfg->migrations_dir : "";
    char *clean, *marker;

    clean = dbm_xasprintf("%s %s %s", cfg->command ? cfg->command : "",
                          cfg->history_schema ? cfg->history_schema : "", *dir ? dir : ".");
    /* Only what cannot end or confuse the HTML comment; the three fields stay apart. */
    for (char *p = clean; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '/' || *p == ' ' || (*p == '-' && p[1] != '-')))
            *p = '_';
    {
        char *cmd = clean, *schema = strchr(cmd, ' ') + 1, *d = strchr(schema, ' ') + 1;
        schema[-1] = d[-1] = '\0';
        marker = dbm_xasprintf("<!-- db-migrate:comment command=%s schema=%s dir=%s -->", cmd,
                               schema, d);
    }
    free(clean);
    return marker;
}

/* The pull request number of the event, 0 when the event is not about one. */
static int pr_number(long *out, const dbm_github_comment_opts *cfg)
{
    json_error_t jerr;
    json_t *root, *pr, *num;

    *out = 0;
    if (!cfg->event_path || !*cfg->event_path)
        return 0;
    if (!(root = json_load_file(cfg->event_path, 0, &jerr)))
        return dbm_error_set(DBM_ECONFIG, "unable to read the event payload '%s': %s",
                             cfg->event_path, jerr.text);
    pr = json_object_get(root, "pull_request");
    num = json_object_get(pr, "number");
    if (json_is_integer(num) && json_integer_value(num) > 0)
        *out = (long)json_integer_value(num);
    json_decref(root);
    return 0;
}

static bool valid_repository(const char *repo)
{
    const char *slash = repo ? strchr(repo, '/') : NULL;

    if (!slash || slash == repo || !slash[1] || strchr(slash + 1, '/'))
        return false;
    for (const char *p = repo; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-' || *p == '/'))
            return false;
    return true;
}

/* GitHub's "message" from an error answer, for our own message. Caller frees. */
static char *api_message(const dbm_http_response *resp)
{
    json_t *root = json_loads(resp->body ? resp->body : "", 0, NULL);
    const char *msg = json_string_value(json_object_get(root, "message"));
    char *out = dbm_printable(msg ? msg : "no message");

    json_decref(root);
    return out;
}

/* The rel="next" URL of a Link header, or NULL. Caller frees. */
static char *next_link(const char *link)
{
    const char *p = link;

    while (p && *p) {
        const char *lt = strchr(p, '<'), *gt = lt ? strchr(lt, '>') : NULL;
        const char *end;
        if (!gt)
            return NULL;
        end = strchr(gt, ',');
        if (!end)
            end = gt + strlen(gt);
        for (const char *q = gt; q + 10 <= end; q++)
            if (strncmp(q, "rel=\"next\"", 10) == 0)
                return dbm_xstrndup(lt + 1, (size_t)(gt - lt - 1));
        p = *end ? end + 1 : end;
    }
    return NULL;
}

/*
 * Send one request. 403 and 404 give DBM_ENOTFOUND after a warning (a fork's
 * token may read but not write); another status than `expect` gives
 * DBM_EGENERIC.
 */
static int gh_send(dbm_http_response **out, gh_ctx *gh, const char *method, const char *url,
                   const char *body, long expect, const char *what)
{
    dbm_http_request req;
    int error;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    req.headers = gh->headers;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    /* A retried POST could create the comment twice. */
    req.retries = strcmp(method, "POST") == 0 ? 0 : 2;
    if ((error = dbm_http_send(out, &req)) < 0)
        return error;
    if ((*out)->status == expect)
        return 0;
    {
        char *msg = api_message(*out);
        if ((*out)->status == 403 || (*out)->status == 404) {
            dbm_warn("no pull request comment: GitHub answered %ld to %s on pull request #%ld "
                     "(%s); a workflow run for a pull request from a fork gets a read-only "
                     "token, and the token needs the pull-requests: write permission",
                     (*out)->status, what, gh->pr, msg);
            error = DBM_ENOTFOUND;
        } else {
            error = dbm_error_set(DBM_EGENERIC,
                                  "unable to comment on pull request #%ld: GitHub answered %ld to "
                                  "%s (%s)",
                                  gh->pr, (*out)->status, what, msg);
        }
        free(msg);
    }
    return error;
}

/* Find the comment holding `marker`: *id is its id, 0 when none. */
static int find_comment(long long *id, gh_ctx *gh, const char *marker)
{
    char *url =
        dbm_xasprintf("%s/repos/%s/issues/%ld/comments?per_page=100", gh->api, gh->repo, gh->pr);
    char *prefix = dbm_xasprintf("%s/", gh->api);
    dbm_http_response *resp = NULL;
    int error = 0;

    *id = 0;
    for (int page = 0; url && page < MAX_PAGES && !*id; page++) {
        json_t *list;
        size_t i;
        json_t *c;
        char *link, *next;

        dbm_http_response_free(resp);
        resp = NULL;
        if ((error = gh_send(&resp, gh, "GET", url, NULL, 200, "listing its comments")) < 0)
            goto done;
        list = json_loads(resp->body, 0, NULL);
        if (!json_is_array(list)) {
            json_decref(list);
            error = dbm_error_set(DBM_EGENERIC,
                                  "unable to read the comments of pull request #%ld: "
                                  "GitHub's answer is not a list",
                                  gh->pr);
            goto done;
        }
        json_array_foreach(list, i, c)
        {
            const char *body = json_string_value(json_object_get(c, "body"));
            if (body && strstr(body, marker) && json_is_integer(json_object_get(c, "id"))) {
                *id = (long long)json_integer_value(json_object_get(c, "id"));
                break;
            }
        }
        json_decref(list);
        link = dbm_http_header(resp, "Link");
        next = link ? next_link(link) : NULL;
        free(link);
        free(url);
        url = NULL;
        if (next && dbm_starts_with(next, prefix))
            url = next;
        else
            free(next);
    }
done:
    dbm_http_response_free(resp);
    free(url);
    free(prefix);
    return error;
}

char *dbm_github_comment_body(const char *marker, const char *markdown)
{
    dbm_buf b = DBM_BUF_INIT;
    size_t len = strlen(markdown);
    size_t bad;

    dbm_buf_printf(&b, "%s\n", marker);
    if (len > COMMENT_LIMIT) {
        size_t cut = COMMENT_LIMIT;
        /* At a line end when one is near, else never inside a UTF-8 character. */
        while (cut > COMMENT_LIMIT - 4096 && markdown[cut - 1] != '\n')
            cut--;
        if (markdown[cut - 1] != '\n')
            for (cut = COMMENT_LIMIT; cut > 0 && ((unsigned char)markdown[cut] & 0xC0) == 0x80;)
                cut--;
        dbm_buf_put(&b, markdown, cut);
        dbm_buf_puts(&b, "\n\n… cut to fit a comment; the job summary has everything.\n");
    } else {
        dbm_buf_puts(&b, markdown);
    }
    /* JSON strings must be UTF-8; file names and server text need not be. */
    while (!dbm_utf8_valid(b.ptr, b.len, &bad))
        b.ptr[bad] = '?';
    return dbm_buf_detach(&b);
}

int dbm_github_comment_post(const dbm_github_comment_opts *cfg, const char *markdown)
{
    gh_ctx gh;
    char *marker = NULL, *text = NULL, *json = NULL, *url = NULL, *api = NULL;
    dbm_http_response *resp = NULL;
    json_t *payload = NULL;
    long long id = 0;
    int error;

    memset(&gh, 0, sizeof(gh));
    if ((error = pr_number(&gh.pr, cfg)) < 0)
        goto done;
    if (!gh.pr) {
        dbm_log("comment-on-pr: '%s' is not a pull request event; no comment posted",
                cfg->event_name ? cfg->event_name : "this");
        goto done;
    }
    if (!cfg->token || !*cfg->token) {
        error = dbm_error_set(DBM_ECONFIG, "comment-on-pr is true but no github-token is set");
        dbm_error_hint("pass github-token: ${{ github.token }} with pull-requests: write");
        goto done;
    }
    if (!valid_repository(cfg->repository)) {
        error = dbm_error_set(DBM_ECONFIG,
                              "comment-on-pr needs GITHUB_REPOSITORY as owner/name, not '%s'",
                              cfg->repository ? cfg->repository : "");
        goto done;
    }
    api = dbm_xstrdup(cfg->api_url && *cfg->api_url ? cfg->api_url : "https://api.github.com");
    while (*api && api[strlen(api) - 1] == '/')
        api[strlen(api) - 1] = '\0';
    gh.api = api;
    gh.repo = cfg->repository;
    gh.auth = dbm_xasprintf("Authorization: Bearer %s", cfg->token);
    gh.headers[0] = gh.auth;
    gh.headers[1] = "Accept: application/vnd.github+json";
    gh.headers[2] = "X-GitHub-Api-Version: 2022-11-28";
    gh.headers[3] = "User-Agent: db-migrate/" DBM_VERSION;
    gh.headers[4] = "Content-Type: application/json";
    gh.headers[5] = NULL;

    marker = dbm_github_comment_marker(cfg);
    if ((error = find_comment(&id, &gh, marker)) < 0)
        goto done;
    text = dbm_github_comment_body(marker, markdown ? markdown : "");
    payload = json_pack("{s:s}", "body", text);
    json = json_dumps(payload, JSON_COMPACT);
    if (id) {
        url = dbm_xasprintf("%s/repos/%s/issues/comments/%lld", gh.api, gh.repo, id);
        error = gh_send(&resp, &gh, "PATCH", url, json, 200, "updating its comment");
    } else {
        url = dbm_xasprintf("%s/repos/%s/issues/%ld/comments", gh.api, gh.repo, gh.pr);
        error = gh_send(&resp, &gh, "POST", url, json, 201, "creating a comment");
    }
    if (error == 0)
        dbm_log("%s the comment on pull request #%ld", id ? "updated" : "created", gh.pr);
done:
    if (error == DBM_ENOTFOUND)
        error = 0; /* warned: a read-only token is not the run's failure */
    dbm_secret_free(gh.auth);
    dbm_http_response_free(resp);
    json_decref(payload);
    free(json);
    free(url);
    free(text);
    free(marker);
    free(api);
    return error;
}
