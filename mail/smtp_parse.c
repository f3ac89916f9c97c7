/* smtp_parse.c: the SMTP command splitter, the strict RFC 5321 path parser and the ESMTP
 * parameter parsers (RFC 1870, 3030, 3461, 4954, 6152, 6531) of smtpd. Pure functions over
 * (pointer, length) buffers: no allocation, no global state, never a byte read past len. */
#include "smtp_parse.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "xtext.h"

/* Writes the reason of a failure; returns -1. */
static int fail(char *err, size_t errlen, const char *reason)
{
    snprintf(err, errlen, "%s", reason);
    return -1;
}

/* ---- character classes (ASCII only, independent of the locale) ---- */

static bool is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_letdig(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}

static unsigned char to_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* RFC 5322 atext */
static bool is_atext(unsigned char c)
{
    return is_letdig(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5321 qtextSMTP: ASCII graphic or space, except '"' and '\' */
static bool is_qtext(unsigned char c)
{
    return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

static bool ieq(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (to_lower((unsigned char)s[i]) != to_lower((unsigned char)word[i]))
            return false;
    return true;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), or 0 when the bytes there are not one. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    if (len == 0 || s[0] < 0xC2 || s[0] > 0xF4)
        return 0;
    size_t n = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return n;
}

/* ---- commands ---- */

static const struct {
    const char *name;
    enum smtp_verb verb;
} verbs[] = {
    {"HELO", SMTP_HELO}, {"EHLO", SMTP_EHLO}, {"MAIL", SMTP_MAIL}, {"RCPT", SMTP_RCPT},
    {"DATA", SMTP_DATA}, {"BDAT", SMTP_BDAT}, {"RSET", SMTP_RSET}, {"NOOP", SMTP_NOOP},
    {"QUIT", SMTP_QUIT}, {"VRFY", SMTP_VRFY}, {"EXPN", SMTP_EXPN}, {"HELP", SMTP_HELP},
    {"STARTTLS", SMTP_STARTTLS}, {"AUTH", SMTP_AUTH},
    {"SEND", SMTP_OBSOLETE}, {"SOML", SMTP_OBSOLETE}, {"SAML", SMTP_OBSOLETE},
    {"TURN", SMTP_OBSOLETE},
};

static enum smtp_verb lookup_verb(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (ieq(s, len, verbs[i].name))
            return verbs[i].verb;
    return SMTP_UNKNOWN;
}

void smtp_parse_command(const char *line, size_t len, struct smtp_command *out)
{
    size_t v = 0;
    while (v < len && line[v] != ' ')
        v++;
    out->verb = lookup_verb(line, v);
    size_t a = v;
    while (a < len && line[a] == ' ')
        a++;
    size_t end = len;
    while (end > a && (line[end - 1] == ' ' || line[end - 1] == '\t'))
        end--;
    out->args = end > a ? line + a : "";
    out->args_len = end - a;
}

/* ---- domains and address literals ---- */

/* One LDH label (or U-label bytes) at s: its length in *n. */
static int scan_label(const char *s, size_t len, size_t *n, bool *utf8, char *err, size_t errlen)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len && i <= 63) {
        if (is_letdig(u[i]) || u[i] == '-') {
            i++;
        } else if (u[i] >= 0x80) {
            size_t k = utf8_seq(u + i, len - i);
            if (k == 0)
                return fail(err, errlen, "invalid UTF-8 in domain");
            *utf8 = true;
            i += k;
        } else {
            break;
        }
    }
    if (i > 63)
        return fail(err, errlen, "domain label too long");
    if (i > 0 && (u[0] == '-' || u[i - 1] == '-'))
        return fail(err, errlen, "hyphen at the start or end of a domain label");
    *n = i;
    return 0;
}

static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_digit((unsigned char)s[i]))
            return false;
    return true;
}

