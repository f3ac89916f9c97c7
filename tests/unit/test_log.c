/* test_log.c: unit tests of the logging API (common/log.c) writing to a maillog file: the line
 * format, severity prefixes, neutralised control characters, the length cut, reopening after
 * logrotate, whole lines from concurrent processes, and the exit codes of the fatal calls. */
#include <check.h>
#include <sysexits.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "log.h"
#include "unit.h"

#define WAIT_CHILD_MS 5000
#define LINE_RE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}" \
                "[+-][0-9]{2}:[0-9]{2} ([^ ]+) tern/testsvc\\[([0-9]+)\\]: (.*)$"

static char dir[64];
static char path[128];
static char rotated[140];

static void setup(void)
{
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_log.XXXXXX");
    snprintf(path, sizeof path, "%s/mail.log", dir);
    snprintf(rotated, sizeof rotated, "%s.1", path);
    log_init("testsvc");
    ck_assert_int_eq(log_open("tern", path, NULL), 0);
}

static void teardown(void)
{
    log_close();
    unlink(path);
    unlink(rotated);
    rmdir(dir);
}

static void read_file(const char *p, struct buf *b)
{
    buf_init(b, 64 * 1024 * 1024);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    ck_assert_msg(fd >= 0, "cannot open %s", p);
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        ck_assert_int_eq(buf_append(b, chunk, (size_t)n), 0);
    ck_assert_int_eq(n, 0);
    close(fd);
}

/* A parsed maillog line: the fields the regex captures. */
struct line {
    char host[256];
    long pid;
    char text[LOG_LINE_MAX + 1];
};

static bool parse_line(const char *s, size_t len, struct line *out)
{
    static regex_t re;
    static bool compiled;
    if (!compiled) {
        ck_assert_int_eq(regcomp(&re, LINE_RE, REG_EXTENDED), 0);
        compiled = true;
    }
    char tmp[LOG_LINE_MAX + 512];
    if (len >= sizeof tmp || memchr(s, '\0', len) != NULL)
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    regmatch_t m[4];
    if (regexec(&re, tmp, 4, m, 0) != 0)
        return false;
    snprintf(out->host, sizeof out->host, "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
             tmp + m[1].rm_so);
    out->pid = strtol(tmp + m[2].rm_so, NULL, 10);
    snprintf(out->text, sizeof out->text, "%.*s", (int)(m[3].rm_eo - m[3].rm_so),
             tmp + m[3].rm_so);
    return true;
}

/* Splits the file into lines (each must end with '\n'), parses them all, returns the count. */
static size_t read_lines(const char *p, struct line *lines, size_t max)
{
    struct buf b;
    read_file(p, &b);
    ck_assert_msg(b.len == 0 || b.data[b.len - 1] == '\n', "file does not end with a newline");
    size_t count = 0;
    for (const char *s = b.data, *end = b.data + b.len; s < end; count++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        struct line tmp;
        struct line *l = count < max ? &lines[count] : &tmp;
        ck_assert_msg(parse_line(s, (size_t)(nl - s), l), "bad line: %.*s", (int)(nl - s), s);
        s = nl + 1;
    }
    buf_free(&b);
    return count;
}

static void short_hostname(char *h, size_t n)
{
    ck_assert_int_eq(gethostname(h, n), 0);
    h[n - 1] = '\0';
    char *dot = strchr(h, '.');
    if (dot)
        *dot = '\0';
}

START_TEST(info_line_format)
{
    ck_assert_int_ge(log_fd(), 0);
    errno = EACCES;
    log_info("hello %s %d", "world", 42);
    ck_assert_int_eq(errno, EACCES);   /* callers log and then report errno */
    struct line l[2];
    ck_assert_uint_eq(read_lines(path, l, 2), 1);
    ck_assert_str_eq(l[0].text, "hello world 42");
    ck_assert_int_eq(l[0].pid, (long)getpid());
    char host[256];
    short_hostname(host, sizeof host);
    ck_assert_str_eq(l[0].host, host);
}
END_TEST

START_TEST(severity_prefixes)
{
    log_info("plain");
    log_warn("careful %d", 1);
    log_error("broken %d", 2);
    struct line l[4];
    ck_assert_uint_eq(read_lines(path, l, 4), 3);
    ck_assert_str_eq(l[0].text, "plain");
    ck_assert_str_eq(l[1].text, "warning: careful 1");
    ck_assert_str_eq(l[2].text, "error: broken 2");
}
END_TEST

START_TEST(control_chars_replaced)
{
    log_info("peer said %s", "evil\r\nJan  1 00:00:00 host tern/smtpd[1]: forged\nline\x1b[0m");
    struct buf b;
    read_file(path, &b);
    ck_assert_ptr_null(memchr(b.data, '\r', b.len));
    ck_assert_ptr_null(memchr(b.data, '\x1b', b.len));
    ck_assert_ptr_eq(memchr(b.data, '\n', b.len), b.data + b.len - 1);
    buf_free(&b);
    struct line l[2];
    ck_assert_uint_eq(read_lines(path, l, 2), 1);
    ck_assert_ptr_nonnull(strstr(l[0].text, "peer said evil"));
    ck_assert_ptr_nonnull(strstr(l[0].text, "forged"));
    ck_assert_ptr_nonnull(strstr(l[0].text, "line"));
}
END_TEST

START_TEST(long_line_cut)
{
    size_t n = 3 * LOG_LINE_MAX;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    log_warn("%s", big);
    log_info("next");
    free(big);
    static struct line l[3];
    ck_assert_uint_eq(read_lines(path, l, 3), 2);
    size_t len = strlen(l[0].text);
    ck_assert_uint_lt(len, LOG_LINE_MAX);
    ck_assert_uint_gt(len, LOG_LINE_MAX / 2);
    ck_assert(strncmp(l[0].text, "warning: xxxx", 13) == 0);
    ck_assert_uint_eq(strspn(l[0].text + 9, "x"), len - 9);
    ck_assert_str_eq(l[1].text, "next");
}
END_TEST

