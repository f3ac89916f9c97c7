/* test_statuslog.c: unit tests of queue/statuslog.c: records with hostile texts survive the
 * round trip, appends add to an existing log, and damaged, oversized or symlinked logs are
 * refused; the callback can stop the reading early. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "statuslog.h"
#include "unit.h"

static char dir[64];

static void setup(void)
{
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_statuslog.XXXXXX");
}

static void teardown(void)
{
    unit_rmtree(dir);
}

static struct status_record make(int i)
{
    struct status_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.recipient, sizeof r.recipient, "user%d@example.org", i);
    if (i % 2)
        snprintf(r.orig_recipient, sizeof r.orig_recipient, "orig%d@example.com", i);
    r.notify = (unsigned)i % 16;
    snprintf(r.status, sizeof r.status, "5.1.%d", i);
    snprintf(r.action, sizeof r.action, "%s", i % 2 ? "failed" : "delayed");
    if (i % 3)
        snprintf(r.remote_mta, sizeof r.remote_mta, "dns; mx%d.example.org", i);
    snprintf(r.diagnostic, sizeof r.diagnostic,
             "smtp; 550 no\r\n25:recipient=root@x,,%d\nAction: failed", i);
    snprintf(r.reason, sizeof r.reason, "reason, %d\r\n\r\n,,0:,", i);
    r.when = 1700000000 + i;
    return r;
}

/* The IPC framing of the name=value attributes in attrs (NULL-terminated). */
static const char *frame(const char *const *attrs)
{
    static char out[8192];
    char inner[8000];
    size_t n = 0;
    for (; *attrs; attrs++)
        n += (size_t)snprintf(inner + n, sizeof inner - n, "%zu:%s,", strlen(*attrs), *attrs);
    ck_assert_uint_lt(n, sizeof inner);
    snprintf(out, sizeof out, "%zu:%s,", n, inner);
    return out;
}

struct collect {
    struct status_record got[8];
    int n, stop_after;
};

static int collect_cb(const struct status_record *r, void *arg)
{
    struct collect *c = arg;
    ck_assert_int_lt(c->n, 8);
    c->got[c->n++] = *r;
    return c->stop_after && c->n >= c->stop_after;
}

static void same(const struct status_record *a, const struct status_record *b)
{
    ck_assert_str_eq(a->recipient, b->recipient);
    ck_assert_str_eq(a->orig_recipient, b->orig_recipient);
    ck_assert_uint_eq(a->notify, b->notify);
    ck_assert_str_eq(a->status, b->status);
    ck_assert_str_eq(a->action, b->action);
    ck_assert_str_eq(a->remote_mta, b->remote_mta);
    ck_assert_str_eq(a->diagnostic, b->diagnostic);
    ck_assert_str_eq(a->reason, b->reason);
    ck_assert_int_eq((long long)a->when, (long long)b->when);
}

START_TEST(round_trip_and_append)
{
    const char *path = unit_fmt("%s/defer", dir);
    struct status_record r[5];
    for (int i = 0; i < 3; i++) {
        r[i] = make(i);
        ck_assert_int_eq(statuslog_append(path, &r[i]), 0);
    }
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    struct collect c = { .n = 0 };
    ck_assert_int_eq(statuslog_read(path, 1 << 20, collect_cb, &c), 3);
    ck_assert_int_eq(c.n, 3);
    for (int i = 0; i < 3; i++)
        same(&c.got[i], &r[i]);
    /* later appends go after what is there */
    for (int i = 3; i < 5; i++) {
        r[i] = make(i);
        ck_assert_int_eq(statuslog_append(path, &r[i]), 0);
    }
    c.n = 0;
    ck_assert_int_eq(statuslog_read(path, 1 << 20, collect_cb, &c), 5);
    for (int i = 0; i < 5; i++)
        same(&c.got[i], &r[i]);
    ck_assert_int_eq(statuslog_read(path, 1 << 20, NULL, NULL), 5);
}
END_TEST

