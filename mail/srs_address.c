/* srs_address.c: SRS0/SRS1 addresses taken apart and put together, and the base32 day stamp.
 * Pure: no keys, no I/O, no globals; srs.c does the hashing. */
#include "srs_address.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static bool is_sep(char c)
{
    return c == '=' || c == '+' || c == '-';
}

bool srs_address_is_srs(const char *local, int *version)
{
    if (strncasecmp(local, "SRS", 3) != 0 || (local[3] != '0' && local[3] != '1') ||
        !is_sep(local[4]))
        return false;
    *version = local[3] - '0';
    return true;
}

void srs_stamp_encode(unsigned long day, char out[3])
{
    day %= 1024;
    out[0] = base32[day >> 5];
    out[1] = base32[day & 31];
    out[2] = '\0';
}

static int base32_value(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 32);
    const char *p = c ? strchr(base32, c) : NULL;
    return p ? (int)(p - base32) : -1;
}

int srs_stamp_decode(const char *stamp)
{
    int hi = base32_value(stamp[0]);
    int lo = hi < 0 ? -1 : base32_value(stamp[1]);
    if (lo < 0 || stamp[2] != '\0')
        return -1;
    return hi << 5 | lo;
}

/* the field of s up to the next '=' (or, with last, to the end) into out[0..size): the byte
 * after it, or NULL when it is empty, too long or has no '=' after it */
static const char *field(const char *s, bool last, char *out, size_t size)
{
    size_t n = last ? strlen(s) : strcspn(s, "=");
    if (n == 0 || n >= size || (!last && s[n] != '='))
        return NULL;
    memcpy(out, s, n);
    out[n] = '\0';
    return last ? s + n : s + n + 1;
}

static bool hash_valid(const char *h)
{
    for (; *h; h++)
        if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || (*h >= '0' && *h <= '9') ||
              *h == '+' || *h == '/'))
            return false;
    return true;
}

/* no byte an unquoted local part or a domain cannot have, and no '@' inside */
static bool plain_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f || c == '@' || c == '"' || c == '\\')
            return false;
    }
    return true;
}

int srs_address_parse(const char *address, struct srs_address *out)
{
    memset(out, 0, sizeof *out);
    int version;
    if (!srs_address_is_srs(address, &version))
        return 0;
    const char *at = strrchr(address, '@');
    size_t ln = at ? (size_t)(at - address) : strlen(address);
    if (ln > SRS_LOCAL_MAX || !plain_text(address, ln) || (at && at[1] == '\0') ||
        (at && snprintf(out->at, sizeof out->at, "%s", at + 1) >= (int)sizeof out->at))
        goto malformed;
    char local[SRS_LOCAL_MAX + 1];
    memcpy(local, address, ln);
    local[ln] = '\0';
    out->version = version;
    out->sep = local[4];
    const char *p = field(local + 5, false, out->hash, sizeof out->hash);
    if (p == NULL || !hash_valid(out->hash))
        goto malformed;
    if (version == 0) {
        p = field(p, false, out->stamp, sizeof out->stamp);
        if (p == NULL || srs_stamp_decode(out->stamp) < 0)
            goto malformed;
        p = field(p, false, out->domain, sizeof out->domain);
        if (p == NULL || field(p, true, out->local, sizeof out->local) == NULL)
            goto malformed;
    } else {
        p = field(p, false, out->domain, sizeof out->domain);
        if (p == NULL || !is_sep(*p))
            goto malformed;
        out->srs0_sep = *p;
        if (field(p + 1, true, out->local, sizeof out->local) == NULL)
            goto malformed;
    }
    return 1;
malformed:
    memset(out, 0, sizeof *out);
    return -1;
}

int srs_address_format(const struct srs_address *a, char *out, size_t size)
{
    int n;
    if (a->version == 0)
        n = snprintf(out, size, "SRS0%c%s=%s=%s=%s%s%s", a->sep, a->hash, a->stamp, a->domain,
                     a->local, a->at[0] ? "@" : "", a->at);
    else
        n = snprintf(out, size, "SRS1%c%s=%s=%c%s%s%s", a->sep, a->hash, a->domain, a->srs0_sep,
                     a->local, a->at[0] ? "@" : "", a->at);
    if (n < 0 || (size_t)n >= size || n >= SRS_ADDRESS_MAX) {
        if (size > 0)
            out[0] = '\0';
        return -1;
    }
    return 0;
}
