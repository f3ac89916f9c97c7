/* deliver.h: one delivery request from qmgr, carried out: the next hop parsed, the message
 * loaded, a cached connection to the destination reused or the addresses found (literal,
 * UNIX socket, or MX look-up) and tried in order until a server takes the transaction, and
 * one result per recipient. */
#ifndef TERN_SMTP_DELIVER_H
#define TERN_SMTP_DELIVER_H
#include "delivery_proto.h"

/* Takes over req (the caller must not free it) and calls done later, from the loop, with the
 * reply; the reply is freed after done returns. */
void deliver_start(struct delivery_request *req,
                   void (*done)(void *arg, const struct delivery_reply *reply), void *arg);

#endif
