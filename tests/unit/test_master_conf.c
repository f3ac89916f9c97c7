/* test_master_conf.c: unit tests of common/master_conf.c: the master.cf columns and their
 * defaults, inet host/port names, -o overrides, continuation lines and the error messages. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "master_conf.h"
#include "unit.h"

static char err[ERR_TEXT_MAX];
static struct master_conf mc;

static void parse_ok(const char *text)
{
    err[0] = '\0';
    int r = master_conf_parse("m.conf", text, 100, &mc, err, sizeof err);
    ck_assert_msg(r == 0, "parse failed: %s", err);
}

static void parse_fails(const char *text, const char *expected)
{
    err[0] = '\0';
    ck_assert_int_eq(master_conf_parse("m.conf", text, 100, &mc, err, sizeof err), -1);
    ck_assert_str_eq(err, expected);
    ck_assert_int_eq(mc.count, 0);
    ck_assert_ptr_null(mc.services);
}

static void assert_list(char **list, const char *const *expected, size_t n)
{
    ck_assert_ptr_nonnull(list);
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_nonnull(list[i]);
        ck_assert_str_eq(list[i], expected[i]);
    }
    ck_assert_ptr_null(list[n]);
}

START_TEST(test_defaults)
{
    parse_ok("smtp      inet  n       -       -       -       -       smtpd\n");
    ck_assert_int_eq(mc.count, 1);
    const struct service_def *s = &mc.services[0];
    ck_assert_str_eq(s->name, "smtp");
    ck_assert_int_eq(s->type, SERVICE_INET);
    ck_assert_ptr_null(s->host);
    ck_assert_str_eq(s->port, "smtp");
    ck_assert(!s->private_service);
    ck_assert(s->unprivileged);
    ck_assert(!s->chroot);
    ck_assert_int_eq(s->wakeup, 0);
    ck_assert(!s->wakeup_after_use);
    ck_assert_int_eq(s->maxproc, 100);
    ck_assert_str_eq(s->command, "smtpd");
    ck_assert_ptr_null(s->overrides[0]);
    ck_assert_ptr_null(s->args[0]);
    ck_assert_int_eq(s->line, 1);
    master_conf_free(&mc);
    ck_assert_int_eq(mc.count, 0);
}
END_TEST

START_TEST(test_all_dashes)
{
    parse_ok("pickup unix - - - - - pickup\n");
    const struct service_def *s = &mc.services[0];
    ck_assert_int_eq(s->type, SERVICE_UNIX);
    ck_assert(s->private_service);
    ck_assert(s->unprivileged);
    ck_assert(!s->chroot);
    ck_assert_int_eq(s->wakeup, 0);
    ck_assert_int_eq(s->maxproc, 100);
    ck_assert_ptr_null(s->host);
    ck_assert_ptr_null(s->port);
    master_conf_free(&mc);
    /* default_maxproc comes from the caller */
    ck_assert_int_eq(master_conf_parse("m.conf", "x unix - - - - - x\n", 7, &mc, err, sizeof err),
                     0);
    ck_assert_int_eq(mc.services[0].maxproc, 7);
    master_conf_free(&mc);
}
END_TEST

START_TEST(test_explicit_columns)
{
    parse_ok("qmgr unix n n y 300? 1 qmgr\n"
             "cleanup unix y y n 60 0 cleanup\n");
    ck_assert_int_eq(mc.count, 2);
    const struct service_def *q = &mc.services[0], *c = &mc.services[1];
    ck_assert(!q->private_service);
    ck_assert(!q->unprivileged);
    ck_assert(q->chroot);
    ck_assert_int_eq(q->wakeup, 300);
    ck_assert(q->wakeup_after_use);
    ck_assert_int_eq(q->maxproc, 1);
    ck_assert(c->private_service);
    ck_assert(c->unprivileged);
    ck_assert(!c->chroot);
    ck_assert_int_eq(c->wakeup, 60);
    ck_assert(!c->wakeup_after_use);
    ck_assert_int_eq(c->maxproc, 0);
    ck_assert_int_eq(c->line, 2);
    master_conf_free(&mc);
}
END_TEST

