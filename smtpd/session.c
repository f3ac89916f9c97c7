/* session.c: one SMTP session (session.h). Input is read from the bufferevent one command line
 * at a time (or as DATA/BDAT content); each command gets its reply; a message is written to a
 * queue file while it arrives and answered with 250 only after qcommit has made it durable.
 * Waiting (commit, password check, tarpit delay) pauses only this session: reading stops and
 * resumes when the wait ends. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "addrlist.h"
#include "auth.h"
#include "auth_results.h"
#include "buf.h"
#include "config.h"
#include "data.h"
#include "dkim_signer.h"
#include "dns.h"
#include "header_scanner.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "mem.h"
#include "msgauth.h"
#include "policy.h"
#include "qcommit.h"
#include "qfile.h"
#include "server.h"
#include "session.h"
#include "smtp_parse.h"
#include "smtp_rules.h"
#include "smtpd.h"
#include "srs_rcpt.h"
#include "tls.h"
#include "tls_summary.h"
#include "workpool.h"

#define CONTENT_FLUSH (64 * 1024)    /* queue file content records */
#define INPUT_MAX (256 * 1024)       /* the input buffer's read high-water mark */
#define READ_AHEAD (64 * 1024)       /* one direct read of message content */
#define READ_AHEAD_BURST (1024 * 1024) /* content read in one turn before other clients' */
#define REPLY_MAX 1024
#define NAME_LOOKUP_MS 10000         /* the longest a client waits for its greeting */
#define OUTPUT_HIGH (64 * 1024)      /* replies a client has not read: stop reading it */
#define OUTPUT_LOW (16 * 1024)       /* ... until they drain below this */
#define AUTH_JOBS_MAX 64             /* password checks in flight per process (then 454) */

static int auth_jobs;                /* password checks in flight in this process */

enum mode {
    MODE_COMMAND,
    MODE_AUTH,        /* reading an AUTH response line */
    MODE_DATA,
    MODE_BDAT,
};

struct rcpt {
    struct smtp_address addr;
    struct rcpt_params params;
};

struct session {
    struct bufferevent *bev;
    struct event *delay;               /* tarpit: the pending reply goes out when it fires */
    struct event *linger;              /* closing: waits for the last reply to leave */
    long long linger_ticks;
    char addr[INET6_ADDRSTRLEN];
    char port[8];
    char name[256];                    /* verified client name, or "unknown" */
    char client[256 + INET6_ADDRSTRLEN + 4]; /* "name[1.2.3.4]" */
    struct dns_req *lookup;            /* the client name look-up under way */
    bool trusted_net;                  /* in mynetworks */
    enum mode mode;
    bool waiting;                      /* a commit, password check or TLS handshake runs */
    bool output_full;                  /* the client does not read its replies: wait for it */
    bool tarpit;                       /* a reply is held back: the delay timer runs */
    int jobs;                          /* commits and password checks in flight */
    bool dead;                         /* the connection is gone; free when jobs reach 0 */
    bool closing;                      /* close once the output is flushed */
    bool skipping_long_line;
    const char *last_command;          /* for "lost connection after X" */
    struct buf pending;                /* a reply held back by the tarpit */

    /* HELO/EHLO, TLS, AUTH */
    char helo[256];
    bool helo_seen, esmtp, pipelining_offered;
    bool tls;
    char tls_info[160];
    bool authenticated;
    char login[AUTH_FIELD_MAX];
    struct auth_dialogue auth;         /* the AUTH exchange under way, or the last one */
    int auth_failures;

    /* the mail transaction */
    bool in_mail;
    struct smtp_address sender;
    struct mail_params mparams;
    struct rcpt *rcpts;
    size_t nrcpt, rcpt_cap;
    bool from_checked;                 /* the login may use only its own From: addresses */
    struct msgauth *msgauth;           /* SPF, DKIM, DMARC of an untrusted client's message */
    struct dkim_signer *signer;        /* DKIM signing of a trusted or logged-in client's */
    struct buf signed_out;             /* what the signer gives back to store */

    /* the message */
    struct qfile *q;
    struct data_filter filter;
    struct buf content;
    bool store_failed;
    bool header_done;                  /* the header ended and was looked at */
    int results_removed;               /* Authentication-Results fields claiming to be ours */
    char header_reply[REPLY_MAX];      /* a rejection the header earned (the From: check) */
    bool bdat_started;                 /* a BDAT sequence is under way */
    bool bdat_last;
    bool bdat_discard;                 /* the BDAT sequence failed: read and drop its chunks */
    long long bdat_remaining;
    char date_header[80];
    char msgid_header[160];

    /* limits and the disconnect summary */
    int errors;
    int junk;
    struct { unsigned ok, total; } count[SMTP_UNKNOWN + 1];
};

/* Upper case for "lost connection after X" (as Postfix logs it); lower case in the disconnect
 * summary. */
static const char *verb_upper[] = {
    "HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "VRFY", "EXPN",
    "HELP", "STARTTLS", "AUTH", "OBSOLETE", "UNKNOWN",
};

static const char *verb_names[] = {
    "helo", "ehlo", "mail", "rcpt", "data", "bdat", "rset", "noop", "quit", "vrfy", "expn",
    "help", "starttls", "auth", "obsolete", "unknown",
};

static void process(struct session *s);
static void linger_soon(struct session *s);
static bool output_flushed(struct session *s);
static void session_free(struct session *s);
static void setup_bev(struct session *s);

/* ---- replies ---- */

static bool stopped(const struct session *s)
{
    return s->waiting || s->tarpit || s->output_full || s->closing || s->dead;
}

/* The session ends once its last reply has left (bounded: see on_linger). */
static void close_after_reply(struct session *s)
{
    s->closing = true;
    bufferevent_disable(s->bev, EV_READ);
    if (output_flushed(s) && !s->tarpit) {
        static const struct timeval now = { 0, 0 };
        evtimer_add(s->linger, &now);   /* the reply left already (deliver) */
    } else {
        linger_soon(s);
    }
}

/* A plain connection (no TLS filter or TLS socket), whose descriptor may be written to. */
static bool plain_connection(const struct session *s)
{
    return !s->tls && !bufferevent_openssl_get_ssl(s->bev) && !bufferevent_get_underlying(s->bev);
}

/* Queues output in the bufferevent and lets it write. A plain session enables writing only
 * once something waits in the buffer (most replies go straight to the socket: deliver), which
 * spares each session an epoll change and a wake-up for an empty buffer. */
static void queue_output(struct bufferevent *bev, const void *p, size_t n)
{
    bufferevent_write(bev, p, n);
    bufferevent_enable(bev, EV_WRITE);
}

/* Writes reply text now, or behind the reply the tarpit holds back. A reply with nothing
 * before it in the output buffer and no pipelined command after it goes straight to the
 * socket (a loop turn and two epoll changes less); pipelined replies gather in the buffer and
 * leave together. */
static void deliver(struct session *s, const char *text, size_t n)
{
    if (s->tarpit) {
        buf_append(&s->pending, text, n);
        return;
    }
    if (plain_connection(s) && evbuffer_get_length(bufferevent_get_output(s->bev)) == 0 &&
        evbuffer_get_length(bufferevent_get_input(s->bev)) == 0) {
        ssize_t w = send(bufferevent_getfd(s->bev), text, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            text += w;
            n -= (size_t)w;
        }
        /* an error (or a full socket) is the bufferevent's to meet with the rest */
    }
    if (n > 0)
        queue_output(s->bev, text, n);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    struct session *s = arg;
    s->tarpit = false;
    queue_output(s->bev, s->pending.data, s->pending.len);
    buf_reset(&s->pending);
    if (s->closing && !evtimer_pending(s->linger, NULL))
        linger_soon(s);
    if (!s->waiting && !s->closing) {
        bufferevent_enable(s->bev, EV_READ);
        process(s);
    }
}

