/* test_spf.c: unit tests of SPF (mail/spf_record.c, mail/spf_macro.c, mail/spf.c): the record
 * parser (terms, qualifiers, CIDR lengths, domain-specs, modifiers, errors), macro syntax and
 * expansion (transformers, delimiters, URL escapes, c/r/t only in explanations, the 253
 * character fit), and check_host() run on an in-memory resolver: results, include and
 * redirect, exp=, the limits (10 DNS mechanisms, 2 void look-ups, 10 MX names, 10 PTR names),
 * %{p}, and DNS failures. */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "spf.h"
#include "spf_macro.h"
#include "spf_record.h"
#include "unit.h"

/* ---- the record parser ---- */

static struct spf_record prec;
static char err[1024];

static int parse(const char *txt)
{
    return spf_record_parse(txt, strlen(txt), &prec, err, sizeof err);
}

START_TEST(record_terms)
{
    ck_assert_int_eq(parse("v=spf1 -ip4:192.0.2.0/24 ~a:mail.example.com/28//64 ?mx "
                           "ptr:example.org include:_spf.example.net exists:%{i}.x.example "
                           "ip6:2001:db8::/32 +all exp=why.example redirect=r.example "
                           "foo=bar"), 0);
    ck_assert_uint_eq(prec.ndirectives, 8);
    ck_assert_int_eq(prec.directives[0].mechanism, SPF_IP4);
    ck_assert_int_eq(prec.directives[0].qualifier, '-');
    ck_assert_int_eq(prec.directives[0].cidr4, 24);
    ck_assert_int_eq(prec.directives[0].addr[0], 192);
    ck_assert_int_eq(prec.directives[1].mechanism, SPF_A);
    ck_assert_int_eq(prec.directives[1].qualifier, '~');
    ck_assert_int_eq(prec.directives[1].cidr4, 28);
    ck_assert_int_eq(prec.directives[1].cidr6, 64);
    ck_assert(prec.directives[1].has_domain);
    ck_assert_int_eq(prec.directives[1].domain.len, strlen("mail.example.com"));
    ck_assert_int_eq(memcmp(prec.text + prec.directives[1].domain.off, "mail.example.com", 16), 0);
    ck_assert_int_eq(prec.directives[2].mechanism, SPF_MX);
    ck_assert(!prec.directives[2].has_domain);
    ck_assert_int_eq(prec.directives[2].cidr4, 32);
    ck_assert_int_eq(prec.directives[2].cidr6, 128);
    ck_assert_int_eq(prec.directives[6].mechanism, SPF_IP6);
    ck_assert_int_eq(prec.directives[6].cidr6, 32);
    ck_assert_int_eq(prec.directives[7].mechanism, SPF_ALL);
    ck_assert_int_eq(prec.directives[7].qualifier, '+');
    ck_assert(prec.has_exp && prec.has_redirect);
    ck_assert_int_eq(memcmp(prec.text + prec.redirect.off, "r.example", prec.redirect.len), 0);
    /* the version in any case, several spaces, a trailing space */
    ck_assert_int_eq(parse("V=SpF1  a   -all "), 0);
    ck_assert_uint_eq(prec.ndirectives, 2);
    ck_assert_int_eq(parse("v=spf1"), 0);
    ck_assert_uint_eq(prec.ndirectives, 0);
}
END_TEST

static const char *const bad_records[] = {
    "v=spf1 -all moo",                     /* unknown mechanism */
    "v=spf1 a:foo-bar -all",               /* no top label */
    "v=spf1 a:abc.123",                    /* numeric top label */
    "v=spf1 a:museum",                     /* a top label alone */
    "v=spf1 a:example.com:8080",
    "v=spf1 a/33",                         /* IPv4 length over 32 */
    "v=spf1 a//129",
    "v=spf1 a/24/64",
    "v=spf1 ip4:1.2.3.4/032",              /* a leading zero */
    "v=spf1 ip4:1.2.3",
    "v=spf1 ip4:1.2.3.4//32",
    "v=spf1 ip6::CAFE::BABE",
    "v=spf1 ip4",
    "v=spf1 all:x",
    "v=spf1 -all.",
    "v=spf1 ptr/0",
    "v=spf1 include:",
    "v=spf1 include",
    "v=spf1 exists",
    "v=spf1 a:",
    "v=spf1 redirect:x.example",            /* a modifier needs '=' */
    "v=spf1 exp=a.example exp=b.example",
    "v=spf1 redirect=a.example redirect=a.example",
    "v=spf1 redirect=",
    "v=spf1 exp=",
    "v=spf1 1up=foo",
    "v=spf1 =all",
    "v=spf1 foo=%abc",                      /* an unknown modifier's value is a macro string */
    "v=spf1 exp=%{r}.example",              /* r only in explanations */
    "v=spf1 a:%{x}.example",
    "v=spf1 exists:%(ir).example",
    "v=spf1 exists:foo%.example",
    "v=spf1 a:ctrl.example.com\rptr",
    "v=spf1 \x80" "a",
    "v=spf1 ip4:192.0.2.5\n",
    "v=spf10",
};

