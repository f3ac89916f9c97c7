/* test_auth.c: unit tests of smtpd's AUTH support (smtpd/auth.h): strict base64, the PLAIN
 * parser, the smtpd_sasl_users table and the argon2id check; and of smtpd/tls.h, with a
 * self-signed certificate the test makes: loading, refusing bad files, a handshake's summary. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include "auth.h"
#include "tls.h"
#include "tls_summary.h"
#include "unit.h"

static char tmpdir[64];

static const char *in_tmp(const char *name)
{
    return unit_fmt("%s/%s", tmpdir, name);
}

static void setup(void)
{
    unit_mkdtemp(tmpdir, sizeof tmpdir, "/tmp/test_auth.XXXXXX");
    ck_assert_int_ge(sodium_init(), 0);
}

static void teardown(void)
{
    unit_rmtree(tmpdir);
}

/* ---- base64 ---- */

static const char *const rfc4648[][2] = {
    { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
    { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

START_TEST(b64_vectors)
{
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const char *plain = rfc4648[i][0], *coded = rfc4648[i][1];
        char enc[16];
        unsigned char dec[16];
        ck_assert_int_eq(auth_b64_encode((const unsigned char *)plain, strlen(plain), enc,
                                         sizeof enc), (int)strlen(coded));
        ck_assert_str_eq(enc, coded);
        ck_assert_int_eq(auth_b64_decode(coded, strlen(coded), dec, sizeof dec),
                         (int)strlen(plain));
        ck_assert_mem_eq(dec, plain, strlen(plain));
    }
}
END_TEST

START_TEST(b64_binary)
{
    unsigned char all[256], dec[256];
    char enc[400];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)(255 - i);
    int n = auth_b64_encode(all, sizeof all, enc, sizeof enc);
    ck_assert_int_eq(n, 344);
    ck_assert_int_eq(auth_b64_decode(enc, (size_t)n, dec, sizeof dec), 256);
    ck_assert_mem_eq(dec, all, sizeof all);
    ck_assert_int_eq(auth_b64_decode("+/+/", 4, dec, sizeof dec), 3);
    ck_assert_mem_eq(dec, "\xfb\xff\xbf", 3);
}
END_TEST

START_TEST(b64_empty_response)
{
    unsigned char dec[4];
    ck_assert_int_eq(auth_b64_decode("=", 1, dec, sizeof dec), 0);
    ck_assert_int_eq(auth_b64_decode("=", 1, NULL, 0), 0);
}
END_TEST

START_TEST(b64_errors)
{
    static const char *const bad[] = {
        "Zg", "Zg=", "Zm9", "Zm9vY", "Zm9v\r\n", "Zm 9v", " Zm9v", "Zm9v\n", "Zm9v Zg==",
        "Zg==Zg==", "Zm8=Zm9v", "Z===", "====", "==", "Zg=a", "Zm9-", "Zm9_", "Zm9v*AAA",
        "Zh==", "Zm9=", "Zm 9", "Zm9v\r\nZg", "Zm9\tZm9v", "Zm9v\n===",
    };
    unsigned char dec[32];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(auth_b64_decode(bad[i], strlen(bad[i]), dec, sizeof dec) == -1,
                      "accepted \"%s\"", bad[i]);
    }
    ck_assert_int_eq(auth_b64_decode("Zg\0=", 4, dec, sizeof dec), -1);
    /* output bounds */
    ck_assert_int_eq(auth_b64_decode("Zm9vYmFy", 8, dec, 5), -1);
    ck_assert_int_eq(auth_b64_decode("Zm9vYmFy", 8, dec, 6), 6);
    char enc[8];
    ck_assert_int_eq(auth_b64_encode((const unsigned char *)"foo", 3, enc, 4), -1);
    ck_assert_int_eq(auth_b64_encode((const unsigned char *)"foo", 3, enc, 5), 4);
    ck_assert_int_eq(auth_b64_encode((const unsigned char *)"", 0, enc, 0), -1);
}
END_TEST

