/* delivery_proto.h: the request qmgr sends a delivery agent (local, virtual, smtp, lmtp) over
 * private/<transport>, and the agent's reply with one result per recipient, as structures
 * encoded in the IPC framing (ipc.h); and the report of one delivery step that a process
 * running as a user sends the local or virtual agent (below, "Report"). The agent reads the
 * message itself from active/<queue_id> (qfile_read); qmgr alone writes the queue: it marks
 * recipients done, keeps the status logs and turns a result's forward list into a new queue
 * file.
 *
 * Request:  type=deliver queue_id=ID nexthop=HOP, then per recipient, in this order:
 *           rcpt=ADDRESS rcpt_orig=ORIGINAL ("" if none) rcpt_notify=BITS (decimal)
 * Reply:    status=ok [dead=1], then per recipient, in request order, a group that starts with
 *           rcpt_status=sent|defer|bounce and may go on with rcpt_dsn, rcpt_action, rcpt_text,
 *           rcpt_diag, rcpt_relay, rcpt_remote_mta, rcpt_forward_sender and rcpt_forward
 *           (repeated). dead=1 says the destination itself failed (it could not be reached at
 *           all): qmgr then holds back its other mail until the retry time. */
#ifndef TERN_DELIVERY_PROTO_H
#define TERN_DELIVERY_PROTO_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include "ipc.h"
#include "qfile.h"
#include "statuslog.h"

/* The attribute names (type, queue_id and status are ipc_proto.h's) */
#define DELIVERY_A_NEXTHOP         "nexthop"
#define DELIVERY_A_RCPT            "rcpt"
#define DELIVERY_A_RCPT_ORIG       "rcpt_orig"
#define DELIVERY_A_RCPT_NOTIFY     "rcpt_notify"
#define DELIVERY_A_DEAD            "dead"
#define DELIVERY_A_RCPT_STATUS     "rcpt_status"
#define DELIVERY_A_RCPT_DSN        "rcpt_dsn"
#define DELIVERY_A_RCPT_ACTION     "rcpt_action"
#define DELIVERY_A_RCPT_TEXT       "rcpt_text"
#define DELIVERY_A_RCPT_DIAG       "rcpt_diag"
#define DELIVERY_A_RCPT_RELAY      "rcpt_relay"
#define DELIVERY_A_RCPT_REMOTE_MTA "rcpt_remote_mta"
#define DELIVERY_A_RCPT_FORWARD_SENDER "rcpt_forward_sender"
#define DELIVERY_A_RCPT_FORWARD    "rcpt_forward"

#define DELIVERY_RCPT_MAX 1000        /* recipients in one request */
/* bytes of an encoded request: one of DELIVERY_RCPT_MAX recipients with the longest addresses
 * fits */
#define DELIVERY_REQUEST_MAX ((size_t)DELIVERY_RCPT_MAX * (2 * DELIVERY_ADDR_MAX + 64) + 4096)
#define DELIVERY_FORWARD_MAX 1000     /* addresses one recipient may expand to */
#define DELIVERY_ADDR_MAX 512         /* an address, NUL included */

struct delivery_rcpt {
    char address[DELIVERY_ADDR_MAX];  /* the envelope recipient */
    char orig[DELIVERY_ADDR_MAX];     /* the original recipient (ORCPT or before aliasing), "" */
    unsigned notify;                  /* NOTIFY_* bits (queue/qenvelope.h), 0 when not given */
};

struct delivery_request {
    char queue_id[QFILE_ID_MAX];
    char nexthop[512];
    size_t nrcpt;
    struct delivery_rcpt *rcpt;       /* nrcpt entries */
};

enum delivery_status { DELIVERY_SENT, DELIVERY_DEFER, DELIVERY_BOUNCE };

struct delivery_result {
    enum delivery_status status;
    char dsn[16];                     /* enhanced status code: "2.0.0", "4.2.2", "5.1.1" */
    char action[16];                  /* DSN Action for a success: delivered, relayed, expanded;
                                       * "none": the next server took the NOTIFY request, so
                                       * no success notice of ours */
    char text[STATUSLOG_TEXT_MAX];    /* for the log and the DSN: "delivered to maildir" */
    char diag[STATUSLOG_TEXT_MAX];    /* Diagnostic-Code: "x-unix; ...", "smtp; 550 ...", "" */
    char relay[256];                  /* for the log: "local", "mx.example.org[192.0.2.1]:25" */
    char remote_mta[256];             /* Remote-MTA: "dns; mx.example.org", or "" */
    /* A sent recipient may still need mail forwarded: qmgr writes these addresses into a new
     * queue file (with Delivered-To: for the recipient) before it marks the recipient done. */
    char forward_sender[DELIVERY_ADDR_MAX];   /* sender of that copy; "" keeps the original */
    size_t nforward;
    char **forward;
};