/* Holds the next replies back by smtpd_error_sleep_time and stops reading meanwhile. */
static void start_tarpit(struct session *s)
{
    if (s->tarpit || smtpd.set.error_sleep_time <= 0)
        return;
    s->tarpit = true;
    bufferevent_disable(s->bev, EV_READ);
    struct timeval t = { smtpd.set.error_sleep_time, 0 };
    evtimer_add(s->delay, &t);
}

static size_t format_line(char *text, size_t size, const char *fmt, va_list ap)
{
    int n = vsnprintf(text, size - 2, fmt, ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > size - 3)
        n = (int)size - 3;
    text[n++] = '\r';
    text[n++] = '\n';
    text[n] = '\0';
    return (size_t)n;
}

/* A reply that ends the session (421, 221, 554 for pipelining): after any held reply. */
static void reply_close(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_close(struct session *s, const char *fmt, ...)
{
    char text[REPLY_MAX];
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_line(text, sizeof text, fmt, ap);
    va_end(ap);
    deliver(s, text, n);
    close_after_reply(s);
}

/* Sends one reply line (CRLF added). Past smtpd_soft_error_limit errors, replies are held back
 * by smtpd_error_sleep_time (a tarpit for this session only); 4xx/5xx replies count as errors and
 * at smtpd_hard_error_limit the session ends. */
static void reply(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct session *s, const char *fmt, ...)
{
    char text[REPLY_MAX];
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_line(text, sizeof text, fmt, ap);
    va_end(ap);
    if (s->errors >= smtpd.set.soft_error_limit)
        start_tarpit(s);
    deliver(s, text, n);
    if (text[0] != '4' && text[0] != '5')
        return;
    if (++s->errors >= smtpd.set.hard_error_limit && !s->closing) {
        log_info("too many errors after %s from %s", s->last_command, s->client);
        reply_close(s, "421 4.7.0 %s Error: too many errors", smtpd.set.myhostname);
    }
}

/* ---- the transaction ---- */

static void reset_transaction(struct session *s)
{
    s->in_mail = false;
    memset(&s->sender, 0, sizeof s->sender);
    memset(&s->mparams, 0, sizeof s->mparams);
    s->nrcpt = 0;
    /* an idle session keeps nothing of its last message */
    free(s->rcpts);
    s->rcpts = NULL;
    s->rcpt_cap = 0;
    if (s->q) {
        qfile_abort(s->q);
        s->q = NULL;
    }
    size_t content_max = s->content.max;
    buf_free(&s->content);
    buf_init(&s->content, content_max);
    s->store_failed = false;
    s->from_checked = s->header_done = false;
    s->results_removed = 0;
    msgauth_free(s->msgauth);
    s->msgauth = NULL;
    dkim_signer_free(s->signer);
    s->signer = NULL;
    buf_free(&s->signed_out);
    buf_init(&s->signed_out, BUF_UNBOUNDED);
    s->header_reply[0] = '\0';
    s->bdat_started = s->bdat_last = s->bdat_discard = false;
    s->bdat_remaining = 0;
}

static const char *protocol(const struct session *s)
{
    static const char *names[] = { "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA" };
    if (!s->esmtp)
        return names[0];
    return names[1 + (s->tls ? 1 : 0) + (s->authenticated ? 2 : 0)];
}

/* "NOQUEUE: reject: RCPT from host[addr]: 554 5.7.1 ...; from=<a> to=<b> proto=ESMTP helo=<h>" */
static void log_reject(struct session *s, const char *stage, const char *text, const char *to)
{
    struct buf b;
    buf_init(&b, 4096);
    buf_printf(&b, "NOQUEUE: reject: %s from %s: %s; from=<%s>", stage, s->client, text,
               s->sender.address);
    if (to)
        buf_printf(&b, " to=<%s>", to);
    buf_printf(&b, " proto=%s helo=<%s>", protocol(s), s->helo);
    log_info("%s", buf_str(&b));
    buf_free(&b);
}

/* ---- queue file ---- */

static void rfc5322_date(char *out, size_t size, time_t t)
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, size, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

/* The envelope of the queue file, from the session (qenvelope.h writes the records). */
static int write_envelope(struct session *s)
{
    static const char *const bodies[] = { NULL, "7BIT", "8BITMIME", "BINARYMIME" };
    struct qenvelope_rcpt *rcpt = xcalloc(s->nrcpt ? s->nrcpt : 1, sizeof *rcpt);
    for (size_t i = 0; i < s->nrcpt; i++) {
        const struct rcpt *rc = &s->rcpts[i];
        rcpt[i].address = rc->addr.address;
        rcpt[i].notify = rc->params.notify;
        rcpt[i].orcpt_type = rc->params.orcpt_type;
        rcpt[i].orcpt = rc->params.orcpt;
    }
    struct qenvelope e = {
        .sender = s->sender.address,
        .client_name = s->name,
        .client_address = s->addr,
        .client_port = s->port,
        .helo = s->helo,
        .protocol = protocol(s),
        .sasl_username = s->authenticated ? s->login : NULL,
        .tls = s->tls ? s->tls_info : NULL,
        .envid = s->mparams.envid[0] ? s->mparams.envid : NULL,
        .ret = s->mparams.ret == RET_NONE ? NULL
             : s->mparams.ret == RET_FULL ? QATTR_RET_FULL : QATTR_RET_HDRS,
        .body = bodies[s->mparams.body],
        .smtputf8 = s->mparams.smtputf8,
        .rcpt = rcpt,
        .nrcpt = s->nrcpt,
    };
    int r = qfile_put_envelope(s->q, &e);
    free(rcpt);
    return r;
}

static int write_received(struct session *s)
{
    char date[64];
    rfc5322_date(date, sizeof date, time(NULL));
    struct buf h;
    buf_init(&h, BUF_UNBOUNDED);
    buf_printf(&h, "Received: from %s (%s [%s])\r\n", s->helo[0] ? s->helo : "unknown", s->name,
               s->addr);
    if (s->tls)
        buf_printf(&h, "\t(using %s)\r\n", s->tls_info);
    if (s->authenticated && smtpd.set.sasl_authenticated_header)
        buf_printf(&h, "\t(Authenticated sender: %s)\r\n", s->login);
    buf_printf(&h, "\tby %s (tern) with %s id %s", smtpd.set.myhostname, protocol(s),
               qfile_id(s->q));
    if (s->nrcpt == 1)
        buf_printf(&h, "\r\n\tfor <%s>", s->rcpts[0].addr.address);
    buf_printf(&h, "; %s\r\n", date);
    int r = qfile_put_content(s->q, h.data, h.len);
    buf_free(&h);
    return r;
}

/* Creates the queue file when the content starts: envelope, then Received:. */
static int open_queue_file(struct session *s)
{
    data_filter_init(&s->filter, false);
    s->q = qfile_create();
    if (s->q == NULL) {
        log_warn("cannot create a queue file: %s", strerror(errno));
        return -1;
    }
    qcommit_start(s->q);   /* its directory entry goes to disk while the content arrives */
    if (s->authenticated)
        log_info("%s: client=%s, sasl_method=%s, sasl_username=%s", qfile_id(s->q), s->client,
                 s->auth.mech, s->login);
    else
        log_info("%s: client=%s", qfile_id(s->q), s->client);
    if (write_envelope(s) < 0 || write_received(s) < 0) {
        log_warn("%s: cannot write the queue file: %s", qfile_id(s->q), strerror(errno));
        return -1;
    }
    s->filter.size_limit = (size_t)smtpd.set.message_size_limit;
    s->filter.header_limit = (size_t)smtpd.set.header_size_limit;
    s->filter.normalize_newlines = !smtpd.set.reject_bare_newline;
    if (smtpd.set.add_missing_headers) {
        char date[64];
        rfc5322_date(date, sizeof date, time(NULL));
        snprintf(s->date_header, sizeof s->date_header, "Date: %s\r\n", date);
        snprintf(s->msgid_header, sizeof s->msgid_header, "Message-ID: <%s@%s>\r\n",
                 qfile_id(s->q), smtpd.set.myhostname);
        s->filter.date_header = s->date_header;
        s->filter.msgid_header = s->msgid_header;
    }
    buf_reset(&s->content);
    if (smtpd.signing && (s->authenticated || s->trusted_net))
        s->signer = dkim_signer_new(smtpd.signing, (size_t)smtpd.set.header_size_limit,
                                    (long long)time(NULL));
    return 0;
}

struct from_check {
    struct session *s;
    char *reply;
};

static int from_address(const char *addr, int bad, void *arg)
{
    struct from_check *c = arg;
    if (bad) {   /* too long or with control characters: no address the login can own */
        snprintf(c->reply, REPLY_MAX, "550 5.7.1 From: address rejected: malformed address "
                 "(not owned by user %s)", c->s->login);
        return 1;
    }
    return policy_check_from(smtpd.policy, addr, c->s->login, c->reply, REPLY_MAX) == SENDER_OK
               ? 0 : 1;
}

/* A logged-in client held to its addresses may use only those in its From: fields too. */
static void check_from_header(struct session *s, const char *header, size_t len)
{
    struct header_fields it;
    struct header_field f;
    header_fields_init(&it, header, len);
    while (header_fields_next(&it, &f)) {
        if (f.name != HEADER_FROM)
            continue;
        struct from_check c = { s, s->header_reply };   /* the parser reads folded values */
        if (addrlist_parse(header + f.value, f.end - f.value, from_address, &c) < 0)
            return;
    }
}

/* RFC 8601 section 5: an Authentication-Results field that claims to be this host's is a
 * forgery (or a loop); each is taken out of the header before smtpd adds its own. */
static void remove_our_results(struct session *s)
{
    static const char name[] = "Authentication-Results";
    struct header_fields it;
    struct header_field f;
    size_t kept = 0, from = 0;   /* the header is compacted in place behind the walk */
    header_fields_init(&it, s->content.data, s->content.len);
    while (header_fields_next(&it, &f)) {
        const char *p = s->content.data;
        if (f.name_len != sizeof name - 1 || strncasecmp(p + f.start, name, f.name_len) != 0 ||
            !auth_results_is_ours(p + f.value, f.end - f.value, smtpd.set.auth.authserv_id))
            continue;
        /* the bytes since the last removed field stay; this field goes */
        memmove(s->content.data + kept, p + from, f.start - from);
        kept += f.start - from;
        from = f.end;
        s->results_removed++;
    }
    if (from == 0)
        return;
    memmove(s->content.data + kept, s->content.data + from, s->content.len - from);
    s->content.len -= from - kept;
}

/* The header has ended: it is whole at the front of s->content, and is looked at once. */
static void header_ended(struct session *s)
{
    s->header_done = true;
    if (s->filter.too_big || s->filter.header_too_big)
        return;
    if (s->from_checked)
        check_from_header(s, s->content.data, s->content.len);
    remove_our_results(s);
    if (s->results_removed)
        log_info("%s: removed %d Authentication-Results field%s claiming to be %s's",
                 s->q ? qfile_id(s->q) : "NOQUEUE", s->results_removed,
                 s->results_removed == 1 ? "" : "s",
                 smtpd.set.auth.authserv_id);
}

/* Moves filtered content into the queue file (never while the header may still change). */
static void flush_content(struct session *s, bool all)
{
    if (s->filter.in_header && !all)
        return;
    if (!s->header_done)
        header_ended(s);
    if (s->content.len == 0 || (!all && s->content.len < CONTENT_FLUSH))
        return;
    bool storing = !s->store_failed && !s->filter.too_big && !s->filter.header_too_big;
    if (s->msgauth && storing)
        msgauth_feed(s->msgauth, s->content.data, s->content.len);
    if (s->signer && storing) {
        /* the signer converts 8-bit parts before it hashes: what it gives back is stored */
        buf_reset(&s->signed_out);
        if (dkim_signer_feed(s->signer, s->content.data, s->content.len, &s->signed_out) < 0 ||
            qfile_put_content(s->q, s->signed_out.data, s->signed_out.len) < 0) {
            log_warn("%s: cannot write the queue file: %s", qfile_id(s->q), strerror(errno));
            s->store_failed = true;
        }
        buf_reset(&s->signed_out);
    } else if (storing && qfile_put(s->q, QREC_CONTENT, s->content.data, s->content.len) < 0) {
        log_warn("%s: cannot write the queue file: %s", qfile_id(s->q), strerror(errno));
        s->store_failed = true;
    }
    buf_reset(&s->content);
}

/* A wait (commit, password check, handshake) is over: read and process again. */
static void resume(struct session *s)
{
    s->waiting = false;
    if (!s->closing && !s->tarpit) {
        bufferevent_enable(s->bev, EV_READ);
        process(s);
    }
}

/* Starts a wait: nothing more is read or processed until resume(). */
static void wait_for_job(struct session *s)
{
    s->waiting = true;
    bufferevent_disable(s->bev, EV_READ);
}

static void on_wake_qmgr(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    ipc_wakeup(IPC_QMGR_SOCKET);   /* a hint: qmgr scans incoming/ anyway */
}

/* qmgr is told of new queue files once per turn of the event loop, after the turn's replies
 * were written: the 250 does not wait for the wakeup, and messages committed together cost
 * one. */
static void wake_qmgr_soon(void)
{
    static struct event *ev;
    static const struct timeval now = { 0, 0 };
    if (ev == NULL && (ev = evtimer_new(smtpd.base, on_wake_qmgr, NULL)) == NULL) {
        ipc_wakeup(IPC_QMGR_SOCKET);
        return;
    }
    if (!evtimer_pending(ev, NULL))
        evtimer_add(ev, &now);
}

static void commit_done(void *arg, int error)
{
    struct session *s = arg;
    struct qfile *q = s->q;
    s->q = NULL;
    s->jobs--;
    if (error == 0) {
        log_info("%s: from=<%s>, size=%zu, nrcpt=%zu (queued)", qfile_id(q), s->sender.address,
                 s->filter.size, s->nrcpt);
        if (!s->dead)
            reply(s, "250 2.0.0 Ok: queued as %s", qfile_id(q));
        qfile_free(q);
        wake_qmgr_soon();
        s->count[s->mode == MODE_BDAT ? SMTP_BDAT : SMTP_DATA].ok++;
    } else {
        log_warn("%s: cannot commit the queue file: %s", qfile_id(q), strerror(error));
        qfile_abort(q);
        if (!s->dead)
            reply(s, "451 4.3.0 Error: queue file write error");
    }
    if (s->dead) {
        if (s->jobs == 0)
            session_free(s);
        return;
    }
    s->mode = MODE_COMMAND;
    reset_transaction(s);
    resume(s);
}

/* The message is accepted: the file is finished and committed; the answer comes once it is on
 * disk (commit_done). false when it could not be written: 451 was answered. */
static bool commit_message(struct session *s)
{
    if (s->store_failed || s->q == NULL || qfile_finish(s->q) < 0) {
        if (s->q)
            log_warn("%s: cannot write the queue file: %s", qfile_id(s->q), strerror(errno));
        s->mode = MODE_COMMAND;
        reset_transaction(s);
        reply(s, "451 4.3.0 Error: queue file write error");
        return false;
    }
    s->jobs++;
    wait_for_job(s);
    qcommit_submit(s->q, commit_done, s);
    return true;
}

/* Submission: the Authentication-Results field says the client logged in (RFC 8601 auth=pass),
 * naming the login only where Received: would (smtpd_sasl_authenticated_header). */
static void login_results(struct session *s)
{
    struct auth_results_method m = { .method = "auth", .result = "pass" };
    if (smtpd.set.sasl_authenticated_header)
        m.props[m.nprops++] = (struct auth_results_prop){ "smtp.auth", s->login };
    struct buf field;
    char err[ERR_TEXT_MAX];
    buf_init(&field, QFILE_CONTENT_CHUNK);
    if (auth_results_compose(smtpd.set.auth.authserv_id, &m, 1, "\r\n", &field, err,
                             sizeof err) < 0)
        log_warn("%s: cannot compose the Authentication-Results field: %s", qfile_id(s->q), err);
    else if (qfile_put_header(s->q, field.data, field.len) < 0)
        s->store_failed = true;
    buf_free(&field);
}

/* What SPF, DKIM and DMARC found goes in the file's trailer (Authentication-Results, the
 * quarantine mark), unless DMARC refuses the message. */
static void auth_checked(void *arg)
{
    struct session *s = arg;
    s->jobs--;
    if (s->dead) {
        if (s->jobs == 0)
            session_free(s);
        return;
    }
    const char *id = qfile_id(s->q);
    struct msgauth_verdict v;
    msgauth_verdict(s->msgauth, &v);
    msgauth_log(s->msgauth, id);
    if (v.reject) {
        log_reject(s, "END-OF-MESSAGE", v.reply, NULL);
        s->mode = MODE_COMMAND;
        reset_transaction(s);   /* the file is gone before the client reads the reply */
        reply(s, "%s", v.reply);
        resume(s);
        return;
    }
    struct buf field;
    buf_init(&field, QFILE_CONTENT_CHUNK);
    if (msgauth_results_field(s->msgauth, &field) == 0 &&
        qfile_put_header(s->q, field.data, field.len) < 0)
        s->store_failed = true;
    buf_free(&field);
    if (v.quarantine) {
        log_info("%s: quarantine: the sender's DMARC policy asks for it", id);
        if (qfile_put_attr(s->q, QATTR_QUARANTINE, "dmarc") < 0)
            s->store_failed = true;
    }
    if (!commit_message(s))
        resume(s);
}

/* The content is complete: reject it, or commit it and answer once it is on disk. */
static void end_of_message(struct session *s, bool bdat)
{
    data_finish(&s->filter, &s->content);
    flush_content(s, true);
    const char *why = NULL;
    char header_reply[REPLY_MAX];
    if (s->filter.too_big)
        why = "552 5.3.4 Error: message file too big";
    else if (s->filter.header_too_big)
        why = "552 5.3.4 Error: message header size exceeds limit";
    else if (!bdat && s->filter.bare_newline && smtpd.set.reject_bare_newline)
        why = "550 5.5.2 Error: bare <CR> or <LF> received";
    else if (header_too_many_hops(s->filter.received, smtpd.set.hopcount_limit))
        why = "554 5.4.6 Error: too many hops";
    else if (s->header_reply[0])
        why = strcpy(header_reply, s->header_reply);   /* reset_transaction clears it */
    if (why) {
        log_reject(s, "END-OF-MESSAGE", why, NULL);
        if (s->filter.bare_newline && !bdat && s->q)
            log_info("%s: bare <CR> or <LF> in the message from %s: rejected", qfile_id(s->q),
                     s->client);
        s->mode = MODE_COMMAND;
        reset_transaction(s);   /* the file is gone before the client reads the reply */
        reply(s, "%s", why);
        return;
    }
    if (s->store_failed || s->q == NULL) {   /* nothing to add to: 451 */
        commit_message(s);
        return;
    }
    if (s->msgauth) {   /* the verdicts first: they may refuse it, and go in its trailer */
        s->jobs++;
        wait_for_job(s);
        msgauth_finish(s->msgauth, auth_checked, s);
        return;
    }
    if (s->signer && !s->store_failed &&
        dkim_signer_finish_file(s->signer, s->q, &s->signed_out) < 0) {
        log_warn("%s: cannot write the queue file: %s", qfile_id(s->q), strerror(errno));
        s->store_failed = true;
    }
    if (s->authenticated)
        login_results(s);
    commit_message(s);
}

/* ---- commands ---- */

static bool args_empty(const struct smtp_command *c)
{
    return c->args_len == 0;
}

static void ehlo_reply(struct session *s)
{
    struct buf r;
    buf_init(&r, 4096);
    /* SIZE 0: no fixed limit (message_size_limit = 0, RFC 1870) */
    buf_printf(&r, "250-%s\r\n250-PIPELINING\r\n250-SIZE %lld\r\n", smtpd.set.myhostname,
               smtpd.set.message_size_limit);
    if (smtpd.tls && !s->tls && smtpd.set.tls_offer)
        buf_puts(&r, "250-STARTTLS\r\n");
    if (smtpd.users && s->tls && !s->authenticated)
        buf_puts(&r, "250-AUTH PLAIN LOGIN\r\n");
    buf_puts(&r, "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-BINARYMIME\r\n250-DSN\r\n"
                 "250-SMTPUTF8\r\n250 CHUNKING\r\n");
    if (s->errors >= smtpd.set.soft_error_limit)
        start_tarpit(s);
    deliver(s, r.data, r.len);
    buf_free(&r);
}

static void cmd_helo(struct session *s, const struct smtp_command *c, bool ehlo)
{
    const char *refused = smtp_rule_helo(c);
    if (refused) {
        reply(s, "%s", refused);
        return;
    }
    /* kept for Received: and the log; control characters were refused with the line */
    snprintf(s->helo, sizeof s->helo, "%.*s", (int)(c->args_len < 255 ? c->args_len : 255),
             c->args);
    s->helo_seen = true;
    s->esmtp = ehlo;
    reset_transaction(s);
    s->count[ehlo ? SMTP_EHLO : SMTP_HELO].ok++;
    if (!ehlo) {
        reply(s, "250 %s", smtpd.set.myhostname);
        return;
    }
    ehlo_reply(s);
    s->pipelining_offered = true;
}

static bool queue_has_room(void)
{
    struct statvfs st;
    if (statvfs(".", &st) < 0)
        return true;   /* cannot tell: the write itself will fail cleanly if it must */
    unsigned long long avail = (unsigned long long)st.f_bavail * st.f_frsize;
    unsigned long long want = (unsigned long long)smtpd.set.message_size_limit * 3 / 2;
    if ((unsigned long long)smtpd.set.queue_minfree > want)
        want = (unsigned long long)smtpd.set.queue_minfree;
    return avail >= want;
}

static void cmd_mail(struct session *s, const struct smtp_command *c)
{
    if (smtpd.set.helo_required && !s->helo_seen) {
        reply(s, "503 5.5.1 Error: send HELO/EHLO first");
        return;
    }
    if (s->in_mail) {
        reply(s, SMTP_REPLY_NESTED_MAIL);
        return;
    }
    if (smtpd.set.require_auth && !s->authenticated) {
        reply(s, "530 5.7.0 Authentication required");
        return;
    }
    struct smtp_address a;
    struct mail_params mp;
    char text[SMTP_RULE_REPLY_MAX];
    const char *refused = smtp_rule_mail(c, smtpd.set.message_size_limit, &a, &mp, text);
    if (refused) {
        reply(s, "%s", refused);
        return;
    }
    if (!queue_has_room()) {
        log_warn("not enough free space in the queue file system for a message from %s",
                 s->client);
        reply(s, "452 4.3.1 Insufficient system storage");
        return;
    }
    bool from_checked;
    char text2[REPLY_MAX];
    enum sender_verdict v = policy_check_sender(smtpd.policy, &a, s->trusted_net,
                                                s->authenticated ? s->login : NULL,
                                                &from_checked, text2, sizeof text2);
    if (v != SENDER_OK) {
        s->sender = a;   /* for the log line */
        log_reject(s, "MAIL", text2, NULL);
        memset(&s->sender, 0, sizeof s->sender);
        reply(s, "%s", text2);
        return;
    }
    s->sender = a;
    s->mparams = mp;
    s->from_checked = from_checked;
    s->in_mail = true;
    if (smtpd.set.verify && smtpd.dns && !s->trusted_net && !s->authenticated) {
        struct msgauth_client client = { s->addr, s->helo, a.null ? "" : a.address };
        s->msgauth = msgauth_new(&smtpd.set.auth, smtpd.dns, smtpd.psl, smtpd.base, &client);
    }
    s->nrcpt = 0;
    reply(s, "250 2.1.0 Ok");
    s->count[SMTP_MAIL].ok++;
}

static void cmd_rcpt(struct session *s, const struct smtp_command *c)
{
    if (!s->in_mail) {
        reply(s, SMTP_REPLY_NEED_MAIL);
        return;
    }
    struct rcpt r;
    char rule_text[SMTP_RULE_REPLY_MAX];
    const char *refused = smtp_rule_rcpt(c, s->mparams.smtputf8, &r.addr, &r.params, rule_text);
    if (refused) {
        reply(s, "%s", refused);
        return;
    }
    if (s->nrcpt >= (size_t)smtpd.set.recipient_limit) {
        reply(s, SMTP_REPLY_TOO_MANY_RCPTS);
        return;
    }
    char text[REPLY_MAX];
    int srs = srs_rcpt_check(s->client, &r.addr, &r.params, text, sizeof text);
    enum rcpt_verdict v = srs ? (srs > 0 ? RCPT_OK : RCPT_UNKNOWN_USER)
                              : policy_check_rcpt(smtpd.policy, &r.addr, s->trusted_net,
                                                  s->authenticated, text, sizeof text);
    if (v != RCPT_OK) {
        log_reject(s, "RCPT", text, r.addr.address);
        reply(s, "%s", text);
        return;
    }
    if (s->nrcpt == s->rcpt_cap) {
        s->rcpt_cap = s->rcpt_cap ? s->rcpt_cap * 2 : 8;
        s->rcpts = xrealloc(s->rcpts, s->rcpt_cap * sizeof *s->rcpts);
    }
    s->rcpts[s->nrcpt++] = r;
    reply(s, "250 2.1.5 Ok");
    s->count[SMTP_RCPT].ok++;
}

/* What DATA and BDAT need before the content may start; 0 or -1 (replied). */
static int content_may_start(struct session *s)
{
    const char *refused = smtp_rule_content(s->in_mail, s->nrcpt);
    if (refused) {
        reply(s, "%s", refused);
        return -1;
    }
    return 0;
}

static void cmd_data(struct session *s, const struct smtp_command *c)
{
    if (!args_empty(c)) {
        reply(s, "501 5.5.4 Syntax: DATA");
        return;
    }
    if (s->bdat_started) {
        reply(s, "503 5.5.1 Error: DATA after BDAT");
        return;
    }
    if (content_may_start(s) < 0)
        return;
    if (s->mparams.body == BODY_BINARYMIME) {
        reply(s, "503 5.5.1 Error: BINARYMIME requires BDAT");
        return;
    }
    if (open_queue_file(s) < 0) {
        reset_transaction(s);
        reply(s, "451 4.3.0 Error: queue file write error");
        return;
    }
    reply(s, "354 End data with <CR><LF>.<CR><LF>");
    s->mode = MODE_DATA;
}

static void cmd_bdat(struct session *s, const struct smtp_command *c)
{
    char arg[64];
    snprintf(arg, sizeof arg, "%.*s", (int)(c->args_len < 63 ? c->args_len : 63), c->args);
    char *end;
    errno = 0;
    unsigned long long size = strtoull(arg, &end, 10);
    bool last = false;
    if (end != arg && *end == ' ') {
        while (*end == ' ')
            end++;
        last = strcasecmp(end, "LAST") == 0;
        if (!last)
            end = arg;   /* something else after the size */
    }
    if (end == arg || (*end && !last) || errno || arg[0] < '0' || arg[0] > '9' ||
        c->args_len > 63) {
        /* the chunk size is unknown, so its bytes cannot be skipped: the session must end */
        reply_close(s, "501 5.5.4 Syntax: BDAT size [LAST]");
        return;
    }
    s->bdat_remaining = (long long)(size > (unsigned long long)LLONG_MAX / 2 ? LLONG_MAX / 2 : size);
    s->bdat_last = last;
    s->mode = MODE_BDAT;
    if (s->bdat_discard)
        return;
    if (s->bdat_started && smtpd.set.message_size_limit > 0 &&
        s->filter.size + size > (unsigned long long)smtpd.set.message_size_limit) {
        s->bdat_discard = true;   /* read this chunk and every later one, then 552 */
        return;
    }
    if (!s->bdat_started) {
        bool too_big = smtpd.set.message_size_limit > 0 &&
                       size > (unsigned long long)smtpd.set.message_size_limit;
        if (!s->in_mail || s->nrcpt == 0 || too_big) {
            /* read the chunk, then say why it was refused */
            s->bdat_discard = true;
            return;
        }
        if (open_queue_file(s) < 0) {
            s->store_failed = true;
        }
        s->filter.bdat = true;
        s->bdat_started = true;
    }
}

/* After a BDAT chunk was read. */
static void bdat_chunk_done(struct session *s)
{
    if (s->bdat_discard) {
        s->mode = MODE_COMMAND;
        if (!s->in_mail || s->nrcpt == 0) {
            /* no transaction to fail: the next BDAT after MAIL and RCPT starts afresh */
            s->bdat_discard = false;
            reply(s, !s->in_mail ? "503 5.5.1 Error: need MAIL command"
                                 : "554 5.5.1 Error: no valid recipients");
            return;
        }
        if (s->bdat_last)
            reset_transaction(s);
        reply(s, "552 5.3.4 Error: message file too big");
        return;
    }
    if (!s->bdat_last) {
        flush_content(s, false);
        s->mode = MODE_COMMAND;
        reply(s, "250 2.0.0 Ok: %lld octets received", (long long)s->filter.size);
        s->count[SMTP_BDAT].ok++;
        return;
    }
    end_of_message(s, true);
}

static void cmd_rset(struct session *s)
{
    reset_transaction(s);
    reply(s, "250 2.0.0 Ok");
}

static void cmd_vrfy(struct session *s)
{
    if (smtpd.set.disable_vrfy)
        reply(s, "502 5.5.1 VRFY command is disabled");
    else {
        reply(s, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
        s->count[SMTP_VRFY].ok++;
    }
}

/* ---- STARTTLS ---- */

static void cmd_starttls(struct session *s, const struct smtp_command *c)
{
    if (!args_empty(c)) {
        reply(s, "501 5.5.4 Syntax: STARTTLS");
        return;
    }
    if (smtpd.tls == NULL || !smtpd.set.tls_offer) {
        reply(s, "502 5.5.1 Error: command not implemented");
        return;
    }
    if (s->tls) {
        reply(s, "554 5.5.1 Error: TLS already active");
        return;
    }
    SSL *ssl = SSL_new(smtpd.tls);
    if (ssl == NULL) {
        reply(s, "454 4.7.0 TLS not available due to local problem");
        return;
    }
    /* this reply goes out in plaintext before the handshake, even from a tarpitted session */
    if (s->tarpit) {
        evtimer_del(s->delay);
        s->tarpit = false;
        queue_output(s->bev, s->pending.data, s->pending.len);
        buf_reset(&s->pending);
    }
    static const char ready[] = "220 2.0.0 Ready to start TLS\r\n";
    queue_output(s->bev, ready, sizeof ready - 1);
    /* CVE-2011-0411: whatever the client pipelined after STARTTLS is discarded, and the
     * session starts over inside TLS */
    struct evbuffer *in = bufferevent_get_input(s->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    struct bufferevent *tls = bufferevent_openssl_filter_new(smtpd.base, s->bev, ssl,
                                                             BUFFEREVENT_SSL_ACCEPTING,
                                                             BEV_OPT_CLOSE_ON_FREE);
    if (tls == NULL) {
        SSL_free(ssl);
        reply_close(s, "421 4.7.0 %s Error: TLS failed", smtpd.set.myhostname);
        return;
    }
    s->bev = tls;
    setup_bev(s);
    s->helo_seen = s->esmtp = s->pipelining_offered = false;
    s->helo[0] = '\0';
    reset_transaction(s);
    s->count[SMTP_STARTTLS].ok++;
    wait_for_job(s);   /* until the handshake completes */
}

/* ---- AUTH ---- */

struct auth_job {
    struct session *s;
    char hash[256];
    char password[AUTH_FIELD_MAX];
    bool ok;
};

static void auth_work(void *arg)
{
    struct auth_job *j = arg;
    j->ok = auth_verify(j->hash[0] ? j->hash : NULL, j->password);
    sodium_memzero(j->password, sizeof j->password);
}

static void auth_done(void *arg)
{
    struct auth_job *j = arg;
    struct session *s = j->s;
    bool ok = j->ok;
    free(j);
    auth_jobs--;
    s->jobs--;
    if (s->dead) {
        if (s->jobs == 0)
            session_free(s);
        return;
    }
    s->mode = MODE_COMMAND;
    if (ok) {
        s->authenticated = true;
        snprintf(s->login, sizeof s->login, "%s", s->auth.login);
        log_info("%s: sasl_method=%s, sasl_username=%s", s->client, s->auth.mech, s->login);
        reply(s, "235 2.7.0 Authentication successful");
        s->count[SMTP_AUTH].ok++;
    } else {
        s->auth_failures++;
        log_warn("%s: SASL %s authentication failed: authentication failure, sasl_username=%s",
                 s->client, s->auth.mech, s->auth.login);
        /* every failure waits, so guessing is slow */
        start_tarpit(s);
        reply(s, "535 5.7.8 Error: authentication failed: authentication failure");
        if (s->auth_failures >= smtpd.set.sasl_failure_limit && !s->closing)
            reply_close(s, "421 4.7.0 %s Error: too many failed authentication attempts",
                        smtpd.set.myhostname);
    }
    resume(s);
}

/* Checks s->auth.login's password on a worker; auth_done answers. */
static void auth_check(struct session *s, const char *password)
{
    struct auth_job *j = xcalloc(1, sizeof *j);
    j->s = s;
    int found = auth_users_hash(smtpd.users, s->auth.login, j->hash, sizeof j->hash);
    if (found < 0) {
        free(j);
        s->mode = MODE_COMMAND;
        reply(s, "454 4.7.0 Temporary authentication failure");
        return;
    }
    if (found == 0)
        j->hash[0] = '\0';   /* checked against a dummy hash: same time as a real one */
    if (auth_jobs >= AUTH_JOBS_MAX) {
        free(j);
        s->mode = MODE_COMMAND;
        log_warn("too many password checks at once: refusing AUTH from %s", s->client);
        reply(s, "454 4.7.0 Temporary authentication failure");
        return;
    }
    auth_jobs++;
    snprintf(j->password, sizeof j->password, "%s", password);
    s->jobs++;
    wait_for_job(s);
    workpool_submit(smtpd.pool, auth_work, auth_done, j);
}

/* Does what the exchange (auth.c) answered. */
static void auth_next(struct session *s, enum auth_next next, const char *text, char *password)
{
    switch (next) {
    case AUTH_NEXT_CHALLENGE:
        s->mode = MODE_AUTH;
        reply(s, "%s", text);
        break;
    case AUTH_NEXT_DONE:
        s->mode = MODE_COMMAND;
        reply(s, "%s", text);
        break;
    case AUTH_NEXT_CHECK:
        s->mode = MODE_AUTH;   /* until auth_done: reading waits for the check anyway */
        auth_check(s, password);
        break;
    }
    sodium_memzero(password, AUTH_FIELD_MAX);
}

static void auth_response(struct session *s, const char *line, size_t len)
{
    char password[AUTH_FIELD_MAX];
    const char *text;
    enum auth_next next = auth_dialogue_response(&s->auth, line, len, password, &text);
    auth_next(s, next, text, password);
}

static void cmd_auth(struct session *s, const struct smtp_command *c)
{
    if (smtpd.users == NULL) {
        reply(s, "503 5.5.1 Error: authentication not enabled");
        return;
    }
    if (!s->tls) {
        reply(s, "538 5.7.11 Encryption required for requested authentication mechanism");
        return;
    }
    if (s->authenticated) {
        reply(s, "503 5.5.1 Error: already authenticated");
        return;
    }
    if (s->in_mail) {
        reply(s, "503 5.5.1 Error: MAIL transaction in progress");
        return;
    }
    char password[AUTH_FIELD_MAX];
    const char *text;
    enum auth_next next = auth_dialogue_start(&s->auth, c->args, c->args_len, password, &text);
    auth_next(s, next, text, password);
}

/* ---- dispatch ---- */

static bool junk(struct session *s)
{
    /* past smtpd_junk_command_limit, each NOOP/VRFY/RSET/HELP counts as an error */
    if (++s->junk > smtpd.set.junk_command_limit &&
        ++s->errors >= smtpd.set.hard_error_limit && !s->closing) {
        log_info("too many errors after %s from %s", s->last_command, s->client);
        reply_close(s, "421 4.7.0 %s Error: too many errors", smtpd.set.myhostname);
    }
    return s->closing;
}

/* Commands that a client must not send before STARTTLS when TLS is required. */
static bool allowed_before_tls(enum smtp_verb v)
{
    return v == SMTP_EHLO || v == SMTP_HELO || v == SMTP_STARTTLS || v == SMTP_NOOP ||
           v == SMTP_QUIT || v == SMTP_RSET;
}

static void command(struct session *s, const char *line, size_t len)
{
    struct smtp_command c;
    smtp_parse_command(line, len, &c);
    s->last_command = verb_upper[c.verb];
    s->count[c.verb].total++;
    if (smtpd.set.tls_required && !s->tls && !allowed_before_tls(c.verb)) {
        reply(s, "530 5.7.0 Must issue a STARTTLS command first");
        return;
    }
    switch (c.verb) {
    case SMTP_HELO: cmd_helo(s, &c, false); break;
    case SMTP_EHLO: cmd_helo(s, &c, true); break;
    case SMTP_MAIL: cmd_mail(s, &c); break;
    case SMTP_RCPT: cmd_rcpt(s, &c); break;
    case SMTP_DATA: cmd_data(s, &c); break;
    case SMTP_BDAT: cmd_bdat(s, &c); break;
    case SMTP_RSET: if (!junk(s)) { cmd_rset(s); s->count[c.verb].ok++; } break;
    case SMTP_NOOP: if (!junk(s)) { reply(s, "250 2.0.0 Ok"); s->count[c.verb].ok++; } break;
    case SMTP_VRFY: if (!junk(s)) cmd_vrfy(s); break;
    case SMTP_HELP:
        if (!junk(s)) {
            reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY "
                     "HELP STARTTLS AUTH");
            s->count[c.verb].ok++;
        }
        break;
    case SMTP_EXPN: reply(s, "502 5.5.1 Error: command not implemented"); break;
    case SMTP_STARTTLS: cmd_starttls(s, &c); break;
    case SMTP_AUTH: cmd_auth(s, &c); break;
    case SMTP_QUIT:
        reply_close(s, "221 2.0.0 Bye");
        s->count[c.verb].ok++;
        break;
    case SMTP_OBSOLETE: reply(s, "502 5.5.1 Error: command not implemented"); break;
    case SMTP_UNKNOWN: reply(s, "500 5.5.2 Error: command not recognized"); break;
    }
}

/* One line from the input, CRLF (or LF) removed; 1 when there was one, 0 when more input is
 * needed. Over-long lines are answered and skipped to their end. */
static int read_line(struct session *s, struct evbuffer *in, char **line, size_t *len)
{
    size_t max = s->mode == MODE_AUTH ? AUTH_LINE_MAX : (size_t)smtpd.set.line_length_limit;
    struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
    if (eol.pos < 0) {
        size_t have = evbuffer_get_length(in);
        if (have > max) {
            evbuffer_drain(in, have);
            if (!s->skipping_long_line) {
                s->mode = MODE_COMMAND;   /* an AUTH exchange ends here too */
                reply(s, "500 5.5.2 Error: line too long");
            }
            s->skipping_long_line = true;
        }
        return 0;
    }
    size_t n = (size_t)eol.pos;
    if (s->skipping_long_line || n > max) {
        evbuffer_drain(in, n + 1);
        if (!s->skipping_long_line) {
            s->mode = MODE_COMMAND;
            reply(s, "500 5.5.2 Error: line too long");
        }
        s->skipping_long_line = false;
        *line = NULL;
        return 1;
    }
    char *p = xmalloc(n + 1);
    evbuffer_remove(in, p, n);
    evbuffer_drain(in, 1);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    p[n] = '\0';
    *line = p;
    *len = n;
    return 1;
}

static void handle_line(struct session *s, char *line, size_t len)
{
    const char *refused = smtp_rule_line(line, len);
    if (refused) {
        s->mode = MODE_COMMAND;
        reply(s, "%s", refused);
        return;
    }
    if (s->mode == MODE_AUTH) {
        auth_response(s, line, len);
        return;
    }
    struct evbuffer *in = bufferevent_get_input(s->bev);
    bool more = evbuffer_get_length(in) > 0;
    bool offered = s->pipelining_offered;
    command(s, line, len);
    /* RFC 2920: only after EHLO offered PIPELINING may a client send ahead of the replies */
    if (more && !offered && smtpd.set.forbid_unauth_pipelining && !s->closing &&
        s->mode == MODE_COMMAND && !s->waiting) {
        log_info("improper command pipelining after %s from %s", s->last_command, s->client);
        reply_close(s, "554 5.5.0 Error: SMTP protocol synchronization");
    }
}

static void feed_data(struct session *s, struct evbuffer *in)
{
    while (!s->filter.done && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        size_t used = data_feed(&s->filter, v.iov_base, v.iov_len, &s->content);
        evbuffer_drain(in, used);
        flush_content(s, false);
    }
    if (s->filter.done) {
        end_of_message(s, false);
        if (s->mode == MODE_DATA && !s->waiting)
            s->mode = MODE_COMMAND;
    }
}

static void feed_bdat(struct session *s, struct evbuffer *in)
{
    while (s->bdat_remaining > 0 && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        size_t n = v.iov_len < (size_t)s->bdat_remaining ? v.iov_len : (size_t)s->bdat_remaining;
        if (!s->bdat_discard) {
            data_feed(&s->filter, v.iov_base, n, &s->content);
            flush_content(s, false);
        }
        evbuffer_drain(in, n);
        s->bdat_remaining -= (long long)n;
    }
    if (s->bdat_remaining == 0)
        bdat_chunk_done(s);
}

/* Replies pile up when a client sends without reading: stop reading it until they drain. */
static bool output_backlog(struct session *s)
{
    if (evbuffer_get_length(bufferevent_get_output(s->bev)) < OUTPUT_HIGH)
        return false;
    s->output_full = true;
    bufferevent_disable(s->bev, EV_READ);
    bufferevent_setwatermark(s->bev, EV_WRITE, OUTPUT_LOW, 0);
    return true;
}

/* Message content waiting on a plain connection, read straight into the input buffer in
 * large reads (libevent reads 4 KiB per event); TLS connections read through OpenSSL. Returns
 * the bytes read: 0 when nothing is there now, at the end, on an error (the bufferevent's
 * next read sees those again) or once *budget is spent. */
static size_t read_ahead(struct session *s, struct evbuffer *in, size_t *budget)
{
    if (s->tls || bufferevent_openssl_get_ssl(s->bev) || bufferevent_get_underlying(s->bev) ||
        *budget == 0)
        return 0;
    size_t have = evbuffer_get_length(in);
    if (have >= INPUT_MAX)
        return 0;
    size_t want = INPUT_MAX - have < READ_AHEAD ? INPUT_MAX - have : READ_AHEAD;
    struct evbuffer_iovec v[2];
    /* a socket bufferevent keeps its input's end frozen but for its own reads */
    evbuffer_unfreeze(in, 0);
    int nv = evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2);
    if (nv <= 0) {
        evbuffer_freeze(in, 0);
        return 0;
    }
    if ((size_t)nv > sizeof v / sizeof v[0])
        nv = sizeof v / sizeof v[0];
    size_t room = 0;
    for (int i = 0; i < nv; i++) {
        if (v[i].iov_len > want - room)
            v[i].iov_len = want - room;
        room += v[i].iov_len;
    }
    ssize_t n = readv(bufferevent_getfd(s->bev), (struct iovec *)v, nv);
    if (n <= 0) {
        evbuffer_freeze(in, 0);
        return 0;
    }
    size_t left = (size_t)n;
    for (int i = 0; i < nv; i++) {
        if (v[i].iov_len > left)
            v[i].iov_len = left;
        left -= v[i].iov_len;
    }
    evbuffer_commit_space(in, v, nv);
    evbuffer_freeze(in, 0);
    *budget = (size_t)n < *budget ? *budget - (size_t)n : 0;
    return (size_t)n;
}

static void process(struct session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->bev);
    size_t budget = READ_AHEAD_BURST;
    while (!stopped(s) && !output_backlog(s)) {
        if (s->mode == MODE_DATA) {
            feed_data(s, in);
            if (s->mode == MODE_DATA && read_ahead(s, in, &budget) == 0)
                return;   /* more content to come */
            continue;
        }
        if (s->mode == MODE_BDAT) {
            feed_bdat(s, in);
            if (s->mode == MODE_BDAT && read_ahead(s, in, &budget) == 0)
                return;
            continue;
        }
        char *line = NULL;
        size_t len = 0;
        if (read_line(s, in, &line, &len) == 0)
            return;
        if (line) {
            handle_line(s, line, len);
            free(line);
        }
    }
}

