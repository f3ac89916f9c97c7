/* test_resolve.c: unit tests of qmgr/resolve.c: the address classes (local, virtual, smtp with
 * and without relayhost), every transport_maps key form and value form, case folding, a table
 * that fails at lookup time, and configuration errors at resolver_open. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "config.h"
#include "dict.h"
#include "resolve.h"
#include "unit.h"

static char tmpdir[64];

#define BASE_CONF \
    "myhostname = mail.example.com\n" \
    "mydestination = $myhostname, localhost, .local.example\n" \
    "virtual_mailbox_domains = vmbox.example, inline:{vtab.example=1, .vsub.example=1}\n"

static void setup(void)
{
    unit_mkdtemp(tmpdir, sizeof tmpdir, "/tmp/test_resolve.XXXXXX");
}

static void teardown(void)
{
    unit_rmtree(tmpdir);
}

/* Loads the configuration text, where every "@DIR@" stands for the test's directory. */
static void load(const char *text)
{
    unit_load_config(text, tmpdir);
}

static struct resolver *open_ok(const char *text)
{
    load(text);
    char err[512] = "";
    struct resolver *r = resolver_open(err, sizeof err);
    ck_assert_msg(r != NULL, "resolver_open: %s", err);
    return r;
}

static void open_fails(const char *text, const char *expected)
{
    load(text);
    char err[512] = "";
    ck_assert_ptr_null(resolver_open(err, sizeof err));
    ck_assert_str_eq(err, expected);
}

static void check(struct resolver *r, const char *address, const char *transport,
                  const char *nexthop)
{
    struct resolved out;
    char err[512] = "";
    ck_assert_msg(resolve_recipient(r, address, &out, err, sizeof err) == 0, "%s: %s", address,
                  err);
    ck_assert_msg(strcmp(out.transport, transport) == 0 && strcmp(out.nexthop, nexthop) == 0,
                  "%s: got %s:%s, expected %s:%s", address, out.transport, out.nexthop,
                  transport, nexthop);
    ck_assert_str_eq(out.recipient, address);
}

static void check_fails(struct resolver *r, const char *address, const char *expected)
{
    struct resolved out;
    char err[512] = "";
    ck_assert_int_eq(resolve_recipient(r, address, &out, err, sizeof err), -1);
    ck_assert_str_eq(err, expected);
}

/* ---- address classes ---- */

START_TEST(classes)
{
    struct resolver *r = open_ok(BASE_CONF);
    check(r, "alice@mail.example.com", "local", "mail.example.com");
    check(r, "alice@localhost", "local", "localhost");
    check(r, "alice@host.local.example", "local", "host.local.example");
    check(r, "alice", "local", "mail.example.com");
    check(r, "bob@vmbox.example", "virtual", "vmbox.example");
    check(r, "bob@vtab.example", "virtual", "vtab.example");
    check(r, "bob@a.vsub.example", "virtual", "a.vsub.example");
    check(r, "carol@example.org", "smtp", "example.org");
    /* ".domain" is for subdomains only */
    check(r, "carol@local.example", "smtp", "local.example");
    check(r, "carol@sub.vmbox.example", "smtp", "sub.vmbox.example");
    resolver_close(r);
}
END_TEST

START_TEST(case_folding)
{
    struct resolver *r = open_ok(BASE_CONF "transport_maps = inline:{bob@route.example=lmtp:x}\n");
    check(r, "Alice@MAIL.Example.COM", "local", "mail.example.com");
    check(r, "Bob@VMBox.Example", "virtual", "vmbox.example");
    check(r, "Carol@Example.ORG", "smtp", "example.org");
    check(r, "BOB@Route.Example", "lmtp", "x");
    /* the address key has its local part unquoted, the domain a final dot removed */
    check(r, "\"Bob\"@route.example", "lmtp", "x");
    check(r, "bob@route.example.", "lmtp", "x");
    check(r, "Carol@Example.ORG.", "smtp", "example.org");
    /* an '@' inside quotes does not start a domain */
    check(r, "\"carol@example.org\"", "local", "mail.example.com");
    check(r, "\"carol@example.org\"@VMBox.Example", "virtual", "vmbox.example");
    resolver_close(r);
}
END_TEST

