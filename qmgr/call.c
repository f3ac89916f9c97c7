/* call.c: one asynchronous request/reply with a delivery agent or the bounce service over a
 * UNIX stream socket, on the queue manager's event loop (see call_start in qmgr.h). A reply
 * that ends with keep=1 (IPC_A_KEEP) leaves its connection open: it waits here, unused for at
 * most CALL_KEEP_IDLE_S seconds, for the next call to the same socket. A call that went out on
 * such a kept connection and found it closed before any byte of a reply (the agent timed it
 * out or was told to stop at that moment) is sent once more on a new connection. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "mem.h"
#include "qmgr.h"
#include "server.h"

#define CALL_REPLY_MAX (4u << 20)
#define CALL_KEEP_IDLE_S 2     /* below the agents' SERVER_KEEP_IDLE_S, so they rarely race */
#define CALL_KEEP_MAX 128      /* kept connections, all sockets together */

struct call {
    struct bufferevent *bev;
    struct event *later;     /* reports an error from the event loop, never inside call_start */
    struct ipc_msg reply;
    call_done_fn done;
    void *arg;
    char path[sizeof ((struct sockaddr_un *)0)->sun_path];
    struct buf request;      /* the encoded request, to send again (see the top) */
    bool reused;             /* it went out on a kept connection */
    long long timeout;
    char error[256];
};

/* A connection an agent keeps open for the next request, idle. */
struct kept {
    char path[sizeof ((struct sockaddr_un *)0)->sun_path];
    struct bufferevent *bev;
    TAILQ_ENTRY(kept) link;
};
static TAILQ_HEAD(, kept) kept_list = TAILQ_HEAD_INITIALIZER(kept_list);
static size_t kept_count;

static void kept_drop(struct kept *k)
{
    TAILQ_REMOVE(&kept_list, k, link);
    kept_count--;
    bufferevent_free(k->bev);
    free(k);
}

/* Anything on an idle connection (the agent closed it, or said something unasked) ends it. */
static void on_kept_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    kept_drop(arg);
}

static void on_kept_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    kept_drop(arg);
}

static void kept_put(const char *path, struct bufferevent *bev)
{
    if (kept_count >= CALL_KEEP_MAX) {
        bufferevent_free(bev);
        return;
    }
    struct kept *k = xcalloc(1, sizeof *k);
    snprintf(k->path, sizeof k->path, "%s", path);
    k->bev = bev;
    bufferevent_setcb(bev, on_kept_read, NULL, on_kept_event, k);
    struct timeval idle = { CALL_KEEP_IDLE_S, 0 };
    bufferevent_set_timeouts(bev, &idle, NULL);
    TAILQ_INSERT_HEAD(&kept_list, k, link);
    kept_count++;
}

/* The most recently kept connection to path, taken out of the list; NULL if none. */
static struct bufferevent *kept_take(const char *path)
{
    struct kept *k;
    TAILQ_FOREACH(k, &kept_list, link) {
        if (strcmp(k->path, path) == 0) {
            struct bufferevent *bev = k->bev;
            TAILQ_REMOVE(&kept_list, k, link);
            kept_count--;
            free(k);
            return bev;
        }
    }
    return NULL;
}

static void call_end(struct call *c, bool ok, bool keep)
{
    if (c->bev && ok && keep)
        kept_put(c->path, c->bev);
    else if (c->bev)
        bufferevent_free(c->bev);
    if (c->later)
        event_free(c->later);
    c->done(c->arg, ok ? &c->reply : NULL, ok ? NULL : c->error);
    ipc_msg_free(&c->reply);
    buf_free(&c->request);
    free(c);
}

static void on_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    call_end(arg, false, false);
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
    char why[ERR_TEXT_MAX];
    int rc = ipc_evbuffer_take(in, CALL_REPLY_MAX, &c->reply, why, sizeof why);
    if (rc == 0)
        return;
    if (rc < 0) {
        snprintf(c->error, sizeof c->error, "malformed reply: %.200s", why);
        call_end(c, false, false);
        return;
    }
    /* one request, one reply: bytes after it break the protocol, so the connection goes (the
     * reply's own bytes are drained: the next call on a kept connection starts empty) */
    bool keep = ipc_take_keep(&c->reply) && evbuffer_get_length(in) == 0;
    call_end(c, true, keep);
}

static int send_request(struct call *c, bool may_reuse);

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct call *c = arg;
    if (what & BEV_EVENT_CONNECTED)
        return;
    int e = errno;
    bool closed = (what & BEV_EVENT_EOF) ||
                  ((what & BEV_EVENT_ERROR) && (e == EPIPE || e == ECONNRESET));
    if (c->reused && closed && evbuffer_get_length(bufferevent_get_input(bev)) == 0) {
        /* the agent let the kept connection go just as this request went out */
        bufferevent_free(c->bev);
        c->bev = NULL;
        if (send_request(c, false) < 0)
            fail_later(c);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        snprintf(c->error, sizeof c->error, "no answer in time");
    else if (what & BEV_EVENT_EOF)
        snprintf(c->error, sizeof c->error, "connection closed without an answer");
    else
        snprintf(c->error, sizeof c->error, "%s", strerror(e ? e : EIO));
    call_end(c, false, false);
}

/* A new connection to c->path in c->bev; -1 with c->error set. */
static int connect_new(struct call *c)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    memcpy(sun.sun_path, c->path, strlen(c->path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(c->error, sizeof c->error, "socket: %s", strerror(errno));
        return -1;
    }
    /* a UNIX connect completes at once or fails at once (EAGAIN: the backlog is full) */
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
        snprintf(c->error, sizeof c->error, "connect to %s: %s", c->path, strerror(errno));
        close(fd);
        return -1;
    }
    c->bev = bufferevent_socket_new(server_base(), fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        close(fd);
        snprintf(c->error, sizeof c->error, "out of memory");
        return -1;
    }
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    return 0;
}

/* Sends c->request on a kept connection (when may_reuse) or a new one; -1 with c->error set.
 * The request goes straight to the socket; only what does not fit waits in the bufferevent. */
static int send_request(struct call *c, bool may_reuse)
{
    c->bev = may_reuse ? kept_take(c->path) : NULL;
    c->reused = c->bev != NULL;
    if (c->bev == NULL && connect_new(c) < 0)
        return -1;
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    struct timeval tv = { (time_t)c->timeout, 0 };
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    ssize_t sent = send(bufferevent_getfd(c->bev), c->request.data, c->request.len,
                        MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0)
        sent = 0;   /* EAGAIN, or an error the bufferevent's own write reports */
    if ((size_t)sent < c->request.len)
        bufferevent_write(c->bev, c->request.data + sent, c->request.len - (size_t)sent);
    return 0;
}

void call_start(const char *path, const struct ipc_msg *req, long long timeout, call_done_fn done,
                void *arg)
{
    struct call *c = xcalloc(1, sizeof *c);
    c->done = done;
    c->arg = arg;
    c->timeout = timeout;
    ipc_msg_init(&c->reply);
    buf_init(&c->request, IPC_MSG_MAX_DEFAULT);
    if (strlen(path) >= sizeof c->path) {
        snprintf(c->error, sizeof c->error, "%s: path too long", path);
        fail_later(c);
        return;
    }
    snprintf(c->path, sizeof c->path, "%s", path);
    if (ipc_encode(req, &c->request) < 0) {
        snprintf(c->error, sizeof c->error, "request too large");
        fail_later(c);
        return;
    }
    if (send_request(c, true) < 0)
        fail_later(c);
}
