/*
 * credential_process.c - credentials from the program a profile of the AWS
 * shared config file names in credential_process (an SSO helper, a password
 * manager, aws-vault), read as the AWS CLI reads them: the command runs with
 * /bin/sh -c, stdin from /dev/null, and prints one JSON object on stdout
 * ({"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken",
 * "Expiration"}). Its output holds secrets: the buffers are wiped, and no
 * message quotes more of it than the first line of its stderr.
 */
#include "net/aws_internal.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROCESS_OUTPUT (64 * 1024)
#define PROCESS_ERRORS 4096

/* Reads fd into b up to max bytes (more is read and dropped); false at EOF. */
static bool drain(int fd, dbm_buf *b, size_t max)
{
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;
    if (b->len < max)
        dbm_buf_put(b, chunk, (size_t)n < max - b->len ? (size_t)n : max - b->len);
    explicit_bzero(chunk, sizeof(chunk));
    return true;
}

/*
 * Run `command` with /bin/sh -c, as the AWS SDKs do (it is the user's own
 * configuration), stdin from /dev/null; its stdout into *out and the exit
 * status into *status (-1: not run).
 */
static void run_process(dbm_buf *out, dbm_buf *err, int *status, const char *command)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1}, wstatus = 0;
    pid_t pid;

    *status = -1;
    if (pipe(po) < 0 || pipe(pe) < 0)
        goto done;
    fflush(NULL);
    if ((pid = fork()) < 0)
        goto done;
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]), close(pe[0]), close(po[1]), close(pe[1]);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", command, (char *)NULL);
        _exit(127);
    }
    close(po[1]), close(pe[1]);
    po[1] = pe[1] = -1;
    for (struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
         fds[0].fd >= 0 || fds[1].fd >= 0;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[0].revents && !drain(po[0], out, PROCESS_OUTPUT))
            fds[0].fd = -1;
        if (fds[1].revents && !drain(pe[0], err, PROCESS_ERRORS))
            fds[1].fd = -1;
    }
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
        ;
    *status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
done:
    for (int i = 0; i < 2; i++) {
        if (po[i] >= 0)
            close(po[i]);
        if (pe[i] >= 0)
            close(pe[i]);
    }
}

/* The first line of the process's stderr, printable. Caller frees. */
static char *first_line(const dbm_buf *err)
{
    const char *s = dbm_buf_cstr(err);
    char *line = dbm_xstrndup(s, strcspn(s, "\r\n"));
    char *printable = dbm_printable(line);

    free(line);
    return printable;
}

/* An ISO 8601 UTC time (2030-01-01T00:15:00Z, fractions allowed) as time_t; -1 if not one. */
static time_t parse_expiration(const char *s)
{
    struct tm tm;
    const char *rest;

    memset(&tm, 0, sizeof(tm));
    rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest)
        return -1;
    if (*rest == '.')
        rest += 1 + strspn(rest + 1, "0123456789");
    if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0)
        return -1;
    return timegm(&tm);
}

static int process_bad_output(const char *profile_name, const char *what)
{
    int rc = dbm_error_set(DBM_ECONFIG, "the credential_process of aws profile '%s' printed %s",
                           profile_name, what);
    dbm_error_hint("it must print {\"Version\": 1, \"AccessKeyId\": ..., \"SecretAccessKey\": "
                   "..., \"SessionToken\": ..., \"Expiration\": ...} on stdout");
    return rc;
}

int dbm_aws_process_credentials(dbm_aws_credentials **out, const char *text, size_t len,
                                const char *profile_name)
{
    json_t *root = json_loadb(text, len, 0, NULL);
    json_t *version = json_object_get(root, "Version");
    const char *akid = json_string_value(json_object_get(root, "AccessKeyId"));
    const char *secret = json_string_value(json_object_get(root, "SecretAccessKey"));
    const char *token = json_string_value(json_object_get(root, "SessionToken"));
    const char *expiration = json_string_value(json_object_get(root, "Expiration"));
    time_t expires;
    int rc = 0;

    if (!json_is_object(root))
        rc = process_bad_output(profile_name, "no JSON object");
    else if (!json_is_integer(version) || json_integer_value(version) != 1)
        rc = process_bad_output(profile_name, "no \"Version\": 1");
    else if (!akid || !*akid || !secret || !*secret)
        rc = process_bad_output(profile_name, "no AccessKeyId and SecretAccessKey");
    else if (expiration && (expires = parse_expiration(expiration)) == (time_t)-1)
        rc = process_bad_output(profile_name, "an Expiration that is not an ISO 8601 UTC time");
    else if (expiration && expires <= time(NULL)) {
        char *shown = dbm_printable(expiration);
        rc = dbm_error_set(DBM_ECONFIG,
                           "the credential_process of aws profile '%s' printed credentials that "
                           "expired at %s",
                           profile_name, shown);
        dbm_error_hint("renew them (log in again) and run again");
        free(shown);
    } else {
        char *source = dbm_xasprintf("profile:%s", profile_name);
        *out = dbm_aws_credentials_new(dbm_xstrdup(akid), dbm_xstrdup(secret), dbm_xstrdup(token),
                                       source);
        free(source);
    }
    json_decref(root);
    return rc;
}

int dbm_aws_credential_process(dbm_aws_credentials **out, const char *command,
                               const char *profile_name)
{
    dbm_buf text = DBM_BUF_INIT, err = DBM_BUF_INIT;
    int status, rc = 0;

    run_process(&text, &err, &status, command);
    if (status != 0) {
        char *line = first_line(&err);
        if (status < 0)
            rc = dbm_error_set(DBM_ECONFIG,
                               "unable to run the credential_process of aws profile '%s'",
                               profile_name);
        else
            rc = dbm_error_set(DBM_ECONFIG,
                               "the credential_process of aws profile '%s' failed (exit %d)%s%s",
                               profile_name, status, *line ? ": " : "", line);
        dbm_error_hint("run it yourself to see why (often: log in again), or fix "
                       "credential_process in the profile");
        free(line);
    } else {
        rc = dbm_aws_process_credentials(out, dbm_buf_cstr(&text), text.len, profile_name);
    }
    dbm_buf_wipe(&text);
    dbm_buf_wipe(&err);
    return rc;
}
