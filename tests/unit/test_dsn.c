/* test_dsn.c: unit tests of delivery/bounce/dsn.c: the notice's header and MIME structure,
 * the per-recipient delivery-status fields filtered by kind, RET=HDRS, the size cut, record
 * texts that try to inject lines, the output bound, the postmaster copy, the ENVID and
 * Will-Retry-Until fields, and the choice of records (NOTIFY, last record per recipient). */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "dsn.h"
#include "qfile.h"
#include "unit.h"

static const char original[] =
    "From: a@example.org\r\nTo: b@example.net\r\nSubject: hello\r\n\r\n"
    "first body line\r\nsecond body line\r\nthird body line\r\n";

static struct status_record recs[3];

static void fill(struct status_record *r, const char *rcpt, const char *action,
                 const char *status, const char *diag)
{
    memset(r, 0, sizeof *r);
    snprintf(r->recipient, sizeof r->recipient, "%s", rcpt);
    snprintf(r->action, sizeof r->action, "%s", action);
    snprintf(r->status, sizeof r->status, "%s", status);
    snprintf(r->diagnostic, sizeof r->diagnostic, "%s", diag);
    snprintf(r->reason, sizeof r->reason, "reason for %s", rcpt);
    r->when = 1700000100;
}

static struct dsn_message base(void)
{
    fill(&recs[0], "x@example.net", "failed", "5.1.1", "smtp; 550 5.1.1 unknown user");
    snprintf(recs[0].orig_recipient, sizeof recs[0].orig_recipient, "orig-x@example.net");
    snprintf(recs[0].remote_mta, sizeof recs[0].remote_mta, "dns; mx.example.net");
    fill(&recs[1], "y@example.net", "delayed", "4.4.1", "");
    fill(&recs[2], "z@example.net", "failed", "5.2.2", "smtp; 552 mailbox full");
    struct dsn_message m = {
        .kind = DSN_FAILURE, .reporting_mta = "mail.example.org", .queue_id = "4Q1AbC",
        .envid = "ENV123", .sender = "a@example.org", .arrival = 1700000000,
        .records = recs, .nrecords = 3, .original = original,
        .original_len = sizeof original - 1, .headers_only = false, .size_limit = 50000,
        .boundary = "4Q1AbC.1700000200/mail.example.org", .now = 1700000200,
        .message_id = "<20231114221640.4Q1AbC@mail.example.org>",
    };
    return m;
}

static char *format(const struct dsn_message *m, struct buf *b)
{
    buf_init(b, BUF_UNBOUNDED);
    ck_assert_int_eq(dsn_format(m, b), 0);
    return b->data;
}

/* Number of lines of text equal to line. */
static int count_lines(const char *text, const char *line)
{
    int n = 0;
    size_t len = strlen(line);
    for (const char *p = text; p && *p;) {
        const char *e = strstr(p, "\r\n");
        if (e == NULL)
            break;
        if ((size_t)(e - p) == len && memcmp(p, line, len) == 0)
            n++;
        p = e + 2;
    }
    return n;
}

/* Whether line is one whole line of text. */
static bool has_line(const char *text, const char *line)
{
    return count_lines(text, line) > 0;
}

/* Every LF is preceded by CR, and every CR followed by LF. */
static void crlf_only(const char *t)
{
    for (size_t i = 0; t[i]; i++) {
        if (t[i] == '\n')
            ck_assert(i > 0 && t[i - 1] == '\r');
        if (t[i] == '\r')
            ck_assert(t[i + 1] == '\n');
    }
}

