/* test_dkim_parse.c: unit tests of the DKIM readers: the tag list (mail/dkim_tags.c: white
 * space, empty specs, duplicates, bounds, base64 with folding), the DKIM-Signature field
 * (mail/dkim_sig.c: each tag and each RFC 6376 6.1.1 failure, the field with b= emptied byte
 * for byte) and the key record (mail/dkim_key.c: rsa in both encodings, ed25519, revoked,
 * too short, h=, s=, t=, the record written for a key and read back, private keys in PEM). */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include "base64.h"
#include "buf.h"
#include "dkim_key.h"
#include "dkim_sig.h"
#include "dkim_tags.h"
#include "unit.h"

/* RFC 8463 A.2: the RSA key (SubjectPublicKeyInfo) */
#define RSA_P "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bd" \
              "OKb2" \
              "jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5Qj" \
              "vHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"
#define ED_P "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

/* a copy of s in an exact-size heap buffer */
static char *exact(const char *s, size_t *n)
{
    *n = strlen(s);
    char *p = malloc(*n + 1);
    memcpy(p, s, *n);
    return p;
}

/* the tags of s as "name=value|...", or "error" */
static const char *tags_of(const char *s)
{
    static char out[1024];
    size_t n;
    char *p = exact(s, &n);
    struct dkim_tags t;
    char err[ERR_TEXT_MAX];
    if (dkim_tags_parse(p, n, &t, err, sizeof err) < 0) {
        free(p);
        return "error";
    }
    out[0] = '\0';
    for (size_t k = 0; k < t.n; k++) {
        const struct dkim_tag *g = &t.tag[k];
        ck_assert(g->name + g->name_len <= g->eq && g->eq < g->value &&
                  g->value + g->value_len <= g->end && g->end <= n);
        ck_assert(g->end == n || p[g->end] == ';');
        snprintf(out + strlen(out), sizeof out - strlen(out), "%.*s=%.*s|", (int)g->name_len,
                 p + g->name, (int)g->value_len, p + g->value);
    }
    free(p);
    return out;
}

START_TEST(tags)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        { "", "" },
        { "a=1", "a=1|" },
        { "a=1;", "a=1|" },
        { " a = 1 ; b=2;c=", "a=1|b=2|c=|" },
        { "a=1;;b=2", "a=1|b=2|" },
        { "h=from : to :\r\n subject", "h=from : to :\r\n subject|" },
        { "b=abc\r\n def\r\n", "b=abc\r\n def|" },
        { "x_1=y", "x_1=y|" },
        { "a=1; a=2", "error" },            /* duplicate */
        { "a=1; A=2", "a=1|A=2|" },         /* names are case-sensitive */
        { "=1", "error" },
        { "1a=1", "error" },
        { "a 1=2", "error" },
        { "a", "error" },
        { "a=b\x01", "error" },
        { "a=\x7f", "error" },
        { "abcdefghijklmnopqrstuvwxyzabcdefg=1", "error" },  /* a name of 33 bytes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(strcmp(tags_of(cases[i].in), cases[i].want) == 0, "%s: got %s",
                      cases[i].in, tags_of(cases[i].in));
    /* the bounds: 32 tags, not 33 */
    char many[512] = "";
    for (int k = 0; k < 33; k++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "t%d=%d;", k, k);
    ck_assert_str_eq(tags_of(many), "error");
    *strrchr(many, 't') = '\0';
    ck_assert_str_ne(tags_of(many), "error");
}
END_TEST

START_TEST(base64)
{
    unsigned char out[16];
    ck_assert_int_eq(base64_decode("aGVs\r\n bG8=", 11, out, sizeof out, true), 5);
    ck_assert(memcmp(out, "hello", 5) == 0);
    ck_assert_int_eq(base64_decode("aGVsbG8", 7, out, sizeof out, true), -1);   /* unpadded */
    ck_assert_int_eq(base64_decode("aGV*bG8=", 8, out, sizeof out, true), -1);
    ck_assert_int_eq(base64_decode("aGVsbG8=", 8, out, 4, true), -1);            /* too long */
    char enc[BASE64_LEN(5) + 1];
    ck_assert_uint_eq(base64_encode((const unsigned char *)"hello", 5, enc), 8);
    ck_assert_str_eq(enc, "aGVsbG8=");
}
END_TEST

#define SIG_OK \
    "v=1; a=rsa-sha256; d=Example.COM; s=sel.one; h=From:To; bh=aGVsbG8=; b=d29y\r\n bGQ="

