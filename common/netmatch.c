/* netmatch.c: network lists as mynetworks writes them (see netmatch.h): numeric IPv4 and IPv6
 * addresses and networks only, so a list never depends on DNS. Parsed once at start-up into an
 * array of (family, address, prefix) that a client address is compared against bit by bit. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem.h"
#include "netmatch.h"

#define NETLIST_MAX 10000   /* entries in one list */
#define ENTRY_MAX 128       /* longest entry text; real ones are under 50 bytes */

struct net {
    int family;               /* AF_INET or AF_INET6 */
    unsigned char addr[16];   /* 4 bytes used for AF_INET */
    unsigned prefix;          /* bits that must match */
};

struct netlist {
    struct net *nets;
    size_t count, cap;
};

static bool is_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'
        || c == '\v';
}

static void set_err(char *err, size_t errlen, const char *entry, size_t n, const char *reason)
{
    if (err && errlen > 0)
        snprintf(err, errlen, "%.*s: %s", (int)(n > ENTRY_MAX ? ENTRY_MAX : n), entry, reason);
}

/* A decimal prefix length of at most three digits; -1 when it is not one. */
static int parse_prefix(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 3 || strspn(s, "0123456789") != n)
        return -1;
    return atoi(s);
}

/* The address part of an entry: dotted quad or IPv6 (inet_pton is strict about both). */
static const char *parse_address(const char *s, struct net *out)
{
    if (strchr(s, ':')) {
        out->family = AF_INET6;
        return inet_pton(AF_INET6, s, out->addr) == 1 ? NULL : "bad IPv6 address";
    }
    out->family = AF_INET;
    if (inet_pton(AF_INET, s, out->addr) == 1)
        return NULL;
    for (const char *p = s; *p; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
            return "host names are not accepted (numeric addresses only)";
    return "bad IPv4 address";
}

/* Cuts "[addr/n]", "[addr]/n", "addr/n" or "addr" into address and prefix text (in place). */
static const char *split_entry(char *s, char **addr, char **prefix)
{
    *prefix = NULL;
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close)
            return "missing \"]\"";
        *close = '\0';
        s++;
        if (close[1] == '/')
            *prefix = close + 2;
        else if (close[1] != '\0')
            return "text after \"]\"";
    }
    char *slash = strchr(s, '/');
    if (slash) {
        if (*prefix)
            return "two prefix lengths";
        *slash = '\0';
        *prefix = slash + 1;
    }
    *addr = s;
    return NULL;
}

/* Postfix also takes !negation, /file/names and type:tables in mynetworks; tern does not. */
static const char *unsupported_form(const char *s)
{
    if (*s == '!')
        return "negation is not supported";
    if (*s == '/')
        return "file names are not accepted (numeric addresses only)";
    /* a table type has a letter beyond f, so "fe::1" stays an address */
    size_t t = strspn(s, "abcdefghijklmnopqrstuvwxyz");
    if (s[t] == ':' && strspn(s, "abcdef") < t)
        return "tables are not accepted (numeric addresses only)";
    return NULL;
}

/* Parses one entry (n bytes at text) into out; returns NULL or the reason it is malformed. */
static const char *parse_entry(const char *text, size_t n, struct net *out)
{
    if (n > ENTRY_MAX)
        return "entry too long";
    char s[ENTRY_MAX + 1], *addr, *prefix;
    memcpy(s, text, n);
    s[n] = '\0';
    const char *why = unsupported_form(s);
    if (!why)
        why = split_entry(s, &addr, &prefix);
    if (!why && *addr == '\0')
        why = "missing address";
    if (!why)
        why = parse_address(addr, out);
    if (why)
        return why;
    unsigned max = out->family == AF_INET ? 32 : 128;
    out->prefix = max;
    if (prefix) {
        int p = parse_prefix(prefix);
        if (p < 0)
            return "bad prefix length";
        if ((unsigned)p > max)
            return out->family == AF_INET ? "prefix length greater than 32"
                                          : "prefix length greater than 128";
        out->prefix = (unsigned)p;
    }
    return NULL;
}

static void list_add(struct netlist *l, const struct net *n)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->nets = xrealloc(l->nets, l->cap * sizeof *l->nets);
    }
    l->nets[l->count++] = *n;
}

struct netlist *netlist_parse(const char *text, char *err, size_t errlen)
{
    struct netlist *l = xcalloc(1, sizeof *l);
    const char *s = text ? text : "";
    for (;;) {
        while (is_sep(*s))
            s++;
        if (*s == '\0')
            return l;
        size_t n = 0;
        while (s[n] && !is_sep(s[n]))
            n++;
        struct net net;
        const char *why = l->count == NETLIST_MAX ? "more than 10000 entries"
                                                   : parse_entry(s, n, &net);
        if (why) {
            set_err(err, errlen, s, n, why);
            netlist_free(l);
            return NULL;
        }
        list_add(l, &net);
        s += n;
    }
}

/* Whether the first bits of a and b agree. */
static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return ((a[whole] ^ b[whole]) & mask) == 0;
}

static bool match_bytes(const struct netlist *l, int family, const unsigned char *addr)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->nets[i].family == family && prefix_equal(l->nets[i].addr, addr, l->nets[i].prefix))
            return true;
    return false;
}

/* An IPv4-mapped IPv6 client is the IPv4 client it stands for, and is an IPv6 address too. */
static bool match_v6(const struct netlist *l, const struct in6_addr *a)
{
    if (IN6_IS_ADDR_V4MAPPED(a) && match_bytes(l, AF_INET, a->s6_addr + 12))
        return true;
    return match_bytes(l, AF_INET6, a->s6_addr);
}

bool netlist_match(const struct netlist *l, const struct sockaddr *sa)
{
    if (!l || !sa)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return match_bytes(l, AF_INET, (const unsigned char *)&in->sin_addr);
    }
    if (sa->sa_family == AF_INET6)
        return match_v6(l, &((const struct sockaddr_in6 *)sa)->sin6_addr);
    return false;
}

bool netlist_match_text(const struct netlist *l, const char *address)
{
    if (!l || !address)
        return false;
    unsigned char a[16];
    if (inet_pton(AF_INET, address, a) == 1)
        return match_bytes(l, AF_INET, a);
    struct in6_addr a6;
    if (inet_pton(AF_INET6, address, &a6) == 1)
        return match_v6(l, &a6);
    return false;
}

void netlist_free(struct netlist *l)
{
    if (!l)
        return;
    free(l->nets);
    free(l);
}
