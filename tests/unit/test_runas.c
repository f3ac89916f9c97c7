/* test_runas.c: unit tests of common/runas.c, work done as another user: a child's report
 * comes back, and a child that dies, one whose report is malformed, and one that overstays
 * its time (with what it started) each end as the caller is told; kept workers serve job after
 * job in one process, take a descriptor along, and are replaced after a failure. As root the
 * children run as nobody, else as the test's own user. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "clock.h"
#include "ipc.h"
#include "priv.h"
#include "runas.h"
#include "unit.h"

#define WAIT_MS 5000

static char dir[64];
static uid_t uid;
static gid_t gid;

static void setup(void)
{
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_runas.XXXXXX");
    uid = getuid();
    gid = getgid();
    if (geteuid() == 0) {
        char err[256];
        ck_assert_msg(priv_lookup_user("nobody", &uid, &gid, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(chown(dir, uid, gid), 0);
    }
}

static void teardown(void)
{
    runas_retire_all();
    unit_rmtree(dir);
}

/* ---- jobs, run in the child ---- */

/* Reports who and where it is: its uid, gid, pid, process group and umask. */
static void job_whoami(void *arg, struct ipc_msg *report)
{
    mode_t mask = umask(0);
    ipc_addf(report, "uid", "%ld", (long)getuid());
    ipc_addf(report, "gid", "%ld", (long)getgid());
    ipc_addf(report, "pid", "%ld", (long)getpid());
    ipc_addf(report, "pgid", "%ld", (long)getpgid(0));
    ipc_addf(report, "umask", "%03o", (unsigned)mask);
    int fd = *(const int *)arg;
    ipc_add(report, "fd_open", fcntl(fd, F_GETFD) >= 0 ? "1" : "0");
}

static void job_exit3(void *arg, struct ipc_msg *report)
{
    (void)arg, (void)report;
    _exit(3);
}

static void job_killed(void *arg, struct ipc_msg *report)
{
    (void)arg, (void)report;
    raise(SIGKILL);
}

/* A report over RUNAS_REPORT_MAX: the parent must refuse it unread. */
static void job_huge_report(void *arg, struct ipc_msg *report)
{
    (void)arg;
    size_t n = RUNAS_REPORT_MAX + 1;
    char *big = malloc(n);
    memset(big, 'x', n);
    ipc_add_len(report, "big", big, n);
    free(big);
}

/* Starts a grandchild that sleeps (in the child's process group), leaves its pid in
 * dir/grandchild, then sleeps itself past any time limit of the tests. */
static void job_overstay(void *arg, struct ipc_msg *report)
{
    (void)arg, (void)report;
    pid_t pid = fork();
    if (pid == 0) {
        sleep(60);
        _exit(0);
    }
    FILE *f = fopen(unit_fmt("%s/grandchild", dir), "w");
    if (f) {
        fprintf(f, "%ld\n", (long)pid);
        fclose(f);
    }
    sleep(60);
}

static void job_touch(void *arg, struct ipc_msg *report)
{
    (void)arg, (void)report;
    unit_write_file(unit_fmt("%s/touched", dir), "");
}

/* Whether pid is gone (or a zombie its new parent has not reaped yet), within WAIT_MS. */
static bool gone(pid_t pid)
{
    long long end = unit_now_ms() + WAIT_MS;
    while (unit_now_ms() < end) {
        char state = 0;
        FILE *f = fopen(unit_fmt("/proc/%ld/stat", (long)pid), "r");
        if (f == NULL)
            return true;
        int n = fscanf(f, "%*d %*s %c", &state);
        fclose(f);
        if (n == 1 && (state == 'Z' || state == 'X'))
            return true;
        usleep(10000);
    }
    return false;
}

/* ---- runas_run ---- */

