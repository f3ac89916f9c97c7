/* header_edit.c: the header scan and rewrite of header_edit.h. A field is a line "name:"
 * where the name is printable ASCII without a colon; lines starting with a space or a tab
 * continue the field before them. */
#include <string.h>
#include <strings.h>
#include "header_edit.h"

/* The end of the line starting at p (after its LF), or NULL when it does not end before end. */
static const char *line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl + 1 : NULL;
}

/* The length of the field name of a line, or 0 when the line is not a header field. White
 * space may come between the name and the colon (RFC 5322's obsolete syntax, which Postfix
 * accepts too). */
static size_t field_name(const char *p, const char *eol)
{
    size_t n = 0;
    while (p + n < eol && p[n] != ':' && p[n] != ' ' && p[n] != '\t') {
        unsigned char c = (unsigned char)p[n];
        if (c < 33 || c >= 127)
            return 0;
        n++;
    }
    size_t colon = n;
    while (p + colon < eol && (p[colon] == ' ' || p[colon] == '\t'))
        colon++;
    return n > 0 && p + colon < eol && p[colon] == ':' ? n : 0;
}

/* Where the value of a field starts: after the colon that field_name found. */
static const char *field_value(const char *p, size_t name_len)
{
    p += name_len;
    while (*p == ' ' || *p == '\t')
        p++;
    return p + 1;
}

static bool name_is(const char *p, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

void header_scan(const char *content, size_t len, struct header_info *info)
{
    memset(info, 0, sizeof *info);
    header_scan_more(content, len, info);
}

void header_scan_more(const char *content, size_t len, struct header_info *info)
{
    if (info->complete)
        return;
    const char *p = content + info->header_len, *end = content + len;
    while (p < end) {
        const char *eol = line_end(p, end);
        if (eol == NULL)
            break;   /* an unfinished line: more content is needed to decide */
        if (eol - p <= 2 && (p[0] == '\r' || p[0] == '\n')) {
            info->blank_line = true;
            info->complete = true;
            info->header_len = (size_t)(eol - content);
            return;
        }
        if ((p[0] == ' ' || p[0] == '\t') && p != content) {
            p = eol;
            info->header_len = (size_t)(p - content);
            continue;
        }
        size_t n = field_name(p, eol);
        if (n == 0) {
            info->complete = true;   /* the body starts here, without an empty line */
            return;
        }
        if (name_is(p, n, "from"))
            info->has_from = true;
        else if (name_is(p, n, "sender"))
            info->has_sender = true;
        else if (name_is(p, n, "date"))
            info->has_date = true;
        else if (name_is(p, n, "message-id"))
            info->has_msgid = true;
        else if (name_is(p, n, "received"))
            info->received++;
        p = eol;
        info->header_len = (size_t)(p - content);
    }
}

int header_rewrite(const char *content, const struct header_info *info, bool extract,
                   struct buf *out, void (*cb)(const char *value, size_t len, void *arg),
                   void *arg)
{
    const char *p = content, *end = content + info->header_len;
    while (p < end) {
        const char *eol = line_end(p, end);
        if (eol == NULL)
            eol = end;
        if (eol - p <= 2 && (p[0] == '\r' || p[0] == '\n'))
            break;   /* the empty line: the caller writes it */
        /* the whole field: this line and its continuation lines */
        const char *fend = eol;
        while (fend < end && (fend[0] == ' ' || fend[0] == '\t')) {
            const char *e2 = line_end(fend, end);
            fend = e2 ? e2 : end;
        }
        size_t n = field_name(p, eol);
        bool bcc = name_is(p, n, "bcc");
        if (extract && (bcc || name_is(p, n, "to") || name_is(p, n, "cc"))) {
            const char *v = field_value(p, n);
            cb(v, (size_t)(fend - v), arg);
        }
        if (!bcc && out && buf_append(out, p, (size_t)(fend - p)) < 0)
            return -1;
        p = fend;
    }
    return 0;
}
