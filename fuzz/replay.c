/*
 * replay.c - the main of a harness's replay build: feed it every file named
 * on the command line, or every file of the directories named, in name
 * order, as libFuzzer would with -runs=0. Built with the test flags (ASan and
 * UBSan, gcc or clang) so `make check` needs no libFuzzer: a crash, leak or
 * undefined behaviour on a saved input fails the check. Before each input its
 * path goes to stderr, so the failing one is named.
 */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (!f) {
        perror(path);
        return -1;
    }
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            if (!buf)
                abort();
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    fprintf(stderr, "replay: %s\n", path);
    /* An input of its own allocation, as libFuzzer gives: reads past its end are caught. */
    {
        uint8_t *exact = malloc(len ? len : 1);
        if (!exact)
            abort();
        memcpy(exact, buf, len);
        free(buf);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
    }
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_path(const char *path, int *count)
{
    struct dirent **names;
    struct stat sb;
    int n, rc = 0;

    if (stat(path, &sb) < 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    if ((n = scandir(path, &names, NULL, by_name)) < 0) {
        perror(path);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.' && rc == 0) {
            char *sub = malloc(strlen(path) + strlen(names[i]->d_name) + 2);
            if (!sub)
                abort();
            snprintf(sub, strlen(path) + strlen(names[i]->d_name) + 2, "%s/%s", path,
                     names[i]->d_name);
            rc = run_path(sub, count);
            free(sub);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int count = 0;

    for (int i = 1; i < argc; i++)
        if (run_path(argv[i], &count) < 0)
            return 1;
    printf("%d inputs\n", count);
    return 0;
}