START_TEST(record_errors)
{
    const char *r = bad_records[_i];
    ck_assert_msg(parse(r) == -1, "accepted: %s", r);
    ck_assert(err[0] != '\0');
}
END_TEST

START_TEST(record_bounds)
{
    char *big = malloc(SPF_RECORD_MAX + 16);
    strcpy(big, "v=spf1");
    size_t n = strlen(big);
    while (n + 2 <= SPF_RECORD_MAX + 8)
        big[n++] = ' ', big[n++] = 'a';
    ck_assert_int_eq(spf_record_parse(big, n, &prec, err, sizeof err), -1);  /* too long */
    n = 6;
    for (int i = 0; i < SPF_TERMS_MAX + 1; i++)
        big[n++] = ' ', big[n++] = 'a';
    ck_assert_int_eq(spf_record_parse(big, n, &prec, err, sizeof err), -1);  /* too many */
    ck_assert_int_eq(spf_record_parse(big, n - 2, &prec, err, sizeof err), 0);
    ck_assert_uint_eq(prec.ndirectives, SPF_TERMS_MAX);
    /* a NUL inside the text is not the end of it */
    ck_assert_int_eq(spf_record_parse("v=spf1 a:x.example\0 -all", 25, &prec, err, sizeof err),
                     -1);
    free(big);
    ck_assert(spf_record_is_spf1("v=spf1 -all", 11));
    ck_assert(spf_record_is_spf1("v=spf1", 6));
    ck_assert(!spf_record_is_spf1("v=spf1mx", 8));
    ck_assert(!spf_record_is_spf1("v=spf", 5));
}
END_TEST

/* ---- macros ---- */

static const struct spf_macro_values mv = {
    .s = "strong-bad@email.example.com", .l = "strong-bad", .o = "email.example.com",
    .d = "email.example.com", .i = "192.0.2.3", .p = "mx.example.org", .v = "in-addr",
    .h = "mx.example.org", .c = "192.0.2.3", .r = "rcv.example", .t = "1700000000",
};

static const struct {
    const char *in, *out;
    enum spf_macro_use use;
} expansions[] = {
    /* RFC 7208 7.4's examples */
    { "%{s}", "strong-bad@email.example.com", SPF_MACRO_DOMAIN },
    { "%{o}", "email.example.com", SPF_MACRO_DOMAIN },
    { "%{d}", "email.example.com", SPF_MACRO_DOMAIN },
    { "%{d4}", "email.example.com", SPF_MACRO_DOMAIN },
    { "%{d3}", "email.example.com", SPF_MACRO_DOMAIN },
    { "%{d2}", "example.com", SPF_MACRO_DOMAIN },
    { "%{d1}", "com", SPF_MACRO_DOMAIN },
    { "%{dr}", "com.example.email", SPF_MACRO_DOMAIN },
    { "%{d2r}", "example.email", SPF_MACRO_DOMAIN },
    { "%{l}", "strong-bad", SPF_MACRO_DOMAIN },
    { "%{l-}", "strong.bad", SPF_MACRO_DOMAIN },
    { "%{lr}", "strong-bad", SPF_MACRO_DOMAIN },
    { "%{lr-}", "bad.strong", SPF_MACRO_DOMAIN },
    { "%{l1r-}", "strong", SPF_MACRO_DOMAIN },
    { "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com", SPF_MACRO_DOMAIN },
    { "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com", SPF_MACRO_DOMAIN },
    { "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com",
      SPF_MACRO_DOMAIN },
    { "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net",
      SPF_MACRO_DOMAIN },
    /* escapes, upper case, several delimiters */
    { "a%%b%_c%-d", "a%b c%20d", SPF_MACRO_DOMAIN },
    { "%{S}", "strong-bad%40email.example.com", SPF_MACRO_DOMAIN },
    { "%{l+-}", "strong.bad", SPF_MACRO_DOMAIN },
    { "%{d999}", "email.example.com", SPF_MACRO_DOMAIN },
    { "%{c} %{r} %{t} %{p}", "192.0.2.3 rcv.example 1700000000 mx.example.org",
      SPF_MACRO_EXPLANATION },
    { "", "", SPF_MACRO_DOMAIN },
};

