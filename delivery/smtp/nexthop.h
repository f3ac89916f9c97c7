/* nexthop.h: the next hop strings qmgr hands the smtp and lmtp clients, parsed without any I/O:
 * "example.org" (MX look-up), "[mx.example.org]" or "[192.0.2.1]" (no MX look-up), either with
 * ":port", and for LMTP also "unix:/path/to/socket" and "inet:host:port". */
#ifndef TERN_SMTP_NEXTHOP_H
#define TERN_SMTP_NEXTHOP_H
#include <stdbool.h>
#include <stddef.h>

#define NEXTHOP_HOST_MAX 256     /* a host name (253 bytes) or address literal, NUL included */
#define NEXTHOP_PATH_MAX 108     /* sizeof sun_path */
#define NEXTHOP_SMTP_PORT 25
#define NEXTHOP_LMTP_PORT 24

enum nexthop_kind { NEXTHOP_INET, NEXTHOP_UNIX };

struct nexthop {
    enum nexthop_kind kind;
    char host[NEXTHOP_HOST_MAX];  /* the name or the address, without brackets; "" for UNIX */
    char path[NEXTHOP_PATH_MAX];  /* the socket of a UNIX next hop, else "" */
    int port;
    bool use_mx;                  /* look up the MX records of host (SMTP, no brackets) */
    bool literal;                 /* host is a numeric IPv4 or IPv6 address */
};

/* Parses s for the smtp client (lmtp false) or the lmtp client. 0, or -1 with the reason in
 * err. Ports are decimal (1-65535) or one of the names smtp, lmtp, submission. */
int nexthop_parse(const char *s, bool lmtp, struct nexthop *out, char *err, size_t errlen);

#endif
