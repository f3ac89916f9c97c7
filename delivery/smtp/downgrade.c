/* downgrade.c: 8-bit MIME content to 7-bit (downgrade.h). An entity is a header (as the mail
 * layer's header scanner reads it), a blank line and a body; a multipart body is split at its
 * boundary lines (RFC 2046 5.1.1: the CRLF before a delimiter belongs to the delimiter), each
 * part an entity of its own; a message/rfc822 body is an entity too. Everything not converted
 * is copied byte for byte. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include "dotstuff.h"
#include "downgrade.h"
#include "header_scanner.h"

#define VALUE_MAX 1000          /* an unfolded header value looked at; longer ones are cut */
#define BOUNDARY_MAX 200        /* RFC 2046 allows 70 */

struct span {
    const char *p;
    size_t len;
};

struct entity {
    bool multipart, message, digest;
    bool encoded;               /* base64, quoted-printable or an unknown encoding: left alone */
    bool mime_version;
    char boundary[BOUNDARY_MAX + 1];
    struct span cte;            /* the Content-Transfer-Encoding field, lines and all */
    size_t fields_end;          /* where the header's fields end */
    size_t header_len;          /* up to and including the blank line, if any (the body's
                                 * start; all of the entity when it has no body) */
    bool has_body;
    bool blank_line;            /* an empty line ended the header */
};

/* The end of the line at p (after its LF, or end). */
static const char *line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl + 1 : end;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* The boundary parameter of a Content-Type value into out ("" when none). */
static void boundary_param(const char *v, char *out)
{
    out[0] = '\0';
    for (const char *s = strchr(v, ';'); s; s = strchr(s + 1, ';')) {
        const char *p = skip_space(s + 1);
        if (strncasecmp(p, "boundary", 8) != 0)
            continue;
        p = skip_space(p + 8);
        if (*p != '=')
            continue;
        p = skip_space(p + 1);
        size_t n = 0;
        if (*p == '"') {
            for (p++; *p && *p != '"' && n < BOUNDARY_MAX; p++)
                out[n++] = *p;
        } else {
            for (; *p && !strchr("; \t\r", *p) && n < BOUNDARY_MAX; p++)
                out[n++] = *p;
        }
        out[n] = '\0';
        return;
    }
}

static void content_type(struct entity *e, const char *v)
{
    v = skip_space(v);
    if (strncasecmp(v, "multipart/", 10) == 0) {
        boundary_param(v, e->boundary);
        e->multipart = e->boundary[0] != '\0';
        e->digest = strncasecmp(v + 10, "digest", 6) == 0;
    } else {
        e->multipart = false;
        e->message = strncasecmp(v, "message/rfc822", 14) == 0;
    }
}

static void transfer_encoding(struct entity *e, const char *v)
{
    v = skip_space(v);
    size_t n = strcspn(v, " \t\r;");
    e->encoded = !((n == 4 && strncasecmp(v, "7bit", 4) == 0) ||
                   (n == 4 && strncasecmp(v, "8bit", 4) == 0) ||
                   (n == 6 && strncasecmp(v, "binary", 6) == 0));
}

/* Reads the header of the entity in[0..len); default_message: a part of a multipart/digest,
 * message/rfc822 unless it says otherwise. */
static void parse_header(const char *in, size_t len, bool default_message, struct entity *e)
{
    memset(e, 0, sizeof *e);
    e->message = default_message;
    char value[VALUE_MAX + 1];
    struct header_fields it;
    struct header_field f;
    header_fields_init(&it, in, len);
    while (header_fields_next(&it, &f)) {
        if (f.name == HEADER_CONTENT_TYPE) {
            header_unfold(in + f.value, f.end - f.value, value, sizeof value);
            content_type(e, value);
        } else if (f.name == HEADER_CONTENT_TRANSFER_ENCODING) {
            header_unfold(in + f.value, f.end - f.value, value, sizeof value);
            transfer_encoding(e, value);
            e->cte = (struct span){ in + f.start, f.end - f.start };
        } else if (f.name == HEADER_MIME_VERSION) {
            e->mime_version = true;
        }
    }
    e->fields_end = it.scan.end;
    e->header_len = it.scan.body;
    e->has_body = it.scan.ended_by != HEADER_END_INPUT;
    e->blank_line = it.scan.ended_by == HEADER_END_BLANK;
}

static int entity(const char *in, size_t len, bool default_message, int depth, bool top,
                  struct buf *out);

/* Whether the line at p is a delimiter of boundary b: 1, 2 for the close delimiter, else 0. */
static int delimiter(const char *p, const char *end, const char *b)
{
    size_t n = strlen(b);
    if ((size_t)(end - p) < n + 2 || p[0] != '-' || p[1] != '-' || memcmp(p + 2, b, n) != 0)
        return 0;
    const char *q = p + 2 + n;
    int kind = 1;
    if (end - q >= 2 && q[0] == '-' && q[1] == '-') {
        kind = 2;
        q += 2;
    }
    while (q < end && (*q == ' ' || *q == '\t'))
        q++;
    return q == end || *q == '\r' || *q == '\n' ? kind : 0;
}