START_TEST(macro_expands)
{
    char out[512];
    ck_assert_int_eq(spf_macro_expand(expansions[_i].in, strlen(expansions[_i].in),
                                      expansions[_i].use, &mv, out, sizeof out, err,
                                      sizeof err), 0);
    ck_assert_str_eq(out, expansions[_i].out);
    ck_assert_int_eq(spf_macro_check(expansions[_i].in, strlen(expansions[_i].in),
                                     expansions[_i].use, NULL, err, sizeof err), 0);
}
END_TEST

START_TEST(macro_errors)
{
    static const char *const bad[] = { "%", "%x", "%{", "%{d", "%{q}", "%{d0}", "%{d01}",
                                       "%{c}", "%{r}", "%{t}", "a b", "%{d2r+x}", "\x80" };
    char out[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(spf_macro_check(bad[i], strlen(bad[i]), SPF_MACRO_DOMAIN, NULL, err,
                                      sizeof err) == -1, "%s", bad[i]);
        ck_assert_int_eq(spf_macro_expand(bad[i], strlen(bad[i]), SPF_MACRO_DOMAIN, &mv, out,
                                          sizeof out, err, sizeof err), -1);
    }
    /* spaces and c, r, t are fine in an explanation, 8-bit bytes are not */
    ck_assert_int_eq(spf_macro_check("a b %{c}", 8, SPF_MACRO_EXPLANATION, NULL, err,
                                     sizeof err), 0);
    ck_assert_int_eq(spf_macro_check("\xef\xbb\xbfx", 4, SPF_MACRO_EXPLANATION, NULL, err,
                                     sizeof err), -1);
    /* an expansion that does not fit: -1, and out is still a string within its size */
    memset(out, 'z', sizeof out);
    ck_assert_int_eq(spf_macro_expand("%{s}%{s}%{s}", 12, SPF_MACRO_DOMAIN, &mv, out, 40, err,
                                      sizeof err), -1);
    ck_assert(memchr(out, '\0', 40) != NULL);
    ck_assert_int_eq(out[40], 'z');
    bool ends;
    ck_assert_int_eq(spf_macro_check("x.%{d}", 6, SPF_MACRO_DOMAIN, &ends, err, sizeof err), 0);
    ck_assert(ends);
    ck_assert_int_eq(spf_macro_check("%{d}.x", 6, SPF_MACRO_DOMAIN, &ends, err, sizeof err), 0);
    ck_assert(!ends);
    ck_assert(spf_macro_uses_p("a.%{p2}.b", 9));
    ck_assert(!spf_macro_uses_p("a.%%{p}.b", 9));
}
END_TEST

START_TEST(macro_fit_name)
{
    char name[600];
    /* 8 labels of 31 characters and "example.com": the left labels go until 253 or fewer */
    name[0] = '\0';
    for (int i = 0; i < 8; i++)
        strcat(name, "abcdefghijklmnopqrstuvwxyz01234.");
    strcat(name, "example.com.");
    spf_macro_fit_name(name);
    ck_assert_uint_le(strlen(name), 253);
    ck_assert_uint_gt(strlen(name), 253 - 32);
    ck_assert(strncmp(name, "abcdefghijklmnopqrstuvwxyz01234.", 32) == 0);
    ck_assert_str_eq(name + strlen(name) - 12, ".example.com");
    strcpy(name, "short.example.");
    spf_macro_fit_name(name);
    ck_assert_str_eq(name, "short.example");
    memset(name, 'x', 300);
    name[300] = '\0';
    spf_macro_fit_name(name);
    ck_assert_str_eq(name, "");
}
END_TEST

/* ---- check_host() on an in-memory resolver ---- */

/* One name and type: rc and its records, given as text: TXT records separated by '|'
 * (strings within one by '^'), addresses separated by ' ', MX as "pref host" separated by ','
 * , PTR names separated by ' '. */
struct fake {
    const char *name;
    int type;
    enum dns_rc rc;
    const char *data;
};

