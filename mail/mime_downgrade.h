/* mime_downgrade.h: the one converter of 8-bit message content to 7-bit (RFC 6152 section 3, as
 * Postfix does it), streamed: smtpd and pickup run it on a message to be DKIM-signed as it
 * arrives, the smtp client on a message for a server without 8BITMIME. Every MIME leaf whose body
 * has 8-bit bytes and is not already encoded gets its body in quoted-printable (RFC 2045 6.7) and
 * its Content-Transfer-Encoding set to match; multiparts and message/rfc822 parts are walked
 * into; everything else is copied byte for byte (8-bit header lines need SMTPUTF8, not this).
 * Pure: no I/O; the output is the same however the input is split into feeds. */
#ifndef TERN_MIME_DOWNGRADE_H
#define TERN_MIME_DOWNGRADE_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "header_scanner.h"

#define MIME_DOWNGRADE_DEPTH_MAX 20     /* nested multiparts and messages */
#define MIME_DOWNGRADE_BOUNDARY_MAX 200 /* bytes of a boundary kept (RFC 2046 allows 70) */
/* A line starting with '-' is held whole up to this many bytes (its CR included) to see if it
 * is a boundary delimiter; a longer one never is. */
#define MIME_DOWNGRADE_LINE_MAX 1000

/* What the converter knows of one entity (a header, a blank line and a body). */
struct mime_entity {
    bool multipart, message, digest;
    bool encoded;               /* base64, quoted-printable or an unknown encoding: left alone */
    bool mime_version;
    char boundary[MIME_DOWNGRADE_BOUNDARY_MAX + 1];
    bool has_cte;               /* a Content-Transfer-Encoding field: the last one at */
    size_t cte_start, cte_len;  /* [cte_start, cte_start + cte_len), lines and all */
    size_t fields_end;          /* where the header's fields end */
    size_t header_len;          /* where the body starts (after the blank line, if any) */
    bool has_body;              /* false: the entity ended inside its header */
    bool blank_line;            /* an empty line ended the header */
};

/* The quoted-printable encoder, one byte behind its input (a byte's form depends on the next). */
struct qp_stream {
    size_t col;
    bool pending;
    unsigned char held;
};

/* One entity being read: the root, a part of a multipart or the body of a message/rfc822. */
struct mime_level {
    int phase;                  /* private: header, holding, encoding, passing, ... */
    int section;                /* a multipart's: preamble, in a part, epilogue */
    bool default_message;       /* a part of a multipart/digest */
    bool given_up;              /* held past lookahead_max: passed through unchanged */
    struct header_scanner scan;
    struct mime_entity e;
    struct qp_stream qp;
};

struct mime_downgrade {
    size_t lookahead_max;
    int depth;                  /* the innermost entity's level; -1 once finished */
    struct mime_level level[MIME_DOWNGRADE_DEPTH_MAX + 2];
    struct buf hold;            /* the innermost entity's bytes not written yet */
    struct buf line;            /* the current line, while it may be a delimiter */
    struct buf *out;            /* during a feed */
    /* the current line (private) */
    int line_state;
    bool line_started, line_whole, line_is_delimiter, cr_held;
    char eol[2];                /* the last line end, held until the next line shows whose */
    size_t eol_len;             /* it is: a delimiter's or the body's */
    bool failed;                /* out's bound was reached: every call fails from then on */

    /* results, valid after mime_downgrade_finish */
    bool changed;               /* a leaf was converted */
    bool eightbit_left;         /* the output has a byte above 127 */
    bool unconverted_8bit;      /* an entity was given up at lookahead_max and had an 8-bit
                                 * byte after that, which stayed (the caller logs it) */
    bool too_deep;              /* nested deeper than MIME_DOWNGRADE_DEPTH_MAX: the entities
                                 * below were copied unchanged */
};

/* Starts a conversion. lookahead_max bounds the bytes held back of one entity: its header while
 * it is read, and a leaf's body so far while it has no 8-bit byte. An entity held that long is
 * given up, copied unchanged from there (so is all of one whose header is that long): a leaf
 * whose first 8-bit body byte comes later than its first lookahead_max bytes keeps it
 * (unconverted_8bit). SIZE_MAX holds whole leaves. Already encoded leaves and multipart
 * structure are never held. Memory held is at most lookahead_max plus MIME_DOWNGRADE_LINE_MAX. */
void mime_downgrade_init(struct mime_downgrade *st, size_t lookahead_max);
/* Converts p[0..n), the next bytes of the content (header and body, CRLF line ends, split
 * anywhere), appending what is decided to out. 0, or -1 when out's bound was reached (out then
 * holds a part of the output: the conversion cannot go on). */
int mime_downgrade_feed(struct mime_downgrade *st, const char *p, size_t n, struct buf *out);
/* The content ended: appends the rest. 0, or -1 when out's bound was reached. */
int mime_downgrade_finish(struct mime_downgrade *st, struct buf *out);
void mime_downgrade_free(struct mime_downgrade *st);
/* The most bytes the next mime_downgrade_feed of n bytes (or, with n = 0, the finish) can
 * append to out, for sizing it. */
size_t mime_downgrade_out_bound(const struct mime_downgrade *st, size_t n);
/* After the finish: whether a leaf was converted (for logging); whether an 8-bit byte remained
 * in the output (8-bit header lines, leaves given up or already encoded, preambles...). */
bool mime_downgrade_changed(const struct mime_downgrade *st);
bool mime_downgrade_8bit_left(const struct mime_downgrade *st);

/* The whole content in[0..len) at once, held as long as needed (lookahead_max SIZE_MAX), as the
 * smtp client converts a loaded message: appends its 7-bit form to out. 0, or -1 when out's
 * bound is reached or the nesting is deeper than MIME_DOWNGRADE_DEPTH_MAX (out is then left as
 * it was). */
int mime_downgrade_buffer(const char *in, size_t len, struct buf *out);

/* Appends the quoted-printable form of in[0..len) to out: lines at most 76 characters, CRLF
 * kept as line breaks, other CR and LF bytes encoded. -1 when out is full (out left as it
 * was). */
int qp_encode(const char *in, size_t len, struct buf *out);

#endif
