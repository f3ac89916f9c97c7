/* test_header.c: unit tests of the mail layer's header scanner (mail/header_scanner.c): which
 * lines are fields (obsolete white space before the colon, 8-bit and control bytes in names),
 * folding, CRLF and LF, the three ways a header ends, the names that matter, the size held
 * against header_size_limit, that any split into feeds gives what one feed gives, the field
 * iterator's extents, unfolding and the hopcount_limit rule. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "header_scanner.h"
#include "unit.h"

static const char *const id_text[] = {
    "other", "received", "date", "message-id", "from", "sender", "to", "cc", "bcc",
    "delivered-to", "mime-version", "content-type", "content-transfer-encoding",
};
static const char *const end_text[] = { "?", "blank", "body", "input" };

/* The fields of text[0..len) as the iterator gives them, "{name|the field's bytes}" each, then
 * how the header ended and the body: "blank:BODY", "body:BODY" or "input". Checks on the way
 * what each field says of itself. */
static const char *fields_of(const char *text, size_t len)
{
    static struct buf out;
    buf_free(&out);
    buf_init(&out, BUF_UNBOUNDED);
    struct header_fields it;
    struct header_field f;
    size_t expect_start = 0;
    header_fields_init(&it, text, len);
    while (header_fields_next(&it, &f)) {
        /* fields follow each other from the start; each is name, white space, colon, value */
        ck_assert_uint_eq(f.start, expect_start);
        ck_assert(f.name_len > 0 && f.start + f.name_len < f.value && f.value <= f.end);
        ck_assert(f.end <= len && text[f.value - 1] == ':');
        for (size_t i = f.start + f.name_len; i + 1 < f.value; i++)
            ck_assert(text[i] == ' ' || text[i] == '\t');
        ck_assert_int_eq(f.name, header_name_of(text + f.start, f.name_len));
        expect_start = f.end;
        buf_printf(&out, "{%s|", id_text[f.name]);
        buf_append(&out, text + f.start, f.end - f.start);
        buf_puts(&out, "}");
    }
    ck_assert(!header_fields_next(&it, &f));   /* and stays at the end */
    const struct header_scanner *s = &it.scan;
    ck_assert_uint_eq(s->end, expect_start);
    ck_assert(s->end <= s->body && s->body <= len);
    buf_puts(&out, end_text[s->ended_by]);
    if (s->ended_by != HEADER_END_INPUT) {
        buf_puts(&out, ":");
        buf_append(&out, text + s->body, len - s->body);
    } else {
        ck_assert_uint_eq(s->body, len);
    }
    return buf_str(&out);
}

static const char *fields(const char *text)
{
    return fields_of(text, strlen(text));
}

/* The events of a scan of text[0..len) fed in the pieces that cut[] marks (offsets, rising;
 * ncut of them), then finished, as text. */
static void events_of(const char *text, size_t len, const size_t *cut, size_t ncut,
                      struct buf *out)
{
    struct header_scanner s;
    header_scanner_init(&s);
    size_t pos = 0;
    for (size_t k = 0; k <= ncut; k++) {
        size_t to = k < ncut ? cut[k] : len;
        while (pos < to) {
            size_t used;
            struct header_field f;
            enum header_event ev = header_scanner_feed(&s, text + pos, to - pos, &used, &f);
            ck_assert_uint_le(used, to - pos);
            ck_assert_uint_le(header_scanner_size(&s), s.offset);
            pos += used;
            if (ev == HEADER_EV_FIELD)
                buf_printf(out, "F%d@%zu,%zu,%zu ", (int)f.name, f.start, f.name_len, f.value);
            else if (ev == HEADER_EV_END)
                goto done;
            else
                ck_assert_uint_eq(pos, to);
        }
    }
    ck_assert_int_eq(header_scanner_finish(&s), HEADER_EV_END);
done:
    ck_assert_uint_eq(s.offset, pos);
    buf_printf(out, "E%d@%zu,%zu", (int)s.ended_by, s.end, s.body);
}

/* Fed whole, fed byte by byte, and split in two at every position: the same events. */
static void check_incremental(const char *text, size_t len)
{
    struct buf whole, part;
    buf_init(&whole, BUF_UNBOUNDED);
    buf_init(&part, BUF_UNBOUNDED);
    events_of(text, len, NULL, 0, &whole);
    size_t *every = malloc((len + 1) * sizeof *every);
    ck_assert_ptr_nonnull(every);
    for (size_t i = 0; i < len; i++)
        every[i] = i + 1;
    events_of(text, len, every, len, &part);
    ck_assert_str_eq(buf_str(&part), buf_str(&whole));
    for (size_t k = 0; k <= len; k++) {
        buf_reset(&part);
        events_of(text, len, &k, 1, &part);
        ck_assert_msg(strcmp(buf_str(&part), buf_str(&whole)) == 0, "split at %zu: %s != %s",
                      k, buf_str(&part), buf_str(&whole));
    }
    free(every);
    buf_free(&whole);
    buf_free(&part);
}

