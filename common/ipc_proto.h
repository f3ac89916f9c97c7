/* ipc_proto.h: every conversation between tern processes, at a glance: the message types
 * (attribute "type") and the attribute names. Each request gets one reply with a "status"
 * attribute (IPC_STATUS_*) and, on failure, a "reason". */
#ifndef TERN_IPC_PROTO_H
#define TERN_IPC_PROTO_H

/* Attribute names */
#define IPC_A_TYPE      "type"      /* the message type, first in every message */
#define IPC_A_SERVICE   "service"   /* a server's announcement of itself */
#define IPC_A_STATUS    "status"
#define IPC_A_REASON    "reason"
#define IPC_A_QUEUE_ID  "queue_id"

/* Reply status values */
#define IPC_STATUS_OK    "ok"
#define IPC_STATUS_FAIL  "fail"      /* permanent */
#define IPC_STATUS_DEFER "defer"     /* temporary: try again later */

/* Message types, with who sends them to whom.
 *   wakeup   master -> any service with a wakeup time (master.conf column 6); no reply.
 *            Also sent by a program that wants a service to look at its queue now
 *            (e.g. a finished queue file -> qmgr).
 *   flush    `tern flush` -> qmgr (public/qmgr): retry every deferred message now;
 *            reply status. */
#define IPC_T_WAKEUP "wakeup"
#define IPC_T_FLUSH  "flush"

#endif
