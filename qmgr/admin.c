/* admin.c: the queue manager's side of ternqueue -d, -h, -H and -r (root only; qmgr.c checks
 * the caller). The queue manager owns active/: a message there gets the action recorded and
 * done when it leaves active/ (message.c); files in the other queues are renamed or removed
 * right here with queue/qadmin.c, the code root's ternqueue uses when qmgr does not run. */
#include <string.h>
#include "ipc_proto.h"
#include "log.h"
#include "qmgr.h"

struct admin {
    enum qadmin_op op;
    unsigned queues;
    struct ipc_msg *reply;
    unsigned long count;
    size_t failed;
};

static void record_failure(struct admin *a, const char *err)
{
    log_error("%s", err);
    if (a->failed++ < QADMIN_FAILED_MAX)
        ipc_add(a->reply, IPC_A_FAILED, err);
}

/* A named message, in the queues of a: 1 done (or recorded), 0 not there. */
static int one(struct admin *a, const char *id, unsigned queues)
{
    struct qmsg *m;
    if ((queues & QADMIN_Q_ACTIVE) && (m = message_find(id)) != NULL) {
        message_admin(m, a->op);
        a->count++;
        return 1;
    }
    char err[512];
    int r = qadmin_apply(a->op, id, queues, err, sizeof err);
    if (r < 0)
        record_failure(a, err);
    else if (r > 0)
        a->count++;
    return r != 0;
}

static void mark_active(struct qmsg *m, void *arg)
{
    struct admin *a = arg;
    message_admin(m, a->op);
    a->count++;
}

static int each_file(unsigned queue, const char *id, void *arg)
{
    /* the messages held in memory were counted by mark_active */
    if (queue != QADMIN_Q_ACTIVE || message_find(id) == NULL)
        one(arg, id, queue);
    return 0;
}

static int parse_queues(const struct ipc_msg *req, enum qadmin_op op, unsigned *queues)
{
    *queues = 0;
    for (size_t i = 0; i < req->count; i++) {
        if (strcmp(req->attr[i].name, IPC_A_QUEUE) != 0)
            continue;
        unsigned bit = qadmin_queue_bit(req->attr[i].value);
        if (bit == 0 || !(bit & qadmin_queues(op)))
            return -1;
        *queues |= bit;
    }
    if (*queues == 0)
        *queues = qadmin_queues(op);
    return 0;
}

static void fail(struct ipc_msg *reply, const char *reason)
{
    ipc_msg_clear(reply);
    ipc_add(reply, IPC_A_STATUS, IPC_STATUS_FAIL);
    ipc_add(reply, IPC_A_REASON, reason);
}

void admin_request(enum qadmin_op op, const struct ipc_msg *req, struct ipc_msg *reply)
{
    static const char *const required[] = { IPC_A_TYPE, NULL };
    static const char *const allowed[] = { IPC_A_QUEUE_ID, IPC_A_ALL, IPC_A_QUEUE, NULL };
    char why[ERR_TEXT_MAX] = "";
    struct admin a = { op, 0, reply, 0, 0 };
    if (ipc_check(req, required, allowed, why, sizeof why) < 0 ||
        parse_queues(req, op, &a.queues) < 0) {
        fail(reply, *why ? why : "bad queue name");
        return;
    }
    const char *all = ipc_get(req, IPC_A_ALL);
    size_t nids = 0;
    for (size_t i = 0; i < req->count; i++)
        if (strcmp(req->attr[i].name, IPC_A_QUEUE_ID) == 0 &&
            (++nids > QADMIN_BATCH || !qfile_valid_id(req->attr[i].value))) {
            fail(reply, nids > QADMIN_BATCH ? "too many queue IDs" : "bad queue ID");
            return;
        }
    ipc_add(reply, IPC_A_STATUS, IPC_STATUS_OK);
    if (all && strcmp(all, "yes") == 0) {
        if (a.queues & QADMIN_Q_ACTIVE)
            message_each(mark_active, &a);
        char err[512];
        if (qadmin_each(a.queues, each_file, &a, err, sizeof err) < 0)
            record_failure(&a, err);
    } else {
        for (size_t i = 0; i < req->count; i++)
            if (strcmp(req->attr[i].name, IPC_A_QUEUE_ID) == 0 &&
                one(&a, req->attr[i].value, a.queues) == 0)
                ipc_add(reply, IPC_A_MISSING, req->attr[i].value);
    }
    qadmin_sync(QADMIN_Q_ALL);
    ipc_addf(reply, IPC_A_COUNT, "%lu", a.count);
    if (a.count && op == QADMIN_RELEASE)
        scan_request_deferred(false);   /* released messages are due now */
    if (a.count && op == QADMIN_REQUEUE)
        scan_request_incoming();
}
