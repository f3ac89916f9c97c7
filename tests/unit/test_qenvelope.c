/* test_qenvelope.c: unit tests of queue/qenvelope.c, the one writer of a queue file's envelope,
 * and of qfile_put_content: for the envelope each writer gives (smtpd's, pickup's, a forwarded
 * copy's, a notice's) the file holds exactly the records forged here by hand, byte for byte, in
 * the documented order; the reader takes them back. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "qfile.h"
#include "safefile.h"
#include "unit.h"
#include "xtext.h"

static char qdir[64];

/* A queue directory of the test's own, as the working directory: qfile_create writes there. */
static void queue_setup(void)
{
    unit_mkdtemp(qdir, sizeof qdir, "/tmp/test_qenvelope.XXXXXX");
    static const char *const dirs[] = { "incoming", "spare" };
    for (size_t i = 0; i < 2; i++)
        ck_assert_int_eq(mkdir(unit_fmt("%s/%s", qdir, dirs[i]), 0700), 0);
    ck_assert_int_eq(chdir(qdir), 0);
}

static void queue_teardown(void)
{
    ck_assert_int_eq(chdir("/"), 0);
    ck_assert_int_eq(unit_rmtree(qdir), 0);
}

/* Appends a record of type with the text data to b. */
static void forge(struct buf *b, int type, const char *data)
{
    ck_assert_int_eq(qrec_put(b, (enum qrec_type)type, data, strlen(data)), 0);
}

/* Writes e and content (may be NULL) as a new queue file; its bytes after the MAGIC and TIME
 * records qfile_create wrote go to out. */
static void write_file(const struct qenvelope *e, const char *content, size_t content_len,
                       struct buf *out)
{
    struct qfile *q = qfile_create();
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(qfile_put_envelope(q, e), 0);
    if (content)
        ck_assert_int_eq(qfile_put_content(q, content, content_len), 0);
    ck_assert_int_eq(qfile_finish(q), 0);
    ck_assert_int_eq(qfile_commit_sync(q), 0);
    struct buf whole;
    buf_init(&whole, BUF_UNBOUNDED);
    ck_assert_int_eq(safe_read_file(qfile_path(q), 1 << 24, &whole), 0);
    qfile_free(q);
    size_t pos = 0, len;
    int type;
    const char *rec;
    ck_assert_int_eq(qrec_get(whole.data, whole.len, &pos, &type, &rec, &len), 1);
    ck_assert_int_eq(type, QREC_MAGIC);
    ck_assert_int_eq(qrec_get(whole.data, whole.len, &pos, &type, &rec, &len), 1);
    ck_assert_int_eq(type, QREC_TIME);
    buf_init(out, BUF_UNBOUNDED);
    ck_assert_int_eq(buf_append(out, whole.data + pos, whole.len - pos), 0);
    buf_free(&whole);
}

/* The written records equal the forged ones (want, to which END is added here). */
static void expect_records(const struct buf *got, struct buf *want)
{
    forge(want, QREC_END, "");
    ck_assert_uint_eq(got->len, want->len);
    ck_assert_msg(memcmp(got->data, want->data, got->len) == 0, "records differ");
}

/* The envelope smtpd gives: every attribute of a session, decoded DSN values. */
/* The strict reader over the records written (with the MAGIC and TIME the writer starts with). */
static void parse_written(const struct buf *got, struct qfile_envelope *env)
{
    struct buf whole;
    buf_init(&whole, BUF_UNBOUNDED);
    ck_assert_int_eq(qrec_put(&whole, QREC_MAGIC, QREC_MAGIC_TEXT, strlen(QREC_MAGIC_TEXT)), 0);
    ck_assert_int_eq(qrec_put(&whole, QREC_TIME, "1.000000", 8), 0);
    ck_assert_int_eq(buf_append(&whole, got->data, got->len), 0);
    char why[ERR_TEXT_MAX] = "";
    ck_assert_msg(qfile_parse(whole.data, whole.len, env, why, sizeof why) == 0, "%s", why);
    buf_free(&whole);
}

