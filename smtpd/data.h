/* data.h: the message content filter of smtpd, pure and incremental: it turns the bytes of DATA
 * (dot-stuffed, ended only by <CRLF>.<CRLF>) or of BDAT chunks (counted, binary) into the content
 * to queue, and notes what decides the reply: the size, bare LF or CR (SMTP smuggling), the
 * header size and the Received: count (read by the mail layer's header scanner, as pickup reads
 * them). It never consumes a byte past the end of DATA, so no byte of a message can be read as
 * a command. */
#ifndef TERN_DATA_H
#define TERN_DATA_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "header_scanner.h"

struct data_filter {
    /* settings */
    bool bdat;                  /* BDAT: no dot handling, no end marker, bytes kept as they are */
    bool normalize_newlines;    /* DATA with smtpd_forbid_bare_newline = no: bare LF/CR -> CRLF */
    size_t size_limit;          /* message_size_limit (0: none) */
    size_t header_limit;        /* header_size_limit (0: none) */
    const char *date_header;    /* "Date: ...\r\n" to add at the end of the header when the
                                 * message has none, or NULL (submission services only) */
    const char *msgid_header;   /* "Message-ID: <...>\r\n" likewise */

    /* results */
    bool done;                  /* DATA: the end marker was seen */
    bool bare_newline;          /* a bare LF or CR was seen (DATA) */
    bool too_big;               /* content passed size_limit (the rest is read and dropped) */
    bool header_too_big;
    size_t size;                /* content bytes (after unstuffing), counted even past the limit */
    int received;               /* Received: headers (header_too_many_hops decides) */
    bool has_date, has_msgid;

    /* state */
    int state;
    bool in_header;
    struct header_scanner header;   /* the content's header, as it streams in */
};

/* in_header starts true; the rest zeroed. Settings are filled in by the caller afterwards. */
void data_filter_init(struct data_filter *f, bool bdat);
/* Feeds bytes. Appends the content to out (while not too big) and returns how many bytes of p it
 * consumed: all of them, except in DATA once `done` is set (the rest belongs to the next
 * commands). Never fails. While in_header is true the caller must not take bytes out of out
 * (missing headers are inserted where the header ends); out holds at most the header then. */
size_t data_feed(struct data_filter *f, const char *p, size_t n, struct buf *out);
/* The message ended (DATA done, or BDAT LAST): adds the missing headers if the header never
 * ended. */
void data_finish(struct data_filter *f, struct buf *out);

#endif
