/* srs_rcpt.h: smtpd's part of SRS (mail/srs.h): at RCPT, an SRS address of srs_domain (where
 * bounces to mail tern forwarded come back) is checked, hash and age, and replaced by the
 * original sender it stands for, which is then accepted even in a domain tern does not serve:
 * only valid, unexpired hashes pass, so this relays nothing else. */
#ifndef TERN_SRS_RCPT_H
#define TERN_SRS_RCPT_H
#include <stddef.h>
#include "smtp_parse.h"

/* As root at start (pre_jail): reads srs_domain (empty: SRS off) and the key in srs_key_file,
 * and checks that srs_domain is a domain tern receives mail for (mydestination,
 * virtual_alias_domains, virtual_mailbox_domains). 0, or -1 with err (a configuration error). */
int srs_rcpt_open(char *err, size_t errlen);

/* At RCPT, before the recipient policy. 0: not an SRS address of srs_domain (or SRS is off), the
 * usual policy applies. 1: a valid one: addr now holds the original sender, params an ORCPT of
 * rfc822;<the SRS address> when the client gave none (a DSN names what was sent to); accept it
 * (logged, with client, e.g. "host[addr]"). -1: forged, malformed or expired: reply holds
 * "550 5.1.1 <addr>: Recipient address rejected: REASON". */
int srs_rcpt_check(const char *client, struct smtp_address *addr, struct rcpt_params *params,
                   char *reply, size_t replylen);

#endif
