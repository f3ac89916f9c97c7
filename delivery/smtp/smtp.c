/* smtp.c: the smtp delivery agent (like Postfix's smtp(8)), and the lmtp one when its
 * master.conf arguments are "lmtp". On the server skeleton, unprivileged, one event loop for
 * many requests at once: each connection from qmgr carries one delivery request
 * (delivery_proto.h), read without blocking, carried out by deliver.c, and answered with one
 * result per recipient. Settings are read once, before privileges are dropped (the CA file
 * and the policy tables may be readable by root only; the resolver reads /etc/resolv.conf). */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "config.h"
#include "conn_cache.h"
#include "deliver.h"
#include "dns.h"
#include "log.h"
#include "mem.h"
#include "server.h"
#include "session.h"
#include "smtp.h"
#include "tls_policy.h"

#define REQUEST_TIMEOUT 60          /* seconds: qmgr sends its request right after connecting */
#define REPLY_TIMEOUT 60

struct smtp_settings smtp_set;

/* One connection from qmgr. */
struct client {
    struct bufferevent *bev;
    struct ipc_msg in;
    char queue_id[QFILE_ID_MAX];
    bool replying;
};

/* ---- settings ---- */

static int seconds(const char *name)
{
    long long t = config_time(name);
    return t < 1 ? 1 : t > 86400 ? 86400 : (int)t;
}

static int bounded(const char *name, int min, int max)
{
    long long v = config_int(name);
    return v < min ? min : v > max ? max : (int)v;
}

static void read_settings(void)
{
    char **args = server_args();
    for (size_t i = 0; args && args[i]; i++) {
        if (strcmp(args[i], "lmtp") == 0)
            smtp_set.lmtp = true;
        else
            log_fatal_code(EX_CONFIG, "unknown argument \"%s\" (the only one is lmtp)",
                           args[i]);
    }
    snprintf(smtp_set.helo_name, sizeof smtp_set.helo_name, "%s", config_str("smtp_helo_name"));
    char *host = config_expand("$myhostname");      /* "" there means the system's name */
    snprintf(smtp_set.myhostname, sizeof smtp_set.myhostname, "%s", host);
    free(host);
    if (smtp_set.helo_name[0] == '\0')
        snprintf(smtp_set.helo_name, sizeof smtp_set.helo_name, "%s", smtp_set.myhostname);
    smtp_set.connect_timeout = seconds("smtp_connect_timeout");
    smtp_set.helo_timeout = seconds("smtp_helo_timeout");
    smtp_set.mail_timeout = seconds("smtp_mail_timeout");
    smtp_set.rcpt_timeout = seconds("smtp_rcpt_timeout");
    smtp_set.data_init_timeout = seconds("smtp_data_init_timeout");
    smtp_set.data_xfer_timeout = seconds("smtp_data_xfer_timeout");
    smtp_set.data_done_timeout = seconds("smtp_data_done_timeout");
    smtp_set.quit_timeout = seconds("smtp_quit_timeout");
    smtp_set.starttls_timeout = seconds("smtp_starttls_timeout");
    smtp_set.mx_address_limit = bounded("smtp_mx_address_limit", 1, 100);
    smtp_set.reuse_limit = bounded("smtp_connection_reuse_count_limit", 1, 1000000);
    long long cache = config_time("smtp_connection_cache_time_limit");
    smtp_set.cache_time = cache < 0 ? 0 : cache > 3600 ? 3600 : (int)cache;
    if (tls_level_parse(config_str("smtp_tls_security_level"), &smtp_set.tls_level) < 0)
        log_fatal_code(EX_CONFIG, "smtp_tls_security_level: unknown level \"%s\"",
                       config_str("smtp_tls_security_level"));
}

/* The TLS context; without one, only the levels none and may can work (may then goes plain). */
static void open_tls(void)
{
    char err[512];
    smtp_set.tls = tls_client_context(config_str("smtp_tls_CAfile"), err, sizeof err);
    if (smtp_set.tls == NULL && smtp_set.tls_level >= TLS_LEVEL_ENCRYPT)
        log_fatal_code(EX_CONFIG, "smtp_tls_security_level = %s, but TLS cannot be used: %s",
                       tls_level_name(smtp_set.tls_level), err);
    if (smtp_set.tls == NULL)
        log_warn("TLS is not available: %s", err);
}

static void pre_jail(void)
{
    char err[512];
    read_settings();
    if (smtp_set.lmtp)
        log_set_service("lmtp");
    open_tls();
    if (tls_policy_open(err, sizeof err) < 0)
        log_fatal_code(EX_CONFIG, "%s", err);
    smtp_set.dns = dns_open(err, sizeof err);
    if (smtp_set.dns == NULL)
        log_warn("%s; mail to domains waits until it can be looked up", err);
}