static const struct field_case {
    const char *in;
    const char *out;
} field_cases[] = {
    /* folded fields, CRLF */
    { "Subject: s\r\n\tmore\r\n folded\r\nTo: a@x\r\n\r\nbody\r\n",
      "{other|Subject: s\r\n\tmore\r\n folded\r\n}{to|To: a@x\r\n}blank:body\r\n" },
    /* LF line ends */
    { "Subject: s\n\tmore\nTo: a@x\n\nbody\n",
      "{other|Subject: s\n\tmore\n}{to|To: a@x\n}blank:body\n" },
    /* a line of white space only continues the field */
    { "To: a\r\n \r\n\r\n", "{to|To: a\r\n \r\n}blank:" },
    /* no empty line: the header is all of the input */
    { "Subject: s\r\nReceived: r\r\n", "{other|Subject: s\r\n}{received|Received: r\r\n}input" },
    { "Subject: s", "{other|Subject: s}input" },
    { "To: a\r\n\tb", "{to|To: a\r\n\tb}input" },
    { "", "input" },
    /* the body starts at the first line that is not a field, without an empty line */
    { "Subject: s\r\nnot a field\r\nX: y\r\n",
      "{other|Subject: s\r\n}body:not a field\r\nX: y\r\n" },
    { "Subject: s\r\nnot-a-field-either\r\n", "{other|Subject: s\r\n}body:not-a-field-either\r\n" },
    { "Subject: s\r\nnoend", "{other|Subject: s\r\n}body:noend" },
    { "Sub ject: x\r\n", "body:Sub ject: x\r\n" },
    { ":no name\r\n", "body::no name\r\n" },
    /* obsolete syntax (RFC 5322 4.5.3): white space before the colon */
    { "Received : a\r\nreceived\t:b\r\nFrom  \t : c\r\n\r\n",
      "{received|Received : a\r\n}{received|received\t:b\r\n}{from|From  \t : c\r\n}blank:" },
    { "Received ", "body:Received " },
    /* the first line cannot be a continuation: the body starts there */
    { " x: y\r\nTo: a\r\n\r\n", "body: x: y\r\nTo: a\r\n\r\n" },
    { "\tx\r\n", "body:\tx\r\n" },
    /* 8-bit, control and NUL bytes in a name: not a field */
    { "Subj\xc3\xa9" "ct: x\r\n\r\n", "body:Subj\xc3\xa9" "ct: x\r\n\r\n" },
    { "To: a\r\n\xe9: x\r\n", "{to|To: a\r\n}body:\xe9: x\r\n" },
    { "Sub\x01ject: x\r\n", "body:Sub\x01ject: x\r\n" },
    { "Sub\x7fject: x\r\n", "body:Sub\x7fject: x\r\n" },
    /* 8-bit in a value is the value's business */
    { "Subject: \xc3\xa9\r\n\r\n", "{other|Subject: \xc3\xa9\r\n}blank:" },
    /* empty lines: CRLF, LF; a line starting with a CR that is not empty is body */
    { "\r\nbody", "blank:body" },
    { "\nbody", "blank:body" },
    { "X: y\r\n\rZ\r\n", "{other|X: y\r\n}body:\rZ\r\n" },
    { "X: y\r\n\r\r\n", "{other|X: y\r\n}body:\r\r\n" },
    /* a lone CR at the end of the input: an empty line without its LF */
    { "X: y\r\n\r", "{other|X: y\r\n}blank:" },
    /* a bare CR inside a line is just a byte of it */
    { "X: a\rb\r\n\r\n", "{other|X: a\rb\r\n}blank:" },
    /* the names that matter, in any case; near misses are other names */
    { "RECEIVED: 1\r\nX-Received: 2\r\nReceivedX: 3\r\nReceive: 4\r\n\r\n",
      "{received|RECEIVED: 1\r\n}{other|X-Received: 2\r\n}{other|ReceivedX: 3\r\n}"
      "{other|Receive: 4\r\n}blank:" },
    { "date: 1\r\nMessage-Id: 2\r\nfROM: 3\r\nSender: 4\r\nTO: 5\r\ncc: 6\r\nBcc: 7\r\n"
      "Delivered-To: 8\r\nMime-Version: 9\r\nContent-type: 10\r\n"
      "content-transfer-encoding: 11\r\n\r\n",
      "{date|date: 1\r\n}{message-id|Message-Id: 2\r\n}{from|fROM: 3\r\n}{sender|Sender: 4\r\n}"
      "{to|TO: 5\r\n}{cc|cc: 6\r\n}{bcc|Bcc: 7\r\n}{delivered-to|Delivered-To: 8\r\n}"
      "{mime-version|Mime-Version: 9\r\n}{content-type|Content-type: 10\r\n}"
      "{content-transfer-encoding|content-transfer-encoding: 11\r\n}blank:" },
    /* the body is not the header */
    { "X: y\r\n\r\nReceived: r\r\n", "{other|X: y\r\n}blank:Received: r\r\n" },
};

