/* smtp.h: what the files of the smtp/lmtp client share: the settings read once at start (the
 * tern.conf parameters plus the master.conf argument "lmtp"), the address being tried (a
 * target) and the names that describe it in the log. */
#ifndef TERN_SMTP_H
#define TERN_SMTP_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include "nexthop.h"
#include "tls_client.h"

struct dns;

struct smtp_settings {
    bool lmtp;                     /* the LMTP client: LHLO, a reply per recipient */
    char helo_name[256];           /* smtp_helo_name */
    char myhostname[256];          /* the host part of a UNIX socket's relay name */
    int connect_timeout, helo_timeout, mail_timeout, rcpt_timeout, data_init_timeout,
        data_xfer_timeout, data_done_timeout, quit_timeout, starttls_timeout;   /* seconds */
    enum tls_level tls_level;      /* smtp_tls_security_level */
    SSL_CTX *tls;                  /* NULL when no TLS context could be made */
    char tls_policy[512];          /* smtp_tls_policy_maps, "" for none */
    int mx_address_limit;          /* smtp_mx_address_limit */
    int reuse_limit;               /* smtp_connection_reuse_count_limit */
    int cache_time;                /* smtp_connection_cache_time_limit, seconds; 0: no cache */
    struct dns *dns;               /* NULL when the resolver could not be opened */
};

extern struct smtp_settings smtp_set;

/* One address to deliver to. */
struct smtp_target {
    char host[NEXTHOP_HOST_MAX];   /* the MX or next-hop name (or the literal address) */
    char addr[NEXTHOP_PATH_MAX];   /* the numeric address, or the UNIX socket path */
    int port;                      /* 0 for a UNIX socket */
    struct sockaddr_storage sa;
    socklen_t salen;
    bool secure;                   /* DNSSEC-validated (for DANE) */
};

/* "host[addr]:port" (relay= in the log), or "host[path]" for a UNIX socket. */
void smtp_target_relay(const struct smtp_target *t, char *out, size_t size);
/* "host[addr]", how messages name the server. */
void smtp_target_name(const struct smtp_target *t, char *out, size_t size);

#endif
