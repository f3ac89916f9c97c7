/* test_smtp_parse.c: table-driven unit tests of the SMTP parsers (mail/smtp_parse.c):
 * command splitting, RFC 5321 paths and their bounds, HELO arguments and the ESMTP MAIL/RCPT
 * parameters (xtext itself is tested by test_xtext.c). Every input is copied to an exact-size
 * heap buffer so a sanitizer build catches any read past len. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "smtp_parse.h"
#include "unit.h"

/* a string literal with its exact length, so inputs may hold NUL bytes */
#define S(lit) lit, sizeof(lit) - 1

static char *exact_copy(const char *s, size_t len)
{
    char *p = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, s, len);
    return p;
}

/* ---- commands ---- */

static const struct cmd_case {
    const char *in;
    size_t len;
    enum smtp_verb verb;
    const char *args;
    size_t args_len;
} cmd_cases[] = {
    {S("HELO mail.example.com"), SMTP_HELO, S("mail.example.com")},
    {S("ehlo   x  "), SMTP_EHLO, S("x")},
    {S("EhLo x\t"), SMTP_EHLO, S("x")},
    {S("MAIL FROM:<a@b.c> SIZE=10"), SMTP_MAIL, S("FROM:<a@b.c> SIZE=10")},
    {S("rcpt TO:<a@b.c>"), SMTP_RCPT, S("TO:<a@b.c>")},
    {S("DATA"), SMTP_DATA, S("")},
    {S("data   "), SMTP_DATA, S("")},
    {S("BDAT 100 LAST"), SMTP_BDAT, S("100 LAST")},
    {S("RSET"), SMTP_RSET, S("")},
    {S("NOOP hello  there "), SMTP_NOOP, S("hello  there")},
    {S("QUIT"), SMTP_QUIT, S("")},
    {S("VRFY root"), SMTP_VRFY, S("root")},
    {S("EXPN staff"), SMTP_EXPN, S("staff")},
    {S("help"), SMTP_HELP, S("")},
    {S("StartTLS"), SMTP_STARTTLS, S("")},
    {S("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q="), SMTP_AUTH, S("PLAIN dGVzdAB0ZXN0AHRlc3Q=")},
    {S("SEND FROM:<a@b>"), SMTP_OBSOLETE, S("FROM:<a@b>")},
    {S("soml"), SMTP_OBSOLETE, S("")},
    {S("SAML x"), SMTP_OBSOLETE, S("x")},
    {S("TURN"), SMTP_OBSOLETE, S("")},
    {S("FOO bar"), SMTP_UNKNOWN, S("bar")},
    {S(""), SMTP_UNKNOWN, S("")},
    {S(" HELO x"), SMTP_UNKNOWN, S("HELO x")},
    {S("HELOX"), SMTP_UNKNOWN, S("")},
    {S("HEL"), SMTP_UNKNOWN, S("")},
    {S("STARTTLSX"), SMTP_UNKNOWN, S("")},
    {S("HELO\tx"), SMTP_UNKNOWN, S("")},
    {S("QUIT\0"), SMTP_UNKNOWN, S("")},
    {S("NOOP a\0b"), SMTP_NOOP, S("a\0b")},
    {S("GET / HTTP/1.0"), SMTP_UNKNOWN, S("/ HTTP/1.0")},
    {S("\xc3\xa9 x"), SMTP_UNKNOWN, S("x")},
};

START_TEST(command_table)
{
    const struct cmd_case *c = &cmd_cases[_i];
    char *in = exact_copy(c->in, c->len);
    struct smtp_command cmd;
    memset(&cmd, 0xA5, sizeof cmd);
    smtp_parse_command(in, c->len, &cmd);
    ck_assert_msg(cmd.verb == c->verb, "case %d: verb %d, want %d", _i, cmd.verb, c->verb);
    ck_assert_uint_eq(cmd.args_len, c->args_len);
    ck_assert_ptr_nonnull(cmd.args);
    ck_assert_mem_eq(cmd.args, c->args, c->args_len);
    if (c->args_len > 0) {
        ck_assert(cmd.args >= in && cmd.args + cmd.args_len <= in + c->len);
    } else {
        ck_assert_str_eq(cmd.args, "");
    }
    free(in);
}
END_TEST

/* ---- paths ---- */

enum { F_NULL = 1, F_UTF8 = 2, F_QUOTED = 4, F_LIT = 8, F_ROUTE = 16 };
enum { NONE = 0, NUL_OK = 1, BARE = 2, BOTH = 3 };

