/* deliver.c: a delivery request from start to reply (deliver.h). Recipients keep no result
 * until something final is known about them; a connection that fails before the message went
 * out leaves them open for the next address, and when no address is left they are deferred
 * with the reason of the last failure. A destination where no address got as far as a
 * transaction is reported dead, so qmgr holds back its other mail. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include "conn_cache.h"
#include "deliver.h"
#include "dns.h"
#include "log.h"
#include "mem.h"
#include "message.h"
#include "server.h"
#include "session.h"
#include "tls_policy.h"
#include "xact.h"

#define DNS_TIMEOUT_MS (60 * 1000)

struct delivery {
    struct delivery_request req;
    struct delivery_reply reply;
    struct message msg;
    bool loaded;
    struct nexthop hop;
    enum tls_level level;
    char key[CACHE_KEY_MAX];
    struct smtp_target *targets;
    size_t ntargets, next;
    bool resolved;
    bool *done;
    struct session_error last;
    bool have_last;
    bool reachable;              /* some server got as far as a transaction */
    bool tried_cache;
    bool plain;                  /* the current address again, without TLS */
    struct dns_req *lookup;
    struct event *later;
    void (*done_cb)(void *arg, const struct delivery_reply *reply);
    void *arg;
};

static void next_attempt(struct delivery *d);
static void resolve(struct delivery *d);
static void on_ready(void *arg, struct session *s);
static void on_session_error(void *arg, struct session *s, const struct session_error *e);
static const struct session_ops deliver_ops = { on_ready, NULL, on_session_error };

/* ---- results and the end ---- */

static size_t pending(const struct delivery *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->req.nrcpt; i++)
        n += !d->done[i];
    return n;
}

static void finish(struct delivery *d)
{
    d->done_cb(d->arg, &d->reply);
    if (d->later)
        event_free(d->later);
    if (d->loaded)
        message_free(&d->msg);
    delivery_reply_free(&d->reply);
    delivery_request_free(&d->req);
    free(d->targets);
    free(d->done);
    free(d);
}

/* Every recipient still open gets status with dsn and text. */
static void set_pending(struct delivery *d, enum delivery_status status, const char *dsn,
                        const char *text)
{
    for (size_t i = 0; i < d->req.nrcpt; i++)
        if (!d->done[i]) {
            delivery_result_set(&d->reply, i, status, dsn, "%s", text);
            d->done[i] = true;
        }
}

/* No address is left: the open recipients are deferred with the last failure's reason. */
static void give_up(struct delivery *d)
{
    const struct session_error *e = &d->last;
    for (size_t i = 0; i < d->req.nrcpt; i++) {
        if (d->done[i])
            continue;
        struct delivery_result *x = &d->reply.result[i];
        x->status = DELIVERY_DEFER;
        /* a 5xx greeting or HELO reply is no reason to bounce while other servers or a
         * later try may do better */
        if (d->have_last && (e->dsn[0] == '4' || e->dsn[0] == '5'))
            snprintf(x->dsn, sizeof x->dsn, "4%s", e->dsn + 1);
        else
            snprintf(x->dsn, sizeof x->dsn, "4.4.1");
        snprintf(x->text, sizeof x->text, "%s", d->have_last ? e->text
                 : "no address to deliver to");
        snprintf(x->diag, sizeof x->diag, "%s", d->have_last ? e->diag : "");
        if (d->have_last && e->greeted) {
            snprintf(x->relay, sizeof x->relay, "%.*s", (int)sizeof x->relay - 1, e->relay);
            snprintf(x->remote_mta, sizeof x->remote_mta, "dns; %.*s",
                     (int)sizeof x->remote_mta - 6, e->host);
        }
        d->done[i] = true;
    }
    d->reply.dead = !d->reachable;
    finish(d);
}

/* ---- attempts ---- */

static void on_xact_end(void *arg, struct session *s, enum xact_end end,
                        const struct session_error *e)
{
    struct delivery *d = arg;
    if (end == XACT_OK)
        cache_release(s, d->key);
    if (end == XACT_FAILED && e) {
        d->last = *e;
        d->have_last = true;
    }
    next_attempt(d);
}

static void run(struct delivery *d, struct session *s, bool reused)
{
    d->reachable = true;
    struct xact_job job = { &d->req, &d->msg, &d->reply, d->done, on_xact_end, d };
    xact_start(&job, s, reused);
}

static void on_ready(void *arg, struct session *s)
{
    run(arg, s, false);
}

static void on_session_error(void *arg, struct session *s, const struct session_error *e)
{
    (void)s;
    struct delivery *d = arg;
    d->last = *e;
    d->have_last = true;
    if (e->retry_plain && !d->plain) {
        log_info("%s: %s; trying again without TLS", d->req.queue_id, e->text);
        d->plain = true;
        session_connect(&d->targets[d->next - 1], TLS_LEVEL_NONE, NULL, &deliver_ops, d);
        return;
    }
    d->plain = false;
    if (d->next < d->ntargets)
        log_info("%s: %s", d->req.queue_id, e->text);
    next_attempt(d);
}

