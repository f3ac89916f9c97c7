/* downgrade.h: 8-bit message content made 7-bit for a server without 8BITMIME (RFC 6152
 * section 3, as Postfix does it), without I/O: every MIME leaf whose body has 8-bit bytes and
 * is not already encoded gets its body in quoted-printable (RFC 2045 6.7) and its
 * Content-Transfer-Encoding header set to match; multiparts and message/rfc822 parts are
 * walked into. Header lines are kept as they are (8-bit headers need SMTPUTF8, not this). */
#ifndef TERN_SMTP_DOWNGRADE_H
#define TERN_SMTP_DOWNGRADE_H
#include <stddef.h>
#include "buf.h"

#define DOWNGRADE_DEPTH_MAX 20    /* nested multiparts and messages */

/* Appends the 7-bit form of the message in[0..len) (CRLF line ends) to out. 0, or -1 when
 * out's bound is reached or the nesting is deeper than DOWNGRADE_DEPTH_MAX (out is then left
 * as it was). */
int downgrade_8bit(const char *in, size_t len, struct buf *out);

/* Appends the quoted-printable form of in[0..len) to out: lines at most 76 characters, CRLF
 * kept as line breaks, other CR and LF bytes encoded. -1 when out is full. */
int qp_encode(const char *in, size_t len, struct buf *out);

#endif
