/* session.c: one connection to an SMTP/LMTP server (session.h). Replies are parsed one line at
 * a time as they arrive (reply.c) and matched in order to the queue of expected replies, so
 * pipelined commands need nothing special. One timer covers every wait: the connection, the
 * reply at the head of the queue (its command's smtp_*_timeout), the TLS handshake, a stalled
 * write of the message, the QUIT reply. A callback may give the session up while the session
 * itself is on the stack: it is then freed when the outermost handler returns. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <openssl/err.h>
#include "dotstuff.h"
#include "log.h"
#include "mem.h"
#include "qfile.h"
#include "server.h"
#include "session.h"
#include "tls_summary.h"

#define WRITE_LOW (64 * 1024)        /* refill the output below this while streaming */
#define WRITE_HIGH (256 * 1024)      /* ... up to about this */
#define CHUNK (64 * 1024)            /* content bytes encoded at a time */
#define READ_HIGH (64 * 1024)        /* input read ahead of the parser */
#define SHORT_QUIT 5                 /* seconds to wait for 221 from a server that refused us */
#define RSET_TIMEOUT 20

enum phase { P_CONNECT, P_GREETING, P_HELLO, P_STARTTLS, P_HANDSHAKE, P_READY, P_QUIT };

struct expect {
    enum smtp_cmd cmd;
    size_t index;
};

struct session {
    struct bufferevent *bev;
    struct event *timer;
    struct smtp_target t;
    char relay[NEXTHOP_HOST_MAX + NEXTHOP_PATH_MAX + 16];
    char name[NEXTHOP_HOST_MAX + NEXTHOP_PATH_MAX + 8];
    enum tls_level level;
    enum phase phase;
    bool greeted, tls;
    int connect_errno;               /* a connect that failed at once, reported by the timer */
    struct tls_check check;
    struct tls_dane dane;            /* at dane: the TLSA records to match */
    struct smtp_caps caps;
    struct reply_parser parser;
    struct expect *q;                /* expected replies: q[head .. head+len) */
    size_t qhead, qlen, qcap;
    int uses;
    const struct session_ops *ops;
    void *arg;
    /* the message being sent */
    bool sending;                    /* from the first content byte until the dot is flushed */
    bool streaming;                  /* content left to encode */
    bool flat;                       /* src is the content itself, not a queue file */
    const char *src;
    size_t src_len, src_pos;
    const struct qfile_envelope *env;   /* of the queue file in src (not flat) */
    struct qfile_content_iter it;
    const char *rec;                 /* the rest of the current piece of the queue file */
    size_t rec_left;
    struct dotstuff ds;
    struct buf chunk;
    /* re-entrancy */
    int depth;
    bool doomed;
    LIST_ENTRY(session) link;
};

static LIST_HEAD(, session) sessions = LIST_HEAD_INITIALIZER(sessions);

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);
static void connected(struct session *s);

/* ---- names ---- */

void smtp_target_name(const struct smtp_target *t, char *out, size_t size)
{
    snprintf(out, size, "%s[%s]", t->host, t->addr);
}

void smtp_target_relay(const struct smtp_target *t, char *out, size_t size)
{
    if (t->port)
        snprintf(out, size, "%s[%s]:%d", t->host, t->addr, t->port);
    else
        snprintf(out, size, "%s[%s]", t->host, t->addr);
}

static const char *cmd_phase(enum smtp_cmd cmd)
{
    switch (cmd) {
    case CMD_GREETING: return "receiving the initial server greeting";
    case CMD_EHLO: return "performing the EHLO handshake";
    case CMD_HELO: return "performing the HELO handshake";
    case CMD_LHLO: return "performing the LHLO handshake";
    case CMD_STARTTLS: return "sending STARTTLS";
    case CMD_MAIL: return "sending MAIL FROM";
    case CMD_RCPT: return "sending RCPT TO";
    case CMD_DATA: return "sending DATA command";
    case CMD_DOT: return "sending end of data -- message may be sent more than once";
    case CMD_RSET: return "sending RSET";
    case CMD_QUIT: return "sending QUIT";
    }
    return "talking";
}

static const char *cmd_name(enum smtp_cmd cmd)
{
    switch (cmd) {
    case CMD_GREETING: return "initial greeting";
    case CMD_EHLO: return "EHLO";
    case CMD_HELO: return "HELO";
    case CMD_LHLO: return "LHLO";
    case CMD_STARTTLS: return "STARTTLS";
    case CMD_MAIL: return "MAIL FROM";
    case CMD_RCPT: return "RCPT TO";
    case CMD_DATA: return "DATA";
    case CMD_DOT: return "end of DATA";
    case CMD_RSET: return "RSET";
    case CMD_QUIT: return "QUIT";
    }
    return "?";
}

