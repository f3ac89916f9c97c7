/* test_qsrs.c: unit tests of qmgr/srs.c: SRS off without srs_domain, configuration errors (two
 * domains, a missing or readable key), the domain folded to lower case, which recipients are in
 * other domains (relay_domains are; ours, any case, and bare local parts are not), and the
 * rewrite of a sender read back. */
#include <check.h>
#include <string.h>
#include <sys/stat.h>
#include "config.h"
#include "qmgr.h"
#include "unit.h"

static char tmpdir[64];

static void setup(void)
{
    unit_mkdtemp(tmpdir, sizeof tmpdir, "/tmp/test_qsrs.XXXXXX");
}

static void teardown(void)
{
    unit_rmtree(tmpdir);
}

static const char domains[] =
    "mydestination = mx.example, localhost\n"
    "virtual_alias_domains = va.example\n"
    "virtual_mailbox_domains = vm.example\n"
    "relay_domains = relay.example\n"
    "srs_key_file = @DIR@/srs.key\n";

/* qsrs_open under domains plus extra; the result, with err. */
static int open_with(const char *extra, struct qsrs **s, char *err, size_t errlen)
{
    unit_load_config(unit_fmt("%s%s", domains, extra), tmpdir);
    err[0] = '\0';
    return qsrs_open(s, err, errlen);
}

static void make_key(void)
{
    char err[ERR_TEXT_MAX];
    ck_assert_msg(srs_key_generate(unit_fmt("%s/srs.key", tmpdir), err, sizeof err) == 0, "%s",
                  err);
}

START_TEST(off_without_srs_domain)
{
    struct qsrs *s = (struct qsrs *)1;
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(open_with("", &s, err, sizeof err), 0);
    ck_assert_ptr_null(s);
    s = (struct qsrs *)1;
    ck_assert_int_eq(open_with("srs_domain = \t \n", &s, err, sizeof err), 0);
    ck_assert_ptr_null(s);   /* no key needed either */
}
END_TEST

START_TEST(configuration_errors)
{
    struct qsrs *s;
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(open_with("srs_domain = mx.example\n", &s, err, sizeof err), -1);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, "srs_key_file") && strstr(err, "srs.key"), "%s", err);
    make_key();
    chmod(unit_fmt("%s/srs.key", tmpdir), 0640);
    ck_assert_int_eq(open_with("srs_domain = mx.example\n", &s, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "readable or writable by group or others"), "%s", err);
    chmod(unit_fmt("%s/srs.key", tmpdir), 0600);
    ck_assert_int_eq(open_with("srs_domain = a.example b.example\n", &s, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "srs_domain: not one domain"), "%s", err);
}
END_TEST

START_TEST(remote_or_ours)
{
    make_key();
    struct qsrs *s;
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(open_with("srs_domain = MX.Example\n", &s, err, sizeof err), 0);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(qsrs_domain(s), "mx.example");
    static const struct { const char *address; int remote; } cases[] = {
        { "a@mx.example", 0 }, { "a@MX.EXAMPLE", 0 }, { "a@localhost", 0 }, { "bob", 0 },
        { "a@va.example", 0 }, { "a@vm.example", 0 }, { "a@relay.example", 1 },
        { "a@remote.example", 1 }, { "a@sub.mx.example", 1 }, { "\"x@mx.example\"@r.example", 1 },
        { "\"x@r.example\"@mx.example", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(qsrs_remote(s, cases[i].address, err, sizeof err) == cases[i].remote,
                      "%s", cases[i].address);
    qsrs_close(s);
}
END_TEST

START_TEST(forward_and_back)
{
    make_key();
    struct qsrs *s;
    char err[ERR_TEXT_MAX], out[SRS_ADDRESS_MAX], back[SRS_ADDRESS_MAX];
    ck_assert_int_eq(open_with("srs_domain = mx.example\n", &s, err, sizeof err), 0);
    time_t now = 20000L * 86400;
    ck_assert_int_eq(qsrs_forward(s, "Someone@Sender.example", now, out, sizeof out), SRS_OK);
    ck_assert_msg(strncmp(out, "SRS0=", 5) == 0 &&
                  strstr(out, "=sender.example=Someone@mx.example") != NULL, "%s", out);
    ck_assert_int_eq(qsrs_reverse(s, out, now, back, sizeof back), SRS_OK);
    ck_assert_str_eq(back, "Someone@sender.example");
    ck_assert_int_eq(qsrs_reverse(s, out, now + 22 * 86400L, back, sizeof back), SRS_EXPIRED);
    ck_assert_int_eq(qsrs_reverse(s, "a@remote.example", now, back, sizeof back), SRS_NOT_SRS);
    ck_assert_int_eq(qsrs_forward(s, "", now, out, sizeof out), SRS_UNCHANGED);
    ck_assert_str_eq(out, "");
    qsrs_close(s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("qsrs");
    TCase *tc = tcase_create("qsrs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, off_without_srs_domain);
    tcase_add_test(tc, configuration_errors);
    tcase_add_test(tc, remote_or_ours);
    tcase_add_test(tc, forward_and_back);
    suite_add_tcase(su, tc);
    return unit_run(su);
}
