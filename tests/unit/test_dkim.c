/* test_dkim.c: unit tests of DKIM signing and verification (mail/dkim_sign.c,
 * mail/dkim_verify.c) end to end: RFC 8463 Appendix A's message with its ed25519 and rsa
 * signatures, tern's signatures of it with the RFC's key, a changed header or body, a From
 * added after signing (over-signing), fields of one name signed bottom-up, the key's
 * restrictions, rsa-sha1, and the body kinds several signatures share. */
#include <check.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "dkim_canon.h"
#include "dkim_key.h"
#include "dkim_sign.h"
#include "dkim_sig.h"
#include "dkim_verify.h"
#include "header_scanner.h"
#include "unit.h"

/* RFC 8463 A.1-A.3 */
#define ED_RECORD "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define RSA_RECORD "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6" \
    "NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lx" \
    "j+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"
#define ED_SEED "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
#define RFC_T 1528637909LL

static const char rfc_signatures[] =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    " subject : date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
    " date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
    " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
    " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n";
static const char rfc_header[] =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n";
static const char rfc_body[] =
    "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n\r\n\r\n";

/* Every DKIM-Signature of the message msg (header, empty line, body) checked, with records[]
 * ("selector=record") for the keys: "result(reason) ..." in the order of the fields. */
static const char *verify_all(const char *msg, const char *const *records, long long now)
{
    static char out[1024];
    out[0] = '\0';
    size_t len = strlen(msg);
    char *m = malloc(len);
    memcpy(m, msg, len);
    struct header_fields it;
    struct header_field f;
    header_fields_init(&it, m, len);
    struct header_field fields[8];
    size_t nsig = 0;
    while (header_fields_next(&it, &f))
        if (f.name_len == 14 && strncasecmp(m + f.start, "DKIM-Signature", 14) == 0 && nsig < 8)
            fields[nsig++] = f;
    ck_assert(it.scan.ended_by == HEADER_END_BLANK);
    size_t hlen = it.scan.end;
    const char *body = m + it.scan.body;
    size_t blen = len - it.scan.body;
    for (size_t i = 0; i < nsig; i++) {
        static struct dkim_signature sig;
        enum dkim_result r;
        char why[ERR_TEXT_MAX] = "";
        struct dkim_key key = { 0 };
        if (dkim_sig_parse(m + fields[i].value, fields[i].end - fields[i].value, now, &sig, &r,
                           why, sizeof why) == 0) {
            const char *rec = NULL;
            size_t sl = strlen(sig.selector);
            for (size_t k = 0; records[k]; k++)
                if (strncmp(records[k], sig.selector, sl) == 0 && records[k][sl] == '=')
                    rec = records[k] + sl + 1;
            ck_assert_ptr_nonnull(rec);
            if (dkim_key_parse(rec, strlen(rec), &key, &r, why, sizeof why) == 0) {
                struct dkim_body_hash bh;
                dkim_body_hash_init(&bh, sig.body_canon, dkim_alg_hash(sig.alg), sig.has_length,
                                    sig.length);
                dkim_body_hash_feed(&bh, body, blen);
                dkim_body_hash_final(&bh);
                r = dkim_verify(&sig, m, hlen, m + fields[i].start,
                                fields[i].end - fields[i].start, &bh, &key, why, sizeof why);
                dkim_body_hash_free(&bh);
                dkim_key_free(&key);
            }
        }
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s(%s)", i ? " " : "",
                 dkim_result_word(r), why);
    }
    free(m);
    return out;
}

static const char *const rfc_records[] = { "brisbane=" ED_RECORD, "test=" RSA_RECORD, NULL };

static const char *join(const char *a, const char *b, const char *c)
{
    static char msg[8192];
    snprintf(msg, sizeof msg, "%s%s\r\n%s", a, b, c);
    return msg;
}

START_TEST(rfc8463_verifies)
{
    ck_assert_str_eq(verify_all(join(rfc_signatures, rfc_header, rfc_body), rfc_records,
                                RFC_T), "pass() pass()");
}
END_TEST

