/* addrlist.h: the RFC 5322 address-list parser: it finds the mailboxes in a To:, Cc:
 * or Bcc: header value (sendmail -t) and in the recipient arguments of sendmail, which may be
 * lists too ("a@x, Name <b@y>"). Pure: no I/O, no allocation that outlives the call. */
#ifndef TERN_ADDRLIST_H
#define TERN_ADDRLIST_H
#include <stddef.h>

#define ADDRLIST_ADDR_MAX 998   /* longest address passed on; longer ones are skipped */

/* Calls cb with each address of the list in text[0..len) (display names, comments and group
 * names removed, angle brackets and an old source route stripped, surrounding white space
 * trimmed; quoted local parts kept as written). cb returns 0 to go on. Empty elements and
 * groups are skipped; an element that is too long or has control characters is reported to
 * cb with bad = 1. Returns the number of addresses passed to cb, or -1 when cb stopped. */
int addrlist_parse(const char *text, size_t len,
                   int (*cb)(const char *addr, int bad, void *arg), void *arg);

#endif
