/* test_maildir.c: unit tests of mail/maildir.c: directory creation and reuse, the
 * delivered file (content with LF line ends, mode, name format, unique names), and clean
 * failures (a symlink for new/, an unwritable Maildir) that leave nothing in tmp/. */
#include <check.h>
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "maildir.h"
#include "unit.h"

static char dir[64];

static void setup(void)
{
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_maildir.XXXXXX");
}

static void teardown(void)
{
    chmod(unit_fmt("%s/md", dir), 0700);
    ck_assert_int_eq(unit_rmtree(dir), 0);
}

static void assert_dir_0700(const char *path)
{
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(st.st_mode & 07777, 0700);
}

static int deliver(const char *md, const char *head, const char *body, char *name, size_t size,
                   char *err, size_t errlen)
{
    return maildir_deliver(md, head, strlen(head), body, strlen(body), name, size, err, errlen);
}

START_TEST(creates_and_delivers)
{
    const char *md = unit_fmt("%s/md", dir);
    char name[256], err[ERR_TEXT_MAX];
    const char *head = "Return-Path: <a@example.org>\nDelivered-To: b@example.org\n";
    const char *body = "Subject: hi\r\n\r\nline\r\nlone\rcr\r\nend\r\n";
    ck_assert_msg(deliver(md, head, body, name, sizeof name, err, sizeof err) == 0, "%s", err);
    assert_dir_0700(md);
    assert_dir_0700(unit_fmt("%s/tmp", md));
    assert_dir_0700(unit_fmt("%s/new", md));
    assert_dir_0700(unit_fmt("%s/cur", md));
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/tmp", md)), 0);
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/new", md)), 1);

    const char *path = unit_fmt("%s/%s", md, name);
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(st.st_nlink, 1);

    char got[512];
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[n] = '\0';
    ck_assert_str_eq(got, "Return-Path: <a@example.org>\nDelivered-To: b@example.org\n"
                          "Subject: hi\n\nline\nlone\rcr\nend\n");
}
END_TEST