START_TEST(relayhost)
{
    struct resolver *r = open_ok(BASE_CONF "relayhost = [relay.example]:587\n");
    check(r, "carol@example.org", "smtp", "[relay.example]:587");
    /* relayhost is for remote mail only */
    check(r, "alice@localhost", "local", "localhost");
    check(r, "bob@vmbox.example", "virtual", "vmbox.example");
    resolver_close(r);
}
END_TEST

/* ---- transport_maps ---- */

START_TEST(transport_keys)
{
    struct resolver *r = open_ok(BASE_CONF "transport_maps = inline:{ "
                                 "user@example.org=lmtp:[10.0.0.1]:24, "
                                 "example.org=relay:[mx.example.org], "
                                 ".example.org=uucp:gateway, "
                                 "*=smtp:[fallback.example] }\n");
    check(r, "user@example.org", "lmtp", "[10.0.0.1]:24");
    check(r, "other@example.org", "relay", "[mx.example.org]");
    check(r, "x@a.example.org", "uucp", "gateway");
    check(r, "x@b.a.example.org", "uucp", "gateway");
    check(r, "x@example.net", "smtp", "[fallback.example]");
    /* the table comes before the address class */
    check(r, "alice@localhost", "smtp", "[fallback.example]");
    resolver_close(r);

    /* the nearest parent wins, and the first table that has a key */
    r = open_ok(BASE_CONF "transport_maps = inline:{.example.org=a:1, .b.example.org=b:2} "
                "inline:{.example.org=c:3, c.b.example.org=d:4}\n");
    check(r, "x@c.b.example.org", "d", "4");
    check(r, "x@z.b.example.org", "b", "2");
    check(r, "x@z.example.org", "a", "1");
    check(r, "x@example.org", "smtp", "example.org");
    resolver_close(r);
}
END_TEST

START_TEST(transport_partial_values)
{
    struct resolver *r = open_ok(BASE_CONF "relayhost = [relay.example]\n"
                                 "transport_maps = inline:{ "
                                 "ip.example=:[10.0.0.1], "
                                 "mail.example.com=:[10.0.0.2], "
                                 "vmbox.example=:hop, "
                                 "keep.example=smtp:, "
                                 "alone.example=lmtp, "
                                 "colon.example=:, "
                                 "localhost=lmtp: }\n");
    check(r, "x@ip.example", "smtp", "[10.0.0.1]");
    check(r, "alice@mail.example.com", "local", "[10.0.0.2]");
    check(r, "bob@vmbox.example", "virtual", "hop");
    check(r, "x@keep.example", "smtp", "[relay.example]");
    check(r, "x@alone.example", "lmtp", "[relay.example]");
    check(r, "x@colon.example", "smtp", "[relay.example]");
    check(r, "alice@localhost", "lmtp", "localhost");
    resolver_close(r);
}
END_TEST

START_TEST(transport_error_discard)
{
    ck_assert_int_eq(unit_write_file(unit_fmt("%s/transport", tmpdir),
                                     "# comment\n"
                                     "gone.example error:5.1.2 domain gone away\n"
                                     "spam@example.org error:user unknown\n"
                                     "blackhole.example discard:silently dropped\n"
                                     ".quiet.example discard:\n"),
                     0);
    struct resolver *r = open_ok(BASE_CONF "transport_maps = texthash:@DIR@/transport\n");
    check(r, "x@gone.example", "error", "5.1.2 domain gone away");
    check(r, "spam@example.org", "error", "user unknown");
    check(r, "ham@example.org", "smtp", "example.org");
    check(r, "x@blackhole.example", "discard", "silently dropped");
    check(r, "x@a.quiet.example", "discard", "a.quiet.example");
    resolver_close(r);
}
END_TEST

