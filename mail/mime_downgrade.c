/* mime_downgrade.c: the streamed 8-bit to 7-bit converter of mime_downgrade.h. An entity is a
 * header (as the header scanner reads it), a blank line and a body; a multipart body is split at
 * its boundary lines (RFC 2046 5.1.1: the CRLF before a delimiter belongs to the delimiter), each
 * part an entity of its own; a message/rfc822 body is an entity too. The input is read line by
 * line (a line may come in pieces); the innermost entity's bytes are held while its header is
 * read and, for a leaf, until its body shows an 8-bit byte; the rest is written as it comes. */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include "mime_downgrade.h"

#define VALUE_MAX 1000          /* an unfolded header value looked at; longer ones are cut */

enum phase {
    PH_HEADER,      /* reading the header: all of the entity is held */
    PH_HOLD,        /* a leaf to convert if 8-bit: held until its first 8-bit byte */
    PH_QP,          /* a leaf being converted: its body goes out quoted-printable */
    PH_PASS,        /* copied unchanged: already encoded, given up, or nested too deep */
    PH_MULTI,       /* a multipart: its preamble and epilogue are copied, its parts below */
    PH_MESSAGE,     /* a message/rfc822: its body is the entity below */
};

enum section { SEC_PREAMBLE, SEC_PART, SEC_EPILOGUE };

enum line_state {
    LS_START,       /* no byte of the line seen yet */
    LS_COLLECT,     /* a line starting with '-', held in st->line: it may be a delimiter */
    LS_STREAM,      /* any other line, passed on in pieces */
};

/* ---- quoted-printable ---- */

static size_t first_8bit(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (unsigned char)p[i] < 128)
        i++;
    return i;
}

/* One byte in quoted-printable into tmp: a soft line break first when the line would pass 76
 * characters; white space at the end of a line is encoded so no transport can strip it. */
static void qp_put(struct qp_stream *q, unsigned char c, bool at_line_end, char *tmp, size_t *t)
{
    static const char hex[] = "0123456789ABCDEF";
    bool literal = (c >= 33 && c <= 126 && c != '=') ||
                   ((c == ' ' || c == '\t') && !at_line_end);
    size_t n = literal ? 1 : 3;
    if (q->col + n > 75) {
        memcpy(tmp + *t, "=\r\n", 3);
        *t += 3;
        q->col = 0;
    }
    if (literal) {
        tmp[(*t)++] = (char)c;
    } else {
        tmp[(*t)++] = '=';
        tmp[(*t)++] = hex[c >> 4];
        tmp[(*t)++] = hex[c & 15];
    }
    q->col += n;
}

/* Encodes p[0..n) after what was fed before; the last byte waits for the next one (a CR may be
 * half of a CRLF, a space the end of a line). -1 when out is full. */
static int qp_feed(struct qp_stream *q, const char *p, size_t n, struct buf *out)
{
    char tmp[512];
    size_t t = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)p[i];
        if (t > sizeof tmp - 16) {
            rc = buf_append(out, tmp, t);
            t = 0;
        }
        if (q->pending && q->held == '\r' && c == '\n') {
            memcpy(tmp + t, "\r\n", 2);
            t += 2;
            q->col = 0;
            q->pending = false;
            continue;
        }
        if (q->pending)
            qp_put(q, q->held, c == '\r' || c == '\n', tmp, &t);
        q->held = c;
        q->pending = true;
    }
    if (rc == 0 && t > 0)
        rc = buf_append(out, tmp, t);
    return rc;
}

/* The input ended: the byte waiting goes out, at the end of its line. */
static int qp_finish(struct qp_stream *q, struct buf *out)
{
    char tmp[8];
    size_t t = 0;
    if (!q->pending)
        return 0;
    qp_put(q, q->held, true, tmp, &t);
    q->pending = false;
    return buf_append(out, tmp, t);
}

int qp_encode(const char *in, size_t len, struct buf *out)
{
    struct qp_stream q = { 0, false, 0 };
    size_t start = out->len;
    if (qp_feed(&q, in, len, out) < 0 || qp_finish(&q, out) < 0) {
        buf_truncate(out, start);
        return -1;
    }
    return 0;
}

/* ---- an entity's header ---- */

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
            for (p++; *p && *p != '"' && n < MIME_DOWNGRADE_BOUNDARY_MAX; p++)
                out[n++] = *p;
        } else {
            for (; *p && !strchr("; \t\r", *p) && n < MIME_DOWNGRADE_BOUNDARY_MAX; p++)
                out[n++] = *p;
        }
        out[n] = '\0';
        return;
    }
}

static void content_type(struct mime_entity *e, const char *v)
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

