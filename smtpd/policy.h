/* policy.h: smtpd's decisions about a recipient, made at RCPT (Postfix's address classes and
 * smtpd_relay_restrictions): local domains (mydestination) accept only known local recipients
 * (local_recipient_maps), virtual alias and mailbox domains only addresses in their maps,
 * relay_domains (relay_recipient_maps when set), and every other domain only for trusted clients
 * (mynetworks, or authenticated). No routing trick (percent hack, bang path, quoted @, address
 * literal) makes an untrusted client's recipient relayable.
 * At MAIL: smtpd_sender_restrictions, for now the login checks of submission.
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

enum sender_verdict {
    SENDER_OK,
    SENDER_REJECT,         /* 553 5.7.1 <addr>: Sender address rejected: not owned by user X
                            * (or: not logged in) */
    SENDER_TEMPFAIL,       /* 451 4.3.0 <addr>: Temporary lookup failure */
};

/* smtpd_sender_restrictions on the MAIL FROM address: permit_mynetworks,
 * permit_sasl_authenticated and the login-mismatch restrictions of Postfix: with
 * reject_authenticated_sender_login_mismatch a login may send only as the addresses
 * smtpd_sender_login_maps gives it (the address, then user@domain without the extension, then
 * @domain: "login, login" values) or as itself when the login is an address; with
 * reject_unauthenticated_sender_login_mismatch a client without a login may not use an address
 * that has owners; reject_sender_login_mismatch is both. login: the AUTH login or NULL.
 * *from_checked: a restriction held a login to its addresses, so the From: header's addresses
 * must pass policy_check_from too. reply gets the reply line for a rejection or deferral. */
enum sender_verdict policy_check_sender(struct policy *p, const struct smtp_address *sender,
                                        bool trusted_net, const char *login,
                                        bool *from_checked, char *reply, size_t replylen);
/* An address of the From: header of a message from login: may login use it? The reply line
 * for a rejection is "550 5.7.1 <addr>: From: address rejected: not owned by user X". */
enum sender_verdict policy_check_from(struct policy *p, const char *address, const char *login,
                                      char *reply, size_t replylen);

#endif
