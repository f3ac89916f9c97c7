/* test_maildrop.c: unit tests of queue/maildrop.c, the rules terndrop and pickup both apply to
 * a maildrop file (record order, bounds, the size limit) and the record reader over a
 * descriptor (records split across reads, truncation at every byte, lengths not minimal or
 * oversized, the read timeout). */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "maildrop.h"
#include "unit.h"

struct rec {
    int type;
    const char *data;
};

/* Runs the records through a fresh checker: the index of the first refused one, or -1. */
static int first_refused(const struct rec *r, size_t n, unsigned long long limit, int *err)
{
    struct maildrop_check c;
    maildrop_check_init(&c, limit);
    for (size_t i = 0; i < n; i++) {
        char why[ERR_TEXT_MAX] = "";
        errno = 0;
        if (maildrop_check(&c, r[i].type, r[i].data, strlen(r[i].data), why, sizeof why) < 0) {
            *err = errno;
            return (int)i;
        }
    }
    return -1;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(order_and_fields)
{
    int err;
    const struct rec good[] = {
        { QREC_MAGIC, MAILDROP_MAGIC_TEXT }, { QREC_SENDER, "" }, { QREC_ATTR, "extract=yes" },
        { QREC_ATTR, "fullname=Ann" }, { QREC_RECIPIENT, "a@x, b@y" },
        { QREC_RCPT_NOTIFY, "2" }, { QREC_RCPT_ORCPT, "rfc822;a@x" }, { QREC_RECIPIENT, "c" },
        { QREC_CONTENT, "Subject: s\n\nbody\n" }, { QREC_CONTENT, "more\n" }, { QREC_END, "" },
    };
    ck_assert_int_eq(first_refused(good, N(good), 0, &err), -1);

    const struct rec no_magic[] = { { QREC_SENDER, "a" } };
    ck_assert_int_eq(first_refused(no_magic, N(no_magic), 0, &err), 0);
    const struct rec queue_magic[] = { { QREC_MAGIC, QREC_MAGIC_TEXT } };
    ck_assert_int_eq(first_refused(queue_magic, N(queue_magic), 0, &err), 0);
    const struct rec rcpt_before_sender[] = { { QREC_MAGIC, MAILDROP_MAGIC_TEXT },
                                              { QREC_RECIPIENT, "a" } };
    ck_assert_int_eq(first_refused(rcpt_before_sender, 2, 0, &err), 1);
    ck_assert_int_eq(err, EPROTO);
    const struct rec unknown_attr[] = { { QREC_MAGIC, MAILDROP_MAGIC_TEXT },
                                        { QREC_SENDER, "a" }, { QREC_ATTR, "client_address=1" } };
    ck_assert_int_eq(first_refused(unknown_attr, 3, 0, &err), 2);
    const struct rec attr_without_eq[] = { { QREC_MAGIC, MAILDROP_MAGIC_TEXT },
                                           { QREC_SENDER, "a" }, { QREC_ATTR, "extract" } };
    ck_assert_int_eq(first_refused(attr_without_eq, 3, 0, &err), 2);
    const struct rec newline_in_rcpt[] = { { QREC_MAGIC, MAILDROP_MAGIC_TEXT },
                                           { QREC_SENDER, "a" }, { QREC_RECIPIENT, "a@x\r\nX: y" } };
    ck_assert_int_eq(first_refused(newline_in_rcpt, 3, 0, &err), 2);
    const struct rec empty_rcpt[] = { { QREC_MAGIC, MAILDROP_MAGIC_TEXT }, { QREC_SENDER, "a" },
                                      { QREC_RECIPIENT, "" } };
    ck_assert_int_eq(first_refused(empty_rcpt, 3, 0, &err), 2);
    const struct rec notify_first[] = { { QREC_MAGIC, MAILDROP_MAGIC_TEXT }, { QREC_SENDER, "a" },
                                        { QREC_RCPT_NOTIFY, "2" } };
    ck_assert_int_eq(first_refused(notify_first, 3, 0, &err), 2);
    const struct rec rcpt_after_content[] = {
        { QREC_MAGIC, MAILDROP_MAGIC_TEXT }, { QREC_SENDER, "a" }, { QREC_CONTENT, "x" },
        { QREC_RECIPIENT, "a" } };
    ck_assert_int_eq(first_refused(rcpt_after_content, 4, 0, &err), 3);
    const struct rec after_end[] = { { QREC_MAGIC, MAILDROP_MAGIC_TEXT }, { QREC_SENDER, "a" },
                                     { QREC_END, "" }, { QREC_CONTENT, "x" } };
    ck_assert_int_eq(first_refused(after_end, 4, 0, &err), 3);
    const struct rec queue_type[] = { { QREC_MAGIC, MAILDROP_MAGIC_TEXT }, { QREC_SENDER, "a" },
                                      { QREC_DONE, "a" } };
    ck_assert_int_eq(first_refused(queue_type, 3, 0, &err), 2);
}
END_TEST

START_TEST(bounds)
{
    int err;
    char longer[MAILDROP_FIELD_MAX + 2];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    const struct rec too_long[] = { { QREC_MAGIC, MAILDROP_MAGIC_TEXT }, { QREC_SENDER, longer } };
    ck_assert_int_eq(first_refused(too_long, 2, 0, &err), 1);

    const struct rec big[] = { { QREC_MAGIC, MAILDROP_MAGIC_TEXT }, { QREC_SENDER, "a" },
                               { QREC_CONTENT, "12345" }, { QREC_CONTENT, "678901" } };
    ck_assert_int_eq(first_refused(big, 4, 10, &err), 3);
    ck_assert_int_eq(err, EFBIG);
    ck_assert_int_eq(first_refused(big, 4, 11, &err), -1);

    struct maildrop_check c;
    maildrop_check_init(&c, 0);
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(maildrop_check(&c, QREC_MAGIC, MAILDROP_MAGIC_TEXT,
                                    strlen(MAILDROP_MAGIC_TEXT), why, sizeof why), 0);
    ck_assert_int_eq(maildrop_check(&c, QREC_SENDER, "", 0, why, sizeof why), 0);
    for (int i = 0; i < MAILDROP_RCPT_MAX; i++)
        ck_assert_int_eq(maildrop_check(&c, QREC_RECIPIENT, "r", 1, why, sizeof why), 0);
    ck_assert_int_eq(maildrop_check(&c, QREC_RECIPIENT, "r", 1, why, sizeof why), -1);
}
END_TEST

/* The reader over a pipe, with records cut at every byte boundary by a writer child. */
START_TEST(reader_pieces)
{
    struct buf in;
    buf_init(&in, BUF_UNBOUNDED);
    qrec_put(&in, QREC_MAGIC, MAILDROP_MAGIC_TEXT, strlen(MAILDROP_MAGIC_TEXT));
    char big[70000];
    memset(big, 'z', sizeof big);
    qrec_put(&in, QREC_CONTENT, big, sizeof big);   /* a 3-byte length */
    qrec_put(&in, QREC_END, "", 0);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        for (size_t i = 0; i < in.len; i += 7)
            if (write(p[1], in.data + i, in.len - i < 7 ? in.len - i : 7) < 0)
                _exit(1);
        _exit(0);
    }
    close(p[1]);
    struct maildrop_reader r;
    maildrop_reader_init(&r, p[0], 10000);
    int type;
    const char *data;
    size_t len;
    ck_assert_int_eq(maildrop_read(&r, &type, &data, &len), 1);
    ck_assert_int_eq(type, QREC_MAGIC);
    ck_assert_int_eq(maildrop_read(&r, &type, &data, &len), 1);
    ck_assert_int_eq(type, QREC_CONTENT);
    ck_assert_uint_eq(len, sizeof big);
    ck_assert(data[0] == 'z' && data[len - 1] == 'z');
    ck_assert_int_eq(maildrop_read(&r, &type, &data, &len), 1);
    ck_assert_int_eq(type, QREC_END);
    ck_assert_int_eq(maildrop_read(&r, &type, &data, &len), 0);
    maildrop_reader_free(&r);
    close(p[0]);
    unit_expect_exit(pid, 10000, 0);
    buf_free(&in);
}
END_TEST

