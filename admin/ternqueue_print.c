/* ternqueue_print.c: ternqueue -p (Postfix's mailq layout: the ID with `*` for active/ and `!`
 * for hold/, size, arrival time, sender, then each recipient indented 41 columns, after the
 * reason it waits for whenever that changes) and ternqueue -j (one JSON object a line). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "mem.h"
#include "ternqueue_print.h"

#define RCPT_INDENT 41          /* "%-11s %7s %-20s " of empty strings, as Postfix */
#define REASON_RIGHT_EDGE 76    /* a reason is right-aligned so that its ')' ends at column 78 */

/* The length of the valid UTF-8 sequence at s (NUL-terminated), 0 when there is none there. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;   /* also stops at the NUL */
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void qprint_json_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = utf8_len(p);
        if (n == 0) {
            fputs("\\ufffd", out);
            p++;
            continue;
        }
        if (n > 1) {
            fwrite(p, 1, n, out);
            p += n;
            continue;
        }
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(out, "\\u%04x", c);
            else
                fputc((int)c, out);
        }
        p++;
    }
}

void qprint_text(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_len(p);
        if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
            fputc('?', out);
            p++;
        } else {
            fwrite(p, 1, n, out);
            p += n;
        }
    }
}

void qprint_init(struct qprint *p, FILE *out, bool json)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->json = json;
    p->last_reason = xstrdup("");
}

static void json_field(FILE *out, const char *name, const char *value)
{
    fprintf(out, "\"%s\": \"", name);
    qprint_json_string(out, value);
    fputs("\", ", out);
}

void qprint_begin(struct qprint *p, const struct qlist_entry *e)
{
    FILE *out = p->out;
    p->nrcpt = 0;
    p->next_attempt = e->next_attempt;
    p->bytes += e->size;
    if (p->json) {
        fputc('{', out);
        json_field(out, "queue_name", e->queue);
        json_field(out, "queue_id", e->id);
        fprintf(out, "\"arrival_time\": %lld, \"message_size\": %llu, \"forced_expire\": false, ",
                e->arrival, e->size);
        json_field(out, "sender", e->sender);
        if (e->next_attempt > 0)
            fprintf(out, "\"next_attempt\": %lld, ", e->next_attempt);
        fputs("\"recipients\": [", out);
        p->count++;
        return;
    }
    if (p->count++ > 0)
        fputc('\n', out);
    else
        fprintf(out, "%-11s %7s %-20s %s\n", "-Queue ID-", "--Size--", "----Arrival Time----",
                "-Sender/Recipient-------");
    char id[QFILE_ID_MAX + 2];
    char mark = strcmp(e->queue, "active") == 0 ? '*' : strcmp(e->queue, "hold") == 0 ? '!' : ' ';
    snprintf(id, sizeof id, "%s%c", e->id, mark);
    char when[64] = "";
    time_t t = (time_t)e->arrival;
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(when, sizeof when, "%a %b %e %H:%M:%S", &tm);
    fprintf(out, "%-11s %7llu %-20s ", id, e->size, when);
    qprint_text(out, e->sender[0] ? e->sender : "MAILER-DAEMON");
    fputc('\n', out);
}

void qprint_rcpt(struct qprint *p, const char *address, const char *reason)
{
    FILE *out = p->out;
    if (p->json) {
        fputs(p->nrcpt++ ? ", {" : "{", out);
        fputs("\"address\": \"", out);
        qprint_json_string(out, address);
        fputc('"', out);
        if (reason[0]) {
            fputs(", \"delay_reason\": \"", out);
            qprint_json_string(out, reason);
            fputc('"', out);
        }
        if (p->next_attempt > 0)
            fprintf(out, ", \"next_attempt\": %lld", p->next_attempt);
        fputc('}', out);
        return;
    }
    /* as Postfix: the reason when it differs from the one before; "(reason unavailable)"
     * when a recipient has none after one that had one */
    if (strcmp(p->last_reason, reason) != 0) {
        free(p->last_reason);
        p->last_reason = xstrdup(reason);
        const char *show = reason[0] ? reason : "reason unavailable";
        int pad = REASON_RIGHT_EDGE - (int)strlen(show);
        fprintf(out, "%*s(", pad > 0 ? pad : 0, "");
        qprint_text(out, show);
        fputs(")\n", out);
    }
    fprintf(out, "%*s", RCPT_INDENT, "");
    qprint_text(out, address);
    fputc('\n', out);
}

void qprint_end(struct qprint *p)
{
    if (p->json) {
        fputs("]}\n", p->out);
    } else {
        free(p->last_reason);
        p->last_reason = xstrdup("");
    }
    fflush(p->out);
}

void qprint_entry(struct qprint *p, const struct qlist_entry *e)
{
    qprint_begin(p, e);
    for (size_t i = 0; i < e->nrcpt; i++)
        qprint_rcpt(p, e->rcpt[i].address, e->rcpt[i].reason);
    qprint_end(p);
}

void qprint_finish(struct qprint *p)
{
    if (p->json)
        return;
    if (p->count == 0)
        fputs("Mail queue is empty\n", p->out);
    else
        fprintf(p->out, "\n-- %llu Kbytes in %lu Request%s.\n", p->bytes / 1024, p->count,
                p->count == 1 ? "" : "s");
    fflush(p->out);
}

void qprint_free(struct qprint *p)
{
    free(p->last_reason);
    p->last_reason = NULL;
}
