/* test_dkim_canon.c: unit tests of DKIM canonicalization (mail/dkim_canon.c): header fields
 * simple and relaxed (RFC 6376 3.4.5's example and more), the header data a signature covers
 * (fields picked bottom-up, over-signed names adding nothing, b= emptied, no final CRLF), and
 * the streamed body hash against a one-shot reference, for every split of many bodies. */
#include <check.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "dkim_canon.h"
#include "unit.h"

static const char *canon_header(enum dkim_canon c, const char *field)
{
    static struct buf out;
    buf_free(&out);
    buf_init(&out, 4096);
    size_t n = strlen(field);
    char *copy = malloc(n);   /* exact size: a read past the end shows */
    memcpy(copy, field, n);
    ck_assert_int_eq(dkim_canon_header(c, copy, n, &out), 0);
    free(copy);
    return out.data;
}

START_TEST(header_rfc6376_example)
{
    /* RFC 6376 3.4.5 */
    ck_assert_str_eq(canon_header(DKIM_CANON_RELAXED, "A: X\r\n"), "a:X\r\n");
    ck_assert_str_eq(canon_header(DKIM_CANON_RELAXED, "B : Y\t\r\n\tZ  \r\n"), "b:Y Z\r\n");
    ck_assert_str_eq(canon_header(DKIM_CANON_SIMPLE, "A: X\r\n"), "A: X\r\n");
    ck_assert_str_eq(canon_header(DKIM_CANON_SIMPLE, "B : Y\t\r\n\tZ  \r\n"),
                     "B : Y\t\r\n\tZ  \r\n");
}
END_TEST

START_TEST(header_relaxed_cases)
{
    ck_assert_str_eq(canon_header(DKIM_CANON_RELAXED, "SUBJECT:   a  \t b   \r\n"),
                     "subject:a b\r\n");
    ck_assert_str_eq(canon_header(DKIM_CANON_RELAXED, "X-Empty:\r\n"), "x-empty:\r\n");
    ck_assert_str_eq(canon_header(DKIM_CANON_RELAXED, "X-Ws:  \r\n \r\n"), "x-ws:\r\n");
    ck_assert_str_eq(canon_header(DKIM_CANON_RELAXED, "To: a,\r\n b,\r\n\t c"), "to:a, b, c\r\n");
    ck_assert_str_eq(canon_header(DKIM_CANON_RELAXED, "To: a\n b\n"), "to:a b\r\n");
    /* a colon in the value is no separator; a lone CR is kept */
    ck_assert_str_eq(canon_header(DKIM_CANON_RELAXED, "X-T : a:b\rc\r\n"), "x-t:a:b\rc\r\n");
    /* simple: an LF line end becomes CRLF, a missing one is added */
    ck_assert_str_eq(canon_header(DKIM_CANON_SIMPLE, "To: a\n b\n"), "To: a\r\n b\r\n");
    ck_assert_str_eq(canon_header(DKIM_CANON_SIMPLE, "To: a"), "To: a\r\n");
    struct buf out;
    buf_init(&out, 100);
    ck_assert_int_eq(dkim_canon_header(DKIM_CANON_RELAXED, "no colon\r\n", 10, &out), -1);
    buf_free(&out);
}
END_TEST

static const char *signed_header(const char *header, const char (*names)[DKIM_FIELD_NAME_MAX],
                                 size_t count, enum dkim_canon c, const char *sig)
{
    static struct buf out;
    buf_free(&out);
    buf_init(&out, 8192);
    ck_assert_int_eq(dkim_canon_signed_header(header, strlen(header), names, count, c, sig,
                                              strlen(sig), &out), 0);
    return out.data;
}

START_TEST(signed_header_bottom_up)
{
    const char *header = "X-A: first\r\nFrom: f\r\nX-A: second\r\nTo: t\r\nX-A:  third\r\n";
    const char names[][DKIM_FIELD_NAME_MAX] = { "x-a", "From", "X-A", "from", "x-a", "X-A",
                                               "To" };
    const char *sig = "DKIM-Signature: v=1; h=x-a; b=abc\r\n def\r\n";
    /* x-a three times: bottom-up; the fourth x-a and the second from add nothing */
    ck_assert_str_eq(signed_header(header, names, 7, DKIM_CANON_RELAXED, sig),
                     "x-a:third\r\nfrom:f\r\nx-a:second\r\nx-a:first\r\nto:t\r\n"
                     "dkim-signature:v=1; h=x-a; b=");
    ck_assert_str_eq(signed_header(header, names, 2, DKIM_CANON_SIMPLE, sig),
                     "X-A:  third\r\nFrom: f\r\nDKIM-Signature: v=1; h=x-a; b=");
}
END_TEST

