/*
 * fixture.h - run tests/fixtures/aws_fixture.py, the local stand-in for
 * GitHub's OIDC endpoint, AWS STS and the ECS credentials endpoint, from a
 * cmocka test.
 *
 * fixture_start() writes the scenario (a JSON list of expected requests and
 * their answers; see the script) and starts the server on an ephemeral port
 * of 127.0.0.1. fixture_finish() stops it and returns 0 only when every
 * expected request came, in order, exactly as described. Scenarios are written
 * with ' for " so they read well in C strings: they may not contain a '.
 */
#ifndef DBM_TEST_FIXTURE_H
#define DBM_TEST_FIXTURE_H

#include "common/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    pid_t pid;
    int to_child; /* the fixture's stdin: closing it stops the server */
    int port;
    char dir[64];
    char *scenario_path;
} fixture;

static const char *fixture_python(void)
{
    const char *p = getenv("DBM_PYTHON");
    if (p && *p)
        return p;
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

/* tests/fixtures/aws_fixture.py, found from this file's path. Caller frees. */
static char *fixture_script(void)
{
    const char *slash = strrchr(__FILE__, '/');
    int n = slash ? (int)(slash - __FILE__) : 1;
    return dbm_xasprintf("%.*s/../fixtures/aws_fixture.py", n, slash ? __FILE__ : ".");
}

static int fixture_start(fixture *f, const char *scenario)
{
    int in[2], out[2];
    char line[32];
    FILE *fp;
    ssize_t got;
    size_t used = 0;

    memset(f, 0, sizeof(*f));
    f->pid = -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/dbm-fixture-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    f->scenario_path = dbm_xasprintf("%s/scenario.json", f->dir);
    fp = fopen(f->scenario_path, "w");
    if (!fp)
        return -1;
    for (const char *p = scenario; *p; p++)
        fputc(*p == '\'' ? '"' : *p, fp);
    fclose(fp);

    if (pipe(in) < 0 || pipe(out) < 0)
        return -1;
    f->pid = fork();
    if (f->pid < 0)
        return -1;
    if (f->pid == 0) {
        char *script = fixture_script();
        char *argv[] = {(char *)fixture_python(), script, f->scenario_path, NULL};
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    f->to_child = in[1];
    /* The first line is the port; the fixture prints nothing else on stdout. */
    while (used + 1 < sizeof(line) && (got = read(out[0], line + used, 1)) == 1 &&
           line[used] != '\n')
        used++;
    line[used] = '\0';
    close(out[0]);
    f->port = (int)strtol(line, NULL, 10);
    return f->port > 0 ? 0 : -1;
}

/* "http://127.0.0.1:PORT" + path. Caller frees. */
static char *fixture_url(const fixture *f, const char *path)
{
    return dbm_xasprintf("http://127.0.0.1:%d%s", f->port, path);
}

/* Stop the fixture; its exit status: 0 when every exchange matched. */
static int fixture_finish(fixture *f)
{
    int status = 0, rc = -1;

    if (f->to_child > 0)
        close(f->to_child);
    f->to_child = -1;
    if (f->pid > 0 && waitpid(f->pid, &status, 0) == f->pid)
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    f->pid = -1;
    if (f->scenario_path) {
        unlink(f->scenario_path);
        free(f->scenario_path);
        f->scenario_path = NULL;
    }
    if (f->dir[0])
        rmdir(f->dir);
    f->dir[0] = '\0';
    return rc;
}

#endif