/* ---- DANE: the TLSA records of each address's host ---- */

static void on_tlsa(void *arg, bool failed, bool secure, const struct dns_tlsa *records,
                    size_t count)
{
    struct delivery *d = arg;
    const struct smtp_target *t = &d->targets[d->next - 1];
    d->lookup = NULL;
    if (failed) {
        /* RFC 7672 2.2: a failed look-up must not become unauthenticated TLS */
        memset(&d->last, 0, sizeof d->last);
        snprintf(d->last.dsn, sizeof d->last.dsn, "4.7.5");
        snprintf(d->last.text, sizeof d->last.text, "TLSA lookup error for %.255s:%d", t->host,
                 t->port);
        d->have_last = true;
        if (d->next < d->ntargets)
            log_info("%s: %s", d->req.queue_id, d->last.text);
        next_attempt(d);
        return;
    }
    if (!secure || count == 0) {
        session_connect(t, TLS_LEVEL_MAY, NULL, &deliver_ops, d);
        return;
    }
    struct tls_dane_record *recs = xcalloc(count, sizeof *recs);
    for (size_t i = 0; i < count; i++)
        recs[i] = (struct tls_dane_record){ records[i].usage, records[i].selector,
                                            records[i].mtype, records[i].data, records[i].len };
    struct tls_dane dane;
    tls_dane_copy(&dane, recs, count);
    free(recs);
    /* RFC 7672 2.2: TLSA records that are all unusable still mean TLS is required */
    if (dane.count == 0)
        session_connect(t, TLS_LEVEL_ENCRYPT, NULL, &deliver_ops, d);
    else
        session_connect(t, TLS_LEVEL_DANE, &dane, &deliver_ops, d);
    tls_dane_free(&dane);
}

/* At dane, an address found through DNSSEC-validated answers gets its TLSA records looked up
 * first; any other address is tried as at may. */
static void connect_target(struct delivery *d, const struct smtp_target *t)
{
    if (d->level != TLS_LEVEL_DANE) {
        session_connect(t, d->level, NULL, &deliver_ops, d);
    } else if (t->port == 0 || !t->secure || smtp_set.dns == NULL) {
        session_connect(t, TLS_LEVEL_MAY, NULL, &deliver_ops, d);
    } else {
        d->lookup = dns_tlsa(smtp_set.dns, t->host, t->port, DNS_TIMEOUT_MS, on_tlsa, d);
    }
}

static void next_attempt(struct delivery *d)
{
    if (pending(d) == 0) {
        finish(d);
        return;
    }
    if (!d->tried_cache) {
        d->tried_cache = true;
        struct session *s = cache_take(d->key);
        if (s) {
            run(d, s, true);
            return;
        }
    }
    if (!d->resolved && d->lookup == NULL)
        resolve(d);              /* only now: a cached connection needs no look-up */
    if (!d->resolved)
        return;                  /* the look-up is under way; on_mx comes back here */
    if (d->next < d->ntargets)
        connect_target(d, &d->targets[d->next++]);
    else
        give_up(d);
}

/* ---- where to: a UNIX socket, an address literal or an MX look-up ---- */

static void add_target(struct delivery *d, const struct smtp_target *t)
{
    d->targets = xrealloc(d->targets, (d->ntargets + 1) * sizeof *d->targets);
    d->targets[d->ntargets++] = *t;
}

static void unix_target(struct delivery *d)
{
    struct smtp_target t;
    memset(&t, 0, sizeof t);
    snprintf(t.host, sizeof t.host, "%s", smtp_set.myhostname);
    snprintf(t.addr, sizeof t.addr, "%s", d->hop.path);
    struct sockaddr_un *sun = (struct sockaddr_un *)&t.sa;
    sun->sun_family = AF_UNIX;
    snprintf(sun->sun_path, sizeof sun->sun_path, "%s", d->hop.path);
    t.salen = sizeof *sun;
    add_target(d, &t);
}

static void literal_target(struct delivery *d)
{
    struct smtp_target t;
    memset(&t, 0, sizeof t);
    snprintf(t.host, sizeof t.host, "%s", d->hop.host);
    t.port = d->hop.port;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&t.sa;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&t.sa;
    if (inet_pton(AF_INET, d->hop.host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)t.port);
        t.salen = sizeof *in4;
    } else if (inet_pton(AF_INET6, d->hop.host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)t.port);
        t.salen = sizeof *in6;
    } else {
        return;
    }
    inet_ntop(t.sa.ss_family, t.sa.ss_family == AF_INET ? (void *)&in4->sin_addr
                                                        : (void *)&in6->sin6_addr,
              t.addr, sizeof t.addr);
    add_target(d, &t);
}