/* The part body[from..to) (to excludes the CRLF that belongs to the next delimiter). */
static int part(const struct entity *e, const char *from, const char *to, int depth,
                struct buf *out)
{
    return entity(from, (size_t)(to - from), e->digest, depth + 1, false, out);
}

static const char *before_crlf(const char *from, const char *p)
{
    if (p - from >= 2 && p[-2] == '\r' && p[-1] == '\n')
        return p - 2;
    if (p - from >= 1 && p[-1] == '\n')
        return p - 1;
    return p;
}

static int multipart_body(const struct entity *e, const char *body, size_t len, int depth,
                          struct buf *out)
{
    const char *p = body, *end = body + len, *copied = body, *part_start = NULL;
    int rc = 0;
    while (p < end && rc == 0) {
        const char *next = line_end(p, end);
        int kind = delimiter(p, end, e->boundary);
        if (kind) {
            if (part_start) {
                const char *part_end = before_crlf(part_start, p);
                rc |= part(e, part_start, part_end, depth, out);
                copied = part_end;
            }
            rc |= buf_append(out, copied, (size_t)(next - copied));
            copied = next;
            part_start = kind == 1 ? next : NULL;
            if (kind == 2)
                break;
        }
        p = next;
    }
    if (rc == 0 && part_start)
        rc |= part(e, part_start, end, depth, out);
    else if (rc == 0)
        rc |= buf_append(out, copied, (size_t)(end - copied));
    return rc < 0 ? -1 : 0;
}

static int entity(const char *in, size_t len, bool default_message, int depth, bool top,
                  struct buf *out)
{
    if (depth > DOWNGRADE_DEPTH_MAX)
        return -1;
    struct entity e;
    parse_header(in, len, default_message, &e);
    const char *body = in + e.header_len;
    size_t body_len = len - e.header_len;
    bool convert = e.has_body && !e.multipart && !e.message && !e.encoded &&
                   content_has_8bit(body, body_len);
    int rc = 0;
    if (!convert) {
        rc |= buf_append(out, in, e.header_len);
    } else {
        /* the header without its old Content-Transfer-Encoding, the new one last */
        const char *fields_end = in + e.fields_end;
        const char *cte = e.cte.p ? e.cte.p : fields_end;
        rc |= buf_append(out, in, (size_t)(cte - in));
        if (e.cte.p)
            rc |= buf_append(out, cte + e.cte.len, (size_t)(fields_end - (cte + e.cte.len)));
        if (top && !e.mime_version)
            rc |= buf_puts(out, "MIME-Version: 1.0\r\n");
        rc |= buf_puts(out, "Content-Transfer-Encoding: quoted-printable\r\n");
        /* the empty line; a body that started without one gets one, so that no encoded line
         * can be read as a header field */
        if (e.blank_line)
            rc |= buf_append(out, fields_end, (size_t)(body - fields_end));
        else
            rc |= buf_puts(out, "\r\n");
        return rc < 0 ? -1 : qp_encode(body, body_len, out);
    }
    if (rc < 0)
        return -1;
    if (e.multipart)
        return multipart_body(&e, body, body_len, depth, out);
    if (e.message)
        return entity(body, body_len, false, depth + 1, false, out);
    return buf_append(out, body, body_len);
}

int downgrade_8bit(const char *in, size_t len, struct buf *out)
{
    size_t start = out->len;
    if (entity(in, len, false, 0, true, out) < 0) {
        buf_truncate(out, start);
        return -1;
    }
    return 0;
}

int qp_encode(const char *in, size_t len, struct buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t start = out->len, col = 0;
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '\r' && i + 1 < len && in[i + 1] == '\n') {
            rc |= buf_append(out, "\r\n", 2);
            col = 0;
            i++;
            continue;
        }
        bool at_line_end = i + 1 == len || in[i + 1] == '\r' || in[i + 1] == '\n';
        bool literal = (c >= 33 && c <= 126 && c != '=') ||
                       ((c == ' ' || c == '\t') && !at_line_end);
        char tok[3] = { (char)c, hex[c >> 4], hex[c & 15] };
        size_t n = literal ? 1 : 3;
        if (!literal)
            tok[0] = '=';
        if (col + n > 75) {
            rc |= buf_append(out, "=\r\n", 3);
            col = 0;
        }
        rc |= buf_append(out, tok, n);
        col += n;
    }
    if (rc < 0) {
        buf_truncate(out, start);
        return -1;
    }
    return 0;
}
