/* report.h: the outcome of one delivery step of the local agent (a mailbox, a file, a command,
 * reading a .forward), as a delivery child reports it to the root parent in an IPC message
 * (status, dsn, text, diag and job-specific attributes) and as the parent checks it: the child
 * runs as a user, so its report is bounded and validated like any peer's. */
#ifndef TERN_LOCAL_REPORT_H
#define TERN_LOCAL_REPORT_H
#include <stdbool.h>
#include "delivery_proto.h"
#include "ipc.h"

struct outcome {
    enum delivery_status status;
    char dsn[16];
    char text[STATUSLOG_TEXT_MAX];
    char diag[STATUSLOG_TEXT_MAX];   /* "x-unix; ..." or "" */
};

/* Sets o (diag may be NULL). */
void outcome_set(struct outcome *o, enum delivery_status status, const char *dsn,
                 const char *diag, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* In the child: adds status, dsn, text and diag (when not NULL/empty) to report. */
void report_set(struct ipc_msg *report, enum delivery_status status, const char *dsn,
                const char *diag, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* In the parent: the outcome in report, checked (a known status, a DSN code of its class) and
 * with texts cut and made printable. 0, or -1 when the report is not valid. */
int report_get(const struct ipc_msg *report, struct outcome *o);


#endif
