/* conn_cache.h: the per-process cache of idle connections, keyed by destination (transport
 * and next hop), so the next message to the same place skips connect, greeting, EHLO and TLS.
 * A connection goes in after a message (once RSET got its 250), stays at most
 * smtp_connection_cache_time_limit, and carries at most smtp_connection_reuse_count_limit
 * messages; any sign of life from the server while it waits (a reply, EOF) ends it. */
#ifndef TERN_SMTP_CONN_CACHE_H
#define TERN_SMTP_CONN_CACHE_H
#include "session.h"

#define CACHE_KEY_MAX 600
#define CACHE_SIZE_MAX 100       /* idle connections per process */

/* An idle connection to key, taken out of the cache (the caller owns it), or NULL. Its RSET
 * reply may still be on its way (only when the server offers PIPELINING): the owner then gets
 * it as a CMD_RSET reply before any other. */
struct session *cache_take(const char *key);
/* The caller is done with s after a message: RSET and keep it, or QUIT when it has carried
 * its share of messages or caching is off. Either way s is no longer the caller's. */
void cache_release(struct session *s, const char *key);
/* Closes every cached connection, and lets no more in (the process stops). */
void cache_close_all(void);

#endif