START_TEST(empty_log_and_missing_log)
{
    const char *path = unit_fmt("%s/empty", dir);
    ck_assert_int_eq(unit_write_file(path, ""), 0);
    ck_assert_int_eq(statuslog_read(path, 1024, collect_cb, NULL), 0);
    errno = 0;
    ck_assert_int_eq(statuslog_read(unit_fmt("%s/none", dir), 1024, NULL, NULL), -1);
    ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(truncated_and_malformed_logs)
{
    const char *path = unit_fmt("%s/bounce", dir);
    struct status_record r = make(1);
    ck_assert_int_eq(statuslog_append(path, &r), 0);
    ck_assert_int_eq(statuslog_append(path, &r), 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(truncate(path, st.st_size - 3), 0);
    errno = 0;
    ck_assert_int_eq(statuslog_read(path, 1 << 20, NULL, NULL), -1);
    ck_assert_int_eq(errno, EPROTO);

    static const char *const bad[][6] = {
        { "recipient=a@b", "status=x", NULL },                         /* no action, no when */
        { "recipient=a@b", "action=x", "status=x", "when=1", "evil=yes", NULL },
        { "recipient=a@b", "action=x", "status=x", "when=xy", NULL },  /* bad number */
        { "recipient=a@b", "action=x", "status=x", "when=1", "notify=-1", NULL },
    };
    ck_assert_int_eq(unit_write_file(path, "garbage"), 0);
    errno = 0;
    ck_assert_int_eq(statuslog_read(path, 1 << 20, NULL, NULL), -1);
    ck_assert_int_eq(errno, EPROTO);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(unit_write_file(path, frame(bad[i])), 0);
        errno = 0;
        ck_assert_int_eq(statuslog_read(path, 1 << 20, NULL, NULL), -1);
        ck_assert_int_eq(errno, EPROTO);
    }
    /* a minimal hand-made record: the optional names read as empty */
    static const char *const minimal[] = { "recipient=a@b", "action=x", "status=x", "when=7",
                                           NULL };
    ck_assert_int_eq(unit_write_file(path, frame(minimal)), 0);
    struct collect c = { .n = 0 };
    ck_assert_int_eq(statuslog_read(path, 1 << 20, collect_cb, &c), 1);
    ck_assert_str_eq(c.got[0].recipient, "a@b");
    ck_assert_str_eq(c.got[0].orig_recipient, "");
    ck_assert_str_eq(c.got[0].reason, "");
    ck_assert_uint_eq(c.got[0].notify, 0);
    ck_assert_int_eq((long long)c.got[0].when, 7);
}
END_TEST

START_TEST(oversized_fields_are_cut)
{
    const char *path = unit_fmt("%s/big", dir);
    static char reason[STATUSLOG_TEXT_MAX + 300];
    memcpy(reason, "reason=", 7);
    memset(reason + 7, 'x', sizeof reason - 8);
    const char *const attrs[] = { "recipient=a@b", "action=x", "status=x", "when=7", reason,
                                  NULL };
    ck_assert_int_eq(unit_write_file(path, frame(attrs)), 0);
    struct collect c = { .n = 0 };
    ck_assert_int_eq(statuslog_read(path, 1 << 20, collect_cb, &c), 1);
    ck_assert_uint_eq(strlen(c.got[0].reason), STATUSLOG_TEXT_MAX - 1);
}
END_TEST

START_TEST(max_bytes_bound)
{
    const char *path = unit_fmt("%s/defer", dir);
    struct status_record r = make(2);
    ck_assert_int_eq(statuslog_append(path, &r), 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    errno = 0;
    ck_assert_int_eq(statuslog_read(path, (size_t)st.st_size - 1, NULL, NULL), -1);
    ck_assert_int_eq(errno, EFBIG);
    ck_assert_int_eq(statuslog_read(path, (size_t)st.st_size, NULL, NULL), 1);
}
END_TEST

START_TEST(callback_stops_early)
{
    const char *path = unit_fmt("%s/defer", dir);
    for (int i = 0; i < 4; i++) {
        struct status_record r = make(i);
        ck_assert_int_eq(statuslog_append(path, &r), 0);
    }
    struct collect c = { .n = 0, .stop_after = 2 };
    ck_assert_int_eq(statuslog_read(path, 1 << 20, collect_cb, &c), 2);
    ck_assert_int_eq(c.n, 2);
    ck_assert_str_eq(c.got[1].recipient, "user1@example.org");
}
END_TEST

START_TEST(symlink_refused)
{
    const char *target = unit_fmt("%s/target", dir), *link = unit_fmt("%s/link", dir);
    ck_assert_int_eq(unit_write_file(target, ""), 0);
    ck_assert_int_eq(symlink(target, link), 0);
    struct status_record r = make(1);
    ck_assert_int_eq(statuslog_append(link, &r), -1);
    ck_assert_int_eq(statuslog_read(link, 1024, NULL, NULL), -1);
    struct stat st;
    ck_assert_int_eq(stat(target, &st), 0);
    ck_assert_int_eq(st.st_size, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("statuslog");
    TCase *t = tcase_create("log");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, round_trip_and_append);
    tcase_add_test(t, empty_log_and_missing_log);
    tcase_add_test(t, truncated_and_malformed_logs);
    tcase_add_test(t, oversized_fields_are_cut);
    tcase_add_test(t, max_bytes_bound);
    tcase_add_test(t, callback_stops_early);
    tcase_add_test(t, symlink_refused);
    suite_add_tcase(s, t);
    return unit_run(s);
}