static void transfer_encoding(struct mime_entity *e, const char *v)
{
    v = skip_space(v);
    size_t n = strcspn(v, " \t\r;");
    e->encoded = !((n == 4 && strncasecmp(v, "7bit", 4) == 0) ||
                   (n == 4 && strncasecmp(v, "8bit", 4) == 0) ||
                   (n == 6 && strncasecmp(v, "binary", 6) == 0));
}

/* Reads the header in[0..s->end) of an entity whose header scanner s has ended;
 * default_message: a part of a multipart/digest, message/rfc822 unless it says otherwise. */
static void parse_header(const char *in, const struct header_scanner *s, bool default_message,
                         struct mime_entity *e)
{
    memset(e, 0, sizeof *e);
    e->message = default_message;
    char value[VALUE_MAX + 1];
    struct header_fields it;
    struct header_field f;
    header_fields_init(&it, in, s->end);
    while (header_fields_next(&it, &f)) {
        if (f.name == HEADER_CONTENT_TYPE) {
            header_unfold(in + f.value, f.end - f.value, value, sizeof value);
            content_type(e, value);
        } else if (f.name == HEADER_CONTENT_TRANSFER_ENCODING) {
            header_unfold(in + f.value, f.end - f.value, value, sizeof value);
            transfer_encoding(e, value);
            e->has_cte = true;
            e->cte_start = f.start;
            e->cte_len = f.end - f.start;
        } else if (f.name == HEADER_MIME_VERSION) {
            e->mime_version = true;
        }
    }
    e->fields_end = s->end;
    e->header_len = s->body;
    e->has_body = s->ended_by != HEADER_END_INPUT;
    e->blank_line = s->ended_by == HEADER_END_BLANK;
}

/* Whether the line p[0..end) is a delimiter of boundary b: 1, 2 for the close delimiter, else 0.
 * The line may or may not have its line end. */
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

/* ---- the entities ---- */

static struct mime_level *inner(struct mime_downgrade *st)
{
    return &st->level[st->depth];
}

static void emit(struct mime_downgrade *st, const char *p, size_t n)
{
    if (n == 0 || st->failed)
        return;
    if (buf_append(st->out, p, n) < 0) {
        st->failed = true;
        return;
    }
    if (!st->eightbit_left && first_8bit(p, n) < n)
        st->eightbit_left = true;
}

static void emit_hold(struct mime_downgrade *st)
{
    emit(st, st->hold.data, st->hold.len);
    buf_reset(&st->hold);
}

static void hold(struct mime_downgrade *st, const char *p, size_t n)
{
    if (buf_append(&st->hold, p, n) < 0)
        st->failed = true;   /* cannot happen: callers keep within lookahead_max */
}

/* Bytes of an entity copied unchanged; one given up keeps its 8-bit bytes. */
static void pass(struct mime_downgrade *st, struct mime_level *lv, const char *p, size_t n)
{
    emit(st, p, n);
    if (lv->given_up && first_8bit(p, n) < n)
        st->unconverted_8bit = true;
}

/* The held bytes passed lookahead_max: they go out unchanged, and the rest of the entity too. */
static void give_up(struct mime_downgrade *st, struct mime_level *lv)
{
    emit_hold(st);
    lv->phase = PH_PASS;
    lv->given_up = true;
}

/* A new entity below the innermost one; past the depth bound it is copied unchanged. */
static void push(struct mime_downgrade *st, bool default_message)
{
    struct mime_level *lv = &st->level[++st->depth];
    memset(lv, 0, sizeof *lv);
    lv->default_message = default_message;
    header_scanner_init(&lv->scan);
    lv->phase = PH_HEADER;
    if (st->depth > MIME_DOWNGRADE_DEPTH_MAX) {
        st->too_deep = true;
        lv->phase = PH_PASS;
    }
}

static void qp_in(struct mime_downgrade *st, struct mime_level *lv, const char *p, size_t n)
{
    if (!st->failed && qp_feed(&lv->qp, p, n, st->out) < 0)
        st->failed = true;
}

/* The held leaf has an 8-bit byte: its header without its old Content-Transfer-Encoding, the
 * new one last, then what is held of its body in quoted-printable. */
