/* test_mem.c: unit tests of common/mem.c: what xmalloc, xcalloc, xrealloc, xstrdup and xstrndup
 * return (contents, zeroing, truncation, zero sizes), and that running out of memory ends the
 * process with EX_SOFTWARE and a `fatal: out of memory` line (checked in forked children). */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "mem.h"
#include "unit.h"

/* Under AddressSanitizer an impossible allocation would abort with a report instead of
 * returning NULL; let malloc fail the way libc's does, so mem.c's handling is what is tested. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

#define WAIT_CHILD_MS 5000
#define HUGE_SIZE ((size_t)-1 / 2)

START_TEST(malloc_usable)
{
    char *p = xmalloc(100);
    ck_assert_ptr_nonnull(p);
    memset(p, 'x', 100);
    p[99] = '\0';
    ck_assert_uint_eq(strlen(p), 99);
    free(p);
}
END_TEST

/* malloc(0) may return NULL; xmalloc(0) must not, and the pointer works with xrealloc/free. */
START_TEST(malloc_zero)
{
    char *a = xmalloc(0);
    char *b = xmalloc(0);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    a = xrealloc(a, 6);
    memcpy(a, "hello", 6);
    ck_assert_str_eq(a, "hello");
    free(a);
    free(b);
}
END_TEST

START_TEST(calloc_zeroes)
{
    /* dirty the heap first so zeroes are not a coincidence of fresh pages */
    unsigned char *dirty = xmalloc(4096);
    memset(dirty, 0xa5, 4096);
    free(dirty);
    unsigned char *p = xcalloc(1024, 4);
    for (size_t i = 0; i < 4096; i++)
        ck_assert_msg(p[i] == 0, "byte %zu is %#x", i, p[i]);
    free(p);
    void *z1 = xcalloc(0, 8);
    void *z2 = xcalloc(8, 0);
    ck_assert_ptr_nonnull(z1);
    ck_assert_ptr_nonnull(z2);
    free(z1);
    free(z2);
}
END_TEST

START_TEST(realloc_keeps_contents)
{
    char *p = xrealloc(NULL, 4);   /* like xmalloc */
    ck_assert_ptr_nonnull(p);
    memcpy(p, "abc", 4);
    p = xrealloc(p, 100000);
    ck_assert_str_eq(p, "abc");
    for (size_t i = 4; i < 100000; i++)
        p[i] = (char)('a' + i % 26);
    p = xrealloc(p, 3);            /* shrinking keeps the first bytes */
    ck_assert_mem_eq(p, "abc", 3);
    /* realloc(p, 0) may free p and return NULL; xrealloc keeps a live, non-NULL block */
    p = xrealloc(p, 0);
    ck_assert_ptr_nonnull(p);
    p = xrealloc(p, 2);
    memcpy(p, "z", 2);
    ck_assert_str_eq(p, "z");
    free(p);
}
END_TEST

START_TEST(strdup_copies)
{
    const char *s = "queue_directory = /var/spool/tern";
    char *d = xstrdup(s);
    ck_assert_str_eq(d, s);
    ck_assert_ptr_ne(d, s);
    d[0] = 'Q';
    ck_assert_int_eq(s[0], 'q');
    free(d);
    d = xstrdup("");
    ck_assert_str_eq(d, "");
    free(d);
}
END_TEST

START_TEST(strndup_bounds)
{
    char *d = xstrndup("abc", 10);   /* shorter than n: the whole string */
    ck_assert_str_eq(d, "abc");
    free(d);
    d = xstrndup("abcdef", 3);       /* longer than n: cut and terminated */
    ck_assert_str_eq(d, "abc");
    ck_assert_uint_eq(strlen(d), 3);
    free(d);
    d = xstrndup("abc", 3);          /* exactly n */
    ck_assert_str_eq(d, "abc");
    free(d);
    d = xstrndup("abc", 0);
    ck_assert_str_eq(d, "");
    free(d);
    d = xstrndup("ab\0cd", 5);       /* stops at the NUL */
    ck_assert_str_eq(d, "ab");
    free(d);
    /* a buffer with no NUL at all: only n bytes may be read (ASan checks the read) */
    char *raw = xmalloc(4);
    memcpy(raw, "wxyz", 4);
    d = xstrndup(raw, 4);
    ck_assert_str_eq(d, "wxyz");
    free(d);
    free(raw);
}
END_TEST

/* ---- out of memory ---- */

enum oom_kind { OOM_MALLOC, OOM_CALLOC, OOM_REALLOC };

static void *volatile small;

/* Runs the allocation in a child whose stderr is a temporary file; checks that it exits with
 * EX_SOFTWARE and returns what it wrote. */
static const char *oom_child(enum oom_kind kind)
{
    static char text[4096];
    char path[] = "/tmp/test_mem.err.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        if (dup2(fd, STDERR_FILENO) < 0)
            _exit(99);
        volatile size_t huge = HUGE_SIZE;   /* not folded into a compile-time warning */
        void *p = NULL;
        switch (kind) {
        case OOM_MALLOC: p = xmalloc(huge); break;
        case OOM_CALLOC: p = xcalloc(huge, 4); break;
        case OOM_REALLOC:
            small = xmalloc(16);   /* kept reachable: LeakSanitizer runs at exit */
            p = xrealloc(small, huge);
            break;
        }
        _exit(p == NULL ? 98 : 97);   /* not reached if out of memory is fatal */
    }
    int status = unit_wait_child(pid, WAIT_CHILD_MS);
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    close(fd);
    text[n > 0 ? n : 0] = '\0';
    ck_assert_msg(WIFEXITED(status), "child did not exit normally (status %#x): %s", status,
                  text);
    ck_assert_msg(WEXITSTATUS(status) == EX_SOFTWARE, "exit %d, stderr: %s",
                  WEXITSTATUS(status), text);
    return text;
}

START_TEST(malloc_oom_fatal)
{
    const char *text = oom_child(OOM_MALLOC);
    ck_assert_msg(strstr(text, "fatal: out of memory") != NULL, "stderr: %s", text);
    /* one whole line: `tern[pid]: fatal: out of memory allocating N bytes\n` */
    char line[128];
    snprintf(line, sizeof line, "]: fatal: out of memory allocating %zu bytes\n", HUGE_SIZE);
    ck_assert_msg(strstr(text, line) != NULL, "stderr: %s", text);
}
END_TEST

START_TEST(calloc_oom_fatal)
{
    const char *text = oom_child(OOM_CALLOC);
    ck_assert_msg(strstr(text, "fatal: out of memory") != NULL, "stderr: %s", text);
}
END_TEST

START_TEST(realloc_oom_fatal)
{
    const char *text = oom_child(OOM_REALLOC);
    ck_assert_msg(strstr(text, "fatal: out of memory") != NULL, "stderr: %s", text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mem");
    TCase *tc = tcase_create("alloc");
    tcase_add_test(tc, malloc_usable);
    tcase_add_test(tc, malloc_zero);
    tcase_add_test(tc, calloc_zeroes);
    tcase_add_test(tc, realloc_keeps_contents);
    tcase_add_test(tc, strdup_copies);
    tcase_add_test(tc, strndup_bounds);
    suite_add_tcase(s, tc);
    TCase *oom = tcase_create("oom");
    tcase_set_timeout(oom, 20);
    tcase_add_test(oom, malloc_oom_fatal);
    tcase_add_test(oom, calloc_oom_fatal);
    tcase_add_test(oom, realloc_oom_fatal);
    suite_add_tcase(s, oom);
    return unit_run(s);
}
