/* dkim_tags.c: the tag-list parser of dkim_tags.h (RFC 6376 section 3.2). */
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

