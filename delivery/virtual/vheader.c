/* vheader.c: the lines the virtual agent prepends to a message and the Delivered-To: loop check
 * (see vheader.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "vheader.h"

#define FIELD_VALUE_MAX 1024   /* longer Delivered-To: values cannot equal an address */

/* Appends s with every control character (CR and LF too) turned into '?'. */
static int put_clean(struct buf *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (buf_putc(out, c < 0x20 || c == 0x7f ? '?' : (char)c) < 0)
            return -1;
    }
    return 0;
}

static int put_line(struct buf *out, const char *name, const char *open, const char *value,
                    const char *close)
{
    if (buf_puts(out, name) < 0 || buf_puts(out, open) < 0 || put_clean(out, value) < 0 ||
        buf_puts(out, close) < 0)
        return -1;
    return buf_puts(out, "\r\n");
}

int vheader_build(struct buf *out, const char *sender, const char *rcpt, const char *orig)
{
    if (strncasecmp(orig, "rfc822;", 7) == 0)
        orig += 7;
    orig += strspn(orig, " \t");
    if (put_line(out, "Return-Path: ", "<", sender, ">") < 0 ||
        put_line(out, "Delivered-To: ", "", rcpt, "") < 0)
        return -1;
    if (orig[0] && put_line(out, "X-Original-To: ", "", orig, "") < 0)
        return -1;
    return 0;
}

/* The line at p[0..end): its length without the line end. */
static size_t line_len(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    *next = nl ? nl + 1 : end;
    size_t n = (size_t)(stop - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    return n;
}

/* Whether the collected field value, trimmed, is rcpt. */
static bool value_is(const char *v, size_t n, const char *rcpt)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return n == strlen(rcpt) && strncasecmp(v, rcpt, n) == 0;
}

bool vheader_loop(const char *content, size_t len, const char *rcpt)
{
    static const char name[] = "delivered-to:";
    const size_t name_len = sizeof name - 1;
    const char *p = content, *end = content + len, *next;
    char value[FIELD_VALUE_MAX];
    size_t vlen = 0;
    bool in_field = false, overflow = false;

    while (p < end) {
        size_t n = line_len(p, end, &next);
        bool continuation = n > 0 && (p[0] == ' ' || p[0] == '\t');
        if (in_field && !continuation) {
            if (!overflow && value_is(value, vlen, rcpt))
                return true;
            in_field = false;
        }
        if (n == 0)
            break;   /* the empty line that ends the header */
        const char *text = NULL;
        size_t tlen = 0;
        if (continuation && in_field) {
            text = p;
            tlen = n;
        } else if (!continuation && n >= name_len && strncasecmp(p, name, name_len) == 0) {
            in_field = true;
            overflow = false;
            vlen = 0;
            text = p + name_len;
            tlen = n - name_len;
        }
        if (text) {
            if (vlen + tlen >= sizeof value) {
                overflow = true;
            } else {
                memcpy(value + vlen, text, tlen);
                vlen += tlen;
            }
        }
        p = next;
    }
    return in_field && !overflow && value_is(value, vlen, rcpt);
}
