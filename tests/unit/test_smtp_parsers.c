/* test_smtp_parsers.c: table-driven unit tests of the smtp client's pure parts: the reply
 * parser (single and multiline replies, enhanced status codes, bounds) and the EHLO
 * extensions (delivery/smtp/reply.c), next hops (nexthop.c) and the wire form of message
 * content (dotstuff.c). Lines are copied to exact-size heap buffers so a sanitizer build
 * catches any read past their length. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dotstuff.h"
#include "nexthop.h"
#include "reply.h"
#include "unit.h"

#define TABLE(tc, test, cases) \
    tcase_add_loop_test(tc, test, 0, (int)(sizeof cases / sizeof cases[0]))

/* Feeds the '\n'-separated lines of text ("" is one empty line); returns the last
 * reply_feed result. */
static int feed_all(struct reply_parser *p, const char *text, char *why, size_t whylen)
{
    int rc = REPLY_MORE;
    const char *s = text;
    do {
        size_t n = strcspn(s, "\n");
        char *line = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(line);
        memcpy(line, s, n);
        rc = reply_feed(p, line, n, why, whylen);
        free(line);
        if (rc == REPLY_ERROR)
            return rc;
        s += n + (s[n] == '\n');
    } while (*s);
    return rc;
}

/* ---- replies ---- */

static const struct reply_case {
    const char *in;            /* lines separated by \n */
    int rc;
    int code;
    const char *dsn;
    bool dsn_given;
    const char *text;
} reply_cases[] = {
    {"250 2.0.0 Ok: queued as X", REPLY_DONE, 250, "2.0.0", true, "250 2.0.0 Ok: queued as X"},
    {"250 Ok", REPLY_DONE, 250, "2.0.0", false, "250 Ok"},
    {"250", REPLY_DONE, 250, "2.0.0", false, "250"},
    {"550 5.1.1 <x@y>: Recipient address rejected", REPLY_DONE, 550, "5.1.1", true,
     "550 5.1.1 <x@y>: Recipient address rejected"},
    {"450 4.2.0 busy", REPLY_DONE, 450, "4.2.0", true, "450 4.2.0 busy"},
    {"554 no code", REPLY_DONE, 554, "5.0.0", false, "554 no code"},
    {"451 5.1.1 wrong class", REPLY_DONE, 451, "4.0.0", false, "451 5.1.1 wrong class"},
    {"550 5.1.1000 detail too long", REPLY_DONE, 550, "5.0.0", false,
     "550 5.1.1000 detail too long"},
    {"550 5.1.1x glued", REPLY_DONE, 550, "5.0.0", false, "550 5.1.1x glued"},
    {"250 2.123.456 long parts", REPLY_DONE, 250, "2.123.456", true, "250 2.123.456 long parts"},
    {"354 End data with <CR><LF>.<CR><LF>", REPLY_DONE, 354, "3.0.0", false,
     "354 End data with <CR><LF>.<CR><LF>"},
    {"550-5.7.1 first\n550-5.7.1 second\n550 5.7.1 third", REPLY_DONE, 550, "5.7.1", true,
     "550-5.7.1 first 550-5.7.1 second 550 5.7.1 third"},
    {"550-first line\n550 5.2.2 last has it", REPLY_DONE, 550, "5.2.2", true,
     "550-first line 550 5.2.2 last has it"},
    {"550-5.2.2 first has it\n550 last without", REPLY_DONE, 550, "5.2.2", true,
     "550-5.2.2 first has it 550 last without"},
    {"250-mx.example\n250-PIPELINING", REPLY_MORE, 0, "", false, ""},
    {"250 text\twith\x01" "controls\xff", REPLY_DONE, 250, "2.0.0", false,
     "250 text?with?controls?"},
    {"25", REPLY_ERROR, 0, "", false, ""},
    {"", REPLY_ERROR, 0, "", false, ""},
    {"abc def", REPLY_ERROR, 0, "", false, ""},
    {"150 one hundred", REPLY_ERROR, 0, "", false, ""},
    {"650 six hundred", REPLY_ERROR, 0, "", false, ""},
    {"2x0 letters", REPLY_ERROR, 0, "", false, ""},
    {"250_bad separator", REPLY_ERROR, 0, "", false, ""},
    {"250-ok\nxyz", REPLY_ERROR, 0, "", false, ""},
};

