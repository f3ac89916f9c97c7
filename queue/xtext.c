/* xtext.c: the xtext codec of xtext.h (RFC 3461 §4), shared by the SMTP parameter parser, the
 * queue file writers, qmgr and the smtp client, so the DSN values are encoded one way. */
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include "xtext.h"

/* xchar: the bytes that stand for themselves */
static bool is_xchar(unsigned char c)
{
    return c >= 33 && c <= 126 && c != '+' && c != '=';
}

/* Only upper-case hex digits: RFC 3461's hexchar. */
static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int xtext_decode(const char *s, size_t len, char *out, size_t size)
{
    size_t o = 0;
    if (size == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            if (len - i < 3)
                return -1;
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (!is_xchar(c)) {
            return -1;
        }
        if (o + 1 >= size || o >= INT_MAX)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (int)o;
}

int xtext_encode(const char *s, size_t len, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    if (size == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t need = is_xchar(c) ? 1 : 3;
        if (o + need >= size || o + need > INT_MAX)
            return -1;
        if (need == 1) {
            out[o++] = (char)c;
        } else {
            out[o++] = '+';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return (int)o;
}

int xtext_orcpt(const char *type, const char *address, char *out, size_t size)
{
    size_t t = strlen(type);
    int n = -1;
    if (t + 1 < size && t + 1 < INT_MAX) {
        memcpy(out, type, t);
        out[t] = ';';
        n = xtext_encode(address, strlen(address), out + t + 1, size - t - 1);
    }
    if (n < 0 || (size_t)n > INT_MAX - t - 1) {
        if (size)
            out[0] = '\0';   /* never half a value */
        return -1;
    }
    return (int)(t + 1) + n;
}
