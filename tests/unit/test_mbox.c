/* test_mbox.c: unit tests of mail/mbox.c: the From line, >From quoting (mboxrd), LF
 * line ends and the blank line after each message, appending, refusals (symbolic link, another
 * owner, hard links, not a regular file, size limit) that leave the file as it was, the file
 * cut back to its old size when a write fails half way, and both locks (waiting for a busy
 * one, removing a stale dotlock, giving up on one that stays). */
#include <check.h>
#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "mbox.h"
#include "unit.h"

static char dir[64];
static char path[128];

static void setup(void)
{
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_mbox.XXXXXX");
    snprintf(path, sizeof path, "%s/mbox", dir);
}

static void teardown(void)
{
    ck_assert_int_eq(unit_rmtree(dir), 0);
}

static int deliver(const char *p, const char *sender, const char *head, const char *body,
                   size_t limit, bool owner_check, bool *temporary, char *err, size_t errlen)
{
    return mbox_deliver(p, sender, head, strlen(head), body, strlen(body), limit, owner_check,
                        temporary, err, errlen);
}

/* The whole file, NUL-terminated (static, up to 64 KiB). */
static const char *slurp(const char *p)
{
    static char text[65536];
    FILE *f = fopen(p, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static off_t size_of(const char *p)
{
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    return st.st_size;
}

static bool matches(const char *text, const char *pattern)
{
    regex_t re;
    ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0);
    bool ok = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

START_TEST(format_and_quoting)
{
    bool temp = false;
    char err[ERR_TEXT_MAX] = "";
    const char *head = "Return-Path: <s@x.org>\nDelivered-To: joe@mx\n";
    const char *body = "Subject: From here\r\n\r\nFrom the start\r\n>From quoted\r\n"
                       ">>From twice\r\nFromage\r\n From indented\r\nbare\rcr\r\nlast";
    ck_assert_int_eq(deliver(path, "s@x.org", head, body, 0, true, &temp, err, sizeof err), 0);
    const char *t = slurp(path);
    ck_assert_msg(matches(t, "^From s@x\\.org (Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
                             "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3][0-9] "
                             "[0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}\n"), "%s", t);
    const char *rest = strchr(t, '\n') + 1;
    ck_assert_str_eq(rest, "Return-Path: <s@x.org>\nDelivered-To: joe@mx\n"
                           "Subject: From here\n\n>From the start\n>>From quoted\n"
                           ">>>From twice\nFromage\n From indented\nbare\rcr\nlast\n\n");
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert(access(unit_fmt("%s.lock", path), F_OK) < 0);   /* the dotlock went */
}
END_TEST

START_TEST(appends_and_sender)
{
    bool temp;
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(deliver(path, "", "", "A\r\n", 0, true, &temp, err, sizeof err), 0);
    ck_assert_int_eq(deliver(path, "a b\nc@x", "H: 1\r\n", "B\r\n", 0, true, &temp, err,
                             sizeof err), 0);
    const char *t = slurp(path);
    ck_assert(matches(t, "^From MAILER-DAEMON [A-Z][a-z]{2} "));
    ck_assert(matches(t, "^From a_b_c@x [A-Z][a-z]{2} "));
    ck_assert_ptr_nonnull(strstr(t, "\nA\n\nFrom a_b_c@x "));
    ck_assert_ptr_nonnull(strstr(t, "\nH: 1\nB\n\n"));
}
END_TEST

static void expect_refusal(const char *p, bool owner_check, const char *why, int err_no)
{
    bool temp = true;
    char err[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(deliver(p, "s", "", "x\r\n", 0, owner_check, &temp, err, sizeof err), -1);
    int e = errno;
    ck_assert_msg(!temp, "%s: not permanent", err);
    ck_assert_msg(strstr(err, why) != NULL, "err: %s", err);
    ck_assert_int_eq(e, err_no);
}

START_TEST(symlink_refused)
{
    const char *target = unit_fmt("%s/target", dir);
    ck_assert_int_eq(unit_write_file(target, "keep\n"), 0);
    ck_assert_int_eq(symlink(target, path), 0);
    expect_refusal(path, false, "symbolic link", ELOOP);
    ck_assert_str_eq(slurp(target), "keep\n");
    /* a dangling one is not created through either */
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(symlink(unit_fmt("%s/nothing", dir), path), 0);
    expect_refusal(path, false, "symbolic link", ELOOP);
    ck_assert(access(unit_fmt("%s/nothing", dir), F_OK) < 0);
}
END_TEST

START_TEST(other_refusals)
{
    ck_assert_int_eq(unit_write_file(path, "old\n"), 0);
    ck_assert_int_eq(link(path, unit_fmt("%s/second", dir)), 0);
    expect_refusal(path, false, "hard link", EMLINK);
    ck_assert_int_eq(unlink(unit_fmt("%s/second", dir)), 0);
    ck_assert_str_eq(slurp(path), "old\n");

    ck_assert_int_eq(mkdir(unit_fmt("%s/d", dir), 0700), 0);
    expect_refusal(unit_fmt("%s/d", dir), false, "not a regular file", EISDIR);

    if (geteuid() == 0) {
        ck_assert_int_eq(chown(path, 65534, 65534), 0);
        expect_refusal(path, true, "not owned by uid 0", EPERM);
        ck_assert_str_eq(slurp(path), "old\n");
        bool temp;
        char err[ERR_TEXT_MAX];
        ck_assert_int_eq(deliver(path, "s", "", "x\r\n", 0, false, &temp, err, sizeof err), 0);
    }
}
END_TEST

START_TEST(size_limit)
{
    ck_assert_int_eq(unit_write_file(path, "0123456789\n"), 0);
    bool temp = true;
    char err[ERR_TEXT_MAX] = "";
    /* 11 old bytes + From line (34) + "abc\n" + blank line = 50: fits in 100, not in 40 */
    ck_assert_int_eq(deliver(path, "s@x", "", "abc\r\n", 40, true, &temp, err, sizeof err), -1);
    ck_assert_int_eq(errno, EFBIG);
    ck_assert(!temp);
    ck_assert_ptr_nonnull(strstr(err, "size limit"));
    ck_assert_int_eq(size_of(path), 11);
    ck_assert_int_eq(deliver(path, "s@x", "", "abc\r\n", 100, true, &temp, err, sizeof err), 0);
    ck_assert_int_gt(size_of(path), 11);
}
END_TEST

/* A write that fails half way (the file size limit) leaves the file at its old size. */
START_TEST(truncates_on_failure)
{
    ck_assert_int_eq(unit_write_file(path, "old message\n\n"), 0);
    static char body[200001];
    for (size_t i = 0; i < sizeof body - 1; i++)
        body[i] = (i % 80 == 79) ? '\n' : 'x';
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 50000, 50000 };
        setrlimit(RLIMIT_FSIZE, &rl);
        bool temp;
        char err[ERR_TEXT_MAX];
        int r = deliver(path, "s", "", body, 0, true, &temp, err, sizeof err);
        _exit(r == -1 && strstr(err, "write") ? 0 : 1);
    }
    unit_expect_exit(pid, 20000, 0);
    ck_assert_int_eq(size_of(path), 13);
    ck_assert_str_eq(slurp(path), "old message\n\n");
}
END_TEST

/* A child holding the dotlock (created by it) or an fcntl lock for ms, then letting go. */
static pid_t hold_lock(bool dot, int ms)
{
    const char *lock = unit_fmt("%s.lock", path);
    if (dot)
        ck_assert_int_eq(unit_write_file(lock, ""), 0);
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = -1;
        if (!dot) {
            fd = open(path, O_WRONLY | O_CREAT, 0600);
            struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
            if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
                _exit(1);
        }
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        usleep((useconds_t)ms * 1000);
        if (dot)
            unlink(lock);
        _exit(0);
    }
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    close(ready[0]);
    close(ready[1]);
    return pid;
}