START_TEST(reply_table)
{
    const struct reply_case *c = &reply_cases[_i];
    struct reply_parser p;
    reply_parser_init(&p);
    char why[ERR_TEXT_MAX] = "";
    int rc = feed_all(&p, c->in, why, sizeof why);
    ck_assert_msg(rc == c->rc, "%s: rc %d, want %d", c->in, rc, c->rc);
    if (rc == REPLY_ERROR)
        ck_assert_str_ne(why, "");
    if (rc == REPLY_DONE) {
        ck_assert_int_eq(p.reply.code, c->code);
        ck_assert_str_eq(p.reply.dsn, c->dsn);
        ck_assert_int_eq(p.reply.dsn_given, c->dsn_given);
        ck_assert_str_eq(p.reply.text, c->text);
    }
    reply_parser_free(&p);
}
END_TEST

START_TEST(reply_sequence)
{
    /* the parser starts over after each complete reply */
    struct reply_parser p;
    reply_parser_init(&p);
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(feed_all(&p, "250-a\n250 2.1.0 b", why, sizeof why), REPLY_DONE);
    ck_assert_uint_eq(p.reply.nlines, 2);
    ck_assert_str_eq(p.lines.data, "a\n2.1.0 b\n");
    ck_assert_int_eq(feed_all(&p, "554 5.5.1 no", why, sizeof why), REPLY_DONE);
    ck_assert_int_eq(p.reply.code, 554);
    ck_assert_uint_eq(p.reply.nlines, 1);
    ck_assert_str_eq(p.reply.text, "554 5.5.1 no");
    ck_assert_str_eq(p.lines.data, "5.5.1 no\n");
    reply_parser_free(&p);
}
END_TEST

START_TEST(reply_bounds)
{
    struct reply_parser p;
    reply_parser_init(&p);
    char why[ERR_TEXT_MAX] = "";
    /* a line of exactly REPLY_LINE_MAX bytes is fine, one more is not */
    char *line = malloc(REPLY_LINE_MAX + 1);
    ck_assert_ptr_nonnull(line);
    memcpy(line, "250 ", 4);
    memset(line + 4, 'x', REPLY_LINE_MAX - 3);
    ck_assert_int_eq(reply_feed(&p, line, REPLY_LINE_MAX, why, sizeof why), REPLY_DONE);
    ck_assert_uint_lt(strlen(p.reply.text), REPLY_TEXT_MAX);
    ck_assert_int_eq(reply_feed(&p, line, REPLY_LINE_MAX + 1, why, sizeof why), REPLY_ERROR);
    ck_assert_str_eq(why, "reply line too long");
    free(line);
    /* REPLY_LINES_MAX lines are fine, one more is not */
    reply_parser_free(&p);
    reply_parser_init(&p);
    for (int i = 0; i < REPLY_LINES_MAX - 1; i++)
        ck_assert_int_eq(reply_feed(&p, "250-x", 5, why, sizeof why), REPLY_MORE);
    ck_assert_int_eq(reply_feed(&p, "250 x", 5, why, sizeof why), REPLY_DONE);
    for (int i = 0; i < REPLY_LINES_MAX; i++)
        ck_assert_int_eq(reply_feed(&p, "250-x", 5, why, sizeof why), REPLY_MORE);
    ck_assert_int_eq(reply_feed(&p, "250 x", 5, why, sizeof why), REPLY_ERROR);
    ck_assert_str_eq(why, "too many lines in a reply");
    reply_parser_free(&p);
}
END_TEST

START_TEST(reply_long_multiline_text_is_cut)
{
    struct reply_parser p;
    reply_parser_init(&p);
    char why[ERR_TEXT_MAX] = "";
    char line[1001];
    memcpy(line, "550-", 4);
    memset(line + 4, 'y', sizeof line - 4);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(reply_feed(&p, line, sizeof line, why, sizeof why), REPLY_MORE);
    ck_assert_int_eq(reply_feed(&p, "550 5.7.1 end", 13, why, sizeof why), REPLY_DONE);
    ck_assert_uint_eq(strlen(p.reply.text), REPLY_TEXT_MAX - 1);
    ck_assert_str_eq(p.reply.dsn, "5.7.1");
    reply_parser_free(&p);
}
END_TEST

