/* delivery_proto.c: encoding and strict decoding of the qmgr <-> delivery agent conversation,
 * and of the report a delivery step's process sends its agent (see delivery_proto.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "delivery_proto.h"
#include "header.h"
#include "ipc_proto.h"
#include "mem.h"

static int copy_value(char *out, size_t size, const struct ipc_attr *a)
{
    if (a->value_len >= size)
        return -1;
    memcpy(out, a->value, a->value_len + 1);
    return 0;
}

int delivery_request_encode(const struct delivery_request *r, struct ipc_msg *m)
{
    int rc = ipc_add(m, IPC_A_TYPE, IPC_T_DELIVER) | ipc_add(m, IPC_A_QUEUE_ID, r->queue_id) |
             ipc_add(m, DELIVERY_A_NEXTHOP, r->nexthop);
    for (size_t i = 0; i < r->nrcpt; i++)
        rc |= ipc_add(m, DELIVERY_A_RCPT, r->rcpt[i].address) |
              ipc_add(m, DELIVERY_A_RCPT_ORIG, r->rcpt[i].orig) |
              ipc_addf(m, DELIVERY_A_RCPT_NOTIFY, "%u", r->rcpt[i].notify);
    return rc < 0 ? -1 : 0;
}

int delivery_request_decode(const struct ipc_msg *m, struct delivery_request *r,
                            char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (m->count < 3 || strcmp(m->attr[0].name, IPC_A_TYPE) != 0 ||
        strcmp(m->attr[0].value, IPC_T_DELIVER) != 0) {
        snprintf(err, errlen, "not a delivery request");
        return -1;
    }
    if (strcmp(m->attr[1].name, IPC_A_QUEUE_ID) != 0 || !qfile_valid_id(m->attr[1].value) ||
        copy_value(r->queue_id, sizeof r->queue_id, &m->attr[1]) < 0) {
        snprintf(err, errlen, "bad queue_id");
        return -1;
    }
    if (strcmp(m->attr[2].name, DELIVERY_A_NEXTHOP) != 0 ||
        copy_value(r->nexthop, sizeof r->nexthop, &m->attr[2]) < 0) {
        snprintf(err, errlen, "bad nexthop");
        return -1;
    }
    size_t rest = m->count - 3;
    if (rest == 0 || rest % 3 != 0 || rest / 3 > DELIVERY_RCPT_MAX) {
        snprintf(err, errlen, "bad recipient count");
        return -1;
    }
    r->nrcpt = rest / 3;
    r->rcpt = xcalloc(r->nrcpt, sizeof *r->rcpt);
    for (size_t i = 0; i < r->nrcpt; i++) {
        const struct ipc_attr *a = &m->attr[3 + 3 * i];
        char *end;
        unsigned long notify;
        if (strcmp(a[0].name, DELIVERY_A_RCPT) != 0 ||
            strcmp(a[1].name, DELIVERY_A_RCPT_ORIG) != 0 ||
            strcmp(a[2].name, DELIVERY_A_RCPT_NOTIFY) != 0 ||
            copy_value(r->rcpt[i].address, sizeof r->rcpt[i].address, &a[0]) < 0 ||
            copy_value(r->rcpt[i].orig, sizeof r->rcpt[i].orig, &a[1]) < 0 ||
            (notify = strtoul(a[2].value, &end, 10), *end || a[2].value_len == 0 ||
             notify > 15)) {
            delivery_request_free(r);
            snprintf(err, errlen, "bad recipient");
            return -1;
        }
        r->rcpt[i].notify = (unsigned)notify;
    }
    return 0;
}

void delivery_request_free(struct delivery_request *r)
{
    free(r->rcpt);
    r->rcpt = NULL;
    r->nrcpt = 0;
}

const char *delivery_status_name(enum delivery_status s)
{
    switch (s) {
    case DELIVERY_SENT: return "sent";
    case DELIVERY_BOUNCE: return "bounce";
    default: return "defer";
    }
}

int delivery_status_parse(const char *name, enum delivery_status *status)
{
    static const enum delivery_status all[] = { DELIVERY_SENT, DELIVERY_DEFER, DELIVERY_BOUNCE };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, delivery_status_name(all[i])) == 0) {
            *status = all[i];
            return 0;
        }
    }
    return -1;
}

void delivery_reply_init(struct delivery_reply *r, size_t nrcpt)
{
    memset(r, 0, sizeof *r);
    r->nresult = nrcpt;
    r->result = xcalloc(nrcpt ? nrcpt : 1, sizeof *r->result);
    for (size_t i = 0; i < nrcpt; i++)
        delivery_result_set(r, i, DELIVERY_DEFER, "4.3.0", "delivery agent gave no result");
}

void delivery_result_set(struct delivery_reply *r, size_t i, enum delivery_status status,
                         const char *dsn, const char *fmt, ...)
{
    struct delivery_result *x = &r->result[i];
    x->status = status;
    snprintf(x->dsn, sizeof x->dsn, "%s", dsn);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->text, sizeof x->text, fmt, ap);
    va_end(ap);
}

int delivery_result_forward(struct delivery_reply *r, size_t i, const char *address)
{
    struct delivery_result *x = &r->result[i];
    if (x->nforward >= DELIVERY_FORWARD_MAX || strlen(address) >= DELIVERY_ADDR_MAX)
        return -1;
    x->forward = xrealloc(x->forward, (x->nforward + 1) * sizeof *x->forward);
    x->forward[x->nforward++] = xstrdup(address);
    return 0;
}

int delivery_reply_encode(const struct delivery_reply *r, struct ipc_msg *m)
{
    int rc = ipc_add(m, IPC_A_STATUS, IPC_STATUS_OK);
    if (r->dead)
        rc |= ipc_add(m, DELIVERY_A_DEAD, "1");
    for (size_t i = 0; i < r->nresult; i++) {
        const struct delivery_result *x = &r->result[i];
        rc |= ipc_add(m, DELIVERY_A_RCPT_STATUS, delivery_status_name(x->status));
        rc |= ipc_add(m, DELIVERY_A_RCPT_DSN, x->dsn);
        if (x->action[0])
            rc |= ipc_add(m, DELIVERY_A_RCPT_ACTION, x->action);
        rc |= ipc_add(m, DELIVERY_A_RCPT_TEXT, x->text);
        if (x->diag[0])
            rc |= ipc_add(m, DELIVERY_A_RCPT_DIAG, x->diag);
        if (x->relay[0])
            rc |= ipc_add(m, DELIVERY_A_RCPT_RELAY, x->relay);
        if (x->remote_mta[0])
            rc |= ipc_add(m, DELIVERY_A_RCPT_REMOTE_MTA, x->remote_mta);
        if (x->forward_sender[0])
            rc |= ipc_add(m, DELIVERY_A_RCPT_FORWARD_SENDER, x->forward_sender);
        for (size_t k = 0; k < x->nforward; k++)
            rc |= ipc_add(m, DELIVERY_A_RCPT_FORWARD, x->forward[k]);
    }
    return rc < 0 ? -1 : 0;
}

int delivery_reply_message(const struct delivery_reply *r, struct ipc_msg *m)
{
    if (delivery_reply_encode(r, m) == 0)
        return 0;
    ipc_msg_clear(m);
    ipc_add(m, IPC_A_STATUS, IPC_STATUS_DEFER);
    ipc_add(m, IPC_A_REASON, "the reply does not fit the IPC framing");
    return -1;
}

void delivery_reply_refusal(struct ipc_msg *m, const char *why)
{
    ipc_add(m, IPC_A_STATUS, IPC_STATUS_FAIL);
    ipc_add(m, IPC_A_REASON, why);
}

bool delivery_dsn_valid(const char *s, enum delivery_status status)
{
    char want = status == DELIVERY_SENT ? '2' : status == DELIVERY_DEFER ? '4' : '5';
    if (s[0] != want || s[1] != '.')
        return false;
    const char *p = s + 2;
    for (int part = 0; part < 2; part++) {
        size_t n = 0;
        while (p[n] >= '0' && p[n] <= '9')
            n++;
        if (n == 0 || n > 3)
            return false;
        p += n;
        if (part == 0 && *p++ != '.')
            return false;
    }
    return *p == '\0';
}

int delivery_reply_decode(const struct ipc_msg *m, size_t nrcpt, struct delivery_reply *r,
                          char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->result = xcalloc(nrcpt ? nrcpt : 1, sizeof *r->result);
    const struct ipc_attr *a = m->attr;
    size_t i = 0, n = m->count;
    if (n == 0 || strcmp(a[0].name, IPC_A_STATUS) != 0 ||
        strcmp(a[0].value, IPC_STATUS_OK) != 0) {
        snprintf(err, errlen, "the agent did not answer ok");
        goto fail;
    }
    i = 1;
    if (i < n && strcmp(a[i].name, DELIVERY_A_DEAD) == 0) {
        r->dead = strcmp(a[i].value, "1") == 0;
        i++;
    }
    struct delivery_result *x = NULL;
    for (; i < n; i++) {
        const char *name = a[i].name, *v = a[i].value;
        if (strcmp(name, DELIVERY_A_RCPT_STATUS) == 0) {
            if (r->nresult >= nrcpt) {
                snprintf(err, errlen, "more results than recipients");
                goto fail;
            }
            x = &r->result[r->nresult++];
            if (delivery_status_parse(v, &x->status) < 0) {
                snprintf(err, errlen, "bad rcpt_status");
                goto fail;
            }
            continue;
        }
        if (x == NULL) {
            snprintf(err, errlen, "attribute before the first rcpt_status");
            goto fail;
        }
        int bad = 0;
        if (strcmp(name, DELIVERY_A_RCPT_DSN) == 0)
            bad = copy_value(x->dsn, sizeof x->dsn, &a[i]) < 0;
        else if (strcmp(name, DELIVERY_A_RCPT_ACTION) == 0)
            bad = copy_value(x->action, sizeof x->action, &a[i]);
        else if (strcmp(name, DELIVERY_A_RCPT_TEXT) == 0)
            bad = copy_value(x->text, sizeof x->text, &a[i]);
        else if (strcmp(name, DELIVERY_A_RCPT_DIAG) == 0)
            bad = copy_value(x->diag, sizeof x->diag, &a[i]);
        else if (strcmp(name, DELIVERY_A_RCPT_RELAY) == 0)
            bad = copy_value(x->relay, sizeof x->relay, &a[i]);
        else if (strcmp(name, DELIVERY_A_RCPT_REMOTE_MTA) == 0)
            bad = copy_value(x->remote_mta, sizeof x->remote_mta, &a[i]);
        else if (strcmp(name, DELIVERY_A_RCPT_FORWARD_SENDER) == 0)
            bad = copy_value(x->forward_sender, sizeof x->forward_sender, &a[i]);
        else if (strcmp(name, DELIVERY_A_RCPT_FORWARD) == 0)
            bad = x->nforward >= DELIVERY_FORWARD_MAX || a[i].value_len == 0 ||
                  a[i].value_len >= DELIVERY_ADDR_MAX ||
                  (x->forward = xrealloc(x->forward, (x->nforward + 1) * sizeof *x->forward),
                   x->forward[x->nforward++] = xstrdup(v), 0);
        else
            bad = 1;
        if (bad) {
            snprintf(err, errlen, "bad or unknown result attribute");
            goto fail;
        }
    }
    if (r->nresult != nrcpt) {
        snprintf(err, errlen, "fewer results than recipients");
        goto fail;
    }
    for (size_t k = 0; k < nrcpt; k++) {
        x = &r->result[k];
        if (!delivery_dsn_valid(x->dsn, x->status)) {
            snprintf(err, errlen, "a result's status code does not match its status");
            goto fail;
        }
        if (x->nforward && x->status != DELIVERY_SENT) {
            snprintf(err, errlen, "a forward list on a recipient not sent");
            goto fail;
        }
    }
    return 0;
fail:
    delivery_reply_free(r);
    return -1;
}

void delivery_reply_free(struct delivery_reply *r)
{
    for (size_t i = 0; r->result && i < r->nresult; i++) {
        for (size_t k = 0; k < r->result[i].nforward; k++)
            free(r->result[i].forward[k]);
        free(r->result[i].forward);
    }
    free(r->result);
    r->result = NULL;
    r->nresult = 0;
}

void delivery_report_vset(struct ipc_msg *report, enum delivery_status status, const char *dsn,
                          const char *diag, const char *fmt, va_list ap)
{
    char text[STATUSLOG_TEXT_MAX], diag_text[STATUSLOG_TEXT_MAX];
    vsnprintf(text, sizeof text, fmt, ap);
    snprintf(diag_text, sizeof diag_text, "%s", diag ? diag : "");
    text_printable(text);
    text_printable(diag_text);
    ipc_add(report, DELIVERY_REPORT_A_STATUS, delivery_status_name(status));
    ipc_add(report, DELIVERY_REPORT_A_DSN, dsn);
    ipc_add(report, DELIVERY_REPORT_A_TEXT, text);
    if (diag_text[0])
        ipc_add(report, DELIVERY_REPORT_A_DIAG, diag_text);
}

void delivery_report_set(struct ipc_msg *report, enum delivery_status status, const char *dsn,
                         const char *diag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    delivery_report_vset(report, status, dsn, diag, fmt, ap);
    va_end(ap);
}

/* Whether s is what delivery_report_vset sends: within the bound, no control character. */
static bool report_text_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f || n >= STATUSLOG_TEXT_MAX - 1)
            return false;
    return true;
}

int delivery_report_get(const struct ipc_msg *report, enum delivery_status *status,
                        const char **dsn, const char **text, const char **diag)
{
    const char *name = ipc_get(report, DELIVERY_REPORT_A_STATUS);
    *dsn = ipc_get(report, DELIVERY_REPORT_A_DSN);
    *text = ipc_get(report, DELIVERY_REPORT_A_TEXT);
    *diag = ipc_get(report, DELIVERY_REPORT_A_DIAG);
    if (*diag == NULL)
        *diag = "";
    if (!name || !*dsn || !*text || delivery_status_parse(name, status) < 0 ||
        !delivery_dsn_valid(*dsn, *status) || !report_text_ok(*text) || !report_text_ok(*diag))
        return -1;
    return 0;
}