START_TEST(child_reports)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    runas_child_close(fds[0]);   /* a descriptor of the parent's that no child may keep */
    struct ipc_msg report;
    ipc_msg_init(&report);
    char err[256] = "x";
    long long t0 = unit_now_ms();
    ck_assert_int_eq(runas_run(uid, gid, 10, job_whoami, &fds[0], &report, err, sizeof err),
                     RUNAS_OK);
    ck_assert_int_lt(unit_now_ms() - t0, WAIT_MS);
    ck_assert_str_eq(err, "");
    long long v;
    ck_assert_int_eq(ipc_get_long(&report, "uid", 0, 1 << 30, &v), 0);
    ck_assert_int_eq(v, uid);
    ck_assert_int_eq(ipc_get_long(&report, "gid", 0, 1 << 30, &v), 0);
    ck_assert_int_eq(v, gid);
    ck_assert_int_eq(ipc_get_long(&report, "pid", 1, 1 << 30, &v), 0);
    ck_assert_int_ne(v, getpid());
    ck_assert_str_eq(ipc_get(&report, "pgid"), ipc_get(&report, "pid"));   /* its own group */
    ck_assert_str_eq(ipc_get(&report, "umask"), "077");
    ck_assert_str_eq(ipc_get(&report, "fd_open"), "0");
    /* a descriptor kept again reaches the next child */
    runas_child_keep(fds[0]);
    ck_assert_int_eq(runas_run(uid, gid, 10, job_whoami, &fds[0], &report, err, sizeof err),
                     RUNAS_OK);
    ck_assert_str_eq(ipc_get(&report, "fd_open"), "1");
    ipc_msg_free(&report);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

START_TEST(child_dies)
{
    struct ipc_msg report;
    ipc_msg_init(&report);
    char err[256];
    ck_assert_int_eq(runas_run(uid, gid, 10, job_exit3, NULL, &report, err, sizeof err),
                     RUNAS_FAILED);
    ck_assert_str_eq(err, "process exited with status 3");
    runas_set_label("delivery process");
    ck_assert_int_eq(runas_run(uid, gid, 10, job_killed, NULL, &report, err, sizeof err),
                     RUNAS_FAILED);
    ck_assert_str_eq(err, "delivery process killed by signal 9");
    runas_set_label("process");
    ipc_msg_free(&report);
}
END_TEST

START_TEST(malformed_report)
{
    struct ipc_msg report;
    ipc_msg_init(&report);
    char err[256];
    ck_assert_int_eq(runas_run(uid, gid, 10, job_huge_report, NULL, &report, err, sizeof err),
                     RUNAS_FAILED);
    ck_assert_str_eq(err, "malformed report from the process: message too large");
    ipc_msg_free(&report);
}
END_TEST

/* Past the time, the child and what it started are killed, and soon: not after their sleep. */
START_TEST(overstaying_child_is_killed)
{
    struct ipc_msg report;
    ipc_msg_init(&report);
    char err[256];
    long long t0 = unit_now_ms();
    ck_assert_int_eq(runas_run_until(uid, gid, clock_ms() + 500, job_overstay, NULL, &report,
                                     err, sizeof err), RUNAS_TIMEOUT);
    ck_assert_int_lt(unit_now_ms() - t0, WAIT_MS);
    ck_assert_str_eq(err, "time limit exceeded");
    FILE *f = fopen(unit_fmt("%s/grandchild", dir), "r");
    ck_assert_ptr_nonnull(f);
    long pid = 0;
    ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    ck_assert(gone((pid_t)pid));
    /* in seconds, as runas_run says it */
    ck_assert_int_eq(runas_run(uid, gid, 1, job_overstay, NULL, &report, err, sizeof err),
                     RUNAS_TIMEOUT);
    ck_assert_str_eq(err, "time limit of 1s exceeded");
    ipc_msg_free(&report);
}
END_TEST

START_TEST(no_child_once_the_time_is_up)
{
    struct ipc_msg report;
    ipc_msg_init(&report);
    char err[256];
    ck_assert_int_eq(runas_run_until(uid, gid, clock_ms() - 1, job_touch, NULL, &report, err,
                                     sizeof err), RUNAS_TIMEOUT);
    ck_assert_str_eq(err, "time limit exceeded");
    ck_assert_int_eq(access(unit_fmt("%s/touched", dir), F_OK), -1);
    ck_assert_int_eq(runas_run_until(uid, gid, clock_ms() + 10000, job_touch, NULL, &report,
                                     err, sizeof err), RUNAS_OK);
    ck_assert_int_eq(access(unit_fmt("%s/touched", dir), F_OK), 0);
    ipc_msg_free(&report);
}
END_TEST