/* ---- the connection ---- */

static void log_disconnect(struct session *s)
{
    struct buf b;
    buf_init(&b, 4096);
    buf_printf(&b, "disconnect from %s", s->client);
    unsigned ok = 0, total = 0;
    for (int v = 0; v <= SMTP_UNKNOWN; v++) {
        if (s->count[v].total == 0)
            continue;
        ok += s->count[v].ok;
        total += s->count[v].total;
        if (s->count[v].ok == s->count[v].total)
            buf_printf(&b, " %s=%u", verb_names[v], s->count[v].total);
        else
            buf_printf(&b, " %s=%u/%u", verb_names[v], s->count[v].ok, s->count[v].total);
    }
    if (ok == total)
        buf_printf(&b, " commands=%u", total);
    else
        buf_printf(&b, " commands=%u/%u", ok, total);
    log_info("%s", buf_str(&b));
    buf_free(&b);
}

static void session_free(struct session *s)
{
    if (s->q) {
        qfile_abort(s->q);
        s->q = NULL;
    }
    msgauth_free(s->msgauth);
    dkim_signer_free(s->signer);
    buf_free(&s->signed_out);
    if (s->delay)
        event_free(s->delay);
    if (s->linger)
        event_free(s->linger);
    free(s->rcpts);
    buf_free(&s->pending);
    buf_free(&s->content);
    free(s);
}

