/* dkim_signer.h: the streamed DKIM signer of one message, for pickup and smtpd. It is fed the
 * content (header and body, CRLF, in chunks split anywhere; not the Received: field the daemon
 * puts in front) and gives back the bytes to store. Once the header has come it knows the
 * From: domain: when the signing table (dkim_signing.h) has keys for it, the rest goes through
 * the MIME downgrade converter (RFC 6376 section 5.3: what would need an 8BITMIME downgrade
 * later is converted now, so the signature survives delivery) and the converted header block
 * is kept and the body hashed (relaxed, SHA-256) as it streams; else the content is given back
 * as it came. At the end it gives one DKIM-Signature: field per key (c=relaxed/relaxed), for
 * the caller to store as trailer header fields (qfile_put_header). Pure: no I/O. */
#ifndef TERN_MAIL_DKIM_SIGNER_H
#define TERN_MAIL_DKIM_SIGNER_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "dkim_signing.h"

#define DKIM_SIGNER_LOOKAHEAD_MIN (1u << 20)   /* the converter holds at least this much */

struct dkim_signer;

/* A signer for one message with the keys of t (which must stay open while it lives).
 * header_limit: header_size_limit, the most header bytes held to find the From: field (a
 * longer header is not signed); the converter holds max(header_limit, 1 MiB) of a MIME part.
 * timestamp: t= of the signatures (the time now), none when negative. */
struct dkim_signer *dkim_signer_new(const struct dkim_signing_table *t, size_t header_limit,
                                    long long timestamp);

/* Takes p[0..n), the next bytes of the content, and appends to out the bytes to store so far
 * (the caller stores what it gets, not what it fed; the same bytes in all whatever the split).
 * 0, or -1 when out's bound was reached (the signer cannot go on). */
int dkim_signer_feed(struct dkim_signer *s, const char *p, size_t n, struct buf *out);

enum dkim_signer_status {
    DKIM_SIGNER_ERROR = -1,     /* out's bound was reached */
    DKIM_SIGNER_NO_KEY,         /* the From: domain has no key: nothing to say */
    DKIM_SIGNER_NOT_SIGNED,     /* the table has keys, but the message has no usable From: (or
                                 * a header past header_limit, or signing failed): why says
                                 * why, for the log */
    DKIM_SIGNER_SIGNED,         /* fields holds the DKIM-Signature: fields */
};

/* The content ended: appends the rest of the bytes to store to out and, when signed, one
 * "DKIM-Signature: ...\r\n" field per key to fields (to go in front of the stored content). */
enum dkim_signer_status dkim_signer_finish(struct dkim_signer *s, struct buf *out,
                                           struct buf *fields, char *why, size_t whylen);

/* After a finish that signed: how many signatures, and the key of each (d=, s=, a=). */
size_t dkim_signer_count(const struct dkim_signer *s);
const struct dkim_signing_key *dkim_signer_key(const struct dkim_signer *s, size_t i);
/* After the finish: whether the converter changed the content (an 8-bit part was put in
 * quoted-printable), and whether an 8-bit byte was left where it could not convert (8-bit
 * header lines, a part longer than the lookahead before its first 8-bit byte). */
bool dkim_signer_converted(const struct dkim_signer *s);
bool dkim_signer_8bit_left(const struct dkim_signer *s);

/* The end of a message being queued into q, for smtpd and pickup alike: dkim_signer_finish,
 * then the rest of the content (out is scratch space) as q's content, each DKIM-Signature as
 * a header field of q's trailer (qfile_put_header: delivered in front of the content), and the
 * log lines ("ID: dkim signed d=... s=... a=...", or "ID: not signed: why" when the domain
 * has a key but the message could not be signed). 0, or -1 with errno (a write error, or
 * ENOMEM when out's bound was reached). */
struct qfile;
int dkim_signer_finish_file(struct dkim_signer *s, struct qfile *q, struct buf *out);

void dkim_signer_free(struct dkim_signer *s);

#endif
