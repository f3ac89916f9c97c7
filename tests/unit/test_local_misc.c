/* test_local_misc.c: unit tests of the local agent's small pure parts: the Delivered-To: loop
 * check and the prepended header lines (mail/header.c), the sysexits meaning of a
 * command's exit (exitcode.c), and the checks on a delivery child's report (report.c). */
#include <check.h>
#include <string.h>
#include <sys/wait.h>
#include "exitcode.h"
#include "header.h"
#include "report.h"
#include "unit.h"

static bool has(const char *msg, const char *rcpt)
{
    return header_has_delivered_to(msg, strlen(msg), rcpt);
}

START_TEST(delivered_to_loop)
{
    const char *msg = "Received: from x\r\n"
                      "delivered-to: Joe@MX.example\r\n"
                      "Delivered-To:\r\n"
                      " <list@mx.example>\r\n"
                      "Subject: hi\r\n"
                      "\r\n"
                      "Delivered-To: body@mx.example\r\n";
    ck_assert(has(msg, "joe@mx.example"));
    ck_assert(has(msg, "list@mx.example"));          /* folded, in <> */
    ck_assert(!has(msg, "body@mx.example"));         /* the body is not the header */
    ck_assert(!has(msg, "jo@mx.example"));
    ck_assert(!has(msg, "joe@mx.example.org"));
    ck_assert(has("Delivered-To: a@b\nX: y\n\n", "a@b"));   /* LF ends */
    ck_assert(has("Delivered-To: a@b", "a@b"));              /* no end at all */
    ck_assert(!has("X-Delivered-To: a@b\r\n\r\n", "a@b"));
    ck_assert(!has("", "a@b"));
}
END_TEST

/* the virtual agent's cases: folding, case, line ends, bounds */
START_TEST(delivered_to_edges)
{
    const char *a = "alice@virt.example";
    ck_assert(has("Subject: x\r\nDelivered-To: alice@virt.example\r\n\r\nbody\r\n", a));
    ck_assert(has("DELIVERED-TO:   Alice@Virt.Example  \r\n\r\n", a));
    ck_assert(has("Delivered-To:\r\n alice@virt.example\r\nSubject: y\r\n\r\n", a));
    ck_assert(has("Delivered-To: alice@virt.example", a));          /* no line end at all */
    ck_assert(has("Subject: x\nDelivered-To: alice@virt.example\n\nbody\n", a));
    ck_assert(has("Delivered-To: bob@virt.example\r\nDelivered-To: alice@virt.example\r\n"
                   "\r\n", a));
    ck_assert(!has("Delivered-To: bob@virt.example\r\n\r\n", a));
    ck_assert(!has("Delivered-To: alice@virt.example.org\r\n\r\n", a));
    ck_assert(!has("X-Delivered-To: alice@virt.example\r\n\r\n", a));
    ck_assert(!has("Subject: x\r\n\r\nDelivered-To: alice@virt.example\r\n", a));
    ck_assert(!has("Subject: x\r\n Delivered-To: alice@virt.example\r\n\r\n", a));
    ck_assert(!has("Delivered-To: alice@virt.\r\n example\r\n\r\n", a));
    ck_assert(!has("", a));
    /* the header as smtpd and pickup read it: white space before the colon is still the
     * field; the header ends at the first line that is no field, too */
    ck_assert(has("Delivered-To : alice@virt.example\r\n\r\n", a));
    ck_assert(!has("Subject: x\r\nno field\r\nDelivered-To: alice@virt.example\r\n\r\n", a));
    ck_assert(!has(" Delivered-To: alice@virt.example\r\n\r\n", a));
    /* a huge folded value is no match and no overflow */
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_puts(&b, "Delivered-To: alice@virt.example\r\n");
    for (int i = 0; i < 200; i++)
        buf_puts(&b, " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n");
    buf_puts(&b, "\r\n");
    ck_assert(!header_has_delivered_to(b.data, b.len, a));
    buf_free(&b);
}
END_TEST

START_TEST(prepended_lines)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    ck_assert_int_eq(header_prepend(&b, "s@x.org", "Joe+Ext@MX.example", "Orig@MX.example"), 0);
    ck_assert_str_eq(b.data, "Return-Path: <s@x.org>\n"
                             "Delivered-To: joe+ext@mx.example\n"
                             "X-Original-To: Orig@MX.example\n");
    buf_reset(&b);
    ck_assert_int_eq(header_prepend(&b, "", "a\r\nBcc: x@y", "o"), 0);
    ck_assert_str_eq(b.data, "Return-Path: <>\nDelivered-To: a??bcc: x@y\nX-Original-To: o\n");
    buf_free(&b);
    struct buf small;
    buf_init(&small, 20);
    ck_assert_int_eq(header_prepend(&small, "s", "r", "o"), -1);
    ck_assert_uint_eq(small.len, 0);
    buf_free(&small);
}
END_TEST