static void close_all(void)
{
    cache_close_all();
    session_close_all();
    tls_policy_close();
    if (smtp_set.tls)
        SSL_CTX_free(smtp_set.tls);
    smtp_set.tls = NULL;
}

static void post_jail(void)
{
    if (smtp_set.dns)
        dns_attach(smtp_set.dns, server_base());
    atexit(close_all);
}

/* ---- one request from qmgr ---- */

static void client_free(struct client *c)
{
    bufferevent_free(c->bev);
    ipc_msg_free(&c->in);
    free(c);
    server_client_done();
}

static void on_reply_written(struct bufferevent *bev, void *arg)
{
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        client_free(arg);
}

static void send_msg(struct client *c, const struct ipc_msg *m)
{
    struct buf out;
    buf_init(&out, IPC_MSG_MAX_DEFAULT * 4);
    if (ipc_encode(m, &out) < 0) {
        log_error("%s: the reply does not fit the IPC framing", c->queue_id);
        buf_free(&out);
        client_free(c);
        return;
    }
    c->replying = true;
    bufferevent_disable(c->bev, EV_READ);
    struct timeval tv = { REPLY_TIMEOUT, 0 };
    bufferevent_set_timeouts(c->bev, NULL, &tv);
    bufferevent_setcb(c->bev, NULL, on_reply_written, NULL, c);
    bufferevent_write(c->bev, out.data, out.len);
    buf_free(&out);
}

static void on_delivered(void *arg, const struct delivery_reply *reply)
{
    struct client *c = arg;
    struct ipc_msg out;
    ipc_msg_init(&out);
    if (delivery_reply_message(reply, &out) < 0)
        log_error("%s: cannot encode the reply", c->queue_id);
    send_msg(c, &out);
    ipc_msg_free(&out);
}

static void refuse(struct client *c, const char *why)
{
    log_warn("bad delivery request: %s", why);
    struct ipc_msg out;
    ipc_msg_init(&out);
    delivery_reply_refusal(&out, why);
    send_msg(c, &out);
    ipc_msg_free(&out);
}

static void on_request(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    char err[ERR_TEXT_MAX];
    int rc = ipc_evbuffer_take(bufferevent_get_input(bev), DELIVERY_REQUEST_MAX, &c->in, err,
                               sizeof err);
    if (rc == 0)
        return;
    if (rc < 0) {
        log_warn("cannot read a request: %s", err);
        client_free(c);
        return;
    }
    bufferevent_disable(bev, EV_READ);
    bufferevent_set_timeouts(bev, NULL, NULL);
    struct delivery_request req;
    if (delivery_request_decode(&c->in, &req, err, sizeof err) < 0) {
        refuse(c, err);
        return;
    }
    snprintf(c->queue_id, sizeof c->queue_id, "%s", req.queue_id);
    deliver_start(&req, on_delivered, c);
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct client *c = arg;
    if (what & BEV_EVENT_TIMEOUT)
        log_warn("%s: %s", c->replying ? c->queue_id : "-",
                 c->replying ? "the queue manager does not take the reply"
                             : "no request from the queue manager in time");
    else if (c->replying)
        log_warn("%s: cannot send the reply to the queue manager: %s", c->queue_id,
                 what & BEV_EVENT_EOF ? "connection closed" : strerror(errno));
    client_free(c);
}

static void on_accept(int fd, const struct sockaddr *peer, socklen_t len)
{
    (void)peer;
    (void)len;
    struct client *c = xcalloc(1, sizeof *c);
    snprintf(c->queue_id, sizeof c->queue_id, "-");
    ipc_msg_init(&c->in);
    c->bev = bufferevent_socket_new(server_base(), fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        close(fd);
        ipc_msg_free(&c->in);
        free(c);
        server_client_done();
        return;
    }
    bufferevent_setcb(c->bev, on_request, NULL, on_client_event, c);
    struct timeval tv = { REQUEST_TIMEOUT, 0 };
    bufferevent_set_timeouts(c->bev, &tv, NULL);
    bufferevent_setwatermark(c->bev, EV_READ, 0, DELIVERY_REQUEST_MAX + 1);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void stopping(void)
{
    cache_close_all();
}

static const struct server_ops ops = {
    .name = "smtp",
    .max_clients = 100,
    .pre_jail = pre_jail,
    .post_jail = post_jail,
    .accept = on_accept,
    .stopping = stopping,
};

int main(int argc, char **argv)
{
    server_main(argc, argv, &ops);
}