START_TEST(rfc8463_changed)
{
    char header[1024];
    snprintf(header, sizeof header, "%s", rfc_header);
    memcpy(strstr(header, "dinner"), "supper", 6);
    ck_assert_str_eq(verify_all(join(rfc_signatures, header, rfc_body), rfc_records, RFC_T),
                     "fail(signature did not verify) fail(signature did not verify)");
    ck_assert_str_eq(verify_all(join(rfc_signatures, rfc_header, "Hi.\r\n"), rfc_records,
                                RFC_T),
                     "fail(body hash did not verify) fail(body hash did not verify)");
    /* relaxed: white space and empty lines at the end change nothing */
    ck_assert_str_eq(verify_all(join(rfc_signatures, rfc_header,
                                     "Hi.  \r\n\r\nWe lost  the game.\t Are you hungry yet?\r\n"
                                     "\r\nJoe.\r\n\r\n\r\n\r\n"), rfc_records, RFC_T),
                     "pass() pass()");
    /* the key's restrictions */
    static const char *const strict[] = { "brisbane=" ED_RECORD "; h=sha1",
                                          "test=" RSA_RECORD "; t=s", NULL };
    ck_assert_str_eq(verify_all(join(rfc_signatures, rfc_header, rfc_body), strict, RFC_T),
                     "permerror(hash not allowed by key) pass()");
    static const char *const swapped[] = { "brisbane=" RSA_RECORD, "test=" ED_RECORD, NULL };
    ck_assert_str_eq(verify_all(join(rfc_signatures, rfc_header, rfc_body), swapped, RFC_T),
                     "permerror(key type does not match a=) permerror(key type does not match "
                     "a=)");
    static const char *const revoked[] = { "brisbane=v=DKIM1; k=ed25519; p=",
                                           "test=v=DKIM1; p=", NULL };
    ck_assert_str_eq(verify_all(join(rfc_signatures, rfc_header, rfc_body), revoked, RFC_T),
                     "fail(key revoked) fail(key revoked)");
}
END_TEST

START_TEST(key_strict_identity)
{
    /* t=s in the key: i= must be d= itself, not a subdomain */
    static struct dkim_signature sig;
    enum dkim_result r;
    char why[ERR_TEXT_MAX];
    const char *value = strchr(rfc_signatures, ':') + 1;
    size_t vlen = (size_t)(strstr(rfc_signatures, "\r\nDKIM-Signature") + 2 - value);
    ck_assert_int_eq(dkim_sig_parse(value, vlen, RFC_T, &sig, &r, why, sizeof why), 0);
    snprintf(sig.identity_domain, sizeof sig.identity_domain, "sub.football.example.com");
    struct dkim_key key;
    const char *rec = ED_RECORD "; t=s";
    ck_assert_int_eq(dkim_key_parse(rec, strlen(rec), &key, &r, why, sizeof why), 0);
    ck_assert_int_eq(dkim_verify(&sig, rfc_header, strlen(rfc_header), rfc_signatures,
                                 vlen + 15, NULL, &key, why, sizeof why), DKIM_PERMERROR);
    ck_assert_str_eq(why, "i= domain is not d= (key t=s)");
    /* a body hash of another kind than the signature asks for is refused */
    key.strict = false;
    struct dkim_body_hash bh;
    dkim_body_hash_init(&bh, DKIM_CANON_SIMPLE, DKIM_HASH_SHA256, false, 0);
    dkim_body_hash_final(&bh);
    ck_assert_int_eq(dkim_verify(&sig, rfc_header, strlen(rfc_header), rfc_signatures,
                                 vlen + 15, &bh, &key, why, sizeof why), DKIM_PERMERROR);
    ck_assert_str_eq(why, "body hash of another kind given");
    dkim_body_hash_free(&bh);
    dkim_key_free(&key);
}
END_TEST

START_TEST(rsa_sha1_refused)
{
    char sigs[sizeof rfc_signatures];
    memcpy(sigs, rfc_signatures, sizeof sigs);
    memcpy(strstr(sigs, "a=rsa-sha256"), "a=rsa-sha1;  ", 13);
    ck_assert_str_eq(verify_all(join(sigs, rfc_header, rfc_body), rfc_records, RFC_T),
                     "pass() fail(rsa-sha1 not accepted)");
}
END_TEST

static EVP_PKEY *rfc_ed25519_key(void)
{
    unsigned char seed[32];
    ck_assert_int_eq(EVP_DecodeBlock(seed, (const unsigned char *)ED_SEED, 44), 33);
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    ck_assert_ptr_nonnull(k);
    return k;
}

/* The field dkim_sign gives for header and body with key and names. */
static const char *sign(EVP_PKEY *key, const char *header, const char *body,
                        const char *const *names)
{
    static struct buf out;
    buf_free(&out);
    buf_init(&out, 8192);
    struct dkim_body_hash bh;
    dkim_body_hash_init(&bh, DKIM_CANON_RELAXED, DKIM_HASH_SHA256, false, 0);
    dkim_body_hash_feed(&bh, body, strlen(body));
    dkim_body_hash_final(&bh);
    struct dkim_sign_params p = { "football.example.com", "brisbane", key, RFC_T, names };
    char err[ERR_TEXT_MAX];
    ck_assert_msg(dkim_sign(&p, header, strlen(header), bh.digest, bh.digest_len, &out, err,
                            sizeof err) == 0, "%s", err);
    dkim_body_hash_free(&bh);
    return out.data;
}