START_TEST(line_ends)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    const char *in = "a\r\nb\rc\r\n\r\nd\r";
    ck_assert_int_eq(text_to_lf(in, strlen(in), &b), 0);
    ck_assert_str_eq(b.data, "a\nb\rc\n\nd\r");
    buf_free(&b);
    char s[] = "one\ntwo\x01\x7f";
    text_printable(s);
    ck_assert_str_eq(s, "one two  ");
}
END_TEST

static void check_exit(int code, enum delivery_status st, const char *dsn)
{
    struct exit_meaning m;
    exitcode_meaning(code << 8, &m);   /* a wait status for exit(code) */
    ck_assert_msg(m.status == st, "exit %d: status %d", code, m.status);
    ck_assert_str_eq(m.dsn, dsn);
}

START_TEST(sysexits)
{
    ck_assert(WIFEXITED(67 << 8) && WEXITSTATUS(67 << 8) == 67);
    check_exit(0, DELIVERY_SENT, "2.0.0");
    check_exit(64, DELIVERY_BOUNCE, "5.3.0");
    check_exit(65, DELIVERY_BOUNCE, "5.6.0");
    check_exit(66, DELIVERY_BOUNCE, "5.3.0");
    check_exit(67, DELIVERY_BOUNCE, "5.1.1");
    check_exit(68, DELIVERY_BOUNCE, "5.1.2");
    check_exit(69, DELIVERY_BOUNCE, "5.3.0");
    check_exit(70, DELIVERY_BOUNCE, "5.3.0");
    check_exit(71, DELIVERY_DEFER, "4.3.0");
    check_exit(72, DELIVERY_BOUNCE, "5.3.0");
    check_exit(73, DELIVERY_BOUNCE, "5.2.0");
    check_exit(74, DELIVERY_DEFER, "4.3.0");
    check_exit(75, DELIVERY_DEFER, "4.3.0");
    check_exit(76, DELIVERY_BOUNCE, "5.5.0");
    check_exit(77, DELIVERY_BOUNCE, "5.7.1");
    check_exit(78, DELIVERY_BOUNCE, "5.3.5");
    check_exit(1, DELIVERY_BOUNCE, "5.3.0");
    check_exit(126, DELIVERY_BOUNCE, "5.3.0");
    struct exit_meaning m;
    exitcode_meaning(67 << 8, &m);
    ck_assert_str_eq(m.text, "user unknown");
    exitcode_meaning(9, &m);   /* killed by SIGKILL */
    ck_assert(m.status == DELIVERY_DEFER);
    ck_assert_str_eq(m.dsn, "4.3.0");
}
END_TEST

START_TEST(reports)
{
    struct ipc_msg r;
    struct outcome o;
    ipc_msg_init(&r);
    delivery_report_set(&r, DELIVERY_BOUNCE, "5.1.1", "x-unix; no\nsuch", "unknown %s", "joe");
    ck_assert_int_eq(report_get(&r, &o), 0);
    ck_assert(o.status == DELIVERY_BOUNCE);
    ck_assert_str_eq(o.dsn, "5.1.1");
    ck_assert_str_eq(o.text, "unknown joe");
    ck_assert_str_eq(o.diag, "x-unix; no such");
    ipc_msg_clear(&r);
    /* a child's report whose code does not fit its status, or an unknown status, is refused */
    ipc_add(&r, "status", "sent");
    ipc_add(&r, "dsn", "5.1.1");
    ipc_add(&r, "text", "x");
    ck_assert_int_eq(report_get(&r, &o), -1);
    ipc_msg_clear(&r);
    ipc_add(&r, "status", "maybe");
    ipc_add(&r, "dsn", "2.0.0");
    ipc_add(&r, "text", "x");
    ck_assert_int_eq(report_get(&r, &o), -1);
    ipc_msg_clear(&r);
    ipc_add(&r, "status", "defer");
    ipc_add(&r, "dsn", "4.3.0");
    ck_assert_int_eq(report_get(&r, &o), -1);   /* no text */
    ipc_msg_free(&r);
    ck_assert(delivery_dsn_valid("4.3.0", DELIVERY_DEFER));
    ck_assert(delivery_dsn_valid("5.123.456", DELIVERY_BOUNCE));
    ck_assert(!delivery_dsn_valid("5.1234.1", DELIVERY_BOUNCE));
    ck_assert(!delivery_dsn_valid("5.1.", DELIVERY_BOUNCE));
    ck_assert(!delivery_dsn_valid("5.1.1 ", DELIVERY_BOUNCE));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("local_misc");
    TCase *tc = tcase_create("local_misc");
    tcase_add_test(tc, delivered_to_loop);
    tcase_add_test(tc, delivered_to_edges);
    tcase_add_test(tc, prepended_lines);
    tcase_add_test(tc, line_ends);
    tcase_add_test(tc, sysexits);
    tcase_add_test(tc, reports);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
