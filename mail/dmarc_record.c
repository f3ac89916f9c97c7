/* dmarc_record.c: the DMARC policy record (RFC 7489 §6.3, §6.4; np= of DMARCbis), the pick of
 * the one DMARC record among TXT records, and the RFC5322.From domain (§6.6.1). Pure: no I/O,
 * no globals. The record is DKIM's tag-value list (RFC 6376 §3.2). */
#include "dmarc_record.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "addrlist.h"
#include "address.h"
#include "errtext.h"

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* the span [p, e) without white space at either end */
static void trim(const char **p, const char **e)
{
    while (*p < *e && is_wsp(**p))
        (*p)++;
    while (*e > *p && is_wsp((*e)[-1]))
        (*e)--;
}

static bool span_is(const char *p, const char *e, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(e - p) == n && strncasecmp(p, word, n) == 0;
}

bool dmarc_record_is_dmarc(const char *text, size_t len)
{
    const char *p = text, *e = text + len;
    if (p == e || (*p != 'v' && *p != 'V'))
        return false;
    p++;
    while (p < e && is_wsp(*p))
        p++;
    if (p == e || *p++ != '=')
        return false;
    while (p < e && is_wsp(*p))
        p++;
    /* the version is %x44.4d.41.52.43.31 in the ABNF: case matters */
    if ((size_t)(e - p) < 6 || memcmp(p, "DMARC1", 6) != 0)
        return false;
    p += 6;
    while (p < e && is_wsp(*p))
        p++;
    return p == e || *p == ';';
}

static enum dmarc_policy policy_of(const char *p, const char *e)
{
    if (span_is(p, e, "none"))
        return DMARC_POLICY_NONE;
    if (span_is(p, e, "quarantine"))
        return DMARC_POLICY_QUARANTINE;
    if (span_is(p, e, "reject"))
        return DMARC_POLICY_REJECT;
    return DMARC_POLICY_UNSET;
}

/* one URI of a dmarc-uri list: scheme ":" something, then an optional "!" size limit */
static bool uri_valid(const char *p, const char *e)
{
    trim(&p, &e);
    const char *bang = memchr(p, '!', (size_t)(e - p));
    if (bang != NULL) {
        const char *s = bang + 1;
        if (s == e || !is_digit(*s))
            return false;
        while (s < e && is_digit(*s))
            s++;
        if (s < e && strchr("kmgtKMGT", *s) != NULL)
            s++;
        if (s != e)
            return false;
        e = bang;
    }
    if (p == e || !is_alpha(*p))
        return false;
    const char *q = p;
    while (q < e && (is_alpha(*q) || is_digit(*q) || *q == '+' || *q == '-' || *q == '.'))
        q++;
    if (q == e || *q != ':' || q + 1 == e)
        return false;
    for (q++; q < e; q++)
        if (is_wsp(*q))
            return false;
    return true;
}

/* a comma-separated list with at least one valid URI (the invalid ones are the receiver's to
 * skip when it sends reports) */
static bool uri_list_valid(const char *p, const char *e)
{
    for (;;) {
        const char *c = memchr(p, ',', (size_t)(e - p));
        if (uri_valid(p, c ? c : e))
            return true;
        if (c == NULL)
            return false;
        p = c + 1;
    }
}

static void keep_uris(char out[DMARC_URIS_MAX], const char *p, const char *e)
{
    if (uri_list_valid(p, e) && (size_t)(e - p) < DMARC_URIS_MAX) {
        memcpy(out, p, (size_t)(e - p));
        out[e - p] = '\0';
    }
}

/* fo: "0", "1", "d", "s" separated by ":" (white space allowed around them) */
static bool fo_valid(const char *p, const char *e)
{
    for (;;) {
        const char *c = memchr(p, ':', (size_t)(e - p));
        const char *a = p, *b = c ? c : e;
        trim(&a, &b);
        if (b - a != 1 || strchr("01dsDS", *a) == NULL)
            return false;
        if (c == NULL)
            return true;
        p = c + 1;
    }
}

