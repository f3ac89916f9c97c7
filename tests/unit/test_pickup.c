/* test_pickup.c: unit tests of pickup's pure parts: the RFC 5322 address-list parser
 * (mail/addrlist.c) that sendmail -t and the recipient arguments go through, and the header
 * scan and rewrite (pickup/header_edit.c): where the header ends, which fields it has, Bcc: removed,
 * To:/Cc:/Bcc: values handed out. */
#include <check.h>
#include <string.h>
#include "addrlist.h"
#include "buf.h"
#include "header_edit.h"
#include "unit.h"

struct collected {
    char text[4096];   /* addresses joined by '|', bad ones as "!" */
};

static int collect(const char *addr, int bad, void *arg)
{
    struct collected *c = arg;
    size_t n = strlen(c->text);
    snprintf(c->text + n, sizeof c->text - n, "%s%s", n ? "|" : "", bad ? "!" : addr);
    return 0;
}

static const char *parse(const char *text, int *count)
{
    static struct collected c;
    memset(&c, 0, sizeof c);
    *count = addrlist_parse(text, strlen(text), collect, &c);
    return c.text;
}

START_TEST(address_lists)
{
    static const struct { const char *in, *out; int n; } cases[] = {
        { "a@x", "a@x", 1 },
        { "  a@x  ,b@y", "a@x|b@y", 2 },
        { "Alice <a@x>, \"Bob, Jr.\" <b@y>", "a@x|b@y", 2 },
        { "a@x (Alice, the first), b@y", "a@x|b@y", 2 },
        { "friends: a@x, B <b@y>;, c@z", "a@x|b@y|c@z", 3 },
        { "undisclosed-recipients:;", "", 0 },
        { "\"john doe\"@x", "\"john doe\"@x", 1 },
        { "<@r1,@r2:u@x>", "u@x", 1 },
        { "user", "user", 1 },
        { ", ,", "", 0 },
        { "Name (comment (nested)) <a@x>", "a@x", 1 },
        { "a@x,\r\n\tb@y", "a@x|b@y", 2 },
        { "\"quoted \\\" quote\" <q@x>", "q@x", 1 },
        { "a\001b@x", "!", 1 },
        { "\"a\tb\"@x", "\"a\tb\"@x", 1 },          /* white space in quotes is kept */
        { "<a@x> b@y", "!", 1 },                        /* a missing comma is not guessed */
        { "<a@x> (just a comment), b@y", "a@x|b@y", 2 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n;
        const char *got = parse(cases[i].in, &n);
        ck_assert_msg(strcmp(got, cases[i].out) == 0, "%s -> %s", cases[i].in, got);
        ck_assert_int_eq(n, cases[i].n);
    }
}
END_TEST

START_TEST(address_too_long)
{
    char text[ADDRLIST_ADDR_MAX + 64];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    text[10] = '@';
    int n;
    ck_assert_str_eq(parse(text, &n), "!");
}
END_TEST

static int stop_at_first(const char *addr, int bad, void *arg)
{
    (void)addr;
    (void)bad;
    (*(int *)arg)++;
    return 1;
}

START_TEST(callback_stops)
{
    int calls = 0;
    ck_assert_int_eq(addrlist_parse("a@x, b@y", 8, stop_at_first, &calls), -1);
    ck_assert_int_eq(calls, 1);
}
END_TEST

START_TEST(header_scan_cases)
{
    struct header_info hi;
    const char *m = "From: a@x\r\nTo: b@y\r\n\r\nbody\r\n";
    header_scan(m, strlen(m), &hi);
    ck_assert(hi.complete && hi.blank_line && hi.has_from && !hi.has_date && !hi.has_msgid);
    ck_assert_int_eq(hi.header_len, strlen("From: a@x\r\nTo: b@y\r\n\r\n"));

    m = "Subject: s\r\nDate: d\r\nmessage-ID: <m>\r\nReceived: r\r\nthis is body\r\n";
    header_scan(m, strlen(m), &hi);
    ck_assert(hi.complete && !hi.blank_line && !hi.has_from && hi.has_date && hi.has_msgid);
    ck_assert_int_eq(hi.received, 1);
    ck_assert_int_eq(hi.header_len, strlen("Subject: s\r\nDate: d\r\nmessage-ID: <m>\r\nReceived: r\r\n"));

    m = "Subject: s\r\n\tfolded\r\nTo: b";   /* unfinished: more content needed */
    header_scan(m, strlen(m), &hi);
    ck_assert(!hi.complete);
    ck_assert_int_eq(hi.header_len, strlen("Subject: s\r\n\tfolded\r\n"));

    m = " starts with a space\r\n";
    header_scan(m, strlen(m), &hi);
    ck_assert(hi.complete && hi.header_len == 0);

    m = "Subject : spaced\r\nBcc: x@y\r\n\r\nb\r\n";   /* obsolete syntax: still a field */
    header_scan(m, strlen(m), &hi);
    ck_assert(hi.complete && hi.blank_line);
    ck_assert_int_eq(hi.header_len, strlen("Subject : spaced\r\nBcc: x@y\r\n\r\n"));

    /* scanning on as content grows gives what one scan of the whole gives */
    const char *whole = "From: a\r\nDate: d\r\n\tmore\r\nReceived: r\r\n\r\nbody";
    struct header_info step;
    memset(&step, 0, sizeof step);
    for (size_t n = 0; n <= strlen(whole); n++)
        header_scan_more(whole, n, &step);
    header_scan(whole, strlen(whole), &hi);
    ck_assert(step.complete && step.has_from && step.has_date && step.received == 1);
    ck_assert_int_eq(step.header_len, hi.header_len);

    m = "\r\nbody only\r\n";
    header_scan(m, strlen(m), &hi);
    ck_assert(hi.complete && hi.blank_line && hi.header_len == 2);
}
END_TEST

/* The fields counted are those of whole lines, all within header_len, so a header cut there
 * (header_size_limit) keeps every field it counted; the rules are smtpd's (one scanner). */
START_TEST(header_scan_whole_lines)
{
    struct header_info hi;
    const char *m = "Received : a\r\nReceived: b\r\n\tc\r\nReceived: d";
    header_scan(m, strlen(m), &hi);
    ck_assert(!hi.complete);
    ck_assert_int_eq(hi.received, 2);
    ck_assert_int_eq(hi.header_len, strlen("Received : a\r\nReceived: b\r\n\tc\r\n"));
    /* the rest of the line comes: now it counts */
    const char *more = "Received : a\r\nReceived: b\r\n\tc\r\nReceived: d\r\n\r\nx";
    header_scan_more(more, strlen(more), &hi);
    ck_assert(hi.complete && hi.blank_line);
    ck_assert_int_eq(hi.received, 3);
    ck_assert_int_eq(hi.header_len, strlen(more) - 1);
    /* 8-bit bytes in a name: not a field, the body starts there */
    m = "From: a\r\nT\xf6: b\r\n\r\n";
    header_scan(m, strlen(m), &hi);
    ck_assert(hi.complete && !hi.blank_line && hi.has_from);
    ck_assert_int_eq(hi.header_len, strlen("From: a\r\n"));
}
END_TEST

static void joined(const char *value, size_t len, void *arg)
{
    struct buf *b = arg;
    buf_append(b, "[", 1);
    buf_append(b, value, len);
    buf_append(b, "]", 1);
}

START_TEST(header_rewrite_removes_bcc)
{
    const char *m = "To: a@x,\r\n b@y\r\nBcc: secret@z,\r\n\tother@z\r\nCC: c@w\r\n"
                    "bcc : s2@z\r\nSubject: hi\r\n\r\nBcc: in the body stays\r\n";
    struct header_info hi;
    header_scan(m, strlen(m), &hi);
    struct buf out, values;
    buf_init(&out, BUF_UNBOUNDED);
    buf_init(&values, BUF_UNBOUNDED);
    ck_assert_int_eq(header_rewrite(m, &hi, true, &out, joined, &values), 0);
    ck_assert_str_eq(buf_str(&out), "To: a@x,\r\n b@y\r\nCC: c@w\r\nSubject: hi\r\n");
    ck_assert_str_eq(buf_str(&values),
                     "[ a@x,\r\n b@y\r\n][ secret@z,\r\n\tother@z\r\n][ c@w\r\n][ s2@z\r\n]");
    /* without extract no values, Bcc: still removed */
    buf_reset(&out);
    buf_reset(&values);
    ck_assert_int_eq(header_rewrite(m, &hi, false, &out, joined, &values), 0);
    ck_assert_int_eq(values.len, 0);
    ck_assert(strstr(buf_str(&out), "secret") == NULL);
    /* out may be NULL when only the recipients are wanted */
    ck_assert_int_eq(header_rewrite(m, &hi, true, NULL, joined, &values), 0);
    ck_assert(strstr(buf_str(&values), "s2@z") != NULL);
    buf_free(&out);
    buf_free(&values);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pickup");
    TCase *tc = tcase_create("pickup");
    tcase_add_test(tc, address_lists);
    tcase_add_test(tc, address_too_long);
    tcase_add_test(tc, callback_stops);
    tcase_add_test(tc, header_scan_cases);
    tcase_add_test(tc, header_scan_whole_lines);
    tcase_add_test(tc, header_rewrite_removes_bcc);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