static void convert(struct mime_downgrade *st, struct mime_level *lv)
{
    const struct mime_entity *e = &lv->e;
    const char *h = st->hold.data;
    size_t cte_end = e->cte_start + e->cte_len;
    emit(st, h, e->has_cte ? e->cte_start : e->fields_end);
    if (e->has_cte)
        emit(st, h + cte_end, e->fields_end - cte_end);
    if (lv == &st->level[0] && !e->mime_version)
        emit(st, "MIME-Version: 1.0\r\n", 19);
    emit(st, "Content-Transfer-Encoding: quoted-printable\r\n", 45);
    /* the empty line; a body that started without one gets one, so that no encoded line can be
     * read as a header field */
    if (e->blank_line)
        emit(st, h + e->fields_end, e->header_len - e->fields_end);
    else
        emit(st, "\r\n", 2);
    lv->phase = PH_QP;
    st->changed = true;
    qp_in(st, lv, h + e->header_len, st->hold.len - e->header_len);
    buf_reset(&st->hold);
}

/* A leaf to convert if 8-bit, its header (and maybe the start of its body) held. */
static void start_holding(struct mime_downgrade *st, struct mime_level *lv)
{
    lv->phase = PH_HOLD;
    size_t b = lv->e.header_len;
    if (first_8bit(st->hold.data + b, st->hold.len - b) < st->hold.len - b)
        convert(st, lv);
}

static void hold_feed(struct mime_downgrade *st, struct mime_level *lv, const char *p, size_t n)
{
    size_t room = st->lookahead_max - st->hold.len;
    size_t lim = n < room ? n : room;
    if (first_8bit(p, lim) < lim) {
        convert(st, lv);
        qp_in(st, lv, p, n);
    } else if (lim == n) {
        hold(st, p, n);
    } else {
        give_up(st, lv);
        pass(st, lv, p, n);
    }
}

static void enter_section(struct mime_downgrade *st, int k, int kind);

/* The header of lv ended (its scanner says where). What it holds beyond the header is the start
 * of the body, rest[0..rn) more of it (is_eol: the end of the current line). Returns how much of
 * rest it took; the caller gives the rest to the entity that is now the innermost. */
static size_t header_ended(struct mime_downgrade *st, struct mime_level *lv, const char *rest,
                           size_t rn, bool is_eol)
{
    parse_header(st->hold.data, &lv->scan, lv->default_message, &lv->e);
    const struct mime_entity *e = &lv->e;
    bool body_line = lv->scan.ended_by == HEADER_END_BODY;
    if (e->multipart) {
        /* the header is copied; a body that starts without an empty line starts at the
         * current line, which may be this multipart's first delimiter */
        emit_hold(st);
        lv->phase = PH_MULTI;
        lv->section = SEC_PREAMBLE;
        int kind = body_line && st->line_whole
                       ? delimiter(st->line.data, st->line.data + st->line.len, e->boundary)
                       : 0;
        if (kind == 0)
            return 0;
        enter_section(st, (int)(lv - st->level), kind);
        emit(st, rest, rn);
        if (!is_eol)
            st->line_is_delimiter = true;
        return rn;
    }
    if (e->message) {
        emit(st, st->hold.data, e->header_len);
        buf_consume(&st->hold, e->header_len);
        lv->phase = PH_MESSAGE;
        push(st, false);
        struct mime_level *child = inner(st);
        if (child->phase == PH_PASS) {
            emit_hold(st);
        } else if (body_line) {
            /* the line that ended this header is no field of the inner one either: the inner
             * message is a body without a header */
            child->e.has_body = true;
            start_holding(st, child);
        }
        return 0;
    }
    if (!e->has_body || e->encoded) {
        emit_hold(st);
        lv->phase = PH_PASS;
        return 0;
    }
    start_holding(st, lv);
    return 0;
}

/* Header bytes: all held (bounded by lookahead_max) until the scanner sees the end. */
static size_t header_feed(struct mime_downgrade *st, struct mime_level *lv, const char *p,
                          size_t n, bool is_eol)
{
    size_t room = st->lookahead_max - st->hold.len;
    size_t lim = n < room ? n : room;
    size_t used = 0;
    enum header_event ev;
    do {
        size_t u;
        struct header_field f;
        ev = header_scanner_feed(&lv->scan, p + used, lim - used, &u, &f);
        used += u;
    } while (ev == HEADER_EV_FIELD);
    if (ev != HEADER_EV_END) {
        hold(st, p, lim);
        if (lim < n) {
            give_up(st, lv);
            pass(st, lv, p + lim, n - lim);
        }
        return n;
    }
    hold(st, p, used);
    return used + header_ended(st, lv, p + used, n - used, is_eol);
}

/* Bytes of the innermost entity; returns how many it took (a header may end before the end). */
static size_t entity_feed(struct mime_downgrade *st, const char *p, size_t n, bool is_eol)
{
    struct mime_level *lv = inner(st);
    switch (lv->phase) {
    case PH_HEADER:
        return header_feed(st, lv, p, n, is_eol);
    case PH_HOLD:
        hold_feed(st, lv, p, n);
        break;
    case PH_QP:
        qp_in(st, lv, p, n);
        break;
    default:   /* copied: PH_PASS, and a multipart's preamble or epilogue */
        pass(st, lv, p, n);
        break;
    }
    return n;
}