START_TEST(reopen_after_rotation)
{
    log_info("before");
    ck_assert_int_eq(rename(path, rotated), 0);
    log_info("still old");          /* until reopened, the old file keeps receiving */
    ck_assert_int_eq(log_reopen(), 0);
    log_info("after");
    struct line l[3];
    ck_assert_uint_eq(read_lines(rotated, l, 3), 2);
    ck_assert_str_eq(l[0].text, "before");
    ck_assert_str_eq(l[1].text, "still old");
    ck_assert_uint_eq(read_lines(path, l, 3), 1);
    ck_assert_str_eq(l[0].text, "after");
}
END_TEST

#define WRITERS 8
#define LINES_EACH 400

/* Lines long enough that a split write would show, from several processes at once. */
START_TEST(concurrent_whole_lines)
{
    /* a line from the parent first: each child must still log its own pid, not this one */
    log_info("before the writers");
    pid_t pids[WRITERS];
    for (int c = 0; c < WRITERS; c++) {
        pids[c] = fork();
        ck_assert_int_ne(pids[c], -1);
        if (pids[c] == 0) {
            char pad[600];
            memset(pad, 'a' + c, sizeof pad - 1);
            pad[sizeof pad - 1] = '\0';
            for (int i = 0; i < LINES_EACH; i++)
                log_info("writer %d line %d %s", c, i, pad);
            _exit(0);
        }
    }
    for (int c = 0; c < WRITERS; c++) {
        int status = unit_wait_child(pids[c], WAIT_CHILD_MS);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    static struct line l[WRITERS * LINES_EACH + 2];
    ck_assert_uint_eq(read_lines(path, l, WRITERS * LINES_EACH + 2), WRITERS * LINES_EACH + 1);
    ck_assert_str_eq(l[0].text, "before the writers");
    ck_assert_int_eq(l[0].pid, (long)getpid());
    int seen[WRITERS] = { 0 };
    for (size_t i = 1; i <= WRITERS * LINES_EACH; i++) {
        int c, n, off = 0;
        ck_assert_int_eq(sscanf(l[i].text, "writer %d line %d %n", &c, &n, &off), 2);
        ck_assert(c >= 0 && c < WRITERS);
        ck_assert_int_eq(n, seen[c]);   /* each writer's lines in its own order */
        seen[c]++;
        ck_assert_int_eq(l[i].pid, (long)pids[c]);
        ck_assert_uint_eq(strlen(l[i].text + off), 599);
        ck_assert_uint_eq(strspn(l[i].text + off, (char[]){ (char)('a' + c), '\0' }), 599);
    }
    for (int c = 0; c < WRITERS; c++)
        ck_assert_int_eq(seen[c], LINES_EACH);
}
END_TEST

static int exit_status_of_fatal(int code)
{
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0)
            dup2(null, STDERR_FILENO);
        if (code < 0)
            log_fatal("plain fatal %d", 1);
        log_fatal_code(code, "fatal with code %d", code);
    }
    int status = unit_wait_child(pid, WAIT_CHILD_MS);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

START_TEST(fatal_exit_codes)
{
    ck_assert_int_eq(exit_status_of_fatal(75), 75);
    ck_assert_int_eq(exit_status_of_fatal(-1), EX_SOFTWARE);
    struct line l[3];
    ck_assert_uint_eq(read_lines(path, l, 3), 2);
    ck_assert_str_eq(l[0].text, "fatal: fatal with code 75");
    ck_assert_str_eq(l[1].text, "fatal: plain fatal 1");
}
END_TEST

START_TEST(open_failure)
{
    char missing[200];
    snprintf(missing, sizeof missing, "%s/no/such/dir/mail.log", dir);
    int before = log_fd();
    errno = 0;
    ck_assert_int_eq(log_open("tern", missing, NULL), -1);
    ck_assert_int_eq(errno, ENOENT);
    /* the destination in use stays, so a bad reload loses no log lines */
    ck_assert_int_eq(log_fd(), before);
    errno = 0;
    ck_assert_int_eq(log_open("tern", NULL, "local9"), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(log_fd(), before);
}
END_TEST

/* Before log_open everything goes to stderr; checked in a child with stderr on a file. */
START_TEST(stderr_before_open)
{
    log_close();
    char errpath[160];
    snprintf(errpath, sizeof errpath, "%s/stderr", dir);
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        unit_child_stderr_to(errpath, 2);
        log_init("testsvc");
        log_warn("on stderr\r\n");
        _exit(0);
    }
    int status = unit_wait_child(pid, WAIT_CHILD_MS);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct buf b;
    read_file(errpath, &b);
    unlink(errpath);
    ck_assert_ptr_nonnull(strstr(b.data, "testsvc"));
    ck_assert_ptr_nonnull(strstr(b.data, ": warning: on stderr"));
    ck_assert_ptr_eq(memchr(b.data, '\n', b.len), b.data + b.len - 1);
    buf_free(&b);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("file");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, info_line_format);
    tcase_add_test(tc, severity_prefixes);
    tcase_add_test(tc, control_chars_replaced);
    tcase_add_test(tc, long_line_cut);
    tcase_add_test(tc, reopen_after_rotation);
    tcase_add_test(tc, concurrent_whole_lines);
    tcase_add_test(tc, fatal_exit_codes);
    tcase_add_test(tc, open_failure);
    tcase_add_test(tc, stderr_before_open);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(log_suite());
}
