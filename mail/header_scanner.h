/* header_scanner.h: the one reader of a message header (RFC 5322 section 2.2), for smtpd's
 * content filter, pickup, the delivery agents' loop check and the 8BITMIME downgrade: which
 * line is a field, which continues one, where the header ends, which field names matter, and
 * how Received: fields are held against hopcount_limit. Pure, incremental and bounded: any
 * split of the input into feeds gives the same fields and the same end. */
#ifndef TERN_HEADER_SCANNER_H
#define TERN_HEADER_SCANNER_H
#include <stdbool.h>
#include <stddef.h>

/* The field names some part of tern acts on, matched without regard to case; every other
 * name is HEADER_OTHER. */
enum header_name {
    HEADER_OTHER,
    HEADER_RECEIVED,                    /* counted against hopcount_limit */
    HEADER_DATE,                        /* added when missing (submission, pickup) */
    HEADER_MESSAGE_ID,
    HEADER_FROM,
    HEADER_SENDER,
    HEADER_TO,                          /* sendmail -t takes the recipients from these three */
    HEADER_CC,
    HEADER_BCC,                         /* and pickup removes this one */
    HEADER_DELIVERED_TO,                /* the local and virtual agents' loop check */
    HEADER_MIME_VERSION,                /* the 8BITMIME downgrade */
    HEADER_CONTENT_TYPE,
    HEADER_CONTENT_TRANSFER_ENCODING,
};

#define HEADER_NAME_KEEP 32   /* bytes of a name kept to match it: more than any name above */

/* What ended the header. */
enum header_end {
    HEADER_END_BLANK = 1,   /* an empty line (CRLF or LF); the body follows it */
    HEADER_END_BODY,        /* a line that is neither a field nor a continuation: the body
                             * starts with that line, without an empty line before it */
    HEADER_END_INPUT,       /* the input ended inside the header (header_scanner_finish) */
};

/* One field. Offsets count from the first byte fed to the scanner. */
struct header_field {
    enum header_name name;
    size_t start;       /* its first byte: the name */
    size_t name_len;    /* the name, without the white space an obsolete field has before
                         * its colon */
    size_t value;       /* just after the colon */
    size_t end;         /* after its last line, line end included (header_fields_next only) */
};

/* A scanner: all zero (header_scanner_init) is the start of a header. The results are valid
 * once header_scanner_feed or header_scanner_finish returned HEADER_EV_END. */
struct header_scanner {
    size_t offset;          /* bytes consumed */
    size_t line;            /* where the current line starts */
    int state;
    bool field_seen;        /* a field came before: a line starting with white space goes on
                             * with it (the first line cannot be a continuation) */
    size_t name_len;
    char name[HEADER_NAME_KEEP];   /* the start of the current line's name, in lower case */

    /* results */
    enum header_end ended_by;   /* 0 while the header goes on */
    size_t end;             /* where the header ends: the empty line, the first body line, or
                             * the end of the input */
    size_t body;            /* where the body starts: after the empty line, else end */
};

enum header_event {
    HEADER_EV_MORE,     /* every byte given was consumed; the header goes on */
    HEADER_EV_FIELD,    /* a field starts: its name and the colon were just consumed */
    HEADER_EV_END,      /* the header ended (ended_by, end, body) */
};

void header_scanner_init(struct header_scanner *s);

/* Consumes bytes of p[0..n), which follow the bytes fed before, up to the next event, and
 * sets *used to the bytes consumed. On HEADER_EV_FIELD, *f has the field's name, start and
 * value (end is left 0: the field's continuation lines are still to come). Once the header
 * ended the scanner takes no more bytes; the body starts at `body`, which may lie before the
 * last byte taken (the start of a line that turned out to be no field). */
enum header_event header_scanner_feed(struct header_scanner *s, const char *p, size_t n,
                                      size_t *used, struct header_field *f);

/* The input ended after the bytes fed: decides the last line (a name whose colon never came
 * is no field; a lone CR is an empty line without its LF) and ends the header. Always
 * HEADER_EV_END. */
enum header_event header_scanner_finish(struct header_scanner *s);

/* The bytes fed so far that are, or may still turn out to be, header lines: what
 * header_size_limit is held against while the header streams in. */
size_t header_scanner_size(const struct header_scanner *s);

/* The field iterator over a whole buffer: each field with its extent (continuation lines
 * included), then false at the end of the header; it.scan then has the results. */
struct header_fields {
    const char *p;
    size_t len, pos;
    struct header_scanner scan;
    bool pending;               /* next holds a field whose end is not known yet */
    struct header_field next;
};

void header_fields_init(struct header_fields *it, const char *p, size_t len);
bool header_fields_next(struct header_fields *it, struct header_field *f);

/* Which name name[0..n) is, without regard to case. */
enum header_name header_name_of(const char *name, size_t n);

/* Copies the field value v[0..n) to out unfolded (RFC 5322 2.2.3: each CRLF or LF removed,
 * the white space after it kept), cut to size - 1 bytes and NUL-terminated; size >= 1.
 * Returns the length written. */
size_t header_unfold(const char *v, size_t n, char *out, size_t size);

/* Whether a message with `received` Received: fields has gone round too often: more than
 * hopcount_limit of them (the one this host adds is not counted); a limit of 0 or less is no
 * limit. The one rule for SMTP (smtpd) and local submission (pickup). */
bool header_too_many_hops(int received, long long hopcount_limit);

#endif
