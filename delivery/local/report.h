/* report.h: the local agent's worker protocol, what crosses the privilege boundary between its
 * root part and the processes that run as a user (common/runas.h): the attribute names of the
 * jobs it hands to a kept worker (userjob.c) and of what their reports add to the outcome of
 * mail/delivery_proto.h's Report (which the child sends with delivery_report_set); and the
 * outcome of one delivery step (a mailbox, a file, a command, reading a .forward) as the root
 * part keeps it. The child runs as a user, so its report is bounded and checked like any
 * peer's. */
#ifndef TERN_LOCAL_REPORT_H
#define TERN_LOCAL_REPORT_H
#include <stdbool.h>
#include "delivery_proto.h"
#include "ipc.h"

/* Jobs (userjob.h): type (IPC_A_TYPE) is one of these */
#define LOCAL_JOB_MAILBOX "mailbox"     /* write a mailbox or /file */
#define LOCAL_JOB_LISTFILE "listfile"   /* read a .forward or :include: file */
#define LOCAL_JOB_FORWARD "forward"     /* read .forward; without one, write the mailbox */
/* and its attributes */
#define LOCAL_JOB_A_PATH "path"         /* the mailbox or file; the list files (repeated) */
#define LOCAL_JOB_A_MAILBOX_PATH "mailbox_path"   /* a forward job's mailbox */
#define LOCAL_JOB_A_MAILDIR "maildir"   /* 1 or 0 */
#define LOCAL_JOB_A_FILE "file"         /* 1 or 0: a /file of an alias or .forward */
#define LOCAL_JOB_A_SENDER "sender"
#define LOCAL_JOB_A_HEAD "head"         /* the lines to prepend */
#define LOCAL_JOB_A_BODY "body"         /* the message, when it travels in the job */
#define LOCAL_JOB_A_SIZE_LIMIT "size_limit"
#define LOCAL_JOB_A_FOLDER "folder"
#define LOCAL_JOB_A_FORWARD "forward"   /* 1 or 0: a listfile job reads a .forward */

/* What a list file job's report has instead of an outcome, or a forward job's besides one */
#define LOCAL_REPORT_A_FOUND "found"       /* the file that was read */
#define LOCAL_REPORT_A_CONTENT "content"   /* and its text */
#define LOCAL_REPORT_A_NONE "none"         /* 1: there was none to read */
#define LOCAL_REPORT_A_WARNING "warning"   /* a .forward passed over, for the log */

struct outcome {
    enum delivery_status status;
    char dsn[16];
    char text[STATUSLOG_TEXT_MAX];
    char diag[STATUSLOG_TEXT_MAX];   /* "x-unix; ..." or "" */
};

/* Sets o (diag may be NULL). */
void outcome_set(struct outcome *o, enum delivery_status status, const char *dsn,
                 const char *diag, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* In the parent: the outcome in report, checked (delivery_report_get) and with texts cut and
 * made printable. 0, or -1 when the report is not valid. */
int report_get(const struct ipc_msg *report, struct outcome *o);


#endif
