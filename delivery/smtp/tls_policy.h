/* tls_policy.h: the TLS security level for one destination: smtp_tls_policy_maps when it has
 * the destination, else smtp_tls_security_level. Keys, in this order: the next hop as qmgr
 * gave it ("[mx.example.org]:587", "example.org"), its host, then the host's parent domains
 * as ".example.org", ".org". A value is a level (none, may, encrypt, verify, dane), optionally
 * followed by attributes, which are ignored. */
#ifndef TERN_SMTP_TLS_POLICY_H
#define TERN_SMTP_TLS_POLICY_H
#include <stddef.h>
#include "tls_client.h"

/* Opens the tables (before privileges are dropped). -1 with err. */
int tls_policy_open(char *err, size_t errlen);
void tls_policy_close(void);
/* The level for the destination; -1 with err for a table that cannot be read or a value that
 * names no level (the caller defers as a configuration error). host "" for a UNIX socket. */
int tls_policy_level(const char *nexthop, const char *host, enum tls_level *level, char *err,
                     size_t errlen);

#endif
