/* test_delivery_agent.c: unit tests of mail/delivery_agent.c, the agent's side of a deliver
 * request over a socketpair: a request is delivered and answered with keep=1, a malformed one
 * refused with status=fail and the connection let go, a closed connection answered with
 * nothing; and of the replies it sends (delivery_reply_message, delivery_reply_refusal). */
#include <check.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "delivery_agent.h"
#include "ipc_proto.h"
#include "unit.h"

#define IO_MS 5000

static const char *id = "25X0DRV018JCYF0D";
static int calls;

/* Delivers the first recipient, bounces the others. */
static void deliver(const struct delivery_request *req, struct delivery_reply *reply)
{
    calls++;
    ck_assert_str_eq(req->queue_id, id);
    ck_assert_uint_eq(reply->nresult, req->nrcpt);
    delivery_result_set(reply, 0, DELIVERY_SENT, "2.0.0", "delivered to %s",
                        req->rcpt[0].address);
    for (size_t i = 1; i < req->nrcpt; i++)
        delivery_result_set(reply, i, DELIVERY_BOUNCE, "5.1.1", "unknown");
}

/* Sends m on one end of a socketpair, serves the other; the reply (none: -1) in *reply. */
static bool serve_one(const struct ipc_msg *m, struct ipc_msg *reply, int *got_reply)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    if (m)
        ck_assert_int_eq(ipc_send(sv[0], m, IO_MS), 0);
    else
        shutdown(sv[0], SHUT_WR);   /* qmgr let its kept connection go */
    bool keep = delivery_agent_serve(sv[1], DELIVERY_REQUEST_MAX, IO_MS, deliver);
    close(sv[1]);
    *got_reply = ipc_recv(sv[0], reply, IPC_MSG_MAX_DEFAULT, IO_MS, NULL, 0);
    close(sv[0]);
    return keep;
}

START_TEST(serves_a_request)
{
    struct delivery_rcpt rc[2] = { { "a@x.example", "", 0 }, { "b@x.example", "", 0 } };
    struct delivery_request r = { .nrcpt = 2, .rcpt = rc };
    strcpy(r.queue_id, id);
    strcpy(r.nexthop, "x.example");
    struct ipc_msg req, reply;
    ipc_msg_init(&req);
    ipc_msg_init(&reply);
    ck_assert_int_eq(delivery_request_encode(&r, &req), 0);
    calls = 0;
    int got;
    ck_assert(serve_one(&req, &reply, &got));
    ck_assert_int_eq(got, 0);
    ck_assert_int_eq(calls, 1);
    ck_assert(ipc_take_keep(&reply));   /* the last attribute: the connection stays */
    struct delivery_reply dr;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_msg(delivery_reply_decode(&reply, 2, &dr, why, sizeof why) == 0, "%s", why);
    ck_assert_int_eq(dr.result[0].status, DELIVERY_SENT);
    ck_assert_str_eq(dr.result[0].text, "delivered to a@x.example");
    ck_assert_int_eq(dr.result[1].status, DELIVERY_BOUNCE);
    delivery_reply_free(&dr);
    ipc_msg_free(&req);
    ipc_msg_free(&reply);
}
END_TEST

START_TEST(refuses_a_malformed_request)
{
    struct ipc_msg req, reply;
    ipc_msg_init(&req);
    ipc_msg_init(&reply);
    ipc_add(&req, IPC_A_TYPE, IPC_T_BOUNCE);
    ipc_add(&req, IPC_A_QUEUE_ID, id);
    calls = 0;
    int got;
    ck_assert(!serve_one(&req, &reply, &got));
    ck_assert_int_eq(got, 0);
    ck_assert_int_eq(calls, 0);
    ck_assert_uint_eq(reply.count, 2);
    ck_assert_str_eq(ipc_get(&reply, IPC_A_STATUS), IPC_STATUS_FAIL);
    ck_assert_str_eq(ipc_get(&reply, IPC_A_REASON), "not a delivery request");
    ipc_msg_free(&req);
    ipc_msg_free(&reply);
}
END_TEST

START_TEST(closed_connection)
{
    struct ipc_msg reply;
    ipc_msg_init(&reply);
    calls = 0;
    int got;
    ck_assert(!serve_one(NULL, &reply, &got));
    ck_assert_int_eq(got, -1);   /* nothing was sent */
    ck_assert_int_eq(calls, 0);
    ipc_msg_free(&reply);
}
END_TEST

/* A reply past IPC_ATTR_MAX attributes cannot be encoded: a deferral goes in its place. */
START_TEST(reply_that_does_not_fit)
{
    size_t n = IPC_ATTR_MAX / DELIVERY_FORWARD_MAX + 1;
    struct delivery_reply r;
    delivery_reply_init(&r, n);
    for (size_t i = 0; i < n; i++) {
        delivery_result_set(&r, i, DELIVERY_SENT, "2.0.0", "expanded");
        for (size_t k = 0; k < DELIVERY_FORWARD_MAX; k++)
            ck_assert_int_eq(delivery_result_forward(&r, i, "f@x.example"), 0);
    }
    struct ipc_msg m;
    ipc_msg_init(&m);
    ck_assert_int_eq(delivery_reply_message(&r, &m), -1);
    ck_assert_uint_eq(m.count, 2);
    ck_assert_str_eq(ipc_get(&m, IPC_A_STATUS), IPC_STATUS_DEFER);
    ck_assert_str_eq(ipc_get(&m, IPC_A_REASON), "the reply does not fit the IPC framing");
    /* one that fits is the encoding itself */
    delivery_reply_free(&r);
    delivery_reply_init(&r, 1);
    ipc_msg_clear(&m);
    ck_assert_int_eq(delivery_reply_message(&r, &m), 0);
    struct ipc_msg direct;
    ipc_msg_init(&direct);
    ck_assert_int_eq(delivery_reply_encode(&r, &direct), 0);
    ck_assert_uint_eq(m.count, direct.count);
    for (size_t i = 0; i < m.count; i++) {
        ck_assert_str_eq(m.attr[i].name, direct.attr[i].name);
        ck_assert_str_eq(m.attr[i].value, direct.attr[i].value);
    }
    ipc_msg_free(&direct);
    ipc_msg_clear(&m);
    delivery_reply_refusal(&m, "bad recipient");
    ck_assert_str_eq(m.attr[0].name, IPC_A_STATUS);
    ck_assert_str_eq(m.attr[0].value, IPC_STATUS_FAIL);
    ck_assert_str_eq(ipc_get(&m, IPC_A_REASON), "bad recipient");
    ipc_msg_free(&m);
    delivery_reply_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("delivery_agent");
    TCase *tc = tcase_create("delivery_agent");
    tcase_add_test(tc, serves_a_request);
    tcase_add_test(tc, refuses_a_malformed_request);
    tcase_add_test(tc, closed_connection);
    tcase_add_test(tc, reply_that_does_not_fit);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
