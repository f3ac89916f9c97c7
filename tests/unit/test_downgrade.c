/* test_downgrade.c: unit tests of the 8-bit to 7-bit MIME converter (mail/mime_downgrade.c):
 * quoted-printable, the conversion rules (a table of messages and their 7-bit form), the depth
 * bound, the same output however the input is split (byte by byte, at every place, at random),
 * the lookahead bound (a leaf whose 8-bit byte comes too late is left alone, and said so), what
 * is written before the end (never held: encoded leaves, multipart structure) and out's bound.
 * Inputs are copied to exact-size heap buffers so a sanitizer build catches a read past them. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mime_downgrade.h"
#include "unit.h"

#define S(lit) lit, sizeof(lit) - 1
#define TABLE(tc, test, cases) \
    tcase_add_loop_test(tc, test, 0, (int)(sizeof cases / sizeof cases[0]))

static bool has_8bit(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] > 127)
            return true;
    return false;
}

/* ---- quoted-printable, the rules, the depth bound ---- */

static const struct qp_case {
    const char *in;
    size_t len;
    const char *out;
} qp_cases[] = {
    {S("plain\r\n"), "plain\r\n"},
    {S("caf\xc3\xa9 = x\r\n"), "caf=C3=A9 =3D x\r\n"},
    {S("trailing \r\ntab\t\r\nend "), "trailing=20\r\ntab=09\r\nend=20"},
    {S("lone\nLF and\rCR"), "lone=0ALF and=0DCR"},
    {S("\x00\x7f~!"), "=00=7F~!"},
};

START_TEST(qp_table)
{
    const struct qp_case *c = &qp_cases[_i];
    struct buf out;
    buf_init(&out, 1024);
    ck_assert_int_eq(qp_encode(c->in, c->len, &out), 0);
    ck_assert_str_eq(out.data, c->out);
    buf_free(&out);
}
END_TEST

