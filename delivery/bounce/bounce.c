/* bounce.c: the bounce service (libexec/bounce), run by the master as mail_owner in the queue
 * directory. qmgr asks it over private/bounce for a delivery status notification about a
 * message of active/ (the `bounce` request of ipc_proto.h); notice.c makes it. One request per
 * connection, one connection at a time per process, every wait bounded. */
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "notice.h"
#include "server.h"

#define BOUNCE_TIMEOUT_MS (60 * 1000)  /* to read the request, and to send the reply */
#define BOUNCE_REQUEST_MAX 4096        /* bytes of an encoded request */

static const char *const request_names[] = { IPC_A_TYPE, IPC_A_QUEUE_ID, IPC_A_KIND, NULL };

/* The request, strictly: exactly the three attributes, each once, with valid values. 0, or -1
 * with the reason in err. */
static int check_request(const struct ipc_msg *req, const char **id, enum dsn_kind *kind,
                         char *err, size_t errlen)
{
    static const struct { const char *name; enum dsn_kind kind; } kinds[] = {
        { BOUNCE_KIND_FAILURE, DSN_FAILURE },
        { BOUNCE_KIND_DELAY, DSN_DELAY },
        { BOUNCE_KIND_SUCCESS, DSN_SUCCESS },
    };
    if (ipc_check(req, request_names, request_names, err, errlen) < 0)
        return -1;
    if (req->count != 3) {
        snprintf(err, errlen, "an attribute given twice");
        return -1;
    }
    if (strcmp(ipc_get(req, IPC_A_TYPE), IPC_T_BOUNCE) != 0) {
        snprintf(err, errlen, "not a bounce request");
        return -1;
    }
    *id = ipc_get(req, IPC_A_QUEUE_ID);
    if (!qfile_valid_id(*id)) {
        snprintf(err, errlen, "bad queue ID");
        return -1;
    }
    const char *k = ipc_get(req, IPC_A_KIND);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(k, kinds[i].name) == 0) {
            *kind = kinds[i].kind;
            return 0;
        }
    }
    snprintf(err, errlen, "unknown kind of notice");
    return -1;
}

static void make_reply(const struct notice_result *res, struct ipc_msg *reply)
{
    switch (res->status) {
    case NOTICE_QUEUED:
        ipc_add(reply, IPC_A_STATUS, IPC_STATUS_OK);
        ipc_add(reply, IPC_A_QUEUE_ID, res->queue_id);
        ipc_add(reply, IPC_A_NOTICE_TO, res->notice_to);
        break;
    case NOTICE_NONE:
        ipc_add(reply, IPC_A_STATUS, IPC_STATUS_OK);
        break;
    case NOTICE_DEFER:
        ipc_add(reply, IPC_A_STATUS, IPC_STATUS_DEFER);
        ipc_add(reply, IPC_A_REASON, res->reason);
        break;
    }
}

static void serve(int fd)
{
    struct ipc_msg req, reply;
    const char *id = NULL;
    char why[ERR_TEXT_MAX] = "";
    enum dsn_kind kind = DSN_FAILURE;
    ipc_msg_init(&req);
    ipc_msg_init(&reply);
    if (ipc_recv(fd, &req, BOUNCE_REQUEST_MAX, BOUNCE_TIMEOUT_MS, why, sizeof why) < 0) {
        log_warn("cannot read a request: %s", errno == EPROTO ? why : strerror(errno));
    } else {
        if (check_request(&req, &id, &kind, why, sizeof why) < 0) {
            log_warn("refused a request: %s", why);
            ipc_add(&reply, IPC_A_STATUS, IPC_STATUS_FAIL);
            ipc_add(&reply, IPC_A_REASON, why);
        } else {
            struct notice_result res;
            notice_make(id, kind, &res);
            make_reply(&res, &reply);
        }
        if (ipc_send(fd, &reply, BOUNCE_TIMEOUT_MS) < 0)
            log_warn("%s%scannot send the reply: %s", id ? id : "", id ? ": " : "",
                     strerror(errno));
    }
    ipc_msg_free(&req);
    ipc_msg_free(&reply);
}

/* The skeleton allows one client at a time: the request is served to the end right here. */
static void on_accept(int fd, const struct sockaddr *peer, socklen_t len)
{
    (void)peer;
    (void)len;
    serve(fd);
    close(fd);
    server_client_done();
}

/* before any input: the random MIME boundaries come from libsodium */
static void pre_jail(void)
{
    if (sodium_init() < 0)
        log_fatal("cannot initialize libsodium");
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .name = "bounce",
        .max_clients = 1,
        .pre_jail = pre_jail,
        .accept = on_accept,
    };
    server_main(argc, argv, &ops);
}
