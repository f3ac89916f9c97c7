/* test_dmarc.c: unit tests of mail/dmarc_record.c and mail/dmarc.c: the record (tags, defaults,
 * case, §6.6.3's p=none with rua=, permanent errors), the pick among TXT records, the From:
 * domain (one, none, several, no domain, literals), organizational domains through the Public
 * Suffix List, the alignment table, the look-up names, and the evaluation (p/sp/np, pct
 * sampling, errors). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "dmarc.h"
#include "errtext.h"
#include "unit.h"

static struct dmarc_psl *psl;

static void setup(void)
{
    char err[ERR_TEXT_MAX] = "";
    psl = dmarc_psl_load(NULL, err, sizeof err);
    ck_assert_msg(psl != NULL, "%s", err);
}

static void teardown(void)
{
    dmarc_psl_free(psl);
    psl = NULL;
}

/* parses s from an exact-size copy (so the sanitizers see a read past its end) */
static int parse(const char *s, struct dmarc_record *r, char *err, size_t errlen)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, s, n);
    int rc = dmarc_record_parse(copy, n, r, err, errlen);
    free(copy);
    return rc;
}

START_TEST(record_full)
{
    struct dmarc_record r;
    char err[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(parse("v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=r; "
                           "pct=25; rua=mailto:agg@example.com,mailto:b@example.net!10m; "
                           "ruf=mailto:f@example.com; fo=1:d; ri=3600; rf=afrf",
                           &r, err, sizeof err), 1);
    ck_assert_int_eq(r.p, DMARC_POLICY_REJECT);
    ck_assert_int_eq(r.sp, DMARC_POLICY_QUARANTINE);
    ck_assert_int_eq(r.np, DMARC_POLICY_REJECT);
    ck_assert_int_eq(r.adkim, DMARC_ALIGN_STRICT);
    ck_assert_int_eq(r.aspf, DMARC_ALIGN_RELAXED);
    ck_assert_int_eq(r.pct, 25);
    ck_assert_uint_eq(r.ri, 3600);
    ck_assert_str_eq(r.fo, "1:d");
    ck_assert_str_eq(r.rua, "mailto:agg@example.com,mailto:b@example.net!10m");
    ck_assert_str_eq(r.ruf, "mailto:f@example.com");
    ck_assert(!r.p_defaulted);
}
END_TEST

START_TEST(record_defaults_and_case)
{
    struct dmarc_record r;
    char err[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(parse("v=DMARC1;p=none", &r, err, sizeof err), 1);
    ck_assert_int_eq(r.p, DMARC_POLICY_NONE);
    ck_assert_int_eq(r.sp, DMARC_POLICY_UNSET);
    ck_assert_int_eq(r.np, DMARC_POLICY_UNSET);
    ck_assert_int_eq(r.adkim, DMARC_ALIGN_RELAXED);
    ck_assert_int_eq(r.pct, 100);
    ck_assert_uint_eq(r.ri, 86400);
    ck_assert_str_eq(r.fo, "0");
    ck_assert_str_eq(r.rua, "");
    /* white space, upper-case names and words, empty elements, a final ";", unknown tags */
    ck_assert_int_eq(parse("v = DMARC1 ;; P = Quarantine ; ADKIM=S; x_new=what ever; ", &r,
                           err, sizeof err), 1);
    ck_assert_int_eq(r.p, DMARC_POLICY_QUARANTINE);
    ck_assert_int_eq(r.adkim, DMARC_ALIGN_STRICT);
    /* errors in known tags other than p/sp: their defaults */
    ck_assert_int_eq(parse("v=DMARC1; p=reject; pct=101; adkim=x; aspf=; ri=-1; fo=2; "
                           "np=bogus; rua=not a uri", &r, err, sizeof err), 1);
    ck_assert_int_eq(r.pct, 100);
    ck_assert_int_eq(r.adkim, DMARC_ALIGN_RELAXED);
    ck_assert_uint_eq(r.ri, 86400);
    ck_assert_str_eq(r.fo, "0");
    ck_assert_int_eq(r.np, DMARC_POLICY_UNSET);
    ck_assert_str_eq(r.rua, "");
    ck_assert_int_eq(parse("v=DMARC1; p=reject; pct=0", &r, err, sizeof err), 1);
    ck_assert_int_eq(r.pct, 0);
}
END_TEST

START_TEST(record_missing_p)
{
    struct dmarc_record r;
    char err[ERR_TEXT_MAX] = "";
    /* §6.6.3: no valid p= but a valid rua=: "v=DMARC1; p=none" */
    ck_assert_int_eq(parse("v=DMARC1; rua=mailto:d@example.com; sp=reject", &r, err, sizeof err),
                     1);
    ck_assert_int_eq(r.p, DMARC_POLICY_NONE);
    ck_assert_int_eq(r.sp, DMARC_POLICY_UNSET);
    ck_assert(r.p_defaulted);
    ck_assert_int_eq(parse("v=DMARC1; p=rejekt; rua=mailto:d@example.com", &r, err, sizeof err),
                     1);
    ck_assert_int_eq(r.p, DMARC_POLICY_NONE);
    ck_assert_int_eq(parse("v=DMARC1; p=reject; sp=never; rua=mailto:d@example.com", &r, err,
                           sizeof err), 1);
    ck_assert_int_eq(r.p, DMARC_POLICY_NONE);
    ck_assert(r.p_defaulted);
    /* without one: a permanent error */
    ck_assert_int_eq(parse("v=DMARC1; sp=reject", &r, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "p="));
    ck_assert_int_eq(parse("v=DMARC1; p=reject; sp=never", &r, err, sizeof err), -1);
    ck_assert_int_eq(parse("v=DMARC1; p=reject; rua=mailto", &r, err, sizeof err), 1);
    ck_assert_int_eq(parse("v=DMARC1; p=x; rua=mailto", &r, err, sizeof err), -1);
}
END_TEST

START_TEST(record_errors)
{
    struct dmarc_record r;
    char err[ERR_TEXT_MAX] = "";
    /* not DMARC: 0 */
    const char *not_dmarc[] = { "", "v=spf1 -all", "p=reject; v=DMARC1", "v=dmarc1; p=reject",
                                "v=DMARC10; p=reject", " v=DMARC1; p=reject", "v:DMARC1" };
    for (size_t i = 0; i < sizeof not_dmarc / sizeof *not_dmarc; i++)
        ck_assert_msg(parse(not_dmarc[i], &r, err, sizeof err) == 0, "%s", not_dmarc[i]);
    const char *bad[] = { "v=DMARC1; p=reject; p=none", "v=DMARC1; p=reject; v=DMARC1",
                          "v=DMARC1; p=reject; junk", "v=DMARC1; p=reject; 1x=y",
                          "v=DMARC1; p=reject\x01", "v=DMARC1; p=reject; x=\xc3\xa9",
                          "v=DMARC1; p=reject; =x", "v=DMARC1; p=reject; x-y=1" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        ck_assert_msg(parse(bad[i], &r, err, sizeof err) == -1, "%s", bad[i]);
        ck_assert(err[0] != '\0');
    }
    /* the length bound */
    char big[DMARC_RECORD_MAX + 32];
    snprintf(big, sizeof big, "v=DMARC1; p=reject; x=");
    size_t n = strlen(big);
    memset(big + n, 'a', sizeof big - n - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(parse(big, &r, err, sizeof err), -1);
    big[DMARC_RECORD_MAX] = '\0';
    ck_assert_int_eq(parse(big, &r, err, sizeof err), 1);
}
END_TEST

START_TEST(pick)
{
    const char *t[] = { "v=spf1 -all", "v=DMARC1; p=none", "google-site-verification=x",
                        "v=DMARC1; p=reject" };
    size_t lens[4];
    for (int i = 0; i < 4; i++)
        lens[i] = strlen(t[i]);
    size_t index = 99;
    ck_assert_int_eq(dmarc_record_pick(t, lens, 3, &index), 1);
    ck_assert_uint_eq(index, 1);
    ck_assert_int_eq(dmarc_record_pick(t, lens, 4, &index), 0);   /* several: none */
    ck_assert_int_eq(dmarc_record_pick(t, lens, 1, &index), 0);
    ck_assert_int_eq(dmarc_record_pick(t, lens, 0, &index), 0);
    ck_assert_int_eq(dmarc_record_pick(t + 3, lens + 3, 1, &index), 1);
    ck_assert_uint_eq(index, 0);
}
END_TEST

static enum dmarc_from from(const char *v, char *domain)
{
    size_t n = strlen(v);
    char *copy = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, v, n);
    enum dmarc_from f = dmarc_from_domain(copy, n, domain);
    free(copy);
    return f;
}

START_TEST(from_domain)
{
    char d[DMARC_DOMAIN_MAX];
    ck_assert_int_eq(from("Joe <joe@Mail.Example.COM.>", d), DMARC_FROM_OK);
    ck_assert_str_eq(d, "mail.example.com");
    ck_assert_int_eq(from(" \"a@b\"@example.org (comment)", d), DMARC_FROM_OK);
    ck_assert_str_eq(d, "example.org");
    ck_assert_int_eq(from("Group: a@x.example;", d), DMARC_FROM_OK);
    ck_assert_str_eq(d, "x.example");
    ck_assert_int_eq(from("a@x.example,\r\n b@y.example", d), DMARC_FROM_SEVERAL);
    ck_assert_int_eq(from("a@x.example, a@x.example", d), DMARC_FROM_SEVERAL);
    ck_assert_int_eq(from("", d), DMARC_FROM_NONE);
    ck_assert_int_eq(from("undisclosed-recipients:;", d), DMARC_FROM_NONE);
    ck_assert_int_eq(from("Joe <joe>", d), DMARC_FROM_NO_DOMAIN);
    ck_assert_int_eq(from("joe@[192.0.2.1]", d), DMARC_FROM_BAD);
    ck_assert_int_eq(from("joe@a..b", d), DMARC_FROM_BAD);
    ck_assert_int_eq(from("joe@exa!mple.com", d), DMARC_FROM_BAD);
    ck_assert_str_eq(d, "");
    ck_assert_str_eq(dmarc_from_text(DMARC_FROM_SEVERAL), "several addresses");
}
END_TEST

START_TEST(org_domain)
{
    static const char *const cases[][2] = {
        { "mail.example.co.uk", "example.co.uk" },
        { "example.co.uk", "example.co.uk" },
        { "a.b.c.Example.COM.", "example.com" },
        { "example.com", "example.com" },
        { "co.uk", "co.uk" },                    /* a public suffix is its own */
        { "x.y.example.invalid", "example.invalid" },   /* the "*" rule */
    };
    char out[DMARC_DOMAIN_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ck_assert_int_eq(dmarc_org_domain(psl, cases[i][0], out), 0);
        ck_assert_msg(strcmp(out, cases[i][1]) == 0, "%s: %s", cases[i][0], out);
    }
    ck_assert_int_eq(dmarc_org_domain(psl, "", out), -1);
    ck_assert_int_eq(dmarc_org_domain(psl, "a b.example", out), -1);
}
END_TEST

START_TEST(alignment_table)
{
    static const struct {
        const char *a, *b;
        bool relaxed, strict;
    } t[] = {
        { "example.com", "example.com", true, true },
        { "Example.COM", "example.com.", true, true },
        { "mail.example.com", "example.com", true, false },
        { "a.example.com", "b.example.com", true, false },
        { "example.com", "example.net", false, false },
        { "mail.example.co.uk", "example.co.uk", true, false },
        { "example.co.uk", "other.co.uk", false, false },   /* org domains, not "co.uk" */
        { "a.co.uk", "co.uk", false, false },
        { "badexample.com", "example.com", false, false },
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        ck_assert_msg(dmarc_aligned(psl, t[i].a, t[i].b, DMARC_ALIGN_RELAXED) == t[i].relaxed,
                      "relaxed %s %s", t[i].a, t[i].b);
        ck_assert_msg(dmarc_aligned(psl, t[i].a, t[i].b, DMARC_ALIGN_STRICT) == t[i].strict,
                      "strict %s %s", t[i].a, t[i].b);
    }
    ck_assert(!dmarc_aligned(psl, NULL, "example.com", DMARC_ALIGN_RELAXED));
}
END_TEST

START_TEST(lookup_names)
{
    char names[2][DMARC_QNAME_MAX];
    ck_assert_int_eq(dmarc_lookup_names(psl, "Mail.Example.co.uk", names), 2);
    ck_assert_str_eq(names[0], "_dmarc.mail.example.co.uk");
    ck_assert_str_eq(names[1], "_dmarc.example.co.uk");
    ck_assert_int_eq(dmarc_lookup_names(psl, "example.com", names), 1);
    ck_assert_str_eq(names[0], "_dmarc.example.com");
    ck_assert_str_eq(names[1], "");
    ck_assert_int_eq(dmarc_lookup_names(psl, "", names), -1);
}
END_TEST

/* ---- the evaluation ---- */

static struct dmarc_record rec;
static struct dmarc_input in;
static struct dmarc_dkim sigs[2];

static void eval_setup(void)
{
    setup();
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(dmarc_record_parse("v=DMARC1; p=reject", 18, &rec, err, sizeof err), 1);
    memset(&in, 0, sizeof in);
    in.from_domain = "example.com";
    in.from_exists = true;
    in.lookup = DMARC_LOOKUP_FOUND;
    in.record = &rec;
    in.record_domain = "example.com";
    in.spf_domain = "bounces.example.com";
    in.spf_pass = false;
    sigs[0] = (struct dmarc_dkim){ "other.example", true };
    sigs[1] = (struct dmarc_dkim){ "example.com", false };
    in.dkim = sigs;
    in.ndkim = 2;
    in.sample = 0;
}

START_TEST(evaluate_pass_and_fail)
{
    struct dmarc_outcome o;
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.result, DMARC_RESULT_FAIL);   /* unaligned pass, aligned fail */
    ck_assert_int_eq(o.policy, DMARC_POLICY_REJECT);
    ck_assert_int_eq(o.disposition, DMARC_POLICY_REJECT);
    ck_assert(!o.spf_aligned && !o.dkim_aligned);
    ck_assert_int_eq(o.dkim_index, -1);

    in.spf_pass = true;   /* relaxed SPF: bounces.example.com */
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.result, DMARC_RESULT_PASS);
    ck_assert(o.spf_aligned && !o.dkim_aligned);
    ck_assert_int_eq(o.disposition, DMARC_POLICY_NONE);
    rec.aspf = DMARC_ALIGN_STRICT;
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.result, DMARC_RESULT_FAIL);

    sigs[1].pass = true;   /* the aligned signature passes */
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.result, DMARC_RESULT_PASS);
    ck_assert(o.dkim_aligned && !o.spf_aligned);
    ck_assert_int_eq(o.dkim_index, 1);
    sigs[1].domain = "sub.example.com";
    rec.adkim = DMARC_ALIGN_STRICT;
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.result, DMARC_RESULT_FAIL);
    rec.adkim = DMARC_ALIGN_RELAXED;
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.result, DMARC_RESULT_PASS);
    ck_assert_str_eq(dmarc_result_name(o.result), "pass");
}
END_TEST