/* h= of the field dkim_sign gave, as read back */
static const char *signed_names(const char *field)
{
    static struct dkim_signature sig;
    static char out[1024];
    enum dkim_result r;
    char err[ERR_TEXT_MAX];
    const char *value = strchr(field, ':') + 1;
    ck_assert_int_eq(dkim_sig_parse(value, strlen(value), 0, &sig, &r, err, sizeof err), 0);
    out[0] = '\0';
    for (size_t k = 0; k < sig.header_count; k++)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", k ? ":" : "",
                 sig.headers[k]);
    return out;
}

START_TEST(sign_rfc_key)
{
    EVP_PKEY *key = rfc_ed25519_key();
    static const char *const names[] = { "from", "to", "subject", "date", "message-id", NULL };
    const char *field = sign(key, rfc_header, rfc_body, names);
    /* ed25519 is deterministic: this is the signature, which verifies below */
    ck_assert_str_eq(field,
        "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
        "\td=football.example.com; s=brisbane; t=1528637909; h=from:from:to:\r\n"
        "\tsubject:date:message-id;\r\n"
        "\tbh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
        "\tb=mfDDvBtxjz74pRIryW5t1os/UN5+r+vt2xIw+MXzGkbRw7SkBin3xaNdUgP5qvG+Bhb\r\n"
        "\tqZN9a6/SiAwmyljCNBw==\r\n");
    /* no line passes 78 columns (a tab counted as 8) */
    for (const char *l = field; *l;) {
        const char *e = strstr(l, "\r\n");
        ck_assert_int_le(e - l + (*l == '\t' ? 7 : 0), 78);
        l = e + 2;
    }
    ck_assert_str_eq(verify_all(join(field, rfc_header, rfc_body), rfc_records, RFC_T),
                     "pass()");
    /* the default list, with a second To: both To fields signed */
    char header[1024];
    snprintf(header, sizeof header, "%sTo: other@example.org\r\nX-Not: signed\r\n",
             rfc_header);
    field = sign(key, header, rfc_body, NULL);
    ck_assert_str_eq(signed_names(field), "From:From:To:To:Subject:Date:Message-ID");
    ck_assert_str_eq(verify_all(join(field, header, rfc_body), rfc_records, RFC_T), "pass()");
    EVP_PKEY_free(key);
}
END_TEST

START_TEST(sign_oversigned_from)
{
    EVP_PKEY *key = rfc_ed25519_key();
    const char *field = sign(key, rfc_header, rfc_body, NULL);
    char signed_msg[8192];
    snprintf(signed_msg, sizeof signed_msg, "%s", join(field, rfc_header, rfc_body));
    ck_assert_str_eq(verify_all(signed_msg, rfc_records, RFC_T), "pass()");
    /* a From added below or above the others: the extra From in h= now takes it */
    char msg[16384];
    snprintf(msg, sizeof msg, "%s", join(field, rfc_header, ""));
    snprintf(msg + strlen(msg) - 2, sizeof msg - strlen(msg) + 2,
             "From: Evil <evil@example.org>\r\n\r\n%s", rfc_body);
    ck_assert_str_eq(verify_all(msg, rfc_records, RFC_T), "fail(signature did not verify)");
    snprintf(msg, sizeof msg, "From: Evil <evil@example.org>\r\n%s", signed_msg);
    ck_assert_str_eq(verify_all(msg, rfc_records, RFC_T), "fail(signature did not verify)");
    /* an unsigned field may be added */
    snprintf(msg, sizeof msg, "Received: by relay\r\n%s", signed_msg);
    ck_assert_str_eq(verify_all(msg, rfc_records, RFC_T), "pass()");
    EVP_PKEY_free(key);
}
END_TEST

