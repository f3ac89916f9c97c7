/* showq.c: the showq service (showq(8)): lists the queue for ternqueue -p/-j and mailq, for
 * every local user, through public/showq. It runs as mail_owner, which can read the queue,
 * and answers one client at a time per process (the master starts more as needed): the
 * request, then an entry per queued message (queue/qlist.c, envelope and defer/ reasons
 * only), then an end message. Every read and write has a time limit, the whole listing too. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "qlist.h"
#include "server.h"

#define REQUEST_MAX 4096
#define REQUEST_MS 10000
#define SEND_MS 30000           /* for each message of the answer */
#define LISTING_SECONDS 600     /* for the whole answer */

struct session {
    int fd;
    time_t deadline;
    const char *error;          /* why the listing stopped, or NULL */
};

static int send_message(const struct ipc_msg *m, void *arg)
{
    struct session *s = arg;
    long left = (long)(s->deadline - time(NULL)) * 1000;
    if (left <= 0) {
        s->error = "the listing took too long";
        return -1;
    }
    if (ipc_send(s->fd, m, left < SEND_MS ? (int)left : SEND_MS) < 0) {
        s->error = strerror(errno);
        return -1;
    }
    return 0;
}

static int send_entry(const struct qlist_entry *e, void *arg)
{
    return qlist_encode(e, send_message, arg);
}

static void serve(int fd)
{
    struct ipc_msg m;
    ipc_msg_init(&m);
    char err[ERR_TEXT_MAX] = "";
    if (ipc_recv(fd, &m, REQUEST_MAX, REQUEST_MS, err, sizeof err) < 0) {
        if (errno != ECONNRESET)
            log_warn("no request from the client: %s", *err ? err : strerror(errno));
        ipc_msg_free(&m);
        return;
    }
    const char *type = ipc_get(&m, IPC_A_TYPE);
    struct session s = { fd, time(NULL) + LISTING_SECONDS, NULL };
    long count = -1;
    if (type == NULL || strcmp(type, IPC_T_SHOWQ) != 0 || m.count != 1)
        s.error = "unknown request";
    else
        count = qlist_walk(send_entry, qlist_log_warning, &s);
    ipc_msg_clear(&m);
    ipc_add(&m, IPC_A_TYPE, IPC_T_END);
    if (s.error == NULL) {
        ipc_add(&m, IPC_A_STATUS, IPC_STATUS_OK);
        ipc_addf(&m, IPC_A_COUNT, "%ld", count);
        send_message(&m, &s);
    } else {
        log_warn("listing stopped: %s", s.error);
        ipc_add(&m, IPC_A_STATUS, IPC_STATUS_FAIL);
        ipc_add(&m, IPC_A_REASON, s.error);
        s.deadline = time(NULL) + 1;   /* a last word, if the client still reads */
        send_message(&m, &s);
    }
    ipc_msg_free(&m);
}

static void on_accept(int fd, const struct sockaddr *peer, socklen_t peerlen)
{
    (void)peer;
    (void)peerlen;
    /* one client per process (max_clients 1): the master starts another for the next, so
     * serving this one start to end, bounded in time, keeps nobody waiting */
    serve(fd);
    close(fd);
    server_client_done();
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .name = "showq",
        .max_clients = 1,
        .accept = on_accept,
    };
    server_main(argc, argv, &ops);
}