static const struct path_case {
    const char *in;
    size_t len;
    int allow;                /* NUL_OK / BARE */
    int ret;
    const char *local, *domain;
    unsigned flags;
    const char *why;          /* for failures: the reason, or NULL for any */
} path_cases[] = {
    {S("<user@example.com>"), NONE, 18, "user", "example.com", 0, NULL},
    {S("<user@example.com> SIZE=100"), NONE, 18, "user", "example.com", 0, NULL},
    {S("<User.Name+tag@Sub.Example-Host.COM>"), NONE, 36, "User.Name+tag",
     "Sub.Example-Host.COM", 0, NULL},
    {S("<!#$%&'*+-/=?^_`{|}~@x.org>"), NONE, 27, "!#$%&'*+-/=?^_`{|}~", "x.org", 0, NULL},
    {S("<a@x>"), NONE, 5, "a", "x", 0, NULL},
    {S("<a@x9.y0>"), NONE, 9, "a", "x9.y0", 0, NULL},
    {S("<a@1x.com>"), NONE, 10, "a", "1x.com", 0, NULL},
    {S("<a@x>\0junk"), NONE, 5, "a", "x", 0, NULL},
    /* null path */
    {S("<>"), NUL_OK, 2, "", "", F_NULL, NULL},
    {S("<> SIZE=1"), BOTH, 2, "", "", F_NULL, NULL},
    {S("<>"), BARE, -1, NULL, NULL, 0, "null path not allowed"},
    /* bare postmaster */
    {S("<Postmaster>"), BARE, 12, "Postmaster", "", 0, NULL},
    {S("<POSTMASTER> NOTIFY=NEVER"), BOTH, 12, "POSTMASTER", "", 0, NULL},
    {S("<postmaster>"), NUL_OK, -1, NULL, NULL, 0, "missing domain"},
    {S("<user>"), BARE, -1, NULL, NULL, 0, "missing domain"},
    {S("<\"postmaster\">"), BARE, -1, NULL, NULL, 0, "missing domain"},
    {S("<postmaster2>"), BARE, -1, NULL, NULL, 0, "missing domain"},
    {S("<@a.org:postmaster>"), BARE, -1, NULL, NULL, 0, "missing domain"},
    {S("<Postmaster@example.com>"), BARE, 24, "Postmaster", "example.com", 0, NULL},
    /* quoted local parts */
    {S("<\"john doe\"@example.com>"), NONE, 24, "\"john doe\"", "example.com", F_QUOTED, NULL},
    {S("<\"a\\\"b\"@x.org>"), NONE, 14, "\"a\\\"b\"", "x.org", F_QUOTED, NULL},
    {S("<\"a@b\"@x.org>"), NONE, 13, "\"a@b\"", "x.org", F_QUOTED, NULL},
    {S("<\"a\\\\\"@x>"), NONE, 9, "\"a\\\\\"", "x", F_QUOTED, NULL},
    {S("<\"\"@x.org>"), NONE, 10, "\"\"", "x.org", F_QUOTED, NULL},
    {S("<\"a\\ b,c:d<e>\"@x>"), NONE, 17, "\"a\\ b,c:d<e>\"", "x", F_QUOTED, NULL},
    {S("<\"a>"), NONE, -1, NULL, NULL, 0, "unterminated quoted local part"},
    {S("<\"a\"b@x>"), NONE, -1, NULL, NULL, 0, "bad local part"},
    {S("<\"a\\"), NONE, -1, NULL, NULL, 0, "bad quoted pair in local part"},
    {S("<\"a\tb\"@x>"), NONE, -1, NULL, NULL, 0, "invalid character in quoted local part"},
    {S("<\"a\\\tb\"@x>"), NONE, -1, NULL, NULL, 0, "bad quoted pair in local part"},
    {S("<\"a\x7f\"@x>"), NONE, -1, NULL, NULL, 0, "invalid character in quoted local part"},
    {S("<a\"b\"@x>"), NONE, -1, NULL, NULL, 0, "invalid character in local part"},
    /* dot-strings */
    {S("<a.b.c@x>"), NONE, 9, "a.b.c", "x", 0, NULL},
    {S("<.a@x>"), NONE, -1, NULL, NULL, 0, "bad dot in local part"},
    {S("<a.@x>"), NONE, -1, NULL, NULL, 0, "bad dot in local part"},
    {S("<a..b@x>"), NONE, -1, NULL, NULL, 0, "bad dot in local part"},
    {S("<a b@x>"), NONE, -1, NULL, NULL, 0, "invalid character in local part"},
    {S("<a,b@x>"), NONE, -1, NULL, NULL, 0, "invalid character in local part"},
    {S("<a(b)@x>"), NONE, -1, NULL, NULL, 0, "invalid character in local part"},
    {S("<a\\b@x>"), NONE, -1, NULL, NULL, 0, "invalid character in local part"},
    {S("<a\tb@x>"), NONE, -1, NULL, NULL, 0, "invalid character in local part"},
    {S("<@x>"), NONE, -1, NULL, NULL, 0, "bad source route"},
    /* @ and domains */
    {S("<a@b@c>"), NONE, -1, NULL, NULL, 0, "more than one @"},
    {S("<a@@b>"), NONE, -1, NULL, NULL, 0, "missing domain"},
    {S("<a@>"), NONE, -1, NULL, NULL, 0, "missing domain"},
    {S("<a@b.c@d>"), NONE, -1, NULL, NULL, 0, "more than one @"},
    {S("<a%b@c>"), NONE, 7, "a%b", "c", 0, NULL},
    {S("<a!b@c>"), NONE, 7, "a!b", "c", 0, NULL},
    {S("<a@ex-am--ple.com>"), NONE, 18, "a", "ex-am--ple.com", 0, NULL},
    {S("<a@-x.com>"), NONE, -1, NULL, NULL, 0, "hyphen at the start or end of a domain label"},
    {S("<a@x-.com>"), NONE, -1, NULL, NULL, 0, "hyphen at the start or end of a domain label"},
    {S("<a@x.-com>"), NONE, -1, NULL, NULL, 0, "hyphen at the start or end of a domain label"},
    {S("<a@x..com>"), NONE, -1, NULL, NULL, 0, "empty domain label"},
    {S("<a@x.com.>"), NONE, -1, NULL, NULL, 0, "trailing dot in domain"},
    {S("<a@.x.com>"), NONE, -1, NULL, NULL, 0, "missing domain"},
    {S("<a@x_y.com>"), NONE, -1, NULL, NULL, 0, "invalid character in domain"},
    {S("<a@x y>"), NONE, -1, NULL, NULL, 0, "invalid character in domain"},
    {S("<a@123>"), NONE, -1, NULL, NULL, 0, "numeric top-level domain"},
    {S("<a@1.2.3.4>"), NONE, -1, NULL, NULL, 0, "numeric top-level domain"},
    {S("<a@123.com>"), NONE, 11, "a", "123.com", 0, NULL},
    /* address literals */
    {S("<a@[1.2.3.4]>"), NONE, 13, "a", "[1.2.3.4]", F_LIT, NULL},
    {S("<a@[255.255.255.255]>"), NONE, 21, "a", "[255.255.255.255]", F_LIT, NULL},
    {S("<a@[0.0.0.0]>"), NONE, 13, "a", "[0.0.0.0]", F_LIT, NULL},
    {S("<a@[256.1.1.1]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[1.2.3]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[1.2.3.4.5]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[01.2.3.4]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[1.2.3.-4]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[ 1.2.3.4]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[IPv6:::1]>"), NONE, 14, "a", "[IPv6:::1]", F_LIT, NULL},
    {S("<a@[ipv6:2001:DB8::1]>"), NONE, 22, "a", "[ipv6:2001:DB8::1]", F_LIT, NULL},
    {S("<a@[IPv6:1:2:3:4:5:6:7:8]>"), NONE, 26, "a", "[IPv6:1:2:3:4:5:6:7:8]", F_LIT, NULL},
    {S("<a@[IPv6:::ffff:1.2.3.4]>"), NONE, 25, "a", "[IPv6:::ffff:1.2.3.4]", F_LIT, NULL},
    {S("<a@[IPv6:1::2::3]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[IPv6:1:2:3:4:5:6:7:8:9]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[IPv6:12345::]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[IPv6:fe80::1%eth0]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[IPv6:]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[IPv6:1.2.3.4]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[::1]>"), NONE, -1, NULL, NULL, 0, "unsupported address literal"},
    {S("<a@[x400:c=us]>"), NONE, -1, NULL, NULL, 0, "unsupported address literal"},
    {S("<a@[1.2.3.4>"), NONE, -1, NULL, NULL, 0, "unterminated address literal"},
    {S("<a@[1.2.3.4]x>"), NONE, -1, NULL, NULL, 0, "invalid character in domain"},
    {S("<a@[1.2.3.4].com>"), NONE, -1, NULL, NULL, 0, "invalid character in domain"},
    {S("<a@x.[1.2.3.4]>"), NONE, -1, NULL, NULL, 0, "trailing dot in domain"},
    /* source routes: checked, then ignored */
    {S("<@hosta.int,@jkl.org:userc@d.bar.org>"), NONE, 37, "userc", "d.bar.org", F_ROUTE, NULL},
    {S("<@a:b@c>"), NONE, 8, "b", "c", F_ROUTE, NULL},
    {S("<@a,b:c@d>"), NONE, -1, NULL, NULL, 0, "bad source route"},
    {S("<@a:>"), NONE, -1, NULL, NULL, 0, "empty local part"},
    {S("<@:a@b>"), NONE, -1, NULL, NULL, 0, "bad source route"},
    {S("<@a>"), NONE, -1, NULL, NULL, 0, "bad source route"},
    {S("<@a,:b@c>"), NONE, -1, NULL, NULL, 0, "bad source route"},
    {S("<@[1.2.3.4]:a@b>"), NONE, -1, NULL, NULL, 0, "bad source route"},
    {S("<@a_b:c@d>"), NONE, -1, NULL, NULL, 0, "bad source route"},
    {S("<@a:@b:c@d>"), NONE, -1, NULL, NULL, 0, "empty local part"},
    /* brackets */
    {S("user@example.com"), NONE, -1, NULL, NULL, 0, "path must begin with <"},
    {S(" <a@b>"), NONE, -1, NULL, NULL, 0, "path must begin with <"},
    {S(""), BOTH, -1, NULL, NULL, 0, "path must begin with <"},
    {S("<"), BOTH, -1, NULL, NULL, 0, "unterminated path"},
    {S("<a@b"), NONE, -1, NULL, NULL, 0, "unterminated path"},
    {S("<a@b.c"), NONE, -1, NULL, NULL, 0, "unterminated path"},
    {S("<a"), BARE, -1, NULL, NULL, 0, "unterminated path"},
    {S("<a@b >"), NONE, -1, NULL, NULL, 0, "invalid character in domain"},
    {S("<<a@b>>"), NONE, -1, NULL, NULL, 0, "empty local part"},
    /* UTF-8: well-formed sequences only */
    {S("<\xce\xb4\xce\xbf\xce\xba@\xcf\x80\xce\xb1.\xce\xb4>"), NONE, 16,
     "\xce\xb4\xce\xbf\xce\xba", "\xcf\x80\xce\xb1.\xce\xb4", F_UTF8, NULL},
    {S("<\xf0\x9f\x98\x80@b.c>"), NONE, 10, "\xf0\x9f\x98\x80", "b.c", F_UTF8, NULL},
    {S("<\"\xc3\xa9 x\"@b>"), NONE, 10, "\"\xc3\xa9 x\"", "b", F_UTF8 | F_QUOTED, NULL},
    {S("<a@b\xc3\xbc-c.de>"), NONE, 12, "a", "b\xc3\xbc-c.de", F_UTF8, NULL},
    {S("<@\xc3\xbc:a@b>"), NONE, 9, "a", "b", F_UTF8 | F_ROUTE, NULL},
    {S("<a@b\xc3>"), NONE, -1, NULL, NULL, 0, "invalid UTF-8 in domain"},
    {S("<a@b\xc3"), NONE, -1, NULL, NULL, 0, "invalid UTF-8 in domain"},
    {S("<\xff@b>"), NONE, -1, NULL, NULL, 0, "invalid UTF-8 in local part"},
    {S("<\x80@b>"), NONE, -1, NULL, NULL, 0, "invalid UTF-8 in local part"},
    {S("<\xc0\xaf@b>"), NONE, -1, NULL, NULL, 0, "invalid UTF-8 in local part"},
    {S("<\xe0\x80\xaf@b>"), NONE, -1, NULL, NULL, 0, "invalid UTF-8 in local part"},
    {S("<\xed\xa0\x80@b>"), NONE, -1, NULL, NULL, 0, "invalid UTF-8 in local part"},
    {S("<\xf4\x90\x80\x80@b>"), NONE, -1, NULL, NULL, 0, "invalid UTF-8 in local part"},
    {S("<\xf5\x80\x80\x80@b>"), NONE, -1, NULL, NULL, 0, "invalid UTF-8 in local part"},
    {S("<\"\xc3\"@b>"), NONE, -1, NULL, NULL, 0, "invalid UTF-8 in local part"},
    {S("<a@[1.2.3.\xc3\xa9]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    /* NUL bytes where text is expected */
    {S("<a\0b@x>"), NONE, -1, NULL, NULL, 0, "invalid character in local part"},
    {S("<a@x\0y>"), NONE, -1, NULL, NULL, 0, "invalid character in domain"},
    {S("<a@x\0>"), NONE, -1, NULL, NULL, 0, "invalid character in domain"},
    {S("<\"a\0\"@x>"), NONE, -1, NULL, NULL, 0, "invalid character in quoted local part"},
    {S("<\"a\\\0\"@x>"), NONE, -1, NULL, NULL, 0, "bad quoted pair in local part"},
    {S("<a@[1.2.3.4\0]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<a@[IPv6:::1\0]>"), NONE, -1, NULL, NULL, 0, "bad address literal"},
    {S("<\0>"), BOTH, -1, NULL, NULL, 0, "empty local part"},
    {S("\0<a@b>"), BOTH, -1, NULL, NULL, 0, "path must begin with <"},
};

static unsigned addr_flags(const struct smtp_address *a)
{
    return (a->null ? F_NULL : 0) | (a->utf8 ? F_UTF8 : 0) | (a->quoted ? F_QUOTED : 0) |
           (a->literal ? F_LIT : 0) | (a->source_route ? F_ROUTE : 0);
}

static int parse_path_exact(const char *s, size_t len, int allow, struct smtp_address *a,
                            char *why, size_t whylen)
{
    char *in = exact_copy(s, len);
    why[0] = '\0';
    memset(a, 0x5A, sizeof *a);
    int r = smtp_parse_path(in, len, allow & NUL_OK, allow & BARE, a, why, whylen);
    free(in);
    return r;
}

static void assert_terminated(const struct smtp_address *a)
{
    ck_assert_ptr_nonnull(memchr(a->local, '\0', sizeof a->local));
    ck_assert_ptr_nonnull(memchr(a->domain, '\0', sizeof a->domain));
    ck_assert_ptr_nonnull(memchr(a->address, '\0', sizeof a->address));
}

START_TEST(path_table)
{
    const struct path_case *c = &path_cases[_i];
    struct smtp_address a;
    char why[ERR_TEXT_MAX] = "";
    int r = parse_path_exact(c->in, c->len, c->allow, &a, why, sizeof why);
    ck_assert_msg(r == c->ret, "case %d: returned %d (%s), want %d", _i, r, *why ? why : "-",
                  c->ret);
    if (r < 0) {
        ck_assert_str_ne(why, "");
        if (c->why != NULL)
            ck_assert_msg(strcmp(why, c->why) == 0, "case %d: reason \"%s\", want \"%s\"", _i,
                          why, c->why);
        ck_assert(addr_flags(&a) == 0 && !a.local[0] && !a.domain[0] && !a.address[0]);
        return;
    }
    assert_terminated(&a);
    ck_assert_str_eq(a.local, c->local);
    ck_assert_str_eq(a.domain, c->domain);
    ck_assert_msg(addr_flags(&a) == c->flags, "case %d: flags %u, want %u", _i, addr_flags(&a),
                  c->flags);
    char want[600];
    if (a.null)
        want[0] = '\0';
    else
        snprintf(want, sizeof want, "%s%s%s", c->local, c->domain[0] ? "@" : "", c->domain);
    ck_assert_str_eq(a.address, want);
}
END_TEST

/* every proper prefix of a valid path is refused, with no read past its end */
START_TEST(path_prefixes)
{
    static const char *valid[] = {
        "<user@example.com>", "<\"a\\\"b\"@x.org>", "<@a,@b:c@d>", "<a@[IPv6:::1]>",
        "<a@[1.2.3.4]>", "<\xf0\x9f\x98\x80@b.c>", "<Postmaster>",
    };
    for (size_t k = 0; k < sizeof valid / sizeof valid[0]; k++) {
        size_t len = strlen(valid[k]);
        struct smtp_address a;
        char why[ERR_TEXT_MAX] = "";
        ck_assert_int_eq(parse_path_exact(valid[k], len, BOTH, &a, why, sizeof why), (int)len);
        for (size_t n = 0; n < len; n++)
            ck_assert_msg(parse_path_exact(valid[k], n, BOTH, &a, why, sizeof why) == -1,
                          "prefix %zu of %s accepted", n, valid[k]);
    }
}
END_TEST

/* a domain of exactly n bytes in labels of at most 63 bytes, none empty nor numeric-only */
static void make_domain(char *buf, size_t n)
{
    size_t label = 63;
    while (n % (label + 1) == 0)
        label--;
    for (size_t i = 0; i < n; i++)
        buf[i] = (i + 1) % (label + 1) == 0 ? '.' : 'd';
    buf[n] = '\0';
}

static int path_of(const char *local, const char *domain, struct smtp_address *a,
                   char *why, size_t whylen)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "<%s@%s>", local, domain);
    ck_assert_int_lt(n, (int)sizeof buf);
    return parse_path_exact(buf, (size_t)n, NONE, a, why, whylen);
}