START_TEST(smtpd_envelope)
{
    const struct qenvelope_rcpt rcpt[] = {
        { .address = "a@example.org", .notify = NOTIFY_SUCCESS | NOTIFY_FAILURE,
          .orcpt_type = "rfc822", .orcpt = "x+y=z@example.org" },
        { .address = "b@example.net" },
        { .address = "c@example.net", .notify = NOTIFY_NEVER, .orcpt_type = "" },
    };
    const struct qenvelope e = {
        .sender = "s@example.com",
        .client_name = "unknown",
        .client_address = "192.0.2.1",
        .client_port = "41000",
        .helo = "",
        .protocol = "ESMTPSA",
        .sasl_username = "joe",
        .tls = "TLSv1.3 TLS_AES_256_GCM_SHA384",
        .envid = "id a+b",
        .ret = QATTR_RET_HDRS,
        .body = "8BITMIME",
        .smtputf8 = true,
        .rcpt = rcpt,
        .nrcpt = 3,
    };
    struct buf got, want;
    write_file(&e, "Received: x\r\n", 13, &got);
    buf_init(&want, BUF_UNBOUNDED);
    forge(&want, QREC_SENDER, "s@example.com");
    forge(&want, QREC_ATTR, "client_name=unknown");
    forge(&want, QREC_ATTR, "client_address=192.0.2.1");
    forge(&want, QREC_ATTR, "client_port=41000");
    forge(&want, QREC_ATTR, "helo=");
    forge(&want, QREC_ATTR, "protocol=ESMTPSA");
    forge(&want, QREC_ATTR, "sasl_username=joe");
    forge(&want, QREC_ATTR, "tls=TLSv1.3 TLS_AES_256_GCM_SHA384");
    forge(&want, QREC_ATTR, "envid=id+20a+2Bb");
    forge(&want, QREC_ATTR, "ret=HDRS");
    forge(&want, QREC_ATTR, "body=8BITMIME");
    forge(&want, QREC_ATTR, "smtputf8=yes");
    forge(&want, QREC_RECIPIENT, "a@example.org");
    forge(&want, QREC_RCPT_NOTIFY, "6");
    forge(&want, QREC_RCPT_ORCPT, "rfc822;x+2By+3Dz@example.org");
    forge(&want, QREC_RECIPIENT, "b@example.net");
    forge(&want, QREC_RECIPIENT, "c@example.net");
    forge(&want, QREC_RCPT_NOTIFY, "1");
    forge(&want, QREC_CONTENT, "Received: x\r\n");
    expect_records(&got, &want);
    /* the reader finds what the smtp client needs: BODY and SMTPUTF8 */
    struct qfile_envelope env;
    parse_written(&got, &env);
    ck_assert_str_eq(env.body, "8BITMIME");
    ck_assert(env.smtputf8);
    ck_assert_str_eq(env.ret, "HDRS");
    ck_assert_uint_eq(env.nrcpt, 3);
    buf_free(&got);
    buf_free(&want);
}
END_TEST

/* pickup's: protocol local and the uid; an ORCPT kept as the maildrop file gave it, even in a
 * form the encoder would not make. */
START_TEST(pickup_envelope)
{
    const struct qenvelope_rcpt rcpt[] = {
        { .address = "u@h", .notify = NOTIFY_DELAY, .orcpt_record = "rfc822;u+40h",
          .orcpt_type = "ignored", .orcpt = "ignored" },
    };
    const struct qenvelope e = {
        .sender = "",
        .protocol = "local",
        .has_uid = true,
        .uid = 4294967294u,
        .envid = "plain",
        .ret = QATTR_RET_FULL,
        .body = "7BIT",
        .rcpt = rcpt,
        .nrcpt = 1,
    };
    struct buf got, want;
    write_file(&e, NULL, 0, &got);
    buf_init(&want, BUF_UNBOUNDED);
    forge(&want, QREC_SENDER, "");
    forge(&want, QREC_ATTR, "protocol=local");
    forge(&want, QREC_ATTR, "uid=4294967294");
    forge(&want, QREC_ATTR, "envid=plain");
    forge(&want, QREC_ATTR, "ret=FULL");
    forge(&want, QREC_ATTR, "body=7BIT");
    forge(&want, QREC_RECIPIENT, "u@h");
    forge(&want, QREC_RCPT_NOTIFY, "8");
    forge(&want, QREC_RCPT_ORCPT, "rfc822;u+40h");
    expect_records(&got, &want);
    buf_free(&got);
    buf_free(&want);
}
END_TEST