static void deliver(struct mime_downgrade *st, const char *p, size_t n, bool is_eol)
{
    while (n > 0) {
        size_t used = entity_feed(st, p, n, is_eol);
        p += used;
        n -= used;
    }
}

/* The innermost entity ended: what it holds goes out. A header that ends this way may still
 * open an entity below (an empty message/rfc822 body), which ends next. */
static void finish_inner(struct mime_downgrade *st)
{
    struct mime_level *lv = inner(st);
    switch (lv->phase) {
    case PH_HEADER:
        header_scanner_finish(&lv->scan);
        header_ended(st, lv, NULL, 0, false);
        return;
    case PH_HOLD:
        emit_hold(st);
        break;
    case PH_QP:
        if (!st->failed && qp_finish(&lv->qp, st->out) < 0)
            st->failed = true;
        break;
    default:
        break;
    }
    st->depth--;
}

/* Ends the entities below level k. */
static void finish_to(struct mime_downgrade *st, int k)
{
    while (st->depth > k)
        finish_inner(st);
}

/* Level k's multipart (the innermost entity) saw a delimiter: a part starts, or the epilogue. */
static void enter_section(struct mime_downgrade *st, int k, int kind)
{
    struct mime_level *lv = &st->level[k];
    if (kind == 2) {
        lv->section = SEC_EPILOGUE;
        return;
    }
    lv->section = SEC_PART;
    push(st, lv->e.digest);
}

/* ---- lines ---- */

/* Content bytes of the current line (without its line end); whole: all of it, held in st->line
 * with its line end. At the start of a line: is it a delimiter of a multipart around (the
 * outermost first, as each splits its body before its parts are read)? */
static void line_content(struct mime_downgrade *st, const char *p, size_t n, bool whole)
{
    if (!st->line_started) {
        st->line_started = true;
        st->line_whole = whole;
        const char *l = st->line.data, *l_end = l + st->line.len;
        if (whole && st->line.len >= 2 && l[0] == '-' && l[1] == '-') {
            for (int k = 0; k <= st->depth; k++) {
                const struct mime_level *lv = &st->level[k];
                if (lv->phase != PH_MULTI || lv->section == SEC_EPILOGUE)
                    continue;
                int kind = delimiter(l, l_end, lv->e.boundary);
                if (kind == 0)
                    continue;
                finish_to(st, k);
                emit(st, st->eol, st->eol_len);
                st->eol_len = 0;
                emit(st, p, n);
                st->line_is_delimiter = true;
                enter_section(st, k, kind);
                return;
            }
        }
        if (st->eol_len > 0) {   /* the line before was no delimiter's: its end is content */
            char eol[2];
            size_t len = st->eol_len;
            memcpy(eol, st->eol, len);
            st->eol_len = 0;
            deliver(st, eol, len, true);
        }
    }
    deliver(st, p, n, false);
}

/* The current line's end: a delimiter's goes out with it; a header's is read at once (an empty
 * line ends it); a body's waits to see whether a delimiter follows. */
static void line_end(struct mime_downgrade *st, const char *p, size_t n)
{
    if (!st->line_started)
        line_content(st, p, 0, false);
    while (n > 0) {
        if (st->line_is_delimiter) {
            emit(st, p, n);
            break;
        }
        struct mime_level *lv = inner(st);
        if (lv->phase != PH_HEADER) {
            memcpy(st->eol, p, n);
            st->eol_len = n;
            break;
        }
        size_t used = header_feed(st, lv, p, n, true);
        p += used;
        n -= used;
    }
    st->line_is_delimiter = false;
    st->line_started = false;
    st->line_state = LS_START;
}

/* A line starting with '-' is held until its end; past MIME_DOWNGRADE_LINE_MAX it is no
 * delimiter and the rest of it streams. Returns where the input goes on. */
static const char *collect(struct mime_downgrade *st, const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t take = (size_t)((nl ? nl : end) - p);
    if (st->line.len + take > MIME_DOWNGRADE_LINE_MAX) {
        line_content(st, st->line.data, st->line.len, false);
        st->line_state = LS_STREAM;
        return p;
    }
    if (buf_append(&st->line, p, take) < 0)
        st->failed = true;   /* cannot happen: within the line bound */
    if (nl == NULL)
        return end;
    size_t len = st->line.len;
    bool cr = len > 0 && st->line.data[len - 1] == '\r';
    /* the line end too: a boundary may end in a CR, as it is compared up to the LF */
    if (buf_putc(&st->line, '\n') < 0)
        st->failed = true;   /* cannot happen: the bound leaves room for it */
    line_content(st, st->line.data, len - cr, true);
    line_end(st, cr ? "\r\n" : "\n", 1 + (size_t)cr);
    return nl + 1;
}

