/* rcptaddr.c: recipient address parts and expansion address rules (rcptaddr.h). */
#include "rcptaddr.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "address.h"

int rcpt_addr_split(const char *address, const char *delims, struct rcpt_addr *out)
{
    struct mail_address a;
    memset(out, 0, sizeof *out);
    if (address_split(address, &a) < 0 || a.local[0] == '\0')
        return -1;
    memcpy(out->local, a.local, sizeof out->local);
    memcpy(out->domain, a.domain, sizeof out->domain);
    memcpy(out->user, a.local, sizeof out->user);
    const char *d = address_extension(a.local, delims);
    if (d) {
        size_t n = (size_t)(d - a.local);
        out->delim = *d;
        snprintf(out->ext, sizeof out->ext, "%s", d + 1);
        out->user[n] = '\0';
    }
    return 0;
}

bool rcpt_addr_is_self(const char *item, const char *const *names, size_t n, const char *domain)
{
    struct mail_address a;
    if (address_split(item, &a) < 0 || (address_at(item) && strcasecmp(a.domain, domain) != 0))
        return false;
    for (size_t i = 0; i < n; i++)
        if (names[i] && names[i][0] && strcasecmp(a.local, names[i]) == 0)
            return true;
    return false;
}

int rcpt_addr_qualify(const char *item, const char *domain, char delim, const char *ext,
                      const char *delims, char *out, size_t size)
{
    const char *at = address_at(item);
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
