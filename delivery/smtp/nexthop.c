/* nexthop.c: parses a next hop (nexthop.h). Pure: inet_pton is the only library call that
 * looks at the text, and it does no I/O. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "nexthop.h"

static int parse_port(const char *s, int *port)
{
    static const struct { const char *name; int port; } names[] = {
        { "smtp", 25 }, { "lmtp", 24 }, { "submission", 587 },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0) {
            *port = names[i].port;
            return 0;
        }
    if (*s < '1' || *s > '9')
        return -1;
    long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
        if (v > 65535)
            return -1;
    }
    *port = (int)v;
    return 0;
}

static bool is_ip(const char *s)
{
    unsigned char a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* A host name: labels of letters, digits, '-' and '_' between single dots, at most 253
 * bytes (a trailing dot, the root, is dropped first). */
static bool valid_name(char *s)
{
    size_t n = strlen(s);
    if (n > 0 && s[n - 1] == '.')
        s[--n] = '\0';
    if (n == 0 || n > 253 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (s[i + 1] == '.' || s[i + 1] == '\0')
                return false;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}

/* host, [host], [IPv6:addr], each with an optional :port; an IPv6 address without brackets
 * takes no port. */
static int parse_inet(const char *s, struct nexthop *out, bool *bracketed, char *err,
                      size_t errlen)
{
    const char *port = NULL;
    size_t hlen;
    const char *host = s;
    *bracketed = s[0] == '[';
    if (*bracketed) {
        const char *end = strchr(s, ']');
        if (end == NULL) {
            snprintf(err, errlen, "missing ] in the next hop");
            return -1;
        }
        host = s + 1;
        hlen = (size_t)(end - host);
        if (end[1] == ':')
            port = end + 2;
        else if (end[1] != '\0') {
            snprintf(err, errlen, "text after ] in the next hop");
            return -1;
        }
        if (hlen >= 5 && strncasecmp(host, "IPv6:", 5) == 0) {
            host += 5;
            hlen -= 5;
        }
    } else {
        const char *colon = strchr(s, ':');
        hlen = strlen(s);
        if (colon && strchr(colon + 1, ':') == NULL) {
            hlen = (size_t)(colon - s);
            port = colon + 1;
        }
    }
    if (hlen == 0 || hlen >= sizeof out->host) {
        snprintf(err, errlen, "%s",
                 hlen ? "host name too long in the next hop" : "no host in the next hop");
        return -1;
    }
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    if (port && parse_port(port, &out->port) < 0) {
        snprintf(err, errlen, "bad port in the next hop");
        return -1;
    }
    out->literal = is_ip(out->host);
    if (!out->literal && (strchr(out->host, ':') || !valid_name(out->host))) {
        snprintf(err, errlen, "bad host name in the next hop");
        return -1;
    }
    return 0;
}

int nexthop_parse(const char *s, bool lmtp, struct nexthop *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->kind = NEXTHOP_INET;
    out->port = lmtp ? NEXTHOP_LMTP_PORT : NEXTHOP_SMTP_PORT;
    if (strncasecmp(s, "unix:", 5) == 0) {
        if (!lmtp) {
            snprintf(err, errlen, "a unix: next hop needs the lmtp transport");
            return -1;
        }
        size_t n = strlen(s + 5);
        if (n == 0 || n >= sizeof out->path) {
            snprintf(err, errlen, "%s", n ? "socket path too long in the next hop"
                                          : "no socket path in the next hop");
            return -1;
        }
        out->kind = NEXTHOP_UNIX;
        memcpy(out->path, s + 5, n + 1);
        out->port = 0;
        return 0;
    }
    bool inet = strncasecmp(s, "inet:", 5) == 0, bracketed;
    if (parse_inet(inet ? s + 5 : s, out, &bracketed, err, errlen) < 0)
        return -1;
    out->use_mx = !lmtp && !inet && !bracketed && !out->literal;
    return 0;
}
