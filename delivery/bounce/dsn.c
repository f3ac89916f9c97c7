/* dsn.c: the text of a delivery status notification (dsn.h): RFC 5322 header, then a
 * multipart/report of a readable part, the message/delivery-status part and the original (or
 * its header). Record texts have control characters replaced, so they can never add a line.
 * Also the choice of the records a notice lists (dsn_wanted, dsn_records_*). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dsn.h"
#include "header_scanner.h"
#include "mem.h"
#include "qfile.h"
#include "xtext.h"

#define FOLD_AT 78      /* long field lines are folded at a space past this column */
#define LINE_HARD 990   /* and broken here when there is no space (RFC 5322: 998) */

struct out {
    struct buf *b;
    int err;
};

static void put(struct out *o, const char *s)
{
    if (!o->err && buf_puts(o->b, s) < 0)
        o->err = 1;
}

static void put_len(struct out *o, const char *s, size_t n)
{
    if (!o->err && buf_append(o->b, s, n) < 0)
        o->err = 1;
}

/* Writes prefix and value as one logical line ending in CRLF: control characters in value
 * become spaces, and long lines are folded (CRLF before a space) so none passes LINE_HARD. */
static void put_line(struct out *o, const char *prefix, const char *value)
{
    size_t col = strlen(prefix);
    put(o, prefix);
    for (const char *p = value ? value : ""; *p; p++) {
        char c = ((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f ? ' ' : *p;
        if (c == ' ' && col > FOLD_AT) {
            put(o, "\r\n");
            col = 0;
        } else if (col >= LINE_HARD) {
            put(o, "\r\n ");
            col = 1;
        }
        put_len(o, &c, 1);
        col++;
    }
    put(o, "\r\n");
}

/* prefix + a + b + c as one line; a, b, c may be NULL */
static void put_line3(struct out *o, const char *prefix, const char *a, const char *b,
                      const char *c)
{
    struct buf v;
    buf_init(&v, BUF_UNBOUNDED);
    if (buf_puts(&v, a ? a : "") < 0 || buf_puts(&v, b ? b : "") < 0
        || buf_puts(&v, c ? c : "") < 0)
        o->err = 1;
    else
        put_line(o, prefix, v.data);
    buf_free(&v);
}

/* RFC 5322 date-time in UTC, independent of the locale. */
static void put_date(struct out *o, const char *prefix, time_t t)
{
    static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    char d[64];
    if (gmtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0
        || tm.tm_mon > 11) {
        t = 0;
        gmtime_r(&t, &tm);
    }
    snprintf(d, sizeof d, "%s, %d %s %d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    put_line(o, prefix, d);
}

static bool record_matches(enum dsn_kind kind, const char *action)
{
    switch (kind) {
    case DSN_FAILURE:
        return strcmp(action, "failed") == 0;
    case DSN_DELAY:
        return strcmp(action, "delayed") == 0;
    case DSN_SUCCESS:
        return strcmp(action, "delivered") == 0 || strcmp(action, "relayed") == 0
            || strcmp(action, "expanded") == 0;
    }
    return false;
}

static void put_boundary(struct out *o, const char *boundary, bool last)
{
    put_line3(o, "--", boundary, last ? "--" : NULL, NULL);
}

/* The ENVID decoded from xtext (xtext.h), when that is valid and gives printable ASCII; else the
 * xtext as queued (printable too, the qfile writer's job). */
static const char *envid_text(const char *xtext, char *out, size_t size)
{
    int n = xtext_decode(xtext, strlen(xtext), out, size);
    if (n < 0)
        return xtext;
    for (int i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e)
            return xtext;
    return out;
}

static void put_kind_text(struct out *o, enum dsn_kind kind)
{
    switch (kind) {
    case DSN_FAILURE:
        put(o, "I'm sorry to have to inform you that your message could not\r\n"
               "be delivered to one or more recipients. It's attached below.\r\n");
        break;
    case DSN_DELAY:
        put(o, "Your message could not be delivered yet to one or more recipients.\r\n"
               "The mail system will keep trying; you need not send it again.\r\n");
        break;
    case DSN_SUCCESS:
        put(o, "Your message was successfully delivered to the destinations listed\r\n"
               "below.\r\n");
        break;
    }
}

static void put_explanation(struct out *o, const struct dsn_message *m)
{
    put_line3(o, "This is the mail system at host ", m->reporting_mta, ".", NULL);
    put(o, "\r\n");
    if (m->postmaster_copy && m->kind == DSN_FAILURE) {
        put(o, "Postmaster copy: undeliverable notice.\r\n\r\n"
               "The message attached below came from the null sender <> (it was itself\r\n"
               "a delivery status notification or similar), so it cannot be returned to\r\n"
               "its sender. It could not be delivered to the recipients listed below.\r\n");
    } else {
        put_kind_text(o, m->kind);
    }
    put(o, "\r\n");
    for (size_t i = 0; i < m->nrecords; i++) {
        const struct status_record *r = &m->records[i];
        if (!record_matches(m->kind, r->action))
            continue;
        const char *why = r->reason[0] ? r->reason : r->diagnostic[0] ? r->diagnostic : r->status;
        put_line3(o, "<", r->recipient, ">: ", why);
    }
    put(o, "\r\n");
}

static void put_status(struct out *o, const struct dsn_message *m)
{
    static const char *const fallback[] = { "5.0.0", "4.0.0", "2.0.0" };
    put_line(o, "Reporting-MTA: dns; ", m->reporting_mta);
    put_line(o, "X-Tern-Queue-ID: ", m->queue_id);
    if (m->envid && m->envid[0]) {
        char decoded[512];
        put_line(o, "Original-Envelope-Id: ", envid_text(m->envid, decoded, sizeof decoded));
    }
    put_date(o, "Arrival-Date: ", m->arrival);
    for (size_t i = 0; i < m->nrecords; i++) {
        const struct status_record *r = &m->records[i];
        if (!record_matches(m->kind, r->action))
            continue;
        put(o, "\r\n");
        put_line(o, "Final-Recipient: rfc822; ", r->recipient);
        if (r->orig_recipient[0])
            put_line(o, "Original-Recipient: rfc822; ", r->orig_recipient);
        put_line(o, "Action: ", r->action);
        put_line(o, "Status: ", r->status[0] ? r->status : fallback[m->kind]);
        if (r->remote_mta[0])
            put_line(o, "Remote-MTA: ", r->remote_mta);
        if (r->diagnostic[0])
            put_line(o, "Diagnostic-Code: ", r->diagnostic);
        put_date(o, "Last-Attempt-Date: ", r->when);
        if (m->kind == DSN_DELAY && m->will_retry_until)
            put_date(o, "Will-Retry-Until: ", m->will_retry_until);
    }
    put(o, "\r\n");
}

/* The original, line by line with CRLF ends: only its header when headers_only (where the
 * header scanner says it ends), and only whole lines within size_limit bytes of it. */
static void put_original(struct out *o, const struct dsn_message *m)
{
    const char *p = m->original ? m->original : "";
    size_t len = m->original ? m->original_len : 0, pos = 0;
    if (m->headers_only) {
        struct header_fields it;
        struct header_field f;
        header_fields_init(&it, p, len);
        while (header_fields_next(&it, &f))
            continue;   /* on to the end of the header */
        len = it.scan.end;
    }
    while (pos < len) {
        const char *nl = memchr(p + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - p) + 1 : len;
        if (end > m->size_limit)
            break;
        size_t n = end - pos;
        if (n > 0 && p[pos + n - 1] == '\n')
            n--;
        if (n > 0 && p[pos + n - 1] == '\r')
            n--;
        put_len(o, p + pos, n);
        put(o, "\r\n");
        pos = end;
    }
}

int dsn_format(const struct dsn_message *m, struct buf *out)
{
    static const char *const subjects[] = { "Undelivered Mail Returned to Sender",
                                            "Delayed Mail (still being retried)",
                                            "Successful Mail Delivery Report" };
    static const char *const part3[] = { "Undelivered Message", "Delayed Message",
                                         "Delivered Message" };
    struct out o = { out, 0 };
    size_t start = out->len;
    if ((unsigned)m->kind > DSN_SUCCESS)
        return -1;
    put_date(&o, "Date: ", m->now);
    put_line3(&o, "From: Mail Delivery System <MAILER-DAEMON@", m->reporting_mta, ">", NULL);
    put_line3(&o, "To: <", m->notice_to ? m->notice_to : m->sender, ">", NULL);
    put_line(&o, "Subject: ", m->postmaster_copy && m->kind == DSN_FAILURE
                                  ? "Postmaster Copy: Undelivered Mail" : subjects[m->kind]);
    put(&o, "Auto-Submitted: auto-replied\r\n");
    put_line(&o, "Message-ID: ", m->message_id);
    put(&o, "MIME-Version: 1.0\r\n");
    put(&o, "Content-Type: multipart/report; report-type=delivery-status;\r\n");
    put_line3(&o, "\tboundary=\"", m->boundary, "\"", NULL);
    put(&o, "\r\nThis is a MIME-encapsulated message.\r\n\r\n");

    put_boundary(&o, m->boundary, false);
    put(&o, "Content-Description: Notification\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
    put_explanation(&o, m);

    put_boundary(&o, m->boundary, false);
    put(&o, "Content-Description: Delivery report\r\n"
            "Content-Type: message/delivery-status\r\n\r\n");
    put_status(&o, m);

    put_boundary(&o, m->boundary, false);
    put_line3(&o, "Content-Description: ", part3[m->kind], m->headers_only ? " Headers" : NULL,
              NULL);
    put(&o, m->headers_only ? "Content-Type: text/rfc822-headers\r\n\r\n"
                            : "Content-Type: message/rfc822\r\n\r\n");
    put_original(&o, m);
    put(&o, "\r\n");
    put_boundary(&o, m->boundary, true);
    if (o.err) {
        buf_truncate(out, start);
        return -1;
    }
    return 0;
}

/* ---- the records a notice lists ---- */

bool dsn_wanted(enum dsn_kind kind, const struct status_record *r)
{
    if (!record_matches(kind, r->action) || (r->notify & NOTIFY_NEVER))
        return false;
    switch (kind) {
    case DSN_FAILURE:
        return r->notify == 0 || (r->notify & NOTIFY_FAILURE);
    case DSN_DELAY:
        return r->notify == 0 || (r->notify & NOTIFY_DELAY);
    case DSN_SUCCESS:
        return (r->notify & NOTIFY_SUCCESS) != 0;
    }
    return false;
}

void dsn_records_init(struct dsn_records *s, size_t max)
{
    memset(s, 0, sizeof *s);
    s->max = max;
    s->nslots = 16;
    while (s->nslots < 2 * max && s->nslots < SIZE_MAX / 4)
        s->nslots *= 2;
    s->slot = xcalloc(s->nslots, sizeof *s->slot);
}

void dsn_records_free(struct dsn_records *s)
{
    free(s->r);
    free(s->slot);
    memset(s, 0, sizeof *s);
}

static size_t hash_address(const char *a, size_t size)
{
    uint64_t h = 14695981039346656037u;   /* FNV-1a */
    for (size_t i = 0; i < size && a[i]; i++)
        h = (h ^ (unsigned char)a[i]) * 1099511628211u;
    return (size_t)h;
}

/* The slot of recipient: the one holding its record, or the free one where it would go. The
 * table is never more than half full, so a free slot is always found. */
static size_t *find_slot(const struct dsn_records *s, const char *recipient)
{
    size_t i = hash_address(recipient, sizeof s->r->recipient) & (s->nslots - 1);
    while (s->slot[i] != 0
           && strncmp(s->r[s->slot[i] - 1].recipient, recipient, sizeof s->r->recipient) != 0)
        i = (i + 1) & (s->nslots - 1);
    return &s->slot[i];
}

int dsn_records_add(struct dsn_records *s, enum dsn_kind kind, const struct status_record *r)
{
    if (!dsn_wanted(kind, r))
        return 0;
    size_t *slot = find_slot(s, r->recipient);
    if (*slot != 0) {
        s->r[*slot - 1] = *r;
        return 1;
    }
    if (s->n >= s->max) {
        s->dropped++;
        return -1;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        if (s->cap > s->max)
            s->cap = s->max;
        s->r = xrealloc(s->r, s->cap * sizeof *s->r);
    }
    s->r[s->n++] = *r;
    *slot = s->n;
    return 1;
}
