/* dns_mx.c: the pure parts of the resolver's mail routing (dns_impl.h): names, address
 * literals, MX and TLSA record data, MX ordering and shuffling, address order and limits,
 * parameter values and Postfix's texts for failed look-ups. No I/O, so the unit tests check
 * all of it. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "dns_impl.h"

#define NAME_TEXT_MAX 253

static bool label_char(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_';
}

int dns_name_canon(const char *name, char out[DNS_NAME_MAX])
{
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > NAME_TEXT_MAX)
        return -1;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '.') {
            if (label == 0)
                return -1;
            label = 0;
        } else if (!label_char(c) || ++label > 63) {
            return -1;
        }
        out[i] = (char)tolower(c);
    }
    if (label == 0)
        return -1;
    out[len] = '\0';
    return 0;
}

int dns_wire_name(const unsigned char *p, size_t len, char out[DNS_NAME_MAX])
{
    /* the presentation form, then only host name characters (an escape means another byte),
     * in lower case */
    int used = dns_wire_name_text(p, len, out);
    if (used < 0)
        return -1;
    size_t n = 0;
    for (; out[n]; n++) {
        if (out[n] != '.' && !label_char((unsigned char)out[n]))
            return -1;
        out[n] = (char)tolower((unsigned char)out[n]);
    }
    return n > NAME_TEXT_MAX ? -1 : used;
}

int dns_literal(const char *name, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, name, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *len = sizeof *s4;
        return 0;
    }
    if (strncasecmp(name, "IPv6:", 5) == 0)
        name += 5;
    if (inet_pton(AF_INET6, name, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *len = sizeof *s6;
        return 0;
    }
    return -1;
}

int dns_parse_mx(const unsigned char *p, size_t len, struct dns_mx_host *out)
{
    if (len < 3)
        return -1;
    out->preference = p[0] << 8 | p[1];
    int used = dns_wire_name(p + 2, len - 2, out->name);
    return used < 0 || (size_t)used != len - 2 ? -1 : 0;
}

void dns_mx_keep(struct dns_mx_host *kept, size_t *n, size_t max, const struct dns_mx_host *h)
{
    if (*n < max) {
        kept[(*n)++] = *h;
        return;
    }
    size_t worst = 0;
    for (size_t i = 1; i < *n; i++)
        if (kept[i].preference > kept[worst].preference)
            worst = i;
    if (*n > 0 && h->preference < kept[worst].preference)
        kept[worst] = *h;
}

size_t dns_mx_order(struct dns_mx_host *h, size_t n, uint32_t (*uniform)(uint32_t upper))
{
    /* insertion sort: stable, and n is at most DNS_MAX_MX */
    for (size_t i = 1; i < n; i++) {
        struct dns_mx_host t = h[i];
        size_t j = i;
        for (; j > 0 && h[j - 1].preference > t.preference; j--)
            h[j] = h[j - 1];
        h[j] = t;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t k = 0; k < kept && !seen; k++)
            seen = strcmp(h[k].name, h[i].name) == 0;
        if (!seen)
            h[kept++] = h[i];
    }
    for (size_t start = 0; start < kept;) {
        size_t end = start + 1;
        while (end < kept && h[end].preference == h[start].preference)
            end++;
        for (size_t i = end - 1; i > start; i--) {     /* Fisher-Yates within [start, end) */
            size_t j = start + uniform((uint32_t)(i - start + 1));
            struct dns_mx_host t = h[i];
            h[i] = h[j];
            h[j] = t;
        }
        start = end;
    }
    return kept;
}

int dns_parse_tlsa(const unsigned char *p, size_t len, struct dns_tlsa *out)
{
    if (len < 4)
        return -1;
    out->usage = p[0];
    out->selector = p[1];
    out->mtype = p[2];
    out->data = (unsigned char *)p + 3;
    out->len = len - 3;
    if ((out->mtype == 1 && out->len != 32) || (out->mtype == 2 && out->len != 64))
        return -1;
    return 0;
}

int dns_protocols(const char *value)
{
    int bits = 0;
    char word[16];
    size_t n = 0;
    for (const char *p = value;; p++) {
        if (*p && !isspace((unsigned char)*p) && *p != ',') {
            if (n + 1 >= sizeof word)
                return 0;
            word[n++] = (char)tolower((unsigned char)*p);
            continue;
        }
        word[n] = '\0';
        if (strcmp(word, "all") == 0)
            bits |= DNS_V4 | DNS_V6;
        else if (strcmp(word, "ipv4") == 0)
            bits |= DNS_V4;
        else if (strcmp(word, "ipv6") == 0)
            bits |= DNS_V6;
        else if (n)
            return 0;
        n = 0;
        if (*p == '\0')
            return bits;
    }
}

int dns_family_pref(const char *value, enum dns_family_pref *out)
{
    if (strcasecmp(value, "any") == 0)
        *out = DNS_PREF_ANY;
    else if (strcasecmp(value, "ipv4") == 0)
        *out = DNS_PREF_V4;
    else if (strcasecmp(value, "ipv6") == 0)
        *out = DNS_PREF_V6;
    else
        return -1;
    return 0;
}

static bool same_addr(const struct dns_target *t, const struct dns_addr *a)
{
    if (t->addr.ss_family != a->family)
        return false;
    if (a->family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)&t->addr)->sin_addr, a->bytes, 4) == 0;
    return memcmp(&((const struct sockaddr_in6 *)&t->addr)->sin6_addr, a->bytes, 16) == 0;
}