/* A Domain (sub-domain *("." sub-domain)) at the start of s; stops at the first byte that
 * cannot continue it, which the caller checks. Consumed length in *n. An all-numeric last
 * label is refused (RFC 3696 section 2): a bare "1.2.3.4" must be written as a literal. */
static int scan_domain(const char *s, size_t len, size_t *n, bool *utf8, char *err, size_t errlen)
{
    size_t i = 0, label = 0;
    for (;;) {
        if (scan_label(s + i, len - i, &label, utf8, err, errlen) < 0)
            return -1;
        if (label == 0) {
            if (i == 0)
                snprintf(err, errlen, "missing domain");
            else if (i < len && s[i] == '.')
                snprintf(err, errlen, "empty domain label");
            else
                snprintf(err, errlen, "trailing dot in domain");
            return -1;
        }
        i += label;
        if (i > SMTP_DOMAIN_MAX)
            return fail(err, errlen, "domain too long");
        if (i >= len || s[i] != '.')
            break;
        i++;
    }
    if (all_digits(s + i - label, label))
        return fail(err, errlen, "numeric top-level domain");
    *n = i;
    return 0;
}

/* inet_pton over a bounded copy; the caller has checked the character set, so the copy holds
 * no NUL that could hide trailing bytes. Leading zeros in IPv4 parts are refused (inet_pton)
 * since inet_aton and friends read them as octal. */
static bool valid_ip(int af, const char *s, size_t len)
{
    char tmp[INET6_ADDRSTRLEN];
    unsigned char bin[sizeof(struct in6_addr)];
    if (len == 0 || len >= sizeof tmp)
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return inet_pton(af, tmp, bin) == 1;
}

static bool all_in(const char *s, size_t len, const char *set)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\0' || strchr(set, s[i]) == NULL)
            return false;
    return true;
}

/* An address literal "[...]" at s (s[0] == '['): consumed length, through ']', in *n. */
static int scan_literal(const char *s, size_t len, size_t *n, char *err, size_t errlen)
{
    size_t close = 1;
    while (close < len && close < SMTP_DOMAIN_MAX - 1 && s[close] != ']')
        close++;
    if (close >= len || s[close] != ']')
        return fail(err, errlen, close < len ? "domain too long" : "unterminated address literal");
    const char *c = s + 1;
    size_t clen = close - 1;
    bool ok;
    if (clen >= 5 && ieq(c, 5, "IPv6:")) {
        ok = all_in(c + 5, clen - 5, "0123456789abcdefABCDEF:.") &&
             valid_ip(AF_INET6, c + 5, clen - 5);
    } else if (memchr(c, ':', clen) != NULL) {
        return fail(err, errlen, "unsupported address literal");      /* General-address-literal */
    } else {
        ok = all_in(c, clen, "0123456789.") && valid_ip(AF_INET, c, clen);
    }
    if (!ok)
        return fail(err, errlen, "bad address literal");
    *n = close + 1;
    return 0;
}

/* Domain / address-literal at s, which must be followed by one of the bytes in `stops`, or,
 * when stops is "", must fill s exactly (HELO). */
static int scan_host(const char *s, size_t len, const char *stops, size_t *n, bool *literal,
                     bool *utf8, char *err, size_t errlen)
{
    int r;
    *literal = len > 0 && s[0] == '[';
    if (*literal)
        r = scan_literal(s, len, n, err, errlen);
    else
        r = scan_domain(s, len, n, utf8, err, errlen);
    if (r < 0)
        return -1;
    bool stopped = *n == len ? stops[0] == '\0'
                             : s[*n] != '\0' && strchr(stops, s[*n]) != NULL;
    if (!stopped) {
        if (*n < len && s[*n] == '@')
            snprintf(err, errlen, "more than one @");
        else
            snprintf(err, errlen, "%s",
                     *n < len ? "invalid character in domain" : "unterminated path");
        return -1;
    }
    return 0;
}