static int cmd_timeout(enum smtp_cmd cmd)
{
    switch (cmd) {
    case CMD_GREETING: case CMD_EHLO: case CMD_HELO: case CMD_LHLO:
        return smtp_set.helo_timeout;
    case CMD_STARTTLS: return smtp_set.starttls_timeout;
    case CMD_MAIL: return smtp_set.mail_timeout;
    case CMD_RCPT: return smtp_set.rcpt_timeout;
    case CMD_DATA: return smtp_set.data_init_timeout;
    case CMD_DOT: return smtp_set.data_done_timeout;
    case CMD_RSET: return smtp_set.mail_timeout < RSET_TIMEOUT ? smtp_set.mail_timeout
                                                              : RSET_TIMEOUT;
    case CMD_QUIT: return smtp_set.quit_timeout;
    }
    return smtp_set.helo_timeout;
}

/* Formats peer text into out, cut to size: such text is long by nature and cutting it is
 * expected (vsnprintf, so the compiler does not warn of it). */
static void fmt_text(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fmt_text(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, size, fmt, ap);
    va_end(ap);
}

/* "550 5.1.1" with the class forced to c (a defer of a 5xx greeting, say) */
static void dsn_with_class(char *out, size_t size, const char *dsn, char c)
{
    snprintf(out, size, "%c%s", c, dsn + 1);
}

/* ---- life cycle ---- */

static void arm(struct session *s, int seconds)
{
    struct timeval tv = { seconds > 0 ? seconds : 1, 0 };
    evtimer_add(s->timer, &tv);
}

static void destroy(struct session *s)
{
    LIST_REMOVE(s, link);
    if (s->bev)
        bufferevent_free(s->bev);
    event_free(s->timer);
    reply_parser_free(&s->parser);
    buf_free(&s->chunk);
    tls_dane_free(&s->dane);
    free(s->q);
    free(s);
}

void session_free(struct session *s)
{
    if (s->bev) {
        bufferevent_free(s->bev);
        s->bev = NULL;
    }
    evtimer_del(s->timer);
    s->ops = NULL;
    if (s->depth > 0)
        s->doomed = true;
    else
        destroy(s);
}

void session_close_all(void)
{
    struct session *s = LIST_FIRST(&sessions);
    while (s) {
        struct session *next = LIST_NEXT(s, link);
        if (s->depth == 0)     /* one on the stack (an exit from a callback) is left be */
            destroy(s);
        s = next;
    }
}

static void enter(struct session *s)
{
    s->depth++;
}

static void leave(struct session *s)
{
    if (--s->depth == 0 && s->doomed)
        destroy(s);
}

/* ---- the queue of expected replies ---- */

static void push(struct session *s, enum smtp_cmd cmd, size_t index)
{
    if (s->qhead + s->qlen == s->qcap) {
        if (s->qhead > 0) {
            memmove(s->q, s->q + s->qhead, s->qlen * sizeof *s->q);
            s->qhead = 0;
        } else {
            s->qcap = s->qcap ? s->qcap * 2 : 16;
            s->q = xrealloc(s->q, s->qcap * sizeof *s->q);
        }
    }
    s->q[s->qhead + s->qlen++] = (struct expect){ cmd, index };
}

/* The timer for what is awaited now: the head reply, unless the message is still going out
 * (then each write's progress re-arms it with smtp_data_xfer_timeout). */
static void arm_head(struct session *s)
{
    if (s->sending || s->phase == P_QUIT)   /* QUIT keeps the time limit it was given */
        return;
    if (s->qlen > 0)
        arm(s, cmd_timeout(s->q[s->qhead].cmd));
    else
        evtimer_del(s->timer);
}

static void write_line(struct session *s, const char *line)
{
    bufferevent_write(s->bev, line, strlen(line));
    bufferevent_write(s->bev, "\r\n", 2);
}

void session_command(struct session *s, enum smtp_cmd cmd, size_t index, const char *line)
{
    if (s->bev == NULL)
        return;
    write_line(s, line);
    session_expect(s, cmd, index);
}

