/* test_errtext.c: unit tests of errtext_setf (common/errtext.c): "KIND SUBJECT: text" in the
 * caller's buffer, cut at its size, and nothing written without one. */
#include <check.h>
#include <string.h>
#include "errtext.h"
#include "unit.h"

START_TEST(prefix_and_text)
{
    char err[ERR_TEXT_MAX];
    errtext_setf(err, sizeof err, "maildir", "/home/a/Maildir", "fsync new/: %s", "I/O error");
    ck_assert_str_eq(err, "maildir /home/a/Maildir: fsync new/: I/O error");
}
END_TEST

START_TEST(cut_to_the_buffer)
{
    char err[16];
    memset(err, 'x', sizeof err);
    errtext_setf(err, sizeof err, "mailbox", "/var/mail/alice", "write: %d", 5);
    ck_assert_str_eq(err, "mailbox /var/ma");   /* 15 bytes and the NUL */
    char tiny[24];
    errtext_setf(tiny, sizeof tiny, "mailbox", "/m", "a long reason %s", "here");
    ck_assert_str_eq(tiny, "mailbox /m: a long reas");
    errtext_setf(NULL, 0, "mailbox", "/m", "%s", "nothing");   /* no buffer: no write */
}
END_TEST

static Suite *errtext_suite(void)
{
    Suite *s = suite_create("errtext");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, prefix_and_text);
    tcase_add_test(tc, cut_to_the_buffer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(errtext_suite());
}