static void fill(char *buf, const char *unit, size_t count)
{
    buf[0] = '\0';
    for (size_t i = 0; i < count; i++)
        strcat(buf, unit);
}

START_TEST(path_local_bounds)
{
    /* the local part is bounded by the path (256 bytes between the brackets), not by RFC
     * 5321's 64: SRS and VERP addresses are longer */
    struct smtp_address a;
    char why[ERR_TEXT_MAX] = "";
    char local[600];
    fill(local, "a", 65);
    ck_assert_int_eq(path_of(local, "x.org", &a, why, sizeof why), 65 + 8);
    ck_assert_str_eq(a.local, local);
    fill(local, "a", 250);   /* 250 + "@x.org" = 256 */
    ck_assert_int_eq(path_of(local, "x.org", &a, why, sizeof why), 250 + 8);
    fill(local, "a", 251);
    ck_assert_int_eq(path_of(local, "x.org", &a, why, sizeof why), -1);
    ck_assert_str_eq(why, "path too long");
    fill(local, "a", 254);   /* the longest local part there can be */
    ck_assert_int_eq(path_of(local, "x", &a, why, sizeof why), 254 + 4);
    fill(local, "a", 255);
    ck_assert_int_eq(path_of(local, "x", &a, why, sizeof why), -1);
    ck_assert_str_eq(why, "local part too long");
    /* 8-bit bytes count as bytes */
    fill(local, "\xc3\xa9", 125);
    ck_assert_int_eq(path_of(local, "x.org", &a, why, sizeof why), 250 + 8);
    ck_assert(a.utf8);
    fill(local, "\xc3\xa9", 126);
    ck_assert_int_eq(path_of(local, "x.org", &a, why, sizeof why), -1);
    /* quoted: the local part's bound is on the content (quotes and escaping backslashes are
     * free), the path's on what is written */
    strcpy(local, "\"");
    fill(local + 1, "\\\"", 124);
    strcat(local, "\"");
    ck_assert_int_eq(path_of(local, "x.org", &a, why, sizeof why), 250 + 8);
    ck_assert_str_eq(a.local, local);
    ck_assert(a.quoted);
    strcpy(local, "\"");
    fill(local + 1, "\\\"", 125);
    strcat(local, "\"");
    ck_assert_int_eq(path_of(local, "x.org", &a, why, sizeof why), -1);
    ck_assert_str_eq(why, "path too long");
    strcpy(local, "\"");
    fill(local + 1, "b", 255);
    strcat(local, "\"");
    ck_assert_int_eq(path_of(local, "x", &a, why, sizeof why), -1);
    ck_assert_str_eq(why, "local part too long");
}
END_TEST