START_TEST(ehlo_caps)
{
    struct reply_parser p;
    reply_parser_init(&p);
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(feed_all(&p, "250-mx.example.org Hello\n250-pipelining\n250-SIZE 10240000\n"
                                  "250-8BITMIME\n250-STARTTLS\n250-DSN\n250-SMTPUTF8\n"
                                  "250 ENHANCEDSTATUSCODES", why, sizeof why), REPLY_DONE);
    struct smtp_caps caps;
    reply_caps(p.lines.data, p.lines.len, &caps);
    ck_assert(caps.pipelining && caps.starttls && caps.eightbitmime && caps.dsn &&
              caps.smtputf8 && caps.size);
    ck_assert_uint_eq(caps.size_limit, 10240000);
    /* the first line is the server's name, never an extension; near misses are nothing */
    ck_assert_int_eq(feed_all(&p, "250-STARTTLS\n250-PIPELININGX\n250-SIZE\n250 DSNX", why,
                              sizeof why), REPLY_DONE);
    reply_caps(p.lines.data, p.lines.len, &caps);
    ck_assert(!caps.starttls && !caps.pipelining && !caps.dsn);
    ck_assert(caps.size);
    ck_assert_uint_eq(caps.size_limit, 0);
    /* a one-line reply offers nothing; an absurd SIZE counts as none */
    ck_assert_int_eq(feed_all(&p, "250 mx.example.org", why, sizeof why), REPLY_DONE);
    reply_caps(p.lines.data, p.lines.len, &caps);
    ck_assert(!caps.size && !caps.pipelining);
    ck_assert_int_eq(feed_all(&p, "250-x\n250 SIZE 99999999999999999999999", why, sizeof why),
                     REPLY_DONE);
    reply_caps(p.lines.data, p.lines.len, &caps);
    ck_assert_uint_eq(caps.size_limit, 0);
    reply_parser_free(&p);
}
END_TEST

/* ---- next hops ---- */

static const struct hop_case {
    const char *in;
    bool lmtp;
    int rc;
    enum nexthop_kind kind;
    const char *host;
    const char *path;
    int port;
    bool use_mx, literal;
} hop_cases[] = {
    {"example.org", false, 0, NEXTHOP_INET, "example.org", "", 25, true, false},
    {"example.org.", false, 0, NEXTHOP_INET, "example.org", "", 25, true, false},
    {"example.org:2525", false, 0, NEXTHOP_INET, "example.org", "", 2525, true, false},
    {"[mx.example.org]", false, 0, NEXTHOP_INET, "mx.example.org", "", 25, false, false},
    {"[mx.example.org]:587", false, 0, NEXTHOP_INET, "mx.example.org", "", 587, false, false},
    {"[mx.example.org]:submission", false, 0, NEXTHOP_INET, "mx.example.org", "", 587, false,
     false},
    {"[192.0.2.1]", false, 0, NEXTHOP_INET, "192.0.2.1", "", 25, false, true},
    {"[127.0.0.1]:10025", false, 0, NEXTHOP_INET, "127.0.0.1", "", 10025, false, true},
    {"192.0.2.1", false, 0, NEXTHOP_INET, "192.0.2.1", "", 25, false, true},
    {"192.0.2.1:26", false, 0, NEXTHOP_INET, "192.0.2.1", "", 26, false, true},
    {"[2001:db8::1]:25", false, 0, NEXTHOP_INET, "2001:db8::1", "", 25, false, true},
    {"[IPv6:2001:db8::1]", false, 0, NEXTHOP_INET, "2001:db8::1", "", 25, false, true},
    {"2001:db8::1", false, 0, NEXTHOP_INET, "2001:db8::1", "", 25, false, true},
    {"inet:mx.example.org:2525", false, 0, NEXTHOP_INET, "mx.example.org", "", 2525, false,
     false},
    {"example.org", true, 0, NEXTHOP_INET, "example.org", "", 24, false, false},
    {"inet:127.0.0.1:24", true, 0, NEXTHOP_INET, "127.0.0.1", "", 24, false, true},
    {"inet:[::1]:2400", true, 0, NEXTHOP_INET, "::1", "", 2400, false, true},
    {"inet:localhost", true, 0, NEXTHOP_INET, "localhost", "", 24, false, false},
    {"unix:/var/run/dovecot/lmtp", true, 0, NEXTHOP_UNIX, "", "/var/run/dovecot/lmtp", 0, false,
     false},
    {"unix:private/dovecot-lmtp", true, 0, NEXTHOP_UNIX, "", "private/dovecot-lmtp", 0, false,
     false},
    {"unix:/x", false, -1, 0, "", "", 0, false, false},
    {"unix:", true, -1, 0, "", "", 0, false, false},
    {"", false, -1, 0, "", "", 0, false, false},
    {"[]", false, -1, 0, "", "", 0, false, false},
    {"[mx.example.org", false, -1, 0, "", "", 0, false, false},
    {"[mx.example.org]x", false, -1, 0, "", "", 0, false, false},
    {"[mx.example.org]:", false, -1, 0, "", "", 0, false, false},
    {"[mx.example.org]:0", false, -1, 0, "", "", 0, false, false},
    {"[mx.example.org]:65536", false, -1, 0, "", "", 0, false, false},
    {"[mx.example.org]:025", false, -1, 0, "", "", 0, false, false},
    {"example.org:-1", false, -1, 0, "", "", 0, false, false},
    {"example.org:25x", false, -1, 0, "", "", 0, false, false},
    {"exa mple.org", false, -1, 0, "", "", 0, false, false},
    {"example..org", false, -1, 0, "", "", 0, false, false},
    {".example.org", false, -1, 0, "", "", 0, false, false},
    {"[mx.exa/mple.org]", false, -1, 0, "", "", 0, false, false},
    {"[2001:db8::zz]", false, -1, 0, "", "", 0, false, false},
    {"inet:", true, -1, 0, "", "", 0, false, false},
};

