/* spf_record.c: the SPF record parser (RFC 7208 4.6.1 and 12): the version, then terms split
 * on spaces, each a directive (qualifier, mechanism, domain-spec, CIDR lengths, address) or a
 * modifier (redirect=, exp=, others checked and ignored). Every term is checked before any is
 * evaluated, so an error anywhere is a permerror (4.6). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "spf_macro.h"
#include "spf_record.h"

#define SPF1 "v=spf1"
#define SPF1_LEN 6

bool spf_record_is_spf1(const char *txt, size_t len)
{
    return len >= SPF1_LEN && strncasecmp(txt, SPF1, SPF1_LEN) == 0 &&
           (len == SPF1_LEN || txt[SPF1_LEN] == ' ');
}

/* The term for an error text: printable, cut. */
static void quote_term(const char *t, size_t len, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < size; i++)
        out[n++] = isprint((unsigned char)t[i]) ? t[i] : '?';
    if (n + 4 >= size && len > n)
        memcpy(out + n, "...", 3), n += 3;
    out[n] = '\0';
}

/* toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static bool toplabel(const char *s, size_t len)
{
    if (len == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[len - 1]))
        return false;
    bool alpha = false, dash = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '-')
            dash = true;
        else if (isalpha(c))
            alpha = true;
        else if (!isdigit(c))
            return false;
    }
    return alpha || dash;
}

/* domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand */
static int check_domain_spec(const char *s, size_t len, char *err, size_t errlen)
{
    bool ends_in_macro = false;
    if (len == 0) {
        snprintf(err, errlen, "empty domain-spec");
        return -1;
    }
    if (spf_macro_check(s, len, SPF_MACRO_DOMAIN, &ends_in_macro, err, errlen) != 0)
        return -1;
    if (ends_in_macro)
        return 0;
    if (s[len - 1] == '.')
        len--;
    size_t dot = len;
    while (dot > 0 && s[dot - 1] != '.')
        dot--;
    if (dot == 0 || !toplabel(s + dot, len - dot)) {
        snprintf(err, errlen, "domain-spec does not end in a valid top label");
        return -1;
    }
    return 0;
}

/* "/" ("0" / %x31-39 0*2DIGIT) up to max, at s[0..len): 0 with *out, or -1. */
static int cidr_value(const char *s, size_t len, int max, uint8_t *out)
{
    if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
        return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = (uint8_t)v;
    return 0;
}

static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return len > 0;
}

/* a and mx: takes a final dual-cidr-length ("/N", "//N" or "/N//N") off *len. */
static int strip_dual_cidr(const char *s, size_t *len, struct spf_directive *d)
{
    size_t n = *len;
    for (size_t i = n; i >= 2; i--)
        if (s[i - 1] == '/' && s[i - 2] == '/') {
            if (all_digits(s + i, n - i)) {
                if (cidr_value(s + i, n - i, 128, &d->cidr6) != 0)
                    return -1;
                n = i - 2;
            }
            break;
        }
    for (size_t i = n; i >= 1; i--)
        if (s[i - 1] == '/') {
            if (all_digits(s + i, n - i)) {
                if (cidr_value(s + i, n - i, 32, &d->cidr4) != 0)
                    return -1;
                n = i - 1;
            }
            break;
        }
    *len = n;
    return 0;
}

static struct spf_span span(const struct spf_record *r, const char *p, size_t len)
{
    return (struct spf_span){ (uint16_t)(p - r->text), (uint16_t)len };
}

/* ip4:/ip6: network [ "/" length ] */
static int parse_network(const char *s, size_t len, bool v6, struct spf_directive *d)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    char addr[64];
    if (alen == 0 || alen >= sizeof addr)
        return -1;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, d->addr) != 1)
        return -1;
    if (slash && cidr_value(slash + 1, len - alen - 1, v6 ? 128 : 32,
                            v6 ? &d->cidr6 : &d->cidr4) != 0)
        return -1;
    return 0;
}

static const struct {
    const char *name;
    enum spf_mechanism m;
} mechanisms[] = {
    { "all", SPF_ALL }, { "include", SPF_INCLUDE }, { "a", SPF_A }, { "mx", SPF_MX },
    { "ptr", SPF_PTR }, { "ip4", SPF_IP4 }, { "ip6", SPF_IP6 }, { "exists", SPF_EXISTS },
};

