/*
 * cli_util.h — helpers for tests that run the real `ipabs` binary.
 *
 * cli_run() spawns IPABS_CLI (the CLI's absolute path, a compile
 * definition) with posix_spawn, sends its stdout and stderr to files in the
 * test's scratch directory and returns them as strings with the exit code.
 * The scratch directory is made by cli_tmp_make() (mkdtemp under /tmp) and
 * removed with everything in it by cli_tmp_remove(); Criterion runs every
 * test in its own process, so the one static directory name is per test.
 *
 * Small file helpers (read a whole file, write one, replace the first
 * occurrence of a string) let a test copy the reference scenario and edit
 * one thing in it.
 */
#ifndef IPABS_TEST_CLI_UTIL_H
#define IPABS_TEST_CLI_UTIL_H

#include <criterion/criterion.h>

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CLI_REFERENCE_YAML IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml"
#define CLI_REFERENCE_TAPE IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-loans.csv"
#define CLI_MAX_ARGS 64

/* ---- scratch directory ----------------------------------------------------- */

static char cli_tmp[256];

static inline void cli_tmp_make(void)
{
    snprintf(cli_tmp, sizeof cli_tmp, "/tmp/ipabs-cli-XXXXXX");
    cr_assert_not_null(mkdtemp(cli_tmp), "expected mkdtemp to create %s", cli_tmp);
}

/* Remove path and, if it is a directory, everything under it. */
static inline void cli_rm_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            size_t n = strlen(path) + strlen(e->d_name) + 2;
            char *child = malloc(n);
            snprintf(child, n, "%s/%s", path, e->d_name);
            cli_rm_tree(child);
            free(child);
        }
        if (d != NULL)
            closedir(d);
    }
    remove(path);
}

static inline void cli_tmp_remove(void)
{
    if (cli_tmp[0] != '\0')
        cli_rm_tree(cli_tmp);
}

/* "<scratch>/<name>" into a static rotating buffer (8 live at a time). */
static inline const char *cli_path(const char *name)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", cli_tmp, name);
    return b;
}

/* ---- files ----------------------------------------------------------------- */

/* The whole file as a NUL-terminated string (malloc'ed); *len gets its
 * size if len is not NULL.  NULL if it cannot be read. */
static inline char *cli_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

/* A result CSV as cli_read_file() reads it, less the UTF-8 byte-order mark
 * every result CSV begins with by default (issue 12), whose presence is
 * checked. */
static inline char *cli_read_csv(const char *path, size_t *len)
{
    size_t n;
    char *buf = cli_read_file(path, &n);
    if (buf == NULL)
        return NULL;
    bool bom = n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0;
    cr_expect(bom, "expected %s to begin with the UTF-8 byte-order mark", path);
    if (bom) {
        memmove(buf, buf + 3, n - 2);
        n -= 3;
    }
    if (len != NULL)
        *len = n;
    return buf;
}

static inline void cli_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "expected to be able to write %s", path);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
}

/* text with the first `from` replaced by `to` (malloc'ed); the test fails
 * if `from` is absent, so an edit never silently does nothing. */
static inline char *cli_edit(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    cr_assert_not_null(at, "expected '%s' in the text to edit", from);
    size_t head = (size_t)(at - text);
    char *out = malloc(strlen(text) - strlen(from) + strlen(to) + 1);
    memcpy(out, text, head);
    strcpy(out + head, to);
    strcat(out, at + strlen(from));
    return out;
}

/* 1-based line and column of the first `needle` in text; the test fails
 * if it is absent. */
static inline void cli_locate(const char *text, const char *needle, int *line,
                              int *column)
{
    const char *at = strstr(text, needle);
    cr_assert_not_null(at, "expected '%s' in the text", needle);
    *line = 1;
    const char *bol = text;
    for (const char *p = text; p < at; p++)
        if (*p == '\n') {
            (*line)++;
            bol = p + 1;
        }
    *column = (int)(at - bol) + 1;
}

/* ---- running the CLI ------------------------------------------------------- */

typedef struct cli_result {
    int exit_code; /* the exit status, or -1 if the process did not exit */
    int signal;    /* the signal that killed it, 0 if it exited */
    char *out;     /* stdout (malloc'ed) */
    char *err;     /* stderr (malloc'ed) */
} cli_result;

/* Run `ipabs` with the NULL-terminated argument list argv (argv[0] is the
 * first argument after the program name). */
static inline cli_result cli_runv(const char *const *argv)
{
    static int serial;
    char out_path[512], err_path[512];
    int id = serial++;
    snprintf(out_path, sizeof out_path, "%s/.stdout.%d", cli_tmp, id);
    snprintf(err_path, sizeof err_path, "%s/.stderr.%d", cli_tmp, id);

    const char *args[CLI_MAX_ARGS + 2] = {IPABS_CLI};
    int n = 1;
    for (; argv[n - 1] != NULL; n++) {
        cr_assert(n <= CLI_MAX_ARGS, "expected at most %d CLI arguments", CLI_MAX_ARGS);
        args[n] = argv[n - 1];
    }
    args[n] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_path,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, IPABS_CLI, &fa, NULL, (char *const *)args, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "expected to spawn %s (%s)", IPABS_CLI, strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ;
    cli_result r = {-1, 0, cli_read_file(out_path, NULL), cli_read_file(err_path, NULL)};
    if (WIFEXITED(status))
        r.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        r.signal = WTERMSIG(status);
    if (r.out == NULL)
        r.out = calloc(1, 1);
    if (r.err == NULL)
        r.err = calloc(1, 1);
    remove(out_path);
    remove(err_path);
    return r;
}

/* cli_run("cashflow", yaml, "-o", dir, NULL) */
static inline cli_result cli_run(const char *first, ...)
{
    const char *argv[CLI_MAX_ARGS + 1];
    int n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
        cr_assert(n < CLI_MAX_ARGS, "expected at most %d CLI arguments", CLI_MAX_ARGS);
        argv[n++] = a;
    }
    va_end(ap);
    argv[n] = NULL;
    return cli_runv(argv);
}

static inline void cli_result_free(cli_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* The process ended normally (no crash, no sanitizer abort by signal). */
#define CLI_EXPECT_NO_CRASH(r)                                                     \
    cr_expect_eq((r).signal, 0, "expected the CLI to exit, it was killed by signal " \
                 "%d; stderr:\n%s", (r).signal, (r).err)

#endif
