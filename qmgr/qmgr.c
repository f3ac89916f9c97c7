/* qmgr.c: the queue manager (qmgr(8)): one unprivileged, event-driven process that owns the
 * delivery schedule. This file starts it (settings, tables, recovery of active/), answers its
 * public socket (wakeup from smtpd and the master; flush from `tern flush` and ternqueue -f, -i,
 * -s; delete, hold, release and requeue from root's ternqueue) and runs the periodic scans;
 * scan.c, message.c, schedule.c, flush.c and admin.c do the work. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "config.h"
#include "ipc_proto.h"
#include "log.h"
#include "mem.h"
#include "qmgr.h"
#include "qspare.h"
#include "server.h"

#define CLIENT_MSG_MAX 65536   /* a request names at most QADMIN_BATCH queue IDs */
#define CLIENT_TIMEOUT 10
#define USER_FLUSH_INTERVAL 1.0   /* seconds between flushes ordinary users may ask for */

struct qmgr_settings qmgr_conf;
static struct resolver *resolver;
static struct valias *valias;
static struct qsrs *srs;
static struct event *run_timer;

struct resolver *qmgr_resolver(void)
{
    return resolver;
}

struct valias *qmgr_valias(void)
{
    return valias;
}

struct qsrs *qmgr_srs(void)
{
    return srs;
}

double qmgr_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static long long at_least(const char *name, long long min)
{
    long long v = config_int(name);
    if (v < min) {
        log_warn("%s = %lld is too small; using %lld", name, v, min);
        v = min;
    }
    return v;
}

static void read_settings(void)
{
    struct qmgr_settings *c = &qmgr_conf;
    c->active_limit = at_least("qmgr_message_active_limit", 1);
    c->initial_concurrency = at_least("initial_destination_concurrency", 1);
    c->concurrency_limit = at_least("default_destination_concurrency_limit", 1);
    if (c->initial_concurrency > c->concurrency_limit)
        c->initial_concurrency = c->concurrency_limit;
    c->recipient_limit = at_least("default_destination_recipient_limit", 1);
    if (c->recipient_limit > DELIVERY_RCPT_MAX)
        c->recipient_limit = DELIVERY_RCPT_MAX;
    c->local_recipient_limit = at_least("local_destination_recipient_limit", 1);
    c->local_concurrency_limit = at_least("local_destination_concurrency_limit", 1);
    if (c->local_recipient_limit > DELIVERY_RCPT_MAX)
        c->local_recipient_limit = DELIVERY_RCPT_MAX;
    c->process_limit = at_least("default_process_limit", 1);
    c->min_backoff = config_time("minimal_backoff_time");
    c->max_backoff = config_time("maximal_backoff_time");
    if (c->max_backoff < c->min_backoff)
        c->max_backoff = c->min_backoff;
    c->queue_run_delay = config_time("queue_run_delay");
    if (c->queue_run_delay < 1)
        c->queue_run_delay = 1;
    c->lifetime = config_time("maximal_queue_lifetime");
    c->bounce_lifetime = config_time("bounce_queue_lifetime");
    if (c->bounce_lifetime > c->lifetime)
        c->bounce_lifetime = c->lifetime;
    c->delay_warning = config_time("delay_warning_time");
    c->daemon_timeout = config_time("daemon_timeout");
    if (c->daemon_timeout < 1)
        c->daemon_timeout = 1;
    snprintf(c->myhostname, sizeof c->myhostname, "%s", config_str("myhostname"));
    const char *db = config_str("double_bounce_sender");
    if (strchr(db, '@'))
        snprintf(c->double_bounce, sizeof c->double_bounce, "%.1000s", db);
    else
        snprintf(c->double_bounce, sizeof c->double_bounce, "%.512s@%.255s", db, c->myhostname);
}

/* ---- the public socket: wakeup, flush, and ternqueue's requests ---- */

