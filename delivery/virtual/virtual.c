/* virtual.c: the virtual delivery agent (like Postfix's virtual(8)), on the server skeleton.
 * It stays root (master.conf unpriv "n") only to fork: each delivery runs in a child that has
 * become the uid and gid virtual_uid_maps and virtual_gid_maps give (vdeliver.c, with
 * common/runas.h). Per request from qmgr (delivery_proto.h, served by delivery_agent.h): read
 * active/<queue_id>, then for each recipient find its mailbox (vmailbox.c), prepend
 * Return-Path:, Delivered-To: and X-Original-To: (mail/header.c), deliver, and answer one
 * result per recipient; then wait for qmgr's next request on the same connection
 * (server_serve_kept). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "clock.h"
#include "config.h"
#include "delivery_agent.h"
#include "lists.h"
#include "log.h"
#include "qfile.h"
#include "runas.h"
#include "server.h"
#include "vdeliver.h"
#include "header.h"
#include "vmailbox.h"

#define IO_TIMEOUT_MS (60 * 1000)   /* qmgr sends its request right after connecting */
#define HEAD_MAX (4 * DELIVERY_ADDR_MAX + 256)

static struct vmaps *maps;   /* opened at the first request; again after a failure */

/* The message a request is about, loaded once for all its recipients. */
struct message {
    const char *queue_id;
    struct qfile_envelope env;
    struct buf content;
};

static void set_config_error(struct delivery_reply *reply, size_t i, const char *queue_id,
                             const char *why)
{
    log_warn("%s: mail system configuration error: %s", queue_id, why);
    delivery_result_set(reply, i, DELIVERY_DEFER, "4.3.5",
                        "mail system configuration error: %s", why);
}

/* Logs result i, which vdeliver set (file: what it wrote, when it delivered). */
static void log_result(struct delivery_reply *reply, size_t i, const struct message *msg,
                       const char *addr, const struct vmailbox *mb, const char *file)
{
    struct delivery_result *x = &reply->result[i];
    if (x->status == DELIVERY_SENT) {
        snprintf(x->action, sizeof x->action, "delivered");
        log_info("%s: to=<%s>: %s %s as uid %ld", msg->queue_id, addr, x->text, file,
                 (long)mb->uid);
    } else if (x->status == DELIVERY_DEFER) {
        log_warn("%s: to=<%s>: %s", msg->queue_id, addr, x->text);
    }
}

static void deliver_one(const struct message *msg, const struct delivery_rcpt *rcpt,
                        struct delivery_reply *reply, size_t i, long long deadline)
{
    char addr[DELIVERY_ADDR_MAX], err[ERR_TEXT_MAX];
    snprintf(addr, sizeof addr, "%s", rcpt->address);
    list_lower(addr);
    struct vmailbox mb;
    switch (vmailbox_find(maps, addr, &mb, err, sizeof err)) {
    case VMAILBOX_FOUND:
        break;
    case VMAILBOX_UNKNOWN:
        delivery_result_set(reply, i, DELIVERY_BOUNCE, "5.1.1", "%s", err);
        return;
    case VMAILBOX_TEMPORARY:
        log_warn("%s: %s", msg->queue_id, err);
        delivery_result_set(reply, i, DELIVERY_DEFER, "4.3.0", "%s", err);
        return;
    case VMAILBOX_CONFIG:
        set_config_error(reply, i, msg->queue_id, err);
        return;
    }
    if (header_has_delivered_to(msg->content.data, msg->content.len, addr)) {
        delivery_result_set(reply, i, DELIVERY_BOUNCE, "5.4.6", "mail forwarding loop for %s",
                            addr);
        return;
    }
    if (clock_ms() >= deadline) {
        delivery_result_set(reply, i, DELIVERY_DEFER, "4.3.0", "command_time_limit reached "
                            "by the deliveries before this one");
        return;
    }
    struct buf head;
    buf_init(&head, HEAD_MAX);
    if (header_prepend(&head, msg->env.sender, addr,
                       rcpt->orig[0] ? rcpt->orig : rcpt->address) < 0) {
        buf_free(&head);
        delivery_result_set(reply, i, DELIVERY_DEFER, "4.3.0", "header lines too long");
        return;
    }
    long long limit = config_size("mailbox_size_limit");
    struct vdeliver_job job = { msg->env.sender, head.data, head.len, msg->content.data,
                                msg->content.len, limit > 0 ? (size_t)limit : 0,
                                msg->env.quarantine[0] ? config_str("dmarc_quarantine_folder")
                                                       : "" };
    char file[VDELIVER_FILE_MAX];
    vdeliver(&mb, &job, deadline, reply, i, file);
    buf_free(&head);
    log_result(reply, i, msg, addr, &mb, file);
}

