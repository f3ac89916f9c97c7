/* smtp_stdio.c: sendmail -bs, the SMTP dialogue on standard input and output that some
 * programs (PHP frameworks, for one) use instead of arguments: EHLO/HELO, MAIL, RCPT, DATA,
 * RSET, NOOP, VRFY, HELP, QUIT with RFC 5321 replies and enhanced status codes. Command lines,
 * HELO, MAIL, RCPT and DATA follow smtpd's rules (mail/smtp_rules.h); each message goes to
 * terndrop like a command line submission. The peer is the local user, whose uid pickup
 * records, so there is no policy beyond the syntax and the limits. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>
#include "buf.h"
#include "drop.h"
#include "maildrop.h"
#include "sendmail.h"
#include "smtp_parse.h"
#include "smtp_rules.h"
#include "xtext.h"

#define LINE_MAX_BYTES 2048      /* a command line; a DATA line may be any length */
#define RCPT_MAX 1000            /* recipients of one message (then 452 4.5.3) */

struct input {
    char buf[65536];
    size_t len, pos;
    bool eof, timeout;
    struct drop *pending;     /* during DATA: flushed before waiting for more input */
};

/* The next line without its CRLF or LF in line; long lines are cut at max-1 and the rest of
 * the line dropped (*cut set). false at the end of the input or after the time limit. */
static bool read_line(struct input *in, struct buf *line, size_t max, bool *cut)
{
    buf_reset(line);
    *cut = false;
    for (;;) {
        while (in->pos < in->len) {
            char c = in->buf[in->pos++];
            if (c == '\n') {
                if (line->len && line->data[line->len - 1] == '\r')
                    buf_truncate(line, line->len - 1);
                return true;
            }
            if (line->len < max - 1)
                buf_putc(line, c);
            else
                *cut = true;
        }
        if (in->eof)
            return false;
        struct pollfd p = { STDIN_FILENO, POLLIN, 0 };
        int n = poll(&p, 1, 0);
        if (n == 0) {
            if (in->pending)
                drop_flush(in->pending);
            fflush(stdout);
            n = poll(&p, 1, SMTP_STDIO_TIMEOUT_MS);
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) {
            in->timeout = true;
            return false;
        }
        ssize_t r = read(STDIN_FILENO, in->buf, sizeof in->buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            in->eof = true;
            return false;
        }
        in->len = (size_t)r;
        in->pos = 0;
    }
}

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputs("\r\n", stdout);
    fflush(stdout);
}

struct transaction {
    bool mail;
    char sender[SMTP_PATH_MAX + 1];
    struct mail_params mp;
    struct smtp_address *rcpt;
    struct rcpt_params *rp;
    size_t nrcpt;
};

static void reset(struct transaction *t)
{
    t->mail = false;
    t->nrcpt = 0;
}

static void do_mail(struct transaction *t, const struct smtp_command *c,
                    const struct sendmail_opts *o)
{
    if (t->mail) {
        reply(SMTP_REPLY_NESTED_MAIL);
        return;
    }
    struct smtp_address a;
    char text[SMTP_RULE_REPLY_MAX];
    const char *refused = smtp_rule_mail(c, o->size_limit, &a, &t->mp, text);
    if (refused) {
        reply("%s", refused);
        return;
    }
    snprintf(t->sender, sizeof t->sender, "%s", a.address);
    t->mail = true;
    reply("250 2.1.0 Ok");
}

static void do_rcpt(struct transaction *t, const struct smtp_command *c)
{
    if (!t->mail) {
        reply(SMTP_REPLY_NEED_MAIL);
        return;
    }
    struct smtp_address a;
    struct rcpt_params rp;
    char text[SMTP_RULE_REPLY_MAX];
    const char *refused = smtp_rule_rcpt(c, t->mp.smtputf8, &a, &rp, text);
    if (refused) {
        reply("%s", refused);
        return;
    }
    if (t->nrcpt == RCPT_MAX) {
        reply(SMTP_REPLY_TOO_MANY_RCPTS);
        return;
    }
    t->rcpt[t->nrcpt] = a;
    t->rp[t->nrcpt] = rp;
    t->nrcpt++;
    reply("250 2.1.5 Ok");
}