START_TEST(qp_line_length)
{
    char in[300];
    memset(in, 'a', 200);
    memcpy(in + 200, "\r\n", 2);
    memset(in + 202, 0xe9, 40);
    struct buf out;
    buf_init(&out, 4096);
    ck_assert_int_eq(qp_encode(in, 242, &out), 0);
    /* every line at most 76 characters, soft breaks ending in '=' */
    size_t lines = 0;
    for (char *p = out.data; *p; lines++) {
        char *e = strstr(p, "\r\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        ck_assert_uint_le(n, 76);
        p += n + (e ? 2 : 0);
    }
    ck_assert_uint_eq(lines, 5);      /* 75+75+50 a's, then 25+15 =E9's */
    ck_assert(strncmp(out.data + 75, "=\r\n", 3) == 0);
    buf_free(&out);
    buf_init(&out, 10);       /* out of room: -1, and nothing half-written */
    ck_assert_int_eq(qp_encode(in, 242, &out), -1);
    ck_assert_uint_eq(out.len, 0);
    buf_free(&out);
}
END_TEST

static const struct down_case {
    const char *name;
    const char *in;
    const char *out;      /* NULL: unchanged */
} down_cases[] = {
    {"7-bit is left alone",
     "Subject: x\r\n\r\nplain body\r\n", NULL},
    {"a message without MIME headers",
     "Subject: x\r\n\r\ncaf\xc3\xa9\r\n",
     "Subject: x\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n"
     "\r\ncaf=C3=A9\r\n"},
    {"a declared 8bit encoding is replaced",
     "MIME-Version: 1.0\r\nContent-Transfer-Encoding: 8bit\r\nContent-Type: text/plain;\r\n"
     " charset=utf-8\r\n\r\n\xc3\xa9t\xc3\xa9\r\n",
     "MIME-Version: 1.0\r\nContent-Type: text/plain;\r\n charset=utf-8\r\n"
     "Content-Transfer-Encoding: quoted-printable\r\n\r\n=C3=A9t=C3=A9\r\n"},
    {"base64 is already 7-bit (and 8-bit in a header stays)",
     "Subject: \xc3\xa9\r\nContent-Transfer-Encoding: base64\r\n\r\n\xff\r\n", NULL},
    {"a multipart: only the 8-bit leaf changes",
     "MIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n\tboundary=\"=_b 1\"\r\n\r\n"
     "preamble\r\n--=_b 1\r\nContent-Type: text/plain\r\n\r\n\xe9\r\n"
     "--=_b 1\r\nContent-Type: application/octet-stream\r\n"
     "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--=_b 1--\r\nepilogue\r\n",
     "MIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n\tboundary=\"=_b 1\"\r\n\r\n"
     "preamble\r\n--=_b 1\r\nContent-Type: text/plain\r\n"
     "Content-Transfer-Encoding: quoted-printable\r\n\r\n=E9\r\n"
     "--=_b 1\r\nContent-Type: application/octet-stream\r\n"
     "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--=_b 1--\r\nepilogue\r\n"},
    {"a message/rfc822 part is walked into",
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
     "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\n\xe9\r\n--b--\r\n",
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
     "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n"
     "Content-Transfer-Encoding: quoted-printable\r\n\r\n=E9\r\n--b--\r\n"},
    {"an obsolete field with white space before its colon is still the field",
     "Content-Transfer-Encoding : 8bit\r\nMIME-Version\t: 1.0\r\n\r\n\xe9\r\n",
     "MIME-Version\t: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9\r\n"},
    {"a body that starts without an empty line gets one before its encoded form",
     "Subject: x\r\ncaf\xc3\xa9 body\r\n",
     "Subject: x\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n"
     "\r\ncaf=C3=A9 body\r\n"},
    {"a part without a header or an empty line",
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nplain \xe9\r\n--b--\r\n",
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
     "Content-Transfer-Encoding: quoted-printable\r\n\r\nplain =E9\r\n--b--\r\n"},
    {"a multipart without its close delimiter",
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n\xe9\r\n",
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
     "Content-Transfer-Encoding: quoted-printable\r\n\r\n=E9\r\n"},
    {"a multipart whose header ends at its first delimiter, without an empty line",
     "Content-Type: multipart/mixed; boundary=b\r\n--b\r\n\r\n\xe9\r\n--b--\r\n",
     "Content-Type: multipart/mixed; boundary=b\r\n--b\r\n"
     "Content-Transfer-Encoding: quoted-printable\r\n\r\n=E9\r\n--b--\r\n"},
    {"a digest's parts are messages; a bare LF before a delimiter is the delimiter's",
     "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: a\r\n\r\n"
     "\xe9 \r\n--d\r\nContent-Type: text/plain\r\n\r\n\xe9\n--d-- \t\r\nafter\r\n",
     "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: a\r\n"
     "Content-Transfer-Encoding: quoted-printable\r\n\r\n=E9=20\r\n--d\r\n"
     "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
     "=E9\n--d-- \t\r\nafter\r\n"},
    {"a message/rfc822 body without a header",
     "Content-Type: message/rfc822\r\n\r\n\xe9\r\nabc\r\n",
     "Content-Type: message/rfc822\r\n\r\nContent-Transfer-Encoding: quoted-printable\r\n"
     "\r\n=E9\r\nabc\r\n"},
    {"a message/rfc822 whose header ends without an empty line",
     "Content-Type: message/rfc822\r\n\xe9\r\n",
     "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: quoted-printable\r\n"
     "\r\n=E9\r\n"},
    {"an outer delimiter ends the inner multipart's part",
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
     "Content-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n\r\n\xe9\n--b\r\n\r\n"
     "\xe8\r\n--c--\r\n--b--\r\n",
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
     "Content-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n"
     "Content-Transfer-Encoding: quoted-printable\r\n\r\n=E9\n--b\r\n"
     "Content-Transfer-Encoding: quoted-printable\r\n\r\n=E8\r\n--c--\r\n--b--\r\n"},
    {"bare LF and CR in the body are encoded; CRLF stays a line break",
     "Subject: x\n\ncaf\xe9\rx\n\r\r\n \t\r\n",
     "Subject: x\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n\n"
     "caf=E9=0Dx=0A=0D\r\n =09\r\n"},
};

START_TEST(downgrade_table)
{
    const struct down_case *c = &down_cases[_i];
    struct buf out;
    buf_init(&out, 8192);
    size_t len = strlen(c->in);
    char *in = malloc(len);
    ck_assert_ptr_nonnull(in);
    memcpy(in, c->in, len);
    ck_assert_int_eq(mime_downgrade_buffer(in, len, &out), 0);
    free(in);
    ck_assert_msg(strcmp(out.data, c->out ? c->out : c->in) == 0, "%s:\n%s", c->name, out.data);
    ck_assert(!has_8bit(out.data, out.len) || c->out == NULL);
    buf_free(&out);
}
END_TEST

START_TEST(downgrade_depth)
{
    struct buf in, out;
    buf_init(&in, 65536);
    buf_init(&out, 65536);
    for (int i = 0; i <= MIME_DOWNGRADE_DEPTH_MAX + 1; i++)
        buf_printf(&in, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
    buf_puts(&in, "\r\n\xe9\r\n");
    ck_assert_int_eq(mime_downgrade_buffer(in.data, in.len, &out), -1);
    ck_assert_uint_eq(out.len, 0);
    /* streamed, what is nested too deep is copied unchanged, and that is said */
    struct mime_downgrade st;
    mime_downgrade_init(&st, SIZE_MAX);
    ck_assert_int_eq(mime_downgrade_feed(&st, in.data, in.len, &out), 0);
    ck_assert_int_eq(mime_downgrade_finish(&st, &out), 0);
    ck_assert(st.too_deep && !mime_downgrade_changed(&st) && mime_downgrade_8bit_left(&st));
    ck_assert_str_eq(out.data, in.data);
    mime_downgrade_free(&st);
    buf_free(&in);
    buf_free(&out);
}
END_TEST


/* ---- streamed: the same output whatever the split ---- */

struct result {
    struct buf out;
    int rc;
    bool changed, eightbit_left, unconverted, too_deep;
};

/* Converts in[0..len) fed in pieces: of `piece` bytes, or (piece 0) of random sizes from seed,
 * or cut once at `cut` when piece is SIZE_MAX; each piece in an exact-size heap buffer. Checks
 * the bounds the converter promises after every feed. */
static void convert(const char *in, size_t len, size_t lookahead, size_t piece, unsigned seed,
                    size_t cut, struct result *r)
{
    struct mime_downgrade st;
    mime_downgrade_init(&st, lookahead);
    buf_init(&r->out, 1 << 22);
    r->rc = 0;
    size_t at = 0;
    while (at < len && r->rc == 0) {
        size_t n = piece == SIZE_MAX ? (at < cut ? cut - at : len - at)
                   : piece ? piece : 1 + (size_t)rand_r(&seed) % 97;
        if (n > len - at)
            n = len - at;
        char *copy = malloc(n);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, in + at, n);
        size_t before = r->out.len, bound = mime_downgrade_out_bound(&st, n);
        r->rc = mime_downgrade_feed(&st, copy, n, &r->out);
        free(copy);
        ck_assert_uint_le(r->out.len - before, bound);
        ck_assert_uint_le(st.hold.len, lookahead);
        ck_assert_uint_le(st.line.len, MIME_DOWNGRADE_LINE_MAX + 1);
        at += n;
    }
    if (r->rc == 0) {
        size_t before = r->out.len, bound = mime_downgrade_out_bound(&st, 0);
        r->rc = mime_downgrade_finish(&st, &r->out);
        ck_assert_uint_le(r->out.len - before, bound);
    }
    r->changed = mime_downgrade_changed(&st);
    r->eightbit_left = mime_downgrade_8bit_left(&st);
    r->unconverted = st.unconverted_8bit;
    r->too_deep = st.too_deep;
    ck_assert(r->eightbit_left == has_8bit(r->out.data, r->out.len));
    mime_downgrade_free(&st);
}

static void assert_same(const struct result *a, const struct result *b, const char *how)
{
    ck_assert_msg(a->out.len == b->out.len && memcmp(a->out.data, b->out.data, a->out.len) == 0,
                  "%s:\n%s\n----\n%s", how, a->out.data, b->out.data);
    ck_assert_int_eq(a->rc, b->rc);
    ck_assert(a->changed == b->changed && a->eightbit_left == b->eightbit_left);
    ck_assert(a->unconverted == b->unconverted && a->too_deep == b->too_deep);
}

static const char *const split_messages[] = {
    /* nested multipart with 8-bit text, a base64 leaf with an 8-bit byte it keeps */
    "From: a@example.org\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\npreamble\r\n--outer\r\n"
    "Content-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "caf\xc3\xa9 cr\xc3\xa8me \r\nline two\r\n--inner\r\nContent-Type: text/html\r\n\r\n"
    "<p>plain</p>\r\n--inner--\r\n--outer\r\nContent-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nAAAA\xff\r\n--outer--\r\nepilogue\r\n",
    /* message/rfc822 inside, with a multipart of its own */
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n"
    "\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n\r\n"
    "\xe9t\xe9\r\n--c--\r\n--b--\r\n",
    /* a leaf whose 8-bit byte comes after 300 bytes of 7-bit body */
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
    "late \xe9\r\n--b\r\nContent-Type: text/plain\r\n\r\nearly \xe9\r\n--b--\r\n",
    /* a digest, bare line ends, a delimiter with white space, a close delimiter early */
    "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: a\r\n\r\n\xe9 \r\n"
    "--d\r\nContent-Type: text/plain\r\n\r\n\xe9\n--d \t\r\n\r\n--d--\r\n--d\r\n\xe9\r\n",
    /* header ends without an empty line, at a delimiter and at an 8-bit line */
    "Content-Type: multipart/mixed; boundary=b\r\n--b\r\nContent-Type: message/rfc822\r\n"
    "\xe9\r\n--b\r\nSubject: x\r\n\r\r\n--b--",
    /* CR and LF alone, a part ending in a CR, the input ending in a half line end */
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n\xe9\r\r\n--b\r\n\r\n\r\r\n"
    "--b\r\nX:\r\n\r\n\r\r\r\n\xe9\n\r",
    /* a boundary with a colon: its delimiter line looks like a field */
    "Content-Type: multipart/mixed; boundary=a:b\r\n--a:b\r\n\xe9\r\n--a:b--\r\n",
};

START_TEST(split_invariance)
{
    const char *msg = split_messages[_i];
    size_t len = strlen(msg);
    static const size_t lookaheads[] = { SIZE_MAX, 200, 64, 20 };
    for (size_t l = 0; l < sizeof lookaheads / sizeof lookaheads[0]; l++) {
        struct result whole, r;
        convert(msg, len, lookaheads[l], len, 0, 0, &whole);
        ck_assert_int_eq(whole.rc, 0);
        convert(msg, len, lookaheads[l], 1, 0, 0, &r);
        assert_same(&whole, &r, "byte by byte");
        buf_free(&r.out);
        for (size_t cut = 1; cut < len; cut++) {
            convert(msg, len, lookaheads[l], SIZE_MAX, 0, cut, &r);
            assert_same(&whole, &r, "cut in two");
            buf_free(&r.out);
        }
        for (unsigned seed = 1; seed <= 20; seed++) {
            convert(msg, len, lookaheads[l], 0, seed, 0, &r);
            assert_same(&whole, &r, "random pieces");
            buf_free(&r.out);
        }
        /* held no longer than allowed, the result is the one of holding everything */
        struct result all;
        convert(msg, len, SIZE_MAX, len, 0, 0, &all);
        if (!whole.unconverted)
            assert_same(&whole, &all, "within the lookahead");
        buf_free(&all.out);
        buf_free(&whole.out);
    }
    /* holding everything is the buffer form, which the smtp client uses */
    struct buf out;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(mime_downgrade_buffer(msg, len, &out), 0);
    struct result r;
    convert(msg, len, SIZE_MAX, 7, 0, 0, &r);
    ck_assert(out.len == r.out.len && memcmp(out.data, r.out.data, out.len) == 0);
    buf_free(&r.out);
    buf_free(&out);
}
END_TEST

/* ---- the lookahead bound ---- */

/* "Subject: x", an empty line, `pad` bytes of 7-bit body, then an 8-bit byte. */
static void late_8bit(struct buf *in, size_t pad)
{
    buf_init(in, 1 << 16);
    buf_puts(in, "Subject: x\r\n\r\n");
    for (size_t i = 0; i < pad; i++)
        buf_putc(in, i % 60 == 59 ? '\n' : 'a');
    buf_puts(in, "\xe9 end\r\n");
}

START_TEST(lookahead_bound)
{
    struct buf in;
    late_8bit(&in, 500);
    size_t at = 14 + 500;   /* the 8-bit byte's offset */
    struct result r;
    /* the 8-bit byte is the last one the lookahead holds: converted */
    convert(in.data, in.len, at + 1, 3, 0, 0, &r);
    ck_assert(r.changed && !r.unconverted && !r.eightbit_left);
    ck_assert(strstr(r.out.data, "Content-Transfer-Encoding: quoted-printable\r\n\r\naaa") != NULL);
    buf_free(&r.out);
    /* one byte short: the leaf is copied unchanged, and that is said */
    convert(in.data, in.len, at, 3, 0, 0, &r);
    ck_assert(!r.changed && r.unconverted && r.eightbit_left);
    ck_assert(r.out.len == in.len && memcmp(r.out.data, in.data, in.len) == 0);
    buf_free(&r.out);
    /* a header longer than the lookahead: the entity is copied unchanged */
    convert(in.data, in.len, 10, 1, 0, 0, &r);
    ck_assert(!r.changed && r.unconverted);
    ck_assert(r.out.len == in.len && memcmp(r.out.data, in.data, in.len) == 0);
    buf_free(&r.out);
    /* no 8-bit byte at all past the bound: nothing to say */
    convert("Subject: x\r\n\r\nabcdefgh\r\n", 24, 16, 1, 0, 0, &r);
    ck_assert(!r.changed && !r.unconverted && !r.eightbit_left);
    ck_assert_str_eq(r.out.data, "Subject: x\r\n\r\nabcdefgh\r\n");
    buf_free(&r.out);
    buf_free(&in);
}
END_TEST

START_TEST(lookahead_per_leaf)
{
    /* the multipart's header fits the lookahead (45 bytes), the first leaf does not before its
     * 8-bit byte and is given up; the structure goes on and the second leaf is converted */
    static const char in[] =
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n"
        "01234567890123456789012345678901234567890123456789\xe9\r\n--b\r\n\r\n\xe8\r\n--b--\r\n";
    static const char want[] =
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n"
        "01234567890123456789012345678901234567890123456789\xe9\r\n--b\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n=E8\r\n--b--\r\n";
    struct result r;
    convert(in, sizeof in - 1, 48, 5, 0, 0, &r);
    ck_assert_str_eq(r.out.data, want);
    ck_assert(r.changed && r.unconverted && r.eightbit_left);
    buf_free(&r.out);
}
END_TEST

/* ---- written as it comes ---- */

/* Feeds text (no finish) and returns what came out so far. */
static void fed(struct mime_downgrade *st, struct buf *out, const char *text)
{
    mime_downgrade_init(st, 1 << 16);
    buf_init(out, 1 << 16);
    for (const char *p = text; *p; p++)
        ck_assert_int_eq(mime_downgrade_feed(st, p, 1, out), 0);
}

START_TEST(not_held)
{
    struct mime_downgrade st;
    struct buf out;
    /* an encoded leaf's body goes out at once (the last line end waits for the next line) */
    static const char b64[] = "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\nBBBB";
    fed(&st, &out, b64);
    ck_assert_str_eq(out.data, b64);
    mime_downgrade_free(&st);
    buf_free(&out);
    /* multipart structure too: header, preamble, delimiter lines */
    static const char multi[] =
        "Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\namble\r\n--b\r\n";
    fed(&st, &out, multi);
    ck_assert_str_eq(out.data, multi);
    mime_downgrade_free(&st);
    buf_free(&out);
    /* a 7-bit leaf is held; once 8-bit, its header and body so far go out converted */
    fed(&st, &out, "Subject: x\r\n\r\nab\r\n");
    ck_assert_str_eq(out.data, "");
    ck_assert_int_eq(mime_downgrade_feed(&st, "c\xe9", 2, &out), 0);
    ck_assert_str_eq(out.data, "Subject: x\r\nMIME-Version: 1.0\r\n"
                               "Content-Transfer-Encoding: quoted-printable\r\n\r\nab\r\nc");
    ck_assert_int_eq(mime_downgrade_finish(&st, &out), 0);
    ck_assert(strcmp(out.data + out.len - 4, "c=E9") == 0);
    mime_downgrade_free(&st);
    buf_free(&out);
}
END_TEST

START_TEST(delimiter_line_bound)
{
    /* a delimiter line is recognised with up to MIME_DOWNGRADE_LINE_MAX bytes, white space
     * included; a longer one is part of the body */
    for (int longer = 0; longer <= 1; longer++) {
        struct buf in;
        buf_init(&in, 1 << 16);
        buf_puts(&in, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n\xe9\r\n--b");
        size_t spaces = MIME_DOWNGRADE_LINE_MAX - 4 + (size_t)longer;   /* "--b", CR */
        for (size_t i = 0; i < spaces; i++)
            buf_putc(&in, ' ');
        buf_puts(&in, "\r\n\r\n\xe8\r\n");
        struct result r;
        convert(in.data, in.len, SIZE_MAX, 100, 0, 0, &r);
        ck_assert(r.changed && !r.eightbit_left && strstr(r.out.data, "=E8") != NULL);
        /* a second part converted after the delimiter, or the spaces encoded in the first */
        ck_assert((strstr(r.out.data, " \r\nContent-Transfer-Encoding") != NULL) ==
                  (longer == 0));
        ck_assert((strstr(r.out.data, "=20\r\n") != NULL) == (longer == 1));
        buf_free(&r.out);
        buf_free(&in);
    }
}
END_TEST

START_TEST(out_full)
{
    struct mime_downgrade st;
    struct buf out;
    mime_downgrade_init(&st, SIZE_MAX);
    buf_init(&out, 20);
    ck_assert_int_eq(mime_downgrade_feed(&st, "Subject: x\r\n\r\n\xe9\r\n", 17, &out), -1);
    ck_assert_int_eq(mime_downgrade_feed(&st, "more", 4, &out), -1);
    ck_assert_int_eq(mime_downgrade_finish(&st, &out), -1);
    mime_downgrade_free(&st);
    buf_free(&out);
    /* the buffer form leaves out as it was */
    buf_init(&out, 30);
    buf_puts(&out, "kept");
    ck_assert_int_eq(mime_downgrade_buffer("Subject: x\r\n\r\n\xe9\r\n", 17, &out), -1);
    ck_assert_str_eq(out.data, "kept");
    buf_free(&out);
}
END_TEST

START_TEST(results)
{
    struct result r;
    convert(S("Subject: x\r\n\r\nplain\r\n"), SIZE_MAX, 4, 0, 0, &r);
    ck_assert(!r.changed && !r.eightbit_left && !r.unconverted && !r.too_deep);
    buf_free(&r.out);
    convert(S("Subject: \xe9\r\n\r\n\xe9\r\n"), SIZE_MAX, 4, 0, 0, &r);
    ck_assert(r.changed && r.eightbit_left && !r.unconverted);   /* the header's stays */
    buf_free(&r.out);
    convert(S("Content-Transfer-Encoding: base64\r\n\r\n\xe9\r\n"), SIZE_MAX, 4, 0, 0, &r);
    ck_assert(!r.changed && r.eightbit_left && !r.unconverted);
    buf_free(&r.out);
}
END_TEST

static Suite *downgrade_suite(void)
{
    Suite *s = suite_create("downgrade");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    TABLE(tc, qp_table, qp_cases);
    tcase_add_test(tc, qp_line_length);
    TABLE(tc, downgrade_table, down_cases);
    tcase_add_test(tc, downgrade_depth);
    TABLE(tc, split_invariance, split_messages);
    tcase_add_test(tc, lookahead_bound);
    tcase_add_test(tc, lookahead_per_leaf);
    tcase_add_test(tc, not_held);
    tcase_add_test(tc, delimiter_line_bound);
    tcase_add_test(tc, out_full);
    tcase_add_test(tc, results);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(downgrade_suite());
}
