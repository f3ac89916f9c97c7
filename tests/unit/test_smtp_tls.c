/* test_smtp_tls.c: unit tests of the smtp client's certificate checks (delivery/smtp/
 * tls_client.c): a handshake in memory (a BIO pair) between a client SSL made by
 * tls_client_ssl and a server with a certificate made here (a test CA and a server
 * certificate it signed), then the trust tls_client_trust reports: CA file and name checks
 * (Untrusted, Trusted, Verified) and DANE-EE/DANE-TA TLSA records. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "tls_client.h"
#include "unit.h"

static char dir[64];
static EVP_PKEY *ca_key, *leaf_key, *other_key;
static X509 *ca, *leaf, *other;
static char ca_file[128], other_file[128];

static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *san, X509 *issuer,
                       EVP_PKEY *issuer_key, bool is_ca)
{
    X509 *x = X509_new();
    ck_assert_ptr_nonnull(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), is_ca ? 1 : 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    const char *exts[][2] = {
        { "basicConstraints", is_ca ? "critical,CA:TRUE" : "CA:FALSE" },
        { "keyUsage", is_ca ? "critical,keyCertSign,cRLSign" : "digitalSignature" },
        { "subjectAltName", san },
    };
    for (size_t i = 0; i < 3; i++) {
        if (exts[i][1] == NULL)
            continue;
        X509_EXTENSION *e = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1]);
        ck_assert_ptr_nonnull(e);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    ck_assert_int_gt(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()), 0);
    return x;
}

static void write_pem(const char *path, X509 *x)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_X509(f, x), 1);
    fclose(f);
}

static void setup(void)
{
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_smtp_tls.XXXXXX");
    ca_key = EVP_EC_gen("P-256");
    leaf_key = EVP_EC_gen("P-256");
    other_key = EVP_EC_gen("P-256");
    ck_assert(ca_key && leaf_key && other_key);
    ca = make_cert(ca_key, "Test CA", NULL, NULL, NULL, true);
    leaf = make_cert(leaf_key, "mx.example.test", "DNS:mx.example.test,IP:127.0.0.1", ca,
                     ca_key, false);
    other = make_cert(other_key, "Other CA", NULL, NULL, NULL, true);
    snprintf(ca_file, sizeof ca_file, "%s/ca.pem", dir);
    snprintf(other_file, sizeof other_file, "%s/other.pem", dir);
    write_pem(ca_file, ca);
    write_pem(other_file, other);
}

static void teardown(void)
{
    X509_free(ca);
    X509_free(leaf);
    X509_free(other);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(other_key);
    unit_rmtree(dir);
}

static SSL_CTX *server_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(SSL_CTX_use_certificate(ctx, leaf), 1);
    ck_assert_int_eq(SSL_CTX_add1_chain_cert(ctx, ca), 1);
    ck_assert_int_eq(SSL_CTX_use_PrivateKey(ctx, leaf_key), 1);
    return ctx;
}

/* Runs the handshake in memory; returns the client's trust, or -1 when it failed. */
static int handshake(const char *cafile, const char *host, bool check_name,
                     const struct tls_dane *dane)
{
    char err[256] = "";
    SSL_CTX *cctx = tls_client_context(cafile, err, sizeof err);
    ck_assert_msg(cctx != NULL, "%s", err);
    SSL_CTX *sctx = server_ctx();
    struct tls_check check;
    SSL *c = tls_client_ssl(cctx, host, check_name, dane, &check, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    SSL *s = SSL_new(sctx);
    BIO *cb, *sb;
    ck_assert_int_eq(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    int rc_c = 0, rc_s = 0;
    for (int i = 0; i < 50 && (rc_c != 1 || rc_s != 1); i++) {
        if (rc_c != 1)
            rc_c = SSL_do_handshake(c);
        if (rc_s != 1)
            rc_s = SSL_do_handshake(s);
    }
    int trust = rc_c == 1 && rc_s == 1 ? (int)tls_client_trust(c, &check) : -1;
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    return trust;
}

/* One TLSA record for the given certificate: selector 0 (cert) or 1 (SPKI), SHA-256. */
static void tlsa(X509 *x, unsigned char usage, unsigned char selector, unsigned char *digest,
                 struct tls_dane_record *r)
{
    unsigned char *der = NULL;
    int len = selector == 0 ? i2d_X509(x, &der) : i2d_PUBKEY(X509_get0_pubkey(x), &der);
    ck_assert_int_gt(len, 0);
    unsigned int n = 0;
    ck_assert_int_eq(EVP_Digest(der, (size_t)len, digest, &n, EVP_sha256(), NULL), 1);
    OPENSSL_free(der);
    *r = (struct tls_dane_record){ usage, selector, 1, digest, n };
}

START_TEST(levels)
{
    enum tls_level l;
    ck_assert_int_eq(tls_level_parse("Verify", &l), 0);
    ck_assert_int_eq(l, TLS_LEVEL_VERIFY);
    ck_assert_int_eq(tls_level_parse("dane", &l), 0);
    ck_assert_str_eq(tls_level_name(l), "dane");
    ck_assert_int_eq(tls_level_parse("secure", &l), -1);
    ck_assert_str_eq(tls_trust_name(TLS_UNTRUSTED), "Untrusted");
}
END_TEST

START_TEST(ca_and_names)
{
    ck_assert_int_eq(handshake(ca_file, "mx.example.test", true, NULL), TLS_VERIFIED);
    ck_assert_int_eq(handshake(ca_file, "127.0.0.1", true, NULL), TLS_VERIFIED);
    ck_assert_int_eq(handshake(ca_file, "other.example.test", true, NULL), TLS_TRUSTED);
    ck_assert_int_eq(handshake(ca_file, "127.0.0.2", true, NULL), TLS_TRUSTED);
    ck_assert_int_eq(handshake(ca_file, "mx.example.test", false, NULL), TLS_TRUSTED);
    ck_assert_int_eq(handshake(other_file, "mx.example.test", true, NULL), TLS_UNTRUSTED);
    ck_assert_int_eq(handshake(other_file, "elsewhere.test", true, NULL), TLS_UNTRUSTED);
}
END_TEST

START_TEST(dane_ee)
{
    unsigned char digest[EVP_MAX_MD_SIZE], bad[EVP_MAX_MD_SIZE];
    struct tls_dane_record r[2];
    tlsa(leaf, 3, 1, digest, &r[0]);
    struct tls_dane dane;
    tls_dane_copy(&dane, r, 1);
    ck_assert_uint_eq(dane.count, 1);
    /* a match needs no CA and no name */
    ck_assert_int_eq(handshake(other_file, "any.name.test", false, &dane), TLS_VERIFIED);
    tls_dane_free(&dane);
    /* a digest of another key: not verified, whatever the CA file says */
    tlsa(other, 3, 1, bad, &r[1]);
    tls_dane_copy(&dane, &r[1], 1);
    ck_assert_int_eq(handshake(ca_file, "mx.example.test", false, &dane), TLS_UNTRUSTED);
    tls_dane_free(&dane);
}
END_TEST

START_TEST(dane_ta)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    struct tls_dane_record r;
    tlsa(ca, 2, 0, digest, &r);
    struct tls_dane dane;
    tls_dane_copy(&dane, &r, 1);
    /* the CA of the record vouches for the chain; the name must still match */
    ck_assert_int_eq(handshake(other_file, "mx.example.test", false, &dane), TLS_VERIFIED);
    ck_assert_int_eq(handshake(other_file, "wrong.example.test", false, &dane), TLS_UNTRUSTED);
    tls_dane_free(&dane);
}
END_TEST

START_TEST(dane_unusable_records_are_dropped)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    struct tls_dane_record r[3];
    tlsa(ca, 0, 0, digest, &r[0]);     /* PKIX-TA: not for SMTP (RFC 7672 3.1.3) */
    tlsa(leaf, 1, 1, digest, &r[1]);   /* PKIX-EE: neither */
    r[2] = (struct tls_dane_record){ 3, 1, 1, digest, 0 };   /* no data */
    struct tls_dane dane;
    tls_dane_copy(&dane, r, 3);
    ck_assert_uint_eq(dane.count, 0);
    tls_dane_free(&dane);
}
END_TEST

static Suite *smtp_tls_suite(void)
{
    Suite *s = suite_create("smtp_tls");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, levels);
    tcase_add_test(tc, ca_and_names);
    tcase_add_test(tc, dane_ee);
    tcase_add_test(tc, dane_ta);
    tcase_add_test(tc, dane_unusable_records_are_dropped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(smtp_tls_suite());
}
