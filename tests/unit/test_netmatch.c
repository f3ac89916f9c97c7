/* test_netmatch.c: unit tests of common/netmatch.c: the mynetworks syntax (every accepted form
 * and the exact message for each malformed one), IPv4, IPv6 and IPv4-mapped matching, and the
 * prefix edges /0, /32 and /128. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "netmatch.h"
#include "unit.h"

static struct netlist *parse_ok(const char *text)
{
    char err[256] = "";
    struct netlist *l = netlist_parse(text, err, sizeof err);
    ck_assert_msg(l != NULL, "\"%s\" failed: %s", text, err);
    return l;
}

static void parse_fails(const char *text, const char *expected)
{
    char err[256] = "";
    struct netlist *l = netlist_parse(text, err, sizeof err);
    ck_assert_msg(l == NULL, "\"%s\" was accepted", text);
    ck_assert_str_eq(err, expected);
}

/* Whether the one-entry list `entry` matches the numeric address. */
static bool matches(const char *entry, const char *address)
{
    struct netlist *l = parse_ok(entry);
    bool m = netlist_match_text(l, address);
    netlist_free(l);
    return m;
}

START_TEST(parse_forms)
{
    static const char *good[] = {
        "", "  ,, ", "127.0.0.0/8 [::1]/128", "10.1.2.3,2001:db8::/32", "[::1/128]", "[::1]",
        "::1", "[1.2.3.4]", "1.2.3.4/0", "::/0", "[fe80::/10]", "fe::1", "0.0.0.0/0",
        "192.168.1.77/24", "2001:db8::1/064", "\t10.0.0.0/8\n,\n172.16.0.0/12",
        "::ffff:10.1.2.3", "[::ffff:10.0.0.0]/104",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        netlist_free(parse_ok(good[i]));
    netlist_free(parse_ok(NULL));
}
END_TEST

START_TEST(parse_errors)
{
    parse_fails("localhost", "localhost: host names are not accepted (numeric addresses only)");
    parse_fails("127.0.0.1 mail.example.com",
                "mail.example.com: host names are not accepted (numeric addresses only)");
    parse_fails("10.0.0.0/33", "10.0.0.0/33: prefix length greater than 32");
    parse_fails("[::1]/129", "[::1]/129: prefix length greater than 128");
    parse_fails("[::1/129]", "[::1/129]: prefix length greater than 128");
    parse_fails("10.0.0.0/", "10.0.0.0/: bad prefix length");
    parse_fails("10.0.0.0/-1", "10.0.0.0/-1: bad prefix length");
    parse_fails("10.0.0.0/8x", "10.0.0.0/8x: bad prefix length");
    parse_fails("10.0.0.0/0008", "10.0.0.0/0008: bad prefix length");
    parse_fails("10.0.0.0/8/8", "10.0.0.0/8/8: bad prefix length");
    parse_fails("[::1/64]/64", "[::1/64]/64: two prefix lengths");
    parse_fails("[::1", "[::1: missing \"]\"");
    parse_fails("[::1]x", "[::1]x: text after \"]\"");
    parse_fails("[]", "[]: missing address");
    parse_fails("/24", "/24: file names are not accepted (numeric addresses only)");
    parse_fails("/etc/tern/networks",
                "/etc/tern/networks: file names are not accepted (numeric addresses only)");
    parse_fails("!10.0.0.1", "!10.0.0.1: negation is not supported");
    parse_fails("cidr:/etc/tern/networks",
                "cidr:/etc/tern/networks: tables are not accepted (numeric addresses only)");
    parse_fails("1.2.3", "1.2.3: bad IPv4 address");
    parse_fails("1.2.3.256", "1.2.3.256: bad IPv4 address");
    parse_fails("1.2.3.4.5", "1.2.3.4.5: bad IPv4 address");
    parse_fails("::1::2", "::1::2: bad IPv6 address");
    parse_fails("fe80::1%eth0", "fe80::1%eth0: bad IPv6 address");
    parse_fails("2001:db8::g", "2001:db8::g: bad IPv6 address");
}
END_TEST

START_TEST(parse_bounds)
{
    /* 10000 entries are fine, the 10001st is not */
    struct buf text;
    buf_init(&text, BUF_UNBOUNDED);
    for (int i = 0; i < 10000; i++)
        buf_printf(&text, "10.%d.%d.0/24 ", i / 256, i % 256);
    struct netlist *l = parse_ok(text.data);
    ck_assert(netlist_match_text(l, "10.39.15.9"));
    ck_assert(!netlist_match_text(l, "10.39.16.9"));
    netlist_free(l);
    buf_puts(&text, "192.0.2.1");
    parse_fails(text.data, "192.0.2.1: more than 10000 entries");
    buf_free(&text);

    /* a huge entry is reported, cut to a readable length */
    char big[400];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char err[512];
    ck_assert_ptr_null(netlist_parse(big, err, sizeof err));
    ck_assert_int_eq((int)strlen(err), 128 + (int)strlen(": entry too long"));
    ck_assert(strstr(err, ": entry too long") != NULL);

    /* a small error buffer is cut, never overrun */
    char small[8];
    ck_assert_ptr_null(netlist_parse("localhost", small, sizeof small));
    ck_assert_str_eq(small, "localho");
}
END_TEST

START_TEST(match_ipv4)
{
    ck_assert(matches("127.0.0.0/8", "127.0.0.1"));
    ck_assert(matches("127.0.0.0/8", "127.255.255.255"));
    ck_assert(!matches("127.0.0.0/8", "128.0.0.1"));
    ck_assert(matches("10.1.2.3", "10.1.2.3"));
    ck_assert(!matches("10.1.2.3", "10.1.2.4"));
    ck_assert(matches("10.1.2.3/32", "10.1.2.3"));
    ck_assert(!matches("10.1.2.3/32", "10.1.2.2"));
    ck_assert(matches("0.0.0.0/0", "203.0.113.9"));
    ck_assert(matches("1.2.3.4/0", "255.255.255.255"));   /* host bits beyond the prefix */
    ck_assert(matches("192.168.1.77/24", "192.168.1.1"));
    ck_assert(!matches("192.168.1.77/24", "192.168.2.1"));
    ck_assert(matches("172.16.0.0/12", "172.31.255.255"));
    ck_assert(!matches("172.16.0.0/12", "172.32.0.0"));
    ck_assert(matches("10.0.0.0/31", "10.0.0.1"));
    ck_assert(!matches("10.0.0.0/31", "10.0.0.2"));
    ck_assert(matches("[10.0.0.0]/8", "10.9.9.9"));
    /* IPv4 entries never match IPv6 clients other than mapped ones */
    ck_assert(!matches("0.0.0.0/0", "::1"));
    ck_assert(!matches("0.0.0.0/0", "::a00:1"));   /* IPv4-compatible is not mapped */
    ck_assert(!matches("127.0.0.0/8", "garbage"));
    ck_assert(!matches("127.0.0.0/8", ""));
}
END_TEST

START_TEST(match_ipv6)
{
    ck_assert(matches("[::1]/128", "::1"));
    ck_assert(matches("[::1/128]", "::1"));
    ck_assert(matches("::1", "0:0:0:0:0:0:0:1"));
    ck_assert(!matches("[::1]/128", "::2"));
    ck_assert(!matches("[::1]/128", "127.0.0.1"));
    ck_assert(matches("2001:db8::/32", "2001:db8:ffff::1"));
    ck_assert(!matches("2001:db8::/32", "2001:db9::1"));
    ck_assert(matches("::/0", "2001:db8::1"));
    ck_assert(!matches("::/0", "10.0.0.1"));
    ck_assert(matches("[fe80::/10]", "febf::1"));
    ck_assert(!matches("[fe80::/10]", "fec0::1"));
    ck_assert(matches("2001:db8::/127", "2001:db8::1"));
    ck_assert(!matches("2001:db8::/127", "2001:db8::2"));
    ck_assert(matches("2001:DB8::1", "2001:db8::1"));
}
END_TEST

START_TEST(match_mapped)
{
    ck_assert(matches("127.0.0.0/8", "::ffff:127.0.0.1"));
    ck_assert(matches("10.1.2.3", "::ffff:10.1.2.3"));
    ck_assert(!matches("10.1.2.3", "::ffff:10.1.2.4"));
    ck_assert(matches("0.0.0.0/0", "::ffff:1.2.3.4"));
    /* a mapped client is an IPv6 address too */
    ck_assert(matches("::ffff:0:0/96", "::ffff:1.2.3.4"));
    ck_assert(matches("::/0", "::ffff:1.2.3.4"));
    ck_assert(!matches("::1", "::ffff:127.0.0.1"));
}
END_TEST

START_TEST(match_sockaddr)
{
    struct netlist *l = parse_ok("127.0.0.0/8, [2001:db8::]/32");
    struct sockaddr_in in = { .sin_family = AF_INET };
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

    inet_pton(AF_INET, "127.0.0.5", &in.sin_addr);
    ck_assert(netlist_match(l, (struct sockaddr *)&in));
    inet_pton(AF_INET, "192.0.2.1", &in.sin_addr);
    ck_assert(!netlist_match(l, (struct sockaddr *)&in));

    inet_pton(AF_INET6, "2001:db8::25", &in6.sin6_addr);
    ck_assert(netlist_match(l, (struct sockaddr *)&in6));
    inet_pton(AF_INET6, "::ffff:127.1.2.3", &in6.sin6_addr);
    ck_assert(netlist_match(l, (struct sockaddr *)&in6));
    inet_pton(AF_INET6, "::ffff:192.0.2.1", &in6.sin6_addr);
    ck_assert(!netlist_match(l, (struct sockaddr *)&in6));

    struct sockaddr other = { .sa_family = AF_UNIX };
    ck_assert(!netlist_match(l, &other));
    ck_assert(!netlist_match(l, NULL));
    netlist_free(l);

    struct netlist *empty = parse_ok("");
    inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
    ck_assert(!netlist_match(empty, (struct sockaddr *)&in));
    netlist_free(empty);
    netlist_free(NULL);
}
END_TEST

static Suite *netmatch_suite(void)
{
    Suite *s = suite_create("netmatch");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parse_forms);
    tcase_add_test(tc, parse_errors);
    tcase_add_test(tc, parse_bounds);
    tcase_add_test(tc, match_ipv4);
    tcase_add_test(tc, match_ipv6);
    tcase_add_test(tc, match_mapped);
    tcase_add_test(tc, match_sockaddr);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(netmatch_suite());
}
