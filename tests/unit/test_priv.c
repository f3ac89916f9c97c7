/* test_priv.c: unit tests of common/priv.c: user and group look-ups by name and number, and
 * priv_drop, the one way to give up root (ids, supplementary groups, chroot, no way back) and
 * the requests it refuses as fatal. Every drop happens in a forked child. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "priv.h"
#include "unit.h"

#define WAIT_CHILD_MS 5000

/* The children's stderr goes to a temporary file so fatal messages can be checked. */
static char errfile[] = "/tmp/test_priv.err.XXXXXX";

static void errfile_setup(void)
{
    strcpy(errfile, "/tmp/test_priv.err.XXXXXX");
    int fd = mkstemp(errfile);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static void errfile_teardown(void)
{
    unlink(errfile);
}

static char *read_errfile(void)
{
    static char text[4096];
    FILE *f = fopen(errfile, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

/* ---- look-ups ---- */

START_TEST(lookup_user)
{
    uid_t uid = 1;
    gid_t gid = 1;
    char err[256] = "";
    ck_assert_int_eq(priv_lookup_user("root", &uid, &gid, err, sizeof err), 0);
    ck_assert_int_eq(uid, 0);
    ck_assert_int_eq(gid, 0);
    uid = gid = 1;
    ck_assert_int_eq(priv_lookup_user("0", &uid, &gid, err, sizeof err), 0);
    ck_assert_int_eq(uid, 0);
    ck_assert_int_eq(gid, 0);
    ck_assert_int_eq(priv_lookup_user("nonexistent-xyz", &uid, &gid, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "unknown user \"nonexistent-xyz\""));
    ck_assert_int_eq(priv_lookup_user("", &uid, &gid, err, sizeof err), -1);
}
END_TEST

/* A name and its number give the passwd entry's ids, the primary gid included. */
START_TEST(lookup_user_matches_passwd)
{
    struct passwd *pw = getpwnam("nobody");
    if (pw == NULL)
        return;   /* no such user on this system */
    uid_t want_uid = pw->pw_uid;
    gid_t want_gid = pw->pw_gid;
    uid_t uid = 0;
    gid_t gid = 0;
    char err[256] = "";
    ck_assert_int_eq(priv_lookup_user("nobody", &uid, &gid, err, sizeof err), 0);
    ck_assert_int_eq(uid, want_uid);
    ck_assert_int_eq(gid, want_gid);
    char num[32];
    snprintf(num, sizeof num, "%ld", (long)want_uid);
    uid = 0;
    gid = 0;
    ck_assert_int_eq(priv_lookup_user(num, &uid, &gid, err, sizeof err), 0);
    ck_assert_int_eq(uid, want_uid);
    ck_assert_int_eq(gid, want_gid);
}
END_TEST

/* A uid needs a passwd entry (for its gid); (uid_t)-1 is never an id. */
START_TEST(lookup_user_unknown_number)
{
    uid_t uid = 7;
    gid_t gid = 7;
    char err[256] = "";
    if (getpwuid(2000000000) == NULL) {
        ck_assert_int_eq(priv_lookup_user("2000000000", &uid, &gid, err, sizeof err), -1);
        ck_assert_ptr_nonnull(strstr(err, "2000000000"));
    }
    ck_assert_int_eq(priv_lookup_user("4294967295", &uid, &gid, err, sizeof err), -1);
    ck_assert_int_eq(priv_lookup_user("-1", &uid, &gid, err, sizeof err), -1);
    ck_assert_int_eq(uid, 7);
    ck_assert_int_eq(gid, 7);
}
END_TEST

START_TEST(lookup_group)
{
    gid_t gid = 1;
    char err[256] = "";
    ck_assert_int_eq(priv_lookup_group("root", &gid, err, sizeof err), 0);
    ck_assert_int_eq(gid, 0);
    ck_assert_int_eq(priv_lookup_group("12345", &gid, err, sizeof err), 0);
    ck_assert_int_eq(gid, 12345);
    ck_assert_int_eq(priv_lookup_group("0", &gid, err, sizeof err), 0);
    ck_assert_int_eq(gid, 0);
    gid = 9;
    ck_assert_int_eq(priv_lookup_group("nonexistent-xyz", &gid, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "unknown group \"nonexistent-xyz\""));
    ck_assert_int_eq(priv_lookup_group("-1", &gid, err, sizeof err), -1);
    ck_assert_int_eq(priv_lookup_group("4294967295", &gid, err, sizeof err), -1);
    ck_assert_int_eq(priv_lookup_group("", &gid, err, sizeof err), -1);
    ck_assert_int_eq(gid, 9);
}
END_TEST

/* ---- priv_drop ---- */

/* Exit codes of the root children: which check failed. */
enum { DROP_OK, DROP_SETUP, DROP_UIDS, DROP_GIDS, DROP_GROUPS, DROP_NOT_JAILED, DROP_CWD,
       DROP_SETUID0, DROP_SETEUID0, DROP_JAILED };

static int check_dropped(uid_t uid, gid_t gid)
{
    uid_t r, e, s;
    gid_t rg, eg, sg;
    if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid)
        return DROP_UIDS;
    if (getresgid(&rg, &eg, &sg) < 0 || rg != gid || eg != gid || sg != gid)
        return DROP_GIDS;
    gid_t groups[16];
    int ng = getgroups(16, groups);
    if (ng != 1 || groups[0] != gid)
        return DROP_GROUPS;
    if (setuid(0) == 0)
        return DROP_SETUID0;
    if (seteuid(0) == 0)
        return DROP_SETEUID0;
    return DROP_OK;
}

/* Root only: a child with extra supplementary groups drops to 65534 inside an empty chroot. */
START_TEST(drop_as_root_into_chroot)
{
    if (geteuid() != 0)
        return;
    char dir[64];
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_priv.XXXXXX");
    ck_assert_int_eq(chmod(dir, 0755), 0);
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        unit_child_stderr_to(errfile, 99);
        static const gid_t extra[] = { 1, 2, 3, 4 };
        if (setgroups(4, extra) < 0)
            _exit(DROP_SETUP);
        priv_drop(65534, 65534, dir);
        int r = check_dropped(65534, 65534);
        if (r != DROP_OK)
            _exit(r);
        if (access("/tmp", F_OK) == 0)   /* the new root is empty */
            _exit(DROP_NOT_JAILED);
        char cwd[64];
        if (getcwd(cwd, sizeof cwd) == NULL || strcmp(cwd, "/") != 0)
            _exit(DROP_CWD);   /* the working directory must not stay outside the jail */
        _exit(DROP_OK);
    }
    unit_expect_exit(pid, WAIT_CHILD_MS, DROP_OK);
    ck_assert_str_eq(read_errfile(), "");
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* Root only: without a chroot the file system stays visible and the ids are still all new. */
START_TEST(drop_as_root_without_chroot)
{
    if (geteuid() != 0)
        return;
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        static const gid_t extra[] = { 5, 6 };
        if (setgroups(2, extra) < 0)
            _exit(DROP_SETUP);
        priv_drop(65534, 65533, NULL);
        int r = check_dropped(65534, 65533);
        if (r != DROP_OK)
            _exit(r);
        _exit(access("/tmp", F_OK) == 0 ? DROP_OK : DROP_JAILED);
    }
    unit_expect_exit(pid, WAIT_CHILD_MS, DROP_OK);
    pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        priv_drop(65534, 65534, "");   /* empty means no chroot */
        int r = check_dropped(65534, 65534);
        _exit(r != DROP_OK ? r : access("/tmp", F_OK) == 0 ? DROP_OK : DROP_JAILED);
    }
    unit_expect_exit(pid, WAIT_CHILD_MS, DROP_OK);
}
END_TEST

