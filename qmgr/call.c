/* call.c: one asynchronous request/reply with a delivery agent or the bounce service over a
 * UNIX stream socket, on the queue manager's event loop (see call_start in qmgr.h). */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "mem.h"
#include "qmgr.h"
#include "server.h"

#define CALL_REPLY_MAX (4u << 20)

struct call {
    struct bufferevent *bev;
    struct event *later;     /* reports an error from the event loop, never inside call_start */
    struct ipc_msg reply;
    call_done_fn done;
    void *arg;
    char error[256];
};

static void call_end(struct call *c, bool ok)
{
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->later)
        event_free(c->later);
    c->done(c->arg, ok ? &c->reply : NULL, ok ? NULL : c->error);
    ipc_msg_free(&c->reply);
    free(c);
}

static void on_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    call_end(arg, false);
}

static void fail_later(struct call *c)
{
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    c->later = evtimer_new(server_base(), on_later, c);
    struct timeval now = { 0, 0 };
    evtimer_add(c->later, &now);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct call *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    const char *why = NULL;
    size_t used = 0;
    int rc = ipc_decode((const char *)evbuffer_pullup(in, -1), len, CALL_REPLY_MAX, &c->reply,
                        &used, &why);
    if (rc == 0 && len < CALL_REPLY_MAX)
        return;
    if (rc <= 0) {
        snprintf(c->error, sizeof c->error, "malformed reply: %s", why ? why : "too long");
        call_end(c, false);
        return;
    }
    call_end(c, true);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct call *c = arg;
    if (what & BEV_EVENT_CONNECTED)
        return;
    if (what & BEV_EVENT_TIMEOUT)
        snprintf(c->error, sizeof c->error, "no answer in time");
    else if (what & BEV_EVENT_EOF)
        snprintf(c->error, sizeof c->error, "connection closed without an answer");
    else
        snprintf(c->error, sizeof c->error, "%s", strerror(errno ? errno : EIO));
    call_end(c, false);
}

void call_start(const char *path, const struct ipc_msg *req, long long timeout, call_done_fn done,
                void *arg)
{
    struct call *c = xcalloc(1, sizeof *c);
    c->done = done;
    c->arg = arg;
    ipc_msg_init(&c->reply);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct buf out;
    buf_init(&out, IPC_MSG_MAX_DEFAULT);
    if (strlen(path) >= sizeof sun.sun_path) {
        snprintf(c->error, sizeof c->error, "%s: path too long", path);
        goto fail;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if (ipc_encode(req, &out) < 0) {
        snprintf(c->error, sizeof c->error, "request too large");
        goto fail;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(c->error, sizeof c->error, "socket: %s", strerror(errno));
        goto fail;
    }
    /* a UNIX connect completes at once or fails at once (EAGAIN: the backlog is full) */
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
        snprintf(c->error, sizeof c->error, "connect to %s: %s", path, strerror(errno));
        close(fd);
        goto fail;
    }
    c->bev = bufferevent_socket_new(server_base(), fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        close(fd);
        snprintf(c->error, sizeof c->error, "out of memory");
        goto fail;
    }
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    struct timeval tv = { (time_t)timeout, 0 };
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    bufferevent_write(c->bev, out.data, out.len);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    buf_free(&out);
    return;
fail:
    buf_free(&out);
    fail_later(c);
}