static int parse_sig(const char *value, long long now, struct dkim_signature *sig,
                     enum dkim_result *r, char *err)
{
    size_t n;
    char *p = exact(value, &n);
    *r = DKIM_PASS;
    int rc = dkim_sig_parse(p, n, now, sig, r, err, ERR_TEXT_MAX);
    free(p);
    return rc;
}

START_TEST(signature_fields)
{
    static struct dkim_signature sig;
    enum dkim_result r;
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(parse_sig(SIG_OK, 0, &sig, &r, err), 0);
    ck_assert_int_eq(sig.alg, DKIM_ALG_RSA_SHA256);
    ck_assert_int_eq(sig.header_canon, DKIM_CANON_SIMPLE);
    ck_assert_int_eq(sig.body_canon, DKIM_CANON_SIMPLE);
    ck_assert_str_eq(sig.domain, "example.com");
    ck_assert_str_eq(sig.selector, "sel.one");
    ck_assert_str_eq(sig.identity, "@example.com");
    ck_assert_str_eq(sig.identity_domain, "example.com");
    ck_assert_uint_eq(sig.header_count, 2);
    ck_assert_str_eq(sig.headers[0], "From");
    ck_assert_str_eq(sig.headers[1], "To");
    ck_assert_uint_eq(sig.bh_len, 5);
    ck_assert(memcmp(sig.bh, "hello", 5) == 0);
    ck_assert_uint_eq(sig.b_len, 5);
    ck_assert(memcmp(sig.b, "world", 5) == 0);
    ck_assert(!sig.has_length && !sig.has_timestamp && !sig.has_expiry);

    ck_assert_int_eq(parse_sig("v=1; a=ed25519-sha256; c=relaxed; d=a.b; s=s; h=from : x ;"
                               " bh=aGVsbG8=; b=d29ybGQ=; i=Joe@Sub.A.b; l=123; t=100; x=200;"
                               " q=dns/txt; z=unknown; new=tag", 150, &sig, &r, err), 0);
    ck_assert_int_eq(sig.alg, DKIM_ALG_ED25519_SHA256);
    ck_assert_int_eq(sig.header_canon, DKIM_CANON_RELAXED);
    ck_assert_int_eq(sig.body_canon, DKIM_CANON_SIMPLE);
    ck_assert_str_eq(sig.identity, "Joe@sub.a.b");
    ck_assert_str_eq(sig.identity_domain, "sub.a.b");
    ck_assert_str_eq(sig.headers[0], "from");
    ck_assert_str_eq(sig.headers[1], "x");
    ck_assert(sig.has_length && sig.length == 123);
    ck_assert(sig.has_timestamp && sig.timestamp == 100);
    ck_assert(sig.has_expiry && sig.expiry == 200);

    ck_assert_int_eq(parse_sig("v=1; a=rsa-sha1; c=simple/relaxed; d=a.b; s=s; h=from;"
                               " bh=aGVsbG8=; b=d29ybGQ=", 0, &sig, &r, err), 0);
    ck_assert_int_eq(sig.alg, DKIM_ALG_RSA_SHA1);
    ck_assert_int_eq(sig.body_canon, DKIM_CANON_RELAXED);
}
END_TEST

