/* qrecord.h: the record framing of queue files and maildrop files: one type byte, the data
 * length as a minimal little-endian base-128 varint (7 bits a byte, high bit = more; at most 5
 * bytes; at most QREC_DATA_MAX), then the data. Nothing in the data is ever interpreted as
 * structure, so no CR, LF or NUL from a peer can forge a record (DESIGN.md §2, invariant 4).
 * One encoder and one decoder, pure, for every writer and reader of both kinds of file. */
#ifndef TERN_QRECORD_H
#define TERN_QRECORD_H
#include <stddef.h>
#include "buf.h"

#define QREC_DATA_MAX (1u << 20) /* largest record the reader accepts (content chunks are 64 KiB) */
#define QREC_HEAD_MAX 6          /* a record header: the type byte and a varint of 1 to 5 bytes */

/* Record types. A queue file (qfile.h) has its envelope records first, in this order: MAGIC,
 * TIME, then SENDER, the message attributes (ATTR), RECIPIENT records each followed by its own
 * RCPT_* records, then CONTENT records, then the trailer (HEADER and ATTR records: what was
 * decided once the content was in), then END. A maildrop file (maildrop.h) uses a subset. */
enum qrec_type {
    QREC_MAGIC = 'V',        /* "tern-queue-1" (a maildrop file: "tern-maildrop-1") */
    QREC_TIME = 'T',         /* arrival time: decimal seconds.microseconds */
    QREC_SENDER = 'S',       /* envelope sender, "" for <> */
    QREC_ATTR = 'A',         /* name=value: the QATTR_* names of qenvelope.h */
    QREC_RECIPIENT = 'R',    /* an envelope recipient still to deliver */
    QREC_DONE = 'D',         /* a recipient delivered (same data as its R record; qmgr later
                              * overwrites the type byte of an R record in place) */
    QREC_RCPT_NOTIFY = 'N',  /* NOTIFY bits of the recipient before it, decimal */
    QREC_RCPT_ORCPT = 'O',   /* type;address of ORCPT of the recipient before it */
    QREC_CONTENT = 'C',      /* a chunk of the message (header and body, lines end in CRLF) */
    QREC_HEADER = 'H',       /* trailer: a header field (with its CRLF) added when the content
                              * was complete (DKIM-Signature:, Authentication-Results:); the
                              * message is delivered with these fields first, in file order */
    QREC_END = 'E',          /* empty; the file is complete only with it */
};

/* Appends one record to out (a struct buf with the caller's bound). -1 when out is full or
 * len > QREC_DATA_MAX; out is then unchanged. */
int qrec_put(struct buf *out, enum qrec_type type, const void *data, size_t len);

/* The outcome of qrec_head on a buffer that may hold only the start of a record. */
enum qrec_head_result {
    QREC_HEAD_BAD = -1,      /* malformed: a varint longer than 5 bytes, not minimal (a last
                              * byte of 0 after the first), or a length over QREC_DATA_MAX */
    QREC_HEAD_SHORT = 0,     /* p[0..avail) ends inside the header: more bytes are needed */
    QREC_HEAD_OK = 1,
};
/* Decodes the header of the record that starts at p[0..avail): with QREC_HEAD_OK, its type, the
 * length of its data and the length of the header itself (2 to QREC_HEAD_MAX; the data starts
 * there). Never reads past avail. */
enum qrec_head_result qrec_head(const void *p, size_t avail, int *type, size_t *len,
                                size_t *head_len);

/* Reads one whole record at data[*pos]: 1 and advances *pos (type, pointer and length of the
 * data within data[]), 0 at the end of the input, -1 for a truncated or malformed record. */
int qrec_get(const char *data, size_t len, size_t *pos, int *type, const char **rec,
             size_t *rec_len);

#endif
