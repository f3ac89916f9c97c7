/* test_qadmin.c: unit tests of queue/qadmin.c on a scratch queue directory: delete removes the
 * file and its status logs, hold and requeue move it (requeue drops the defer/ log), release
 * makes it due now in deferred/; each only in the queues it may act on; ALL visits every
 * message; IDs typed by an admin (with mailq's '*' or '!') are parsed strictly. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "qadmin.h"
#include "qfile.h"
#include "unit.h"

static char dir[64];

#define ID1 "1B6MV0P9TQ87KX"
#define ID2 "1B6MV0P9TQ88KY"
#define ID3 "1B6MV0P9TQ89KZ"

static void setup(void)
{
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_qadmin.XXXXXX");
    ck_assert_int_eq(chdir(dir), 0);
    static const char *const dirs[] = { "incoming", "active", "deferred", "hold", "defer",
                                        "bounce", "trace" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        ck_assert_int_eq(mkdir(dirs[i], 0700), 0);
}

static void teardown(void)
{
    ck_assert_int_eq(chdir("/"), 0);
    unit_rmtree(dir);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void make(const char *path)
{
    ck_assert_int_eq(unit_write_file(path, "queue file"), 0);
}

START_TEST(delete_removes_file_and_logs)
{
    make("deferred/" ID1);
    make("defer/" ID1);
    make("bounce/" ID1);
    make("trace/" ID1);
    char err[256] = "";
    ck_assert_int_eq(qadmin_apply(QADMIN_DELETE, ID1, QADMIN_Q_ALL, err, sizeof err),
                     QADMIN_Q_DEFERRED);
    ck_assert(!exists("deferred/" ID1));
    ck_assert(!exists("defer/" ID1) && !exists("bounce/" ID1) && !exists("trace/" ID1));
    /* gone: not found the second time */
    ck_assert_int_eq(qadmin_apply(QADMIN_DELETE, ID1, QADMIN_Q_ALL, err, sizeof err), 0);
    /* only in the queues named */
    make("hold/" ID2);
    ck_assert_int_eq(qadmin_apply(QADMIN_DELETE, ID2, QADMIN_Q_DEFERRED, err, sizeof err), 0);
    ck_assert(exists("hold/" ID2));
    ck_assert_int_eq(qadmin_apply(QADMIN_DELETE, ID2, QADMIN_Q_HOLD, err, sizeof err),
                     QADMIN_Q_HOLD);
}
END_TEST

/* A file in incoming/ still being written (no read bit) is not a message yet: untouched. */
START_TEST(file_being_written_left_alone)
{
    make("incoming/" ID1);
    ck_assert_int_eq(chmod("incoming/" ID1, QFILE_MODE_WRITING), 0);
    char err[256] = "";
    for (int op = QADMIN_DELETE; op <= QADMIN_REQUEUE; op++)
        ck_assert_int_eq(qadmin_apply((enum qadmin_op)op, ID1, QADMIN_Q_ALL, err, sizeof err), 0);
    ck_assert(exists("incoming/" ID1));
    ck_assert_int_eq(chmod("incoming/" ID1, QFILE_MODE), 0);   /* complete: now it is one */
    ck_assert_int_eq(qadmin_apply(QADMIN_DELETE, ID1, QADMIN_Q_ALL, err, sizeof err),
                     QADMIN_Q_INCOMING);
    ck_assert(!exists("incoming/" ID1));
}
END_TEST

START_TEST(hold_release_requeue_move)
{
    make("incoming/" ID1);
    char err[256] = "";
    ck_assert_int_eq(qadmin_apply(QADMIN_HOLD, ID1, QADMIN_Q_ALL, err, sizeof err),
                     QADMIN_Q_INCOMING);
    ck_assert(exists("hold/" ID1) && !exists("incoming/" ID1));
    /* hold never looks in hold/ */
    ck_assert_int_eq(qadmin_apply(QADMIN_HOLD, ID1, QADMIN_Q_ALL, err, sizeof err), 0);
    /* release: to deferred/, due now (its mtime is the next attempt time) */
    struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    ck_assert_int_eq(utimensat(AT_FDCWD, "hold/" ID1, old, 0), 0);
    time_t before = time(NULL);
    ck_assert_int_eq(qadmin_apply(QADMIN_RELEASE, ID1, QADMIN_Q_ALL, err, sizeof err),
                     QADMIN_Q_HOLD);
    struct stat st;
    ck_assert_int_eq(stat("deferred/" ID1, &st), 0);
    ck_assert_int_ge(st.st_mtime, before);
    /* time() reads the clock of the last tick; a file time may be a tick ahead of it */
    ck_assert_int_le(st.st_mtime, time(NULL) + 1);
    /* release only looks in hold/ */
    ck_assert_int_eq(qadmin_apply(QADMIN_RELEASE, ID1, QADMIN_Q_ALL, err, sizeof err), 0);
    /* requeue: to incoming/, without the reasons of the last attempt */
    make("defer/" ID1);
    make("bounce/" ID1);
    ck_assert_int_eq(qadmin_apply(QADMIN_REQUEUE, ID1, QADMIN_Q_ALL, err, sizeof err),
                     QADMIN_Q_DEFERRED);
    ck_assert(exists("incoming/" ID1) && !exists("deferred/" ID1));
    ck_assert(!exists("defer/" ID1));
    ck_assert(exists("bounce/" ID1));   /* a pending failure notice still goes out */
    /* requeue of what is in incoming/ already: counted, nothing moves */
    ck_assert_int_eq(qadmin_apply(QADMIN_REQUEUE, ID1, QADMIN_Q_ALL, err, sizeof err),
                     QADMIN_Q_INCOMING);
    ck_assert(exists("incoming/" ID1));
}
END_TEST