/* a decimal number no larger than max, or -1 */
static long number_of(const char *p, const char *e, long max)
{
    if (p == e)
        return -1;
    long n = 0;
    for (; p < e; p++) {
        if (!is_digit(*p))
            return -1;
        n = n * 10 + (*p - '0');
        if (n > max)
            return -1;
    }
    return n;
}

/* the tags this parser knows, as bits, to find one given twice */
static const char *const known_tags[] = {
    "v", "p", "sp", "np", "adkim", "aspf", "pct", "rua", "ruf", "fo", "ri", "rf",
};
#define KNOWN_TAGS (sizeof known_tags / sizeof known_tags[0])

static int tag_index(const char *p, const char *e)
{
    for (size_t i = 0; i < KNOWN_TAGS; i++)
        if (span_is(p, e, known_tags[i]))
            return (int)i;
    return -1;
}

/* the value of a known tag, into rec; p_state/sp_state note a p=/sp= that was invalid */
static void apply_tag(int tag, const char *v, const char *ve, struct dmarc_record *rec,
                      bool *p_bad, bool *sp_bad)
{
    const char *name = known_tags[tag];
    long n;
    if (strcmp(name, "p") == 0) {
        rec->p = policy_of(v, ve);
        *p_bad = rec->p == DMARC_POLICY_UNSET;
    } else if (strcmp(name, "sp") == 0) {
        rec->sp = policy_of(v, ve);
        *sp_bad = rec->sp == DMARC_POLICY_UNSET;
    } else if (strcmp(name, "np") == 0) {
        rec->np = policy_of(v, ve);   /* an invalid np= is as if absent: sp= or p= applies */
    } else if (strcmp(name, "adkim") == 0 || strcmp(name, "aspf") == 0) {
        enum dmarc_alignment *a = name[1] == 'd' ? &rec->adkim : &rec->aspf;
        *a = span_is(v, ve, "s") ? DMARC_ALIGN_STRICT : DMARC_ALIGN_RELAXED;
    } else if (strcmp(name, "pct") == 0) {
        n = number_of(v, ve, 100);
        rec->pct = n < 0 ? 100 : (int)n;
    } else if (strcmp(name, "ri") == 0) {
        n = number_of(v, ve, 0xffffffffL);
        rec->ri = n < 0 ? 86400 : (unsigned long)n;
    } else if (strcmp(name, "fo") == 0) {
        if (fo_valid(v, ve) && (size_t)(ve - v) < sizeof rec->fo) {
            memcpy(rec->fo, v, (size_t)(ve - v));
            rec->fo[ve - v] = '\0';
        }
    } else if (strcmp(name, "rua") == 0) {
        keep_uris(rec->rua, v, ve);
    } else if (strcmp(name, "ruf") == 0) {
        keep_uris(rec->ruf, v, ve);
    }
    /* rf= (report format) has one value, afrf, which is what a report uses anyway */
}

static void record_defaults(struct dmarc_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->p = DMARC_POLICY_UNSET;
    rec->sp = rec->np = DMARC_POLICY_UNSET;
    rec->adkim = rec->aspf = DMARC_ALIGN_RELAXED;
    rec->pct = 100;
    rec->ri = 86400;
    snprintf(rec->fo, sizeof rec->fo, "0");
}

