/*
 * fuzz.h - what the fuzz harnesses share (fuzz/support.c).
 *
 * Each fuzz/<name>.c is one libFuzzer harness: it defines
 * LLVMFuzzerTestOneInput and feeds the bytes to one parser of untrusted input.
 * `make fuzz` links it with libFuzzer; `make check` links it with replay.c and
 * feeds it every file of fuzz/corpus/<name>/. Harnesses must not write outside
 * fuzz_dir(), run programs, or touch the network: HTTP answers come from the
 * input through fuzz_http_serve (dbm_http_send is wrapped at link time).
 *
 * Inputs made of several parts (a file and the answers to the requests it
 * leads to) separate them with a line "=====" (FUZZ_SEP).
 */
#ifndef DBM_FUZZ_H
#define DBM_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FUZZ_SEP "\n=====\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of data[0, size) (embedded NULs kept). Caller frees. */
char *fuzz_strndup(const uint8_t *data, size_t size);

/*
 * The next part of *data up to FUZZ_SEP (or the end), advancing *data and
 * *size past it. Returns false when nothing is left.
 */
bool fuzz_next_part(const uint8_t **data, size_t *size, const uint8_t **part, size_t *plen);

/* This process's scratch directory (created on first use, removed at exit). */
const char *fuzz_dir(void);

/*
 * Write data to fuzz_dir()/name (name may hold '/': folders are made). Returns
 * the path (caller frees), or NULL when the file cannot be created (a folder
 * of that name).
 */
char *fuzz_write(const char *name, const void *data, size_t len);

/*
 * The answers the next dbm_http_send calls get, in order: each part is
 * "STATUS\nName: value\n...\n\nbody" (no status line: 200; no blank line: no
 * headers, all body). Once they are used up, a request fails as if unreachable. When
 * `token_prefix` is set, a request carrying an Authorization header to any
 * other URL aborts: the token must only go to the configured server.
 */
void fuzz_http_serve(const uint8_t *data, size_t size, const char *token_prefix);

/* Forget the answers not used; how many requests were made since the last serve. */
int fuzz_http_done(void);

/*
 * A check of the harness failed (a property of the product's answer, not a
 * sanitizer's finding): say where, with the current error message, and abort
 * so that libFuzzer saves the input.
 */
void fuzz_fail(const char *file, int line) __attribute__((noreturn));
#define FUZZ_FAIL() fuzz_fail(__FILE__, __LINE__)

/*
 * The error the product recorded, if any, must be what main.c can print as
 * one line and a hint: no control character in either (a newline from the
 * input would forge a second line, or a workflow command). Then clear it.
 */
void fuzz_error_done(void);

/* Clear the environment variables the product reads, then set the few given (NULL-ended pairs). */
void fuzz_env(const char *const *pairs);

#endif