/* Any other line, in pieces; a CR at the end of a piece waits for the byte after it. */
static const char *stream(struct mime_downgrade *st, const char *p, const char *end)
{
    if (st->cr_held) {
        st->cr_held = false;
        if (*p == '\n') {
            line_end(st, "\r\n", 2);
            return p + 1;
        }
        line_content(st, "\r", 1, false);
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl) {
        bool cr = nl > p && nl[-1] == '\r';
        size_t len = (size_t)(nl - p) - cr;
        if (len > 0)
            line_content(st, p, len, false);
        line_end(st, cr ? "\r\n" : "\n", 1 + (size_t)cr);
        return nl + 1;
    }
    size_t len = (size_t)(end - p);
    if (end[-1] == '\r') {
        st->cr_held = true;
        len--;
    }
    if (len > 0)
        line_content(st, p, len, false);
    return end;
}

/* ---- the API ---- */

void mime_downgrade_init(struct mime_downgrade *st, size_t lookahead_max)
{
    memset(st, 0, sizeof *st);
    st->lookahead_max = lookahead_max < BUF_UNBOUNDED ? lookahead_max : BUF_UNBOUNDED;
    buf_init(&st->hold, st->lookahead_max);
    buf_init(&st->line, MIME_DOWNGRADE_LINE_MAX + 1);
    st->depth = -1;
    push(st, false);
}

int mime_downgrade_feed(struct mime_downgrade *st, const char *p, size_t n, struct buf *out)
{
    if (st->failed || st->depth < 0)
        return -1;
    st->out = out;
    const char *end = p + n;
    while (p < end && !st->failed) {
        switch (st->line_state) {
        case LS_START:
            st->line_whole = false;
            if (*p == '-') {
                buf_reset(&st->line);
                st->line_state = LS_COLLECT;
            } else {
                st->line_state = LS_STREAM;
            }
            break;
        case LS_COLLECT:
            p = collect(st, p, end);
            break;
        default:
            p = stream(st, p, end);
            break;
        }
    }
    return st->failed ? -1 : 0;
}

int mime_downgrade_finish(struct mime_downgrade *st, struct buf *out)
{
    if (st->failed || st->depth < 0)
        return -1;
    st->out = out;
    if (st->line_state == LS_COLLECT) {
        line_content(st, st->line.data, st->line.len, true);
    } else if (st->cr_held) {
        st->cr_held = false;
        line_content(st, "\r", 1, false);
    }
    if (st->eol_len > 0) {   /* the last line's end belongs to the innermost entity */
        size_t len = st->eol_len;
        st->eol_len = 0;
        deliver(st, st->eol, len, true);
    }
    finish_to(st, -1);
    return st->failed ? -1 : 0;
}

void mime_downgrade_free(struct mime_downgrade *st)
{
    buf_free(&st->hold);
    buf_free(&st->line);
}

size_t mime_downgrade_out_bound(const struct mime_downgrade *st, size_t n)
{
    /* every byte held or given may go out quoted-printable (at most 3 bytes, plus a soft line
     * break every 25), and each leaf converted adds at most 66 bytes of header; a leaf takes at
     * least 5 input bytes ("--b", a line end, an 8-bit byte) besides the one a message/rfc822
     * level may open without any */
    size_t in = st->hold.len + st->line.len + st->eol_len + 1;
    if (n > SIZE_MAX / 32 - in)
        return SIZE_MAX;
    return 20 * (in + n) + 70 * (MIME_DOWNGRADE_DEPTH_MAX + 2);
}

bool mime_downgrade_changed(const struct mime_downgrade *st)
{
    return st->changed;
}

bool mime_downgrade_8bit_left(const struct mime_downgrade *st)
{
    return st->eightbit_left;
}

int mime_downgrade_buffer(const char *in, size_t len, struct buf *out)
{
    struct mime_downgrade st;
    size_t start = out->len;
    mime_downgrade_init(&st, SIZE_MAX);
    int rc = mime_downgrade_feed(&st, in, len, out);
    if (rc == 0)
        rc = mime_downgrade_finish(&st, out);
    if (rc == 0 && st.too_deep)
        rc = -1;
    mime_downgrade_free(&st);
    if (rc < 0)
        buf_truncate(out, start);
    return rc;
}