START_TEST(evaluate_policy_selection)
{
    struct dmarc_outcome o;
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(dmarc_record_parse("v=DMARC1; p=reject; sp=quarantine; np=none", 42, &rec,
                                        err, sizeof err), 1);
    in.from_domain = "mail.example.com";
    in.record_domain = "example.com";   /* found at the organizational domain */
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.policy, DMARC_POLICY_QUARANTINE);
    in.from_exists = false;
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.policy, DMARC_POLICY_NONE);   /* np= */
    ck_assert_int_eq(o.disposition, DMARC_POLICY_NONE);
    rec.np = DMARC_POLICY_UNSET;   /* no np=: sp= */
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.policy, DMARC_POLICY_QUARANTINE);
    rec.sp = DMARC_POLICY_UNSET;   /* no sp= either: p= */
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.policy, DMARC_POLICY_REJECT);
    /* found at the From domain itself: p=, whatever sp= and np= say */
    rec.sp = DMARC_POLICY_NONE;
    rec.np = DMARC_POLICY_NONE;
    in.record_domain = "Mail.Example.COM";
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.policy, DMARC_POLICY_REJECT);
    ck_assert_str_eq(dmarc_policy_name(o.policy), "reject");
}
END_TEST

START_TEST(evaluate_pct)
{
    struct dmarc_outcome o;
    rec.pct = 0;   /* every message sampled out: reject -> quarantine */
    in.sample = 0;
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.result, DMARC_RESULT_FAIL);
    ck_assert_int_eq(o.policy, DMARC_POLICY_REJECT);
    ck_assert_int_eq(o.disposition, DMARC_POLICY_QUARANTINE);
    ck_assert(o.sampled_out);
    rec.pct = 100;   /* none sampled out */
    in.sample = 99;
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.disposition, DMARC_POLICY_REJECT);
    ck_assert(!o.sampled_out);
    rec.pct = 30;   /* samples 0-29 in, 30-99 out */
    in.sample = 29;
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.disposition, DMARC_POLICY_REJECT);
    in.sample = 30;
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.disposition, DMARC_POLICY_QUARANTINE);
    rec.p = DMARC_POLICY_QUARANTINE;   /* quarantine -> none */
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.disposition, DMARC_POLICY_NONE);
    ck_assert(o.sampled_out);
    rec.p = DMARC_POLICY_NONE;   /* nothing lower than none */
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.disposition, DMARC_POLICY_NONE);
    ck_assert(!o.sampled_out);
}
END_TEST

