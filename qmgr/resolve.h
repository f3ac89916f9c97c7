/* resolve.h: where a recipient goes: the transport (local, virtual, smtp, error, discard), the
 * next hop, and the address to deliver to, in Postfix's order: transport_maps first (keys:
 * user@domain (lower case, the local part unquoted: mail/address.h), domain, .parent.domain,
 * *; values transport:nexthop, with an empty part meaning the default), then the address
 * class: mydestination -> local, virtual_mailbox_domains -> virtual, otherwise smtp to
 * relayhost when it is set, else to the recipient's domain. */
#ifndef TERN_RESOLVE_H
#define TERN_RESOLVE_H
#include <stddef.h>

struct resolver;

struct resolved {
    char transport[64];      /* "local", "virtual", "smtp", "lmtp", "error", "discard", ... */
    char nexthop[512];       /* "example.org", "[10.0.0.1]:2525", or the error text for error: */
    char recipient[512];     /* the address to deliver to (as given) */
};

/* Reads mydestination, virtual_mailbox_domains, relayhost and transport_maps (a new parameter,
 * default empty). NULL with err for a configuration error. */
struct resolver *resolver_open(char *err, size_t errlen);
void resolver_close(struct resolver *r);
/* 0, or -1 with err for a temporary failure (a table lookup error: defer the recipient). */
int resolve_recipient(struct resolver *r, const char *address, struct resolved *out, char *err,
                      size_t errlen);

#endif