START_TEST(header_and_structure)
{
    struct dsn_message m = base();
    struct buf b;
    const char *t = format(&m, &b);
    crlf_only(t);
    ck_assert(strncmp(t, "Date: Tue, 14 Nov 2023 22:16:40 +0000\r\n", 39) == 0);
    ck_assert(has_line(t, "From: Mail Delivery System <MAILER-DAEMON@mail.example.org>"));
    ck_assert(has_line(t, "To: <a@example.org>"));
    ck_assert(has_line(t, "Subject: Undelivered Mail Returned to Sender"));
    ck_assert(has_line(t, "Auto-Submitted: auto-replied"));
    ck_assert(has_line(t, "Message-ID: <20231114221640.4Q1AbC@mail.example.org>"));
    ck_assert(has_line(t, "MIME-Version: 1.0"));
    ck_assert_ptr_nonnull(strstr(t, "Content-Type: multipart/report; report-type=delivery-status;"
                                    "\r\n\tboundary=\"4Q1AbC.1700000200/mail.example.org\"\r\n"));
    /* the header ends before the first boundary */
    const char *end = strstr(t, "\r\n\r\n");
    const char *first = strstr(t, "\r\n--4Q1AbC");
    ck_assert(end && first && end < first);
    ck_assert_int_eq(count_lines(t, "--4Q1AbC.1700000200/mail.example.org"), 3);
    ck_assert_int_eq(count_lines(t, "--4Q1AbC.1700000200/mail.example.org--"), 1);
    int starts = 0;
    for (const char *p = t; (p = strstr(p, "\r\n--4Q1AbC")) != NULL; p++)
        starts++;
    ck_assert_int_eq(starts, 4);
    size_t blen = strlen("--4Q1AbC.1700000200/mail.example.org--\r\n");
    ck_assert_str_eq(t + b.len - blen, "--4Q1AbC.1700000200/mail.example.org--\r\n");
    ck_assert_ptr_nonnull(strstr(t, "Content-Type: text/plain"));
    ck_assert_ptr_nonnull(strstr(t, "Content-Type: message/delivery-status\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "Content-Type: message/rfc822\r\n"));
    ck_assert(has_line(t, "This is the mail system at host mail.example.org."));
    /* the whole original comes back */
    ck_assert_ptr_nonnull(strstr(t, original));
    buf_free(&b);
}
END_TEST

START_TEST(delivery_status_fields)
{
    struct dsn_message m = base();
    struct buf b;
    const char *t = format(&m, &b);
    ck_assert(has_line(t, "Reporting-MTA: dns; mail.example.org"));
    ck_assert(has_line(t, "X-Tern-Queue-ID: 4Q1AbC"));
    ck_assert(has_line(t, "Original-Envelope-Id: ENV123"));
    ck_assert(has_line(t, "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000"));
    ck_assert(has_line(t, "<x@example.net>: reason for x@example.net"));
    ck_assert(has_line(t, "<z@example.net>: reason for z@example.net"));
    /* x's block, in order, preceded by a blank line */
    ck_assert_ptr_nonnull(strstr(t, "\r\n\r\nFinal-Recipient: rfc822; x@example.net\r\n"
                                    "Original-Recipient: rfc822; orig-x@example.net\r\n"
                                    "Action: failed\r\nStatus: 5.1.1\r\n"
                                    "Remote-MTA: dns; mx.example.net\r\n"
                                    "Diagnostic-Code: smtp; 550 5.1.1 unknown user\r\n"
                                    "Last-Attempt-Date: Tue, 14 Nov 2023 22:15:00 +0000\r\n"));
    ck_assert_ptr_nonnull(strstr(t, "\r\n\r\nFinal-Recipient: rfc822; z@example.net\r\n"
                                    "Action: failed\r\nStatus: 5.2.2\r\n"
                                    "Diagnostic-Code: smtp; 552 mailbox full\r\n"));
    /* the delayed recipient is not in a failure notice */
    ck_assert_ptr_null(strstr(t, "y@example.net"));
    ck_assert_int_eq(count_lines(t, "Action: failed"), 2);
    buf_free(&b);

    /* a delay notice has only it, and no envid field without an envid */
    m.kind = DSN_DELAY;
    m.envid = NULL;
    t = format(&m, &b);
    ck_assert(has_line(t, "Subject: Delayed Mail (still being retried)"));
    ck_assert(has_line(t, "Final-Recipient: rfc822; y@example.net"));
    ck_assert(has_line(t, "Action: delayed"));
    ck_assert(has_line(t, "Status: 4.4.1"));
    ck_assert_ptr_null(strstr(t, "x@example.net"));
    ck_assert_ptr_null(strstr(t, "Original-Envelope-Id"));
    ck_assert_ptr_null(strstr(t, "Diagnostic-Code"));
    buf_free(&b);

    /* a success notice takes delivered, relayed and expanded */
    snprintf(recs[0].action, sizeof recs[0].action, "delivered");
    snprintf(recs[1].action, sizeof recs[1].action, "relayed");
    snprintf(recs[2].action, sizeof recs[2].action, "expanded");
    m.kind = DSN_SUCCESS;
    t = format(&m, &b);
    ck_assert(has_line(t, "Subject: Successful Mail Delivery Report"));
    ck_assert_int_eq(count_lines(t, "Action: delivered") + count_lines(t, "Action: relayed")
                     + count_lines(t, "Action: expanded"), 3);
    buf_free(&b);
}
END_TEST

START_TEST(headers_only)
{
    struct dsn_message m = base();
    m.headers_only = true;
    struct buf b;
    const char *t = format(&m, &b);
    ck_assert_ptr_nonnull(strstr(t, "Content-Type: text/rfc822-headers\r\n"));
    ck_assert_ptr_null(strstr(t, "message/rfc822"));
    ck_assert_ptr_nonnull(strstr(t, "\r\nSubject: hello\r\n\r\n--4Q1AbC"));
    ck_assert_ptr_null(strstr(t, "body line"));
    buf_free(&b);
    /* a body that starts without an empty line is not returned either */
    static const char no_blank[] = "From: a@example.org\r\nSubject: hello\r\n"
                                   "body line\r\n\r\nmore body\r\n";
    m.original = no_blank;
    m.original_len = sizeof no_blank - 1;
    t = format(&m, &b);
    ck_assert_ptr_nonnull(strstr(t, "\r\nSubject: hello\r\n\r\n--4Q1AbC"));
    ck_assert_ptr_null(strstr(t, "body line"));
    buf_free(&b);
}
END_TEST

START_TEST(size_cut_at_line)
{
    struct dsn_message m = base();
    /* the limit falls inside "second body line" */
    const char *second = strstr(original, "second");
    m.size_limit = (size_t)(second - original) + 5;
    struct buf b;
    const char *t = format(&m, &b);
    ck_assert_ptr_nonnull(strstr(t, "\r\nfirst body line\r\n\r\n--4Q1AbC"));
    ck_assert_ptr_null(strstr(t, "second"));
    ck_assert_int_eq(count_lines(t, "--4Q1AbC.1700000200/mail.example.org--"), 1);
    buf_free(&b);
    /* an original without a final line end still gets one, and bare LFs become CRLF */
    static const char lf[] = "Subject: x\n\nbody\nlast";
    m.original = lf;
    m.original_len = sizeof lf - 1;
    m.size_limit = 50000;
    t = format(&m, &b);
    crlf_only(t);
    ck_assert_ptr_nonnull(strstr(t, "\r\nSubject: x\r\n\r\nbody\r\nlast\r\n\r\n--4Q1AbC"));
    buf_free(&b);
}
END_TEST

START_TEST(no_injection)
{
    struct dsn_message m = base();
    snprintf(recs[0].diagnostic, sizeof recs[0].diagnostic,
             "smtp; 550 x\r\nAction: delivered\r\n\r\n--4Q1AbC.1700000200/mail.example.org--\n"
             "Bcc: victim@example.com\r");
    snprintf(recs[2].reason, sizeof recs[2].reason, "bad\nSubject: forged\r\n.\r\n");
    snprintf(recs[2].recipient, sizeof recs[2].recipient,
             "z@example.net\r\nFinal-Recipient: rfc822; forged@x");
    /* a long diagnostic is folded, never one line past 998 */
    char *d = recs[2].diagnostic;
    memset(d, 'w', sizeof recs[2].diagnostic - 1);
    d[sizeof recs[2].diagnostic - 1] = '\0';
    memcpy(d, "smtp; 552 ", 10);
    for (size_t i = 100; i < sizeof recs[2].diagnostic - 1; i += 50)
        d[i] = i > 1200 ? 'w' : ' ';
    struct buf b;
    const char *t = format(&m, &b);
    crlf_only(t);
    ck_assert(!has_line(t, "Action: delivered"));
    ck_assert(!has_line(t, "Bcc: victim@example.com"));
    ck_assert(!has_line(t, "Subject: forged"));
    ck_assert_int_eq(count_lines(t, "--4Q1AbC.1700000200/mail.example.org--"), 1);
    ck_assert_int_eq(count_lines(t, "--4Q1AbC.1700000200/mail.example.org"), 3);
    ck_assert_ptr_null(strstr(t, "\r\nFinal-Recipient: rfc822; forged@x"));
    ck_assert_int_eq(count_lines(t, "Action: failed"), 2);
    ck_assert_ptr_nonnull(strstr(t, "Diagnostic-Code: smtp; 550 x  Action: delivered"));
    /* every line stays within RFC 5322 length: long texts are folded */
    for (const char *p = t, *e; (e = strstr(p, "\r\n")) != NULL; p = e + 2)
        ck_assert_int_le(e - p, 998);
    buf_free(&b);
}
END_TEST

START_TEST(output_bound)
{
    struct dsn_message m = base();
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    ck_assert_int_eq(dsn_format(&m, &b), 0);
    size_t need = b.len;
    buf_free(&b);
    buf_init(&b, need - 1);
    ck_assert_int_eq(buf_puts(&b, "kept"), 0);
    ck_assert_int_eq(dsn_format(&m, &b), -1);
    ck_assert_str_eq(b.data, "kept");
    buf_free(&b);
    buf_init(&b, 100);
    ck_assert_int_eq(dsn_format(&m, &b), -1);
    buf_free(&b);
    buf_init(&b, need);
    ck_assert_int_eq(dsn_format(&m, &b), 0);
    ck_assert_uint_eq(b.len, need);
    buf_free(&b);
}
END_TEST

START_TEST(postmaster_copy)
{
    struct dsn_message m = base();
    m.sender = "";
    m.notice_to = "postmaster@mail.example.org";
    m.postmaster_copy = true;
    struct buf b;
    const char *t = format(&m, &b);
    crlf_only(t);
    ck_assert(has_line(t, "To: <postmaster@mail.example.org>"));
    ck_assert(has_line(t, "Subject: Postmaster Copy: Undelivered Mail"));
    ck_assert(has_line(t, "Postmaster copy: undeliverable notice."));
    ck_assert(has_line(t, "Auto-Submitted: auto-replied"));
    ck_assert(has_line(t, "Action: failed"));
    ck_assert_ptr_nonnull(strstr(t, original));
    buf_free(&b);
    /* notice_to alone changes only To: */
    m = base();
    m.notice_to = "other@example.org";
    t = format(&m, &b);
    ck_assert(has_line(t, "To: <other@example.org>"));
    ck_assert(has_line(t, "Subject: Undelivered Mail Returned to Sender"));
    ck_assert_ptr_null(strstr(t, "Postmaster"));
    buf_free(&b);
}
END_TEST

START_TEST(envid_decoded)
{
    static const struct { const char *xtext, *shown; } cases[] = {
        { "ENV123", "ENV123" },
        { "A+2BB+3DC", "A+B=C" },           /* +XX escapes */
        { "x+20y", "x y" },
        { "bad+ZZ", "bad+ZZ" },             /* not xtext: shown as queued */
        { "cut+4", "cut+4" },
        { "low+2b", "low+2b" },             /* hex digits are upper case */
        { "ctl+0AInjected: x", "ctl+0AInjected: x" },   /* decodes to a control character */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dsn_message m = base();
        m.envid = cases[i].xtext;
        struct buf b;
        const char *t = format(&m, &b);
        char want[128];
        snprintf(want, sizeof want, "Original-Envelope-Id: %s", cases[i].shown);
        ck_assert_msg(has_line(t, want), "%s", want);
        ck_assert(!has_line(t, "Injected: x"));
        buf_free(&b);
    }
    /* an empty ENVID gives no field */
    struct dsn_message m = base();
    m.envid = "";
    struct buf b;
    const char *t = format(&m, &b);
    ck_assert_ptr_null(strstr(t, "Original-Envelope-Id"));
    buf_free(&b);
}
END_TEST

START_TEST(will_retry_until)
{
    struct dsn_message m = base();
    m.kind = DSN_DELAY;
    m.will_retry_until = 1700432000;   /* arrival + 5 days */
    struct buf b;
    const char *t = format(&m, &b);
    ck_assert_ptr_nonnull(strstr(t, "Action: delayed\r\nStatus: 4.4.1\r\n"
                                    "Last-Attempt-Date: Tue, 14 Nov 2023 22:15:00 +0000\r\n"
                                    "Will-Retry-Until: Sun, 19 Nov 2023 22:13:20 +0000\r\n"));
    buf_free(&b);
    /* only in delay notices */
    m.kind = DSN_FAILURE;
    t = format(&m, &b);
    ck_assert_ptr_null(strstr(t, "Will-Retry-Until"));
    buf_free(&b);
    m.kind = DSN_DELAY;
    m.will_retry_until = 0;
    t = format(&m, &b);
    ck_assert_ptr_null(strstr(t, "Will-Retry-Until"));
    buf_free(&b);
}
END_TEST

static struct status_record rec(const char *rcpt, const char *action, unsigned notify)
{
    struct status_record r;
    fill(&r, rcpt, action, "5.0.0", "");
    r.notify = notify;
    return r;
}

START_TEST(wanted_by_notify)
{
    struct status_record r = rec("a@x", "failed", 0);
    ck_assert(dsn_wanted(DSN_FAILURE, &r));
    ck_assert(!dsn_wanted(DSN_DELAY, &r));      /* the action must fit the kind */
    ck_assert(!dsn_wanted(DSN_SUCCESS, &r));
    r.notify = NOTIFY_FAILURE | NOTIFY_DELAY;
    ck_assert(dsn_wanted(DSN_FAILURE, &r));
    r.notify = NOTIFY_SUCCESS;
    ck_assert(!dsn_wanted(DSN_FAILURE, &r));
    r.notify = NOTIFY_DELAY;
    ck_assert(!dsn_wanted(DSN_FAILURE, &r));
    r.notify = NOTIFY_NEVER;
    ck_assert(!dsn_wanted(DSN_FAILURE, &r));
    r.notify = NOTIFY_NEVER | NOTIFY_FAILURE;   /* malformed, but NEVER wins */
    ck_assert(!dsn_wanted(DSN_FAILURE, &r));

    r = rec("a@x", "delayed", 0);
    ck_assert(dsn_wanted(DSN_DELAY, &r));
    ck_assert(!dsn_wanted(DSN_FAILURE, &r));
    r.notify = NOTIFY_DELAY;
    ck_assert(dsn_wanted(DSN_DELAY, &r));
    r.notify = NOTIFY_FAILURE;
    ck_assert(!dsn_wanted(DSN_DELAY, &r));
    r.notify = NOTIFY_NEVER;
    ck_assert(!dsn_wanted(DSN_DELAY, &r));

    static const char *const ok[] = { "delivered", "relayed", "expanded" };
    for (size_t i = 0; i < 3; i++) {
        r = rec("a@x", ok[i], 0);
        ck_assert(!dsn_wanted(DSN_SUCCESS, &r));  /* success only when asked for */
        r.notify = NOTIFY_SUCCESS | NOTIFY_FAILURE;
        ck_assert(dsn_wanted(DSN_SUCCESS, &r));
        r.notify = NOTIFY_FAILURE;
        ck_assert(!dsn_wanted(DSN_SUCCESS, &r));
        ck_assert(!dsn_wanted(DSN_FAILURE, &r));
    }
    r = rec("a@x", "bogus", 0);
    ck_assert(!dsn_wanted(DSN_FAILURE, &r));
}
END_TEST

START_TEST(records_last_per_recipient)
{
    struct dsn_records s;
    dsn_records_init(&s, 3);
    struct status_record r = rec("a@x", "delayed", 0);
    snprintf(r.reason, sizeof r.reason, "first a");
    ck_assert_int_eq(dsn_records_add(&s, DSN_DELAY, &r), 1);
    r = rec("b@x", "delayed", NOTIFY_FAILURE);   /* does not ask for a delay notice */
    ck_assert_int_eq(dsn_records_add(&s, DSN_DELAY, &r), 0);
    r = rec("c@x", "delayed", NOTIFY_DELAY);
    ck_assert_int_eq(dsn_records_add(&s, DSN_DELAY, &r), 1);
    r = rec("a@x", "delayed", 0);
    snprintf(r.reason, sizeof r.reason, "second a");
    ck_assert_int_eq(dsn_records_add(&s, DSN_DELAY, &r), 1);
    r = rec("d@x", "delayed", 0);
    ck_assert_int_eq(dsn_records_add(&s, DSN_DELAY, &r), 1);
    /* full: a new recipient is dropped and counted, a known one still replaced */
    r = rec("e@x", "delayed", 0);
    ck_assert_int_eq(dsn_records_add(&s, DSN_DELAY, &r), -1);
    r = rec("c@x", "delayed", 0);
    snprintf(r.reason, sizeof r.reason, "second c");
    ck_assert_int_eq(dsn_records_add(&s, DSN_DELAY, &r), 1);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_uint_eq(s.dropped, 1);
    ck_assert_str_eq(s.r[0].recipient, "a@x");
    ck_assert_str_eq(s.r[0].reason, "second a");
    ck_assert_str_eq(s.r[1].recipient, "c@x");
    ck_assert_str_eq(s.r[1].reason, "second c");
    ck_assert_str_eq(s.r[2].recipient, "d@x");
    dsn_records_free(&s);

    /* many recipients, each logged several times: one record each, the last */
    dsn_records_init(&s, 1000);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 1000; i++) {
            char a[48];
            snprintf(a, sizeof a, "user%d@example.org", i);
            r = rec(a, "failed", 0);
            r.when = round;
            ck_assert_int_eq(dsn_records_add(&s, DSN_FAILURE, &r), 1);
        }
    ck_assert_uint_eq(s.n, 1000);
    ck_assert_uint_eq(s.dropped, 0);
    for (size_t i = 0; i < s.n; i++) {
        char a[48];
        snprintf(a, sizeof a, "user%zu@example.org", i);
        ck_assert_str_eq(s.r[i].recipient, a);
        ck_assert_int_eq((int)s.r[i].when, 2);
    }
    dsn_records_free(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dsn");
    TCase *t = tcase_create("format");
    tcase_add_test(t, header_and_structure);
    tcase_add_test(t, delivery_status_fields);
    tcase_add_test(t, headers_only);
    tcase_add_test(t, size_cut_at_line);
    tcase_add_test(t, no_injection);
    tcase_add_test(t, output_bound);
    tcase_add_test(t, postmaster_copy);
    tcase_add_test(t, envid_decoded);
    tcase_add_test(t, will_retry_until);
    tcase_add_test(t, wanted_by_notify);
    tcase_add_test(t, records_last_per_recipient);
    suite_add_tcase(s, t);
    return unit_run(s);
}