static int parse_directive(struct spf_record *r, const char *t, size_t len, char *err,
                           size_t errlen)
{
    char q[80];
    quote_term(t, len, q, sizeof q);
    if (r->ndirectives == SPF_TERMS_MAX) {
        snprintf(err, errlen, "more than %d directives", SPF_TERMS_MAX);
        return -1;
    }
    struct spf_directive *d = &r->directives[r->ndirectives];
    memset(d, 0, sizeof *d);
    d->term = span(r, t, len);
    d->qualifier = '+';
    d->cidr4 = 32;
    d->cidr6 = 128;
    size_t i = 0;
    if (strchr("+-~?", t[0]) && t[0] != '\0')
        d->qualifier = t[i++];
    size_t name = i;
    while (i < len && isalnum((unsigned char)t[i]))
        i++;
    size_t k = 0, nmech = sizeof mechanisms / sizeof mechanisms[0];
    while (k < nmech && !(strlen(mechanisms[k].name) == i - name &&
                          strncasecmp(t + name, mechanisms[k].name, i - name) == 0))
        k++;
    if (k == nmech) {
        snprintf(err, errlen, "unknown mechanism in '%s'", q);
        return -1;
    }
    d->mechanism = mechanisms[k].m;
    const char *rest = t + i;
    size_t restlen = len - i;
    int bad = 0;
    switch (d->mechanism) {
    case SPF_ALL:
        bad = restlen != 0;
        break;
    case SPF_IP4:
    case SPF_IP6:
        bad = restlen < 2 || rest[0] != ':' ||
              parse_network(rest + 1, restlen - 1, d->mechanism == SPF_IP6, d) != 0;
        break;
    case SPF_A:
    case SPF_MX:
        if (strip_dual_cidr(rest, &restlen, d) != 0) {
            snprintf(err, errlen, "bad CIDR length in '%s'", q);
            return -1;
        }
        /* fall through */
    case SPF_PTR:
    case SPF_INCLUDE:
    case SPF_EXISTS:
        if (restlen == 0) {
            bad = d->mechanism == SPF_INCLUDE || d->mechanism == SPF_EXISTS;
            break;
        }
        if (rest[0] != ':') {
            bad = 1;
            break;
        }
        d->has_domain = true;
        d->domain = span(r, rest + 1, restlen - 1);
        char why[256];
        if (check_domain_spec(rest + 1, restlen - 1, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s in '%s'", why, q);
            return -1;
        }
        break;
    }
    if (bad) {
        snprintf(err, errlen, "malformed mechanism '%s'", q);
        return -1;
    }
    r->ndirectives++;
    return 0;
}

/* name "=" value, name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ): the length of name, or 0
 * when t is not a modifier. */
static size_t modifier_name(const char *t, size_t len)
{
    if (len == 0 || !isalpha((unsigned char)t[0]))
        return 0;
    size_t i = 1;
    while (i < len && (isalnum((unsigned char)t[i]) || strchr("-_.", t[i])) && t[i] != '\0')
        i++;
    return i < len && t[i] == '=' ? i : 0;
}

static int parse_modifier(struct spf_record *r, const char *t, size_t len, size_t name,
                          char *err, size_t errlen)
{
    char q[80], why[256];
    quote_term(t, len, q, sizeof q);
    const char *value = t + name + 1;
    size_t vlen = len - name - 1;
    bool redirect = name == 8 && strncasecmp(t, "redirect", 8) == 0;
    bool exp = name == 3 && strncasecmp(t, "exp", 3) == 0;
    if ((redirect && r->has_redirect) || (exp && r->has_exp)) {
        snprintf(err, errlen, "%s= given twice", redirect ? "redirect" : "exp");
        return -1;
    }
    int rc = redirect || exp
                 ? check_domain_spec(value, vlen, why, sizeof why)
                 : spf_macro_check(value, vlen, SPF_MACRO_DOMAIN, NULL, why, sizeof why);
    if (rc != 0) {
        snprintf(err, errlen, "%s in '%s'", why, q);
        return -1;
    }
    if (redirect) {
        r->has_redirect = true;
        r->redirect = span(r, value, vlen);
    } else if (exp) {
        r->has_exp = true;
        r->exp = span(r, value, vlen);
    }
    return 0;
}

int spf_record_parse(const char *txt, size_t len, struct spf_record *out, char *err,
                     size_t errlen)
{
    out->len = 0;
    out->ndirectives = 0;
    out->has_redirect = out->has_exp = false;
    if (len > SPF_RECORD_MAX) {
        snprintf(err, errlen, "record longer than %d bytes", SPF_RECORD_MAX);
        return -1;
    }
    if (!spf_record_is_spf1(txt, len)) {
        snprintf(err, errlen, "not an SPF version 1 record");
        return -1;
    }
    memcpy(out->text, txt, len);
    out->text[len] = '\0';
    out->len = len;
    size_t i = SPF1_LEN;
    while (i < len) {
        while (i < len && out->text[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && out->text[i] != ' ')
            i++;
        if (i == start)
            break;
        const char *t = out->text + start;
        size_t name = modifier_name(t, i - start);
        int rc = name ? parse_modifier(out, t, i - start, name, err, errlen)
                      : parse_directive(out, t, i - start, err, errlen);
        if (rc != 0)
            return -1;
    }
    return 0;
}