START_TEST(nexthop_table)
{
    const struct hop_case *c = &hop_cases[_i];
    struct nexthop h;
    char why[ERR_TEXT_MAX] = "";
    int rc = nexthop_parse(c->in, c->lmtp, &h, why, sizeof why);
    ck_assert_msg(rc == c->rc, "\"%s\": rc %d (%s)", c->in, rc, *why ? why : "");
    if (rc < 0) {
        ck_assert_str_ne(why, "");
        return;
    }
    ck_assert_int_eq(h.kind, c->kind);
    ck_assert_str_eq(h.host, c->host);
    ck_assert_str_eq(h.path, c->path);
    ck_assert_int_eq(h.port, c->port);
    ck_assert_int_eq(h.use_mx, c->use_mx);
    ck_assert_int_eq(h.literal, c->literal);
}
END_TEST

START_TEST(nexthop_bounds)
{
    struct nexthop h;
    char why[ERR_TEXT_MAX] = "";
    char in[400], label[64];
    memset(label, 'a', 63);
    label[63] = '\0';
    /* 253 bytes of name pass, 254 do not */
    snprintf(in, sizeof in, "%s.%s.%s.%.61s", label, label, label, label);
    ck_assert_uint_eq(strlen(in), 253);
    ck_assert_int_eq(nexthop_parse(in, false, &h, why, sizeof why), 0);
    snprintf(in, sizeof in, "%s.%s.%s.%.62s", label, label, label, label);
    ck_assert_int_eq(nexthop_parse(in, false, &h, why, sizeof why), -1);
    /* a socket path must fit sun_path */
    char path[200] = "unix:/";
    memset(path + 6, 'p', NEXTHOP_PATH_MAX - 2);
    path[6 + NEXTHOP_PATH_MAX - 2] = '\0';
    ck_assert_int_eq(nexthop_parse(path, true, &h, why, sizeof why), 0);
    strcat(path, "p");
    ck_assert_int_eq(nexthop_parse(path, true, &h, why, sizeof why), -1);
}
END_TEST

/* ---- the wire form of content ---- */

#define S(lit) lit, sizeof(lit) - 1