static const struct fake *zone;
static int lookups;

static void answer_from_zone(struct spf *s, const char *name, int type)
{
    static struct dns_record recs[DNS_LOOKUP_RECORDS_MAX];
    static struct dns_txt_string strs[DNS_LOOKUP_RECORDS_MAX][8];
    static char texts[DNS_LOOKUP_RECORDS_MAX][1024];
    struct dns_records r = { .rc = DNS_RC_NXDOMAIN, .type = type, .records = recs };
    lookups++;
    for (const struct fake *f = zone; f && f->name; f++) {
        if (strcasecmp(f->name, name) != 0)
            continue;
        r.rc = DNS_RC_NODATA;
        if (f->type != type)
            continue;
        r.rc = f->rc;
        if (f->rc != DNS_RC_OK)
            break;
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", f->data);
        const char *sep = type == 16 ? "|" : type == 15 ? "," : " ";
        for (char *save = NULL, *item = strtok_r(copy, sep, &save); item;
             item = strtok_r(NULL, sep, &save)) {
            struct dns_record *rec = &recs[r.count];
            memset(rec, 0, sizeof *rec);
            if (type == 1 || type == 28) {
                rec->addrlen = type == 1 ? 4 : 16;
                ck_assert_int_eq(inet_pton(type == 1 ? AF_INET : AF_INET6, item, rec->addr), 1);
            } else if (type == 15) {
                char host[256];
                ck_assert_int_eq(sscanf(item, "%d %255s", &rec->preference, host), 2);
                snprintf(rec->host, sizeof rec->host, "%s", strcmp(host, ".") ? host : "");
            } else if (type == 12) {
                snprintf(rec->host, sizeof rec->host, "%s", item);
            } else {
                size_t n = 0, start = 0;
                for (const char *p = item;; p++) {
                    if (*p == '^' || *p == '\0') {
                        strs[r.count][rec->nstrings].offset = start;
                        strs[r.count][rec->nstrings++].len = n - start;
                        start = n;
                        if (*p == '\0')
                            break;
                        continue;
                    }
                    texts[r.count][n++] = *p;
                }
                texts[r.count][n] = '\0';
                rec->text = texts[r.count];
                rec->textlen = n;
                rec->strings = strs[r.count];
            }
            r.count++;
        }
        r.nrecords = r.count;
        break;
    }
    spf_answer(s, &r);
}

static struct spf_outcome outcome;

