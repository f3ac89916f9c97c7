/* report.c: delivery step outcomes and their IPC form (report.h). */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "header.h"

static void vset(struct outcome *o, enum delivery_status status, const char *dsn,
                 const char *diag, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
static void vset(struct outcome *o, enum delivery_status status, const char *dsn,
                 const char *diag, const char *fmt, va_list ap)
{
    o->status = status;
    snprintf(o->dsn, sizeof o->dsn, "%s", dsn);
    vsnprintf(o->text, sizeof o->text, fmt, ap);
    snprintf(o->diag, sizeof o->diag, "%s", diag ? diag : "");
    text_printable(o->text);
    text_printable(o->diag);
}

void outcome_set(struct outcome *o, enum delivery_status status, const char *dsn,
                 const char *diag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(o, status, dsn, diag, fmt, ap);
    va_end(ap);
}

void report_set(struct ipc_msg *report, enum delivery_status status, const char *dsn,
                const char *diag, const char *fmt, ...)
{
    struct outcome o;
    va_list ap;
    va_start(ap, fmt);
    vset(&o, status, dsn, diag, fmt, ap);
    va_end(ap);
    ipc_add(report, "status", delivery_status_name(status));
    ipc_add(report, "dsn", o.dsn);
    ipc_add(report, "text", o.text);
    if (o.diag[0])
        ipc_add(report, "diag", o.diag);
}

int report_get(const struct ipc_msg *report, struct outcome *o)
{
    const char *status = ipc_get(report, "status"), *dsn = ipc_get(report, "dsn");
    const char *text = ipc_get(report, "text"), *diag = ipc_get(report, "diag");
    if (!status || !dsn || !text)
        return -1;
    enum delivery_status st;
    if (strcmp(status, "sent") == 0)
        st = DELIVERY_SENT;
    else if (strcmp(status, "defer") == 0)
        st = DELIVERY_DEFER;
    else if (strcmp(status, "bounce") == 0)
        st = DELIVERY_BOUNCE;
    else
        return -1;
    if (strlen(dsn) >= sizeof o->dsn || !delivery_dsn_valid(dsn, st))
        return -1;
    outcome_set(o, st, dsn, diag, "%s", text);
    return 0;
}