START_TEST(name_format_and_unique)
{
    const char *md = unit_fmt("%s/md", dir);
    char a[256], b[256], err[ERR_TEXT_MAX];
    ck_assert_msg(deliver(md, "", "x\r\n", a, sizeof a, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(deliver(md, "", "y\r\n", b, sizeof b, err, sizeof err) == 0, "%s", err);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/new", md)), 2);

    regex_t re;
    ck_assert_int_eq(regcomp(&re, "^new/[0-9]+\\.M[0-9]+P[0-9]+Q[0-9]+\\..+$",
                             REG_EXTENDED | REG_NOSUB), 0);
    ck_assert_msg(regexec(&re, a, 0, NULL, 0) == 0, "bad name %s", a);
    ck_assert_msg(regexec(&re, b, 0, NULL, 0) == 0, "bad name %s", b);
    regfree(&re);
    ck_assert_ptr_nonnull(strstr(a, unit_fmt("P%ld", (long)getpid())));
}
END_TEST

START_TEST(reuses_existing)
{
    const char *md = unit_fmt("%s/md", dir);
    ck_assert_int_eq(mkdir(md, 0700), 0);
    ck_assert_int_eq(mkdir(unit_fmt("%s/tmp", md), 0700), 0);
    ck_assert_int_eq(mkdir(unit_fmt("%s/new", md), 0700), 0);
    ck_assert_int_eq(mkdir(unit_fmt("%s/cur", md), 0700), 0);
    ck_assert_int_eq(unit_write_file(unit_fmt("%s/cur/old:2,S", md), "old\n"), 0);
    char name[256], err[ERR_TEXT_MAX];
    ck_assert_msg(deliver(md, "", "new\r\n", name, sizeof name, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/cur", md)), 1);
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/new", md)), 1);
    ck_assert_int_eq(access(unit_fmt("%s/%s", md, name), R_OK), 0);
}
END_TEST

START_TEST(symlink_new_refused)
{
    const char *md = unit_fmt("%s/md", dir);
    const char *elsewhere = unit_fmt("%s/elsewhere", dir);
    ck_assert_int_eq(mkdir(md, 0700), 0);
    ck_assert_int_eq(mkdir(elsewhere, 0700), 0);
    ck_assert_int_eq(symlink(elsewhere, unit_fmt("%s/new", md)), 0);
    char name[256] = "", err[ERR_TEXT_MAX];
    ck_assert_int_eq(deliver(md, "", "x\r\n", name, sizeof name, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "new/") != NULL, "err: %s", err);
    ck_assert_ptr_nonnull(strstr(err, md));
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/tmp", md)), 0);
    ck_assert_int_eq(unit_count_entries(elsewhere), 0);
}
END_TEST

START_TEST(unwritable_fails_cleanly)
{
    const char *md = unit_fmt("%s/md", dir);
    char name[256] = "", err[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(mkdir(md, 0700), 0);
    if (geteuid() == 0) {
        /* root writes anywhere: a regular file where tmp/ should be fails instead */
        ck_assert_int_eq(unit_write_file(unit_fmt("%s/tmp", md), ""), 0);
    } else {
        ck_assert_int_eq(chmod(md, 0500), 0);
    }
    ck_assert_int_eq(deliver(md, "", "x\r\n", name, sizeof name, err, sizeof err), -1);
    ck_assert_msg(strncmp(err, unit_fmt("maildir %s: ", md), strlen(md) + 10) == 0, "err: %s",
                  err);
    ck_assert_int_gt(strlen(err), strlen(md) + 10);
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/new", md)), -1); /* tmp/ failed first */
}
END_TEST

START_TEST(folder_when_it_exists)
{
    const char *md = unit_fmt("%s/md", dir);
    char out[256];
    ck_assert_int_eq(mkdir(md, 0700), 0);
    ck_assert_int_eq(maildir_folder(md, "Junk", out, sizeof out), 0);
    ck_assert_str_eq(out, md);
    ck_assert_int_eq(mkdir(unit_fmt("%s/.Junk", md), 0700), 0);
    ck_assert_int_eq(maildir_folder(unit_fmt("%s/md//", dir), "Junk", out, sizeof out), 1);
    ck_assert_str_eq(out, unit_fmt("%s/md/.Junk", dir));
    /* a symbolic link or a file is no folder */
    ck_assert_int_eq(symlink(unit_fmt("%s/.Junk", md), unit_fmt("%s/.Spam", md)), 0);
    ck_assert_int_eq(maildir_folder(md, "Spam", out, sizeof out), 0);
    FILE *f = fopen(unit_fmt("%s/.File", md), "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(maildir_folder(md, "File", out, sizeof out), 0);
    ck_assert_str_eq(out, md);
    /* no plain name, or no room */
    ck_assert_int_eq(maildir_folder(md, "", out, sizeof out), -1);
    ck_assert_int_eq(maildir_folder(md, "..", out, sizeof out), -1);
    ck_assert_int_eq(maildir_folder(md, "a/b", out, sizeof out), -1);
    ck_assert_int_eq(maildir_folder(md, "Junk", out, 8), -1);
}
END_TEST

START_TEST(name_too_small)
{
    const char *md = unit_fmt("%s/md", dir);
    char name[8], err[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(deliver(md, "", "x\r\n", name, sizeof name, err, sizeof err), -1);
    ck_assert_str_ne(err, "");
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/tmp", md)), 0);
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/new", md)), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("maildir");
    TCase *tc = tcase_create("maildir");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, creates_and_delivers);
    tcase_add_test(tc, name_format_and_unique);
    tcase_add_test(tc, reuses_existing);
    tcase_add_test(tc, folder_when_it_exists);
    tcase_add_test(tc, symlink_new_refused);
    tcase_add_test(tc, unwritable_fails_cleanly);
    tcase_add_test(tc, name_too_small);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
