/* ipc_proto.h: every conversation between tern processes, at a glance: the message types
 * (attribute "type") and the attribute names. Each request gets one reply with a "status"
 * attribute (IPC_STATUS_*) and, on failure, a "reason".
 *
 * The conversations whose messages are built by a codec of a later layer have their names in
 * that codec's header (this one, in common/, cannot include them):
 *   deliver      qmgr -> a delivery agent and its reply (below): mail/delivery_proto.h,
 *                DELIVERY_A_*
 *   report       a process that runs as a user -> the local or virtual agent that forked it,
 *                the outcome of one delivery step (common/runas.h carries it):
 *                mail/delivery_proto.h, DELIVERY_REPORT_A_*; local's jobs for its kept
 *                workers and what their reports add: delivery/local/report.h, LOCAL_JOB_*
 *                and LOCAL_REPORT_A_*; virtual's addition: delivery/virtual/vdeliver.h
 *   status logs  the records of defer/, bounce/ and trace/ (not a conversation, the same
 *                framing on disk): queue/statuslog.h, STATUSLOG_A_*
 * The master's status socket is not in this framing: fixed records, common/master_proto.h. */
#ifndef TERN_IPC_PROTO_H
#define TERN_IPC_PROTO_H

/* Attribute names */
#define IPC_A_TYPE      "type"      /* the message type, first in every message */
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
 *            (e.g. a finished queue file -> qmgr); ipc_wakeup keeps its connection and
 *            sends its next wakeups on it, so a server reads wakeups until the client closes
 *            (qmgr takes nothing else on such a connection).
 *   flush    `tern flush` -> qmgr (public/qmgr): retry every deferred message now;
 *            reply status. */
#define IPC_QMGR_SOCKET "public/qmgr"   /* relative to the queue directory */
#define IPC_PICKUP_SOCKET "public/pickup" /* wakeup: terndrop left a file in maildrop/ */
#define IPC_SHOWQ_SOCKET "public/showq"   /* the queue listing (ternqueue -p/-j, mailq) */
#define IPC_T_WAKEUP "wakeup"
#define IPC_T_FLUSH  "flush"

/* More requests to public/qmgr (ternqueue), each answered with one reply (status, reason):
 *   flush    with queue_id=ID: retry that deferred message now (ternqueue -i); with site=DOMAIN:
 *            retry now every deferred message that has a recipient still to deliver in DOMAIN,
 *            and forget that the destination of DOMAIN was dead (ternqueue -s). Any local user.
 *   delete, hold, release, requeue   (ternqueue -d, -h, -H, -r; only root or the user the
 *            queue manager runs as, checked with SO_PEERCRED, else status=fail
 *            reason=IPC_REASON_DENIED): act on the messages named by queue_id=ID (repeated, at
 *            most QADMIN_BATCH; queue/qadmin.h) or on all=yes, in the queues named by queue=NAME
 *            (repeated; incoming, active, deferred, hold; none: the operation's defaults).
 *            Reply: status=ok count=N (messages acted on), missing=ID for each named ID that
 *            was in none of those queues, failed=TEXT for each message an error stopped (at
 *            most QADMIN_FAILED_MAX of them; the rest are in the log). */
#define IPC_A_SITE      "site"
#define IPC_A_ALL       "all"
#define IPC_A_QUEUE     "queue"
#define IPC_A_COUNT     "count"
#define IPC_A_MISSING   "missing"
#define IPC_A_FAILED    "failed"
#define IPC_T_DELETE    "delete"
#define IPC_T_HOLD      "hold"
#define IPC_T_RELEASE   "release"
#define IPC_T_REQUEUE   "requeue"
#define IPC_REASON_DENIED "permission denied"

/*   showq    ternqueue -p/-j -> the showq service (public/showq): list the queue (incoming,
 *            active, deferred, hold). The request has no other attribute. The answer is a
 *            stream of messages, each with a type:
 *              entry    one queued message: queue_name, queue_id, arrival_time (seconds since
 *                       the epoch), message_size (bytes of content), sender ("" for <>),
 *                       next_attempt (seconds since the epoch; deferred/ only), then its
 *                       recipients still to deliver as pairs recipient=ADDRESS
 *                       delay_reason=TEXT ("" when none is known), in queue file order
 *              recipients  more pairs for the entry before it (an entry's pairs come in
 *                       messages of at most SHOWQ_PAIRS_MAX pairs and about 256 KiB)
 *              end      the last message: status=ok count=N (entries sent), or status=fail
 *                       with a reason */
#define IPC_T_SHOWQ        "showq"
#define IPC_T_ENTRY        "entry"
#define IPC_T_RECIPIENTS   "recipients"
#define IPC_T_END          "end"
#define IPC_A_QUEUE_NAME   "queue_name"
#define IPC_A_ARRIVAL_TIME "arrival_time"
#define IPC_A_MESSAGE_SIZE "message_size"
#define IPC_A_SENDER       "sender"
#define IPC_A_NEXT_ATTEMPT "next_attempt"
#define IPC_A_RECIPIENT    "recipient"
#define IPC_A_DELAY_REASON "delay_reason"
#define SHOWQ_PAIRS_MAX    500

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
/* keep=1, the last attribute of a reply: the server reads another request on this connection
 * (for up to SERVER_KEEP_IDLE_S seconds, server.h), so the client may keep it for its next
 * request instead of connecting again. The client takes the attribute off before it reads the
 * reply (ipc_take_keep). local and virtual answer deliver requests so; qmgr keeps such
 * connections (qmgr/call.c). */
#define IPC_A_KEEP "keep"
#define IPC_T_BOUNCE  "bounce"
#define IPC_A_KIND    "kind"
#define IPC_A_NOTICE_TO "notice_to"
#define BOUNCE_KIND_FAILURE "failure"
#define BOUNCE_KIND_DELAY   "delay"
#define BOUNCE_KIND_SUCCESS "success"

#endif
