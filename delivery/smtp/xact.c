/* xact.c: one mail transaction (xact.h). Every command sent has its reply counted, so the
 * transaction ends only when the session is back in step with the server, whatever it
 * refused; a reply that is not 2xx fails the recipients it concerns: a RCPT reply its
 * recipient, a MAIL, DATA or end-of-data reply every recipient of the transaction (LMTP: one
 * end-of-data reply per accepted recipient). */
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "mem.h"
#include "qfile.h"
#include "server.h"
#include "xact.h"
#include "xtext.h"

#define LINE_MAX_OUT 2048
#define NO_INDEX SIZE_MAX

struct xact {
    struct xact_job job;
    struct session *s;
    bool reused, pipelining, lmtp;
    size_t n;              /* recipients in the transaction */
    size_t *idx;           /* their indices in the request */
    size_t *acc;           /* the accepted ones (local indices), in RCPT order */
    size_t naccepted;
    size_t next_rcpt;      /* lock-step: the next RCPT to send */
    size_t outstanding;    /* replies still to come */
    bool seven_bit;        /* the content goes in its 7-bit form (message_convert) */
    bool mail_ok, mail_answered, in_data;
    struct event *later;
};

static void on_reply(void *arg, struct session *s, enum smtp_cmd cmd, size_t index,
                     const struct smtp_reply *r);
static void on_error(void *arg, struct session *s, const struct session_error *e);
static const struct session_ops xact_ops = { NULL, on_reply, on_error };

/* ---- results ---- */

static struct delivery_result *result(struct xact *x, size_t k)
{
    x->job.done[x->idx[k]] = true;
    return &x->job.reply->result[x->idx[k]];
}

static void where(struct xact *x, struct delivery_result *res)
{
    const struct smtp_target *t = session_target(x->s);
    snprintf(res->relay, sizeof res->relay, "%s", session_relay(x->s));
    snprintf(res->remote_mta, sizeof res->remote_mta, "dns; %.*s",
             (int)sizeof res->remote_mta - 6, t->host);
}

static void set_sent(struct xact *x, size_t k, const struct smtp_reply *r)
{
    struct delivery_result *res = result(x, k);
    res->status = DELIVERY_SENT;
    snprintf(res->dsn, sizeof res->dsn, "%s", r->dsn);
    snprintf(res->text, sizeof res->text, "%s", r->text);
    snprintf(res->diag, sizeof res->diag, "smtp; %.*s", (int)sizeof res->diag - 7, r->text);
    /* a server that offered DSN was given NOTIFY= and reports success itself: no notice of
     * ours ("none"); otherwise ours says relayed (LMTP: delivered) */
    snprintf(res->action, sizeof res->action, "%s",
             x->lmtp ? "delivered" : session_caps(x->s)->dsn ? "none" : "relayed");
    where(x, res);
}

static void set_refused(struct xact *x, size_t k, enum smtp_cmd cmd, const struct smtp_reply *r)
{
    struct delivery_result *res = result(x, k);
    int c = reply_class(r->code);
    res->status = c == 5 ? DELIVERY_BOUNCE : DELIVERY_DEFER;
    if (c == 4 || c == 5)
        snprintf(res->dsn, sizeof res->dsn, "%s", r->dsn);
    else
        snprintf(res->dsn, sizeof res->dsn, "4.5.0");   /* a 2xx/3xx where it makes no sense */
    session_reply_text(x->s, cmd, r, res->text, sizeof res->text);
    snprintf(res->diag, sizeof res->diag, "smtp; %.*s", (int)sizeof res->diag - 7, r->text);
    where(x, res);
}

/* A failure found here, not said by the server (a message too large for it, ...). */
static void set_local(struct xact *x, size_t k, enum delivery_status status, const char *dsn,
                      const char *text)
{
    struct delivery_result *res = result(x, k);
    res->status = status;
    snprintf(res->dsn, sizeof res->dsn, "%s", dsn);
    snprintf(res->text, sizeof res->text, "%s", text);
    res->diag[0] = '\0';
    where(x, res);
}

static void set_error(struct xact *x, size_t k, const struct session_error *e)
{
    struct delivery_result *res = result(x, k);
    res->status = DELIVERY_DEFER;
    snprintf(res->dsn, sizeof res->dsn, "%s", e->dsn[0] == '4' ? e->dsn : "4.4.2");
    snprintf(res->text, sizeof res->text, "%s", e->text);
    snprintf(res->diag, sizeof res->diag, "%s", e->diag);
    where(x, res);
}

/* ---- the end ---- */

static void xact_free(struct xact *x)
{
    if (x->later)
        event_free(x->later);
    free(x->idx);
    free(x->acc);
    free(x);
}

static void end(struct xact *x, enum xact_end how, const struct session_error *e)
{
    struct xact_job job = x->job;
    struct session *s = x->s;
    xact_free(x);
    job.finished(job.arg, s, how, e);
}

static void on_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    end(arg, XACT_OK, NULL);
}