static const struct stuff_case {
    const char *in;
    size_t len;
    const char *out;
    size_t out_len;
} stuff_cases[] = {
    {S(""), S(".\r\n")},
    {S("a\r\n"), S("a\r\n.\r\n")},
    {S("a"), S("a\r\n.\r\n")},
    {S(".\r\n"), S("..\r\n.\r\n")},
    {S("..two\r\n"), S("...two\r\n.\r\n")},
    {S("x.y\r\n.z\r\n"), S("x.y\r\n..z\r\n.\r\n")},
    {S("a\nb\n"), S("a\r\nb\r\n.\r\n")},
    {S("a\rb\r"), S("a\r\nb\r\n.\r\n")},
    {S("a\r\r\nb"), S("a\r\n\r\nb\r\n.\r\n")},
    {S("\n.x"), S("\r\n..x\r\n.\r\n")},
    {S("\r.x"), S("\r\n..x\r\n.\r\n")},
    {S("a\r\n\r\n"), S("a\r\n\r\n.\r\n")},
    {S("bin\0ary\r\n"), S("bin\0ary\r\n.\r\n")},
    {S("\r\n.\r\n"), S("\r\n..\r\n.\r\n")},
};

static void encode_in_pieces(const char *in, size_t len, size_t piece, struct buf *out)
{
    struct dotstuff st;
    dotstuff_init(&st);
    for (size_t at = 0; at < len; at += piece) {
        size_t n = len - at < piece ? len - at : piece;
        char *copy = malloc(n);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, in + at, n);
        ck_assert_int_eq(dotstuff_encode(&st, copy, n, out), 0);
        free(copy);
    }
    ck_assert_int_eq(dotstuff_finish(&st, out), 0);
}

START_TEST(dotstuff_table)
{
    const struct stuff_case *c = &stuff_cases[_i];
    size_t want_len = c->out_len;
    /* whole, and cut at every possible place (state crosses the pieces) */
    for (size_t piece = 1; piece <= (c->len ? c->len : 1); piece++) {
        struct buf out;
        buf_init(&out, 1024);
        encode_in_pieces(c->in, c->len, piece, &out);
        ck_assert_uint_eq(out.len, want_len);
        ck_assert(memcmp(out.data, c->out, want_len) == 0);
        buf_free(&out);
    }
}
END_TEST

START_TEST(dotstuff_full_buffer)
{
    /* out of room: -1 and nothing half-written, the state unchanged */
    struct buf out;
    buf_init(&out, 8);
    struct dotstuff st;
    dotstuff_init(&st);
    ck_assert_int_eq(dotstuff_encode(&st, "ab\r\n", 4, &out), 0);
    ck_assert_int_eq(dotstuff_encode(&st, ".cdefgh\r\n", 9, &out), -1);
    ck_assert_uint_eq(out.len, 4);
    buf_reset(&out);
    ck_assert_int_eq(dotstuff_encode(&st, ".c", 2, &out), 0);
    ck_assert_str_eq(out.data, "..c");
    ck_assert_int_eq(dotstuff_finish(&st, &out), 0);
    ck_assert_str_eq(out.data, "..c\r\n.\r\n");
    ck_assert_int_eq(dotstuff_finish(&st, &out), -1);
    buf_free(&out);
}
END_TEST

START_TEST(eight_bit)
{
    ck_assert(!content_has_8bit("plain ascii\r\n", 13));
    ck_assert(content_has_8bit("caf\xc3\xa9", 5));
    ck_assert(!content_has_8bit("", 0));
}
END_TEST

static Suite *smtp_parsers_suite(void)
{
    Suite *s = suite_create("smtp_parsers");
    TCase *tc = tcase_create("core");
    TABLE(tc, reply_table, reply_cases);
    tcase_add_test(tc, reply_sequence);
    tcase_add_test(tc, reply_bounds);
    tcase_add_test(tc, reply_long_multiline_text_is_cut);
    tcase_add_test(tc, ehlo_caps);
    TABLE(tc, nexthop_table, hop_cases);
    tcase_add_test(tc, nexthop_bounds);
    TABLE(tc, dotstuff_table, stuff_cases);
    tcase_add_test(tc, dotstuff_full_buffer);
    tcase_add_test(tc, eight_bit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(smtp_parsers_suite());
}
