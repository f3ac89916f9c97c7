/* smtp_rules.h: the rules of an SMTP dialogue that every SMTP server of tern applies the same
 * way, smtpd and sendmail -bs: which bytes a command line may hold, what a HELO/EHLO argument
 * must be, how MAIL FROM and RCPT TO are read (keyword, path, ESMTP parameters, SMTPUTF8, SIZE)
 * and when DATA may start, each with its reply. Pure: each returns NULL when the command passes,
 * or the whole reply line (without CRLF) to send; what only one server has (policy, AUTH, the
 * queue's free space) stays with it. */
#ifndef TERN_SMTP_RULES_H
#define TERN_SMTP_RULES_H
#include <stdbool.h>
#include <stddef.h>
#include "smtp_parse.h"

#define SMTP_RULE_REPLY_MAX 512   /* a reply line of these rules, NUL included */

/* A command line (CRLF removed) with a control character other than TAB (NUL, CR, LF, DEL
 * among them) is refused whole, since its text would reach logs and headers. */
const char *smtp_rule_line(const char *line, size_t len);
/* Text that goes into the log and a Received: line as it is (a HELO name, a login): no control
 * character at all, TAB included. */
bool smtp_text_printable(const char *p, size_t n);

/* HELO/EHLO: the argument must be present and printable (no TAB either: it goes into the log
 * and the Received: line as it is). Its syntax is not judged here (Postfix accepts any name
 * unless a restriction says otherwise). */
const char *smtp_rule_helo(const struct smtp_command *c);

/* MAIL: "FROM:" (spaces may follow the colon), a reverse-path, ESMTP parameters; an address with
 * 8-bit bytes needs the SMTPUTF8 parameter; SIZE must not pass size_limit (0: no limit). On
 * success *a and *mp are filled. reply: a buffer of SMTP_RULE_REPLY_MAX bytes for the replies
 * that carry the parser's reason. */
const char *smtp_rule_mail(const struct smtp_command *c, long long size_limit,
                           struct smtp_address *a, struct mail_params *mp,
                           char reply[SMTP_RULE_REPLY_MAX]);

/* RCPT: "TO:", a forward-path (or <postmaster>), ESMTP parameters; an address with 8-bit bytes
 * needs SMTPUTF8 on the transaction's MAIL (smtputf8). */
const char *smtp_rule_rcpt(const struct smtp_command *c, bool smtputf8, struct smtp_address *a,
                           struct rcpt_params *rp, char reply[SMTP_RULE_REPLY_MAX]);

/* DATA or BDAT: a MAIL and at least one accepted recipient before the content. */
const char *smtp_rule_content(bool in_mail, size_t nrcpt);

/* The replies of a transaction's order that both servers give. */
#define SMTP_REPLY_NESTED_MAIL "503 5.5.1 Error: nested MAIL command"
#define SMTP_REPLY_NEED_MAIL "503 5.5.1 Error: need MAIL command"
#define SMTP_REPLY_TOO_MANY_RCPTS "452 4.5.3 Error: too many recipients"

#endif