/* Ends from the loop (xact_start must not call back into its caller). */
static void end_later(struct xact *x)
{
    x->later = evtimer_new(server_base(), on_later, x);
    struct timeval now = { 0, 0 };
    evtimer_add(x->later, &now);
}

static void maybe_end(struct xact *x)
{
    if (x->outstanding == 0)
        end(x, XACT_OK, NULL);
}

/* ---- commands ---- */

static void command(struct xact *x, enum smtp_cmd cmd, size_t index, const char *line)
{
    x->outstanding++;
    session_command(x->s, cmd, index, line);
}

static bool plain_xtext(const char *s)
{
    for (; *s; s++)
        if (*s < 33 || *s > 126 || *s == '=')
            return false;
    return true;
}

static void send_mail(struct xact *x)
{
    const struct smtp_caps *caps = session_caps(x->s);
    const struct message *m = x->job.msg;
    char line[LINE_MAX_OUT];
    int n = snprintf(line, sizeof line, "MAIL FROM:<%s>", m->env.sender);
    if (caps->size)
        n += snprintf(line + n, sizeof line - (size_t)n, " SIZE=%zu",
                      x->seven_bit ? m->seven_bit.len : m->size);
    if (caps->eightbitmime && (m->body_8bitmime || m->eightbit))
        n += snprintf(line + n, sizeof line - (size_t)n, " BODY=8BITMIME");
    if (caps->smtputf8 && m->smtputf8)
        n += snprintf(line + n, sizeof line - (size_t)n, " SMTPUTF8");
    if (caps->dsn && m->env.ret[0])
        n += snprintf(line + n, sizeof line - (size_t)n, " RET=%s", m->env.ret);
    if (caps->dsn && m->env.envid[0] && plain_xtext(m->env.envid))
        snprintf(line + n, sizeof line - (size_t)n, " ENVID=%s", m->env.envid);
    command(x, CMD_MAIL, 0, line);
}

static void notify_text(unsigned notify, char *out, size_t size)
{
    if (notify & NOTIFY_NEVER) {
        snprintf(out, size, "NEVER");
        return;
    }
    snprintf(out, size, "%s%s%s", notify & NOTIFY_SUCCESS ? ",SUCCESS" : "",
             notify & NOTIFY_FAILURE ? ",FAILURE" : "", notify & NOTIFY_DELAY ? ",DELAY" : "");
    memmove(out, out + (out[0] == ','), strlen(out) + 1);
}

static void send_rcpt(struct xact *x, size_t k)
{
    const struct delivery_rcpt *rc = &x->job.req->rcpt[x->idx[k]];
    char line[LINE_MAX_OUT], xt[3 * DELIVERY_ADDR_MAX + 1], notify[40];
    int n = snprintf(line, sizeof line, "RCPT TO:<%s>", rc->address);
    if (session_caps(x->s)->dsn) {
        if (rc->notify) {
            notify_text(rc->notify, notify, sizeof notify);
            n += snprintf(line + n, sizeof line - (size_t)n, " NOTIFY=%s", notify);
        }
        if (rc->orig[0] && xtext_encode(rc->orig, strlen(rc->orig), xt, sizeof xt) > 0)
            snprintf(line + n, sizeof line - (size_t)n, " ORCPT=rfc822;%s", xt);
    }
    command(x, CMD_RCPT, k, line);
}

/* ---- the checks before MAIL ---- */

/* A reason the server cannot take the message at all (bounce every recipient), or NULL. */
static const char *unsendable(struct xact *x, char *text, size_t size, const char **dsn)
{
    const struct smtp_caps *caps = session_caps(x->s);
    struct message *m = x->job.msg;
    const char *name = session_name(x->s);
    if (m->smtputf8 && !caps->smtputf8) {
        snprintf(text, size, "SMTPUTF8 is required, but was not offered by host %s", name);
        *dsn = "5.6.7";
        return text;
    }
    if (m->eightbit && !caps->eightbitmime) {
        if (message_convert(m) < 0) {
            snprintf(text, size, "host %s does not offer 8BITMIME, and the message's 8-bit "
                     "content cannot be converted to 7 bits", name);
            *dsn = "5.6.3";
            return text;
        }
        x->seven_bit = true;
    }
    size_t msg_size = x->seven_bit ? m->seven_bit.len : m->size;
    if (caps->size && caps->size_limit > 0 && msg_size > caps->size_limit) {
        snprintf(text, size, "message size %zu exceeds size limit %llu of server %s", msg_size,
                 caps->size_limit, name);
        *dsn = "5.3.4";
        return text;
    }
    return NULL;
}

/* ---- replies ---- */

/* false when x is gone */
static bool mail_reply(struct xact *x, const struct smtp_reply *r)
{
    x->mail_answered = true;
    if (reply_class(r->code) == 2) {
        x->mail_ok = true;
        if (!x->pipelining)
            send_rcpt(x, x->next_rcpt++);
        return true;
    }
    if (x->reused) {
        /* the connection may have gone stale while it waited in the cache */
        session_free(x->s);
        end(x, XACT_RETRY, NULL);
        return false;
    }
    for (size_t k = 0; k < x->n; k++)
        set_refused(x, k, CMD_MAIL, r);
    return true;
}

