/* test_data.c: unit tests of smtpd/data.c, the DATA/BDAT content filter: the end of DATA only at
 * <CRLF>.<CRLF> (SMTP smuggling), dot-unstuffing, bare LF/CR, size and header limits, Received:
 * counting, and the Date:/Message-ID: added on submission. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "data.h"
#include "unit.h"

struct run {
    struct data_filter f;
    struct buf out;
    size_t consumed;
};

/* Feeds text in pieces of `step` bytes (0: all at once), the way a socket would deliver it. */
static void run_filter(struct run *r, const char *text, size_t step, bool bdat)
{
    data_filter_init(&r->f, bdat);
    buf_init(&r->out, 1 << 20);
    size_t n = strlen(text);
    r->consumed = 0;
    if (step == 0)
        step = n ? n : 1;
    while (r->consumed < n && !r->f.done) {
        size_t chunk = n - r->consumed < step ? n - r->consumed : step;
        size_t used = data_feed(&r->f, text + r->consumed, chunk, &r->out);
        r->consumed += used;
        if (used < chunk)
            break;
    }
}

START_TEST(end_marker_and_unstuffing)
{
    static const size_t steps[] = { 0, 1, 2, 3, 7 };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct run r;
        run_filter(&r, "Subject: x\r\n\r\nline\r\n..dot\r\n.\r\nQUIT\r\n", steps[i], false);
        ck_assert(r.f.done);
        ck_assert_str_eq(r.out.data, "Subject: x\r\n\r\nline\r\n.dot\r\n");
        /* not one byte past the end marker: QUIT stays for the command reader */
        ck_assert_uint_eq(r.consumed, strlen("Subject: x\r\n\r\nline\r\n..dot\r\n.\r\n"));
        ck_assert(!r.f.bare_newline);
        buf_free(&r.out);
    }
}
END_TEST

START_TEST(empty_message)
{
    struct run r;
    run_filter(&r, ".\r\n", 1, false);
    ck_assert(r.f.done);
    ck_assert_uint_eq(r.out.len, 0);
    buf_free(&r.out);
}
END_TEST

/* The smuggling sequences: none of them ends the message. */
START_TEST(bare_newlines_never_end_data)
{
    static const struct { const char *text; bool flagged; } tricks[] = {
        { "a\r\n\n.\r\nMAIL FROM:<x@y>\r\n", true },     /* <LF>.<CRLF> */
        { "a\r\n.\n", true },                             /* <CRLF>.<LF> */
        { "a\n.\n", true },                               /* <LF>.<LF> */
        { "a\r\n\r.\r\n", true },                         /* <CR>.<CRLF> */
        { "a\r\n.\rX", true },                            /* <CRLF>.<CR>X */
        { "a\r\n.\r", false },   /* <CRLF>.<CR>: the LF may still come, nothing is wrong yet */
        { "a\r.\r", true },
    };
    for (size_t i = 0; i < sizeof tricks / sizeof tricks[0]; i++) {
        struct run r;
        const char *t = tricks[i].text;
        run_filter(&r, t, 1, false);
        ck_assert_msg(!r.f.done, "trick %zu ended DATA", i);
        ck_assert_msg(r.f.bare_newline == tricks[i].flagged, "trick %zu flag", i);
        ck_assert_uint_eq(r.consumed, strlen(t));
        buf_free(&r.out);
    }
}
END_TEST

START_TEST(bare_newline_then_real_end)
{
    struct run r;
    run_filter(&r, "a\nb\rc\r\n.\r\n", 0, false);
    ck_assert(r.f.done);
    ck_assert(r.f.bare_newline);
    buf_free(&r.out);
    /* normalized when allowed */
    data_filter_init(&r.f, false);
    r.f.normalize_newlines = true;
    buf_init(&r.out, 1 << 20);
    const char *t = "a\nb\rc\r\n.\r\n";
    data_feed(&r.f, t, strlen(t), &r.out);
    ck_assert(r.f.done);
    ck_assert_str_eq(r.out.data, "a\r\nb\r\nc\r\n");
    buf_free(&r.out);
}
END_TEST