START_TEST(path_domain_bounds)
{
    struct smtp_address a;
    char why[ERR_TEXT_MAX] = "";
    char domain[1000], label[80];
    fill(label, "l", 63);
    snprintf(domain, sizeof domain, "%s.com", label);
    ck_assert_int_eq(path_of("a", domain, &a, why, sizeof why), 3 + 67 + 1);
    ck_assert_str_eq(a.domain, domain);
    fill(label, "l", 64);
    snprintf(domain, sizeof domain, "%s.com", label);
    ck_assert_int_eq(path_of("a", domain, &a, why, sizeof why), -1);
    ck_assert_str_eq(why, "domain label too long");
    /* a 2-byte character at the end of a 62-byte label makes 64 bytes */
    fill(label, "l", 62);
    snprintf(domain, sizeof domain, "%s\xc3\xbc.com", label);
    ck_assert_int_eq(path_of("a", domain, &a, why, sizeof why), -1);
    ck_assert_str_eq(why, "domain label too long");
    /* the domain bound (255) and the path bound (256) */
    make_domain(domain, 254);
    ck_assert_int_eq(path_of("a", domain, &a, why, sizeof why), 258);
    ck_assert_uint_eq(strlen(a.address), 256);
    make_domain(domain, 255);
    ck_assert_int_eq(path_of("a", domain, &a, why, sizeof why), -1);
    ck_assert_str_eq(why, "path too long");
    make_domain(domain, 256);
    ck_assert_int_eq(path_of("a", domain, &a, why, sizeof why), -1);
    ck_assert_str_eq(why, "domain too long");
    make_domain(domain, 900);
    ck_assert_int_eq(path_of("a", domain, &a, why, sizeof why), -1);
    ck_assert_str_eq(why, "domain too long");
}
END_TEST

