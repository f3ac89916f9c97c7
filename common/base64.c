/* base64.c: the codec of base64.h. Not constant-time: a client's own AUTH response is the only
 * secret it decodes, and its timing is lost in the network and the password hash after it. */
#include "base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const unsigned char *p, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        size_t left = n - i;
        unsigned long v = (unsigned long)p[i] << 16;
        if (left > 1)
            v |= (unsigned long)p[i + 1] << 8;
        if (left > 2)
            v |= p[i + 2];
        out[k++] = alphabet[v >> 18 & 63];
        out[k++] = alphabet[v >> 12 & 63];
        out[k++] = left > 1 ? alphabet[v >> 6 & 63] : '=';
        out[k++] = left > 2 ? alphabet[v & 63] : '=';
    }
    out[k] = '\0';
    return k;
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

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

long base64_decode(const char *in, size_t n, unsigned char *out, size_t max, bool skip_space)
{
    unsigned acc = 0, bits = 0;
    size_t got = 0, chars = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (skip_space && is_space(c))
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