static int read_bytes(const char *bytes, size_t n, int timeout_ms)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], bytes, n), (ssize_t)n);
    if (timeout_ms < 0)
        close(p[1]);
    struct maildrop_reader r;
    maildrop_reader_init(&r, p[0], timeout_ms);
    int type;
    const char *data;
    size_t len;
    errno = 0;
    int rc = maildrop_read(&r, &type, &data, &len);
    int e = errno;
    maildrop_reader_free(&r);
    close(p[0]);
    if (timeout_ms >= 0)
        close(p[1]);
    errno = e;
    return rc;
}

START_TEST(reader_errors)
{
    ck_assert_int_eq(read_bytes("S\x05" "ab", 4, -1), -1);              /* truncated data */
    ck_assert_int_eq(errno, EPROTO);
    ck_assert_int_eq(read_bytes("S\x85", 2, -1), -1);                   /* truncated length */
    ck_assert_int_eq(errno, EPROTO);
    ck_assert_int_eq(read_bytes("S\x80\x80\x80\x80\x80\x01", 7, -1), -1);   /* > 5 bytes */
    ck_assert_int_eq(errno, EPROTO);
    ck_assert_int_eq(read_bytes("S\x80\x80\x80\x01", 5, -1), -1);       /* 2 MiB > the max */
    ck_assert_int_eq(errno, EPROTO);
    ck_assert_int_eq(read_bytes("S\x05" "ab", 4, 200), -1);             /* writer stalls */
    ck_assert_int_eq(errno, ETIMEDOUT);
    ck_assert_int_eq(read_bytes("", 0, -1), 0);                          /* clean end */
}
END_TEST

