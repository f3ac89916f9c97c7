/* report.c: the outcome of a delivery step as the local agent keeps it (report.h), and its
 * reading from the mail layer's Report (delivery_proto.h), which a process running as a user
 * sends with delivery_report_set. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "header.h"

void outcome_set(struct outcome *o, enum delivery_status status, const char *dsn,
                 const char *diag, const char *fmt, ...)
{
    o->status = status;
    snprintf(o->dsn, sizeof o->dsn, "%s", dsn);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->text, sizeof o->text, fmt, ap);
    va_end(ap);
    snprintf(o->diag, sizeof o->diag, "%s", diag ? diag : "");
    text_printable(o->text);
    text_printable(o->diag);
}

int report_get(const struct ipc_msg *report, struct outcome *o)
{
    enum delivery_status st;
    const char *dsn, *text, *diag;
    if (delivery_report_get(report, &st, &dsn, &text, &diag) < 0 ||
        strlen(dsn) >= sizeof o->dsn)
        return -1;
    outcome_set(o, st, dsn, diag, "%s", text);
    return 0;
}
