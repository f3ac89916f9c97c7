/* test_xtext.c: unit tests of queue/xtext.c, the xtext of RFC 3461 (ENVID and ORCPT in SMTP
 * parameters, queue files and maildrop files): decoding with its bounds, encoding, round trips,
 * and the "type;xtext" ORCPT value. Every decoded input is copied to an exact-size heap buffer
 * so a sanitizer build catches any read past len. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "xtext.h"

#define S(lit) lit, sizeof(lit) - 1   /* a literal and its exact length (it may hold NULs) */

/* xtext_decode of s[0..len) held in a heap block of exactly len bytes. */
static int decode_exact(const char *s, size_t len, char *out, size_t size)
{
    char *in = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(in);
    memcpy(in, s, len);
    int r = xtext_decode(in, len, out, size);
    free(in);
    return r;
}

/* ---- decode and encode ---- */

static const struct xtext_case {
    const char *in;
    size_t len;
    size_t size;
    int ret;
    const char *out;
    size_t out_len;
} xdecode_cases[] = {
    {S("abc"), 16, 3, S("abc")},
    {S(""), 16, 0, S("")},
    {S("a+2Bb"), 16, 3, S("a+b")},
    {S("+3D+20+7E"), 16, 3, S("= ~")},
    {S("+00x"), 16, 2, S("\0x")},
    {S("+FF"), 16, 1, S("\xff")},
    {S("joe@example.com"), 16, 15, S("joe@example.com")},
    {S("<>"), 16, 2, S("<>")},
    {S("abcd"), 5, 4, S("abcd")},
    {S("abcd"), 4, -1, S("")},
    {S("a+2Bb"), 4, 3, S("a+b")},
    {S("a+2Bb"), 3, -1, S("")},
    {S("a"), 0, -1, S("")},
    {S("+"), 16, -1, S("")},
    {S("+2"), 16, -1, S("")},
    {S("a+2"), 16, -1, S("")},
    {S("+2g"), 16, -1, S("")},
    {S("+2b"), 16, -1, S("")},
    {S("+G0"), 16, -1, S("")},
    {S("a=b"), 16, -1, S("")},
    {S("a b"), 16, -1, S("")},
    {S("a\0b"), 16, -1, S("")},
    {S("a\x7f"), 16, -1, S("")},
    {S("\xc3\xa9"), 16, -1, S("")},
    {S("a\tb"), 16, -1, S("")},
};

START_TEST(decode_table)
{
    const struct xtext_case *c = &xdecode_cases[_i];
    char out[32];
    memset(out, 'Z', sizeof out);
    int r = decode_exact(c->in, c->len, out, c->size);
    ck_assert_msg(r == c->ret, "case %d: returned %d, want %d", _i, r, c->ret);
    if (r >= 0) {
        ck_assert_uint_eq((size_t)r, c->out_len);
        ck_assert_mem_eq(out, c->out, c->out_len);
        ck_assert_int_eq(out[r], '\0');
    }
    if (c->size < sizeof out)
        ck_assert_int_eq(out[c->size], 'Z');        /* nothing written past size */
}
END_TEST

START_TEST(encode_cases)
{
    char out[64];
    ck_assert_int_eq(xtext_encode(S("a+b=c d\x01\xff~!"), out, sizeof out), 21);
    ck_assert_str_eq(out, "a+2Bb+3Dc+20d+01+FF~!");
    ck_assert_int_eq(xtext_encode(S(""), out, 1), 0);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(xtext_encode(S(""), out, 0), -1);
    ck_assert_int_eq(xtext_encode(S("abc"), out, 4), 3);
    ck_assert_int_eq(xtext_encode(S("abc"), out, 3), -1);
    ck_assert_int_eq(xtext_encode(S("a+"), out, 5), 4);
    ck_assert_str_eq(out, "a+2B");
    ck_assert_int_eq(xtext_encode(S("a+"), out, 4), -1);
    ck_assert_int_eq(xtext_encode(S("\0"), out, sizeof out), 3);
    ck_assert_str_eq(out, "+00");
}
END_TEST

START_TEST(round_trip)
{
    char all[256], enc[1024], dec[300];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    int e = xtext_encode(all, sizeof all, enc, sizeof enc);
    ck_assert_int_gt(e, 0);
    ck_assert_uint_eq(strlen(enc), (size_t)e);
    int d = xtext_decode(enc, (size_t)e, dec, sizeof dec);
    ck_assert_int_eq(d, 256);
    ck_assert_mem_eq(dec, all, sizeof all);
    /* canonical xtext encodes back to itself */
    static const char canon[] = "rfc822;joe+2Bx@example.com+20";
    d = xtext_decode(S(canon), dec, sizeof dec);
    ck_assert_int_eq(d, (int)strlen("rfc822;joe+x@example.com "));
    e = xtext_encode(dec, (size_t)d, enc, sizeof enc);
    ck_assert_str_eq(enc, canon);
}
END_TEST

/* ---- the ORCPT value ---- */

START_TEST(orcpt_value)
{
    char out[32];
    memset(out, 'Z', sizeof out);
    ck_assert_int_eq(xtext_orcpt("rfc822", "joe+x@example.com", out, sizeof out), 26);
    ck_assert_str_eq(out, "rfc822;joe+2Bx@example.com");
    ck_assert_int_eq(xtext_orcpt("utf-8", "a=b c", out, sizeof out), 15);
    ck_assert_str_eq(out, "utf-8;a+3Db+20c");
    ck_assert_int_eq(xtext_orcpt("rfc822", "", out, sizeof out), 7);
    ck_assert_str_eq(out, "rfc822;");
    /* exactly fitting, and one byte short (then an empty string, nothing written past size) */
    memset(out, 'Z', sizeof out);
    ck_assert_int_eq(xtext_orcpt("t", "a+", out, 7), 6);
    ck_assert_str_eq(out, "t;a+2B");
    memset(out, 'Z', sizeof out);
    ck_assert_int_eq(xtext_orcpt("t", "a+", out, 6), -1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(out[6], 'Z');
    memset(out, 'Z', sizeof out);
    ck_assert_int_eq(xtext_orcpt("rfc822", "a", out, 7), -1);   /* no room past the type */
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(xtext_orcpt("rfc822", "a", out, 0), -1);
    /* the value decodes back to the address */
    char dec[32];
    ck_assert_int_eq(xtext_orcpt("rfc822", "x\001=y", out, sizeof out), 15);
    ck_assert_str_eq(out, "rfc822;x+01+3Dy");
    ck_assert_int_eq(xtext_decode(out + 7, strlen(out + 7), dec, sizeof dec), 4);
    ck_assert_str_eq(dec, "x\001=y");
}
END_TEST

#define TABLE(tc, test, cases) \
    tcase_add_loop_test(tc, test, 0, (int)(sizeof cases / sizeof cases[0]))

int main(void)
{
    Suite *s = suite_create("xtext");
    TCase *tc = tcase_create("core");
    TABLE(tc, decode_table, xdecode_cases);
    tcase_add_test(tc, encode_cases);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, orcpt_value);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