/* The connection is over: close it now; the session itself goes when no job refers to it. */
static void session_end(struct session *s)
{
    if (s->dead)
        return;
    if (s->lookup) {
        dns_cancel(s->lookup);
        s->lookup = NULL;
    } else {
        log_disconnect(s);
        smtpd_client_count_add(s->addr, -1);
    }
    bufferevent_free(s->bev);
    s->bev = NULL;
    s->dead = true;
    evtimer_del(s->delay);
    evtimer_del(s->linger);
    server_client_done();
    if (s->jobs == 0)
        session_free(s);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    process(arg);
}

/* Whether every byte of output has left for the kernel: through a STARTTLS filter the bytes
 * pass one more buffer (the underlying socket's) after ours is empty. */
static bool output_flushed(struct session *s)
{
    if (evbuffer_get_length(bufferevent_get_output(s->bev)) > 0)
        return false;
    struct bufferevent *under = bufferevent_get_underlying(s->bev);
    return under == NULL || evbuffer_get_length(bufferevent_get_output(under)) == 0;
}

static void linger_soon(struct session *s)
{
    static const struct timeval tick = { 0, 20000 };
    evtimer_add(s->linger, &tick);
}

static void on_linger(evutil_socket_t fd, short what, void *arg)
{
    struct session *s = arg;
    /* bounded: the write timeout of the bufferevent ends a client that does not read */
    if (s->dead)
        return;
    if ((output_flushed(s) && !s->tarpit) || ++s->linger_ticks > smtpd.set.timeout * 50)
        session_end(s);
    else
        linger_soon(s);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct session *s = arg;
    if (s->output_full && !s->closing) {
        s->output_full = false;
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        if (!s->waiting && !s->tarpit) {
            bufferevent_enable(bev, EV_READ);
            process(s);
        }
        return;
    }
    if (!s->closing || s->tarpit)
        return;
    if (output_flushed(s))
        session_end(s);
    else if (!evtimer_pending(s->linger, NULL))
        linger_soon(s);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct session *s = arg;
    if (what & BEV_EVENT_CONNECTED) {
        /* the TLS handshake completed (STARTTLS or port 465) */
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        if (ssl) {
            s->tls = true;
            tls_summary(ssl, s->tls_info, sizeof s->tls_info);
            log_info("TLS connection established from %s: %s", s->client, s->tls_info);
            /* on port 465 the greeting still waits for the client's name */
            if (s->lookup == NULL)
                resume(s);
        }
        return;
    }
    if ((what & BEV_EVENT_TIMEOUT) && s->closing) {
        session_end(s);   /* the client does not even read the last reply */
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        if (s->jobs > 0)
            return;   /* a commit or password check ends soon and answers first */
        log_info("timeout after %s from %s", s->last_command, s->client);
        if (bufferevent_openssl_get_ssl(bev) && !s->tls) {
            session_end(s);   /* the TLS handshake never finished: nothing can be said */
            return;
        }
        bufferevent_disable(bev, EV_READ);
        char text[256];
        int n = snprintf(text, sizeof text, "421 4.4.2 %s Error: timeout exceeded\r\n",
                         smtpd.set.myhostname);
        queue_output(bev, text, (size_t)n);
        s->closing = true;
        linger_soon(s);   /* bounded: the session ends even if the client never reads */
        return;
    }
    if (what & BEV_EVENT_ERROR) {
        /* the first OpenSSL error says why (a client that left during the handshake, an
         * unsupported protocol...); the rest repeat it */
        unsigned long e = bufferevent_get_openssl_error(bev);
        if (e != 0) {
            char why[256];
            ERR_error_string_n(e, why, sizeof why);
            log_info("TLS error from %s: %s", s->client, why);
            while (bufferevent_get_openssl_error(bev) != 0)
                ;
        }
    }
    if (!s->closing)
        log_info("lost connection after %s from %s", s->last_command, s->client);
    session_end(s);
}