/* ---- PLAIN ---- */

static int plain(const char *msg, size_t len, char *login, char *password)
{
    return auth_parse_plain((const unsigned char *)msg, len, login, password);
}

START_TEST(plain_valid)
{
    char login[AUTH_FIELD_MAX], password[AUTH_FIELD_MAX];
    ck_assert_int_eq(plain("\0alice\0secret", 13, login, password), 0);
    ck_assert_str_eq(login, "alice");
    ck_assert_str_eq(password, "secret");
    ck_assert_int_eq(plain("alice\0alice\0p w", 15, login, password), 0);
    ck_assert_str_eq(login, "alice");
    ck_assert_str_eq(password, "p w");
    ck_assert_int_eq(plain("\0al\xc3\xaf" "ce\0", 8, login, password), 0);
    ck_assert_str_eq(login, "al\xc3\xaf" "ce");
    ck_assert_str_eq(password, "");

    /* what a client sends: AUTH PLAIN AGFsaWNlAHNlY3JldA== */
    unsigned char msg[64];
    int n = auth_b64_decode("AGFsaWNlAHNlY3JldA==", 20, msg, sizeof msg);
    ck_assert_int_eq(n, 13);
    ck_assert_int_eq(auth_parse_plain(msg, (size_t)n, login, password), 0);
    ck_assert_str_eq(login, "alice");
    ck_assert_str_eq(password, "secret");
}
END_TEST

START_TEST(plain_invalid)
{
    char login[AUTH_FIELD_MAX], password[AUTH_FIELD_MAX];
    ck_assert_int_eq(plain("", 0, login, password), -1);
    ck_assert_int_eq(plain("alice", 5, login, password), -1);
    ck_assert_int_eq(plain("\0alice", 6, login, password), -1);
    ck_assert_int_eq(plain("alicesecret\0", 12, login, password), -1);
    ck_assert_int_eq(plain("\0\0secret", 8, login, password), -1);
    ck_assert_int_eq(plain("alice\0\0secret", 13, login, password), -1);
    ck_assert_int_eq(plain("bob\0alice\0secret", 16, login, password), -1);
    ck_assert_int_eq(plain("Alice\0alice\0secret", 18, login, password), -1);
    ck_assert_int_eq(plain("\0alice\0sec\0ret", 14, login, password), -1);
    ck_assert_int_eq(plain("\0alice\0secret\0", 14, login, password), -1);
    ck_assert_int_eq(plain("\0al\r\nice\0secret", 15, login, password), -1);
    ck_assert_int_eq(plain("\0al\x7fice\0secret", 14, login, password), -1);
    ck_assert_str_eq(login, "");
    ck_assert_str_eq(password, "");
}
END_TEST

/* "\0" login "\0" password with fields of the given lengths */
static size_t long_plain(char *msg, size_t zlen, size_t clen, size_t plen)
{
    size_t n = 0;
    memset(msg + n, 'a', zlen);
    n += zlen;
    msg[n++] = '\0';
    memset(msg + n, 'a', clen);
    n += clen;
    msg[n++] = '\0';
    memset(msg + n, 'p', plen);
    return n + plen;
}

START_TEST(plain_lengths)
{
    char msg[1024], login[AUTH_FIELD_MAX], password[AUTH_FIELD_MAX];
    const size_t max = AUTH_FIELD_MAX - 1;
    ck_assert_int_eq(plain(msg, long_plain(msg, 0, max, max), login, password), 0);
    ck_assert_uint_eq(strlen(login), max);
    ck_assert_uint_eq(strlen(password), max);
    ck_assert_int_eq(plain(msg, long_plain(msg, max, max, 1), login, password), 0);
    ck_assert_int_eq(plain(msg, long_plain(msg, 0, max + 1, 1), login, password), -1);
    ck_assert_int_eq(plain(msg, long_plain(msg, 0, 5, max + 1), login, password), -1);
    ck_assert_int_eq(plain(msg, long_plain(msg, max + 1, max + 1, 1), login, password), -1);
}
END_TEST