START_TEST(signature_errors)
{
    static const struct {
        const char *value;
        enum dkim_result result;
        const char *reason;
    } cases[] = {
        { "v=1; a=rsa-sha256; d=a.b; s=s; h=To; bh=aGVsbG8=; b=d29ybGQ=", DKIM_PERMERROR,
          "From field not signed" },
        { "v=1; a=rsa-sha256; d=a.b; s=s; h=From; bh=aGVsbG8=; b=d29ybGQ=; i=@evil.b",
          DKIM_PERMERROR, "i= domain not within d=" },
        { "v=1; a=rsa-sha256; d=a.b; s=s; h=From; bh=aGVsbG8=; b=d29ybGQ=; i=@xa.b",
          DKIM_PERMERROR, "i= domain not within d=" },
        { "v=1; a=rsa-sha256; d=a.b; s=s; h=From; bh=aGVsbG8=; b=d29ybGQ=; i=joe",
          DKIM_PERMERROR, "bad i= tag" },
        { "v=1; a=rsa-sha256; d=a.b; s=s; h=From; bh=aGVsbG8=; b=d29ybGQ=; t=300; x=200",
          DKIM_PERMERROR, "x= before t=" },
        { "v=1; a=rsa-sha256; d=a.b; s=s; h=From; bh=aGVsbG8=; b=d29ybGQ=; x=999",
          DKIM_FAIL, "signature expired" },
        { "v=2; a=rsa-sha256; d=a.b; s=s; h=From; bh=aGVsbG8=; b=d29ybGQ=", DKIM_PERMERROR,
          "incompatible version" },
        { "v=1; a=rsa-md5; d=a.b; s=s; h=From; bh=aGVsbG8=; b=d29ybGQ=", DKIM_PERMERROR,
          "unsupported algorithm" },
        { "v=1; a=rsa-sha256; c=fancy; d=a.b; s=s; h=From; bh=aGVsbG8=; b=d29ybGQ=",
          DKIM_PERMERROR, "unsupported canonicalization" },
        { "v=1; a=rsa-sha256; d=a.b; s=s; h=From; bh=aGVsbG8=; b=d29ybGQ=; q=http",
          DKIM_PERMERROR, "unsupported query method" },
        { "v=1; a=rsa-sha256; d=a.b; s=s; h=From; bh=aGVsbG8=", DKIM_PERMERROR,
          "signature missing required tag b=" },
        { "a=rsa-sha256; d=a.b; s=s; h=From; bh=aGVsbG8=; b=d29ybGQ=", DKIM_PERMERROR,
          "signature missing required tag v=" },
        { "v=1; a=rsa-sha256; d=a..b; s=s; h=From; bh=aGVsbG8=; b=d29ybGQ=", DKIM_PERMERROR,
          "bad d= tag" },
        { "v=1; a=rsa-sha256; d=a.b; s=s; h=From; bh=aGVsbG8; b=d29ybGQ=", DKIM_PERMERROR,
          "bad bh= tag" },
        { "v=1; a=rsa-sha256; d=a.b; s=s; h=From; bh=aGVsbG8=; b=", DKIM_PERMERROR,
          "bad b= tag" },
        { "v=1; a=rsa-sha256; d=a.b; s=s; h=From::To; bh=aGVsbG8=; b=d29ybGQ=",
          DKIM_PERMERROR, "bad h= tag" },
        { "v=1; a=rsa-sha256; d=a.b; s=s; h=From; bh=aGVsbG8=; b=d29ybGQ=; l=12a",
          DKIM_PERMERROR, "bad l= tag" },
        { "v=1; v=1; a=rsa-sha256", DKIM_PERMERROR, NULL },
    };
    static struct dkim_signature sig;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum dkim_result r;
        char err[ERR_TEXT_MAX] = "";
        ck_assert_msg(parse_sig(cases[i].value, 1000, &sig, &r, err) == -1, "%s",
                      cases[i].value);
        ck_assert_int_eq(r, cases[i].result);
        if (cases[i].reason)
            ck_assert_str_eq(err, cases[i].reason);
    }
    /* h= of 64 names is read, of 65 is not */
    char value[2048] = "v=1; a=rsa-sha256; d=a.b; s=s; bh=aGVsbG8=; b=d29ybGQ=; h=from";
    enum dkim_result r;
    char err[ERR_TEXT_MAX];
    for (int k = 1; k < 64; k++)
        strcat(value, ":x");
    ck_assert_int_eq(parse_sig(value, 0, &sig, &r, err), 0);
    ck_assert_uint_eq(sig.header_count, 64);
    strcat(value, ":x");
    ck_assert_int_eq(parse_sig(value, 0, &sig, &r, err), -1);
}
END_TEST

static const char *without_b(const char *field)
{
    static struct buf out;
    buf_free(&out);
    buf_init(&out, 4096);
    size_t n;
    char *p = exact(field, &n);
    int rc = dkim_sig_without_b(p, n, &out);
    free(p);
    return rc == 0 ? out.data : "error";
}

START_TEST(signature_without_b)
{
    ck_assert_str_eq(without_b("DKIM-Signature: v=1; b=abc\r\n def==\r\n"),
                     "DKIM-Signature: v=1; b=\r\n");
    ck_assert_str_eq(without_b("DKIM-Signature: v=1;\r\n\tb=abc; bh=xyz;\r\n d=x\r\n"),
                     "DKIM-Signature: v=1;\r\n\tb=; bh=xyz;\r\n d=x\r\n");
    ck_assert_str_eq(without_b("DKIM-Signature: b = ab  ;x=1"), "DKIM-Signature: b =;x=1");
    ck_assert_str_eq(without_b("DKIM-Signature: v=1; b=abc"), "DKIM-Signature: v=1; b=");
    ck_assert_str_eq(without_b("DKIM-Signature: v=1; b=abc \r\n"),
                     "DKIM-Signature: v=1; b=\r\n");
    ck_assert_str_eq(without_b("DKIM-Signature: v=1; bh=abc"), "error");
    ck_assert_str_eq(without_b("DKIM-Signature v=1; b=abc"), "error");
}
END_TEST