/* Reads every record of bytes[0..n) from a file (so any size fits): the records read before the
 * end or the error; *rc is the last maildrop_read result and *err its errno. */
static int read_all(const char *bytes, size_t n, int *rc, int *err)
{
    char path[] = "/tmp/test_maildrop.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(write(fd, bytes, n), (ssize_t)n);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    struct maildrop_reader r;
    maildrop_reader_init(&r, fd, -1);
    int count = 0, type;
    const char *data;
    size_t len;
    errno = 0;
    while ((*rc = maildrop_read(&r, &type, &data, &len)) == 1)
        count++;
    *err = errno;
    maildrop_reader_free(&r);
    close(fd);
    return count;
}

/* The reader is as strict as the queue file reader (qrec_head), though ordinary users write
 * these files: cut at every byte, a varint not minimal, of six bytes, or over QREC_DATA_MAX. */
START_TEST(reader_strict_headers)
{
    struct buf in;
    buf_init(&in, BUF_UNBOUNDED);
    size_t ends[3];
    qrec_put(&in, QREC_MAGIC, MAILDROP_MAGIC_TEXT, strlen(MAILDROP_MAGIC_TEXT));
    ends[0] = in.len;
    char big[300];
    memset(big, 'z', sizeof big);
    qrec_put(&in, QREC_CONTENT, big, sizeof big);
    ends[1] = in.len;
    qrec_put(&in, QREC_END, "", 0);
    ends[2] = in.len;
    int rc, err;
    for (size_t n = 0; n <= in.len; n++) {
        int whole = n >= ends[2] ? 3 : n >= ends[1] ? 2 : n >= ends[0] ? 1 : 0;
        ck_assert_int_eq(read_all(in.data, n, &rc, &err), whole);
        bool boundary = n == 0 || n == ends[0] || n == ends[1] || n == ends[2];
        ck_assert_msg(boundary ? rc == 0 : rc == -1 && err == EPROTO, "cut at %zu", n);
    }
    buf_free(&in);
    static const struct { const char *bytes; size_t n; } bad[] = {
        { "S\x80\x00", 3 },                       /* 0 in two bytes */
        { "S\x81\x00" "a", 4 },                    /* 1 in two bytes */
        { "S\x83\x80\x00" "abc", 7 },              /* 3 in three bytes */
        { "S\x80\x80\x80\x80\x80\x01", 7 },       /* six bytes */
        { "C\x81\x80\x40", 4 },                   /* 2^20 + 1 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(read_all(bad[i].bytes, bad[i].n, &rc, &err), 0);
        ck_assert_msg(rc == -1 && err == EPROTO, "case %zu", i);
    }
    /* exactly QREC_DATA_MAX is a record */
    buf_init(&in, BUF_UNBOUNDED);
    char *max = calloc(1, QREC_DATA_MAX);
    ck_assert_int_eq(qrec_put(&in, QREC_CONTENT, max, QREC_DATA_MAX), 0);
    ck_assert_int_eq(read_all(in.data, in.len, &rc, &err), 1);
    ck_assert_int_eq(rc, 0);
    free(max);
    buf_free(&in);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("maildrop");
    TCase *tc = tcase_create("maildrop");
    tcase_add_test(tc, order_and_fields);
    tcase_add_test(tc, bounds);
    tcase_add_test(tc, reader_pieces);
    tcase_add_test(tc, reader_errors);
    tcase_add_test(tc, reader_strict_headers);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
