/* test_qdir.c: unit tests of queue/qdir.c: qdir_setup creates every queue directory with the
 * owner, group and mode of qdir_table, refuses unsafe ones (symlinks, wrong owner, a foreign
 * group with access, extra mode bits), and with create=false changes nothing; qdir_move. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "qdir.h"
#include "unit.h"

static char dir[64];

static void setup(void)
{
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_qdir.XXXXXX");
}

static void teardown(void)
{
    ck_assert_int_eq(unit_rmtree(dir), 0);
}

static const char *path_in(const char *name)
{
    return unit_fmt("%s/%s", dir, name);
}

/* Every role played by the running user: works without root. */
static struct qdir_ids self_ids(void)
{
    return (struct qdir_ids){ getuid(), getgid(), getgid(), getuid(), getgid() };
}

static mode_t mode_of(const char *name)
{
    struct stat st;
    ck_assert_int_eq(lstat(path_in(name), &st), 0);
    return st.st_mode & 07777;
}

static gid_t group_of(const char *name)
{
    struct stat st;
    ck_assert_int_eq(lstat(path_in(name), &st), 0);
    return st.st_gid;
}

/* qdir's warnings go to stderr (no log is open): qdir_setup of dir/q with them captured. */
static char captured[4096];

static int setup_capturing(const struct qdir_ids *ids, bool create, char *err, size_t errlen)
{
    char tmp[] = "/tmp/test_qdir.err.XXXXXX";
    int fd = mkstemp(tmp);
    ck_assert_int_ge(fd, 0);
    unlink(tmp);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
    int r = qdir_setup(path_in("q"), ids, create, err, errlen);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    ssize_t n = pread(fd, captured, sizeof captured - 1, 0);
    captured[n > 0 ? n : 0] = '\0';
    close(fd);
    return r;
}

START_TEST(creates_every_directory)
{
    struct qdir_ids ids = self_ids();
    char err[512];
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, true, err, sizeof err), 0);
    for (const struct qdir_entry *e = qdir_table; e->name; e++) {
        char p[256];
        snprintf(p, sizeof p, "%s/q/%s", dir, e->name);
        struct stat st;
        ck_assert_int_eq(lstat(p, &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
        ck_assert_int_eq(st.st_mode & 07777, e->mode);
        ck_assert_int_eq(st.st_uid, getuid());
    }
    /* a second run finds everything in order and says nothing */
    ck_assert_int_eq(setup_capturing(&ids, false, err, sizeof err), 0);
    ck_assert_str_eq(captured, "");
}
END_TEST

START_TEST(refuses_unsafe)
{
    struct qdir_ids ids = self_ids();
    char err[512];
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, true, err, sizeof err), 0);
    ck_assert_int_eq(chmod(path_in("q/incoming"), 0777), 0);
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, true, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "incoming: mode 0777 is unsafe, must be 0700"));
    ck_assert_int_eq(mode_of("q/incoming"), 0777);   /* refused, not "repaired" */
    ck_assert_int_eq(chmod(path_in("q/incoming"), 0700), 0);
    /* a symlink in place of a queue directory */
    ck_assert_int_eq(rmdir(path_in("q/hold")), 0);
    ck_assert_int_eq(symlink("/tmp", path_in("q/hold")), 0);
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, true, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "hold: not a directory"));
    /* a regular file in place of one */
    ck_assert_int_eq(unlink(path_in("q/hold")), 0);
    int fd = open(path_in("q/hold"), O_WRONLY | O_CREAT | O_EXCL, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, true, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "hold: not a directory"));
    /* the wrong owner */
    struct qdir_ids other = ids;
    other.mail_owner = ids.mail_owner + 1;
    ck_assert_int_eq(unlink(path_in("q/hold")), 0);
    ck_assert_int_eq(qdir_setup(path_in("q"), &other, false, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "must be uid"));
    /* relative queue directories are refused */
    ck_assert_int_eq(qdir_setup("spool", &ids, true, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "must be an absolute path"));
}
END_TEST