START_TEST(size_limit)
{
    struct run r;
    data_filter_init(&r.f, false);
    r.f.size_limit = 10;
    buf_init(&r.out, 1 << 20);
    const char *t = "0123456789abcdef\r\n.\r\n";
    size_t used = data_feed(&r.f, t, strlen(t), &r.out);
    ck_assert_uint_eq(used, strlen(t));
    ck_assert(r.f.done);
    ck_assert(r.f.too_big);
    ck_assert_uint_eq(r.f.size, 18);
    ck_assert_uint_le(r.out.len, 10);
    buf_free(&r.out);
}
END_TEST

START_TEST(header_limit_and_received)
{
    struct run r;
    run_filter(&r, "Received: a\r\nreceived: b\r\nRECEIVED: c\r\n\tcontinued\r\n"
                   "Subject: s\r\n\r\nReceived: in the body\r\n.\r\n", 5, false);
    ck_assert_int_eq(r.f.received, 3);
    ck_assert(!r.f.header_too_big);
    buf_free(&r.out);
    data_filter_init(&r.f, false);
    r.f.header_limit = 20;
    buf_init(&r.out, 1 << 20);
    const char *t = "Subject: a very long subject line\r\n\r\nbody\r\n.\r\n";
    data_feed(&r.f, t, strlen(t), &r.out);
    ck_assert(r.f.header_too_big);
    ck_assert(r.f.done);
    buf_free(&r.out);
}
END_TEST

static void run_with_added_headers(struct run *r, const char *text)
{
    data_filter_init(&r->f, false);
    r->f.date_header = "Date: D\r\n";
    r->f.msgid_header = "Message-ID: <M>\r\n";
    buf_init(&r->out, 1 << 20);
    data_feed(&r->f, text, strlen(text), &r->out);
    data_finish(&r->f, &r->out);
}

START_TEST(missing_headers_added)
{
    struct run r;
    run_with_added_headers(&r, "Subject: s\r\n\r\nbody\r\n.\r\n");
    ck_assert_str_eq(r.out.data, "Subject: s\r\nDate: D\r\nMessage-ID: <M>\r\n\r\nbody\r\n");
    buf_free(&r.out);
    run_with_added_headers(&r, "Date: x\r\nSubject: s\r\n\r\nbody\r\n.\r\n");
    ck_assert_str_eq(r.out.data, "Date: x\r\nSubject: s\r\nMessage-ID: <M>\r\n\r\nbody\r\n");
    buf_free(&r.out);
    run_with_added_headers(&r, "Date: x\r\nmessage-id: <y>\r\n\r\nb\r\n.\r\n");
    ck_assert_str_eq(r.out.data, "Date: x\r\nmessage-id: <y>\r\n\r\nb\r\n");
    buf_free(&r.out);
    /* a body without a header: the added lines and a blank line go first */
    run_with_added_headers(&r, "just text\r\n.\r\n");
    ck_assert_str_eq(r.out.data, "Date: D\r\nMessage-ID: <M>\r\n\r\njust text\r\n");
    buf_free(&r.out);
    /* a header that never ends (no body) */
    run_with_added_headers(&r, "Subject: s\r\n.\r\n");
    ck_assert_str_eq(r.out.data, "Subject: s\r\nDate: D\r\nMessage-ID: <M>\r\n");
    buf_free(&r.out);
}
END_TEST

/* The header as pickup reads it too (mail/header_scanner.c): white space before the colon is
 * still a field, so such a Received: counts; a first line starting with white space is body. */
START_TEST(header_rules_shared_with_pickup)
{
    static const size_t steps[] = { 0, 1, 3 };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct run r;
        run_filter(&r, "Received : a\r\nReceived\t: b\r\nX-Received: c\r\n\r\n"
                       "Received: body\r\n.\r\n", steps[i], false);
        ck_assert_int_eq(r.f.received, 2);
        ck_assert(!r.f.in_header);
        buf_free(&r.out);
    }
    struct run r;
    run_with_added_headers(&r, "Subject : s\r\n\r\nb\r\n.\r\n");
    ck_assert_str_eq(r.out.data, "Subject : s\r\nDate: D\r\nMessage-ID: <M>\r\n\r\nb\r\n");
    buf_free(&r.out);
    run_with_added_headers(&r, " folded: no field before\r\nDate: x\r\n.\r\n");
    ck_assert_str_eq(r.out.data, "Date: D\r\nMessage-ID: <M>\r\n\r\n"
                                 " folded: no field before\r\nDate: x\r\n");
    buf_free(&r.out);
}
END_TEST