START_TEST(test_inet_names)
{
    static const struct { const char *name, *host, *port; } cases[] = {
        { "2525", NULL, "2525" },
        { "smtp", NULL, "smtp" },
        { "127.0.0.1:2525", "127.0.0.1", "2525" },
        { "[::1]:2525", "::1", "2525" },
        { "[fe80::1%eth0]:25", "fe80::1%eth0", "25" },
        { "*:25", NULL, "25" },
        { "mail.example.org:submission", "mail.example.org", "submission" },
        { "localhost:65535", "localhost", "65535" },
        { "1", NULL, "1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "%s inet n - n - - smtpd\n", cases[i].name);
        parse_ok(text);
        const struct service_def *s = &mc.services[0];
        ck_assert_str_eq(s->name, cases[i].name);
        if (cases[i].host)
            ck_assert_str_eq(s->host, cases[i].host);
        else
            ck_assert_ptr_null(s->host);
        ck_assert_str_eq(s->port, cases[i].port);
        master_conf_free(&mc);
    }
}
END_TEST

START_TEST(test_bad_inet_names)
{
    static const struct { const char *name, *why; } cases[] = {
        { "0", "port \"0\" is neither a number from 1 to 65535 nor a service name" },
        { "65536", "port \"65536\" is neither a number from 1 to 65535 nor a service name" },
        { "Smtp", "port \"Smtp\" is neither a number from 1 to 65535 nor a service name" },
        { "a_b", "port \"a_b\" is neither a number from 1 to 65535 nor a service name" },
        { "host:", "port \"\" is neither a number from 1 to 65535 nor a service name" },
        { "[::1]", "missing port after \"]\"" },
        { "[::1:25", "missing \"]\"" },
        { "::1:25", "write an IPv6 address in brackets, as in [::1]:25" },
        { ":25", "bad host \"\"" },
        { "a/b:25", "bad host \"a/b\"" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[128], expected[512];
        snprintf(text, sizeof text, "# x\n%s inet n - n - - smtpd\n", cases[i].name);
        snprintf(expected, sizeof expected, "m.conf:2: bad inet service \"%s\": %s",
                 cases[i].name, cases[i].why);
        parse_fails(text, expected);
    }
}
END_TEST

START_TEST(test_unix_names)
{
    parse_ok("bounce.v2-x_y unix - - - - 0 bounce\n");
    master_conf_free(&mc);
    static const char *const bad[] = { "../x", ".hidden", "-x", "a/b", "a:b" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128], expected[512];
        snprintf(text, sizeof text, "%s unix - - - - - x\n", bad[i]);
        snprintf(expected, sizeof expected, "m.conf:1: bad unix service name \"%s\" (use "
                 "letters, digits, \".\", \"-\" and \"_\", not first \".\" or \"-\")", bad[i]);
        parse_fails(text, expected);
    }
}
END_TEST

START_TEST(test_overrides_and_args)
{
    parse_ok("submission inet n - n - - smtpd -o smtpd_tls_security_level=encrypt "
             "-osyslog_name=tern/submission -v -o content_filter= last\n");
    const struct service_def *s = &mc.services[0];
    static const char *const over[] = { "smtpd_tls_security_level=encrypt",
                                        "syslog_name=tern/submission", "content_filter=" };
    static const char *const args[] = { "-v", "last" };
    assert_list(s->overrides, over, 3);
    assert_list(s->args, args, 2);
    master_conf_free(&mc);
}
END_TEST

START_TEST(test_continuation_lines)
{
    parse_ok("# comment\n"
             "\n"
             "submission inet n - n - - smtpd\n"
             "  -o syslog_name=tern/submission\n"
             "    # a comment inside an entry\n"
             "\n"
             "\t-o smtpd_timeout=10s -v\n"
             "pickup unix n - n 60 1 pickup\n"
             "   # trailing comment\n");
    ck_assert_int_eq(mc.count, 2);
    const struct service_def *s = &mc.services[0];
    static const char *const over[] = { "syslog_name=tern/submission", "smtpd_timeout=10s" };
    static const char *const args[] = { "-v" };
    assert_list(s->overrides, over, 2);
    assert_list(s->args, args, 1);
    ck_assert_int_eq(s->line, 3);
    ck_assert_int_eq(mc.services[1].line, 8);
    ck_assert_str_eq(mc.services[1].command, "pickup");
    master_conf_free(&mc);
}
END_TEST

START_TEST(test_columns_on_continuation_lines)
{
    /* the columns themselves may be split over lines */
    parse_ok("smtp inet\n   n - n - -\n   smtpd -v\n");
    ck_assert_str_eq(mc.services[0].command, "smtpd");
    ck_assert_str_eq(mc.services[0].args[0], "-v");
    master_conf_free(&mc);
}
END_TEST

START_TEST(test_find)
{
    parse_ok("smtp inet n - n - - smtpd\nsmtp unix - - n - - smtp\nqmgr unix n - n 300 1 qmgr\n");
    ck_assert_int_eq(mc.count, 3);
    ck_assert_str_eq(master_conf_find(&mc, "smtp", SERVICE_INET)->command, "smtpd");
    ck_assert_str_eq(master_conf_find(&mc, "smtp", SERVICE_UNIX)->command, "smtp");
    ck_assert_ptr_null(master_conf_find(&mc, "qmgr", SERVICE_INET));
    ck_assert_ptr_null(master_conf_find(&mc, "nothing", SERVICE_UNIX));
    master_conf_free(&mc);
}
END_TEST

START_TEST(test_empty)
{
    parse_ok("");
    ck_assert_int_eq(mc.count, 0);
    parse_ok("# only comments\n\n   \n");
    ck_assert_int_eq(mc.count, 0);
    master_conf_free(&mc);
}
END_TEST

START_TEST(test_errors)
{
    parse_fails("smtp inet n - n - - smtpd\n# c\nx fifo - - - - - y\n",
                "m.conf:3: unknown service type \"fifo\" (use inet or unix)");
    parse_fails("x unix yes - - - - y\n", "m.conf:1: bad private column \"yes\" (use y, n or -)");
    parse_fails("x unix - N - - - y\n", "m.conf:1: bad unpriv column \"N\" (use y, n or -)");
    parse_fails("x unix - - 1 - - y\n", "m.conf:1: bad chroot column \"1\" (use y, n or -)");
    parse_fails("x unix - - - 5?? - y\n",
                "m.conf:1: bad wakeup column \"5??\" (use seconds, optionally followed by ?, "
                "or -)");
    parse_fails("x unix - - - ? - y\n",
                "m.conf:1: bad wakeup column \"?\" (use seconds, optionally followed by ?, "
                "or -)");
    parse_fails("x unix - - - -1 - y\n",
                "m.conf:1: bad wakeup column \"-1\" (use seconds, optionally followed by ?, "
                "or -)");
    parse_fails("x unix - - - - -1 y\n",
                "m.conf:1: bad maxproc column \"-1\" (use a process limit, 0 for none, or -)");
    parse_fails("x unix - - - - many y\n",
                "m.conf:1: bad maxproc column \"many\" (use a process limit, 0 for none, or -)");
    parse_fails("x unix - - - - 9999999999 y\n", "m.conf:1: bad maxproc column \"9999999999\" "
                "(use a process limit, 0 for none, or -)");
    parse_fails("x unix - -\n  - - -\n",
                "m.conf:1: expected 8 columns (service type private unpriv chroot wakeup "
                "maxproc command), found 7");
    parse_fails("  -o a=b\n", "m.conf:1: indented line without a service entry before it");
}
END_TEST

START_TEST(test_duplicate)
{
    parse_fails("smtp inet n - n - - smtpd\n\n# again\nsmtp inet n - n - - other\n",
                "m.conf:4: service \"smtp\" (inet) is already defined at line 1");
    parse_fails("a unix - - - - - a\nb unix - - - - - b\na unix - - - - - c\n",
                "m.conf:3: service \"a\" (unix) is already defined at line 1");
}
END_TEST

START_TEST(test_override_errors)
{
    parse_fails("smtp inet n - n - - smtpd\n  -o\n",
                "m.conf:2: -o without name=value");
    parse_fails("smtp inet n - n - - smtpd\n  -o novalue\n",
                "m.conf:2: bad -o \"novalue\" (expected name=value)");
    parse_fails("smtp inet n - n - - smtpd -o =x\n",
                "m.conf:1: bad -o \"=x\" (expected name=value)");
    parse_fails("smtp inet n - n - - smtpd -obad-name=1\n",
                "m.conf:1: bad -o \"bad-name=1\" (expected name=value)");
    /* values of known parameters are type-checked unless they refer to others */
    parse_fails("smtp inet n - n - - smtpd\n -o\n smtpd_timeout=soon\n",
                "m.conf:3: bad time value \"soon\" for smtpd_timeout");
    parse_ok("smtp inet n - n - - smtpd -o smtpd_timeout=$t -o message_size_limit=10m\n");
    master_conf_free(&mc);
}
END_TEST

START_TEST(test_bounds)
{
    size_t size = 1001 * 32 + 1;
    char *text = malloc(size);
    size_t len = 0;
    for (int i = 0; i < 1001; i++)
        len += (size_t)snprintf(text + len, size - len, "s%d unix - - - - - x\n", i);
    parse_fails(text, "m.conf:1001: more than 1000 services");
    /* exactly 1000 services are fine */
    len = 0;
    for (int i = 0; i < 1000; i++)
        len += (size_t)snprintf(text + len, size - len, "s%d unix - - - - - x\n", i);
    parse_ok(text);
    ck_assert_int_eq(mc.count, 1000);
    master_conf_free(&mc);
    free(text);

    text = malloc(1001 * 3 + 64);
    len = (size_t)sprintf(text, "x unix - - - - - x");
    for (int i = 8; i < 1001; i++)
        len += (size_t)sprintf(text + len, " a");
    sprintf(text + len, "\n");
    parse_fails(text, "m.conf:1: more than 1000 words in one entry");
    free(text);
}
END_TEST

static char tmpdir[64];

START_TEST(test_load)
{
    unit_mkdtemp(tmpdir, sizeof tmpdir, "/tmp/tern-test-master-XXXXXX");
    char path[128], expected[512];
    snprintf(path, sizeof path, "%s/master.conf", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("smtp inet n - n - - smtpd\nbad unix - - - - - \n", f);
    fclose(f);
    ck_assert_int_eq(master_conf_load(tmpdir, 100, &mc, err, sizeof err), -1);
    snprintf(expected, sizeof expected, "%s:2: expected 8 columns (service type private "
             "unpriv chroot wakeup maxproc command), found 7", path);
    ck_assert_str_eq(err, expected);
    f = fopen(path, "w");
    fputs("smtp inet n - n - - smtpd\n", f);
    fclose(f);
    ck_assert_msg(master_conf_load(tmpdir, 100, &mc, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(mc.count, 1);
    master_conf_free(&mc);
    unlink(path);
    ck_assert_int_eq(master_conf_load(tmpdir, 100, &mc, err, sizeof err), -1);
    snprintf(expected, sizeof expected, "%s: No such file or directory", path);
    ck_assert_str_eq(err, expected);
    rmdir(tmpdir);
}
END_TEST

static Suite *master_conf_suite(void)
{
    Suite *s = suite_create("master_conf");
    TCase *tc = tcase_create("columns");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_all_dashes);
    tcase_add_test(tc, test_explicit_columns);
    tcase_add_test(tc, test_inet_names);
    tcase_add_test(tc, test_bad_inet_names);
    tcase_add_test(tc, test_unix_names);
    tcase_add_test(tc, test_overrides_and_args);
    tcase_add_test(tc, test_continuation_lines);
    tcase_add_test(tc, test_columns_on_continuation_lines);
    tcase_add_test(tc, test_find);
    tcase_add_test(tc, test_empty);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_duplicate);
    tcase_add_test(tc, test_override_errors);
    tcase_add_test(tc, test_bounds);
    tcase_add_test(tc, test_load);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(master_conf_suite());
}