START_TEST(restores_missing_bits)
{
    struct qdir_ids ids = self_ids();
    char err[512];
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, true, err, sizeof err), 0);
    ck_assert_int_eq(chmod(path_in("q/public"), 0700), 0);
    ck_assert_int_eq(setup_capturing(&ids, true, err, sizeof err), 0);
    ck_assert_int_eq(mode_of("q/public"), 0710);
    ck_assert_ptr_nonnull(strstr(captured, "warning: "));
    ck_assert_ptr_nonnull(strstr(captured, "public: restored group"));
}
END_TEST

/* The queue directory itself belongs to root_uid, not to mail_owner; the subdirectories to
 * mail_owner. */
START_TEST(queue_directory_owned_by_root_uid)
{
    struct qdir_ids ids = self_ids();
    char err[512];
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, true, err, sizeof err), 0);
    /* root_uid is the running user: the queue directory and pid/ pass, maildrop/ (the first
     * mail_owner directory) is refused */
    struct qdir_ids owner_differs = ids;
    owner_differs.mail_owner = getuid() + 1;
    owner_differs.root_uid = getuid();
    ck_assert_int_eq(qdir_setup(path_in("q"), &owner_differs, false, err, sizeof err), -1);
    char want[256];
    snprintf(want, sizeof want, "%s/q/maildrop: owned by uid %ld, must be uid %ld", dir,
             (long)getuid(), (long)getuid() + 1);
    ck_assert_str_eq(err, want);
    /* root_uid is someone else: the queue directory itself is refused, by its own path */
    struct qdir_ids root_differs = ids;
    root_differs.root_uid = getuid() + 1;
    ck_assert_int_eq(qdir_setup(path_in("q"), &root_differs, false, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s/q: owned by uid %ld, must be uid %ld", dir,
             (long)getuid(), (long)getuid() + 1);
    ck_assert_str_eq(err, want);
    /* creating does not change an existing owner either */
    ck_assert_int_eq(qdir_setup(path_in("q"), &root_differs, true, err, sizeof err), -1);
    ck_assert_str_eq(err, want);
    struct stat st;
    ck_assert_int_eq(stat(path_in("q"), &st), 0);
    ck_assert_int_eq(st.st_uid, getuid());
}
END_TEST

/* maildrop/ and public/ give their group access: another group there is refused, even with
 * create (a group with access is not something to silently take away). */
START_TEST(wrong_group_with_access_refused)
{
    struct qdir_ids ids = self_ids();
    char err[512];
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, true, err, sizeof err), 0);
    struct qdir_ids other = ids;
    other.setgid_gid = getgid() + 1;
    ck_assert_int_eq(qdir_setup(path_in("q"), &other, true, err, sizeof err), -1);
    char want[256];
    snprintf(want, sizeof want, "%s/q/maildrop: group %ld has access, must be group %ld", dir,
             (long)getgid(), (long)getgid() + 1);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(group_of("q/maildrop"), getgid());
    ck_assert_int_eq(mode_of("q/maildrop"), 01730);
    if (geteuid() != 0)
        return;
    /* as root: public/ alone handed to another group */
    ck_assert_int_eq(chown(path_in("q/public"), (uid_t)-1, getgid() + 7), 0);
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, true, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s/q/public: group %ld has access, must be group %ld", dir,
             (long)getgid() + 7, (long)getgid());
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(group_of("q/public"), getgid() + 7);
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, false, err, sizeof err), -1);
    ck_assert_str_eq(err, want);
}
END_TEST

/* A directory the group cannot use (mode 0700) may have any group: only a warning, and create
 * sets it right. Needs root to hand a directory to another group. */
