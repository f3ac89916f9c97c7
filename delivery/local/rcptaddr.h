/* rcptaddr.h: the parts of a local recipient address (user+ext@domain, taken apart by
 * mail/address.h) and the address rules of alias and .forward expansion: who "self" is,
 * qualification of bare names with the recipient's domain, and the extension carried over to
 * expanded addresses. Pure. */
#ifndef TERN_RCPTADDR_H
#define TERN_RCPTADDR_H
#include <stdbool.h>
#include <stddef.h>
#include "address.h"

struct rcpt_addr {
    char local[ADDRESS_MAX];    /* local part, unquoted, lower case, with extension */
    char user[ADDRESS_MAX];     /* the same without the extension */
    char ext[ADDRESS_MAX];      /* the extension, "" when none */
    char domain[ADDRESS_MAX];   /* lower case, no final dot; "" when the address has none */
    char delim;                 /* the delimiter found before the extension, or 0 */
};

/* Splits address (address_split: at its last '@' outside quotes, a wholly quoted local part
 * unquoted) and cuts the extension off (address_extension: at the first character of delims,
 * recipient_delimiter, after the first character of the local part; with '-' among them,
 * owner-* and *-request names are not cut). 0, or -1 for an empty local part or an address
 * that does not fit. */
int rcpt_addr_split(const char *address, const char *delims, struct rcpt_addr *out);

/* Whether an expansion item (address as written in an alias or .forward) names the same
 * mailbox: its local part (unquoted, any case) is one of names[0..n) and its domain, when it
 * has one, is domain (any case, a final dot ignored). */
bool rcpt_addr_is_self(const char *item, const char *const *names, size_t n, const char *domain);

/* The address to forward to: item with "@domain" added when it has no domain, and with
 * delim+ext added to its local part when ext is not NULL/empty and the local part is
 * unquoted and has no delimiter of its own. 0, or -1 when it does not fit in size. */
int rcpt_addr_qualify(const char *item, const char *domain, char delim, const char *ext,
                      const char *delims, char *out, size_t size);

#endif