int smtp_parse_helo(const char *s, size_t len, char *err, size_t errlen)
{
    size_t n;
    bool literal, utf8 = false;
    if (len == 0)
        return fail(err, errlen, "missing domain");
    return scan_host(s, len, "", &n, &literal, &utf8, err, errlen);
}

/* ---- paths ---- */

/* A Dot-string local part (atext and UTF-8 atoms joined by single dots): length in *n. */
static int scan_dot_string(const char *s, size_t len, size_t *n, bool *utf8, char *err,
                           size_t errlen)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    bool after_dot = true;      /* at the start of an atom, where a dot is not allowed */
    while (i < len && i <= SMTP_LOCAL_MAX) {
        size_t k = 1;
        if (u[i] >= 0x80) {
            k = utf8_seq(u + i, len - i);
            if (k == 0)
                return fail(err, errlen, "invalid UTF-8 in local part");
            *utf8 = true;
        } else if (u[i] == '.' && after_dot) {
            return fail(err, errlen, "bad dot in local part");
        } else if (u[i] != '.' && !is_atext(u[i])) {
            break;
        }
        after_dot = u[i] == '.';
        i += k;
    }
    if (i > SMTP_LOCAL_MAX)
        return fail(err, errlen, "local part too long");
    if (after_dot)
        return fail(err, errlen, i == 0 ? "empty local part" : "bad dot in local part");
    *n = i;
    return 0;
}

/* A Quoted-string local part at s (s[0] == '"'); the SMTP_LOCAL_MAX bound counts the content
 * without the quotes and the escaping backslashes. */
static int scan_quoted(const char *s, size_t len, size_t *n, bool *utf8, char *err, size_t errlen)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 1, content = 0;
    while (i < len && u[i] != '"') {
        size_t k = 1;
        if (u[i] == '\\') {
            if (i + 1 >= len || u[i + 1] < 32 || u[i + 1] > 126)
                return fail(err, errlen, "bad quoted pair in local part");
            k = 2;
        } else if (u[i] >= 0x80) {
            k = utf8_seq(u + i, len - i);
            if (k == 0)
                return fail(err, errlen, "invalid UTF-8 in local part");
            *utf8 = true;
        } else if (!is_qtext(u[i]))
            return fail(err, errlen, "invalid character in quoted local part");
        content += u[i] == '\\' ? 1 : k;
        if (content > SMTP_LOCAL_MAX)
            return fail(err, errlen, "local part too long");
        i += k;
    }
    if (i >= len)
        return fail(err, errlen, "unterminated quoted local part");
    *n = i + 1;
    return 0;
}

/* The obsolete source route "@a,@b:" at s (s[0] == '@'), checked and skipped. */
static int scan_route(const char *s, size_t len, size_t *n, bool *utf8, char *err, size_t errlen)
{
    size_t i = 0;
    for (;;) {
        size_t d;
        bool literal;
        if (i >= len || s[i] != '@')
            return fail(err, errlen, "bad source route");
        i++;
        if (i < len && s[i] == '[')
            return fail(err, errlen, "bad source route");
        if (scan_host(s + i, len - i, ",:", &d, &literal, utf8, err, errlen) < 0)
            return fail(err, errlen, "bad source route");
        i += d;
        if (s[i++] == ':')
            break;
    }
    *n = i;
    return 0;
}