/* The longest ENVID a client may give (100 characters), each escaped in xtext (3 bytes): the
 * reader gives it back whole, for the DSN and the next hop. */
START_TEST(longest_envid_survives)
{
    char envid[101];
    memset(envid, '+', 100);
    envid[100] = '\0';
    const struct qenvelope_rcpt rcpt[] = { { .address = "r@example.org" } };
    const struct qenvelope e = { .sender = "s@example.com", .envid = envid, .rcpt = rcpt,
                                 .nrcpt = 1 };
    struct buf got;
    write_file(&e, NULL, 0, &got);
    struct qfile_envelope env;
    parse_written(&got, &env);
    ck_assert_uint_eq(strlen(env.envid), 300);
    ck_assert(strncmp(env.envid, "+2B+2B+2B", 9) == 0);
    char back[101];
    ck_assert_int_eq(xtext_decode(env.envid, strlen(env.envid), back, sizeof back), 100);
    ck_assert_str_eq(back, envid);
    buf_free(&got);
    /* one more character is refused by the writer, which the reader would not take back */
    char longer[102];
    memset(longer, 'a', 101);
    longer[101] = '\0';
    const struct qenvelope too_long = { .sender = "s@example.com", .envid = longer,
                                        .rcpt = rcpt, .nrcpt = 1 };
    struct qfile *q = qfile_create();
    ck_assert_ptr_nonnull(q);
    errno = 0;
    ck_assert_int_eq(qfile_put_envelope(q, &too_long), -1);
    ck_assert_int_eq(errno, EINVAL);
    qfile_abort(q);
}
END_TEST

/* A forwarded copy: the ENVID as stored wins over a decoded one; the queue ID it came from;
 * the virtual alias mark; the reader sees them again. */
START_TEST(forwarded_envelope)
{
    const struct qenvelope_rcpt rcpt[] = {
        { .address = "x@a", .notify = 2, .orcpt_record = "rfc822;o@b" },
        { .address = "y@a", .notify = 2, .orcpt_record = "rfc822;o@b" },
    };
    const struct qenvelope e = {
        .sender = "s@b",
        .envid = "not this",
        .envid_xtext = "QQ+2B1",
        .ret = QATTR_RET_HDRS,
        .forwarded_from = "1B6MV0P9TQ87KX",
        .valias_expanded = true,
        .rcpt = rcpt,
        .nrcpt = 2,
    };
    struct buf got, want;
    write_file(&e, "Delivered-To: o@b\r\n", 19, &got);
    buf_init(&want, BUF_UNBOUNDED);
    forge(&want, QREC_SENDER, "s@b");
    forge(&want, QREC_ATTR, "envid=QQ+2B1");
    forge(&want, QREC_ATTR, "ret=HDRS");
    forge(&want, QREC_ATTR, "forwarded_from=1B6MV0P9TQ87KX");
    forge(&want, QREC_ATTR, "valias_expanded=yes");
    forge(&want, QREC_RECIPIENT, "x@a");
    forge(&want, QREC_RCPT_NOTIFY, "2");
    forge(&want, QREC_RCPT_ORCPT, "rfc822;o@b");
    forge(&want, QREC_RECIPIENT, "y@a");
    forge(&want, QREC_RCPT_NOTIFY, "2");
    forge(&want, QREC_RCPT_ORCPT, "rfc822;o@b");
    forge(&want, QREC_CONTENT, "Delivered-To: o@b\r\n");
    expect_records(&got, &want);
    /* the strict reader takes the whole file and finds the DSN values */
    struct qfile_envelope env;
    parse_written(&got, &env);
    ck_assert_str_eq(env.sender, "s@b");
    ck_assert_str_eq(env.envid, "QQ+2B1");
    ck_assert_str_eq(env.ret, "HDRS");
    ck_assert(env.valias_expanded);
    ck_assert_str_eq(env.body, "");
    ck_assert(!env.smtputf8);
    ck_assert_uint_eq(env.nrcpt, 2);
    buf_free(&got);
    buf_free(&want);
}
END_TEST

