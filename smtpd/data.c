/* data.c: the content filter of data.h. DATA: a line that is exactly "." after a CRLF ends the
 * message; a leading dot is removed; a LF without CR or a CR without LF is a bare newline (the
 * SMTP smuggling vector), flagged and, when normalizing, stored as CRLF, but it never makes the
 * next dot a line start. BDAT: bytes pass as they are. Both: size, header size and Received:
 * count (the mail layer's header scanner reads the header), and the missing Date:/Message-ID:
 * of submission. */
#include <string.h>
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
    f->state = D_LINE_START;
    header_scanner_init(&f->header);
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

/* The scanner found the end of the header: add what is missing there. */
static void end_header(struct data_filter *f, struct buf *out)
{
    f->in_header = false;
    if (f->too_big || f->header_too_big)
        return;
    /* every byte the scanner took is in out: the header ends this far back from out's end */
    size_t at = out->len - (f->header.offset - f->header.end);
    /* content that is all header, its last field without a line end (BDAT): the added lines
     * must not join that field */
    if (f->header.ended_by == HEADER_END_INPUT && at == out->len && at > 0 &&
        out->data[at - 1] != '\n' && ((!f->has_date && f->date_header) ||
                                       (!f->has_msgid && f->msgid_header)) &&
        buf_append(out, "\r\n", 2) == 0)
        at = out->len;
    size_t before = out->len;
    insert_missing(f, out, at);
    /* a body that started without a blank line gets one after the added lines */
    if (f->header.ended_by == HEADER_END_BODY && out->len != before &&
        buf_append(out, "\r\n", 2) == 0) {
        size_t at2 = at + (out->len - 2 - before);
        memmove(out->data + at2 + 2, out->data + at2, out->len - 2 - at2);
        memcpy(out->data + at2, "\r\n", 2);
    }
}

static void note_field(struct data_filter *f, enum header_name name)
{
    if (name == HEADER_RECEIVED)
        f->received++;
    else if (name == HEADER_DATE)
        f->has_date = true;
    else if (name == HEADER_MESSAGE_ID)
        f->has_msgid = true;
}

/* Counts n content bytes and stores them, unless the message is refused already (out's own
 * bound counts as too big: it never grows past it). */
static void store(struct data_filter *f, struct buf *out, const char *p, size_t n)
{
    f->size += n;
    if (f->size_limit && f->size > f->size_limit)
        f->too_big = true;
    if (!f->too_big && !f->header_too_big && buf_append(out, p, n) < 0)
        f->too_big = true;
}

static void emit(struct data_filter *f, struct buf *out, const char *p, size_t n)
{
    /* the header goes through the scanner, up to each field and to its end */
    while (f->in_header && n > 0) {
        size_t used;
        struct header_field field;
        enum header_event ev = header_scanner_feed(&f->header, p, n, &used, &field);
        if (f->header_limit && header_scanner_size(&f->header) > f->header_limit)
            f->header_too_big = true;
        store(f, out, p, used);
        p += used;
        n -= used;
        if (ev == HEADER_EV_FIELD)
            note_field(f, field.name);
        else if (ev == HEADER_EV_END)
            end_header(f, out);
    }
    if (n > 0)
        store(f, out, p, n);
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
    if (f->in_header) {
        header_scanner_finish(&f->header);
        end_header(f, out);
    }
}