START_TEST(lookup_failure)
{
    char err[ERR_TEXT_MAX], path[256];
    ck_assert_int_eq(unit_write_file(unit_fmt("%s/transport", tmpdir), "x.example lmtp:a\n"), 0);
    ck_assert_int_eq(unit_write_file(unit_fmt("%s/vdomains", tmpdir), "v.example ok\n"), 0);
    snprintf(path, sizeof path, "hash:%s/transport", tmpdir);
    ck_assert_msg(dict_build(path, DICT_FORMAT_MAP, err, sizeof err) == 1, "%s", err);
    snprintf(path, sizeof path, "hash:%s/vdomains", tmpdir);
    ck_assert_msg(dict_build(path, DICT_FORMAT_MAP, err, sizeof err) == 1, "%s", err);

    struct resolver *t = open_ok(BASE_CONF "transport_maps = hash:@DIR@/transport\n");
    struct resolver *v = open_ok("mydestination = localhost\n"
                                 "virtual_mailbox_domains = hash:@DIR@/vdomains\n");
    check(t, "u@x.example", "lmtp", "a");
    check(v, "u@v.example", "virtual", "v.example");
    check(v, "u@example.org", "smtp", "example.org");

    ck_assert_int_eq(unlink(unit_fmt("%s/transport.db", tmpdir)), 0);
    ck_assert_int_eq(unlink(unit_fmt("%s/vdomains.db", tmpdir)), 0);
    struct timespec ts = { 1, 100 * 1000 * 1000 };   /* hash: tables re-check once a second */
    nanosleep(&ts, NULL);

    struct resolved out;
    char why[512] = "";
    ck_assert_int_eq(resolve_recipient(t, "u@x.example", &out, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "transport") != NULL, "%s", why);
    why[0] = '\0';
    ck_assert_int_eq(resolve_recipient(v, "u@example.org", &out, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "vdomains") != NULL, "%s", why);
    /* a local domain is decided before the broken table is read */
    check(v, "u@localhost", "local", "localhost");
    resolver_close(t);
    resolver_close(v);
}
END_TEST

START_TEST(long_values)
{
    char address[600];
    memset(address, 'a', sizeof address - 1);
    address[sizeof address - 1] = '\0';
    struct resolver *r = open_ok(BASE_CONF);
    check_fails(r, address, unit_fmt("<%.64s...>: address longer than 511 bytes", address));
    resolver_close(r);

    char conf[1024];
    snprintf(conf, sizeof conf, BASE_CONF "transport_maps = inline:{long.example=%.70s:x}\n",
             address);
    r = open_ok(conf);
    check_fails(r, "u@long.example", "transport_maps: <u@long.example>: value too long");
    resolver_close(r);
}
END_TEST

START_TEST(open_errors)
{
    char expected[512];
    open_fails(BASE_CONF "transport_maps = transport\n",
               "transport_maps: \"transport\": not a table (expected type:name)");
    open_fails(BASE_CONF "transport_maps = nis:transport\n",
               "transport_maps: nis:transport: unsupported table type \"nis\"");
    open_fails(BASE_CONF "transport_maps = inline:{a=b\n",
               "transport_maps: inline:{a=b: expected inline:{ key=value, ... }");
    open_fails(BASE_CONF "virtual_mailbox_domains = /etc/tern/vdomains\n",
               "virtual_mailbox_domains: /etc/tern/vdomains: file names are not supported here "
               "(use texthash:/etc/tern/vdomains)");
    open_fails("mydestination = localhost, nis:domains\n",
               "mydestination: nis:domains: unsupported table type \"nis\"");
    snprintf(expected, sizeof expected, "transport_maps: texthash:%s/missing: cannot read "
             "%s/missing: No such file or directory", tmpdir, tmpdir);
    open_fails(BASE_CONF "transport_maps = texthash:@DIR@/missing\n", expected);
    resolver_close(NULL);
}
END_TEST

static Suite *resolve_suite(void)
{
    Suite *s = suite_create("resolve");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, classes);
    tcase_add_test(tc, case_folding);
    tcase_add_test(tc, relayhost);
    tcase_add_test(tc, transport_keys);
    tcase_add_test(tc, transport_partial_values);
    tcase_add_test(tc, transport_error_discard);
    tcase_add_test(tc, lookup_failure);
    tcase_add_test(tc, long_values);
    tcase_add_test(tc, open_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(resolve_suite());
}