struct delivery_reply {
    bool dead;
    size_t nresult;
    struct delivery_result *result;   /* nresult entries */
};

/* Request: qmgr encodes, the agent decodes (checking every name and bound; err on error). */
int delivery_request_encode(const struct delivery_request *r, struct ipc_msg *m);
int delivery_request_decode(const struct ipc_msg *m, struct delivery_request *r,
                            char *err, size_t errlen);
void delivery_request_free(struct delivery_request *r);

/* Reply: the agent fills one result per recipient (delivery_reply_init allocates them, all
 * "defer 4.3.0" until set), encodes; qmgr decodes and checks that the count matches. */
void delivery_reply_init(struct delivery_reply *r, size_t nrcpt);
/* Sets result i: status, dsn and a printf text; the other fields stay as they are. */
void delivery_result_set(struct delivery_reply *r, size_t i, enum delivery_status status,
                         const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Adds an address to result i's forward list; -1 past DELIVERY_FORWARD_MAX. */
int delivery_result_forward(struct delivery_reply *r, size_t i, const char *address);
int delivery_reply_encode(const struct delivery_reply *r, struct ipc_msg *m);
/* The agent's answer: delivery_reply_encode, or when r does not fit the IPC framing, status=defer
 * with a reason in its place (qmgr then tries every recipient again), and -1 for the agent to
 * log. */
int delivery_reply_message(const struct delivery_reply *r, struct ipc_msg *m);
/* The agent's answer to a request it refuses (delivery_request_decode's err): status=fail. */
void delivery_reply_refusal(struct ipc_msg *m, const char *why);
int delivery_reply_decode(const struct ipc_msg *m, size_t nrcpt, struct delivery_reply *r,
                          char *err, size_t errlen);
void delivery_reply_free(struct delivery_reply *r);

const char *delivery_status_name(enum delivery_status s);   /* "sent", "defer", "bounce" */
/* The status a name of delivery_status_name stands for: 0, or -1 for any other text. */
int delivery_status_parse(const char *name, enum delivery_status *status);
/* Whether dsn is an enhanced status code (RFC 3463: class.subject.detail, at most three digits
 * each) whose class (2, 4, 5) goes with status. */
bool delivery_dsn_valid(const char *dsn, enum delivery_status status);

/* Report: the outcome of one delivery step (a mailbox or file write, a command, a list file
 * read) as the process that did it, running as a user (common/runas.h), sends it to the local
 * or virtual agent that forked it:
 *           status=sent|defer|bounce dsn=CODE text=TEXT [diag=TEXT]
 * then the attributes of the step's own (delivery/local/report.h, delivery/virtual/vdeliver.h).
 * The agent is root and the process is not, so the report is checked like any peer's message:
 * a known status, a DSN code of its class, printable texts. */
#define DELIVERY_REPORT_A_STATUS "status"
#define DELIVERY_REPORT_A_DSN    "dsn"
#define DELIVERY_REPORT_A_TEXT   "text"
#define DELIVERY_REPORT_A_DIAG   "diag"   /* Diagnostic-Code: "x-unix; ...", when there is one */

/* Adds the outcome to report: status, dsn, the printf text and diag (when not NULL or "") with
 * each cut to STATUSLOG_TEXT_MAX and its control characters made spaces (text_printable). */
void delivery_report_set(struct ipc_msg *report, enum delivery_status status, const char *dsn,
                         const char *diag, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void delivery_report_vset(struct ipc_msg *report, enum delivery_status status, const char *dsn,
                          const char *diag, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
/* The outcome in report, checked: 0 with the status, and dsn, text and diag ("" when absent)
 * pointing into report; -1 when there is none or it is not valid (an unknown status, a DSN
 * code that is not of its class, a control character in a text, a text over
 * STATUSLOG_TEXT_MAX). The step's own attributes are the caller's to check. */
int delivery_report_get(const struct ipc_msg *report, enum delivery_status *status,
                        const char **dsn, const char **text, const char **diag);

#endif