static void copy_out(char *dst, size_t size, const char *src, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* The Mailbox (or bare postmaster) from s to its closing '>'; fills local, domain, flags.
 * Returns the length through '>'. */
static int scan_mailbox(const char *s, size_t len, bool allow_bare_local,
                        struct smtp_address *out, char *err, size_t errlen)
{
    size_t lp, dom = 0;
    int r = s[0] == '"' ? scan_quoted(s, len, &lp, &out->utf8, err, errlen)
                        : scan_dot_string(s, len, &lp, &out->utf8, err, errlen);
    if (r < 0)
        return -1;
    out->quoted = s[0] == '"';
    if (lp < len && s[lp] == '>') {
        if (!allow_bare_local || out->quoted || out->source_route || !ieq(s, lp, "postmaster"))
            return fail(err, errlen, "missing domain");
    } else if (lp < len && s[lp] == '@') {
        if (scan_host(s + lp + 1, len - lp - 1, ">", &dom, &out->literal, &out->utf8, err,
                      errlen) < 0)
            return -1;
    } else {
        if (lp >= len)
            return fail(err, errlen, "unterminated path");
        return fail(err, errlen,
                    s[0] == '"' ? "bad local part" : "invalid character in local part");
    }
    copy_out(out->local, sizeof out->local, s, lp);
    copy_out(out->domain, sizeof out->domain, s + lp + 1, dom);
    return (int)(lp + (dom ? dom + 1 : 0) + 1);
}

static int parse_path(const char *s, size_t len, bool allow_null, bool allow_bare_local,
                      struct smtp_address *out, char *err, size_t errlen)
{
    if (len == 0 || s[0] != '<')
        return fail(err, errlen, "path must begin with <");
    if (len >= 2 && s[1] == '>') {
        if (!allow_null)
            return fail(err, errlen, "null path not allowed");
        out->null = true;
        return 2;
    }
    size_t i = 1;
    if (i < len && s[1] == '@') {
        size_t route;
        if (scan_route(s + 1, len - 1, &route, &out->utf8, err, errlen) < 0)
            return -1;
        out->source_route = true;
        i += route;
    }
    if (i >= len)
        return fail(err, errlen, "unterminated path");
    int mb = scan_mailbox(s + i, len - i, allow_bare_local, out, err, errlen);
    if (mb < 0)
        return -1;
    size_t end = i + (size_t)mb;        /* through '>' */
    if (end - 2 > SMTP_PATH_MAX)
        return fail(err, errlen, "path too long");
    if (out->domain[0] == '\0')
        copy_out(out->address, sizeof out->address, out->local, strlen(out->local));
    else
        copy_out(out->address, sizeof out->address, s + i, (size_t)mb - 1);
    return (int)end;
}

int smtp_parse_path(const char *s, size_t len, bool allow_null, bool allow_bare_local,
                    struct smtp_address *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int r = parse_path(s, len, allow_null, allow_bare_local, out, err, errlen);
    if (r < 0)
        memset(out, 0, sizeof *out);      /* no half-parsed address for a careless caller */
    return r;
}

/* ---- ESMTP parameters ---- */

struct param {
    const char *key;
    size_t key_len;
    const char *val;     /* NULL when there is no '=' */
    size_t val_len;
};

/* esmtp-keyword ["=" esmtp-value] at s, ending at a space or the end: length in *n. */
static int scan_param(const char *s, size_t len, struct param *p, size_t *n, char *err,
                      size_t errlen)
{
    size_t i = 0;
    while (i < len && (is_letdig((unsigned char)s[i]) || (i > 0 && s[i] == '-')))
        i++;
    if (i == 0)
        return fail(err, errlen, "bad parameter syntax");
    p->key = s;
    p->key_len = i;
    p->val = NULL;
    p->val_len = 0;
    if (i < len && s[i] == '=') {
        size_t v = ++i;
        while (i < len && s[i] != ' ') {
            unsigned char c = (unsigned char)s[i];
            if (c < 33 || c > 126 || c == '=')
                return fail(err, errlen, "bad parameter syntax");
            i++;
        }
        p->val = s + v;
        p->val_len = i - v;
    }
    if (i < len && s[i] != ' ')
        return fail(err, errlen, "bad parameter syntax");
    *n = i;
    return 0;
}

/* Calls fn for each parameter of s (which, when not empty, starts with a space). */
typedef int (*param_fn)(const struct param *p, void *out, unsigned *seen, char *err,
                        size_t errlen);

static int each_param(const char *s, size_t len, param_fn fn, void *out, char *err, size_t errlen)
{
    unsigned seen = 0;
    size_t i = 0;
    while (i < len) {
        if (s[i] != ' ')
            return fail(err, errlen, "bad parameter syntax");
        while (i < len && s[i] == ' ')
            i++;
        if (i == len)
            break;
        struct param p;
        size_t n;
        if (scan_param(s + i, len - i, &p, &n, err, errlen) < 0 ||
            fn(&p, out, &seen, err, errlen) < 0)
            return -1;
        i += n;
    }
    return 0;
}

static bool once(unsigned *seen, unsigned bit)
{
    if (*seen & bit)
        return false;
    *seen |= bit;
    return true;
}

static int parse_size(const char *v, size_t len, long long *size)
{
    long long x = 0;
    if (len == 0 || len > 20)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((unsigned char)v[i]))
            return -1;
        int d = v[i] - '0';
        if (x > (LLONG_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *size = x;
    return 0;
}

/* xtext-decodes v into out and checks the decoded bytes: printable ASCII (RFC 3461 for ENVID
 * and ORCPT), or also 8-bit when allow_8bit. */
static int decode_text(const struct param *p, char *out, size_t size, bool allow_8bit)
{
    int n = xtext_decode(p->val, p->val_len, out, size);
    if (n <= 0)
        return -1;
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c < 32 || c == 127 || (c > 127 && !allow_8bit))
            return -1;
    }
    return 0;
}

