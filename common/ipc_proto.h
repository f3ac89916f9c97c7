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
#define IPC_QMGR_SOCKET "public/qmgr"   /* relative to the queue directory */
#define IPC_PICKUP_SOCKET "public/pickup" /* wakeup: terndrop left a file in maildrop/ */
#define IPC_SHOWQ_SOCKET "public/showq"   /* the queue listing (ternqueue -p/-j, mailq) */
#define IPC_T_WAKEUP "wakeup"
#define IPC_T_FLUSH  "flush"

/*   deliver  qmgr -> a delivery agent (private/local, private/virtual, private/smtp, ...):
 *            deliver a message of active/ to some of its recipients; the reply has one result
 *            per recipient. Encoded by delivery_proto.h, which lists the attributes.
 *   bounce   qmgr -> the bounce service (private/bounce): write a delivery status notification
 *            about active/<queue_id> as a new queue file in incoming/. Attributes:
 *              queue_id=ID  kind=failure|delay|success
 *            kind picks the status log it reads (bounce/ID, defer/ID, trace/ID) and the
 *            NOTIFY bit a recipient must have (or no NOTIFY at all, for failure and delay).
 *            Reply: status=ok, with queue_id=NEWID and notice_to=ADDRESS when a notice was
 *            queued (none when no record asked for one, or when the message came from the
 *            double_bounce_sender: its failures are logged and dropped); status=defer with a
 *            reason when the notice could not be written (qmgr keeps the log and tries again).
 *            Mail from <> that fails goes to 2bounce_notice_recipient from
 *            double_bounce_sender@myhostname; other notices go to the sender from <>. */
#define IPC_T_DELIVER "deliver"
#define IPC_T_BOUNCE  "bounce"
#define IPC_A_KIND    "kind"
#define IPC_A_NOTICE_TO "notice_to"
#define BOUNCE_KIND_FAILURE "failure"
#define BOUNCE_KIND_DELAY   "delay"
#define BOUNCE_KIND_SUCCESS "success"

#endif