START_TEST(path_total_bound)
{
    struct smtp_address a;
    char why[ERR_TEXT_MAX] = "";
    char local[80], domain[300], buf[700];
    fill(local, "a", 64);
    make_domain(domain, 191);                 /* 64 + 1 + 191 = 256 */
    ck_assert_int_eq(path_of(local, domain, &a, why, sizeof why), 258);
    ck_assert_uint_eq(strlen(a.address), 256);
    ck_assert_str_eq(a.local, local);
    ck_assert_str_eq(a.domain, domain);
    make_domain(domain, 192);
    ck_assert_int_eq(path_of(local, domain, &a, why, sizeof why), -1);
    ck_assert_str_eq(why, "path too long");
    /* a source route counts toward the 256 bytes inside the brackets */
    make_domain(domain, 200);
    int n = snprintf(buf, sizeof buf, "<@%s:%s@x.org>", domain, "b");   /* 202 + 7 */
    ck_assert_int_eq(parse_path_exact(buf, (size_t)n, NONE, &a, why, sizeof why), n);
    ck_assert_str_eq(a.address, "b@x.org");
    fill(local, "b", 47);                     /* 202 + 47 + 6 = 255, then 256, then 257 */
    n = snprintf(buf, sizeof buf, "<@%s:%s@x.org>", domain, local);
    ck_assert_int_eq(parse_path_exact(buf, (size_t)n, NONE, &a, why, sizeof why), n);
    fill(local, "b", 48);
    n = snprintf(buf, sizeof buf, "<@%s:%s@x.org>", domain, local);
    ck_assert_int_eq(parse_path_exact(buf, (size_t)n, NONE, &a, why, sizeof why), n);
    fill(local, "b", 49);
    n = snprintf(buf, sizeof buf, "<@%s:%s@x.org>", domain, local);
    ck_assert_int_eq(parse_path_exact(buf, (size_t)n, NONE, &a, why, sizeof why), -1);
    ck_assert_str_eq(why, "path too long");
}
END_TEST

/* ---- HELO ---- */

static const struct helo_case {
    const char *in;
    size_t len;
    int ret;
    const char *why;
} helo_cases[] = {
    {S("mail.example.com"), 0, NULL},
    {S("localhost"), 0, NULL},
    {S("MX-1.Example.ORG"), 0, NULL},
    {S("[192.0.2.1]"), 0, NULL},
    {S("[IPv6:2001:db8::1]"), 0, NULL},
    {S("b\xc3\xbc" "cher.example"), 0, NULL},
    {S(""), -1, "missing domain"},
    {S("a..b"), -1, "empty domain label"},
    {S("a."), -1, "trailing dot in domain"},
    {S(".a"), -1, "missing domain"},
    {S("-a.b"), -1, "hyphen at the start or end of a domain label"},
    {S("a-.b"), -1, "hyphen at the start or end of a domain label"},
    {S("a_b.example"), -1, "invalid character in domain"},
    {S("a b"), -1, "invalid character in domain"},
    {S("host.example (comment)"), -1, "invalid character in domain"},
    {S("[192.0.2.1] extra"), -1, "invalid character in domain"},
    {S("192.0.2.1"), -1, "numeric top-level domain"},
    {S("[192.0.2.256]"), -1, "bad address literal"},
    {S("[192.0.2.1"), -1, "unterminated address literal"},
    {S("[IPv6:::g]"), -1, "bad address literal"},
    {S("[tag:x]"), -1, "unsupported address literal"},
    {S("user@host"), -1, "more than one @"},
    {S("a\0b"), -1, "invalid character in domain"},
    {S("a\0"), -1, "invalid character in domain"},
    {S("a\xc3"), -1, "invalid UTF-8 in domain"},
    {S("a\xed\xa0\x80"), -1, "invalid UTF-8 in domain"},
};

START_TEST(helo_table)
{
    const struct helo_case *c = &helo_cases[_i];
    char *in = exact_copy(c->in, c->len);
    char why[ERR_TEXT_MAX] = "";
    int r = smtp_parse_helo(in, c->len, why, sizeof why);
    free(in);
    ck_assert_msg(r == c->ret, "case %d: returned %d (%s)", _i, r, *why ? why : "-");
    if (r < 0)
        ck_assert_str_eq(why, c->why);
}
END_TEST