enum { M_SIZE = 1, M_BODY = 2, M_RET = 4, M_ENVID = 8, M_SMTPUTF8 = 16, M_AUTH = 32 };

static int mail_body(const struct param *p, struct mail_params *m, char *err, size_t errlen)
{
    if (ieq(p->val, p->val_len, "7BIT"))
        m->body = BODY_7BIT;
    else if (ieq(p->val, p->val_len, "8BITMIME"))
        m->body = BODY_8BITMIME;
    else if (ieq(p->val, p->val_len, "BINARYMIME"))
        m->body = BODY_BINARYMIME;
    else
        return fail(err, errlen, "bad BODY value");
    return 0;
}

static int mail_ret(const struct param *p, struct mail_params *m, char *err, size_t errlen)
{
    if (ieq(p->val, p->val_len, "FULL"))
        m->ret = RET_FULL;
    else if (ieq(p->val, p->val_len, "HDRS"))
        m->ret = RET_HDRS;
    else
        return fail(err, errlen, "bad RET value");
    return 0;
}

static int mail_auth(const struct param *p, struct mail_params *m, char *err, size_t errlen)
{
    if (decode_text(p, m->auth, sizeof m->auth, true) < 0)
        return fail(err, errlen, "bad AUTH value");
    m->has_auth = true;
    return 0;
}

/* One MAIL parameter: known keyword, at most once, and its value rule. */
static int mail_param(const struct param *p, void *vout, unsigned *seen, char *err, size_t errlen)
{
    static const struct {
        const char *key;
        unsigned bit;
    } keys[] = {{"SIZE", M_SIZE}, {"BODY", M_BODY}, {"RET", M_RET}, {"ENVID", M_ENVID},
                {"SMTPUTF8", M_SMTPUTF8}, {"AUTH", M_AUTH}};
    struct mail_params *m = vout;
    unsigned bit = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (ieq(p->key, p->key_len, keys[i].key))
            bit = keys[i].bit;
    if (bit == 0)
        return fail(err, errlen, "unknown parameter");
    if (!once(seen, bit))
        return fail(err, errlen, "duplicate parameter");
    if (bit == M_SMTPUTF8) {
        if (p->val != NULL)
            return fail(err, errlen, "SMTPUTF8 takes no value");
        m->smtputf8 = true;
        return 0;
    }
    if (p->val == NULL || p->val_len == 0)
        return fail(err, errlen, "missing parameter value");
    switch (bit) {
    case M_SIZE:
        if (parse_size(p->val, p->val_len, &m->size) < 0)
            return fail(err, errlen, "bad SIZE value");
        m->has_size = true;
        return 0;
    case M_BODY:
        return mail_body(p, m, err, errlen);
    case M_RET:
        return mail_ret(p, m, err, errlen);
    case M_ENVID:
        if (decode_text(p, m->envid, sizeof m->envid, false) < 0)
            return fail(err, errlen, "bad ENVID value");
        return 0;
    default:
        return mail_auth(p, m, err, errlen);
    }
}