/* ---- the users table ---- */

static char alice_hash[crypto_pwhash_STRBYTES];

/* texthash:<tmp>/users with alice's hash of "secret" (the cheapest cost, for speed) */
static const char *write_users(void)
{
    ck_assert_int_eq(crypto_pwhash_str(alice_hash, "secret", 6, crypto_pwhash_OPSLIMIT_MIN,
                                       crypto_pwhash_MEMLIMIT_MIN), 0);
    FILE *f = fopen(in_tmp("users"), "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "# smtpd_sasl_users\nalice %s\n", alice_hash);
    ck_assert_int_eq(fclose(f), 0);
    static char spec[300];
    snprintf(spec, sizeof spec, "texthash:%s", in_tmp("users"));
    return spec;
}

/* ---- the exchange of one AUTH command ---- */

static enum auth_next start(struct auth_dialogue *d, const char *args, char *password,
                            const char **reply)
{
    return auth_dialogue_start(d, args, strlen(args), password, reply);
}

static enum auth_next respond(struct auth_dialogue *d, const char *line, char *password,
                              const char **reply)
{
    return auth_dialogue_response(d, line, strlen(line), password, reply);
}

START_TEST(dialogue_plain)
{
    struct auth_dialogue d;
    char pw[AUTH_FIELD_MAX];
    const char *r;
    /* "\0alice\0secret" with an initial response, and in a second line */
    ck_assert_int_eq(start(&d, "PLAIN AGFsaWNlAHNlY3JldA==", pw, &r), AUTH_NEXT_CHECK);
    ck_assert_str_eq(d.mech, "PLAIN");
    ck_assert_str_eq(d.login, "alice");
    ck_assert_str_eq(pw, "secret");
    ck_assert_int_eq(start(&d, "plain", pw, &r), AUTH_NEXT_CHALLENGE);
    ck_assert_str_eq(r, "334 ");
    ck_assert_int_eq(respond(&d, "AGFsaWNlAHNlY3JldA==", pw, &r), AUTH_NEXT_CHECK);
    ck_assert_str_eq(d.login, "alice");
    ck_assert_str_eq(pw, "secret");
    /* malformed: not base64, no second NUL, someone else's authzid */
    ck_assert_int_eq(start(&d, "PLAIN", pw, &r), AUTH_NEXT_CHALLENGE);
    ck_assert_int_eq(respond(&d, "AGFsaWNl!", pw, &r), AUTH_NEXT_DONE);
    ck_assert_str_eq(r, "501 5.5.2 Error: malformed authentication response");
    ck_assert_int_eq(start(&d, "PLAIN AGFsaWNl", pw, &r), AUTH_NEXT_DONE);
    ck_assert_str_eq(r, "501 5.5.2 Error: malformed authentication response");
    ck_assert_int_eq(start(&d, "PLAIN Ym9iAGFsaWNlAHNlY3JldA==", pw, &r), AUTH_NEXT_DONE);
    ck_assert_str_eq(pw, "");
    /* "=": an empty initial response, which PLAIN cannot be */
    ck_assert_int_eq(start(&d, "PLAIN =", pw, &r), AUTH_NEXT_DONE);
}
END_TEST

START_TEST(dialogue_login)
{
    struct auth_dialogue d;
    char pw[AUTH_FIELD_MAX];
    const char *r;
    ck_assert_int_eq(start(&d, "LOGIN", pw, &r), AUTH_NEXT_CHALLENGE);
    ck_assert_str_eq(r, "334 VXNlcm5hbWU6");
    ck_assert_int_eq(respond(&d, "Ym9i", pw, &r), AUTH_NEXT_CHALLENGE);   /* bob */
    ck_assert_str_eq(r, "334 UGFzc3dvcmQ6");
    ck_assert_str_eq(d.login, "bob");
    ck_assert_int_eq(respond(&d, "aHVudGVyMg==", pw, &r), AUTH_NEXT_CHECK);   /* hunter2 */
    ck_assert_str_eq(d.login, "bob");
    ck_assert_str_eq(pw, "hunter2");
    /* the user name as the initial response; an empty or unprintable name is refused */
    ck_assert_int_eq(start(&d, "LOGIN Ym9i", pw, &r), AUTH_NEXT_CHALLENGE);
    ck_assert_str_eq(r, "334 UGFzc3dvcmQ6");
    ck_assert_int_eq(start(&d, "LOGIN =", pw, &r), AUTH_NEXT_DONE);
    ck_assert_int_eq(start(&d, "LOGIN", pw, &r), AUTH_NEXT_CHALLENGE);
    ck_assert_int_eq(respond(&d, "Ym9iCg==", pw, &r), AUTH_NEXT_DONE);      /* "bob\n" */
    ck_assert_str_eq(r, "501 5.5.2 Error: malformed authentication response");
    /* a password with a NUL inside */
    ck_assert_int_eq(start(&d, "LOGIN Ym9i", pw, &r), AUTH_NEXT_CHALLENGE);
    ck_assert_int_eq(respond(&d, "YQBi", pw, &r), AUTH_NEXT_DONE);         /* "a\0b" */
}
END_TEST

START_TEST(dialogue_abort_and_mechanisms)
{
    struct auth_dialogue d;
    char pw[AUTH_FIELD_MAX];
    const char *r;
    ck_assert_int_eq(start(&d, "LOGIN", pw, &r), AUTH_NEXT_CHALLENGE);
    ck_assert_int_eq(respond(&d, "*", pw, &r), AUTH_NEXT_DONE);
    ck_assert_str_eq(r, "501 5.7.0 Authentication aborted");
    ck_assert_int_eq(start(&d, "CRAM-MD5", pw, &r), AUTH_NEXT_DONE);
    ck_assert_str_eq(r, "504 5.5.4 Unrecognized authentication type");
    ck_assert_int_eq(start(&d, "PLAINX", pw, &r), AUTH_NEXT_DONE);
    ck_assert_int_eq(start(&d, "", pw, &r), AUTH_NEXT_DONE);
    /* a response line longer than any message a field may hold */
    char big[AUTH_LINE_MAX];
    memset(big, 'Q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(start(&d, "LOGIN", pw, &r), AUTH_NEXT_CHALLENGE);
    ck_assert_int_eq(respond(&d, big, pw, &r), AUTH_NEXT_DONE);
}
END_TEST

START_TEST(users_lookup)
{
    char err[256] = "", hash[crypto_pwhash_STRBYTES];
    struct auth_users *u = auth_users_open(write_users(), err, sizeof err);
    ck_assert_msg(u != NULL, "%s", err);
    ck_assert_int_eq(auth_users_hash(u, "alice", hash, sizeof hash), 1);
    ck_assert_str_eq(hash, alice_hash);
    ck_assert_int_eq(auth_users_hash(u, "ALICE", hash, sizeof hash), 1);
    ck_assert_int_eq(auth_users_hash(u, "bob", hash, sizeof hash), 0);
    ck_assert_str_eq(hash, "");
    ck_assert_int_eq(auth_users_hash(u, "alice", hash, 16), -1);
    auth_users_close(u);
}
END_TEST

START_TEST(users_open_errors)
{
    char err[256] = "";
    ck_assert_ptr_null(auth_users_open("texthash:/nonexistent/users", err, sizeof err));
    ck_assert_str_ne(err, "");
    err[0] = '\0';
    ck_assert_ptr_null(auth_users_open("nosuchtype:/x", err, sizeof err));
    ck_assert_str_ne(err, "");
}
END_TEST

START_TEST(verify)
{
    char err[256] = "", hash[crypto_pwhash_STRBYTES];
    struct auth_users *u = auth_users_open(write_users(), err, sizeof err);
    ck_assert_msg(u != NULL, "%s", err);
    ck_assert_int_eq(auth_users_hash(u, "alice", hash, sizeof hash), 1);
    ck_assert(auth_verify(hash, "secret"));
    ck_assert(!auth_verify(hash, "Secret"));
    ck_assert(!auth_verify(hash, "secret "));
    ck_assert(!auth_verify(hash, ""));
    ck_assert(!auth_verify(NULL, "secret"));
    ck_assert(!auth_verify(NULL, ""));
    ck_assert(!auth_verify("not a hash", "secret"));
    auth_users_close(u);
}
END_TEST

struct verify_job {
    const char *hash, *password;
    bool result;
};

static void *verify_thread(void *arg)
{
    struct verify_job *j = arg;
    j->result = auth_verify(j->hash, j->password);
    return NULL;
}

/* auth_verify runs on worker threads: real and dummy checks at the same time. */
START_TEST(verify_threads)
{
    char err[256] = "";
    struct auth_users *u = auth_users_open(write_users(), err, sizeof err);
    ck_assert_msg(u != NULL, "%s", err);
    struct verify_job jobs[4] = {
        { alice_hash, "secret", false }, { NULL, "secret", true },
        { alice_hash, "wrong", true }, { alice_hash, "secret", false },
    };
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, verify_thread, &jobs[i]), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    ck_assert(jobs[0].result && !jobs[1].result && !jobs[2].result && jobs[3].result);
    auth_users_close(u);
}
END_TEST

/* ---- TLS ---- */

static void write_key(const char *path, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    ck_assert_int_eq(fclose(f), 0);
}

/* A self-signed certificate for CN=localhost, valid for an hour. */
static void write_cert(const char *path, const char *mode, EVP_PKEY *key)
{
    X509 *x = X509_new();
    ck_assert_ptr_nonnull(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
                               -1, -1, 0);
    X509_set_issuer_name(x, name);
    ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
    FILE *f = fopen(path, mode);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_X509(f, x), 1);
    ck_assert_int_eq(fclose(f), 0);
    X509_free(x);
}