START_TEST(possible)
{
    ck_assert(runas_possible(getuid()));
    ck_assert_int_eq(runas_euid(), geteuid());
    ck_assert(runas_possible(getuid() + 1) == (geteuid() == 0));
}
END_TEST

/* ---- kept workers ---- */

/* A worker's service: "pid" reports its pid; "write" writes the job's text to the descriptor
 * that came with it; "die" ends the worker; "sleep" outlasts any limit. */
static void serve(const struct ipc_msg *job, int fd, struct ipc_msg *report)
{
    const char *what = ipc_get(job, "do");
    ipc_addf(report, "pid", "%ld", (long)getpid());
    if (strcmp(what, "write") == 0) {
        const char *text = ipc_get(job, "text");
        ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;
        ipc_add(report, "wrote", n == (ssize_t)strlen(text) ? "1" : "0");
    } else if (strcmp(what, "die") == 0) {
        _exit(5);
    } else if (strcmp(what, "sleep") == 0) {
        sleep(60);
    }
}

/* Calls the worker with do=what; the result, with the worker's pid in *pid. */
static enum runas_result call(const char *what, int fd, long long *pid, char *err)
{
    struct ipc_msg job, report;
    ipc_msg_init(&job);
    ipc_msg_init(&report);
    ipc_add(&job, "do", what);
    ipc_add(&job, "text", "hello");
    enum runas_result r = runas_call(uid, gid, 1, &job, fd, &report, err, 256);
    *pid = 0;
    if (r == RUNAS_OK) {
        ck_assert_int_eq(ipc_get_long(&report, "pid", 1, 1 << 30, pid), 0);
        if (strcmp(what, "write") == 0)
            ck_assert_str_eq(ipc_get(&report, "wrote"), "1");
    }
    ipc_msg_free(&job);
    ipc_msg_free(&report);
    return r;
}

START_TEST(kept_worker)
{
    runas_set_server(serve);
    char err[256];
    long long first, again;
    ck_assert_int_eq(call("pid", -1, &first, err), RUNAS_OK);
    ck_assert_int_ne(first, getpid());
    ck_assert_int_eq(call("pid", -1, &again, err), RUNAS_OK);
    ck_assert_int_eq(again, first);   /* the same process, kept */
    /* a descriptor goes along with a job */
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(call("write", fds[1], &again, err), RUNAS_OK);
    ck_assert_int_eq(again, first);
    char got[16] = "";
    ck_assert_int_eq(read(fds[0], got, sizeof got - 1), 5);
    ck_assert_str_eq(got, "hello");
    close(fds[0]);
    close(fds[1]);
    /* a worker that dies mid-job is a failure, and the next job gets a new one */
    ck_assert_int_eq(call("die", -1, &again, err), RUNAS_FAILED);
    ck_assert_str_eq(err, "process exited with status 5");
    ck_assert_int_eq(call("pid", -1, &again, err), RUNAS_OK);
    ck_assert_int_ne(again, first);
    first = again;
    /* one that overstays is killed, and replaced too */
    long long t0 = unit_now_ms();
    ck_assert_int_eq(call("sleep", -1, &again, err), RUNAS_TIMEOUT);
    ck_assert_int_lt(unit_now_ms() - t0, WAIT_MS);
    ck_assert_str_eq(err, "time limit of 1s exceeded");
    ck_assert(gone((pid_t)first));
    ck_assert_int_eq(call("pid", -1, &again, err), RUNAS_OK);
    ck_assert_int_ne(again, first);
    ck_assert_uint_eq(runas_retire_idle(), 1);   /* just used: kept */
    runas_retire_all();
    ck_assert(gone((pid_t)again));
}
END_TEST

static Suite *runas_suite(void)
{
    Suite *s = suite_create("runas");
    TCase *tc = tcase_create("runas");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, child_reports);
    tcase_add_test(tc, child_dies);
    tcase_add_test(tc, malformed_report);
    tcase_add_test(tc, overstaying_child_is_killed);
    tcase_add_test(tc, no_child_once_the_time_is_up);
    tcase_add_test(tc, possible);
    tcase_add_test(tc, kept_worker);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(runas_suite());
}