int smtp_parse_mail_params(const char *s, size_t len, struct mail_params *out, char *err,
                           size_t errlen)
{
    memset(out, 0, sizeof *out);
    return each_param(s, len, mail_param, out, err, errlen);
}

/* NOTIFY=NEVER / SUCCESS,FAILURE,DELAY (any order, each once, NEVER alone). */
static int parse_notify(const char *v, size_t len, unsigned *notify)
{
    static const struct {
        const char *word;
        unsigned bit;
    } words[] = {{"NEVER", NOTIFY_NEVER}, {"SUCCESS", NOTIFY_SUCCESS},
                 {"FAILURE", NOTIFY_FAILURE}, {"DELAY", NOTIFY_DELAY}};
    unsigned bits = 0;
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < len && v[j] != ',')
            j++;
        unsigned bit = 0;
        for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
            if (ieq(v + i, j - i, words[k].word))
                bit = words[k].bit;
        if (bit == 0 || (bits & bit))
            return -1;
        bits |= bit;
        if (j == len)
            break;
        i = j + 1;
    }
    if ((bits & NOTIFY_NEVER) && bits != NOTIFY_NEVER)
        return -1;
    *notify = bits;
    return 0;
}

/* ORCPT=addr-type;xtext, addr-type an atom of at most 31 bytes. */
static int parse_orcpt(const struct param *p, struct rcpt_params *r)
{
    const char *semi = memchr(p->val, ';', p->val_len);
    if (semi == NULL)
        return -1;
    size_t tlen = (size_t)(semi - p->val);
    if (tlen == 0 || tlen >= sizeof r->orcpt_type)
        return -1;
    for (size_t i = 0; i < tlen; i++)
        if (!is_atext((unsigned char)p->val[i]))
            return -1;
    struct param addr = {p->key, p->key_len, semi + 1, p->val_len - tlen - 1};
    if (decode_text(&addr, r->orcpt, sizeof r->orcpt, false) < 0)
        return -1;
    copy_out(r->orcpt_type, sizeof r->orcpt_type, p->val, tlen);
    return 0;
}

enum { R_NOTIFY = 1, R_ORCPT = 2 };

static int rcpt_param(const struct param *p, void *vout, unsigned *seen, char *err, size_t errlen)
{
    struct rcpt_params *r = vout;
    unsigned bit = ieq(p->key, p->key_len, "NOTIFY") ? R_NOTIFY
                 : ieq(p->key, p->key_len, "ORCPT")  ? R_ORCPT
                                                     : 0;
    if (bit == 0)
        return fail(err, errlen, "unknown parameter");
    if (!once(seen, bit))
        return fail(err, errlen, "duplicate parameter");
    if (p->val == NULL || p->val_len == 0)
        return fail(err, errlen, "missing parameter value");
    if (bit == R_NOTIFY) {
        if (parse_notify(p->val, p->val_len, &r->notify) < 0)
            return fail(err, errlen, "bad NOTIFY value");
        return 0;
    }
    if (parse_orcpt(p, r) < 0) {
        r->orcpt_type[0] = r->orcpt[0] = '\0';
        return fail(err, errlen, "bad ORCPT value");
    }
    return 0;
}

int smtp_parse_rcpt_params(const char *s, size_t len, struct rcpt_params *out, char *err,
                           size_t errlen)
{
    memset(out, 0, sizeof *out);
    return each_param(s, len, rcpt_param, out, err, errlen);
}
