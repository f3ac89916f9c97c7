/* base64.h: base64 (RFC 4648 section 4, padded), the one codec of tern: SMTP AUTH's exchanges
 * and DKIM's b=, bh= and p= values. Pure, over a buffer, bounded by the caller's sizes. */
#ifndef TERN_BASE64_H
#define TERN_BASE64_H
#include <stdbool.h>
#include <stddef.h>

/* The length of the encoding of n bytes (without the NUL). */
#define BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* Writes the encoding of p[0..n) and a NUL to out, which has room for BASE64_LEN(n) + 1
 * bytes. Returns the length written. */
size_t base64_encode(const unsigned char *p, size_t n, char *out);

/* Decodes in[0..n) into out[0..max): whole quanta of four digits, padding only at the end,
 * the bits the padding leaves unused zero (one encoding for each value). With skip_space,
 * SP, HTAB, CR and LF anywhere are ignored (DKIM's folded values). The length decoded, or -1
 * when in is no such base64 or decodes to more than max bytes. */
long base64_decode(const char *in, size_t n, unsigned char *out, size_t max, bool skip_space);

#endif