START_TEST(helo_bounds)
{
    char domain[400], label[80];
    char why[ERR_TEXT_MAX] = "";
    make_domain(domain, 255);
    ck_assert_int_eq(smtp_parse_helo(domain, 255, why, sizeof why), 0);
    make_domain(domain, 256);
    ck_assert_int_eq(smtp_parse_helo(domain, 256, why, sizeof why), -1);
    ck_assert_str_eq(why, "domain too long");
    fill(label, "h", 63);
    ck_assert_int_eq(smtp_parse_helo(label, 63, why, sizeof why), 0);
    fill(label, "h", 64);
    ck_assert_int_eq(smtp_parse_helo(label, 64, why, sizeof why), -1);
    ck_assert_str_eq(why, "domain label too long");
}
END_TEST

/* ---- MAIL parameters ---- */

static const struct mail_case {
    const char *in;
    size_t len;
    int ret;
    const char *why;
    long long size;           /* -1: has_size false */
    enum smtp_body body;
    enum smtp_ret rett;
    const char *envid;
    bool smtputf8;
    const char *auth;         /* NULL: has_auth false */
} mail_cases[] = {
    {S(""), 0, NULL, -1, BODY_NONE, RET_NONE, "", false, NULL},
    {S(" "), 0, NULL, -1, BODY_NONE, RET_NONE, "", false, NULL},
    {S(" SIZE=1000"), 0, NULL, 1000, BODY_NONE, RET_NONE, "", false, NULL},
    {S(" size=0"), 0, NULL, 0, BODY_NONE, RET_NONE, "", false, NULL},
    {S(" SIZE=9223372036854775807"), 0, NULL, LLONG_MAX, BODY_NONE, RET_NONE, "", false, NULL},
    {S(" SIZE=00000000000000000012"), 0, NULL, 12, BODY_NONE, RET_NONE, "", false, NULL},
    {S(" SIZE=9223372036854775808"), -1, "bad SIZE value", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE=99999999999999999999"), -1, "bad SIZE value", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE=000000000000000000012"), -1, "bad SIZE value", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE=-1"), -1, "bad SIZE value", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE=+1"), -1, "bad SIZE value", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE=1k"), -1, "bad SIZE value", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE="), -1, "missing parameter value", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE"), -1, "missing parameter value", 0, 0, 0, NULL, false, NULL},
    {S(" BODY=7BIT"), 0, NULL, -1, BODY_7BIT, RET_NONE, "", false, NULL},
    {S(" body=8bitmime"), 0, NULL, -1, BODY_8BITMIME, RET_NONE, "", false, NULL},
    {S(" Body=BinaryMIME"), 0, NULL, -1, BODY_BINARYMIME, RET_NONE, "", false, NULL},
    {S(" BODY=8BIT"), -1, "bad BODY value", 0, 0, 0, NULL, false, NULL},
    {S(" BODY=7BITX"), -1, "bad BODY value", 0, 0, 0, NULL, false, NULL},
    {S(" BODY="), -1, "missing parameter value", 0, 0, 0, NULL, false, NULL},
    {S(" RET=FULL"), 0, NULL, -1, BODY_NONE, RET_FULL, "", false, NULL},
    {S(" ret=hdrs"), 0, NULL, -1, BODY_NONE, RET_HDRS, "", false, NULL},
    {S(" RET=HEADERS"), -1, "bad RET value", 0, 0, 0, NULL, false, NULL},
    {S(" RET"), -1, "missing parameter value", 0, 0, 0, NULL, false, NULL},
    {S(" ENVID=QQ314159"), 0, NULL, -1, BODY_NONE, RET_NONE, "QQ314159", false, NULL},
    {S(" ENVID=a+2Bb+20c"), 0, NULL, -1, BODY_NONE, RET_NONE, "a+b c", false, NULL},
    {S(" ENVID=a+2"), -1, "bad ENVID value", 0, 0, 0, NULL, false, NULL},
    {S(" ENVID=a+2b"), -1, "bad ENVID value", 0, 0, 0, NULL, false, NULL},
    {S(" ENVID=a+0A"), -1, "bad ENVID value", 0, 0, 0, NULL, false, NULL},
    {S(" ENVID=a+00"), -1, "bad ENVID value", 0, 0, 0, NULL, false, NULL},
    {S(" ENVID=+C3+A9"), -1, "bad ENVID value", 0, 0, 0, NULL, false, NULL},
    {S(" ENVID=\xc3\xa9"), -1, "bad parameter syntax", 0, 0, 0, NULL, false, NULL},
    {S(" ENVID="), -1, "missing parameter value", 0, 0, 0, NULL, false, NULL},
    {S(" SMTPUTF8"), 0, NULL, -1, BODY_NONE, RET_NONE, "", true, NULL},
    {S(" smtputf8"), 0, NULL, -1, BODY_NONE, RET_NONE, "", true, NULL},
    {S(" SMTPUTF8=yes"), -1, "SMTPUTF8 takes no value", 0, 0, 0, NULL, false, NULL},
    {S(" SMTPUTF8="), -1, "SMTPUTF8 takes no value", 0, 0, 0, NULL, false, NULL},
    {S(" AUTH=<>"), 0, NULL, -1, BODY_NONE, RET_NONE, "", false, "<>"},
    {S(" AUTH=+3C+3E"), 0, NULL, -1, BODY_NONE, RET_NONE, "", false, "<>"},
    {S(" AUTH=joe+2Bx@example.com"), 0, NULL, -1, BODY_NONE, RET_NONE, "", false,
     "joe+x@example.com"},
    {S(" AUTH=+C3+A9@x"), 0, NULL, -1, BODY_NONE, RET_NONE, "", false, "\xc3\xa9@x"},
    {S(" AUTH="), -1, "missing parameter value", 0, 0, 0, NULL, false, NULL},
    {S(" AUTH=a+0Db"), -1, "bad AUTH value", 0, 0, 0, NULL, false, NULL},
    {S(" AUTH=a+"), -1, "bad AUTH value", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE=1 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ AUTH=<>"), 0, NULL, 1,
     BODY_8BITMIME, RET_HDRS, "QQ", true, "<>"},
    {S(" SIZE=1  BODY=7BIT "), 0, NULL, 1, BODY_7BIT, RET_NONE, "", false, NULL},
    {S(" SIZE=1 SIZE=2"), -1, "duplicate parameter", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE=1 size=1"), -1, "duplicate parameter", 0, 0, 0, NULL, false, NULL},
    {S(" SMTPUTF8 SMTPUTF8"), -1, "duplicate parameter", 0, 0, 0, NULL, false, NULL},
    {S(" BODY=7BIT BODY=7BIT"), -1, "duplicate parameter", 0, 0, 0, NULL, false, NULL},
    {S(" FOO=bar"), -1, "unknown parameter", 0, 0, 0, NULL, false, NULL},
    {S(" X-FOO"), -1, "unknown parameter", 0, 0, 0, NULL, false, NULL},
    {S(" NOTIFY=NEVER"), -1, "unknown parameter", 0, 0, 0, NULL, false, NULL},
    {S(" SIZES=1"), -1, "unknown parameter", 0, 0, 0, NULL, false, NULL},
    {S("SIZE=1"), -1, "bad parameter syntax", 0, 0, 0, NULL, false, NULL},
    {S(" =1"), -1, "bad parameter syntax", 0, 0, 0, NULL, false, NULL},
    {S(" -X=1"), -1, "bad parameter syntax", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE==1"), -1, "bad parameter syntax", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE=1=2"), -1, "bad parameter syntax", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE=1\t"), -1, "bad parameter syntax", 0, 0, 0, NULL, false, NULL},
    {S("\tSIZE=1"), -1, "bad parameter syntax", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE=1\0"), -1, "bad parameter syntax", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE=1\0 BODY=7BIT"), -1, "bad parameter syntax", 0, 0, 0, NULL, false, NULL},
    {S(" SI\0ZE=1"), -1, "bad parameter syntax", 0, 0, 0, NULL, false, NULL},
    {S(" SIZE\xc3\xa9=1"), -1, "bad parameter syntax", 0, 0, 0, NULL, false, NULL},
};