/* Sets every result to the same deferral (the message or the tables cannot be read). */
static void defer_all(struct delivery_reply *reply, const char *dsn, const char *text)
{
    for (size_t i = 0; i < reply->nresult; i++)
        delivery_result_set(reply, i, DELIVERY_DEFER, dsn, "%s", text);
}

static int open_maps(const char *queue_id, struct delivery_reply *reply)
{
    char err[ERR_TEXT_MAX], text[ERR_TEXT_MAX + 64];
    if (maps)
        return 0;
    maps = vmaps_open(err, sizeof err);
    if (maps)
        return 0;
    log_warn("%s: mail system configuration error: %s", queue_id, err);
    snprintf(text, sizeof text, "mail system configuration error: %s", err);
    defer_all(reply, "4.3.5", text);
    return -1;
}

static int load_message(struct message *msg, struct delivery_reply *reply)
{
    char path[QFILE_ID_MAX + 16], text[256], why[ERR_TEXT_MAX] = "";
    struct buf data;
    snprintf(path, sizeof path, "active/%s", msg->queue_id);
    buf_init(&data, qfile_read_limit());
    int rc = qfile_read(path, qfile_read_limit(), &data, &msg->env, why, sizeof why);
    /* malformed (EPROTO) or too large (EFBIG): qfile_read's reason; else the read error */
    if (rc < 0 && errno != EPROTO && errno != EFBIG)
        snprintf(why, sizeof why, "%s", strerror(errno));
    if (rc == 0 && qfile_content(data.data, data.len, &msg->env, &msg->content) < 0) {
        rc = -1;
        snprintf(why, sizeof why, "malformed or too large content");
    }
    buf_free(&data);
    if (rc == 0)
        return 0;
    snprintf(text, sizeof text, "cannot read queue file %s: %s", path, why);
    log_warn("%s: %s", msg->queue_id, text);
    defer_all(reply, "4.3.0", text);
    return -1;
}

static void deliver_request(const struct delivery_request *req, struct delivery_reply *reply)
{
    struct message msg = { .queue_id = req->queue_id };
    buf_init(&msg.content, qfile_read_limit());
    if (open_maps(req->queue_id, reply) == 0 && load_message(&msg, reply) == 0) {
        long long deadline = clock_ms() + config_time("command_time_limit") * 1000;
        for (size_t i = 0; i < req->nrcpt; i++) {
            deliver_one(&msg, &req->rcpt[i], reply, i, deadline);
            snprintf(reply->result[i].relay, sizeof reply->result[i].relay, "virtual");
        }
    }
    buf_free(&msg.content);
}

/* Serves one request on fd; true when the connection stays open for the next one. */
static bool serve(int fd)
{
    runas_child_close(fd);   /* a delivery child must not hold qmgr's connection */
    bool keep = delivery_agent_serve(fd, DELIVERY_REQUEST_MAX, IO_TIMEOUT_MS, deliver_request);
    runas_child_keep(fd);
    return keep;
}

static void on_accept(int fd, const struct sockaddr *peer, socklen_t len)
{
    (void)peer;
    (void)len;
    server_serve_kept(fd, serve);
}

static void close_maps(void)
{
    vmaps_close(maps);
    maps = NULL;
}

static void post_jail(void)
{
    runas_set_label("delivery process");
    atexit(close_maps);
}

static const struct server_ops ops = {
    .name = "virtual",
    .max_clients = 1,
    .post_jail = post_jail,
    .accept = on_accept,
};

int main(int argc, char **argv)
{
    server_main(argc, argv, &ops);
}