static void send_data(struct xact *x)
{
    command(x, CMD_DATA, 0, "DATA");
}

static void rcpt_reply(struct xact *x, size_t k, const struct smtp_reply *r)
{
    if (!x->mail_ok)
        return;                   /* MAIL failed: its reply decided for everyone */
    if (reply_class(r->code) == 2)
        x->acc[x->naccepted++] = k;
    else
        set_refused(x, k, CMD_RCPT, r);
    if (x->pipelining)
        return;
    if (x->next_rcpt < x->n)
        send_rcpt(x, x->next_rcpt++);
    else if (x->naccepted > 0)
        send_data(x);
}

static void data_reply(struct xact *x, const struct smtp_reply *r)
{
    if (r->code == 354 && x->mail_ok && x->naccepted > 0) {
        x->in_data = true;
        const struct message *m = x->job.msg;
        if (x->seven_bit)
            session_send_flat(x->s, m->seven_bit.data, m->seven_bit.len);
        else
            session_send_content(x->s, m->data.data, m->data.len, &m->env);
        size_t replies = x->lmtp ? x->naccepted : 1;
        for (size_t i = 0; i < replies; i++) {
            x->outstanding++;
            session_expect(x->s, CMD_DOT, i);
        }
        return;
    }
    if (r->code == 354) {
        /* a server that starts DATA for no recipient: end the empty message, ignore it */
        command(x, CMD_DOT, NO_INDEX, ".");
        return;
    }
    if (x->mail_ok)
        for (size_t i = 0; i < x->naccepted; i++)
            set_refused(x, x->acc[i], CMD_DATA, r);
}

static void dot_reply(struct xact *x, size_t index, const struct smtp_reply *r)
{
    if (index == NO_INDEX)
        return;
    size_t from = x->lmtp ? index : 0, to = x->lmtp ? index + 1 : x->naccepted;
    for (size_t i = from; i < to && i < x->naccepted; i++) {
        if (reply_class(r->code) == 2)
            set_sent(x, x->acc[i], r);
        else
            set_refused(x, x->acc[i], CMD_DOT, r);
    }
    if (x->outstanding == 0)
        session_count_use(x->s);
}

static void on_reply(void *arg, struct session *s, enum smtp_cmd cmd, size_t index,
                     const struct smtp_reply *r)
{
    (void)s;
    struct xact *x = arg;
    if (cmd == CMD_RSET) {
        /* the RSET the cache sent before it handed the connection over */
        if (reply_class(r->code) != 2) {
            session_free(x->s);
            end(x, XACT_RETRY, NULL);
        }
        return;
    }
    x->outstanding--;
    switch (cmd) {
    case CMD_MAIL:
        if (!mail_reply(x, r))
            return;
        break;
    case CMD_RCPT:
        rcpt_reply(x, index, r);
        break;
    case CMD_DATA:
        data_reply(x, r);
        break;
    case CMD_DOT:
        dot_reply(x, index, r);
        break;
    default:
        break;
    }
    maybe_end(x);
}

/* The session is gone. Accepted recipients whose message may have reached the server are
 * deferred now; the others stay open for the next address to try. */
static void on_error(void *arg, struct session *s, const struct session_error *e)
{
    (void)s;
    struct xact *x = arg;
    if (x->reused && !x->mail_answered) {
        end(x, XACT_RETRY, NULL);
        return;
    }
    if (x->in_data)
        for (size_t i = 0; i < x->naccepted; i++)
            if (!x->job.done[x->idx[x->acc[i]]])
                set_error(x, x->acc[i], e);
    end(x, XACT_FAILED, e);
}

void xact_start(const struct xact_job *job, struct session *s, bool reused)
{
    struct xact *x = xcalloc(1, sizeof *x);
    x->job = *job;
    x->s = s;
    x->reused = reused;
    x->lmtp = smtp_set.lmtp;
    x->pipelining = session_caps(s)->pipelining;
    x->idx = xcalloc(job->req->nrcpt ? job->req->nrcpt : 1, sizeof *x->idx);
    x->acc = xcalloc(job->req->nrcpt ? job->req->nrcpt : 1, sizeof *x->acc);
    for (size_t i = 0; i < job->req->nrcpt; i++)
        if (!job->done[i])
            x->idx[x->n++] = i;
    session_set_owner(s, &xact_ops, x);
    char text[STATUSLOG_TEXT_MAX];
    const char *dsn = NULL;
    if (x->n == 0) {
        end_later(x);
        return;
    }
    if (unsendable(x, text, sizeof text, &dsn)) {
        for (size_t k = 0; k < x->n; k++)
            set_local(x, k, DELIVERY_BOUNCE, dsn, text);
        end_later(x);
        return;
    }
    send_mail(x);
    if (!x->pipelining)
        return;
    for (; x->next_rcpt < x->n; x->next_rcpt++)
        send_rcpt(x, x->next_rcpt);
    send_data(x);
}