START_TEST(mail_params_table)
{
    const struct mail_case *c = &mail_cases[_i];
    char *in = exact_copy(c->in, c->len);
    struct mail_params m;
    char why[ERR_TEXT_MAX] = "";
    memset(&m, 0x5A, sizeof m);
    int r = smtp_parse_mail_params(in, c->len, &m, why, sizeof why);
    free(in);
    ck_assert_msg(r == c->ret, "case %d: returned %d (%s)", _i, r, *why ? why : "-");
    ck_assert_ptr_nonnull(memchr(m.envid, '\0', sizeof m.envid));
    ck_assert_ptr_nonnull(memchr(m.auth, '\0', sizeof m.auth));
    if (r < 0) {
        ck_assert_str_eq(why, c->why);
        return;
    }
    ck_assert_int_eq(m.has_size, c->size >= 0);
    if (c->size >= 0)
        ck_assert_int_eq(m.size, c->size);
    ck_assert_int_eq(m.body, c->body);
    ck_assert_int_eq(m.ret, c->rett);
    ck_assert_str_eq(m.envid, c->envid);
    ck_assert_int_eq(m.smtputf8, c->smtputf8);
    ck_assert_int_eq(m.has_auth, c->auth != NULL);
    if (c->auth != NULL)
        ck_assert_str_eq(m.auth, c->auth);
}
END_TEST

static int mail_with(const char *key, const char *unit, size_t count, struct mail_params *m,
                     char *why, size_t whylen)
{
    char buf[2048];
    snprintf(buf, sizeof buf, " %s=", key);
    for (size_t i = 0; i < count; i++)
        strcat(buf, unit);
    return smtp_parse_mail_params(buf, strlen(buf), m, why, whylen);
}

START_TEST(mail_params_bounds)
{
    struct mail_params m;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(mail_with("ENVID", "e", 100, &m, why, sizeof why), 0);
    ck_assert_uint_eq(strlen(m.envid), 100);
    ck_assert_int_eq(mail_with("ENVID", "e", 101, &m, why, sizeof why), -1);
    ck_assert_str_eq(why, "bad ENVID value");
    ck_assert_int_eq(mail_with("ENVID", "+2B", 100, &m, why, sizeof why), 0);
    ck_assert_uint_eq(strlen(m.envid), 100);
    ck_assert_int_eq(mail_with("ENVID", "+2B", 101, &m, why, sizeof why), -1);
    ck_assert_int_eq(mail_with("AUTH", "u", 256, &m, why, sizeof why), 0);
    ck_assert_uint_eq(strlen(m.auth), 256);
    ck_assert_int_eq(mail_with("AUTH", "u", 257, &m, why, sizeof why), -1);
    ck_assert_str_eq(why, "bad AUTH value");
    ck_assert_int_eq(mail_with("SIZE", "1", 20, &m, why, sizeof why),
                     -1);     /* 20 digits, too big */
    ck_assert_str_eq(why, "bad SIZE value");
    ck_assert_int_eq(mail_with("SIZE", "9", 19, &m, why, sizeof why), -1);
    ck_assert_int_eq(mail_with("SIZE", "9", 18, &m, why, sizeof why), 0);
    ck_assert_int_eq(m.size, 999999999999999999LL);
}
END_TEST

/* ---- RCPT parameters ---- */

