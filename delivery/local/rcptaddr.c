/* rcptaddr.c: recipient address parts and expansion address rules (rcptaddr.h). */
#include "rcptaddr.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "lists.h"

/* The '@' that starts the domain: the last one outside double quotes, or NULL. */
static const char *domain_at(const char *a)
{
    const char *at = NULL;
    bool quoted = false;
    for (const char *p = a; *p; p++) {
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

/* Copies local part p[0..n) to out, unquoting it when it is wholly quoted. -1 if too long. */
static int copy_local(const char *p, size_t n, char *out, size_t size)
{
    size_t o = 0;
    if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
        for (size_t i = 1; i + 1 < n; i++) {
            if (p[i] == '\\' && i + 2 < n)
                i++;
            if (o + 1 >= size)
                return -1;
            out[o++] = p[i];
        }
    } else {
        if (n >= size)
            return -1;
        memcpy(out, p, n);
        o = n;
    }
    out[o] = '\0';
    return 0;
}

/* Where the extension's delimiter is in local, or NULL. */
static char *find_delim(char *local, const char *delims)
{
    if (delims == NULL || *delims == '\0' || local[0] == '\0')
        return NULL;
    size_t len = strlen(local);
    if (strchr(delims, '-') &&
        (strncmp(local, "owner-", 6) == 0 ||
         (len > 8 && strcmp(local + len - 8, "-request") == 0)))
        return NULL;
    char *d = local + 1 + strcspn(local + 1, delims);
    return *d ? d : NULL;
}

int rcpt_addr_split(const char *address, const char *delims, struct rcpt_addr *out)
{
    memset(out, 0, sizeof *out);
    const char *at = domain_at(address);
    size_t ln = at ? (size_t)(at - address) : strlen(address);
    if (ln == 0 || copy_local(address, ln, out->local, sizeof out->local) < 0 ||
        out->local[0] == '\0')
        return -1;
    if (at && snprintf(out->domain, sizeof out->domain, "%s", at + 1) >= (int)sizeof out->domain)
        return -1;
    list_lower(out->local);
    list_lower(out->domain);
    memcpy(out->user, out->local, sizeof out->user);
    char *d = find_delim(out->user, delims);
    if (d) {
        out->delim = *d;
        snprintf(out->ext, sizeof out->ext, "%s", d + 1);
        *d = '\0';
    }
    return 0;
}

bool rcpt_addr_is_self(const char *item, const char *const *names, size_t n, const char *domain)
{
    const char *at = domain_at(item);
    if (at && strcasecmp(at + 1, domain) != 0)
        return false;
    char local[DELIVERY_ADDR_MAX];
    size_t ln = at ? (size_t)(at - item) : strlen(item);
    if (copy_local(item, ln, local, sizeof local) < 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (names[i] && names[i][0] && strcasecmp(local, names[i]) == 0)
            return true;
    return false;
}

int rcpt_addr_qualify(const char *item, const char *domain, char delim, const char *ext,
                      const char *delims, char *out, size_t size)
{
    const char *at = domain_at(item);
    size_t ln = at ? (size_t)(at - item) : strlen(item);
    bool add_ext = ext && ext[0] && delim && item[0] != '"';
    for (size_t i = 0; add_ext && i < ln; i++)
        if (strchr(delims, item[i]))
            add_ext = false;
    char sep[2] = { add_ext ? delim : '\0', '\0' };
    int n = snprintf(out, size, "%.*s%s%s%s%s", (int)ln, item, sep, add_ext ? ext : "",
                     at || domain[0] ? "@" : "", at ? at + 1 : domain);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}