/* ---- key records ---- */

static int parse_key(const char *txt, struct dkim_key *key, enum dkim_result *r, char *err)
{
    size_t n;
    char *p = exact(txt, &n);
    int rc = dkim_key_parse(p, n, key, r, err, ERR_TEXT_MAX);
    free(p);
    return rc;
}

START_TEST(key_records)
{
    struct dkim_key key;
    enum dkim_result r;
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(parse_key("v=DKIM1; k=rsa; p=" RSA_P, &key, &r, err), 0);
    ck_assert_int_eq(key.type, DKIM_KEY_RSA);
    ck_assert_int_eq(key.bits, 1024);
    ck_assert(key.sha1_ok && key.sha256_ok && !key.testing && !key.strict);
    dkim_key_free(&key);
    ck_assert_int_eq(parse_key("p=" RSA_P "; h=sha1; t=y:s; s=email:other; n=note", &key, &r,
                               err), 0);
    ck_assert(key.sha1_ok && !key.sha256_ok && key.testing && key.strict);
    dkim_key_free(&key);
    ck_assert_int_eq(parse_key("v=DKIM1; k=ed25519; p=" ED_P, &key, &r, err), 0);
    ck_assert_int_eq(key.type, DKIM_KEY_ED25519);
    ck_assert_int_eq(dkim_key_type_of(key.pkey), DKIM_KEY_ED25519);
    dkim_key_free(&key);
    /* a bare RSAPublicKey (PKCS#1), as some publish: the SPKI above from byte 22 on */
    unsigned char der[256];
    long n = base64_decode(RSA_P, strlen(RSA_P), der, sizeof der, true);
    ck_assert_int_gt(n, 22);
    char b64[BASE64_LEN(256) + 1], rec[512];
    base64_encode(der + 22, (size_t)n - 22, b64);
    snprintf(rec, sizeof rec, "v=DKIM1; p=%s", b64);
    ck_assert_int_eq(parse_key(rec, &key, &r, err), 0);
    ck_assert_int_eq(key.bits, 1024);
    dkim_key_free(&key);

    static const struct {
        const char *txt;
        enum dkim_result result;
        const char *reason;
    } bad[] = {
        { "v=DKIM1; p=", DKIM_FAIL, "key revoked" },
        { "v=DKIM1; k=ed25519; p=", DKIM_FAIL, "key revoked" },
        { "v=DKIM1; k=rsa", DKIM_PERMERROR, "key record without p=" },
        { "k=rsa; v=DKIM1; p=" RSA_P, DKIM_PERMERROR, "bad key record version" },
        { "v=DKIM2; p=" RSA_P, DKIM_PERMERROR, "bad key record version" },
        { "v=DKIM1; k=dsa; p=" RSA_P, DKIM_PERMERROR, "unknown key type" },
        { "v=DKIM1; k=ed25519; p=" RSA_P, DKIM_PERMERROR, "key syntax error" },
        { "v=DKIM1; k=rsa; p=" ED_P, DKIM_PERMERROR, "key syntax error" },
        { "v=DKIM1; s=web; p=" RSA_P, DKIM_PERMERROR, "key not for email" },
        { "v=DKIM1; p=AAA", DKIM_PERMERROR, "bad p= tag" },
        { "v=DKIM1 p=" RSA_P, DKIM_PERMERROR, NULL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(parse_key(bad[i].txt, &key, &r, err) == -1, "%s", bad[i].txt);
        ck_assert_ptr_null(key.pkey);
        ck_assert_int_eq(r, bad[i].result);
        if (bad[i].reason)
            ck_assert_str_eq(err, bad[i].reason);
    }
}
END_TEST

/* dkim_key_record of pkey, read back by dkim_key_parse */
static int record_round_trip(EVP_PKEY *pkey, struct dkim_key *key, enum dkim_result *r,
                             char *err)
{
    struct buf rec;
    buf_init(&rec, DKIM_KEY_RECORD_MAX);
    ck_assert_int_eq(dkim_key_record(pkey, &rec), 0);
    ck_assert(strncmp(rec.data, "v=DKIM1; k=", 11) == 0);
    int rc = parse_key(rec.data, key, r, err);
    buf_free(&rec);
    return rc;
}

START_TEST(key_generate_record_pem)
{
    char err[ERR_TEXT_MAX];
    enum dkim_result r;
    struct dkim_key key;
    for (int type = DKIM_KEY_RSA; type <= DKIM_KEY_ED25519; type++) {
        EVP_PKEY *pkey = dkim_key_generate((enum dkim_key_type)type, 1024);
        ck_assert_ptr_nonnull(pkey);
        ck_assert_int_eq(record_round_trip(pkey, &key, &r, err), 0);
        ck_assert_int_eq(key.type, type);
        ck_assert_int_eq(EVP_PKEY_eq(key.pkey, pkey), 1);
        dkim_key_free(&key);
        /* the private key through PEM, and through a file */
        struct buf pem;
        buf_init(&pem, DKIM_KEY_PEM_MAX);
        ck_assert_int_eq(dkim_key_private_to_pem(pkey, &pem), 0);
        ck_assert_ptr_nonnull(strstr(pem.data, "-----BEGIN PRIVATE KEY-----"));
        EVP_PKEY *back = dkim_key_private_pem(pem.data, pem.len, err, sizeof err);
        ck_assert_ptr_nonnull(back);
        ck_assert_int_eq(EVP_PKEY_eq(back, pkey), 1);
        EVP_PKEY_free(back);
        char dir[64];
        unit_mkdtemp(dir, sizeof dir, "/tmp/test_dkim.XXXXXX");
        const char *path = unit_fmt("%s/key.pem", dir);
        unit_write_file(path, pem.data);
        back = dkim_key_private_file(path, err, sizeof err);
        ck_assert_ptr_nonnull(back);
        ck_assert_int_eq(EVP_PKEY_eq(back, pkey), 1);
        EVP_PKEY_free(back);
        /* an encrypted key is refused, not asked a passphrase for */
        BIO *bio = BIO_new(BIO_s_mem());
        ck_assert_int_eq(PEM_write_bio_PKCS8PrivateKey(bio, pkey, EVP_aes_128_cbc(), "pw", 2,
                                                       NULL, NULL), 1);
        char *enc;
        long encn = BIO_get_mem_data(bio, &enc);
        ck_assert_ptr_nonnull(strstr(enc, "ENCRYPTED"));
        ck_assert_ptr_null(dkim_key_private_pem(enc, (size_t)encn, err, sizeof err));
        BIO_free(bio);
        unit_write_file(path, "not a key\n");
        ck_assert_ptr_null(dkim_key_private_file(path, err, sizeof err));
        ck_assert_ptr_nonnull(strstr(err, "key.pem"));
        unit_rmtree(dir);
        buf_free(&pem);
        EVP_PKEY_free(pkey);
    }
    ck_assert_ptr_null(dkim_key_private_file("/nonexistent/key.pem", err, sizeof err));
    ck_assert_ptr_null(dkim_key_generate(DKIM_KEY_RSA, 512));
}
END_TEST

START_TEST(key_rsa_too_short)
{
    /* RFC 8301: a 512 bit RSA key in DNS fails; and is refused for signing */
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
    ck_assert_ptr_nonnull(pkey);
    struct dkim_key key;
    enum dkim_result r;
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(record_round_trip(pkey, &key, &r, err), -1);
    ck_assert_int_eq(r, DKIM_FAIL);
    ck_assert_str_eq(err, "RSA key too short");
    struct buf pem;
    buf_init(&pem, DKIM_KEY_PEM_MAX);
    ck_assert_int_eq(dkim_key_private_to_pem(pkey, &pem), 0);
    ck_assert_ptr_null(dkim_key_private_pem(pem.data, pem.len, err, sizeof err));
    buf_free(&pem);
    EVP_PKEY_free(pkey);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dkim_parse");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tags);
    tcase_add_test(tc, base64);
    tcase_add_test(tc, signature_fields);
    tcase_add_test(tc, signature_errors);
    tcase_add_test(tc, signature_without_b);
    tcase_add_test(tc, key_records);
    tcase_add_test(tc, key_generate_record_pem);
    tcase_add_test(tc, key_rsa_too_short);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