START_TEST(field_table)
{
    const struct field_case *c = &field_cases[_i];
    const char *got = fields(c->in);
    ck_assert_msg(strcmp(got, c->out) == 0, "case %d:\n got %s\nwant %s", _i, got, c->out);
    check_incremental(c->in, strlen(c->in));
}
END_TEST

START_TEST(nul_in_name_and_value)
{
    static const char with_nul[] = "Sub\0ject: x\r\n";
    ck_assert_str_eq(fields_of(with_nul, sizeof with_nul - 1), "body:Sub");
    static const char in_value[] = "X: a\0b\r\n\r\n";
    struct header_fields it;
    struct header_field f;
    header_fields_init(&it, in_value, sizeof in_value - 1);
    ck_assert(header_fields_next(&it, &f));
    ck_assert_uint_eq(f.end, 8);
    ck_assert(!header_fields_next(&it, &f));
    ck_assert_int_eq(it.scan.ended_by, HEADER_END_BLANK);
    check_incremental(with_nul, sizeof with_nul - 1);
    check_incremental(in_value, sizeof in_value - 1);
}
END_TEST

/* Long lines cost nothing: a huge value, a huge name, a name longer than the kept part. */
START_TEST(very_long_lines)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_puts(&b, "Received: ");
    for (int i = 0; i < 200000; i++)
        buf_putc(&b, 'v');
    buf_puts(&b, "\r\n");
    for (int i = 0; i < 100000; i++)
        buf_putc(&b, 'N');
    buf_puts(&b, ": x\r\nreceivedreceivedreceivedreceivedreceived: y\r\n\r\nbody");
    struct header_fields it;
    struct header_field f;
    header_fields_init(&it, b.data, b.len);
    ck_assert(header_fields_next(&it, &f));
    ck_assert_int_eq(f.name, HEADER_RECEIVED);
    ck_assert_uint_eq(f.end, 200012);
    ck_assert(header_fields_next(&it, &f));
    ck_assert_int_eq(f.name, HEADER_OTHER);
    ck_assert_uint_eq(f.name_len, 100000);
    ck_assert(header_fields_next(&it, &f));
    ck_assert_int_eq(f.name, HEADER_OTHER);
    ck_assert_uint_eq(f.name_len, 40);
    ck_assert(!header_fields_next(&it, &f));
    ck_assert_int_eq(it.scan.ended_by, HEADER_END_BLANK);
    ck_assert_str_eq(b.data + it.scan.body, "body");
    buf_free(&b);
}
END_TEST

/* Any two feeds, and byte by byte, give the events one feed gives, on a header with all the
 * line kinds. */