START_TEST(wrong_group_without_access)
{
    if (geteuid() != 0)
        return;
    struct qdir_ids ids = self_ids();
    char err[512];
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, true, err, sizeof err), 0);
    ck_assert_int_eq(chown(path_in("q/private"), (uid_t)-1, getgid() + 7), 0);
    ck_assert_int_eq(setup_capturing(&ids, false, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(captured, "warning: "));
    ck_assert_ptr_nonnull(strstr(captured, "private: group"));
    ck_assert_int_eq(group_of("q/private"), getgid() + 7);   /* create=false: unchanged */
    ck_assert_int_eq(setup_capturing(&ids, true, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(captured, "private: restored group"));
    ck_assert_int_eq(group_of("q/private"), getgid());
    ck_assert_int_eq(mode_of("q/private"), 0700);
}
END_TEST

/* create=false: a missing directory is an error and stays missing. */
START_TEST(no_create_missing_directory)
{
    struct qdir_ids ids = self_ids();
    char err[512];
    /* not even the queue directory is created */
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, false, err, sizeof err), -1);
    char want[256];
    snprintf(want, sizeof want, "%s/q: %s", dir, strerror(ENOENT));
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(access(path_in("q"), F_OK), -1);
    ck_assert_int_eq(errno, ENOENT);

    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, true, err, sizeof err), 0);
    ck_assert_int_eq(rmdir(path_in("q/defer")), 0);
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, false, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s/q/defer: %s", dir, strerror(ENOENT));
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(access(path_in("q/defer"), F_OK), -1);
    /* with create it comes back */
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, true, err, sizeof err), 0);
    ck_assert_int_eq(mode_of("q/defer"), 0700);
}
END_TEST

/* create=false: a missing permission bit is only a warning, and the mode stays as it is. */
START_TEST(no_create_missing_bits_warn_only)
{
    struct qdir_ids ids = self_ids();
    char err[512];
    ck_assert_int_eq(qdir_setup(path_in("q"), &ids, true, err, sizeof err), 0);
    ck_assert_int_eq(chmod(path_in("q/public"), 0700), 0);
    ck_assert_int_eq(chmod(path_in("q/maildrop"), 0730), 0);   /* sticky bit gone */
    ck_assert_int_eq(setup_capturing(&ids, false, err, sizeof err), 0);
    ck_assert_int_eq(mode_of("q/public"), 0700);
    ck_assert_int_eq(mode_of("q/maildrop"), 0730);
    ck_assert_ptr_nonnull(strstr(captured, "warning: "));
    ck_assert_ptr_nonnull(strstr(captured, "maildrop: group"));
    ck_assert_ptr_nonnull(strstr(captured, "mode 0730, should be group"));
    ck_assert_ptr_nonnull(strstr(captured, "public: group"));
    ck_assert_ptr_nonnull(strstr(captured, "mode 0700, should be group"));
    ck_assert_ptr_null(strstr(captured, "restored"));
}
END_TEST

/* qdir_move: from/name to to/name under the working directory (the queue directory). */
START_TEST(move_between_queues)
{
    char *old = getcwd(NULL, 0);
    ck_assert_int_eq(chdir(dir), 0);
    ck_assert_int_eq(mkdir("active", 0700), 0);
    ck_assert_int_eq(mkdir("corrupt", 0700), 0);
    unit_write_file("active/1B6MV0P9TQ87KX", "x");
    ck_assert_int_eq(qdir_move("active", "corrupt", "1B6MV0P9TQ87KX"), 0);
    ck_assert_int_eq(access("active/1B6MV0P9TQ87KX", F_OK), -1);
    ck_assert_int_eq(access("corrupt/1B6MV0P9TQ87KX", F_OK), 0);
    ck_assert_int_eq(qdir_move("active", "corrupt", "1B6MV0P9TQ87KX"), -1);
    ck_assert_int_eq(errno, ENOENT);
    char longname[400];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert_int_eq(qdir_move("active", "corrupt", longname), -1);
    ck_assert_int_eq(errno, ENAMETOOLONG);
    ck_assert_int_eq(chdir(old), 0);
    free(old);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("qdir");
    TCase *tc = tcase_create("qdir");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, creates_every_directory);
    tcase_add_test(tc, refuses_unsafe);
    tcase_add_test(tc, restores_missing_bits);
    tcase_add_test(tc, queue_directory_owned_by_root_uid);
    tcase_add_test(tc, wrong_group_with_access_refused);
    tcase_add_test(tc, wrong_group_without_access);
    tcase_add_test(tc, no_create_missing_directory);
    tcase_add_test(tc, no_create_missing_bits_warn_only);
    tcase_add_test(tc, move_between_queues);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