START_TEST(signed_header_skips_own_field)
{
    /* a signature that lists DKIM-Signature never takes its own field for it */
    const char *header = "DKIM-Signature: v=1; b=old\r\nFrom: f\r\nDKIM-Signature: v=1; b=x\r\n";
    const char names[][DKIM_FIELD_NAME_MAX] = { "from", "dkim-signature" };
    struct buf out;
    buf_init(&out, 4096);
    const char *own = strstr(header, "DKIM-Signature: v=1; b=x");
    ck_assert_int_eq(dkim_canon_signed_header(header, strlen(header), names, 2,
                                              DKIM_CANON_RELAXED, own, strlen(own), &out), 0);
    ck_assert_str_eq(out.data, "from:f\r\ndkim-signature:v=1; b=old\r\ndkim-signature:v=1; b=");
    /* no b= in the signature field */
    buf_reset(&out);
    ck_assert_int_eq(dkim_canon_signed_header(header, strlen(header), names, 1,
                                              DKIM_CANON_RELAXED, "X: y\r\n", 6, &out), -1);
    ck_assert_uint_eq(out.len, 0);
    buf_free(&out);
}
END_TEST

/* ---- the body ---- */

static bool wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* The reference: split into lines, canonicalize each, join, drop trailing empty lines. */
static void reference_body(const char *body, size_t n, enum dkim_canon c, struct buf *out)
{
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(body + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - body) : n, stop = end;
        if (nl && stop > i && body[stop - 1] == '\r')
            stop--;
        struct buf line;
        buf_init(&line, BUF_UNBOUNDED);
        for (size_t k = i; k < stop; k++) {
            if (c == DKIM_CANON_RELAXED && wsp(body[k])) {
                while (k + 1 < stop && wsp(body[k + 1]))
                    k++;
                buf_putc(&line, ' ');
            } else {
                buf_putc(&line, body[k]);
            }
        }
        if (c == DKIM_CANON_RELAXED && line.len > 0 && line.data[line.len - 1] == ' ')
            buf_truncate(&line, line.len - 1);
        buf_append(out, line.data, line.len);
        buf_puts(out, "\r\n");
        buf_free(&line);
        i = end + 1;
    }
    while (out->len >= 2 && memcmp(out->data + out->len - 2, "\r\n", 2) == 0 &&
           (out->len == 2 || (out->len >= 4 && memcmp(out->data + out->len - 4, "\r\n", 2) == 0)))
        buf_truncate(out, out->len - 2);
    if (c == DKIM_CANON_SIMPLE && out->len == 0)
        buf_puts(out, "\r\n");
}

static void reference_digest(const char *body, size_t n, enum dkim_canon c, enum dkim_hash h,
                             bool has_limit, unsigned long long limit, unsigned char *digest,
                             unsigned long long *length)
{
    struct buf canon;
    buf_init(&canon, BUF_UNBOUNDED);
    reference_body(body, n, c, &canon);
    *length = canon.len;
    size_t take = has_limit && limit < canon.len ? (size_t)limit : canon.len;
    ck_assert(EVP_Digest(canon.data, take, digest, NULL,
                         h == DKIM_HASH_SHA1 ? EVP_sha1() : EVP_sha256(), NULL) == 1);
    buf_free(&canon);
}

static const char *canonical_body(const char *body, enum dkim_canon c)
{
    static struct buf out;
    buf_free(&out);
    buf_init(&out, BUF_UNBOUNDED);
    reference_body(body, strlen(body), c, &out);
    return out.data;
}

START_TEST(body_reference_rfc_example)
{
    /* RFC 6376 3.4.5, and the empty bodies; checks the reference the stream is held to */
    const char *body = " C \r\nD \t E\r\n\r\n\r\n";
    ck_assert_str_eq(canonical_body(body, DKIM_CANON_RELAXED), " C\r\nD E\r\n");
    ck_assert_str_eq(canonical_body(body, DKIM_CANON_SIMPLE), " C \r\nD \t E\r\n");
    ck_assert_str_eq(canonical_body("", DKIM_CANON_SIMPLE), "\r\n");
    ck_assert_str_eq(canonical_body("\r\n\r\n", DKIM_CANON_SIMPLE), "\r\n");
    ck_assert_str_eq(canonical_body("", DKIM_CANON_RELAXED), "");
    ck_assert_str_eq(canonical_body(" \r\n\t\r\n", DKIM_CANON_RELAXED), "");
    ck_assert_str_eq(canonical_body("abc", DKIM_CANON_SIMPLE), "abc\r\n");
    ck_assert_str_eq(canonical_body("a \r\n\r\nb \t", DKIM_CANON_RELAXED), "a\r\n\r\nb\r\n");
}
END_TEST

/* The stream fed body in the chunks cut at cuts[0..ncuts) (increasing offsets). */
static void stream_digest(const char *body, size_t n, const size_t *cuts, size_t ncuts,
                          enum dkim_canon c, enum dkim_hash h, bool has_limit,
                          unsigned long long limit, struct dkim_body_hash *bh)
{
    dkim_body_hash_init(bh, c, h, has_limit, limit);
    size_t at = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t to = k < ncuts ? cuts[k] : n;
        char *chunk = malloc(to - at + 1);   /* exact size, for the sanitizers */
        memcpy(chunk, body + at, to - at);
        dkim_body_hash_feed(bh, chunk, to - at);
        free(chunk);
        at = to;
    }
    dkim_body_hash_final(bh);
}