static void setup_bev(struct session *s)
{
    bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
    struct timeval t = { smtpd.set.timeout, 0 };
    bufferevent_set_timeouts(s->bev, &t, &t);
    /* bound what one read may pile up: lines are bounded by the parser, content is drained */
    bufferevent_setwatermark(s->bev, EV_READ, 0, INPUT_MAX);
    bufferevent_enable(s->bev, plain_connection(s) ? EV_READ : EV_READ | EV_WRITE);
}

static void describe_peer(struct session *s, const struct sockaddr *peer)
{
    const void *a = NULL;
    unsigned short port = 0;
    int family = peer->sa_family;
    if (family == AF_INET) {
        a = &((const struct sockaddr_in *)peer)->sin_addr;
        port = ntohs(((const struct sockaddr_in *)peer)->sin_port);
    } else if (family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)peer;
        port = ntohs(s6->sin6_port);
        a = &s6->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            family = AF_INET;
            a = (const char *)&s6->sin6_addr + 12;
        }
    }
    if (a == NULL || inet_ntop(family, a, s->addr, sizeof s->addr) == NULL)
        snprintf(s->addr, sizeof s->addr, "unknown");
    snprintf(s->port, sizeof s->port, "%u", port);
    snprintf(s->name, sizeof s->name, "unknown");
    snprintf(s->client, sizeof s->client, "unknown[%s]", s->addr);
}