/* DATA: the lines up to "." go to terndrop, unstuffed. false when the input ended first. */
static bool do_data(struct transaction *t, struct input *in, const struct sendmail_opts *o)
{
    const char *refused = smtp_rule_content(t->mail, t->nrcpt);
    if (refused) {
        reply("%s", refused);
        return true;
    }
    struct drop d;
    if (drop_open(&d, o->terndrop, o->config_dir, t->sender) < 0) {
        reply("451 4.3.0 Error: cannot queue the message");
        return true;
    }
    static const char *const bodies[] = { "", "7BIT", "8BITMIME", "8BITMIME" };
    if (t->mp.envid[0])
        drop_attr(&d, "envid", t->mp.envid);
    if (t->mp.ret != RET_NONE)
        drop_attr(&d, "ret", t->mp.ret == RET_FULL ? "FULL" : "HDRS");
    if (t->mp.body != BODY_NONE)
        drop_attr(&d, "body", bodies[t->mp.body]);
    for (size_t i = 0; i < t->nrcpt; i++) {
        drop_recipient(&d, t->rcpt[i].address);
        if (t->rp[i].notify) {
            char num[16];
            snprintf(num, sizeof num, "%u", t->rp[i].notify);
            drop_rcpt_param(&d, QREC_RCPT_NOTIFY, num);
        }
        if (t->rp[i].orcpt_type[0]) {
            char o2[MAILDROP_FIELD_MAX + 1];   /* left out when longer than a field */
            if (xtext_orcpt(t->rp[i].orcpt_type, t->rp[i].orcpt, o2, sizeof o2) >= 0)
                drop_rcpt_param(&d, QREC_RCPT_ORCPT, o2);
        }
    }
    reply("354 End data with <CR><LF>.<CR><LF>");
    struct buf line;
    buf_init(&line, BUF_UNBOUNDED);
    bool cut, ended = false;
    in->pending = &d;
    /* DATA lines are read whole (any length): the size limit is terndrop's */
    while (read_line(in, &line, (size_t)-1, &cut)) {
        if (line.len == 1 && line.data[0] == '.') {
            ended = true;
            break;
        }
        const char *p = line.data;
        size_t n = line.len;
        if (n && p[0] == '.') {
            p++;
            n--;
        }
        drop_content(&d, p, n);
        drop_content(&d, "\r\n", 2);
    }
    buf_free(&line);
    in->pending = NULL;
    if (!ended) {
        drop_abort(&d);
        return false;
    }
    int code = drop_close(&d);
    if (code == 0)
        reply("250 2.0.0 Ok: queued");
    else if (code == EX_DATAERR)
        reply("552 5.3.4 Error: message not accepted (too big, or malformed)");
    else
        reply("451 4.3.0 Error: queue file write error");
    reset(t);
    return true;
}

int smtp_stdio_run(const struct sendmail_opts *o)
{
    static struct input in;
    static struct smtp_address rcpt[RCPT_MAX];
    static struct rcpt_params rp[RCPT_MAX];
    struct transaction t = { .rcpt = rcpt, .rp = rp };
    struct buf line;
    buf_init(&line, BUF_UNBOUNDED);
    reply("220 %s ESMTP tern", o->myhostname);
    bool cut;
    int code = EX_OK;
    for (;;) {
        if (!read_line(&in, &line, LINE_MAX_BYTES, &cut)) {
            if (in.timeout)
                reply("421 4.4.2 %s Error: timeout exceeded", o->myhostname);
            break;
        }
        if (cut) {
            reply("500 5.5.2 Error: line too long");
            continue;
        }
        const char *refused = smtp_rule_line(line.data, line.len);
        if (refused) {
            reply("%s", refused);
            continue;
        }
        struct smtp_command c;
        smtp_parse_command(line.data, line.len, &c);
        switch (c.verb) {
        case SMTP_EHLO:
        case SMTP_HELO:
            if ((refused = smtp_rule_helo(&c)) != NULL) {
                reply("%s", refused);
                break;
            }
            reset(&t);
            if (c.verb == SMTP_HELO)
                reply("250 %s", o->myhostname);
            else
                reply("250-%s\r\n250-PIPELINING\r\n250-SIZE %lld\r\n250-ENHANCEDSTATUSCODES"
                      "\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 DSN", o->myhostname, o->size_limit);
            break;
        case SMTP_MAIL: do_mail(&t, &c, o); break;
        case SMTP_RCPT: do_rcpt(&t, &c); break;
        case SMTP_DATA:
            if (!do_data(&t, &in, o)) {
                code = EX_DATAERR;
                goto out;
            }
            break;
        case SMTP_RSET: reset(&t); reply("250 2.0.0 Ok"); break;
        case SMTP_NOOP: reply("250 2.0.0 Ok"); break;
        case SMTP_VRFY: reply("252 2.0.0 Send some mail, I'll try my best"); break;
        case SMTP_HELP: reply("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY QUIT"); break;
        case SMTP_QUIT: reply("221 2.0.0 Bye"); goto out;
        case SMTP_UNKNOWN: reply("500 5.5.2 Error: command not recognized"); break;
        default: reply("502 5.5.1 Error: command not available in sendmail -bs"); break;
        }
    }
out:
    buf_free(&line);
    return code;
}
