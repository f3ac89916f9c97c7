/* smtp_rules.c: the SMTP dialogue rules smtpd and sendmail -bs share (smtp_rules.h). The reply
 * texts are Postfix's, so that clients and admins see what they know. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "smtp_rules.h"

const char *smtp_rule_line(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)line[i] < 32 && line[i] != '\t') || line[i] == 0x7f)
            return "500 5.5.2 Error: bad character in command";
    return NULL;
}

bool smtp_text_printable(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 32 || p[i] == 0x7f)
            return false;
    return true;
}

const char *smtp_rule_helo(const struct smtp_command *c)
{
    if (c->args_len == 0 || !smtp_text_printable(c->args, c->args_len))
        return c->verb == SMTP_EHLO ? "501 5.5.4 Syntax: EHLO hostname"
                                    : "501 5.5.4 Syntax: HELO hostname";
    return NULL;
}

/* "FROM:" / "TO:" at the start of the arguments -> the text after it and the spaces that
 * follow, or NULL. */
static const char *after_keyword(const struct smtp_command *c, const char *kw, size_t *len)
{
    size_t k = strlen(kw);
    if (c->args_len < k || strncasecmp(c->args, kw, k) != 0)
        return NULL;
    const char *p = c->args + k;
    size_t n = c->args_len - k;
    while (n > 0 && *p == ' ') {
        p++;
        n--;
    }
    *len = n;
    return p;
}

/* why is one of the parameter parser's short reasons; the precision only keeps the reply line
 * within its bound whatever it holds. */
static const char *unsupported(char reply[SMTP_RULE_REPLY_MAX], const char *why)
{
    snprintf(reply, SMTP_RULE_REPLY_MAX, "555 5.5.4 Unsupported option: %.400s", why);
    return reply;
}

static const char *const NEED_SMTPUTF8 =
    "553 5.6.7 Must declare SMTPUTF8 to send an address with 8-bit characters";

const char *smtp_rule_mail(const struct smtp_command *c, long long size_limit,
                           struct smtp_address *a, struct mail_params *mp,
                           char reply[SMTP_RULE_REPLY_MAX])
{
    size_t len;
    const char *p = after_keyword(c, "FROM:", &len);
    char why[ERR_TEXT_MAX];
    if (p == NULL)
        return "501 5.5.4 Syntax: MAIL FROM:<address>";
    int used = smtp_parse_path(p, len, true, false, a, why, sizeof why);
    if (used < 0)
        return "501 5.1.7 Bad sender address syntax";
    if (smtp_parse_mail_params(p + used, len - (size_t)used, mp, why, sizeof why) < 0)
        return unsupported(reply, why);
    if (a->utf8 && !mp->smtputf8)
        return NEED_SMTPUTF8;
    if (mp->has_size && size_limit > 0 && mp->size > size_limit)
        return "552 5.3.4 Message size exceeds fixed limit";
    return NULL;
}

const char *smtp_rule_rcpt(const struct smtp_command *c, bool smtputf8, struct smtp_address *a,
                           struct rcpt_params *rp, char reply[SMTP_RULE_REPLY_MAX])
{
    size_t len;
    const char *p = after_keyword(c, "TO:", &len);
    char why[ERR_TEXT_MAX];
    if (p == NULL)
        return "501 5.5.4 Syntax: RCPT TO:<address>";
    int used = smtp_parse_path(p, len, false, true, a, why, sizeof why);
    if (used < 0)
        return "501 5.1.3 Bad recipient address syntax";
    if (smtp_parse_rcpt_params(p + used, len - (size_t)used, rp, why, sizeof why) < 0)
        return unsupported(reply, why);
    if (a->utf8 && !smtputf8)
        return NEED_SMTPUTF8;
    return NULL;
}

const char *smtp_rule_content(bool in_mail, size_t nrcpt)
{
    if (!in_mail)
        return SMTP_REPLY_NEED_MAIL;
    if (nrcpt == 0)
        return "554 5.5.1 Error: no valid recipients";
    return NULL;
}