START_TEST(errors_reported)
{
    char err[256] = "";
    ck_assert_int_eq(qadmin_apply(QADMIN_DELETE, "../x", QADMIN_Q_ALL, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not a queue ID"));
    /* a directory where a queue file should be is not removed */
    ck_assert_int_eq(mkdir("deferred/" ID3, 0700), 0);
    ck_assert_int_eq(qadmin_apply(QADMIN_DELETE, ID3, QADMIN_Q_ALL, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
    ck_assert(exists("deferred/" ID3));
}
END_TEST

struct seen {
    int n;
    unsigned queues;
};

static int each_cb(unsigned queue, const char *id, void *arg)
{
    struct seen *s = arg;
    ck_assert(qfile_valid_id(id));
    s->n++;
    s->queues |= queue;
    return 0;
}

START_TEST(each_visits_the_queues_named)
{
    make("incoming/" ID1);
    make("incoming/t1.2.3");   /* being written */
    make("deferred/" ID2);
    make("hold/" ID3);
    struct seen s = { 0, 0 };
    char err[256];
    ck_assert_int_eq(qadmin_each(QADMIN_Q_ALL, each_cb, &s, err, sizeof err), 0);
    ck_assert_int_eq(s.n, 3);
    ck_assert_uint_eq(s.queues, QADMIN_Q_INCOMING | QADMIN_Q_DEFERRED | QADMIN_Q_HOLD);
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(qadmin_each(QADMIN_Q_DEFERRED | QADMIN_Q_HOLD, each_cb, &s, err,
                                 sizeof err), 0);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(rmdir("active"), 0);
    ck_assert_int_eq(qadmin_each(QADMIN_Q_ACTIVE, each_cb, &s, err, sizeof err), -1);
}
END_TEST

START_TEST(names_and_ids)
{
    enum qadmin_op op;
    ck_assert_int_eq(qadmin_op_parse("release", &op), 0);
    ck_assert_int_eq(op, QADMIN_RELEASE);
    ck_assert_int_eq(qadmin_op_parse("flush", &op), -1);
    ck_assert_str_eq(qadmin_op_done_text(QADMIN_DELETE), "removed");
    ck_assert_uint_eq(qadmin_queue_bit("hold"), QADMIN_Q_HOLD);
    ck_assert_uint_eq(qadmin_queue_bit("maildrop"), 0);
    ck_assert_str_eq(qadmin_queue_name(QADMIN_Q_ACTIVE), "active");
    ck_assert_uint_eq(qadmin_queues(QADMIN_HOLD),
                      QADMIN_Q_INCOMING | QADMIN_Q_ACTIVE | QADMIN_Q_DEFERRED);
    char id[QFILE_ID_MAX];
    ck_assert(qadmin_parse_id(ID1, id, sizeof id));
    ck_assert(qadmin_parse_id(ID1 "*", id, sizeof id));
    ck_assert_str_eq(id, ID1);
    ck_assert(qadmin_parse_id(ID1 "!", id, sizeof id));
    ck_assert(!qadmin_parse_id(ID1 "!!", id, sizeof id));
    ck_assert(!qadmin_parse_id("*", id, sizeof id));
    ck_assert(!qadmin_parse_id("", id, sizeof id));
    ck_assert(!qadmin_parse_id("1b6mv0p9tq87kx", id, sizeof id));
    ck_assert(!qadmin_parse_id("ALL", id, sizeof id));
    ck_assert(!qadmin_parse_id("1B6MV0P9TQ87KX1B6MV0P9TQ87KX", id, sizeof id));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("qadmin");
    TCase *t = tcase_create("qadmin");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, delete_removes_file_and_logs);
    tcase_add_test(t, file_being_written_left_alone);
    tcase_add_test(t, hold_release_requeue_move);
    tcase_add_test(t, errors_reported);
    tcase_add_test(t, each_visits_the_queues_named);
    tcase_add_test(t, names_and_ids);
    suite_add_tcase(s, t);
    return unit_run(s);
}