/* Root only: a chroot to a missing directory is fatal, before any id changes. */
START_TEST(drop_as_root_missing_chroot)
{
    if (geteuid() != 0)
        return;
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        unit_child_stderr_to(errfile, 99);
        priv_drop(65534, 65534, "/nonexistent/test_priv");
        _exit(20);
    }
    unit_expect_exit(pid, WAIT_CHILD_MS, EX_SOFTWARE);
    const char *text = read_errfile();
    ck_assert_msg(strstr(text, "fatal: cannot chdir to /nonexistent/test_priv") != NULL,
                  "stderr: %s", text);
}
END_TEST

/* What a non-root process may and may not ask for; as root, run it after dropping. */
START_TEST(drop_as_non_root_no_op)
{
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        unit_child_stderr_to(errfile, 99);
        if (geteuid() == 0)
            priv_drop(65534, 65534, NULL);
        uid_t uid = getuid();
        gid_t gid = getgid();
        priv_drop(uid, gid, NULL);   /* a no-op */
        priv_drop(uid, gid, "");     /* empty means no chroot */
        _exit(getuid() == uid && geteuid() == uid && getgid() == gid ? 0 : 1);
    }
    unit_expect_exit(pid, WAIT_CHILD_MS, 0);
    ck_assert_str_eq(read_errfile(), "");
}
END_TEST

