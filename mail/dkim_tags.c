/* dkim_tags.c: the tag-list parser of dkim_tags.h (RFC 6376 section 3.2) and the base64 of tag
 * values: encoded with libsodium's codec; decoded here, skipping the white space a folded b=
 * has, with libsodium's rules (padding required, no bits left over) but by table: libsodium's
 * decoder is constant-time, which public signatures and hashes do not need, and was a tenth
 * of the cost of checking a message. */
#include <sodium.h>
#include <string.h>
#include "dkim_tags.h"
#include "dkim.h"

static bool is_fws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_valchar(unsigned char c)
{
    return (c >= 0x21 && c <= 0x7e && c != ';') || c >= 0x80;
}

static size_t skip_fws(const char *p, size_t len, size_t i)
{
    while (i < len && is_fws((unsigned char)p[i]))
        i++;
    return i;
}

static int fail(char *err, size_t errlen, const char *what, size_t at)
{
    return dkim_reason(err, errlen, "tag list: %s at byte %zu", what, at);
}

/* One tag-spec from i, up to the ';' or the end: fills *tag; the offset after it. */
static long parse_spec(const char *p, size_t len, size_t i, struct dkim_tag *tag, char *err,
                       size_t errlen)
{
    tag->name = i;
    if (i >= len || !is_alpha((unsigned char)p[i]))
        return fail(err, errlen, "tag name expected", i);
    while (i < len && (is_alpha((unsigned char)p[i]) || (p[i] >= '0' && p[i] <= '9') ||
                       p[i] == '_'))
        i++;
    tag->name_len = i - tag->name;
    if (tag->name_len > DKIM_TAG_NAME_MAX)
        return fail(err, errlen, "tag name too long", tag->name);
    i = skip_fws(p, len, i);
    if (i >= len || p[i] != '=')
        return fail(err, errlen, "'=' expected", i);
    tag->eq = i;
    i = skip_fws(p, len, i + 1);
    tag->value = i;
    size_t last = i;   /* after the last value byte */
    while (i < len && p[i] != ';') {
        unsigned char c = (unsigned char)p[i];
        if (is_valchar(c))
            last = i + 1;
        else if (!is_fws(c))
            return fail(err, errlen, "bad byte in tag value", i);
        i++;
    }
    tag->value_len = last - tag->value;
    tag->end = i;
    return (long)i;
}

int dkim_tags_parse(const char *p, size_t len, struct dkim_tags *t, char *err, size_t errlen)
{
    t->p = p;
    t->n = 0;
    if (len > DKIM_TAG_LIST_MAX)
        return fail(err, errlen, "tag list too long", DKIM_TAG_LIST_MAX);
    size_t i = 0;
    for (;;) {
        i = skip_fws(p, len, i);
        if (i >= len)
            return 0;
        if (p[i] != ';') {
            if (t->n == DKIM_TAGS_MAX)
                return fail(err, errlen, "too many tags", i);
            struct dkim_tag *tag = &t->tag[t->n];
            long next = parse_spec(p, len, i, tag, err, errlen);
            if (next < 0)
                return -1;
            for (size_t k = 0; k < t->n; k++)
                if (t->tag[k].name_len == tag->name_len &&
                    memcmp(p + t->tag[k].name, p + tag->name, tag->name_len) == 0)
                    return fail(err, errlen, "duplicate tag", tag->name);
            t->n++;
            i = (size_t)next;
            if (i >= len)
                return 0;
        }
        i++;   /* the ';' */
    }
}

const struct dkim_tag *dkim_tags_find(const struct dkim_tags *t, const char *name)
{
    size_t n = strlen(name);
    for (size_t k = 0; k < t->n; k++)
        if (t->tag[k].name_len == n && memcmp(t->p + t->tag[k].name, name, n) == 0)
            return &t->tag[k];
    return NULL;
}

bool dkim_tag_value_is(const struct dkim_tags *t, const struct dkim_tag *tag, const char *s)
{
    return strlen(s) == tag->value_len && strncasecmp(t->p + tag->value, s, tag->value_len) == 0;
}

/* The value of a base64 digit, or -1. */
static int digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

long dkim_base64_decode(const char *v, size_t n, unsigned char *out, size_t max)
{
    unsigned acc = 0, bits = 0;
    size_t got = 0, chars = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (is_fws(c))
            continue;
        chars++;
        if (c == '=') {
            pad++;
            continue;
        }
        int d = digit(c);
        if (d < 0 || pad > 0)   /* not base64, or a digit after the padding */
            return -1;
        acc = ((acc << 6) | (unsigned)d) & 0xfff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (got == max)
                return -1;
            out[got++] = (unsigned char)(acc >> bits);
        }
    }
    /* whole quanta of four, at most two of them padding, which stands for the bits left */
    if (chars % 4 != 0 || pad > 2 || (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)got;
}

size_t dkim_base64_encode(const unsigned char *p, size_t n, char *out)
{
    sodium_bin2base64(out, DKIM_BASE64_LEN(n) + 1, p, n, sodium_base64_VARIANT_ORIGINAL);
    return DKIM_BASE64_LEN(n);
}