void session_expect(struct session *s, enum smtp_cmd cmd, size_t index)
{
    push(s, cmd, index);
    if (s->qlen == 1)
        arm_head(s);
}

/* ---- failures ---- */

/* Reports e to the owner and lets the session go: after a QUIT (up to SHORT_QUIT seconds)
 * when quit is set and the connection still stands, else closed now. */
static void fail(struct session *s, struct session_error *e, bool quit)
{
    e->greeted = s->greeted;
    snprintf(e->relay, sizeof e->relay, "%s", s->relay);
    snprintf(e->host, sizeof e->host, "%s", s->t.host);
    const struct session_ops *ops = s->ops;
    void *arg = s->arg;
    s->ops = NULL;
    if (quit && s->bev && !s->sending)
        session_quit(s, SHORT_QUIT);
    else
        session_free(s);
    if (ops && ops->error)
        ops->error(arg, s, e);
}

static void fail_text(struct session *s, const char *dsn, bool quit, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_text(struct session *s, const char *dsn, bool quit, const char *fmt, ...)
{
    struct session_error e;
    memset(&e, 0, sizeof e);
    snprintf(e.dsn, sizeof e.dsn, "%s", dsn);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.text, sizeof e.text, fmt, ap);
    va_end(ap);
    fail(s, &e, quit);
}

static const char *current_phase(const struct session *s)
{
    if (s->sending)
        return "sending message body";
    if (s->phase == P_HANDSHAKE)
        return "performing the TLS handshake";
    if (s->qlen > 0)
        return cmd_phase(s->q[s->qhead].cmd);
    return "waiting for the next command";
}

void session_reply_text(const struct session *s, enum smtp_cmd cmd, const struct smtp_reply *r,
                        char *out, size_t size)
{
    fmt_text(out, size, "host %s said: %s (in reply to %s command)", s->name, r->text,
             cmd_name(cmd));
}

void session_reply_error(const struct session *s, enum smtp_cmd cmd, const struct smtp_reply *r,
                         struct session_error *e)
{
    memset(e, 0, sizeof *e);
    dsn_with_class(e->dsn, sizeof e->dsn, r->dsn, '4');
    session_reply_text(s, cmd, r, e->text, sizeof e->text);
    fmt_text(e->diag, sizeof e->diag, "smtp; %s", r->text);
}

static void fail_reply(struct session *s, enum smtp_cmd cmd, const struct smtp_reply *r)
{
    struct session_error e;
    session_reply_error(s, cmd, r, &e);
    if (cmd == CMD_GREETING || cmd == CMD_EHLO || cmd == CMD_HELO || cmd == CMD_LHLO)
        fmt_text(e.text, sizeof e.text, "host %s refused to talk to me: %s", s->name, r->text);
    fail(s, &e, true);
}

/* ---- the handshake: greeting, EHLO/HELO/LHLO, STARTTLS ---- */

static void send_hello(struct session *s, enum smtp_cmd cmd)
{
    char line[300];
    snprintf(line, sizeof line, "%s %s", cmd_name(cmd), smtp_set.helo_name);
    s->phase = P_HELLO;
    session_command(s, cmd, 0, line);
}

static void become_ready(struct session *s)
{
    s->phase = P_READY;
    arm_head(s);
    if (s->ops && s->ops->ready)
        s->ops->ready(s->arg, s);
}

