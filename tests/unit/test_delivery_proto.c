/* test_delivery_proto.c: unit tests of mail/delivery_proto.c: a request, a reply and a step's
 * report survive encoding and decoding; the decoders refuse what does not fit the conversation
 * (bad queue IDs, missing or extra results, status codes that contradict the status, unknown
 * attributes, forward lists on recipients not sent, oversized values, control characters in a
 * report's texts). */
#include <check.h>
#include <string.h>
#include "delivery_proto.h"
#include "ipc_proto.h"
#include "unit.h"

static const char *id = "25X0DRV018JCYF0D";

START_TEST(request_round_trip)
{
    struct delivery_rcpt rc[2] = { { "a@x.example", "", 0 },
                                   { "b@x.example", "orig@y.example", NOTIFY_SUCCESS } };
    struct delivery_request r = { .nrcpt = 2, .rcpt = rc };
    strcpy(r.queue_id, id);
    strcpy(r.nexthop, "x.example");
    struct ipc_msg m;
    ipc_msg_init(&m);
    ck_assert_int_eq(delivery_request_encode(&r, &m), 0);
    struct delivery_request got;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_msg(delivery_request_decode(&m, &got, why, sizeof why) == 0, "%s", why);
    ck_assert_str_eq(got.queue_id, id);
    ck_assert_str_eq(got.nexthop, "x.example");
    ck_assert_uint_eq(got.nrcpt, 2);
    ck_assert_str_eq(got.rcpt[1].address, "b@x.example");
    ck_assert_str_eq(got.rcpt[1].orig, "orig@y.example");
    ck_assert_uint_eq(got.rcpt[1].notify, NOTIFY_SUCCESS);
    delivery_request_free(&got);
    ipc_msg_free(&m);
}
END_TEST

/* A message built attribute by attribute: attrs holds name, value pairs, then NULL. */
static void msg_of(const char *const *attrs, struct ipc_msg *m)
{
    ipc_msg_init(m);
    for (size_t i = 0; attrs[i]; i += 2)
        ipc_add(m, attrs[i], attrs[i + 1]);
}

/* A request built attribute by attribute must be refused. */
static void refuse_request(const char *const *attrs)
{
    struct ipc_msg m;
    msg_of(attrs, &m);
    struct delivery_request got;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(delivery_request_decode(&m, &got, why, sizeof why), -1);
    ck_assert_str_ne(why, "");
    ipc_msg_free(&m);
}

START_TEST(request_refusals)
{
    const char *bad_id[] = { "type", "deliver", "queue_id", "../active/x", "nexthop", "h",
                             "rcpt", "a@b", "rcpt_orig", "", "rcpt_notify", "0", NULL };
    refuse_request(bad_id);
    const char *no_rcpt[] = { "type", "deliver", "queue_id", id, "nexthop", "h", NULL };
    refuse_request(no_rcpt);
    const char *half[] = { "type", "deliver", "queue_id", id, "nexthop", "h", "rcpt", "a@b",
                           "rcpt_orig", "", NULL };
    refuse_request(half);
    const char *notify[] = { "type", "deliver", "queue_id", id, "nexthop", "h", "rcpt", "a@b",
                             "rcpt_orig", "", "rcpt_notify", "99", NULL };
    refuse_request(notify);
    const char *type[] = { "type", "bounce", "queue_id", id, "nexthop", "h", "rcpt", "a@b",
                           "rcpt_orig", "", "rcpt_notify", "0", NULL };
    refuse_request(type);
}
END_TEST

START_TEST(reply_round_trip)
{
    struct delivery_reply r;
    delivery_reply_init(&r, 3);
    delivery_result_set(&r, 0, DELIVERY_SENT, "2.0.0", "delivered to %s", "maildir");
    strcpy(r.result[0].relay, "local");
    delivery_result_set(&r, 1, DELIVERY_BOUNCE, "5.1.1", "unknown user: \"%s\"", "x");
    strcpy(r.result[1].diag, "x-unix; no such user");
    delivery_result_set(&r, 2, DELIVERY_SENT, "2.0.0", "aliased");
    strcpy(r.result[2].action, "expanded");
    strcpy(r.result[2].forward_sender, "owner-list@x.example");
    ck_assert_int_eq(delivery_result_forward(&r, 2, "p@x.example"), 0);
    ck_assert_int_eq(delivery_result_forward(&r, 2, "q@y.example"), 0);
    r.dead = true;
    struct ipc_msg m;
    ipc_msg_init(&m);
    ck_assert_int_eq(delivery_reply_encode(&r, &m), 0);
    delivery_reply_free(&r);

    struct delivery_reply got;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_msg(delivery_reply_decode(&m, 3, &got, why, sizeof why) == 0, "%s", why);
    ck_assert(got.dead);
    ck_assert_int_eq(got.result[0].status, DELIVERY_SENT);
    ck_assert_str_eq(got.result[0].text, "delivered to maildir");
    ck_assert_str_eq(got.result[0].relay, "local");
    ck_assert_int_eq(got.result[1].status, DELIVERY_BOUNCE);
    ck_assert_str_eq(got.result[1].dsn, "5.1.1");
    ck_assert_str_eq(got.result[1].diag, "x-unix; no such user");
    ck_assert_uint_eq(got.result[2].nforward, 2);
    ck_assert_str_eq(got.result[2].forward[1], "q@y.example");
    ck_assert_str_eq(got.result[2].forward_sender, "owner-list@x.example");
    ck_assert_str_eq(got.result[2].action, "expanded");
    delivery_reply_free(&got);
    /* the count must match the request's */
    ck_assert_int_eq(delivery_reply_decode(&m, 2, &got, why, sizeof why), -1);
    ck_assert_int_eq(delivery_reply_decode(&m, 4, &got, why, sizeof why), -1);
    ipc_msg_free(&m);
}
END_TEST