/* A notice: the sender and one recipient, no attribute at all. */
START_TEST(notice_envelope)
{
    const struct qenvelope_rcpt to = { .address = "s@b" };
    const struct qenvelope e = { .sender = "", .rcpt = &to, .nrcpt = 1 };
    struct buf got, want;
    write_file(&e, "x", 1, &got);
    buf_init(&want, BUF_UNBOUNDED);
    forge(&want, QREC_SENDER, "");
    forge(&want, QREC_RECIPIENT, "s@b");
    forge(&want, QREC_CONTENT, "x");
    expect_records(&got, &want);
    buf_free(&got);
    buf_free(&want);
}
END_TEST

/* An attribute too large for a record fails the envelope, and the error sticks. */
START_TEST(bad_values_fail_the_file)
{
    struct qfile *q = qfile_create();
    ck_assert_ptr_nonnull(q);
    char *big = malloc(QREC_DATA_MAX + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'a', QREC_DATA_MAX);
    big[QREC_DATA_MAX] = '\0';
    const struct qenvelope e = { .sender = "", .helo = big };
    ck_assert_int_eq(qfile_put_envelope(q, &e), -1);
    ck_assert_int_eq(errno, EMSGSIZE);
    ck_assert_int_eq(qfile_finish(q), -1);
    free(big);
    qfile_abort(q);
}
END_TEST

/* Content goes in records of at most QFILE_CONTENT_CHUNK bytes; nothing for no content. */
START_TEST(content_in_chunks)
{
    size_t n = 2 * QFILE_CONTENT_CHUNK + 1000;
    char *data = malloc(n);
    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    struct qfile *q = qfile_create();
    ck_assert_ptr_nonnull(q);
    const struct qenvelope e = { .sender = "" };
    ck_assert_int_eq(qfile_put_envelope(q, &e), 0);
    ck_assert_int_eq(qfile_put_content(q, data, 0), 0);
    ck_assert_int_eq(qfile_put_content(q, data, n), 0);
    ck_assert_int_eq(qfile_put_content(q, "\r\n", 2), 0);
    ck_assert_int_eq(qfile_finish(q), 0);
    ck_assert_int_eq(qfile_commit_sync(q), 0);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    struct qfile_envelope env;
    ck_assert_int_eq(qfile_read(qfile_path(q), 1 << 24, &b, &env, NULL, 0), 0);
    qfile_free(q);
    static const size_t sizes[] = { QFILE_CONTENT_CHUNK, QFILE_CONTENT_CHUNK, 1000, 2 };
    size_t pos = env.content_offset, len, off = 0;
    int type;
    const char *rec;
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(qrec_get(b.data, b.len, &pos, &type, &rec, &len), 1);
        ck_assert_int_eq(type, QREC_CONTENT);
        ck_assert_uint_eq(len, sizes[i]);
        ck_assert(memcmp(rec, i < 3 ? data + off : "\r\n", len) == 0);
        off += len;
    }
    ck_assert_int_eq(qrec_get(b.data, b.len, &pos, &type, &rec, &len), 1);
    ck_assert_int_eq(type, QREC_END);
    buf_free(&b);
    free(data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("qenvelope");
    TCase *tc = tcase_create("writer");
    tcase_add_checked_fixture(tc, queue_setup, queue_teardown);
    tcase_add_test(tc, smtpd_envelope);
    tcase_add_test(tc, pickup_envelope);
    tcase_add_test(tc, forwarded_envelope);
    tcase_add_test(tc, longest_envid_survives);
    tcase_add_test(tc, notice_envelope);
    tcase_add_test(tc, bad_values_fail_the_file);
    tcase_add_test(tc, content_in_chunks);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