static size_t add_one(struct dns_target *out, size_t have, size_t max,
                      const struct dns_mx_host *host, bool mx_secure,
                      const struct dns_addr *a, int port)
{
    if (have >= max)
        return have;
    for (size_t i = 0; i < have; i++)
        if (same_addr(&out[i], a))
            return have;
    struct dns_target *t = &out[have];
    memset(t, 0, sizeof *t);
    snprintf(t->host, sizeof t->host, "%s", host->name);
    t->preference = host->preference;
    t->secure = mx_secure && a->secure;
    if (a->family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&t->addr;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        memcpy(&s4->sin_addr, a->bytes, 4);
        t->addrlen = sizeof *s4;
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->addr;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        memcpy(&s6->sin6_addr, a->bytes, 16);
        t->addrlen = sizeof *s6;
    }
    return have + 1;
}

size_t dns_add_targets(struct dns_target *out, size_t have, size_t max,
                       const struct dns_mx_host *host, bool mx_secure,
                       const struct dns_addr *v4, size_t n4, const struct dns_addr *v6,
                       size_t n6, enum dns_family_pref pref, int port)
{
    /* first and second family; "any" takes one of each in turn */
    const struct dns_addr *a = pref == DNS_PREF_V4 ? v4 : v6;
    const struct dns_addr *b = pref == DNS_PREF_V4 ? v6 : v4;
    size_t na = pref == DNS_PREF_V4 ? n4 : n6;
    size_t nb = pref == DNS_PREF_V4 ? n6 : n4;
    if (pref != DNS_PREF_ANY) {
        for (size_t i = 0; i < na; i++)
            have = add_one(out, have, max, host, mx_secure, &a[i], port);
        for (size_t i = 0; i < nb; i++)
            have = add_one(out, have, max, host, mx_secure, &b[i], port);
        return have;
    }
    for (size_t i = 0; i < na || i < nb; i++) {
        if (i < na)
            have = add_one(out, have, max, host, mx_secure, &a[i], port);
        if (i < nb)
            have = add_one(out, have, max, host, mx_secure, &b[i], port);
    }
    return have;
}

int dns_server_parse(const char *value, char *out, size_t size)
{
    char addr[INET6_ADDRSTRLEN + 8];
    const char *at = strrchr(value, '@');
    size_t alen = at ? (size_t)(at - value) : strlen(value);
    if (alen == 0 || alen >= sizeof addr)
        return -1;
    memcpy(addr, value, alen);
    addr[alen] = '\0';
    unsigned char bytes[16];
    if (inet_pton(AF_INET, addr, bytes) != 1 && inet_pton(AF_INET6, addr, bytes) != 1)
        return -1;
    long port = 53;
    if (at) {
        char *end;
        if (!isdigit((unsigned char)at[1]))
            return -1;
        port = strtol(at + 1, &end, 10);
        if (*end || port < 1 || port > 65535)
            return -1;
    }
    int n = snprintf(out, size, "%s@%ld", addr, port);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

void dns_reason(char *out, size_t size, const char *name, const char *type, enum dns_rc rc)
{
    const char *what = rc == DNS_RC_NXDOMAIN ? "Host not found"
                       : rc == DNS_RC_NODATA ? "Host found but no data record of requested type"
                                             : "Host not found, try again";
    snprintf(out, size, "Host or domain name not found. Name service error for name=%s "
             "type=%s: %s", name, type, what);
}

int dns_wire_name_text(const unsigned char *p, size_t len, char out[DNS_NAME_MAX])
{
    size_t i = 0, n = 0;
    for (;;) {
        if (i >= len)
            return -1;
        size_t l = p[i++];
        if (l == 0)
            break;
        if (l > 63 || i + l > len)
            return -1;
        if (n && n + 1 < DNS_NAME_MAX)
            out[n++] = '.';
        for (size_t k = 0; k < l; k++) {
            unsigned char c = p[i + k];
            char esc[5];
            int w;
            if (c == '.' || c == '\\')
                w = snprintf(esc, sizeof esc, "\\%c", c);
            else if (c < 0x21 || c > 0x7e)
                w = snprintf(esc, sizeof esc, "\\%03u", c);
            else
                w = snprintf(esc, sizeof esc, "%c", c);
            if (n + (size_t)w >= DNS_NAME_MAX)
                return -1;
            memcpy(out + n, esc, (size_t)w);
            n += (size_t)w;
        }
        i += l;
    }
    out[n] = '\0';
    return (int)i;
}

int dns_parse_txt(const unsigned char *p, size_t len, struct dns_record *r,
                  struct dns_txt_string *strings, size_t max_strings, char *text,
                  size_t max_text)
{
    size_t i = 0, n = 0, ns = 0;
    r->cut = false;
    while (i < len) {
        size_t l = p[i++];
        if (i + l > len)
            return -1;
        if (ns == max_strings || n + l > max_text) {
            r->cut = true;
            break;
        }
        memcpy(text + n, p + i, l);
        strings[ns].offset = n;
        strings[ns++].len = l;
        n += l;
        i += l;
    }
    text[n] = '\0';
    r->text = text;
    r->textlen = n;
    r->strings = strings;
    r->nstrings = ns;
    return 0;
}
