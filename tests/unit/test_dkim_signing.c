/* test_dkim_signing.c: unit tests of the signing table (mail/dkim_signing.c: values, parent
 * domains, several selectors, relative key files, missing or bad keys, a missing table) and of
 * the streamed signer (mail/dkim_signer.c: any split gives the same stored bytes and
 * signatures, which are dkim_sign's over what is stored and verify; an 8-bit body is stored
 * and signed converted; no usable From: or no key: nothing signed, content unchanged). */
#include <check.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "dkim_canon.h"
#include "dkim_key.h"
#include "dkim_sig.h"
#include "dkim_sign.h"
#include "dkim_signer.h"
#include "dkim_signing.h"
#include "dkim_verify.h"
#include "header_scanner.h"
#include "unit.h"

#define T 1700000000LL

static char dir[256];

static void setup(void)
{
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_dkim_signing.XXXXXX");
}

static void teardown(void)
{
    unit_rmtree(dir);
}

/* A new key of type written to dir/name. */
static void write_key(const char *name, enum dkim_key_type type)
{
    EVP_PKEY *k = dkim_key_generate(type, 1024);
    ck_assert_ptr_nonnull(k);
    struct buf pem;
    buf_init(&pem, BUF_UNBOUNDED);
    ck_assert_int_eq(dkim_key_private_to_pem(k, &pem), 0);
    ck_assert_int_eq(unit_write_file(unit_fmt("%s/%s", dir, name), buf_str(&pem)), 0);
    buf_free(&pem);
    EVP_PKEY_free(k);
}

static struct dkim_signing_table *open_table(const char *text, char *err, size_t errlen)
{
    ck_assert_int_eq(unit_write_file(unit_fmt("%s/keys", dir), text), 0);
    return dkim_signing_open(unit_fmt("texthash:%s/keys", dir), dir, false, err, errlen);
}

/* ---- the table ---- */