int dmarc_record_parse(const char *text, size_t len, struct dmarc_record *out, char *err,
                       size_t errlen)
{
    record_defaults(out);
    if (!dmarc_record_is_dmarc(text, len))
        return 0;
    if (len > DMARC_RECORD_MAX) {
        errtext_setf(err, errlen, "DMARC record", "", "longer than %d bytes", DMARC_RECORD_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x21 || c > 0x7e) && !is_wsp((char)c)) {
            errtext_setf(err, errlen, "DMARC record", "", "control or 8-bit byte 0x%02x", c);
            return -1;
        }
    }
    unsigned seen = 0;
    bool p_bad = true, sp_bad = false;
    const char *p = text, *e = text + len;
    while (p < e) {
        const char *semi = memchr(p, ';', (size_t)(e - p));
        const char *end = semi ? semi : e;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *a = p, *b = end;
        trim(&a, &b);
        p = semi ? semi + 1 : e;
        if (a == b)
            continue;   /* an empty element */
        if (eq == NULL) {
            errtext_setf(err, errlen, "DMARC record", "", "a tag without \"=\": %.*s",
                         (int)(b - a > 40 ? 40 : b - a), a);
            return -1;
        }
        const char *n = a, *ne = eq, *v = eq + 1, *ve = b;
        trim(&n, &ne);
        trim(&v, &ve);
        bool name_ok = n < ne && is_alpha(*n);
        for (const char *q = n; name_ok && q < ne; q++)
            name_ok = is_alpha(*q) || is_digit(*q) || *q == '_';
        if (!name_ok) {
            errtext_setf(err, errlen, "DMARC record", "", "bad tag name: %.*s",
                         (int)(ne - n > 40 ? 40 : ne - n), n);
            return -1;
        }
        int tag = tag_index(n, ne);
        if (tag < 0)
            continue;   /* unknown tags are ignored (§6.3) */
        if (seen & (1u << tag)) {
            errtext_setf(err, errlen, "DMARC record", "", "tag %s given twice", known_tags[tag]);
            return -1;
        }
        seen |= 1u << tag;
        apply_tag(tag, v, ve, out, &p_bad, &sp_bad);
    }
    if (p_bad || sp_bad) {
        /* §6.6.3: no valid p= (or an invalid sp=): with a valid rua= it is "v=DMARC1; p=none" */
        if (out->rua[0] == '\0') {
            errtext_setf(err, errlen, "DMARC record", "", "%s",
                         p_bad ? "no valid p= tag" : "invalid sp= tag");
            return -1;
        }
        out->p = DMARC_POLICY_NONE;
        out->sp = out->np = DMARC_POLICY_UNSET;
        out->p_defaulted = true;
    }
    return 1;
}

int dmarc_record_pick(const char *const *texts, const size_t *lens, size_t count, size_t *index)
{
    size_t found = 0;
    for (size_t i = 0; i < count; i++) {
        if (dmarc_record_is_dmarc(texts[i], lens[i])) {
            if (found++ == 0)
                *index = i;
        }
    }
    return found == 1;
}

/* ---- the RFC5322.From domain ---- */

struct from_scan {
    int count;
    bool bad;
    char first[ADDRLIST_ADDR_MAX + 1];
};

static int from_cb(const char *addr, int bad, void *arg)
{
    struct from_scan *s = arg;
    if (bad)
        s->bad = true;
    else if (s->count++ == 0)
        snprintf(s->first, sizeof s->first, "%s", addr);
    return 0;
}

/* a domain name: labels of letters, digits, '-' and '_' (8-bit bytes too: U-labels), each 1-63
 * long, at most 253 in all; folded into out without a final dot */
static bool domain_fold(const char *d, char out[DMARC_DOMAIN_MAX])
{
    size_t n = strlen(d);
    if (n > 0 && d[n - 1] == '.')
        n--;
    if (n == 0 || n > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (is_alpha((char)c) || is_digit((char)c) || c == '-' || c == '_' || c >= 0x80) {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[n] = '\0';
    return label > 0;
}

enum dmarc_from dmarc_from_domain(const char *value, size_t len, char domain[DMARC_DOMAIN_MAX])
{
    struct from_scan s = { 0, false, "" };
    domain[0] = '\0';
    addrlist_parse(value, len, from_cb, &s);
    if (s.bad)
        return DMARC_FROM_BAD;
    if (s.count == 0)
        return DMARC_FROM_NONE;
    if (s.count > 1)
        return DMARC_FROM_SEVERAL;
    const char *at = address_at(s.first);
    if (at == NULL || at[1] == '\0')
        return DMARC_FROM_NO_DOMAIN;
    if (!domain_fold(at + 1, domain)) {
        domain[0] = '\0';
        return DMARC_FROM_BAD;
    }
    return DMARC_FROM_OK;
}

const char *dmarc_from_text(enum dmarc_from f)
{
    switch (f) {
    case DMARC_FROM_OK: return "ok";
    case DMARC_FROM_NONE: return "no address";
    case DMARC_FROM_SEVERAL: return "several addresses";
    case DMARC_FROM_NO_DOMAIN: return "no domain";
    case DMARC_FROM_BAD: break;
    }
    return "malformed address";
}