START_TEST(incremental_equals_whole)
{
    static const char *const texts[] = {
        "Received: from a\r\n\tby b; date\r\nReceived : x\r\nDate: d\r\nMessage-ID: <m>\r\n"
        "To: a,\r\n b\r\nBcc: c\r\n\r\nbody\r\nReceived: no\r\n",
        "From: a\nDate: d\n\tmore\nReceived: r\n\nbody",
        "Subject: s\r\nX-Long:" "                                                          "
        "\r\nnot a field: really\r\n",
        "A:\r\nB :\r\nC\t:\r\n\r",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        check_incremental(texts[i], strlen(texts[i]));
}
END_TEST

/* The bytes held against header_size_limit while the header streams in: the lines that are,
 * or may still be, fields; a line starting with CR never is one. */
START_TEST(size_while_streaming)
{
    struct header_scanner s;
    struct header_field f;
    size_t used;
    header_scanner_init(&s);
    ck_assert_int_eq(header_scanner_feed(&s, "Subject", 7, &used, &f), HEADER_EV_MORE);
    ck_assert_uint_eq(header_scanner_size(&s), 7);
    ck_assert_int_eq(header_scanner_feed(&s, " :", 2, &used, &f), HEADER_EV_FIELD);
    ck_assert_uint_eq(used, 2);
    ck_assert_int_eq(header_scanner_feed(&s, " abc\r\n", 6, &used, &f), HEADER_EV_MORE);
    ck_assert_uint_eq(header_scanner_size(&s), 15);
    ck_assert_int_eq(header_scanner_feed(&s, "\r", 1, &used, &f), HEADER_EV_MORE);
    ck_assert_uint_eq(header_scanner_size(&s), 15);   /* the CR is not counted */
    ck_assert_int_eq(header_scanner_feed(&s, "\nbody", 5, &used, &f), HEADER_EV_END);
    ck_assert_uint_eq(used, 1);   /* the LF of the empty line; none of the body */
    ck_assert_uint_eq(header_scanner_size(&s), 15);
    ck_assert_uint_eq(s.body, 17);
    /* after the end nothing more is taken */
    ck_assert_int_eq(header_scanner_feed(&s, "more", 4, &used, &f), HEADER_EV_END);
    ck_assert_uint_eq(used, 0);
    /* a line that turns out to be body leaves the size at the line's start */
    header_scanner_init(&s);
    ck_assert_int_eq(header_scanner_feed(&s, "X: y\r\n", 6, &used, &f), HEADER_EV_FIELD);
    ck_assert_int_eq(header_scanner_feed(&s, " y\r\n", 4, &used, &f), HEADER_EV_MORE);
    ck_assert_int_eq(header_scanner_feed(&s, "hello ", 6, &used, &f), HEADER_EV_MORE);
    ck_assert_uint_eq(header_scanner_size(&s), 12);   /* "hello " may still be "hello :" */
    ck_assert_int_eq(header_scanner_feed(&s, "world", 5, &used, &f), HEADER_EV_END);
    ck_assert_uint_eq(used, 0);
    ck_assert_uint_eq(header_scanner_size(&s), 6);
    ck_assert_int_eq(s.ended_by, HEADER_END_BODY);
}
END_TEST

START_TEST(names)
{
    ck_assert_int_eq(header_name_of("Received", 8), HEADER_RECEIVED);
    ck_assert_int_eq(header_name_of("rEcEiVeD", 8), HEADER_RECEIVED);
    ck_assert_int_eq(header_name_of("Received", 7), HEADER_OTHER);
    ck_assert_int_eq(header_name_of("Delivered-To", 12), HEADER_DELIVERED_TO);
    ck_assert_int_eq(header_name_of("CONTENT-TRANSFER-ENCODING", 25),
                     HEADER_CONTENT_TRANSFER_ENCODING);
    ck_assert_int_eq(header_name_of("Content-Transfer-Encodings", 26), HEADER_OTHER);
    ck_assert_int_eq(header_name_of("bcc", 3), HEADER_BCC);
    ck_assert_int_eq(header_name_of("", 0), HEADER_OTHER);
    char long_name[100];
    memset(long_name, 'a', sizeof long_name);
    ck_assert_int_eq(header_name_of(long_name, sizeof long_name), HEADER_OTHER);
}
END_TEST

START_TEST(unfold)
{
    char out[64];
    const char *v = " a,\r\n\tb,\r\n c\r\n";
    ck_assert_uint_eq(header_unfold(v, strlen(v), out, sizeof out), 8);
    ck_assert_str_eq(out, " a,\tb, c");
    v = " a\n b\n";
    header_unfold(v, strlen(v), out, sizeof out);
    ck_assert_str_eq(out, " a b");
    v = " a\rb";   /* a CR that is not a line end stays */
    header_unfold(v, strlen(v), out, sizeof out);
    ck_assert_str_eq(out, " a\rb");
    v = "abcdef";
    ck_assert_uint_eq(header_unfold(v, strlen(v), out, 4), 3);
    ck_assert_str_eq(out, "abc");
    ck_assert_uint_eq(header_unfold(v, strlen(v), out, 1), 0);
    ck_assert_str_eq(out, "");
}
END_TEST

/* hopcount_limit: more Received: fields than the limit; 0 or less is no limit. */
START_TEST(hops)
{
    ck_assert(!header_too_many_hops(0, 50));
    ck_assert(!header_too_many_hops(50, 50));
    ck_assert(header_too_many_hops(51, 50));
    ck_assert(header_too_many_hops(4, 3));
    ck_assert(!header_too_many_hops(3, 3));
    ck_assert(!header_too_many_hops(1000, 0));
    ck_assert(!header_too_many_hops(1, -1));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("header");
    TCase *tc = tcase_create("header");
    tcase_add_loop_test(tc, field_table, 0, (int)(sizeof field_cases / sizeof field_cases[0]));
    tcase_add_test(tc, nul_in_name_and_value);
    tcase_add_test(tc, very_long_lines);
    tcase_add_test(tc, incremental_equals_whole);
    tcase_add_test(tc, size_while_streaming);
    tcase_add_test(tc, names);
    tcase_add_test(tc, unfold);
    tcase_add_test(tc, hops);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
