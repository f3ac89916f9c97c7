/* local.c: the local delivery agent, local(8). qmgr connects to private/local and sends a
 * delivery request (delivery_proto.h, served by delivery_agent.h); the agent reads
 * active/<queue_id> itself, delivers each recipient (recipient.c) and answers with one result
 * per recipient, then waits for qmgr's next request on the same connection
 * (server_serve_kept). It stays root (master.conf unpriv column n) only to look up tables and
 * users and to fork: every step that touches a user's files runs in a process that has become
 * that user (common/runas.h: kept workers, a child per command). One request per process at a
 * time; the master runs more processes. */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "delivery_agent.h"
#include "local.h"
#include "log.h"
#include "qfile.h"
#include "runas.h"
#include "server.h"
#include "userjob.h"

#define LOCAL_IO_MS 60000   /* reading the request, writing the reply */
#define RETIRE_CHECK_S 1    /* how often unused kept workers (runas.h) are looked for */

static struct event *retire_timer;

static void defer_all(const struct delivery_request *r, struct delivery_reply *reply,
                      const char *what, const char *why)
{
    for (size_t i = 0; i < r->nrcpt; i++) {
        delivery_result_set(reply, i, DELIVERY_DEFER, "4.3.0", "%s: %s", what, why);
        snprintf(reply->result[i].relay, sizeof reply->result[i].relay, "local");
    }
}

static void deliver_all(const struct delivery_request *r, struct delivery_reply *reply)
{
    char path[QFILE_ID_MAX + 16];
    snprintf(path, sizeof path, "active/%s", r->queue_id);
    struct buf data, content;
    buf_init(&data, BUF_UNBOUNDED);
    buf_init(&content, BUF_UNBOUNDED);
    struct qfile_envelope env;
    char why[ERR_TEXT_MAX] = "";
    if (qfile_read(path, qfile_read_limit(), &data, &env, why, sizeof why) < 0) {
        char reason[300];
        snprintf(reason, sizeof reason, "%s%s%s", *why ? why : "unreadable",
                 errno != EPROTO ? ": " : "", errno != EPROTO ? strerror(errno) : "");
        log_warn("%s: cannot read the queue file %s: %s", r->queue_id, path, reason);
        defer_all(r, reply, "cannot read the queue file", reason);
    } else if (qfile_content(data.data, data.len, &env, &content) < 0) {
        log_warn("%s: cannot read the queue file %s: malformed content", r->queue_id, path);
        defer_all(r, reply, "cannot read the queue file", "malformed content");
    } else {
        bool inline_content = userjob_content_inline(content.data, content.len);
        int content_fd = inline_content ? -1 : userjob_content_fd(content.data, content.len);
        if (!inline_content && content_fd < 0) {
            log_warn("%s: cannot copy the message for delivery: %s", r->queue_id,
                     strerror(errno));
            defer_all(r, reply, "cannot copy the message for delivery", strerror(errno));
        } else {
            struct local_conf conf;
            conf_load(&conf);
            struct local_msg msg = { r->queue_id, env.sender, content.data, content.len,
                                     content_fd, env.quarantine[0] != '\0' };
            for (size_t i = 0; i < r->nrcpt; i++)
                recipient_deliver(&conf, &msg, &r->rcpt[i], reply, i);
            conf_free(&conf);
            if (content_fd >= 0)
                close(content_fd);
        }
    }
    buf_free(&data);
    buf_free(&content);
}

/* Serves one request on fd; true when the connection stays open for the next one. */
static bool serve(int fd)
{
    runas_child_close(fd);   /* no process that runs as a user may hold qmgr's connection */
    bool keep = delivery_agent_serve(fd, DELIVERY_REQUEST_MAX, LOCAL_IO_MS, deliver_all);
    runas_child_keep(fd);
    struct timeval every = { RETIRE_CHECK_S, 0 };
    if (!evtimer_pending(retire_timer, NULL))
        evtimer_add(retire_timer, &every);
    return keep;
}

/* Each request is served to its end in serve; the event loop waits meanwhile (one client). */
static void on_accept(int fd, const struct sockaddr *peer, socklen_t len)
{
    (void)peer;
    (void)len;
    server_serve_kept(fd, serve);
}

/* While kept workers (runas.h) are left, unused ones are looked for every second. */
static void on_retire_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    struct timeval every = { RETIRE_CHECK_S, 0 };
    if (runas_retire_idle() > 0)
        event_add(retire_timer, &every);
}

static void post_jail(void)
{
    runas_set_label("delivery process");
    runas_set_server(userjob_serve);
    retire_timer = evtimer_new(server_base(), on_retire_timer, NULL);
    if (retire_timer == NULL || atexit(runas_retire_all) != 0 || atexit(conf_end) != 0)
        log_fatal("cannot set up the retiring of idle delivery processes");
    if (geteuid() != 0)
        log_warn("not running as root: mail can be delivered only as uid %ld (this user); "
                 "deliveries to other users are deferred", (long)geteuid());
}

static const struct server_ops ops = {
    .name = "local",
    .max_clients = 1,
    .post_jail = post_jail,
    .accept = on_accept,
};

int main(int argc, char **argv)
{
    server_main(argc, argv, &ops);
}
