/* dotstuff.h: the message content as it goes on the wire after DATA, without I/O: CRLF line
 * ends only (a bare CR or LF becomes CRLF), a '.' at the start of a line doubled (RFC 5321
 * 4.5.2), and the final "<CRLF>.<CRLF>". Incremental, so a large message goes out in chunks. */
#ifndef TERN_SMTP_DOTSTUFF_H
#define TERN_SMTP_DOTSTUFF_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

struct dotstuff {
    bool bol;        /* the next byte starts a line */
    bool cr;         /* the last byte was a CR whose LF has not been seen yet */
};

void dotstuff_init(struct dotstuff *st);
/* Appends the wire form of in[0..len) to out. -1 (out unchanged) when out's bound is hit:
 * out needs room for twice len plus 2. */
int dotstuff_encode(struct dotstuff *st, const char *in, size_t len, struct buf *out);
/* Ends the last line if it has no line end, then appends ".\r\n". -1 when out is full. */
int dotstuff_finish(struct dotstuff *st, struct buf *out);

/* Whether the content has a byte above 127 (it then needs 8BITMIME). */
bool content_has_8bit(const char *data, size_t len);

#endif
