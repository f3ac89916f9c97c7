/* policy.h: smtpd's decisions about a recipient, made at RCPT (Postfix's address classes and
 * smtpd_relay_restrictions): local domains (mydestination) accept only known local recipients
 * (local_recipient_maps), virtual alias and mailbox domains only addresses in their maps,
 * relay_domains (relay_recipient_maps when set), and every other domain only for trusted clients
 * (mynetworks, or authenticated). No routing trick (percent hack, bang path, quoted @, address
 * literal) makes an untrusted client's recipient relayable.
 * Domain lists (mydestination, relay_domains, virtual_*_domains) hold domains, `.domain` for
 * its subdomains, and type:name tables looked up by domain. Matching is case-insensitive. */
#ifndef TERN_POLICY_H
#define TERN_POLICY_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "smtp_parse.h"

struct policy;

enum rcpt_verdict {
    RCPT_OK,               /* 250 2.1.5 */
    RCPT_UNKNOWN_USER,     /* 550 5.1.1 <addr>: Recipient address rejected: User unknown ... */
    RCPT_RELAY_DENIED,     /* 554 5.7.1 <addr>: Relay access denied */
    RCPT_RELAY_DEFERRED,   /* 450 4.7.1 <addr>: Relay access denied (defer_unauth_destination) */
    RCPT_TEMPFAIL,         /* 451 4.3.0 <addr>: Temporary lookup failure */
};

/* Reads the configuration (mydestination, relay_domains, virtual_*, local_recipient_maps,
 * relay_recipient_maps, recipient_delimiter, mynetworks, smtpd_relay_restrictions) and opens
 * the tables. NULL with err for a configuration error. */
struct policy *policy_open(char *err, size_t errlen);
void policy_close(struct policy *p);

/* Whether the client address is in mynetworks. */
bool policy_client_in_mynetworks(const struct policy *p, const struct sockaddr *peer);

/* The verdict on a recipient. trusted_net: the client is in mynetworks; authenticated: it did
 * AUTH. reply gets the full SMTP reply line for a rejection, e.g.
 * "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in local recipient
 * table", or "" for RCPT_OK. */
enum rcpt_verdict policy_check_rcpt(struct policy *p, const struct smtp_address *rcpt,
                                    bool trusted_net, bool authenticated, char *reply,
                                    size_t replylen);

#endif