static enum spf_result check(const struct fake *z, const char *ip, const char *from,
                             const char *helo)
{
    zone = z;
    lookups = 0;
    struct spf_request req = { .ip = ip, .mail_from = from, .helo = helo,
                               .receiver = "rcv.example", .now = 1700000000 };
    struct spf *s = spf_new(&req, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    const char *name;
    int type, guard = 0;
    while (spf_next(s, &name, &type) == SPF_STEP_LOOKUP) {
        ck_assert_int_lt(++guard, 200);
        answer_from_zone(s, name, type);
    }
    outcome = *spf_outcome(s);
    spf_free(s);
    return outcome.result;
}

#define TXT 16
#define OK DNS_RC_OK

static const struct fake basic[] = {
    { "example.com", TXT, OK, "some other text|v=spf1 ip4:192.0.2.0/24 a mx -all" },
    { "example.com", 1, OK, "198.51.100.1" },
    { "example.com", 15, OK, "10 mx1.example.com,20 mx2.example.com" },
    { "mx1.example.com", 1, OK, "198.51.100.10" },
    { "mx2.example.com", 1, OK, "198.51.100.20 198.51.100.21" },
    { "mx2.example.com", 28, OK, "2001:db8::20" },
    { "split.example", TXT, OK, "v=spf1 ip4:^192.0.2.9 ~all" },
    { "soft.example", TXT, OK, "v=spf1 ?ip4:192.0.2.1 ~all" },
    { NULL, 0, 0, NULL },
};

START_TEST(results)
{
    ck_assert_int_eq(check(basic, "192.0.2.55", "a@example.com", "h.example"), SPF_RESULT_PASS);
    ck_assert(strstr(outcome.reason, "ip4:192.0.2.0/24") != NULL);
    ck_assert_str_eq(outcome.domain, "example.com");
    ck_assert_int_eq(check(basic, "198.51.100.1", "a@example.com", "h"), SPF_RESULT_PASS);
    ck_assert(strstr(outcome.reason, "'a'") != NULL);
    ck_assert_int_eq(check(basic, "198.51.100.21", "a@example.com", "h"), SPF_RESULT_PASS);
    ck_assert(strstr(outcome.reason, "'mx'") != NULL);
    ck_assert_int_eq(check(basic, "2001:db8::20", "a@example.com", "h"), SPF_RESULT_PASS);
    ck_assert_int_eq(check(basic, "203.0.113.1", "a@example.com", "h"), SPF_RESULT_FAIL);
    ck_assert_str_eq(outcome.explanation, "");
    /* an IPv4-mapped address is IPv4 */
    ck_assert_int_eq(check(basic, "::ffff:192.0.2.1", "a@example.com", "h"), SPF_RESULT_PASS);
    /* strings of one record are joined with nothing between them */
    ck_assert_int_eq(check(basic, "192.0.2.9", "a@split.example", "h"), SPF_RESULT_PASS);
    ck_assert_int_eq(check(basic, "192.0.2.1", "a@soft.example", "h"), SPF_RESULT_NEUTRAL);
    ck_assert_int_eq(check(basic, "192.0.2.2", "a@soft.example", "h"), SPF_RESULT_SOFTFAIL);
    /* no record, no domain, no valid domain: none */
    ck_assert_int_eq(check(basic, "192.0.2.2", "a@nowhere.example", "h"), SPF_RESULT_NONE);
    ck_assert_int_eq(check(basic, "192.0.2.2", "a@example", "h"), SPF_RESULT_NONE);
    ck_assert_int_eq(lookups, 0);
    ck_assert_int_eq(check(basic, "192.0.2.2", "a@x..example", "h"), SPF_RESULT_NONE);
    ck_assert_int_eq(check(basic, "192.0.2.2", "a@[192.0.2.2]", "h"), SPF_RESULT_NONE);
    /* the null sender: the HELO name */
    ck_assert_int_eq(check(basic, "192.0.2.3", "", "example.com"), SPF_RESULT_PASS);
    ck_assert_str_eq(outcome.domain, "example.com");
    ck_assert_int_eq(check(basic, "192.0.2.3", "", "[192.0.2.3]"), SPF_RESULT_NONE);
}
END_TEST

static const struct fake records[] = {
    { "two.example", TXT, OK, "v=spf1 +all|v=spf1 -all" },
    { "bad.example", TXT, OK, "v=spf1 -all moo" },
    { "temp.example", TXT, DNS_RC_TEMP, NULL },
    { "inc.example", TXT, OK, "v=spf1 include:inner.example -all" },
    { "inner.example", TXT, OK, "v=spf1 ip4:192.0.2.1 ~all" },
    { "incnone.example", TXT, OK, "v=spf1 include:nowhere.example +all" },
    { "inctemp.example", TXT, OK, "v=spf1 include:temp.example +all" },
    { "red.example", TXT, OK, "v=spf1 ip4:10.0.0.1 redirect=inner.example" },
    { "rednone.example", TXT, OK, "v=spf1 redirect=nowhere.example" },
    { "exp.example", TXT, OK, "v=spf1 -all exp=why.%{d}" },
    { "why.exp.example", TXT, OK, "%{i} is not one of %{d}'s (%{l}, %{c}, %{r})" },
    { "exp2.example", TXT, OK, "v=spf1 -all exp=twice.example" },
    { "twice.example", TXT, OK, "one|two" },
    { "expred.example", TXT, OK, "v=spf1 exp=why.exp.example redirect=inner.example" },
    { NULL, 0, 0, NULL },
};

START_TEST(records_include_redirect_exp)
{
    ck_assert_int_eq(check(records, "192.0.2.1", "a@two.example", "h"), SPF_RESULT_PERMERROR);
    ck_assert_int_eq(check(records, "192.0.2.1", "a@bad.example", "h"), SPF_RESULT_PERMERROR);
    ck_assert(strstr(outcome.reason, "moo") != NULL);
    ck_assert_int_eq(check(records, "192.0.2.1", "a@temp.example", "h"), SPF_RESULT_TEMPERROR);
    /* include: pass matches, the others do not */
    ck_assert_int_eq(check(records, "192.0.2.1", "a@inc.example", "h"), SPF_RESULT_PASS);
    ck_assert_int_eq(check(records, "192.0.2.2", "a@inc.example", "h"), SPF_RESULT_FAIL);
    ck_assert_int_eq(check(records, "192.0.2.2", "a@incnone.example", "h"),
                     SPF_RESULT_PERMERROR);
    ck_assert_int_eq(check(records, "192.0.2.2", "a@inctemp.example", "h"),
                     SPF_RESULT_TEMPERROR);
    /* redirect: the other record's result; none there is permerror */
    ck_assert_int_eq(check(records, "192.0.2.2", "a@red.example", "h"), SPF_RESULT_SOFTFAIL);
    ck_assert_int_eq(check(records, "192.0.2.2", "a@rednone.example", "h"),
                     SPF_RESULT_PERMERROR);
    /* exp= for fail, expanded with the check's values */
    ck_assert_int_eq(check(records, "192.0.2.7", "joe@exp.example", "h"), SPF_RESULT_FAIL);
    ck_assert_str_eq(outcome.explanation,
                     "192.0.2.7 is not one of exp.example's (joe, 192.0.2.7, rcv.example)");
    ck_assert_int_eq(check(records, "192.0.2.7", "joe@exp2.example", "h"), SPF_RESULT_FAIL);
    ck_assert_str_eq(outcome.explanation, "");   /* two TXT records: none */
    /* the redirect's record decides, and has no exp= */
    ck_assert_int_eq(check(records, "192.0.2.9", "joe@expred.example", "h"),
                     SPF_RESULT_SOFTFAIL);
    ck_assert_str_eq(outcome.explanation, "");
}
END_TEST

static const struct fake limits[] = {
    /* 10 DNS mechanisms are fine, the 11th is permerror */
    { "ten.example", TXT, OK, "v=spf1 a a a a a a a a a a ip4:192.0.2.1 -all" },
    { "eleven.example", TXT, OK, "v=spf1 a a a a a a a a a a a ip4:192.0.2.1 -all" },
    { "ten.example", 1, OK, "198.51.100.1" },
    { "eleven.example", 1, OK, "198.51.100.1" },
    /* include and redirect count too; a loop ends at the limit */
    { "loop.example", TXT, OK, "v=spf1 include:loop.example -all" },
    { "rloop.example", TXT, OK, "v=spf1 redirect=rloop.example" },
    /* void look-ups: two are fine, three are permerror */
    { "void2.example", TXT, OK, "v=spf1 a:n1.example mx:n2.example ?all" },
    { "void3.example", TXT, OK, "v=spf1 a:n1.example a:n2.example exists:n3.example ?all" },
    /* more than 10 MX names is permerror, whatever matches */
    { "mx11.example", TXT, OK, "v=spf1 mx -all" },
    { "mx11.example", 15, OK, "0 h.example,1 h.example,2 h.example,3 h.example,4 h.example,"
                              "5 h.example,6 h.example,7 h.example,8 h.example,9 h.example,"
                              "10 h.example" },
    { "h.example", 1, OK, "192.0.2.1" },
    /* only 10 PTR names are looked at */
    { "ptr.example", TXT, OK, "v=spf1 ptr -all" },
    { "1.2.0.192.in-addr.arpa", 12, OK, "a1.x a2.x a3.x a4.x a5.x a6.x a7.x a8.x a9.x a10.x "
                                        "h.ptr.example" },
    { "2.2.0.192.in-addr.arpa", 12, OK, "a1.x h.ptr.example" },
    { "h.ptr.example", 1, OK, "192.0.2.1 192.0.2.2" },
    { NULL, 0, 0, NULL },
};

START_TEST(processing_limits)
{
    ck_assert_int_eq(check(limits, "192.0.2.1", "a@ten.example", "h"), SPF_RESULT_PASS);
    ck_assert_int_eq(check(limits, "192.0.2.1", "a@eleven.example", "h"), SPF_RESULT_PERMERROR);
    ck_assert(strstr(outcome.reason, "more than 10") != NULL);
    ck_assert_int_eq(check(limits, "192.0.2.1", "a@loop.example", "h"), SPF_RESULT_PERMERROR);
    ck_assert_int_le(lookups, 12);
    ck_assert_int_eq(check(limits, "192.0.2.1", "a@rloop.example", "h"), SPF_RESULT_PERMERROR);
    ck_assert_int_eq(check(limits, "192.0.2.1", "a@void2.example", "h"), SPF_RESULT_NEUTRAL);
    ck_assert_int_eq(check(limits, "192.0.2.1", "a@void3.example", "h"), SPF_RESULT_PERMERROR);
    ck_assert(strstr(outcome.reason, "void") != NULL);
    ck_assert_int_eq(check(limits, "192.0.2.1", "a@mx11.example", "h"), SPF_RESULT_PERMERROR);
    /* the matching name is the 11th PTR name: not looked at */
    ck_assert_int_eq(check(limits, "192.0.2.1", "a@ptr.example", "h"), SPF_RESULT_FAIL);
    ck_assert_int_eq(check(limits, "192.0.2.2", "a@ptr.example", "h"), SPF_RESULT_PASS);
}
END_TEST

static const struct fake pmacro[] = {
    { "p.example", TXT, OK, "v=spf1 exists:%{p}.ok.p.example -all exp=e.p.example" },
    { "e.p.example", TXT, OK, "connect from %{p}" },
    { "5.2.0.192.in-addr.arpa", 12, OK, "mail.other.example good.p.example" },
    { "mail.other.example", 1, OK, "192.0.2.5" },
    { "good.p.example", 1, OK, "192.0.2.5" },
    { "good.p.example.ok.p.example", 1, OK, "127.0.0.2" },
    { "6.2.0.192.in-addr.arpa", 12, OK, "forged.p.example" },
    { "forged.p.example", 1, OK, "192.0.2.99" },
    { "dnsfail.example", TXT, OK, "v=spf1 a:temp.example ~all" },
    { "temp.example", 1, DNS_RC_TEMP, NULL },
    { NULL, 0, 0, NULL },
};

START_TEST(p_macro_and_failures)
{
    /* a validated name under the domain is preferred */
    ck_assert_int_eq(check(pmacro, "192.0.2.5", "a@p.example", "h"), SPF_RESULT_PASS);
    /* a name that does not lead back to the address is not validated: "unknown" */
    ck_assert_int_eq(check(pmacro, "192.0.2.6", "a@p.example", "h"), SPF_RESULT_FAIL);
    ck_assert_str_eq(outcome.explanation, "connect from unknown");
    ck_assert_int_eq(check(pmacro, "192.0.2.5", "a@dnsfail.example", "h"),
                     SPF_RESULT_TEMPERROR);
    ck_assert(strstr(outcome.reason, "temp.example") != NULL);
}
END_TEST

START_TEST(requests)
{
    struct spf_request req = { .ip = "not an address", .mail_from = "a@b.example", .helo = "h" };
    ck_assert_ptr_null(spf_new(&req, err, sizeof err));
    ck_assert(strstr(err, "not an IP address") != NULL);
    char longer[SPF_SENDER_MAX + 10];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    req.ip = "192.0.2.1";
    req.mail_from = longer;
    ck_assert_ptr_null(spf_new(&req, err, sizeof err));
    /* giving up (a deadline): temperror with the reason */
    req.mail_from = "a@example.com";
    struct spf *s = spf_new(&req, err, sizeof err);
    const char *name;
    int type;
    ck_assert_int_eq(spf_next(s, &name, &type), SPF_STEP_LOOKUP);
    ck_assert_str_eq(name, "example.com");
    ck_assert_int_eq(type, TXT);
    spf_give_up(s, "too slow");
    ck_assert_int_eq(spf_next(s, &name, &type), SPF_STEP_DONE);
    ck_assert_int_eq(spf_outcome(s)->result, SPF_RESULT_TEMPERROR);
    ck_assert_str_eq(spf_outcome(s)->reason, "too slow");
    spf_free(s);
    ck_assert_str_eq(spf_result_name(SPF_RESULT_SOFTFAIL), "softfail");
    ck_assert_str_eq(spf_result_name(SPF_RESULT_PERMERROR), "permerror");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("spf");
    TCase *tc = tcase_create("spf");
    tcase_add_test(tc, record_terms);
    tcase_add_loop_test(tc, record_errors, 0, (int)(sizeof bad_records / sizeof bad_records[0]));
    tcase_add_test(tc, record_bounds);
    tcase_add_loop_test(tc, macro_expands, 0, (int)(sizeof expansions / sizeof expansions[0]));
    tcase_add_test(tc, macro_errors);
    tcase_add_test(tc, macro_fit_name);
    tcase_add_test(tc, results);
    tcase_add_test(tc, records_include_redirect_exp);
    tcase_add_test(tc, processing_limits);
    tcase_add_test(tc, p_macro_and_failures);
    tcase_add_test(tc, requests);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