static void refuse_reply(const char *const *attrs)
{
    struct ipc_msg m;
    msg_of(attrs, &m);
    struct delivery_reply got;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(delivery_reply_decode(&m, 1, &got, why, sizeof why), -1);
    ck_assert_str_ne(why, "");
    ipc_msg_free(&m);
}

START_TEST(reply_refusals)
{
    const char *contradiction[] = { "status", "ok", "rcpt_status", "sent", "rcpt_dsn", "5.1.1",
                                    "rcpt_text", "x", NULL };
    refuse_reply(contradiction);
    const char *not_ok[] = { "status", "fail", "rcpt_status", "sent", "rcpt_dsn", "2.0.0", NULL };
    refuse_reply(not_ok);
    const char *unknown[] = { "status", "ok", "rcpt_status", "sent", "rcpt_dsn", "2.0.0",
                              "rcpt_shell", "x", NULL };
    refuse_reply(unknown);
    const char *bad_status[] = { "status", "ok", "rcpt_status", "maybe", "rcpt_dsn", "4.0.0",
                                 NULL };
    refuse_reply(bad_status);
    const char *bad_dsn[] = { "status", "ok", "rcpt_status", "defer", "rcpt_dsn", "4.x.1",
                              NULL };
    refuse_reply(bad_dsn);
    const char *forward_defer[] = { "status", "ok", "rcpt_status", "defer", "rcpt_dsn", "4.2.0",
                                    "rcpt_forward", "a@b", NULL };
    refuse_reply(forward_defer);
    const char *before[] = { "status", "ok", "rcpt_dsn", "2.0.0", "rcpt_status", "sent", NULL };
    refuse_reply(before);
    const char *none[] = { "status", "ok", NULL };
    refuse_reply(none);
    /* the default result of a reply nobody filled in is a deferral */
    struct delivery_reply r;
    delivery_reply_init(&r, 1);
    ck_assert_int_eq(r.result[0].status, DELIVERY_DEFER);
    ck_assert_str_eq(r.result[0].dsn, "4.3.0");
    delivery_reply_free(&r);
}
END_TEST