static void dns_target(struct delivery *d, const struct dns_target *dt)
{
    struct smtp_target t;
    memset(&t, 0, sizeof t);
    snprintf(t.host, sizeof t.host, "%s", dt->host);
    if (dt->addrlen > sizeof t.sa)
        return;
    memcpy(&t.sa, &dt->addr, dt->addrlen);
    t.salen = dt->addrlen;
    t.secure = dt->secure;
    if (t.sa.ss_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)&t.sa;
        inet_ntop(AF_INET, &in4->sin_addr, t.addr, sizeof t.addr);
        t.port = ntohs(in4->sin_port);
    } else if (t.sa.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&t.sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, t.addr, sizeof t.addr);
        t.port = ntohs(in6->sin6_port);
    } else {
        return;
    }
    add_target(d, &t);
}

static void on_mx(void *arg, const struct dns_mx_result *r)
{
    struct delivery *d = arg;
    d->lookup = NULL;
    d->resolved = true;
    if (r->status != DNS_MX_OK) {
        bool perm = r->status == DNS_MX_PERM;
        const char *dsn = r->dsn[0] == (perm ? '5' : '4') ? r->dsn : perm ? "5.4.4" : "4.4.3";
        set_pending(d, perm ? DELIVERY_BOUNCE : DELIVERY_DEFER, dsn, r->reason);
        finish(d);
        return;
    }
    for (size_t i = 0; i < r->ntargets; i++)
        dns_target(d, &r->targets[i]);
    next_attempt(d);
}

/* dns_mx takes address literals too (and checks them against inet_protocols); without a
 * resolver a literal still works. */
static void resolve(struct delivery *d)
{
    if (d->hop.kind == NEXTHOP_UNIX || (d->hop.literal && smtp_set.dns == NULL)) {
        if (d->hop.kind == NEXTHOP_UNIX)
            unix_target(d);
        else
            literal_target(d);
        d->resolved = true;
        return;
    }
    if (smtp_set.dns == NULL) {
        d->resolved = true;
        d->last.greeted = false;
        snprintf(d->last.dsn, sizeof d->last.dsn, "4.3.0");
        snprintf(d->last.text, sizeof d->last.text, "the DNS resolver is not available");
        d->have_last = true;
        return;
    }
    d->lookup = dns_mx(smtp_set.dns, d->hop.host, d->hop.use_mx, d->hop.port,
                       smtp_set.mx_address_limit, DNS_TIMEOUT_MS, on_mx, d);
}

/* ---- the start ---- */

static void begin(struct delivery *d)
{
    char why[ERR_TEXT_MAX], err[1024];
    if (nexthop_parse(d->req.nexthop, smtp_set.lmtp, &d->hop, why, sizeof why) < 0) {
        log_warn("%s: mail system configuration error: next hop \"%s\": %s", d->req.queue_id,
                 d->req.nexthop, why);
        /* why is one of nexthop_parse's short reasons: the precision only bounds the text */
        snprintf(err, sizeof err, "mail system configuration error: next hop \"%s\": %.200s",
                 d->req.nexthop, why);
        set_pending(d, DELIVERY_DEFER, "4.3.5", err);
        finish(d);
        return;
    }
    if (message_load(&d->msg, d->req.queue_id, err, sizeof err) < 0) {
        message_free(&d->msg);
        log_warn("%s: %s", d->req.queue_id, err);
        set_pending(d, DELIVERY_DEFER, "4.3.0", err);
        finish(d);
        return;
    }
    d->loaded = true;
    if (tls_policy_level(d->req.nexthop, d->hop.kind == NEXTHOP_UNIX ? "" : d->hop.host,
                         &d->level, err, sizeof err) < 0) {
        log_warn("%s: mail system configuration error: %s", d->req.queue_id, err);
        char text[1100];
        snprintf(text, sizeof text, "mail system configuration error: %s", err);
        set_pending(d, DELIVERY_DEFER, "4.3.5", text);
        finish(d);
        return;
    }
    snprintf(d->key, sizeof d->key, "%s:%s", smtp_set.lmtp ? "lmtp" : "smtp", d->req.nexthop);
    next_attempt(d);
}

static void on_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    begin(arg);
}

void deliver_start(struct delivery_request *req,
                   void (*done)(void *arg, const struct delivery_reply *reply), void *arg)
{
    struct delivery *d = xcalloc(1, sizeof *d);
    d->req = *req;
    memset(req, 0, sizeof *req);
    d->done_cb = done;
    d->arg = arg;
    delivery_reply_init(&d->reply, d->req.nrcpt);
    d->done = xcalloc(d->req.nrcpt ? d->req.nrcpt : 1, sizeof *d->done);
    d->later = evtimer_new(server_base(), on_later, d);
    struct timeval now = { 0, 0 };
    evtimer_add(d->later, &now);
}
