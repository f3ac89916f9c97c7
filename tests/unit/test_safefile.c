/* test_safefile.c: unit tests of common/safefile.c: no symlinks followed, regular files only,
 * owner and link checks, the unchecked open with its status, bounded reads, atomic writes.
 * (queue/qdir.c is tested in test_qdir.c.) */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "safefile.h"
#include "unit.h"

static char dir[64];

static void setup(void)
{
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_safefile.XXXXXX");
}

static void teardown(void)
{
    ck_assert_int_eq(unit_rmtree(dir), 0);
}

static const char *path_in(const char *name)
{
    return unit_fmt("%s/%s", dir, name);
}

static void put(const char *name, const char *text)
{
    unit_write_file(path_in(name), text);
}

START_TEST(open_regular_file)
{
    put("a", "hello");
    int fd = safe_open(path_in("a"), O_RDONLY, 0, getuid());
    ck_assert_int_ge(fd, 0);
    char b[8] = "";
    ck_assert_int_eq(read(fd, b, sizeof b), 5);
    ck_assert_str_eq(b, "hello");
    close(fd);
}
END_TEST

START_TEST(refuses_symlink)
{
    put("target", "x");
    ck_assert_int_eq(symlink(path_in("target"), path_in("link")), 0);
    ck_assert_int_eq(safe_open(path_in("link"), O_RDONLY, 0, (uid_t)-1), -1);
    ck_assert_int_eq(errno, ELOOP);
}
END_TEST

START_TEST(refuses_directory_fifo_and_hard_link)
{
    ck_assert_int_eq(mkdir(path_in("d"), 0700), 0);
    ck_assert_int_eq(safe_open(path_in("d"), O_RDONLY, 0, (uid_t)-1), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(mkfifo(path_in("fifo"), 0600), 0);
    /* must not block on a FIFO with no writer */
    ck_assert_int_eq(safe_open(path_in("fifo"), O_RDONLY, 0, (uid_t)-1), -1);
    ck_assert_int_eq(errno, EINVAL);
    put("one", "1");
    ck_assert_int_eq(link(path_in("one"), path_in("two")), 0);
    ck_assert_int_eq(safe_open(path_in("one"), O_RDONLY, 0, (uid_t)-1), -1);
    ck_assert_int_eq(errno, EMLINK);
}
END_TEST

START_TEST(refuses_other_owner)
{
    put("a", "x");
    ck_assert_int_eq(safe_open(path_in("a"), O_RDONLY, 0, getuid() + 1), -1);
    ck_assert_int_eq(errno, EPERM);
}
END_TEST

/* safe_open_stat refuses nothing: the caller judges the status of the very file it opened. */
START_TEST(open_stat_reports_what_it_opened)
{
    put("a", "hello");
    struct stat st, want;
    int fd = safe_open_stat(path_in("a"), O_RDONLY | O_NOFOLLOW, 0, &st);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(stat(path_in("a"), &want), 0);
    ck_assert(S_ISREG(st.st_mode) && st.st_ino == want.st_ino && st.st_size == 5);
    ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    close(fd);
    /* a link is followed only without O_NOFOLLOW, and st is the target's */
    ck_assert_int_eq(symlink(path_in("a"), path_in("link")), 0);
    ck_assert_int_eq(safe_open_stat(path_in("link"), O_RDONLY | O_NOFOLLOW, 0, &st), -1);
    ck_assert_int_eq(errno, ELOOP);
    fd = safe_open_stat(path_in("link"), O_RDONLY, 0, &st);
    ck_assert_int_ge(fd, 0);
    ck_assert(st.st_ino == want.st_ino);
    close(fd);
    /* a second link, a directory and a FIFO (without blocking) are opened and shown as such */
    ck_assert_int_eq(link(path_in("a"), path_in("b")), 0);
    fd = safe_open_stat(path_in("b"), O_RDONLY | O_NOFOLLOW, 0, &st);
    ck_assert_int_ge(fd, 0);
    ck_assert_uint_eq(st.st_nlink, 2);
    close(fd);
    ck_assert_int_eq(mkdir(path_in("d"), 0700), 0);
    fd = safe_open_stat(path_in("d"), O_RDONLY | O_NOFOLLOW, 0, &st);
    ck_assert_int_ge(fd, 0);
    ck_assert(S_ISDIR(st.st_mode));
    close(fd);
    ck_assert_int_eq(mkfifo(path_in("fifo"), 0600), 0);
    fd = safe_open_stat(path_in("fifo"), O_RDONLY | O_NOFOLLOW, 0, &st);
    ck_assert_int_ge(fd, 0);
    ck_assert(S_ISFIFO(st.st_mode));
    close(fd);
    ck_assert_int_eq(safe_open_stat(path_in("missing"), O_RDONLY, 0, &st), -1);
    ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(read_file_bounded)
{
    put("small", "0123456789");
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    ck_assert_int_eq(safe_read_file(path_in("small"), 10, &b), 0);
    ck_assert_str_eq(buf_str(&b), "0123456789");
    ck_assert_int_eq(safe_read_file(path_in("small"), 9, &b), -1);
    ck_assert_int_eq(errno, EFBIG);
    ck_assert_int_eq(safe_read_file(path_in("missing"), 9, &b), -1);
    ck_assert_int_eq(errno, ENOENT);
    buf_free(&b);
}
END_TEST

START_TEST(atomic_write_replaces_and_sets_mode)
{
    put("f", "old content that is longer");
    ck_assert_int_eq(safe_write_file(path_in("f"), "new", 3, 0640), 0);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    ck_assert_int_eq(safe_read_file(path_in("f"), 100, &b), 0);
    ck_assert_str_eq(buf_str(&b), "new");
    buf_free(&b);
    struct stat st;
    ck_assert_int_eq(stat(path_in("f"), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0640);
    /* no temporary file is left behind: the directory holds just f */
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            ck_assert_str_eq(e->d_name, "f");
            entries++;
        }
    closedir(d);
    ck_assert_int_eq(entries, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("safefile");
    TCase *tc = tcase_create("safefile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, open_regular_file);
    tcase_add_test(tc, refuses_symlink);
    tcase_add_test(tc, refuses_directory_fifo_and_hard_link);
    tcase_add_test(tc, refuses_other_owner);
    tcase_add_test(tc, open_stat_reports_what_it_opened);
    tcase_add_test(tc, read_file_bounded);
    tcase_add_test(tc, atomic_write_replaces_and_sets_mode);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