START_TEST(status_names)
{
    static const enum delivery_status all[] = { DELIVERY_SENT, DELIVERY_DEFER, DELIVERY_BOUNCE };
    static const char *const names[] = { "sent", "defer", "bounce" };
    for (size_t i = 0; i < 3; i++) {
        enum delivery_status st = i == 0 ? DELIVERY_BOUNCE : DELIVERY_SENT;
        ck_assert_str_eq(delivery_status_name(all[i]), names[i]);
        ck_assert_int_eq(delivery_status_parse(names[i], &st), 0);
        ck_assert_int_eq(st, all[i]);
    }
    enum delivery_status st = DELIVERY_DEFER;
    static const char *const bad[] = { "", "Sent", "sent ", "deferred", "bounc", "ok" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(delivery_status_parse(bad[i], &st), -1);
    ck_assert_int_eq(st, DELIVERY_DEFER);   /* untouched */
}
END_TEST

START_TEST(report_round_trip)
{
    struct ipc_msg r;
    ipc_msg_init(&r);
    enum delivery_status st;
    const char *dsn, *text, *diag;
    /* texts made one printable line; diag only when there is one */
    delivery_report_set(&r, DELIVERY_BOUNCE, "5.1.1", "x-unix; no\nsuch", "unknown %s\r", "joe");
    ck_assert_int_eq(r.count, 4);
    ck_assert_str_eq(r.attr[0].name, DELIVERY_REPORT_A_STATUS);
    ck_assert_str_eq(r.attr[0].value, "bounce");
    ck_assert_int_eq(delivery_report_get(&r, &st, &dsn, &text, &diag), 0);
    ck_assert_int_eq(st, DELIVERY_BOUNCE);
    ck_assert_str_eq(dsn, "5.1.1");
    ck_assert_str_eq(text, "unknown joe ");
    ck_assert_str_eq(diag, "x-unix; no such");
    ipc_msg_clear(&r);
    delivery_report_set(&r, DELIVERY_SENT, "2.0.0", "", "delivered to %s", "maildir");
    ck_assert_ptr_null(ipc_get(&r, DELIVERY_REPORT_A_DIAG));
    ipc_add(&r, "file", "/x/new/1");   /* a step's own attribute: the caller's to check */
    ck_assert_int_eq(delivery_report_get(&r, &st, &dsn, &text, &diag), 0);
    ck_assert_int_eq(st, DELIVERY_SENT);
    ck_assert_str_eq(text, "delivered to maildir");
    ck_assert_str_eq(diag, "");
    /* a text is cut to the bound */
    ipc_msg_clear(&r);
    char *longer = malloc(STATUSLOG_TEXT_MAX + 10);
    memset(longer, 'y', STATUSLOG_TEXT_MAX + 9);
    longer[STATUSLOG_TEXT_MAX + 9] = '\0';
    delivery_report_set(&r, DELIVERY_DEFER, "4.2.0", longer, "%s", longer);
    ck_assert_int_eq(delivery_report_get(&r, &st, &dsn, &text, &diag), 0);
    ck_assert_uint_eq(strlen(text), STATUSLOG_TEXT_MAX - 1);
    ck_assert_uint_eq(strlen(diag), STATUSLOG_TEXT_MAX - 1);
    free(longer);
    ipc_msg_free(&r);
}
END_TEST

/* A report built attribute by attribute (NULL-terminated name, value pairs) must be refused. */
static void refuse_report(const char *const *attrs)
{
    struct ipc_msg r;
    msg_of(attrs, &r);
    enum delivery_status st;
    const char *dsn, *text, *diag;
    ck_assert_int_eq(delivery_report_get(&r, &st, &dsn, &text, &diag), -1);
    ipc_msg_free(&r);
}

START_TEST(report_refusals)
{
    const char *no_status[] = { "dsn", "2.0.0", "text", "x", NULL };
    const char *no_dsn[] = { "status", "sent", "text", "x", NULL };
    const char *no_text[] = { "status", "defer", "dsn", "4.3.0", NULL };
    const char *unknown[] = { "status", "maybe", "dsn", "2.0.0", "text", "x", NULL };
    const char *contradiction[] = { "status", "sent", "dsn", "5.1.1", "text", "x", NULL };
    const char *bad_code[] = { "status", "defer", "dsn", "4.3", "text", "x", NULL };
    const char *newline[] = { "status", "defer", "dsn", "4.3.0", "text", "a\nb", NULL };
    const char *del[] = { "status", "defer", "dsn", "4.3.0", "text", "a\x7f", NULL };
    const char *diag_cr[] = { "status", "defer", "dsn", "4.3.0", "text", "a", "diag", "x\r",
                              NULL };
    refuse_report(no_status);
    refuse_report(no_dsn);
    refuse_report(no_text);
    refuse_report(unknown);
    refuse_report(contradiction);
    refuse_report(bad_code);
    refuse_report(newline);
    refuse_report(del);
    refuse_report(diag_cr);
    /* a text longer than any delivery_report_set makes */
    char *longer = malloc(STATUSLOG_TEXT_MAX + 1);
    memset(longer, 'y', STATUSLOG_TEXT_MAX);
    longer[STATUSLOG_TEXT_MAX] = '\0';
    const char *too_long[] = { "status", "defer", "dsn", "4.3.0", "text", longer, NULL };
    refuse_report(too_long);
    longer[STATUSLOG_TEXT_MAX - 1] = '\0';   /* the longest there can be */
    struct ipc_msg r;
    ipc_msg_init(&r);
    ipc_add(&r, "status", "defer");
    ipc_add(&r, "dsn", "4.3.0");
    ipc_add(&r, "text", longer);
    ipc_add(&r, "text", "a\nsecond text attribute is not read");
    enum delivery_status st;
    const char *dsn, *text, *diag;
    ck_assert_int_eq(delivery_report_get(&r, &st, &dsn, &text, &diag), 0);
    ipc_msg_free(&r);
    free(longer);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("delivery_proto");
    TCase *tc = tcase_create("delivery_proto");
    tcase_add_test(tc, request_round_trip);
    tcase_add_test(tc, request_refusals);
    tcase_add_test(tc, reply_round_trip);
    tcase_add_test(tc, reply_refusals);
    tcase_add_test(tc, status_names);
    tcase_add_test(tc, report_round_trip);
    tcase_add_test(tc, report_refusals);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