START_TEST(sign_bottom_up)
{
    /* two fields of a name: signed bottom-up, so swapping them or adding one below them breaks
     * the signature, while adding one above them (where a relay prepends) does not */
    EVP_PKEY *key = rfc_ed25519_key();
    static const char *const names[] = { "From", "X-Tag", NULL };
    const char *header = "X-Tag: one\r\nFrom: a@football.example.com\r\nX-Tag: two\r\n";
    const char *field = sign(key, header, "body\r\n", names);
    ck_assert_str_eq(signed_names(field), "From:From:X-Tag:X-Tag");
    char msg[8192];
    snprintf(msg, sizeof msg, "%s", join(field, header, "body\r\n"));
    ck_assert_str_eq(verify_all(msg, rfc_records, RFC_T), "pass()");
    snprintf(msg, sizeof msg, "%s", join(field, "X-Tag: two\r\nFrom: a@football.example.com\r\n"
                                                "X-Tag: one\r\n", "body\r\n"));
    ck_assert_str_eq(verify_all(msg, rfc_records, RFC_T), "fail(signature did not verify)");
    snprintf(msg, sizeof msg, "%s", join(field, "X-Tag: zero\r\nX-Tag: one\r\n"
                                                "From: a@football.example.com\r\nX-Tag: two\r\n",
                                         "body\r\n"));
    ck_assert_str_eq(verify_all(msg, rfc_records, RFC_T), "pass()");
    snprintf(msg, sizeof msg, "%s", join(field, "X-Tag: one\r\nFrom: a@football.example.com\r\n"
                                                "X-Tag: two\r\nX-Tag: three\r\n", "body\r\n"));
    ck_assert_str_eq(verify_all(msg, rfc_records, RFC_T), "fail(signature did not verify)");
    EVP_PKEY_free(key);
}
END_TEST

START_TEST(sign_rsa)
{
    EVP_PKEY *key = dkim_key_generate(DKIM_KEY_RSA, 2048);
    struct buf rec;
    buf_init(&rec, DKIM_KEY_RECORD_MAX);
    buf_puts(&rec, "brisbane=");
    ck_assert_int_eq(dkim_key_record(key, &rec), 0);
    const char *records[] = { rec.data, NULL };
    const char *field = sign(key, rfc_header, rfc_body, NULL);
    ck_assert_ptr_nonnull(strstr(field, "a=rsa-sha256"));
    char msg[8192];
    snprintf(msg, sizeof msg, "%s", join(field, rfc_header, rfc_body));
    ck_assert_str_eq(verify_all(msg, records, RFC_T), "pass()");
    ck_assert_str_eq(verify_all(join(field, rfc_header, "tampered\r\n"), records, RFC_T),
                     "fail(body hash did not verify)");
    /* expired: an x= before now fails before any key is needed */
    char *x = strstr(msg, "t=1528637909;");
    memcpy(x, "x=1528637909;", 13);
    ck_assert_str_eq(verify_all(msg, records, RFC_T + 1), "fail(signature expired)");
    buf_free(&rec);
    EVP_PKEY_free(key);
}
END_TEST

START_TEST(body_kinds)
{
    static struct dkim_signature sigs[5];
    memset(sigs, 0, sizeof sigs);
    sigs[0].alg = DKIM_ALG_RSA_SHA256, sigs[0].body_canon = DKIM_CANON_RELAXED;
    sigs[1].alg = DKIM_ALG_ED25519_SHA256, sigs[1].body_canon = DKIM_CANON_RELAXED;
    sigs[2].alg = DKIM_ALG_RSA_SHA256, sigs[2].body_canon = DKIM_CANON_SIMPLE;
    sigs[3].alg = DKIM_ALG_RSA_SHA1, sigs[3].body_canon = DKIM_CANON_SIMPLE;
    sigs[4].alg = DKIM_ALG_RSA_SHA256, sigs[4].body_canon = DKIM_CANON_RELAXED;
    sigs[4].has_length = true, sigs[4].length = 10;
    struct dkim_body_kind kinds[5];
    size_t which[5];
    ck_assert_uint_eq(dkim_body_kinds(sigs, 5, kinds, which), 3);
    ck_assert_uint_eq(which[0], 0);
    ck_assert_uint_eq(which[1], 0);
    ck_assert_uint_eq(which[2], 1);
    ck_assert_uint_eq(which[3], DKIM_BODY_NONE);
    ck_assert_uint_eq(which[4], 2);
    ck_assert(kinds[0].canon == DKIM_CANON_RELAXED && kinds[0].hash == DKIM_HASH_SHA256 &&
              !kinds[0].has_limit);
    ck_assert(kinds[1].canon == DKIM_CANON_SIMPLE);
    ck_assert(kinds[2].has_limit && kinds[2].limit == 10);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dkim");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rfc8463_verifies);
    tcase_add_test(tc, rfc8463_changed);
    tcase_add_test(tc, key_strict_identity);
    tcase_add_test(tc, rsa_sha1_refused);
    tcase_add_test(tc, sign_rfc_key);
    tcase_add_test(tc, sign_oversigned_from);
    tcase_add_test(tc, sign_bottom_up);
    tcase_add_test(tc, sign_rsa);
    tcase_add_test(tc, body_kinds);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