START_TEST(waits_for_locks)
{
    bool temp;
    char err[ERR_TEXT_MAX] = "";
    long long start = unit_now_ms();
    pid_t pid = hold_lock(true, 1200);
    ck_assert_int_eq(deliver(path, "s", "", "one\r\n", 0, true, &temp, err, sizeof err), 0);
    ck_assert_int_ge(unit_now_ms() - start, 1000);   /* it did wait for the holder */
    unit_expect_exit(pid, 10000, 0);
    start = unit_now_ms();
    pid = hold_lock(false, 1200);
    ck_assert_int_eq(deliver(path, "s", "", "two\r\n", 0, true, &temp, err, sizeof err), 0);
    ck_assert_int_ge(unit_now_ms() - start, 1000);
    unit_expect_exit(pid, 10000, 0);
    const char *t = slurp(path);
    ck_assert_ptr_nonnull(strstr(t, "\none\n"));
    ck_assert_ptr_nonnull(strstr(t, "\ntwo\n"));
}
END_TEST

START_TEST(stale_dotlock_removed)
{
    const char *lock = unit_fmt("%s.lock", path);
    ck_assert_int_eq(unit_write_file(lock, ""), 0);
    struct timeval old[2] = { { time(NULL) - 3600, 0 }, { time(NULL) - 3600, 0 } };
    ck_assert_int_eq(utimes(lock, old), 0);
    bool temp;
    char err[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(deliver(path, "s", "", "x\r\n", 0, true, &temp, err, sizeof err), 0);
    ck_assert(access(lock, F_OK) < 0);
}
END_TEST

START_TEST(busy_dotlock_gives_up)
{
    const char *lock = unit_fmt("%s.lock", path);
    ck_assert_int_eq(unit_write_file(lock, "someone else's\n"), 0);
    bool temp = false;
    char err[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(deliver(path, "s", "", "x\r\n", 0, true, &temp, err, sizeof err), -1);
    ck_assert(temp);
    ck_assert_msg(strstr(err, "busy") != NULL, "%s", err);
    ck_assert(access(path, F_OK) < 0);         /* nothing was created */
    ck_assert_str_eq(slurp(lock), "someone else's\n");   /* and the lock is left alone */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mbox");
    TCase *tc = tcase_create("mbox");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, format_and_quoting);
    tcase_add_test(tc, appends_and_sender);
    tcase_add_test(tc, symlink_refused);
    tcase_add_test(tc, other_refusals);
    tcase_add_test(tc, size_limit);
    tcase_add_test(tc, truncates_on_failure);
    tcase_add_test(tc, waits_for_locks);
    tcase_add_test(tc, stale_dotlock_removed);
    tcase_add_test(tc, busy_dotlock_gives_up);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