START_TEST(parse_values)
{
    struct dkim_signing_ref r[DKIM_SIGNING_SELECTORS_MAX];
    size_t n;
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(dkim_signing_parse("s1:/etc/k1, s2.x:dkim/k2", 24, r, &n, err,
                                        sizeof err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(r[0].selector, "s1");
    ck_assert_str_eq(r[0].keyfile, "/etc/k1");
    ck_assert_str_eq(r[1].selector, "s2.x");
    ck_assert_str_eq(r[1].keyfile, "dkim/k2");
    ck_assert_int_eq(dkim_signing_parse(" a:b\tc:d ,", 10, r, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(r[1].keyfile, "d");
    /* the length counts, not a NUL */
    ck_assert_int_eq(dkim_signing_parse("a:bc:d", 3, r, &n, err, sizeof err), 0);
    ck_assert_str_eq(r[0].keyfile, "b");
    /* a NUL in a key file name is no end of it */
    ck_assert_int_eq(dkim_signing_parse("s:a\0b", 5, r, &n, err, sizeof err), -1);
    static const char *const bad[] = {
        "", " , ", "s1", ":k", "s1:", "a..b:k", "a b:k", "s.:k", "s1:a, S1:b",
        "a:1 b:2 c:3 d:4 e:5 f:6 g:7 h:8 i:9", "s@x:k", "s:a\x01b", NULL,
    };
    for (int i = 0; bad[i]; i++) {
        err[0] = '\0';
        ck_assert_msg(dkim_signing_parse(bad[i], strlen(bad[i]), r, &n, err, sizeof err) < 0,
                      "%s", bad[i]);
        ck_assert(err[0] != '\0');
    }
    ck_assert(dkim_signing_domain_ok("example.com"));
    ck_assert(dkim_signing_domain_ok("a-b_c.example"));
    ck_assert(!dkim_signing_domain_ok("example.com."));
    ck_assert(!dkim_signing_domain_ok(".example.com"));
    ck_assert(!dkim_signing_domain_ok("exa mple.com"));
    ck_assert(!dkim_signing_domain_ok(""));
}
END_TEST

START_TEST(parents_and_selectors)
{
    write_key("k1.pem", DKIM_KEY_RSA);
    write_key("k2.pem", DKIM_KEY_ED25519);
    write_key("k3.pem", DKIM_KEY_ED25519);
    char err[ERR_TEXT_MAX] = "";
    struct dkim_signing_table *t = open_table(
        unit_fmt("# comment\nexample.com rsa:k1.pem, ed:%s/k2.pem\n"
                 "sub.example.org s3:k3.pem\n", dir), err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    ck_assert_uint_eq(dkim_signing_domains(t), 2);
    const struct dkim_signing_key *k;
    ck_assert_uint_eq(dkim_signing_lookup(t, "example.com", &k), 2);
    ck_assert_str_eq(k[0].domain, "example.com");
    ck_assert_str_eq(k[0].selector, "rsa");
    ck_assert_int_eq(k[0].type, DKIM_KEY_RSA);
    ck_assert_str_eq(dkim_signing_alg(&k[0]), "rsa-sha256");
    /* a relative key file is relative to the configuration directory */
    ck_assert_str_eq(k[0].path, unit_fmt("%s/k1.pem", dir));
    ck_assert_str_eq(k[1].selector, "ed");
    ck_assert_int_eq(k[1].type, DKIM_KEY_ED25519);
    ck_assert_str_eq(dkim_signing_alg(&k[1]), "ed25519-sha256");
    ck_assert_str_eq(k[1].path, unit_fmt("%s/k2.pem", dir));
    /* parents, case, a final dot */
    ck_assert_uint_eq(dkim_signing_lookup(t, "a.b.Example.COM.", &k), 2);
    ck_assert_str_eq(k[0].domain, "example.com");
    ck_assert_uint_eq(dkim_signing_lookup(t, "x.sub.example.org", &k), 1);
    ck_assert_str_eq(k[0].domain, "sub.example.org");
    ck_assert_str_eq(k[0].selector, "s3");
    /* not a parent: the domain itself is not signed for its subdomain's key, nor a lookalike */
    ck_assert_uint_eq(dkim_signing_lookup(t, "example.org", &k), 0);
    ck_assert_ptr_null(k);
    ck_assert_uint_eq(dkim_signing_lookup(t, "badexample.com", &k), 0);
    ck_assert_uint_eq(dkim_signing_lookup(t, "com", &k), 0);
    ck_assert_uint_eq(dkim_signing_lookup(t, "", &k), 0);
    dkim_signing_close(t);
}
END_TEST

START_TEST(bad_keys_fail_at_open)
{
    write_key("k1.pem", DKIM_KEY_RSA);
    char err[ERR_TEXT_MAX] = "";
    ck_assert_ptr_null(open_table("example.com s1:k1.pem, s2:missing.pem\n", err, sizeof err));
    ck_assert_msg(strstr(err, "example.com") && strstr(err, unit_fmt("%s/missing.pem", dir)) &&
                  strstr(err, "No such file"), "%s", err);
    ck_assert_int_eq(unit_write_file(unit_fmt("%s/junk.pem", dir), "not a key\n"), 0);
    ck_assert_ptr_null(open_table("other.example s1:junk.pem\n", err, sizeof err));
    ck_assert_msg(strstr(err, "other.example") && strstr(err, "junk.pem") &&
                  strstr(err, "not an RSA or Ed25519"), "%s", err);
    ck_assert_ptr_null(open_table("example.com k1.pem\n", err, sizeof err));
    ck_assert_msg(strstr(err, "example.com") && strstr(err, "SELECTOR:KEYFILE"), "%s", err);
    ck_assert_ptr_null(open_table("not_a/domain s1:k1.pem\n", err, sizeof err));
    ck_assert_msg(strstr(err, "not a domain name"), "%s", err);
}
END_TEST

START_TEST(missing_table)
{
    char err[ERR_TEXT_MAX] = "";
    const char *spec = unit_fmt("texthash:%s/none", dir);
    /* the default table of an old install: empty, no error */
    struct dkim_signing_table *t = dkim_signing_open(spec, dir, true, err, sizeof err);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(dkim_signing_domains(t), 0);
    dkim_signing_close(t);
    t = dkim_signing_open(unit_fmt("hash:%s/none", dir), dir, true, err, sizeof err);
    ck_assert_ptr_nonnull(t);
    dkim_signing_close(t);
    /* any other missing table is an error */
    ck_assert_ptr_null(dkim_signing_open(spec, dir, false, err, sizeof err));
    ck_assert_msg(strstr(err, "dkim_signing_keys") && strstr(err, "none"), "%s", err);
    t = dkim_signing_open("", dir, false, err, sizeof err);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(dkim_signing_domains(t), 0);
    dkim_signing_close(t);
}
END_TEST

/* ---- the signer ---- */

/* Runs msg through a signer fed in pieces of step bytes (after a first piece of first bytes);
 * the stored bytes in stored, the fields in fields. */
static enum dkim_signer_status run(const struct dkim_signing_table *t, const char *msg,
                                   size_t first, size_t step, struct buf *stored,
                                   struct buf *fields, char *why, size_t whylen)
{
    size_t len = strlen(msg);
    buf_reset(stored);
    buf_reset(fields);
    struct dkim_signer *s = dkim_signer_new(t, 4096, T);
    for (size_t i = 0; i < len;) {
        size_t n = i == 0 && first ? first : step;
        if (n > len - i)
            n = len - i;
        ck_assert_int_eq(dkim_signer_feed(s, msg + i, n, stored), 0);
        i += n;
    }
    enum dkim_signer_status r = dkim_signer_finish(s, stored, fields, why, whylen);
    if (r == DKIM_SIGNER_SIGNED) {
        ck_assert_uint_eq(dkim_signer_count(s), 2);
        ck_assert_str_eq(dkim_signer_key(s, 0)->selector, "rsa");
        ck_assert_str_eq(dkim_signer_key(s, 1)->selector, "ed");
        ck_assert_ptr_null(dkim_signer_key(s, 2));
    }
    dkim_signer_free(s);
    return r;
}

static struct dkim_signing_table *two_keys(void)
{
    write_key("rsa.pem", DKIM_KEY_RSA);
    write_key("ed.pem", DKIM_KEY_ED25519);
    char err[ERR_TEXT_MAX] = "";
    struct dkim_signing_table *t = open_table("example.com rsa:rsa.pem ed:ed.pem\n", err,
                                              sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    return t;
}

/* The signatures dkim_sign makes for the message stored (header, empty line, body): what the
 * signer must have made. */
static void expected_fields(const struct dkim_signing_table *t, const struct buf *stored,
                            struct buf *out)
{
    struct header_fields it;
    struct header_field f;
    header_fields_init(&it, stored->data, stored->len);
    while (header_fields_next(&it, &f))
        ;
    struct dkim_body_hash bh;
    dkim_body_hash_init(&bh, DKIM_CANON_RELAXED, DKIM_HASH_SHA256, false, 0);
    dkim_body_hash_feed(&bh, stored->data + it.scan.body, stored->len - it.scan.body);
    dkim_body_hash_final(&bh);
    const struct dkim_signing_key *k;
    size_t n = dkim_signing_lookup(t, "example.com", &k);
    for (size_t i = 0; i < n; i++) {
        struct dkim_sign_params p = { k[i].domain, k[i].selector, k[i].pkey, T, NULL };
        char err[256];
        ck_assert_int_eq(dkim_sign(&p, stored->data, it.scan.end, bh.digest, bh.digest_len, out,
                                   err, sizeof err), 0);
    }
    dkim_body_hash_free(&bh);
}

/* Each signature of fields checked with dkim_verify against its key's public record. */
static void verifies(const struct dkim_signing_table *t, const struct buf *stored,
                     const struct buf *fields)
{
    struct buf msg;
    buf_init(&msg, BUF_UNBOUNDED);
    buf_append(&msg, fields->data, fields->len);
    buf_append(&msg, stored->data, stored->len);
    struct header_field sigs[4];
    size_t nsig = 0;
    struct header_fields it;
    struct header_field f;
    header_fields_init(&it, msg.data, msg.len);
    while (header_fields_next(&it, &f))
        if (f.name_len == 14 && strncasecmp(msg.data + f.start, "DKIM-Signature", 14) == 0)
            sigs[nsig++] = f;
    ck_assert_uint_eq(nsig, 2);
    for (size_t i = 0; i < nsig; i++) {
        static struct dkim_signature sig;
        enum dkim_result r;
        char why[ERR_TEXT_MAX] = "";
        f = sigs[i];
        ck_assert_int_eq(dkim_sig_parse(msg.data + f.value, f.end - f.value, T, &sig, &r, why,
                                        sizeof why), 0);
        const struct dkim_signing_key *k;
        size_t n = dkim_signing_lookup(t, sig.domain, &k);
        while (n && strcmp(k[n - 1].selector, sig.selector) != 0)
            n--;
        ck_assert_uint_gt(n, 0);
        struct buf rec;
        buf_init(&rec, BUF_UNBOUNDED);
        ck_assert_int_eq(dkim_key_record(k[n - 1].pkey, &rec), 0);
        struct dkim_key key;
        ck_assert_int_eq(dkim_key_parse(rec.data, rec.len, &key, &r, why, sizeof why), 0);
        struct dkim_body_hash bh;
        dkim_body_hash_init(&bh, sig.body_canon, DKIM_HASH_SHA256, false, 0);
        dkim_body_hash_feed(&bh, msg.data + it.scan.body, msg.len - it.scan.body);
        dkim_body_hash_final(&bh);
        enum dkim_result v = dkim_verify(&sig, msg.data, it.scan.end, msg.data + f.start,
                                         f.end - f.start, &bh, &key, why, sizeof why);
        ck_assert_msg(v == DKIM_PASS, "%s: %s", sig.selector, why);
        dkim_body_hash_free(&bh);
        dkim_key_free(&key);
        buf_free(&rec);
    }
    buf_free(&msg);
}

static const char plain[] =
    "From: Alice <alice@mail.example.com>\r\n"
    "To: bob@example.net\r\n"
    "Subject: hello\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "Message-ID: <1@example.com>\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "\r\n"
    "--\r\nAlice  \r\n\r\n\r\n";

/* Signs msg whole into stored and fields, checks the signatures are dkim_sign's over what is
 * stored and verify, and that a first piece of any length below max_first, and pieces of
 * every size below max_step, give the same. */
static void signed_alike(const struct dkim_signing_table *t, const char *msg, size_t max_first,
                         size_t max_step, struct buf *stored, struct buf *fields)
{
    struct buf s2, f2, want;
    buf_init(&s2, BUF_UNBOUNDED);
    buf_init(&f2, BUF_UNBOUNDED);
    buf_init(&want, BUF_UNBOUNDED);
    char why[256];
    ck_assert_int_eq(run(t, msg, 0, strlen(msg), stored, fields, why, sizeof why),
                     DKIM_SIGNER_SIGNED);
    expected_fields(t, stored, &want);
    ck_assert_str_eq(buf_str(fields), buf_str(&want));
    verifies(t, stored, fields);
    for (size_t first = 1; first < max_first; first++) {
        ck_assert_int_eq(run(t, msg, first, strlen(msg), &s2, &f2, why, sizeof why),
                         DKIM_SIGNER_SIGNED);
        ck_assert_str_eq(buf_str(&s2), buf_str(stored));
        ck_assert_str_eq(buf_str(&f2), buf_str(fields));
    }
    for (size_t step = 1; step < max_step; step++) {
        ck_assert_int_eq(run(t, msg, 0, step, &s2, &f2, why, sizeof why), DKIM_SIGNER_SIGNED);
        ck_assert_str_eq(buf_str(&s2), buf_str(stored));
        ck_assert_str_eq(buf_str(&f2), buf_str(fields));
    }
    buf_free(&s2);
    buf_free(&f2);
    buf_free(&want);
}

START_TEST(any_split_same_result)
{
    struct dkim_signing_table *t = two_keys();
    struct buf stored, fields;
    buf_init(&stored, BUF_UNBOUNDED);
    buf_init(&fields, BUF_UNBOUNDED);
    signed_alike(t, plain, strlen(plain), 8, &stored, &fields);
    /* 7-bit: stored as it came */
    ck_assert_str_eq(buf_str(&stored), plain);
    ck_assert(strncmp(buf_str(&fields), "DKIM-Signature: v=1; a=rsa-sha256;", 34) == 0);
    ck_assert_ptr_nonnull(strstr(buf_str(&fields), "DKIM-Signature: v=1; a=ed25519-sha256;"));
    ck_assert_ptr_nonnull(strstr(buf_str(&fields), "d=example.com"));
    buf_free(&stored);
    buf_free(&fields);
    dkim_signing_close(t);
}
END_TEST

static const char eightbit[] =
    "From: alice@example.com\r\n"
    "Subject: caf\xc3\xa9\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Un caf\xc3\xa9, s'il vous pla\xc3\xaet.\r\n";

START_TEST(eightbit_converted_then_signed)
{
    struct dkim_signing_table *t = two_keys();
    struct buf stored, fields;
    buf_init(&stored, BUF_UNBOUNDED);
    buf_init(&fields, BUF_UNBOUNDED);
    signed_alike(t, eightbit, 40, 40, &stored, &fields);
    ck_assert_msg(strstr(buf_str(&stored), "Content-Transfer-Encoding: quoted-printable\r\n") &&
                  strstr(buf_str(&stored), "\r\n\r\nUn caf=C3=A9, s'il vous pla=C3=AEt.\r\n") &&
                  !strstr(buf_str(&stored), "8bit"), "%s", buf_str(&stored));
    /* a domain without a key: stored unchanged, 8-bit and all */
    char other[sizeof eightbit], why[256];
    snprintf(other, sizeof other, "%s", eightbit);
    memcpy(strstr(other, "example.com"), "example.net", 11);
    ck_assert_int_eq(run(t, other, 0, 7, &stored, &fields, why, sizeof why),
                     DKIM_SIGNER_NO_KEY);
    ck_assert_str_eq(buf_str(&stored), other);
    ck_assert_uint_eq(fields.len, 0);
    ck_assert_str_eq(why, "");
    buf_free(&stored);
    buf_free(&fields);
    dkim_signing_close(t);
}
END_TEST

START_TEST(no_usable_from)
{
    struct dkim_signing_table *t = two_keys();
    struct buf stored, fields;
    buf_init(&stored, BUF_UNBOUNDED);
    buf_init(&fields, BUF_UNBOUNDED);
    static const struct { const char *msg, *why; } cases[] = {
        { "To: bob@example.com\r\n\r\nbody\r\n", "no From: field" },
        { "From: a@example.com\r\nFrom: b@example.com\r\n\r\nbody\r\n",
          "several From: fields" },
        { "From: a@example.com, b@example.com\r\n\r\nbody\r\n",
          "From: field with several addresses" },
        { "From: alice\r\n\r\ncaf\xc3\xa9\r\n", "From: field with no domain" },
        { "Subject: only a header, no From", "no From: field" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char why[256] = "x";
        ck_assert_int_eq(run(t, cases[i].msg, 0, 5, &stored, &fields, why, sizeof why),
                         DKIM_SIGNER_NOT_SIGNED);
        ck_assert_str_eq(why, cases[i].why);
        ck_assert_str_eq(buf_str(&stored), cases[i].msg);
        ck_assert_uint_eq(fields.len, 0);
    }
    /* a header longer than header_limit (4096 in run()) is not signed */
    struct buf big;
    buf_init(&big, BUF_UNBOUNDED);
    buf_puts(&big, "From: a@example.com\r\n");
    for (int i = 0; i < 100; i++)
        buf_printf(&big, "X-Filler-%d: %060d\r\n", i, i);
    buf_puts(&big, "\r\nbody\r\n");
    char why[256];
    ck_assert_int_eq(run(t, buf_str(&big), 0, 100, &stored, &fields, why, sizeof why),
                     DKIM_SIGNER_NOT_SIGNED);
    ck_assert_str_eq(why, "header larger than header_size_limit");
    ck_assert_str_eq(buf_str(&stored), buf_str(&big));
    buf_free(&big);
    dkim_signing_close(t);
    /* an empty table: nothing to say */
    t = dkim_signing_open("", dir, false, why, sizeof why);
    ck_assert_int_eq(run(t, "To: x\r\n\r\n", 0, 3, &stored, &fields, why, sizeof why),
                     DKIM_SIGNER_NO_KEY);
    ck_assert_str_eq(buf_str(&stored), "To: x\r\n\r\n");
    dkim_signing_close(t);
    buf_free(&stored);
    buf_free(&fields);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("dkim_signing");
    TCase *tc = tcase_create("table");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, parse_values);
    tcase_add_test(tc, parents_and_selectors);
    tcase_add_test(tc, bad_keys_fail_at_open);
    tcase_add_test(tc, missing_table);
    suite_add_tcase(s, tc);
    tc = tcase_create("signer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, any_split_same_result);
    tcase_add_test(tc, eightbit_converted_then_signed);
    tcase_add_test(tc, no_usable_from);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