/* The session starts for real: the connection is logged and counted, and greeted. */
static void greet(struct session *s)
{
    log_info("connect from %s", s->client);
    int n = smtpd_client_count_add(s->addr, 1);
    if (smtpd.set.client_connection_limit > 0 && n > smtpd.set.client_connection_limit &&
        !s->trusted_net) {
        log_warn("too many connections from %s", s->client);
        reply_close(s, "421 4.7.0 %s Error: too many connections from %s", smtpd.set.myhostname,
                    s->addr);
        return;
    }
    reply(s, "220 %s", smtpd.set.banner);
}

static void set_client_name(struct session *s, const char *name)
{
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->client, sizeof s->client, "%s[%s]", s->name, s->addr);
}

static void on_client_name(void *arg, const char *name)
{
    struct session *s = arg;
    s->lookup = NULL;
    if (name)
        set_client_name(s, name);
    greet(s);
    resume(s);
}

void session_start(int fd, const struct sockaddr *peer, socklen_t len)
{
    struct session *s = xcalloc(1, sizeof *s);
    buf_init(&s->pending, 64 * 1024);
    buf_init(&s->content, (size_t)smtpd.set.header_size_limit + 2 * CONTENT_FLUSH + 4096);
    buf_init(&s->signed_out, BUF_UNBOUNDED);
    describe_peer(s, peer);
    s->last_command = "CONNECT";
    s->trusted_net = policy_client_in_mynetworks(smtpd.policy, peer);
    s->delay = evtimer_new(smtpd.base, on_delay, s);
    s->linger = evtimer_new(smtpd.base, on_linger, s);

    if (smtpd.set.tls_wrapper) {
        SSL *ssl = SSL_new(smtpd.tls);
        s->bev = ssl ? bufferevent_openssl_socket_new(smtpd.base, fd, ssl,
                                                      BUFFEREVENT_SSL_ACCEPTING,
                                                      BEV_OPT_CLOSE_ON_FREE)
                     : NULL;
        if (s->bev == NULL) {
            log_warn("cannot start TLS for %s", s->client);
            if (ssl)
                SSL_free(ssl);
            close(fd);
            server_client_done();
            session_free(s);
            return;
        }
    } else {
        s->bev = bufferevent_socket_new(smtpd.base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    setup_bev(s);
    char kept[sizeof s->name];
    bool lookup = smtpd.set.peername_lookup && smtpd.dns != NULL;
    if (!lookup || dns_client_name_kept(smtpd.dns, s->addr, kept, sizeof kept)) {
        if (lookup && kept[0])
            set_client_name(s, kept);
        greet(s);
        return;
    }
    /* nothing is read or said until the client's name is known (or the look-up gave up) */
    s->waiting = true;
    bufferevent_disable(s->bev, EV_READ);
    s->lookup = dns_client_name(smtpd.dns, s->addr, NAME_LOOKUP_MS, on_client_name, s);
}