START_TEST(drop_as_non_root_chroot_fatal)
{
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        unit_child_stderr_to(errfile, 99);
        if (geteuid() == 0)
            priv_drop(65534, 65534, NULL);
        priv_drop(getuid(), getgid(), "/tmp");   /* fatal: exits EX_SOFTWARE */
        _exit(20);
    }
    unit_expect_exit(pid, WAIT_CHILD_MS, EX_SOFTWARE);
    const char *text = read_errfile();
    ck_assert_msg(strstr(text, "fatal: cannot chroot to /tmp: not running as root") != NULL,
                  "stderr: %s", text);
}
END_TEST

START_TEST(drop_as_non_root_to_root_fatal)
{
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        unit_child_stderr_to(errfile, 99);
        if (geteuid() == 0)
            priv_drop(65534, 65534, NULL);
        priv_drop(0, 0, NULL);                   /* fatal: cannot become root again */
        _exit(20);
    }
    unit_expect_exit(pid, WAIT_CHILD_MS, EX_SOFTWARE);
    const char *text = read_errfile();
    ck_assert_msg(strstr(text, "fatal: cannot change to uid 0 gid 0") != NULL, "stderr: %s",
                  text);
}
END_TEST

START_TEST(drop_as_non_root_other_ids_fatal)
{
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        unit_child_stderr_to(errfile, 99);
        if (geteuid() == 0)
            priv_drop(65534, 65534, NULL);
        priv_drop(getuid(), getgid() - 1, NULL);  /* another group: fatal too */
        _exit(20);
    }
    unit_expect_exit(pid, WAIT_CHILD_MS, EX_SOFTWARE);
    ck_assert_ptr_nonnull(strstr(read_errfile(), "fatal: cannot change to uid"));
    pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        unit_child_stderr_to(errfile, 99);
        if (geteuid() == 0)
            priv_drop(65534, 65534, NULL);
        priv_drop(getuid() - 1, getgid(), NULL);  /* another user */
        _exit(20);
    }
    unit_expect_exit(pid, WAIT_CHILD_MS, EX_SOFTWARE);
    ck_assert_ptr_nonnull(strstr(read_errfile(), "fatal: cannot change to uid"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("priv");
    TCase *lookup = tcase_create("lookup");
    tcase_add_test(lookup, lookup_user);
    tcase_add_test(lookup, lookup_user_matches_passwd);
    tcase_add_test(lookup, lookup_user_unknown_number);
    tcase_add_test(lookup, lookup_group);
    suite_add_tcase(s, lookup);

    TCase *drop = tcase_create("drop");
    tcase_set_timeout(drop, 20);
    tcase_add_checked_fixture(drop, errfile_setup, errfile_teardown);
    tcase_add_test(drop, drop_as_root_into_chroot);
    tcase_add_test(drop, drop_as_root_without_chroot);
    tcase_add_test(drop, drop_as_root_missing_chroot);
    tcase_add_test(drop, drop_as_non_root_no_op);
    tcase_add_test(drop, drop_as_non_root_chroot_fatal);
    tcase_add_test(drop, drop_as_non_root_to_root_fatal);
    tcase_add_test(drop, drop_as_non_root_other_ids_fatal);
    suite_add_tcase(s, drop);

    return unit_run(s);
}