/* header_size_limit counts the header's lines, not the empty line after them */
START_TEST(header_limit_is_exact)
{
    static const size_t steps[] = { 0, 1 };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct run r;
        data_filter_init(&r.f, false);
        r.f.header_limit = 20;
        buf_init(&r.out, 1 << 20);
        const char *t = "Subject: 123456789\r\n\r\nbody\r\n.\r\n";   /* 20 bytes of header */
        for (size_t k = 0; k < strlen(t); k += steps[i] ? steps[i] : strlen(t))
            data_feed(&r.f, t + k, steps[i] ? steps[i] : strlen(t), &r.out);
        ck_assert(r.f.done && !r.f.header_too_big);
        buf_free(&r.out);
        data_filter_init(&r.f, false);
        r.f.header_limit = 19;
        buf_init(&r.out, 1 << 20);
        data_feed(&r.f, t, strlen(t), &r.out);
        ck_assert(r.f.done && r.f.header_too_big);
        buf_free(&r.out);
    }
}
END_TEST

/* BDAT content given whole (the added Date: when date is set), as the filter stores it */
static void bdat_whole(const char *text, bool date, const char *want)
{
    struct run r;
    data_filter_init(&r.f, true);
    r.f.date_header = date ? "Date: D\r\n" : NULL;
    buf_init(&r.out, 1 << 20);
    data_feed(&r.f, text, strlen(text), &r.out);
    data_finish(&r.f, &r.out);
    ck_assert_str_eq(r.out.data, want);
    buf_free(&r.out);
}

/* BDAT content whose last line has no line end and is no field: the added lines go before it */
START_TEST(bdat_last_line_not_a_field)
{
    bdat_whole("Subject: s\r\nhello", true, "Subject: s\r\nDate: D\r\n\r\nhello");
}
END_TEST

/* BDAT content that is all header, its last field without a line end: the added lines start on
 * a line of their own; with nothing to add the content stays as it came */
START_TEST(bdat_header_only_without_line_end)
{
    bdat_whole("Subject: s", true, "Subject: s\r\nDate: D\r\n");
    bdat_whole("Subject: s", false, "Subject: s");
}
END_TEST

START_TEST(bdat_is_binary)
{
    struct run r;
    const char chunk[] = "Subject: b\r\n\r\n.\r\nline\n.\r\n";
    data_filter_init(&r.f, true);
    buf_init(&r.out, 1 << 20);
    size_t used = data_feed(&r.f, chunk, sizeof chunk - 1, &r.out);
    ck_assert_uint_eq(used, sizeof chunk - 1);
    ck_assert(!r.f.done);
    ck_assert(!r.f.bare_newline);
    ck_assert_uint_eq(r.out.len, sizeof chunk - 1);
    ck_assert(memcmp(r.out.data, chunk, sizeof chunk - 1) == 0);
    buf_free(&r.out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("data");
    tcase_add_test(tc, end_marker_and_unstuffing);
    tcase_add_test(tc, empty_message);
    tcase_add_test(tc, bare_newlines_never_end_data);
    tcase_add_test(tc, bare_newline_then_real_end);
    tcase_add_test(tc, size_limit);
    tcase_add_test(tc, header_limit_and_received);
    tcase_add_test(tc, missing_headers_added);
    tcase_add_test(tc, header_rules_shared_with_pickup);
    tcase_add_test(tc, header_limit_is_exact);
    tcase_add_test(tc, bdat_last_line_not_a_field);
    tcase_add_test(tc, bdat_header_only_without_line_end);
    tcase_add_test(tc, bdat_is_binary);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