struct client {
    struct bufferevent *bev;
    bool have_uid;
    uid_t uid;               /* of the peer, from SO_PEERCRED */
    bool waker;              /* it sent wakeups: it may send more on this connection, and
                              * nothing else (ipc_wakeup keeps its connection) */
    LIST_ENTRY(client) link;
};
static LIST_HEAD(, client) clients = LIST_HEAD_INITIALIZER(clients);

static void client_close(struct client *c)
{
    LIST_REMOVE(c, link);
    bufferevent_free(c->bev);
    free(c);
    server_client_done();
}

/* SIGTERM: the connections kept only for wakeups go, so the process can end. */
static void close_wakers(void)
{
    struct client *c = LIST_FIRST(&clients);
    while (c) {
        struct client *next = LIST_NEXT(c, link);
        if (c->waker)
            client_close(c);
        c = next;
    }
}

/* root, or the user this queue manager runs as (mail_owner, or everyone's user when
 * privilege separation is off), may change the queue */
static bool client_privileged(const struct client *c)
{
    return c->have_uid && (c->uid == 0 || c->uid == geteuid());
}

static void flush_deferred(void)
{
    schedule_undead_all();
    scan_request_deferred(true);
    scan_request_incoming();
}

/* A domain name or an address literal, as ternqueue -s takes it (the text reaches the log). */
static bool valid_site(const char *site)
{
    size_t n = strlen(site);
    if (n == 0 || n > 255)
        return false;
    if (site[0] == '[')
        return site[n - 1] == ']' &&
               strspn(site + 1, "0123456789abcdefABCDEF.:IPv") == n - 2;
    return strspn(site, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == n &&
           site[0] != '.' && site[0] != '-';
}

/* ternqueue -f, -i ID, -s DOMAIN */
static void flush_request(const struct ipc_msg *req, struct ipc_msg *reply)
{
    static const char *const required[] = { IPC_A_TYPE, NULL };
    static const char *const allowed[] = { IPC_A_QUEUE_ID, IPC_A_SITE, NULL };
    const char *id = ipc_get(req, IPC_A_QUEUE_ID), *site = ipc_get(req, IPC_A_SITE);
    char why[ERR_TEXT_MAX] = "", err[ERR_TEXT_MAX] = "";
    int r = 0;
    if (ipc_check(req, required, allowed, why, sizeof why) < 0 || (id && site) ||
        (id && !qfile_valid_id(id)) || (site && !valid_site(site))) {
        snprintf(err, sizeof err, "malformed flush request%s%s", *why ? ": " : "", why);
        r = -1;
    } else if (id) {
        r = flush_message(id, err, sizeof err);
    } else if (site) {
        r = flush_site(site, err, sizeof err);
    } else {
        log_info("flush: every deferred message is retried now");
        flush_deferred();
    }
    ipc_add(reply, IPC_A_STATUS, r == 0 ? IPC_STATUS_OK : IPC_STATUS_FAIL);
    if (r < 0)
        ipc_add(reply, IPC_A_REASON, err);
}

/* Sends reply; the client is closed once it is written (on_client_write). */
static void send_reply(struct client *c, const struct ipc_msg *reply)
{
    struct buf out;
    buf_init(&out, IPC_MSG_MAX_DEFAULT);
    if (ipc_encode(reply, &out) == 0)
        bufferevent_write(c->bev, out.data, out.len);
    buf_free(&out);
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        client_close(c);
}

static void on_client_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct ipc_msg m;
    ipc_msg_init(&m);
    char why[ERR_TEXT_MAX] = "";
    int rc;
    /* wakeups, as many as are there: they are answered by a scan, and the connection stays */
    while ((rc = ipc_evbuffer_take(in, CLIENT_MSG_MAX, &m, why, sizeof why)) > 0 &&
           ipc_get(&m, IPC_A_TYPE) && strcmp(ipc_get(&m, IPC_A_TYPE), IPC_T_WAKEUP) == 0) {
        scan_request_incoming();
        c->waker = true;
    }
    if (rc == 0 || c->waker) {
        if (c->waker && rc != 0)   /* something else after wakeups */
            client_close(c);
        ipc_msg_free(&m);
        return;
    }
    const char *type = rc > 0 ? ipc_get(&m, IPC_A_TYPE) : NULL;
    enum qadmin_op op;
    struct ipc_msg reply;
    ipc_msg_init(&reply);
    if (type && strcmp(type, IPC_T_FLUSH) == 0) {
        /* any local user may flush, but not so often that the queue manager does nothing
         * else: one request a second from users who are not root or mail_owner */
        static double last_user_flush;
        double now = qmgr_now();
        if (!client_privileged(c) && now - last_user_flush < USER_FLUSH_INTERVAL) {
            ipc_add(&reply, IPC_A_STATUS, IPC_STATUS_DEFER);
            ipc_add(&reply, IPC_A_REASON, "the queue manager had a flush request less than a "
                    "second ago; try again");
        } else {
            if (!client_privileged(c))
                last_user_flush = now;
            flush_request(&m, &reply);
        }
        send_reply(c, &reply);
    } else if (type && qadmin_op_parse(type, &op) == 0) {
        if (client_privileged(c)) {
            admin_request(op, &m, &reply);
        } else {
            log_warn("public/qmgr: %s request from uid %ld refused: only root may change the "
                     "queue", type, c->have_uid ? (long)c->uid : -1L);
            ipc_add(&reply, IPC_A_STATUS, IPC_STATUS_FAIL);
            ipc_add(&reply, IPC_A_REASON, IPC_REASON_DENIED);
        }
        send_reply(c, &reply);
    } else {
        log_warn("public/qmgr: ignoring a malformed or unknown request%s%s", *why ? ": " : "",
                 why);
        client_close(c);
    }
    ipc_msg_free(&reply);
    ipc_msg_free(&m);
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
    if (!(bufferevent_get_enabled(bev) & EV_READ))
        client_close(arg);
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    client_close(arg);
}