START_TEST(evaluate_no_policy)
{
    struct dmarc_outcome o;
    static const struct {
        enum dmarc_lookup lookup;
        enum dmarc_result result;
    } t[] = {
        { DMARC_LOOKUP_NONE, DMARC_RESULT_NONE },
        { DMARC_LOOKUP_TEMPERROR, DMARC_RESULT_TEMPERROR },
        { DMARC_LOOKUP_PERMERROR, DMARC_RESULT_PERMERROR },
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        in.lookup = t[i].lookup;
        dmarc_evaluate(psl, &in, &o);
        ck_assert_int_eq(o.result, t[i].result);
        ck_assert_int_eq(o.policy, DMARC_POLICY_NONE);
        ck_assert_int_eq(o.disposition, DMARC_POLICY_NONE);
    }
    in.lookup = DMARC_LOOKUP_FOUND;
    in.from_domain = "";
    dmarc_evaluate(psl, &in, &o);
    ck_assert_int_eq(o.result, DMARC_RESULT_NONE);
}
END_TEST

static Suite *dmarc_suite(void)
{
    Suite *s = suite_create("dmarc");
    TCase *t = tcase_create("record");
    tcase_add_test(t, record_full);
    tcase_add_test(t, record_defaults_and_case);
    tcase_add_test(t, record_missing_p);
    tcase_add_test(t, record_errors);
    tcase_add_test(t, pick);
    tcase_add_test(t, from_domain);
    suite_add_tcase(s, t);
    t = tcase_create("psl");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, org_domain);
    tcase_add_test(t, alignment_table);
    tcase_add_test(t, lookup_names);
    suite_add_tcase(s, t);
    t = tcase_create("evaluate");
    tcase_add_checked_fixture(t, eval_setup, teardown);
    tcase_add_test(t, evaluate_pass_and_fail);
    tcase_add_test(t, evaluate_policy_selection);
    tcase_add_test(t, evaluate_pct);
    tcase_add_test(t, evaluate_no_policy);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return unit_run(dmarc_suite());
}