/* cert.pem + key.pem, both.pem (key and certificate in one file, which the default
 * smtpd_tls_key_file = $smtpd_tls_cert_file means), other.pem: a key of no certificate */
static void make_credentials(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
    ck_assert(key != NULL && other != NULL);
    write_cert(in_tmp("cert.pem"), "w", key);
    write_key(in_tmp("key.pem"), key);
    write_key(in_tmp("both.pem"), key);
    write_cert(in_tmp("both.pem"), "a", key);
    write_key(in_tmp("other.pem"), other);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

START_TEST(tls_context)
{
    char err[512] = "";
    make_credentials();
    SSL_CTX *ctx = tls_server_context(in_tmp("cert.pem"), in_tmp("key.pem"), err, sizeof err);
    ck_assert_msg(ctx != NULL, "%s", err);
    ck_assert_int_eq(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
    ck_assert_int_eq(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
    uint64_t opts = SSL_CTX_get_options(ctx);
    ck_assert(opts & SSL_OP_NO_COMPRESSION);
    ck_assert(opts & SSL_OP_NO_RENEGOTIATION);
    ck_assert(!(opts & SSL_OP_CIPHER_SERVER_PREFERENCE));
    ck_assert(!(opts & SSL_OP_NO_TICKET));
    ck_assert_int_eq(SSL_CTX_get_session_cache_mode(ctx), SSL_SESS_CACHE_SERVER);
    SSL_CTX_free(ctx);
    ctx = tls_server_context(in_tmp("both.pem"), in_tmp("both.pem"), err, sizeof err);
    ck_assert_msg(ctx != NULL, "%s", err);
    SSL_CTX_free(ctx);
}
END_TEST

START_TEST(tls_context_errors)
{
    char err[512] = "";
    make_credentials();
    ck_assert_ptr_null(tls_server_context(in_tmp("missing.pem"), in_tmp("key.pem"), err,
                                          sizeof err));
    ck_assert_str_ne(err, "");
    err[0] = '\0';
    ck_assert_ptr_null(tls_server_context(in_tmp("cert.pem"), in_tmp("missing.pem"), err,
                                          sizeof err));
    ck_assert_str_ne(err, "");
    err[0] = '\0';
    ck_assert_ptr_null(tls_server_context(in_tmp("cert.pem"), in_tmp("other.pem"), err,
                                          sizeof err));
    ck_assert_str_ne(err, "");
    err[0] = '\0';
    ck_assert_ptr_null(tls_server_context(in_tmp("key.pem"), in_tmp("key.pem"), err,
                                          sizeof err));
    ck_assert_str_ne(err, "");
    err[0] = '\0';
    ck_assert_ptr_null(tls_server_context("", in_tmp("key.pem"), err, sizeof err));
    ck_assert_str_ne(err, "");
    ck_assert_int_eq(ERR_peek_error(), 0);
}
END_TEST

/* Runs a handshake over a memory BIO pair; the client may restrict its protocol and ciphers.
 * Returns the server's summary, or "" when the handshake fails. */
static const char *handshake(int client_max, const char *client_ciphers)
{
    static char summary[256];
    char err[512] = "";
    make_credentials();
    SSL_CTX *sctx = tls_server_context(in_tmp("cert.pem"), in_tmp("key.pem"), err, sizeof err);
    ck_assert_msg(sctx != NULL, "%s", err);
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    ck_assert_ptr_nonnull(cctx);
    ck_assert(SSL_CTX_set_max_proto_version(cctx, client_max));
    if (client_ciphers != NULL)
        ck_assert(SSL_CTX_set_cipher_list(cctx, client_ciphers));
    SSL *server = SSL_new(sctx), *client = SSL_new(cctx);
    BIO *sbio, *cbio;
    ck_assert(BIO_new_bio_pair(&sbio, 0, &cbio, 0));
    SSL_set_bio(server, sbio, sbio);
    SSL_set_bio(client, cbio, cbio);
    SSL_set_accept_state(server);
    SSL_set_connect_state(client);
    tls_summary(server, summary, sizeof summary);
    ck_assert_str_eq(summary, "no TLS session");
    int rs = 0, rc = 0;
    for (int i = 0; i < 10 && (rs != 1 || rc != 1); i++) {
        rc = SSL_do_handshake(client);
        rs = SSL_do_handshake(server);
    }
    summary[0] = '\0';
    if (rs == 1 && rc == 1)
        tls_summary(server, summary, sizeof summary);
    ERR_clear_error();
    SSL_free(server);
    SSL_free(client);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return summary;
}

START_TEST(tls_handshakes)
{
    ck_assert_str_eq(handshake(TLS1_3_VERSION, NULL),
                     "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)");
    /* the client's preference wins, as intermediate asks */
    ck_assert_str_eq(handshake(TLS1_2_VERSION,
                               "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256"),
                     "TLSv1.2 with cipher ECDHE-ECDSA-CHACHA20-POLY1305 (256/256 bits)");
    /* CBC and TLS 1.1 are outside the profile */
    ck_assert_str_eq(handshake(TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA"), "");
    ck_assert_str_eq(handshake(TLS1_1_VERSION, NULL), "");
    char small[8];
    tls_summary(NULL, small, sizeof small);
    ck_assert_str_eq(small, "no TLS ");
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("auth");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, b64_vectors);
    tcase_add_test(tc, b64_binary);
    tcase_add_test(tc, b64_empty_response);
    tcase_add_test(tc, b64_errors);
    tcase_add_test(tc, plain_valid);
    tcase_add_test(tc, plain_invalid);
    tcase_add_test(tc, plain_lengths);
    tcase_add_test(tc, dialogue_plain);
    tcase_add_test(tc, dialogue_login);
    tcase_add_test(tc, dialogue_abort_and_mechanisms);
    tcase_add_test(tc, users_lookup);
    tcase_add_test(tc, users_open_errors);
    tcase_add_test(tc, verify);
    tcase_add_test(tc, verify_threads);
    tcase_add_test(tc, tls_context);
    tcase_add_test(tc, tls_context_errors);
    tcase_add_test(tc, tls_handshakes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(auth_suite());
}
