/* smtpd.h: what the sessions of one smtpd process share: the settings read once at start (with
 * this service's -o overrides), the TLS context, the recipient policy, the password table, the
 * worker pool, and the per-client session counts. */
#ifndef TERN_SMTPD_H
#define TERN_SMTPD_H
#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>
#include "msgauth.h"

struct dkim_signing_table;

struct event_base;
struct policy;
struct auth_users;
struct workpool;
struct dns;

struct smtpd_settings {
    const char *myhostname;
    const char *banner;
    long long timeout;                  /* seconds */
    long long message_size_limit;
    long long header_size_limit;
    long long line_length_limit;
    long long hopcount_limit;
    long long recipient_limit;
    long long client_connection_limit;
    long long soft_error_limit, hard_error_limit, error_sleep_time;
    long long junk_command_limit;
    long long sasl_failure_limit;
    long long queue_minfree;
    bool helo_required;
    bool disable_vrfy;
    bool forbid_unauth_pipelining;
    bool reject_bare_newline;
    bool add_missing_headers;
    bool require_auth;
    bool tls_offer;                     /* STARTTLS (may/encrypt) */
    bool tls_required;                  /* encrypt */
    bool tls_wrapper;                   /* port 465 */
    bool sasl_enable;
    bool sasl_authenticated_header;     /* the login in Received: */
    bool peername_lookup;               /* smtpd_peername_lookup */
    struct msgauth_settings auth;       /* SPF, DKIM, DMARC of untrusted clients' mail */
    bool verify;                        /* any of them is on */
};

struct smtpd {
    struct event_base *base;
    struct smtpd_settings set;
    SSL_CTX *tls;                       /* NULL without TLS */
    struct policy *policy;
    struct auth_users *users;           /* NULL without AUTH */
    struct workpool *pool;              /* password checks */
    struct dns *dns;                    /* client names, SPF, DKIM, DMARC; NULL when all are off
                                         * (or the resolver could not be set up) */
    struct dmarc_psl *psl;              /* the Public Suffix List, for DMARC */
    struct dkim_signing_table *signing; /* dkim_signing_keys; NULL when it has no domain */
    const char *service;                /* master.conf service name, for the log */
};

extern struct smtpd smtpd;

/* Per-client session counts (smtpd_client_connection_count_limit), per process. */
int smtpd_client_count_add(const char *address, int delta);

#endif
