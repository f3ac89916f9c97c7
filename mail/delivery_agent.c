/* delivery_agent.c: one deliver request served on a blocking connection (delivery_agent.h):
 * the conversation local and virtual hold with qmgr, in one place so that both read, refuse,
 * answer and log it alike. */
#include <errno.h>
#include <string.h>
#include "delivery_agent.h"
#include "ipc_proto.h"
#include "log.h"
#include "server.h"

bool delivery_agent_serve(int fd, size_t request_max, int io_ms, delivery_fn deliver)
{
    struct ipc_msg in, out;
    struct delivery_request req;
    struct delivery_reply reply;
    ipc_msg_init(&in);
    ipc_msg_init(&out);
    memset(&req, 0, sizeof req);
    memset(&reply, 0, sizeof reply);
    const char *queue_id = "-";
    char err[ERR_TEXT_MAX];
    bool keep = false;
    if (ipc_recv(fd, &in, request_max, io_ms, err, sizeof err) < 0) {
        if (errno != ECONNRESET)   /* the queue manager closed a kept connection */
            log_warn("cannot read a delivery request: %s",
                     errno == EPROTO ? err : strerror(errno));
        goto done;
    }
    if (delivery_request_decode(&in, &req, err, sizeof err) < 0) {
        log_warn("bad delivery request: %s", err);
        delivery_reply_refusal(&out, err);
    } else {
        queue_id = req.queue_id;
        delivery_reply_init(&reply, req.nrcpt);
        deliver(&req, &reply);
        if (delivery_reply_message(&reply, &out) < 0)
            log_error("%s: cannot encode the reply", queue_id);
        keep = !server_stopping() && ipc_add(&out, IPC_A_KEEP, "1") == 0;
    }
    if (ipc_send(fd, &out, io_ms) < 0) {
        log_warn("%s: cannot send the reply to the queue manager: %s", queue_id,
                 strerror(errno));
        keep = false;
    }
done:
    delivery_reply_free(&reply);
    delivery_request_free(&req);
    ipc_msg_free(&in);
    ipc_msg_free(&out);
    return keep;
}
