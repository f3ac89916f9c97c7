/* test_srs_rcpt.c: unit tests of smtpd/srs_rcpt.c: srs_domain must be a domain tern receives
 * mail for, the key must be usable; at RCPT a valid SRS address (any case) becomes the original
 * sender with the SRS address as ORCPT (a client's own ORCPT kept), a forged, expired or
 * malformed one gets the 550 5.1.1 reply, and other addresses are left to the policy. */
#include <check.h>
#include <string.h>
#include <time.h>
#include "config.h"
#include "srs.h"
#include "srs_rcpt.h"
#include "unit.h"

static char tmpdir[64];
static struct srs_key key;

static void setup(void)
{
    unit_mkdtemp(tmpdir, sizeof tmpdir, "/tmp/test_srs_rcpt.XXXXXX");
    char err[ERR_TEXT_MAX];
    const char *path = unit_fmt("%s/srs.key", tmpdir);
    ck_assert_msg(srs_key_generate(path, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(srs_key_load(path, &key, err, sizeof err) == 0, "%s", err);
}

static void teardown(void)
{
    unit_rmtree(tmpdir);
}

static int open_with(const char *srs_domain, char *err, size_t errlen)
{
    unit_load_config(unit_fmt("mydestination = mx.example, localhost\n"
                              "virtual_alias_domains = va.example\n"
                              "relay_domains = relay.example\n"
                              "srs_key_file = @DIR@/srs.key\n"
                              "srs_domain = %s\n", srs_domain), tmpdir);
    err[0] = '\0';
    return srs_rcpt_open(err, errlen);
}

/* srs_rcpt_check on RCPT TO:<address> with the ORCPT given (NULL: none). */
static int check(const char *address, const char *orcpt, struct smtp_address *a,
                 struct rcpt_params *p, char *reply, size_t replylen)
{
    char err[ERR_TEXT_MAX];
    const char *path = unit_fmt("<%s>", address);
    ck_assert_msg(smtp_parse_path(path, strlen(path), false, true, a, err, sizeof err) > 0,
                  "%s: %s", address, err);
    memset(p, 0, sizeof *p);
    if (orcpt) {
        strcpy(p->orcpt_type, "rfc822");
        strcpy(p->orcpt, orcpt);
    }
    reply[0] = '\0';
    return srs_rcpt_check("client.example[192.0.2.1]", a, p, reply, replylen);
}

START_TEST(srs_domain_must_be_ours)
{
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(open_with("", err, sizeof err), 0);
    ck_assert_int_eq(open_with("mx.example", err, sizeof err), 0);
    ck_assert_int_eq(open_with("VA.example", err, sizeof err), 0);
    ck_assert_int_eq(open_with("relay.example", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "srs_domain = relay.example is not a domain tern receives mail "
                              "for"), "%s", err);
    ck_assert_int_eq(open_with("elsewhere.example", err, sizeof err), -1);
    unit_write_file(unit_fmt("%s/srs.key", tmpdir), "not a key\n");
    ck_assert_int_eq(open_with("mx.example", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "srs_key_file") && strstr(err, "not 64 hexadecimal digits"), "%s",
                  err);
}
END_TEST

START_TEST(valid_address_becomes_the_sender)
{
    char err[ERR_TEXT_MAX], srs[SRS_ADDRESS_MAX], reply[512];
    ck_assert_int_eq(open_with("mx.example", err, sizeof err), 0);
    ck_assert_int_eq(srs_forward(&key, "mx.example", "Someone@sender.example", time(NULL), srs,
                                 sizeof srs), SRS_OK);
    struct smtp_address a;
    struct rcpt_params p;
    ck_assert_int_eq(check(srs, NULL, &a, &p, reply, sizeof reply), 1);
    ck_assert_str_eq(a.address, "Someone@sender.example");
    ck_assert_str_eq(a.domain, "sender.example");
    ck_assert_str_eq(p.orcpt_type, "rfc822");
    ck_assert_str_eq(p.orcpt, srs);
    /* any case; the client's own ORCPT is kept */
    for (char *c = srs; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 32);
    ck_assert_int_eq(check(srs, "first@example.org", &a, &p, reply, sizeof reply), 1);
    ck_assert_str_eq(a.address, "SOMEONE@SENDER.EXAMPLE");   /* as the hop folded it */
    ck_assert_str_eq(p.orcpt, "first@example.org");
}
END_TEST

START_TEST(refused_and_left_alone)
{
    char err[ERR_TEXT_MAX], srs[SRS_ADDRESS_MAX], reply[512];
    ck_assert_int_eq(open_with("mx.example", err, sizeof err), 0);
    struct smtp_address a;
    struct rcpt_params p;
    time_t old = time(NULL) - 22 * 86400L;
    ck_assert_int_eq(srs_forward(&key, "mx.example", "a@sender.example", old, srs, sizeof srs),
                     SRS_OK);
    ck_assert_int_eq(check(srs, NULL, &a, &p, reply, sizeof reply), -1);
    ck_assert_str_eq(reply, unit_fmt("550 5.1.1 <%s>: Recipient address rejected: SRS address "
                                     "expired", srs));
    ck_assert_str_eq(a.address, srs);   /* unchanged */
    ck_assert_str_eq(p.orcpt_type, "");
    const char *forged = "SRS0=AAAAAA=AA=sender.example=a@mx.example";
    ck_assert_int_eq(check(forged, NULL, &a, &p, reply, sizeof reply), -1);
    ck_assert_str_eq(reply, "550 5.1.1 <SRS0=AAAAAA=AA=sender.example=a@mx.example>: Recipient "
                            "address rejected: SRS address hash mismatch");
    ck_assert_int_eq(check("SRS0=x@MX.example", NULL, &a, &p, reply, sizeof reply), -1);
    ck_assert_msg(strstr(reply, "malformed SRS address"), "%s", reply);
    /* not SRS, or SRS of another domain: the recipient policy decides */
    ck_assert_int_eq(check("a@mx.example", NULL, &a, &p, reply, sizeof reply), 0);
    ck_assert_int_eq(check("postmaster", NULL, &a, &p, reply, sizeof reply), 0);
    ck_assert_int_eq(check("SRS0=AAAAAA=AA=sender.example=a@other.example", NULL, &a, &p, reply,
                           sizeof reply), 0);
    ck_assert_str_eq(reply, "");
    /* SRS off */
    ck_assert_int_eq(open_with("", err, sizeof err), 0);
    ck_assert_int_eq(check(forged, NULL, &a, &p, reply, sizeof reply), 0);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("srs_rcpt");
    TCase *tc = tcase_create("srs_rcpt");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, srs_domain_must_be_ours);
    tcase_add_test(tc, valid_address_becomes_the_sender);
    tcase_add_test(tc, refused_and_left_alone);
    suite_add_tcase(su, tc);
    return unit_run(su);
}
