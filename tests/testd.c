/* testd.c: a minimal service on the server skeleton, for the integration tests of the master.
 * Each client gets one line describing the process that accepted it (service, pid, uid, gid,
 * root directory, and the value of myhostname), then the connection closes after the client
 * sends something or closes, or after 10 seconds. A client that sends an IPC wakeup message
 * (what the master sends for the wakeup column) is logged as "wakeup received". */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "mem.h"
#include "server.h"

struct client {
    int fd;
    struct event *ev;
};

static void client_close(struct client *c)
{
    event_free(c->ev);
    close(c->fd);
    free(c);
    server_client_done();
}

static void on_client(evutil_socket_t fd, short what, void *arg)
{
    struct client *c = arg;
    char buf[512];
    if (what & EV_READ) {
        ssize_t n = read(fd, buf, sizeof buf);
        struct ipc_msg m;
        size_t used;
        ipc_msg_init(&m);
        if (n > 0 && ipc_decode(buf, (size_t)n, sizeof buf, &m, &used, NULL, 0) == 1) {
            const char *type = ipc_get(&m, IPC_A_TYPE);
            if (type && strcmp(type, IPC_T_WAKEUP) == 0)
                log_info("wakeup received");
        }
        ipc_msg_free(&m);
    }
    client_close(c);
}

static void on_accept(int fd, const struct sockaddr *peer, socklen_t len)
{
    char line[600], root[256];
    ssize_t rl = readlink("/proc/self/root", root, sizeof root - 1);
    root[rl > 0 ? rl : 0] = '\0';
    int n = snprintf(line, sizeof line,
                     "testd service=%s pid=%ld uid=%ld gid=%ld root=%s myhostname=%s\r\n",
                     server_service(), (long)getpid(), (long)getuid(), (long)getgid(),
                     rl > 0 ? root : "?", config_str("myhostname"));
    log_info("accepted a client on service %s", server_service());
    if (write(fd, line, (size_t)n) != n)
        log_warn("short write to client");
    struct client *c = xmalloc(sizeof *c);
    c->fd = fd;
    c->ev = event_new(server_base(), fd, EV_READ, on_client, c);
    struct timeval limit = { 10, 0 };
    event_add(c->ev, &limit);
}

static struct server_ops ops = {
    .name = "testd",
    .max_clients = 100,
    .accept = on_accept,
};

static void quit_now(evutil_socket_t fd, short what, void *arg)
{
    exit(0);
}

/* master.conf may give the clients one process takes at once as the first argument, and
 * "quit" as the second: the process then exits a moment after it is ready (a daemon that keeps
 * exiting at once, for the restart-loop throttle). */
static void post_jail(void)
{
    char **args = server_args();
    if (args[0]) {
        int n = atoi(args[0]);
        if (n < 1 || n > 1000 || (args[1] && strcmp(args[1], "quit") != 0))
            log_fatal("usage: testd [clients per process, 1-1000 [quit]]");
        ops.max_clients = n;
        if (args[1]) {
            struct timeval soon = { 0, 100 * 1000 };
            event_base_once(server_base(), -1, EV_TIMEOUT, quit_now, NULL, &soon);
        }
    }
}

int main(int argc, char **argv)
{
    ops.post_jail = post_jail;
    server_main(argc, argv, &ops);
}
