/* data.c: the content filter of data.h. DATA: a line that is exactly "." after a CRLF ends the
 * message; a leading dot is removed; a LF without CR or a CR without LF is a bare newline (the
 * SMTP smuggling vector), flagged and, when normalizing, stored as CRLF, but it never makes the
 * next dot a line start. BDAT: bytes pass as they are. Both: size, header size and Received:
 * count, and the missing Date:/Message-ID: of submission. */
#include <string.h>
#include <strings.h>
#include "data.h"

enum {
    D_LINE_START,   /* after CRLF (or at the start): a dot here is special */
    D_DOT,          /* "." at a line start */
    D_DOT_CR,       /* ".\r" at a line start */
    D_TEXT,         /* inside a line (or after a bare newline) */
    D_CR,           /* "\r" inside a line */
};

void data_filter_init(struct data_filter *f, bool bdat)
{
    memset(f, 0, sizeof *f);
    f->bdat = bdat;
    f->in_header = true;
    f->line_start = true;
    f->state = D_LINE_START;
}

static void insert_missing(struct data_filter *f, struct buf *out, size_t at)
{
    struct buf add;
    buf_init(&add, BUF_UNBOUNDED);
    if (!f->has_date && f->date_header)
        buf_puts(&add, f->date_header);
    if (!f->has_msgid && f->msgid_header)
        buf_puts(&add, f->msgid_header);
    if (add.len && buf_append(out, add.data, add.len) == 0) {
        /* move the added lines in front of the line that ended the header */
        memmove(out->data + at + add.len, out->data + at, out->len - add.len - at);
        memcpy(out->data + at, add.data, add.len);
    }
    buf_free(&add);
}

/* The header ends at the line starting at out[at]: add what is missing there. */
static void end_header(struct data_filter *f, struct buf *out, size_t at, bool blank_line)
{
    f->in_header = false;
    if (f->too_big || f->header_too_big)
        return;
    size_t before = out->len;
    insert_missing(f, out, at);
    /* a body that started without a blank line gets one after the added lines */
    if (!blank_line && out->len != before && buf_append(out, "\r\n", 2) == 0) {
        size_t at2 = at + (out->len - 2 - before);
        memmove(out->data + at2 + 2, out->data + at2, out->len - 2 - at2);
        memcpy(out->data + at2, "\r\n", 2);
    }
}

static void name_decided(struct data_filter *f)
{
    f->name_done = true;
    f->name[f->name_len] = '\0';
    if (strcasecmp(f->name, "received") == 0)
        f->received++;
    else if (strcasecmp(f->name, "date") == 0)
        f->has_date = true;
    else if (strcasecmp(f->name, "message-id") == 0)
        f->has_msgid = true;
}

/* Header bookkeeping for one content byte about to be stored at out->len. */
static void track_header(struct data_filter *f, struct buf *out, char c)
{
    if (f->line_start) {
        f->line_start = false;
        f->line_pos = out->len;
        f->name_len = 0;
        f->name_done = false;
        if (c == ' ' || c == '\t')
            f->name_done = true;   /* a continuation line */
        else if (c == '\r' || c == '\n') {
            end_header(f, out, out->len, true);
            return;
        }
    }
    if (f->name_done)
        return;
    if (c == ':') {
        if (f->name_len == 0) {
            end_header(f, out, f->line_pos, false);
            return;
        }
        name_decided(f);
    } else if (c > 32 && c < 127 && f->name_len < sizeof f->name - 1) {
        f->name[f->name_len++] = c;
    } else {
        /* not a header field name: the body started without a blank line */
        end_header(f, out, f->line_pos, false);
    }
}

static void emit(struct data_filter *f, struct buf *out, const char *p, size_t n)
{
    if (!f->in_header) {
        /* the body: counted and stored in one go (line_start matters only in the header) */
        f->size += n;
        if (f->size_limit && f->size > f->size_limit)
            f->too_big = true;
        if (!f->too_big && !f->header_too_big && buf_append(out, p, n) < 0)
            f->too_big = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        f->size++;
        if (f->size_limit && f->size > f->size_limit)
            f->too_big = true;
        if (f->in_header) {
            track_header(f, out, p[i]);
            if (f->in_header && ++f->header_size > f->header_limit && f->header_limit)
                f->header_too_big = true;
        }
        if (!f->too_big && !f->header_too_big && buf_append(out, p + i, 1) < 0)
            f->too_big = true;   /* out's own bound: treat as too big, never grow past it */
        if (p[i] == '\n')
            f->line_start = true;
    }
}

static void bare_newline(struct data_filter *f, struct buf *out, const char *as_is, size_t n)
{
    f->bare_newline = true;
    if (f->normalize_newlines)
        emit(f, out, "\r\n", 2);
    else
        emit(f, out, as_is, n);
}

size_t data_feed(struct data_filter *f, const char *p, size_t n, struct buf *out)
{
    if (f->bdat) {
        emit(f, out, p, n);
        return n;
    }
    size_t i = 0;
    while (i < n && !f->done) {
        if (f->state == D_TEXT) {
            /* the run of plain bytes up to the next CR or LF goes out at once */
            size_t j = i;
            while (j < n && p[j] != '\r' && p[j] != '\n')
                j++;
            if (j > i) {
                emit(f, out, p + i, j - i);
                i = j;
                continue;
            }
        }
        char c = p[i++];
        switch (f->state) {
        case D_LINE_START:
            if (c == '.') {
                f->state = D_DOT;
                continue;
            }
            f->state = D_TEXT;
            break;
        case D_DOT:
            if (c == '\r') {
                f->state = D_DOT_CR;
                continue;
            }
            f->state = D_TEXT;   /* a stuffed dot: dropped; c is the line's first byte */
            break;
        case D_DOT_CR:
            if (c == '\n') {
                f->done = true;  /* <CRLF>.<CRLF> */
                continue;
            }
            bare_newline(f, out, "\r", 1);   /* ".\r" then not LF: the dot was stuffing */
            f->state = D_TEXT;
            break;
        case D_CR:
            if (c == '\n') {
                emit(f, out, "\r\n", 2);
                f->state = D_LINE_START;
                continue;
            }
            bare_newline(f, out, "\r", 1);
            f->state = D_TEXT;
            break;
        }
        /* D_TEXT (or a state that fell through with c still to handle) */
        if (c == '\r') {
            f->state = D_CR;
        } else if (c == '\n') {
            /* a bare LF: content goes on, but what follows is never a line start, so a
             * "\n.\r\n" cannot end the message */
            bare_newline(f, out, "\n", 1);
            f->state = D_TEXT;
        } else {
            emit(f, out, &c, 1);
            f->state = D_TEXT;
        }
    }
    return i;
}

void data_finish(struct data_filter *f, struct buf *out)
{
    if (f->in_header)
        end_header(f, out, out->len, true);
}