static void on_accept(int fd, const struct sockaddr *peer, socklen_t peerlen)
{
    (void)peer;
    (void)peerlen;
    struct client *c = xcalloc(1, sizeof *c);
    struct ucred cred;
    socklen_t credlen = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) == 0 &&
        credlen == sizeof cred) {
        c->have_uid = true;
        c->uid = cred.uid;
    }
    c->bev = bufferevent_socket_new(server_base(), fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        free(c);
        close(fd);
        server_client_done();
        return;
    }
    LIST_INSERT_HEAD(&clients, c, link);
    bufferevent_setcb(c->bev, on_client_read, on_client_write, on_client_event, c);
    struct timeval tv = { CLIENT_TIMEOUT, 0 };
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    bufferevent_setwatermark(c->bev, EV_READ, 0, CLIENT_MSG_MAX);
    bufferevent_enable(c->bev, EV_READ);
}

/* ---- start and the periodic scans ---- */

static void on_run_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    scan_request_incoming();
    scan_request_deferred(false);
    schedule_sweep();
}

/* As root: the SRS key may be readable by root only. */
static void pre_jail(void)
{
    char err[1024];
    if (qsrs_open(&srs, err, sizeof err) < 0)
        log_fatal_code(78, "%s", err);
}

static void post_jail(void)
{
    read_settings();
    char err[1024];
    if ((resolver = resolver_open(err, sizeof err)) == NULL)
        log_fatal_code(78, "%s", err);
    if ((valias = valias_open(err, sizeof err)) == NULL)
        log_fatal_code(78, "%s", err);
    schedule_init();
    qspare_clear();
    scan_recover_active();
    run_timer = event_new(server_base(), -1, EV_PERSIST, on_run_timer, NULL);
    struct timeval tv = { (time_t)qmgr_conf.queue_run_delay, 0 };
    event_add(run_timer, &tv);
    scan_request_incoming();
    scan_request_deferred(false);
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .name = "qmgr",
        .max_clients = 1000,
        .pre_jail = pre_jail,
        .post_jail = post_jail,
        .accept = on_accept,
        .stopping = close_wakers,
    };
    server_main(argc, argv, &ops);
}
