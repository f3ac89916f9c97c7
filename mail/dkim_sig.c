/* dkim_sig.c: the DKIM-Signature reader of dkim_sig.h. Each tag is checked as RFC 6376
 * section 3.5 and the failure list of 6.1.1 say; tags it does not know are ignored (3.2). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "base64.h"
#include "dkim_sig.h"
#include "dkim_tags.h"

static int perm(enum dkim_result *result, char *err, size_t errlen, const char *what)
{
    *result = DKIM_PERMERROR;
    return dkim_reason(err, errlen, "%s", what);
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A domain name (d=, the domain of i=) or selector: dot-separated labels of letters, digits,
 * '-' and '_', copied to out[0..size) in lower case when fold. */
static bool copy_name(const char *v, size_t n, char *out, size_t size, bool fold)
{
    if (n == 0 || n >= size || v[0] == '.' || v[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || (c == '.' && v[i + 1] != '.');
        if (!ok)
            return false;
        out[i] = fold ? lower(c) : c;
    }
    out[n] = '\0';
    return true;
}

/* A decimal number of at most 19 digits (no sign, no white space). */
static bool read_number(const char *v, size_t n, unsigned long long *out)
{
    if (n == 0 || n > 19)
        return false;
    unsigned long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (unsigned)(v[i] - '0');
    }
    *out = x;
    return true;
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* h=: names separated by ':', white space around each; every name printable ASCII without
 * ':' (RFC 5322 ftext) and not empty. */
static int read_headers(const char *v, size_t n, struct dkim_signature *sig)
{
    sig->header_count = 0;
    size_t i = 0;
    for (;;) {
        while (i < n && is_wsp(v[i]))
            i++;
        size_t start = i;
        while (i < n && v[i] > 32 && v[i] < 127 && v[i] != ':')
            i++;
        size_t len = i - start;
        while (i < n && is_wsp(v[i]))
            i++;
        if (len == 0 || len >= DKIM_FIELD_NAME_MAX || (i < n && v[i] != ':'))
            return -1;
        if (sig->header_count == DKIM_HEADERS_MAX)
            return -1;
        memcpy(sig->headers[sig->header_count], v + start, len);
        sig->headers[sig->header_count++][len] = '\0';
        if (i >= n)
            return 0;
        i++;   /* the ':' */
    }
}

static bool signs_from(const struct dkim_signature *sig)
{
    for (size_t k = 0; k < sig->header_count; k++)
        if (strcasecmp(sig->headers[k], "from") == 0)
            return true;
    return false;
}

/* i=: [local-part] "@" domain, the domain d= or a subdomain of it (RFC 6376 3.5) */
static int read_identity(const char *v, size_t n, struct dkim_signature *sig,
                         enum dkim_result *result, char *err, size_t errlen)
{
    const char *at = NULL;
    for (size_t k = 0; k < n; k++)
        if (v[k] == '@')
            at = v + k;
    if (at == NULL || n >= sizeof sig->identity)
        return perm(result, err, errlen, "bad i= tag");
    memcpy(sig->identity, v, n);
    sig->identity[n] = '\0';
    size_t local = (size_t)(at - v);
    char domain[DKIM_DOMAIN_MAX];
    if (!copy_name(at + 1, n - local - 1, domain, sizeof domain, true))
        return perm(result, err, errlen, "bad i= tag");
    memcpy(sig->identity + local + 1, domain, n - local - 1);   /* kept in lower case */
    memcpy(sig->identity_domain, domain, n - local);
    size_t dl = strlen(sig->domain), il = strlen(domain);
    if (!(il == dl && strcmp(domain, sig->domain) == 0) &&
        !(il > dl && domain[il - dl - 1] == '.' && strcmp(domain + il - dl, sig->domain) == 0))
        return perm(result, err, errlen, "i= domain not within d=");
    return 0;
}

/* c=: header[/body], each simple or relaxed */
static bool read_canon(const char *v, size_t n, struct dkim_signature *sig)
{
    const char *slash = memchr(v, '/', n);
    size_t hn = slash ? (size_t)(slash - v) : n;
    enum dkim_canon c[2] = { DKIM_CANON_SIMPLE, DKIM_CANON_SIMPLE };
    const char *part[2] = { v, slash ? slash + 1 : NULL };
    size_t len[2] = { hn, slash ? n - hn - 1 : 0 };
    for (int k = 0; k < 2 && part[k]; k++) {
        if (len[k] == 6 && strncasecmp(part[k], "simple", 6) == 0)
            c[k] = DKIM_CANON_SIMPLE;
        else if (len[k] == 7 && strncasecmp(part[k], "relaxed", 7) == 0)
            c[k] = DKIM_CANON_RELAXED;
        else
            return false;
    }
    sig->header_canon = c[0];
    sig->body_canon = c[1];
    return true;
}

/* q=: a ':' list of methods, one of which must be dns/txt */
static bool query_ok(const char *v, size_t n)
{
    size_t i = 0;
    while (i <= n) {
        size_t start = i;
        while (i < n && v[i] != ':')
            i++;
        const char *m = v + start;
        size_t len = i - start;
        while (len > 0 && is_wsp(*m))
            m++, len--;
        while (len > 0 && is_wsp(m[len - 1]))
            len--;
        if (len == 7 && strncasecmp(m, "dns/txt", 7) == 0)
            return true;
        i++;
    }
    return false;
}

static bool read_alg(const struct dkim_tags *t, const struct dkim_tag *a, enum dkim_alg *alg)
{
    if (dkim_tag_value_is(t, a, "rsa-sha256"))
        *alg = DKIM_ALG_RSA_SHA256;
    else if (dkim_tag_value_is(t, a, "ed25519-sha256"))
        *alg = DKIM_ALG_ED25519_SHA256;
    else if (dkim_tag_value_is(t, a, "rsa-sha1"))
        *alg = DKIM_ALG_RSA_SHA1;
    else
        return false;
    return true;
}

/* t= and x= (section 3.5: x= not before t=) and now */
static int read_times(const struct dkim_tags *t, long long now, struct dkim_signature *sig,
                      enum dkim_result *result, char *err, size_t errlen)
{
    const struct dkim_tag *ts = dkim_tags_find(t, "t"), *xs = dkim_tags_find(t, "x");
    unsigned long long v;
    if (ts) {
        if (!read_number(t->p + ts->value, ts->value_len, &v) || v > (1ULL << 62))
            return perm(result, err, errlen, "bad t= tag");
        sig->has_timestamp = true;
        sig->timestamp = (long long)v;
    }
    if (xs) {
        if (!read_number(t->p + xs->value, xs->value_len, &v) || v > (1ULL << 62))
            return perm(result, err, errlen, "bad x= tag");
        sig->has_expiry = true;
        sig->expiry = (long long)v;
        if (sig->has_timestamp && sig->expiry < sig->timestamp)
            return perm(result, err, errlen, "x= before t=");
        if (sig->expiry < now) {
            *result = DKIM_FAIL;
            return dkim_reason(err, errlen, "signature expired");
        }
    }
    return 0;
}

int dkim_sig_parse(const char *value, size_t len, long long now, struct dkim_signature *sig,
                   enum dkim_result *result, char *err, size_t errlen)
{
    static const char *const required[] = { "v", "a", "b", "bh", "d", "h", "s" };
    struct dkim_tags t;
    memset(sig, 0, sizeof *sig);
    if (dkim_tags_parse(value, len, &t, err, errlen) < 0) {
        *result = DKIM_PERMERROR;
        return -1;
    }
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++)
        if (dkim_tags_find(&t, required[k]) == NULL) {
            char what[64];
            snprintf(what, sizeof what, "signature missing required tag %s=", required[k]);
            return perm(result, err, errlen, what);
        }
    const struct dkim_tag *tag = dkim_tags_find(&t, "v");
    if (tag->value_len != 1 || value[tag->value] != '1')
        return perm(result, err, errlen, "incompatible version");
    if (!read_alg(&t, dkim_tags_find(&t, "a"), &sig->alg))
        return perm(result, err, errlen, "unsupported algorithm");
    if ((tag = dkim_tags_find(&t, "c")) && !read_canon(value + tag->value, tag->value_len, sig))
        return perm(result, err, errlen, "unsupported canonicalization");
    tag = dkim_tags_find(&t, "d");
    if (!copy_name(value + tag->value, tag->value_len, sig->domain, sizeof sig->domain, true))
        return perm(result, err, errlen, "bad d= tag");
    tag = dkim_tags_find(&t, "s");
    if (!copy_name(value + tag->value, tag->value_len, sig->selector, sizeof sig->selector,
                   false))
        return perm(result, err, errlen, "bad s= tag");
    tag = dkim_tags_find(&t, "h");
    if (read_headers(value + tag->value, tag->value_len, sig) < 0)
        return perm(result, err, errlen, "bad h= tag");
    if (!signs_from(sig))
        return perm(result, err, errlen, "From field not signed");
    tag = dkim_tags_find(&t, "bh");
    long n = base64_decode(value + tag->value, tag->value_len, sig->bh, sizeof sig->bh, true);
    if (n <= 0)
        return perm(result, err, errlen, "bad bh= tag");
    sig->bh_len = (size_t)n;
    tag = dkim_tags_find(&t, "b");
    n = base64_decode(value + tag->value, tag->value_len, sig->b, sizeof sig->b, true);
    if (n <= 0)
        return perm(result, err, errlen, "bad b= tag");
    sig->b_len = (size_t)n;
    if ((tag = dkim_tags_find(&t, "i"))) {
        if (read_identity(value + tag->value, tag->value_len, sig, result, err, errlen) < 0)
            return -1;
    } else {
        snprintf(sig->identity, sizeof sig->identity, "@%s", sig->domain);
        memcpy(sig->identity_domain, sig->domain, sizeof sig->domain);
    }
    if ((tag = dkim_tags_find(&t, "l"))) {
        if (!read_number(value + tag->value, tag->value_len, &sig->length))
            return perm(result, err, errlen, "bad l= tag");
        sig->has_length = true;
    }
    if ((tag = dkim_tags_find(&t, "q")) && !query_ok(value + tag->value, tag->value_len))
        return perm(result, err, errlen, "unsupported query method");
    return read_times(&t, now, sig, result, err, errlen);
}

int dkim_sig_without_b(const char *field, size_t len, struct buf *out)
{
    const char *colon = memchr(field, ':', len);
    if (colon == NULL)
        return -1;
    size_t v = (size_t)(colon + 1 - field);
    struct dkim_tags t;
    if (dkim_tags_parse(field + v, len - v, &t, NULL, 0) < 0)
        return -1;
    const struct dkim_tag *b = dkim_tags_find(&t, "b");
    if (b == NULL)
        return -1;
    size_t keep_to = v + b->eq + 1, resume = v + b->end;
    /* the line end after a final b= is no part of the tag: it stays */
    if (resume == len) {
        while (resume > keep_to && (field[resume - 1] == '\n' || field[resume - 1] == '\r'))
            resume--;
    }
    size_t mark = out->len;
    if (buf_append(out, field, keep_to) < 0 ||
        buf_append(out, field + resume, len - resume) < 0) {
        buf_truncate(out, mark);
        return -1;
    }
    return 0;
}
