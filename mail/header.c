/* header.c: the Delivered-To: loop check (on the fields header_scanner.c finds), the prepended
 * header lines and line-end conversion of header.h. */
#include "header.h"

#include <string.h>
#include <strings.h>
#include "header_scanner.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Compares a Delivered-To: value (with folding white space, maybe in <>) with rcpt. */
static bool value_is(const char *v, size_t n, const char *rcpt)
{
    while (n > 0 && is_space(*v)) {
        v++;
        n--;
    }
    while (n > 0 && is_space(v[n - 1]))
        n--;
    if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
        v++;
        n -= 2;
    }
    return n == strlen(rcpt) && strncasecmp(v, rcpt, n) == 0;
}

bool header_has_delivered_to(const char *msg, size_t len, const char *rcpt)
{
    struct header_fields it;
    struct header_field f;
    header_fields_init(&it, msg, len);
    while (header_fields_next(&it, &f))
        if (f.name == HEADER_DELIVERED_TO && value_is(msg + f.value, f.end - f.value, rcpt))
            return true;
    return false;
}

static int put_value(struct buf *out, const char *name, const char *pre, const char *v,
                     const char *post, bool lower)
{
    int rc = buf_puts(out, name) | buf_puts(out, pre);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        char c = (char)*p;
        if (*p < 0x20 || *p == 0x7f)
            c = '?';
        else if (lower && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        rc |= buf_putc(out, c);
    }
    return rc | buf_puts(out, post) | buf_putc(out, '\n');
}

int header_prepend(struct buf *out, const char *sender, const char *rcpt, const char *orig)
{
    size_t mark = out->len;
    int rc = put_value(out, "Return-Path: ", "<", sender, ">", false) |
             put_value(out, "Delivered-To: ", "", rcpt, "", true) |
             put_value(out, "X-Original-To: ", "", orig, "", false);
    if (rc < 0)
        buf_truncate(out, mark);
    return rc < 0 ? -1 : 0;
}

int text_to_lf(const char *p, size_t n, struct buf *out)
{
    size_t start = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == '\r' && p[i + 1] == '\n') {
            if (buf_append(out, p + start, i - start) < 0)
                return -1;
            start = i + 1;
        }
    }
    return buf_append(out, p + start, n - start);
}

void text_printable(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
}