static const struct rcpt_case {
    const char *in;
    size_t len;
    int ret;
    const char *why;
    unsigned notify;
    const char *type, *orcpt;
} rcpt_cases[] = {
    {S(""), 0, NULL, 0, "", ""},
    {S(" NOTIFY=NEVER"), 0, NULL, NOTIFY_NEVER, "", ""},
    {S(" NOTIFY=SUCCESS,FAILURE,DELAY"), 0, NULL,
     NOTIFY_SUCCESS | NOTIFY_FAILURE | NOTIFY_DELAY, "", ""},
    {S(" notify=delay,Success"), 0, NULL, NOTIFY_DELAY | NOTIFY_SUCCESS, "", ""},
    {S(" NOTIFY=FAILURE"), 0, NULL, NOTIFY_FAILURE, "", ""},
    {S(" NOTIFY=NEVER,SUCCESS"), -1, "bad NOTIFY value", 0, NULL, NULL},
    {S(" NOTIFY=DELAY,NEVER"), -1, "bad NOTIFY value", 0, NULL, NULL},
    {S(" NOTIFY=SUCCESS,SUCCESS"), -1, "bad NOTIFY value", 0, NULL, NULL},
    {S(" NOTIFY=NEVER,NEVER"), -1, "bad NOTIFY value", 0, NULL, NULL},
    {S(" NOTIFY=SUCCESS,"), -1, "bad NOTIFY value", 0, NULL, NULL},
    {S(" NOTIFY=,SUCCESS"), -1, "bad NOTIFY value", 0, NULL, NULL},
    {S(" NOTIFY=SUCCESS,,DELAY"), -1, "bad NOTIFY value", 0, NULL, NULL},
    {S(" NOTIFY=FOO"), -1, "bad NOTIFY value", 0, NULL, NULL},
    {S(" NOTIFY="), -1, "missing parameter value", 0, NULL, NULL},
    {S(" NOTIFY"), -1, "missing parameter value", 0, NULL, NULL},
    {S(" ORCPT=rfc822;bob@example.com"), 0, NULL, 0, "rfc822", "bob@example.com"},
    {S(" orcpt=RFC822;bob+2Bx@example.com"), 0, NULL, 0, "RFC822", "bob+x@example.com"},
    {S(" ORCPT=utf-8;a@b"), 0, NULL, 0, "utf-8", "a@b"},
    {S(" ORCPT=x;+20"), 0, NULL, 0, "x", " "},
    {S(" ORCPT=rfc822;a;b"), 0, NULL, 0, "rfc822", "a;b"},
    {S(" ORCPT=rfc822"), -1, "bad ORCPT value", 0, NULL, NULL},
    {S(" ORCPT=;a@b"), -1, "bad ORCPT value", 0, NULL, NULL},
    {S(" ORCPT=rfc822;"), -1, "bad ORCPT value", 0, NULL, NULL},
    {S(" ORCPT=rf(c;a@b"), -1, "bad ORCPT value", 0, NULL, NULL},
    {S(" ORCPT=rfc822;a+0Db"), -1, "bad ORCPT value", 0, NULL, NULL},
    {S(" ORCPT=rfc822;a+C3+A9"), -1, "bad ORCPT value", 0, NULL, NULL},
    {S(" ORCPT=rfc822;a+"), -1, "bad ORCPT value", 0, NULL, NULL},
    {S(" ORCPT="), -1, "missing parameter value", 0, NULL, NULL},
    {S(" NOTIFY=NEVER ORCPT=rfc822;a@b"), 0, NULL, NOTIFY_NEVER, "rfc822", "a@b"},
    {S(" ORCPT=rfc822;a@b notify=failure,delay"), 0, NULL, NOTIFY_FAILURE | NOTIFY_DELAY,
     "rfc822", "a@b"},
    {S(" NOTIFY=NEVER NOTIFY=NEVER"), -1, "duplicate parameter", 0, NULL, NULL},
    {S(" ORCPT=a;b ORCPT=a;b"), -1, "duplicate parameter", 0, NULL, NULL},
    {S(" SIZE=1"), -1, "unknown parameter", 0, NULL, NULL},
    {S(" NOTIFY=NEVER\0"), -1, "bad parameter syntax", 0, NULL, NULL},
    {S("NOTIFY=NEVER"), -1, "bad parameter syntax", 0, NULL, NULL},
};

START_TEST(rcpt_params_table)
{
    const struct rcpt_case *c = &rcpt_cases[_i];
    char *in = exact_copy(c->in, c->len);
    struct rcpt_params p;
    char why[ERR_TEXT_MAX] = "";
    memset(&p, 0x5A, sizeof p);
    int r = smtp_parse_rcpt_params(in, c->len, &p, why, sizeof why);
    free(in);
    ck_assert_msg(r == c->ret, "case %d: returned %d (%s)", _i, r, *why ? why : "-");
    ck_assert_ptr_nonnull(memchr(p.orcpt_type, '\0', sizeof p.orcpt_type));
    ck_assert_ptr_nonnull(memchr(p.orcpt, '\0', sizeof p.orcpt));
    if (r < 0) {
        ck_assert_str_eq(why, c->why);
        return;
    }
    ck_assert_uint_eq(p.notify, c->notify);
    ck_assert_str_eq(p.orcpt_type, c->type);
    ck_assert_str_eq(p.orcpt, c->orcpt);
}
END_TEST

static int orcpt_with(size_t type_len, const char *unit, size_t count, struct rcpt_params *p,
                      char *why, size_t whylen)
{
    char buf[2048] = " ORCPT=";
    for (size_t i = 0; i < type_len; i++)
        strcat(buf, "t");
    strcat(buf, ";");
    for (size_t i = 0; i < count; i++)
        strcat(buf, unit);
    return smtp_parse_rcpt_params(buf, strlen(buf), p, why, whylen);
}

START_TEST(rcpt_params_bounds)
{
    struct rcpt_params p;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(orcpt_with(31, "a", 1, &p, why, sizeof why), 0);
    ck_assert_uint_eq(strlen(p.orcpt_type), 31);
    ck_assert_int_eq(orcpt_with(32, "a", 1, &p, why, sizeof why), -1);
    ck_assert_str_eq(why, "bad ORCPT value");
    ck_assert_int_eq(orcpt_with(6, "a", 500, &p, why, sizeof why), 0);
    ck_assert_uint_eq(strlen(p.orcpt), 500);
    ck_assert_int_eq(orcpt_with(6, "a", 501, &p, why, sizeof why), -1);
    ck_assert_str_eq(why, "bad ORCPT value");
    ck_assert_int_eq(orcpt_with(6, "+2B", 500, &p, why, sizeof why), 0);
    ck_assert_uint_eq(strlen(p.orcpt), 500);
    ck_assert_int_eq(orcpt_with(6, "+2B", 501, &p, why, sizeof why), -1);
}
END_TEST

#define TABLE(tc, test, cases) \
    tcase_add_loop_test(tc, test, 0, (int)(sizeof cases / sizeof cases[0]))

static Suite *smtp_parse_suite(void)
{
    Suite *s = suite_create("smtp_parse");
    TCase *tc = tcase_create("core");
    TABLE(tc, command_table, cmd_cases);
    TABLE(tc, path_table, path_cases);
    tcase_add_test(tc, path_prefixes);
    tcase_add_test(tc, path_local_bounds);
    tcase_add_test(tc, path_domain_bounds);
    tcase_add_test(tc, path_total_bound);
    TABLE(tc, helo_table, helo_cases);
    tcase_add_test(tc, helo_bounds);
    TABLE(tc, mail_params_table, mail_cases);
    tcase_add_test(tc, mail_params_bounds);
    TABLE(tc, rcpt_params_table, rcpt_cases);
    tcase_add_test(tc, rcpt_params_bounds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(smtp_parse_suite());
}