static void check_body(const char *body, size_t n, enum dkim_canon c, enum dkim_hash h,
                       bool has_limit, unsigned long long limit, const size_t *cuts,
                       size_t ncuts)
{
    unsigned char want[DKIM_DIGEST_MAX];
    unsigned long long want_len;
    reference_digest(body, n, c, h, has_limit, limit, want, &want_len);
    struct dkim_body_hash bh;
    stream_digest(body, n, cuts, ncuts, c, h, has_limit, limit, &bh);
    ck_assert_uint_eq(bh.digest_len, h == DKIM_HASH_SHA1 ? 20 : 32);
    ck_assert_msg(memcmp(bh.digest, want, bh.digest_len) == 0, "digest differs (canon %d, "
                  "limit %d/%llu, %zu cuts) for [%.*s]", c, has_limit, limit, ncuts, (int)n, body);
    ck_assert_uint_eq(bh.length, want_len);
    dkim_body_hash_free(&bh);
}

static const char *const bodies[] = {
    "", "\r\n", "\r\n\r\n\r\n", "a", "a\r\n", "a\r\n\r\n", " C \r\nD \t E\r\n\r\n\r\n",
    "  \t  \r\n \r\n", "x  \r\n\r\n  y \t\r\n \r\n\r\n", "\r", "a\r", "a\r\r\n", "\r\r\n\r",
    "one\ntwo\n\n", "l1  \t\r\n\r\n\r\n\t l2\t \r\n\r\nl3", "a \r b\r\n",
    "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n\r\n\r\n",
};

START_TEST(body_every_split)
{
    /* each body split at every one and every two points, every kind */
    for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
        const char *body = bodies[b];
        size_t n = strlen(body);
        for (int c = 0; c < 2; c++)
            for (int h = 0; h < 2; h++)
                for (size_t i = 0; i <= n; i++)
                    for (size_t j = i; j <= n; j++) {
                        size_t cuts[2] = { i, j };
                        check_body(body, n, (enum dkim_canon)c, (enum dkim_hash)h, false, 0,
                                   cuts, 2);
                        check_body(body, n, (enum dkim_canon)c, (enum dkim_hash)h, true,
                                   (i + j) % (n + 3), cuts, 2);
                    }
    }
}
END_TEST

START_TEST(body_random)
{
    /* random bodies of the bytes that matter, fed byte by byte and in random chunks */
    static const char alphabet[] = "ab \t\r\n\n\r\n  ";
    unsigned seed = 17;
    for (int round = 0; round < 400; round++) {
        size_t n = (size_t)(rand_r(&seed) % 300);
        char *body = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            body[i] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
        size_t bytes[300], cuts[300], ncuts = 0;
        for (size_t i = 1; i < n; i++) {
            bytes[i - 1] = i;
            if (rand_r(&seed) % 7 == 0)
                cuts[ncuts++] = i;
        }
        enum dkim_canon c = (enum dkim_canon)(round % 2);
        bool limited = round % 3 == 0;
        unsigned long long limit = (unsigned long long)(rand_r(&seed) % (n + 5));
        check_body(body, n, c, DKIM_HASH_SHA256, limited, limit, bytes, n > 0 ? n - 1 : 0);
        check_body(body, n, c, DKIM_HASH_SHA256, limited, limit, cuts, ncuts);
        free(body);
    }
}
END_TEST

START_TEST(body_known_hash)
{
    /* RFC 8463 A.3: bh= of its body, relaxed */
    const char *body = bodies[sizeof bodies / sizeof bodies[0] - 1];
    struct dkim_body_hash bh;
    stream_digest(body, strlen(body), NULL, 0, DKIM_CANON_RELAXED, DKIM_HASH_SHA256, false, 0,
                  &bh);
    char b64[64];
    EVP_EncodeBlock((unsigned char *)b64, bh.digest, (int)bh.digest_len);
    ck_assert_str_eq(b64, "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
    dkim_body_hash_free(&bh);
    /* RFC 6376 3.4.4: the empty body, simple, SHA-256 */
    stream_digest("", 0, NULL, 0, DKIM_CANON_SIMPLE, DKIM_HASH_SHA256, false, 0, &bh);
    EVP_EncodeBlock((unsigned char *)b64, bh.digest, (int)bh.digest_len);
    ck_assert_str_eq(b64, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
    dkim_body_hash_free(&bh);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dkim_canon");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, header_rfc6376_example);
    tcase_add_test(tc, header_relaxed_cases);
    tcase_add_test(tc, signed_header_bottom_up);
    tcase_add_test(tc, signed_header_skips_own_field);
    tcase_add_test(tc, body_reference_rfc_example);
    tcase_add_test(tc, body_every_split);
    tcase_add_test(tc, body_random);
    tcase_add_test(tc, body_known_hash);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