static void start_tls(struct session *s)
{
    /* response injection: whatever the server sent after its 220 came before the handshake
     * and is not to be believed; the parser starts over too */
    struct evbuffer *in = bufferevent_get_input(s->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    char err[256];
    SSL *ssl = tls_client_ssl(smtp_set.tls, s->t.host, s->level >= TLS_LEVEL_VERIFY,
                              s->level == TLS_LEVEL_DANE ? &s->dane : NULL, &s->check, err,
                              sizeof err);
    struct bufferevent *tls = NULL;
    if (ssl)
        tls = bufferevent_openssl_filter_new(server_base(), s->bev, ssl,
                                             BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
    if (tls == NULL) {
        if (ssl) {
            SSL_free(ssl);
            snprintf(err, sizeof err, "out of memory");
        }
        fail_text(s, "4.7.5", false, "Cannot start TLS: %s", err);
        return;
    }
    s->bev = tls;
    bufferevent_setcb(tls, on_read, on_write, on_event, s);
    bufferevent_setwatermark(tls, EV_READ, 0, READ_HIGH);
    bufferevent_enable(tls, EV_READ | EV_WRITE);
    s->phase = P_HANDSHAKE;
    arm(s, smtp_set.starttls_timeout);
}

static void tls_established(struct session *s)
{
    SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
    enum tls_trust trust = tls_client_trust(ssl, &s->check);
    char info[256];
    tls_summary(ssl, info, sizeof info);
    log_info("%s TLS connection established to %s: %s", tls_trust_name(trust), s->relay, info);
    if (s->level >= TLS_LEVEL_VERIFY && trust != TLS_VERIFIED) {
        fail_text(s, "4.7.5", false, "Server certificate not verified: %s",
                  s->check.chain_bad ? s->check.why
                  : trust == TLS_ANONYMOUS ? "no certificate"
                  : "the certificate is not for this host");
        return;
    }
    s->tls = true;
    memset(&s->caps, 0, sizeof s->caps);
    send_hello(s, smtp_set.lmtp ? CMD_LHLO : CMD_EHLO);
}

static bool tls_possible(const struct session *s)
{
    return smtp_set.tls != NULL && s->t.port != 0 && s->level != TLS_LEVEL_NONE;
}

static void after_hello(struct session *s)
{
    if (s->tls) {
        become_ready(s);
    } else if (tls_possible(s) && s->caps.starttls) {
        s->phase = P_STARTTLS;
        session_command(s, CMD_STARTTLS, 0, "STARTTLS");
    } else if (s->level >= TLS_LEVEL_ENCRYPT) {
        if (smtp_set.tls == NULL)
            fail_text(s, "4.7.5", true, "TLS is required, but unavailable locally");
        else
            fail_text(s, "4.7.4", true, "TLS is required, but was not offered by host %s",
                      s->name);
    } else {
        become_ready(s);
    }
}

static void handshake_reply(struct session *s, enum smtp_cmd cmd, const struct smtp_reply *r)
{
    int c = reply_class(r->code);
    switch (cmd) {
    case CMD_GREETING:
        s->greeted = true;
        if (c != 2)
            fail_reply(s, cmd, r);
        else
            send_hello(s, smtp_set.lmtp ? CMD_LHLO : CMD_EHLO);
        return;
    case CMD_EHLO:
    case CMD_LHLO:
        if (c == 2) {
            reply_caps(s->parser.lines.data, s->parser.lines.len, &s->caps);
            after_hello(s);
        } else if (cmd == CMD_EHLO && c == 5 && !s->tls) {
            send_hello(s, CMD_HELO);
        } else {
            fail_reply(s, cmd, r);
        }
        return;
    case CMD_HELO:
        memset(&s->caps, 0, sizeof s->caps);
        if (c == 2)
            after_hello(s);
        else
            fail_reply(s, cmd, r);
        return;
    case CMD_STARTTLS:
        if (r->code == 220)
            start_tls(s);
        else if (s->level == TLS_LEVEL_MAY)
            become_ready(s);
        else
            fail_text(s, "4.7.4", true, "TLS is required, but host %s refused to start TLS: %s",
                      s->name, r->text);
        return;
    default:
        fail_text(s, "4.5.0", false, "unexpected reply from %s: %s", s->name, r->text);
        return;
    }
}

/* ---- input ---- */

static void got_reply(struct session *s, const struct smtp_reply *r)
{
    if (s->sending && s->streaming) {
        /* nothing may be answered before the final dot is even queued: taking this as the
         * reply to it would report mail sent that was not, and leave the session out of step
         * (once the dot is queued, a reply is its reply, even if the write callback that
         * notices the flush has not run yet) */
        fail_text(s, "4.5.0", false, "protocol error with %s: reply before the end of data: %s",
                  s->name, r->text);
        return;
    }
    s->sending = false;
    if (s->qlen == 0) {
        if (s->phase == P_QUIT)
            session_free(s);
        else
            fail_text(s, "4.4.2", false, "lost connection with %s: unexpected reply: %s",
                      s->name, r->text);
        return;
    }
    struct expect e = s->q[s->qhead++];
    if (--s->qlen == 0)
        s->qhead = 0;
    arm_head(s);
    if (s->phase == P_QUIT) {
        if (s->qlen == 0)
            session_free(s);
    } else if (s->phase < P_READY) {
        handshake_reply(s, e.cmd, r);
    } else if (s->ops && s->ops->reply) {
        s->ops->reply(s->arg, s, e.cmd, e.index, r);
    }
}

static void protocol_error(struct session *s, const char *why)
{
    if (s->phase == P_QUIT)
        session_free(s);
    else
        fail_text(s, "4.5.0", false, "protocol error with %s while %s: %s", s->name,
                  current_phase(s), why);
}

/* Takes the next whole line from the input: 1, 0 when there is none yet, -1 after an error. */
static int next_line(struct session *s, char *line, size_t *len)
{
    struct evbuffer *in = bufferevent_get_input(s->bev);
    size_t eol_len = 0;
    struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
    if (p.pos < 0) {
        if (evbuffer_get_length(in) <= REPLY_LINE_MAX + 1)
            return 0;
        protocol_error(s, "reply line too long");
        return -1;
    }
    if ((size_t)p.pos > REPLY_LINE_MAX) {
        protocol_error(s, "reply line too long");
        return -1;
    }
    *len = (size_t)p.pos;
    evbuffer_remove(in, line, *len);
    evbuffer_drain(in, eol_len);
    return 1;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct session *s = arg;
    enter(s);
    if (s->phase == P_CONNECT)
        connected(s);
    char line[REPLY_LINE_MAX + 1];
    size_t len;
    while (s->bev && !s->doomed && next_line(s, line, &len) == 1) {
        char why[ERR_TEXT_MAX];
        int rc = reply_feed(&s->parser, line, len, why, sizeof why);
        if (rc == REPLY_ERROR)
            protocol_error(s, why);
        else if (rc == REPLY_DONE)
            got_reply(s, &s->parser.reply);
    }
    leave(s);
}

/* ---- output: the message ---- */

/* The next piece of content: up to CHUNK bytes of the current piece of the message
 * (qfile_content_next); false at the end of the content (or of the data). */
static bool next_piece(struct session *s, const char **p, size_t *n)
{
    if (s->flat && s->rec_left == 0 && s->src_pos < s->src_len) {
        s->rec = s->src + s->src_pos;
        s->rec_left = s->src_len - s->src_pos;
        s->src_pos = s->src_len;
    }
    while (!s->flat && s->rec_left == 0)
        if (!qfile_content_next(s->src, s->src_len, s->env, &s->it, &s->rec, &s->rec_left))
            return false;
    if (s->rec_left == 0)
        return false;
    *n = s->rec_left < CHUNK ? s->rec_left : CHUNK;
    *p = s->rec;
    s->rec += *n;
    s->rec_left -= *n;
    return true;
}

static void refill(struct session *s)
{
    struct evbuffer *out = bufferevent_get_output(s->bev);
    while (s->streaming && evbuffer_get_length(out) < WRITE_HIGH) {
        const char *p;
        size_t n;
        buf_reset(&s->chunk);
        if (next_piece(s, &p, &n)) {
            dotstuff_encode(&s->ds, p, n, &s->chunk);   /* chunk holds 2 * CHUNK + 8 */
        } else {
            dotstuff_finish(&s->ds, &s->chunk);
            s->streaming = false;
            bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
        }
        bufferevent_write(s->bev, s->chunk.data, s->chunk.len);
    }
    arm(s, smtp_set.data_xfer_timeout);
}

static void start_sending(struct session *s, const char *data, size_t len,
                          const struct qfile_envelope *env)
{
    if (s->bev == NULL)
        return;
    s->flat = env == NULL;
    s->src = data;
    s->src_len = len;
    s->src_pos = 0;
    s->env = env;
    memset(&s->it, 0, sizeof s->it);
    s->rec = NULL;
    s->rec_left = 0;
    dotstuff_init(&s->ds);
    s->sending = s->streaming = true;
    bufferevent_setwatermark(s->bev, EV_WRITE, WRITE_LOW, 0);
    refill(s);
}

void session_send_content(struct session *s, const char *data, size_t len,
                          const struct qfile_envelope *env)
{
    start_sending(s, data, len, env);
}

void session_send_flat(struct session *s, const char *data, size_t len)
{
    start_sending(s, data, len, NULL);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct session *s = arg;
    if (!s->sending)
        return;
    enter(s);
    if (s->streaming) {
        refill(s);
    } else if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        s->sending = false;
        arm_head(s);
    }
    leave(s);
}

/* ---- connection events and the timer ---- */

/* The greeting is expected from the start (push in session_connect): libevent may report
 * the server's first bytes before it reports the connection itself. */
static void connected(struct session *s)
{
    s->phase = P_GREETING;
    arm_head(s);
}

static void connection_failed(struct session *s, int err)
{
    fail_text(s, "4.4.1", false, "connect to %s: %s", s->relay,
              strerror(err ? err : ECONNREFUSED));
}

static void handshake_failed(struct session *s)
{
    char why[256];
    unsigned long e = bufferevent_get_openssl_error(s->bev);
    if (e != 0)
        ERR_error_string_n(e, why, sizeof why);
    else
        snprintf(why, sizeof why, "the server closed the connection");
    while (bufferevent_get_openssl_error(s->bev) != 0)
        ;
    struct session_error err;
    memset(&err, 0, sizeof err);
    snprintf(err.dsn, sizeof err.dsn, "4.7.5");
    snprintf(err.text, sizeof err.text, "Cannot start TLS: handshake failure with %s: %s",
             s->name, why);
    err.retry_plain = s->level == TLS_LEVEL_MAY;
    fail(s, &err, false);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct session *s = arg;
    enter(s);
    if (what & BEV_EVENT_CONNECTED) {
        if (s->phase == P_CONNECT)
            connected(s);
        else if (s->phase == P_HANDSHAKE)
            tls_established(s);
    } else if (s->phase == P_QUIT) {
        session_free(s);
    } else if (s->phase == P_CONNECT) {
        connection_failed(s, EVUTIL_SOCKET_ERROR());
    } else if (s->phase == P_HANDSHAKE) {
        handshake_failed(s);
    } else {
        fail_text(s, "4.4.2", false, "lost connection with %s while %s", s->name,
                  current_phase(s));
    }
    leave(s);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct session *s = arg;
    enter(s);
    if (s->phase == P_QUIT)
        session_free(s);
    else if (s->phase == P_CONNECT)
        connection_failed(s, s->connect_errno ? s->connect_errno : ETIMEDOUT);
    else
        fail_text(s, "4.4.2", false, "conversation with %s timed out while %s", s->name,
                  current_phase(s));
    leave(s);
}

struct session *session_connect(const struct smtp_target *t, enum tls_level level,
                                const struct tls_dane *dane, const struct session_ops *ops,
                                void *arg)
{
    struct session *s = xcalloc(1, sizeof *s);
    s->t = *t;
    if (dane)
        tls_dane_copy(&s->dane, dane->records, dane->count);
    smtp_target_relay(t, s->relay, sizeof s->relay);
    smtp_target_name(t, s->name, sizeof s->name);
    s->level = t->port ? level : TLS_LEVEL_NONE;
    s->phase = P_CONNECT;
    s->ops = ops;
    s->arg = arg;
    reply_parser_init(&s->parser);
    buf_init(&s->chunk, 2 * CHUNK + 8);
    s->timer = evtimer_new(server_base(), on_timer, s);
    LIST_INSERT_HEAD(&sessions, s, link);
    s->bev = bufferevent_socket_new(server_base(), -1, BEV_OPT_CLOSE_ON_FREE);
    if (s->bev == NULL || s->timer == NULL)
        log_fatal("out of memory for a connection");
    push(s, CMD_GREETING, 0);
    bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
    bufferevent_setwatermark(s->bev, EV_READ, 0, READ_HIGH);
    if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&s->t.sa, (int)s->t.salen) < 0) {
        /* reported from the loop, never before the caller has the session */
        s->connect_errno = errno ? errno : ECONNREFUSED;
        struct timeval now = { 0, 0 };
        evtimer_add(s->timer, &now);
        return s;
    }
    bufferevent_enable(s->bev, EV_READ | EV_WRITE);
    arm(s, smtp_set.connect_timeout);
    return s;
}

void session_quit(struct session *s, int timeout)
{
    s->ops = NULL;
    if (s->bev == NULL || s->sending || s->phase == P_CONNECT || s->phase == P_HANDSHAKE) {
        session_free(s);
        return;
    }
    s->phase = P_QUIT;
    write_line(s, "QUIT");
    push(s, CMD_QUIT, 0);
    arm(s, timeout);
}

void session_set_owner(struct session *s, const struct session_ops *ops, void *arg)
{
    s->ops = ops;
    s->arg = arg;
}

const struct smtp_caps *session_caps(const struct session *s) { return &s->caps; }
const struct smtp_target *session_target(const struct session *s) { return &s->t; }
const char *session_relay(const struct session *s) { return s->relay; }
const char *session_name(const struct session *s) { return s->name; }
int session_uses(const struct session *s) { return s->uses; }
void session_count_use(struct session *s) { s->uses++; }

