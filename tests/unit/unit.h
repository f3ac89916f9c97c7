/* unit.h: the plumbing the Check unit tests in tests/unit share, so that each test_*.c holds
 * only its own tests: a scratch directory per test (mkdtemp, then removed with all it holds),
 * short-lived formatted paths, small files, forked children (stderr sent to a file, waited for
 * within a bound, exit status checked) and the main() that runs a suite. Header-only (static
 * inline), so every test still builds from its one .c file; nftw needs _GNU_SOURCE, which the
 * build defines. */
#ifndef TERN_TESTS_UNIT_H
#define TERN_TESTS_UNIT_H

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "config.h"

/* Number of entries (besides . and ..) in the directory path; -1 if it cannot be opened. */
static inline int unit_count_entries(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Milliseconds on the monotonic clock, for bounding waits. */
static inline long long unit_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- scratch directories and files ---- */

/* Makes a fresh directory from tmpl ("/tmp/test_x.XXXXXX") into dir[size]; fails if it cannot. */
static inline void unit_mkdtemp(char *dir, size_t size, const char *tmpl)
{
    snprintf(dir, size, "%s", tmpl);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline int unit_rm_entry(const char *path, const struct stat *st, int flag,
                                struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Removes dir and everything below it, following no symlink (like rm -rf); 0 if all went. */
static inline int unit_rmtree(const char *dir)
{
    return nftw(dir, unit_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Formats into one of 8 rotating static buffers: enough for one assertion's worth of paths. */
static inline const char *unit_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *unit_fmt(const char *fmt, ...)
{
    static char bufs[8][256];
    static unsigned next;
    char *p = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return p;
}

/* Writes text to path, failing if the file cannot be created; returns fclose's result. */
static inline int unit_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    return fclose(f);
}

/* ---- forked children ---- */

/* In a forked child: sends stderr to path (created or truncated), or _exit(code) if it cannot. */
static inline void unit_child_stderr_to(const char *path, int code)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
        _exit(code);
    close(fd);
}

/* Waits at most ms for the child pid and returns its wait status; a child still running then
 * is killed and the test fails. */
static inline int unit_wait_child(pid_t pid, int ms)
{
    long long end = unit_now_ms() + ms;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        ck_assert_int_eq(r, 0);
        if (unit_now_ms() > end) {
            /* SIGKILL: Check's SIGTERM handler, inherited by the child, would kill the test */
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            ck_abort_msg("child %ld did not finish in time", (long)pid);
        }
        usleep(5000);
    }
}

/* Waits as unit_wait_child does, then checks that the child exited normally with code. */
static inline void unit_expect_exit(pid_t pid, int ms, int code)
{
    int status = unit_wait_child(pid, ms);
    ck_assert_msg(WIFEXITED(status), "child did not exit normally (status %#x)", status);
    ck_assert_int_eq(WEXITSTATUS(status), code);
}

/* ---- main ---- */

/* Runs every test of s and frees it; returns main's exit status (failure if any test failed). */
/* Loads tern.conf text in which every "@DIR@" stands for dir (a test's scratch directory);
 * a configuration that does not load fails the test. */
static inline void unit_load_config(const char *text, const char *dir)
{
    struct buf t;
    buf_init(&t, BUF_UNBOUNDED);
    for (const char *s = text; *s;) {
        const char *at = strstr(s, "@DIR@");
        size_t n = at ? (size_t)(at - s) : strlen(s);
        buf_append(&t, s, n);
        if (!at)
            break;
        buf_puts(&t, dir);
        s = at + 5;
    }
    char err[ERR_TEXT_MAX] = "";
    ck_assert_msg(config_load_text("t.conf", t.data, err, sizeof err) == 0, "config: %s", err);
    buf_free(&t);
}

static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
