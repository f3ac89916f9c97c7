/* msgauth.h: who really sent a message that came from a client neither trusted nor
 * authenticated: SPF (RFC 7208) from MAIL FROM, the message's DKIM signatures (RFC 6376,
 * 8463, 8301) and DMARC (RFC 7489, with np=) for its From: domain, looked up with libunbound
 * while the session goes on; the verdicts, smtpd's Authentication-Results field (RFC 8601)
 * and the log lines. The content is fed as it streams to the queue file; nothing waits on DNS
 * until the end of the message, and then at most until the message's deadline. */
#ifndef TERN_SMTPD_MSGAUTH_H
#define TERN_SMTPD_MSGAUTH_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

struct dns;
struct dmarc_psl;
struct event_base;
struct msgauth;

enum msgauth_dmarc_mode { MSGAUTH_DMARC_OFF, MSGAUTH_DMARC_REPORT, MSGAUTH_DMARC_ENFORCE };

struct msgauth_settings {
    bool spf;                          /* smtpd_spf_verify */
    bool dkim;                         /* smtpd_dkim_verify */
    size_t dkim_limit;                 /* smtpd_dkim_signature_limit */
    enum msgauth_dmarc_mode dmarc;     /* smtpd_dmarc_policy */
    long long timeout_ms;              /* smtpd_policy_dns_timeout */
    const char *authserv_id;           /* authserv_id */
    const char *myhostname;            /* SPF's %{r} */
};

/* What the transaction is: the client's address, its HELO name and the MAIL FROM address
 * ("" for <>). */
struct msgauth_client {
    const char *ip;
    const char *helo;
    const char *sender;
};

/* The checks of one transaction, started at MAIL FROM (SPF's look-ups start now), run in
 * base's loop. Every pointer must outlive the checks but the client's strings, which are
 * copied. */
struct msgauth *msgauth_new(const struct msgauth_settings *set, struct dns *dns,
                            const struct dmarc_psl *psl, struct event_base *base,
                            const struct msgauth_client *client);
/* Ends the checks, cancelling look-ups still under way (NULL is fine). */
void msgauth_free(struct msgauth *m);

/* Content as it is queued (header and body, CRLF lines, without smtpd's Received: field), in
 * chunks split anywhere. The key and policy look-ups start as soon as the header has ended. */
void msgauth_feed(struct msgauth *m, const char *p, size_t n);

/* The content is complete: done(arg) runs in the loop once every look-up has answered or the
 * deadline passed and the signatures are checked, never before msgauth_finish returns.
 * Freeing m before then cancels it. */
void msgauth_finish(struct msgauth *m, void (*done)(void *arg), void *arg);

/* After done: what DMARC asks of the message (only with smtpd_dmarc_policy = enforce):
 * reject, with the reply line in reply ("550 5.7.1 ..."), or quarantine. */
struct msgauth_verdict {
    bool reject;
    bool quarantine;
    char reply[512];
};
void msgauth_verdict(const struct msgauth *m, struct msgauth_verdict *v);

/* After done: appends the Authentication-Results field (CRLF lines); -1 when out is full. */
int msgauth_results_field(const struct msgauth *m, struct buf *out);

/* After done: the log lines of the verdicts, each starting with queue_id. */
void msgauth_log(const struct msgauth *m, const char *queue_id);

#endif
