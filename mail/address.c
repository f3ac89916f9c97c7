/* address.c: splitting, normalising, keying and writing back email addresses (address.h).
 * Self-contained (no other tern code), so its fuzz target links it alone. */
#include "address.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *address_at(const char *address)
{
    const char *at = NULL;
    bool quoted = false;
    for (const char *p = address; *p; p++) {
        if (quoted && *p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '@' && !quoted)
            at = p;
    }
    return at;
}

/* ASCII only: the tables hold lower case, and 8-bit bytes are left as they are. */
static char fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Where the quoted string that starts p[0..n) ends (the index of its closing quote), or n
 * when p does not start with one or it is not closed. */
static size_t quoted_end(const char *p, size_t n)
{
    if (n == 0 || p[0] != '"')
        return n;
    for (size_t i = 1; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n)
            i++;
        else if (p[i] == '"')
            return i;
    }
    return n;
}

/* The local part p[0..n) into out (which has room for n + 1 bytes), lower case, unquoted
 * when it is exactly one quoted string. */
static void copy_local(const char *p, size_t n, char *out)
{
    size_t o = 0;
    if (n >= 2 && quoted_end(p, n) == n - 1) {
        for (size_t i = 1; i + 1 < n; i++) {
            if (p[i] == '\\')
                i++;   /* quoted_end saw that an escaped byte follows, before the quote */
            out[o++] = fold(p[i]);
        }
    } else {
        while (o < n) {
            out[o] = fold(p[o]);
            o++;
        }
    }
    out[o] = '\0';
}

int address_split(const char *address, struct mail_address *out)
{
    size_t len = strnlen(address, ADDRESS_MAX);
    out->local[0] = out->domain[0] = '\0';
    if (len >= ADDRESS_MAX)
        return -1;
    const char *at = address_at(address);
    copy_local(address, at ? (size_t)(at - address) : len, out->local);
    if (at == NULL)
        return 0;
    size_t dn = 0;
    for (const char *d = at + 1; *d; d++)
        out->domain[dn++] = fold(*d);
    /* "x.example." is x.example; "." alone stays, as no name is left */
    while (dn > 1 && out->domain[dn - 1] == '.')
        dn--;
    out->domain[dn] = '\0';
    return 0;
}

/* owner-NAME and NAME-request: Postfix never splits these at a '-' delimiter. */
static bool list_name(const char *local)
{
    size_t len = strlen(local);
    return strncasecmp(local, "owner-", 6) == 0 ||
           (len > 8 && strcasecmp(local + len - 8, "-request") == 0);
}

const char *address_extension(const char *local, const char *delims)
{
    if (delims == NULL || delims[0] == '\0' || local[0] == '\0')
        return NULL;
    if (strchr(delims, '-') && list_name(local))
        return NULL;
    const char *d = local + 1 + strcspn(local + 1, delims);
    return *d ? d : NULL;
}

void address_key(const struct mail_address *a, char key[ADDRESS_KEY_MAX])
{
    snprintf(key, ADDRESS_KEY_MAX, "%s%s%s", a->local, a->domain[0] ? "@" : "", a->domain);
}

int address_lookup_keys(const struct mail_address *a, const char *delims,
                        enum address_keys which, char keys[ADDRESS_KEYS_MAX][ADDRESS_KEY_MAX])
{
    const char *ext = address_extension(a->local, delims);
    int user_len = ext ? (int)(ext - a->local) : 0;
    int n = 0;
    if (which == ADDRESS_KEYS_LOCAL) {
        snprintf(keys[n++], ADDRESS_KEY_MAX, "%s", a->local);
        if (ext)
            snprintf(keys[n++], ADDRESS_KEY_MAX, "%.*s", user_len, a->local);
        return n;
    }
    address_key(a, keys[n++]);
    if (a->domain[0] == '\0')
        return n;
    if (ext)
        snprintf(keys[n++], ADDRESS_KEY_MAX, "%.*s@%s", user_len, a->local, a->domain);
    if (a->local[0])
        snprintf(keys[n++], ADDRESS_KEY_MAX, "@%s", a->domain);
    return n;
}

/* RFC 5321 atext, with RFC 6531's UTF-8 (any byte of 0x80 and above). */
static bool is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c >= 0x80 || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Whether local can be written without quotes: a Dot-string (RFC 5321 section 4.1.2). */
static bool is_dot_string(const char *local)
{
    bool after_dot = true;   /* no dot first, none twice in a row */
    for (const unsigned char *u = (const unsigned char *)local; *u; u++) {
        if (*u == '.') {
            if (after_dot)
                return false;
            after_dot = true;
        } else if (is_atext(*u)) {
            after_dot = false;
        } else {
            return false;
        }
    }
    return !after_dot;   /* neither empty nor ending in a dot */
}

/* Appends c to out[size] at *o, keeping room for the NUL; false when there is none. */
static bool put(char *out, size_t size, size_t *o, char c)
{
    if (*o + 1 >= size)
        return false;
    out[(*o)++] = c;
    return true;
}

int address_join(const struct mail_address *a, char *out, size_t size)
{
    bool quote = !is_dot_string(a->local);
    size_t o = 0;
    bool ok = size > 0 && (!quote || put(out, size, &o, '"'));
    for (const char *p = a->local; ok && *p; p++) {
        if (quote && (*p == '"' || *p == '\\'))
            ok = put(out, size, &o, '\\');
        ok = ok && put(out, size, &o, *p);
    }
    if (ok && quote)
        ok = put(out, size, &o, '"');
    if (ok && a->domain[0])
        ok = put(out, size, &o, '@');
    for (const char *d = a->domain; ok && *d; d++)
        ok = put(out, size, &o, *d);
    if (size > 0)
        out[ok ? o : 0] = '\0';
    return ok ? 0 : -1;
}
