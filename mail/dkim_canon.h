/* dkim_canon.h: DKIM canonicalization (RFC 6376 section 3.4): header fields simple and relaxed,
 * the header data a signature covers (the fields h= names, picked bottom-up, then the
 * signature field itself with b= empty: 3.7, 5.4.2), and the body canonicalized and hashed
 * as it streams in, in chunks split anywhere, for the signer and the verifier alike. */
#ifndef TERN_MAIL_DKIM_CANON_H
#define TERN_MAIL_DKIM_CANON_H
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "dkim.h"

/* Appends the field field[0..len) (name, colon, value, its line end if any) canonicalized
 * with c, ending in CRLF. A bare LF counts as a line end (CRLF). -1 when out's bound is
 * reached or the field has no colon. */
int dkim_canon_header(enum dkim_canon c, const char *field, size_t len, struct buf *out);

/* Appends the header data a signature signs: for each of the count names of names, in order,
 * the field of header[0..len) (a header block: fields, CRLF, without the empty line) of that
 * name (without regard to case) that is lowest in the header and not taken yet, canonicalized
 * with c; a name with no such field left adds nothing (over-signing). Then sig_field[0..
 * sig_len) (the DKIM-Signature field itself, with or without its b= value) with b= emptied,
 * canonicalized, without its final CRLF. When sig_field points into header, that field is
 * never picked for a name. -1 when sig_field has no b= or out's bound is reached. */
int dkim_canon_signed_header(const char *header, size_t len,
                             const char (*names)[DKIM_FIELD_NAME_MAX], size_t count, enum dkim_canon c, const char *sig_field,
                             size_t sig_len, struct buf *out);

/* The body hash of one (canonicalization, hash, l=): fed the body (the bytes after the empty
 * line that ends the header) in chunks of any size split anywhere. Line ends are CRLF (a bare
 * LF counts as one; a CR not before an LF is an ordinary byte); a last line without its line
 * end gets one; empty lines at the end are dropped; an empty body is CRLF for simple, nothing
 * for relaxed. */
struct dkim_body_hash {
    enum dkim_canon canon;
    enum dkim_hash hash;
    bool has_limit;                 /* l=: only the first limit canonical bytes are hashed */
    unsigned long long limit;
    unsigned long long length;      /* canonical bytes so far, hashed or not */
    unsigned char digest[DKIM_DIGEST_MAX];   /* after dkim_body_hash_final */
    size_t digest_len;

    /* the canonicalizer's state */
    EVP_MD_CTX *md;
    unsigned long long empty_lines; /* empty lines not given out yet: they are, when a line
                                     * with something in it follows */
    bool cr;                        /* a CR was the last byte: a line end if an LF follows */
    bool wsp;                       /* relaxed: white space since the last byte given out */
    bool line_content;              /* the current line has bytes given out */
    size_t staged;
    unsigned char stage[512];       /* output on its way to the hash */
};

void dkim_body_hash_init(struct dkim_body_hash *h, enum dkim_canon canon, enum dkim_hash hash,
                         bool has_limit, unsigned long long limit);
void dkim_body_hash_feed(struct dkim_body_hash *h, const char *p, size_t n);
/* The body ended: digest and digest_len are set. */
void dkim_body_hash_final(struct dkim_body_hash *h);
void dkim_body_hash_free(struct dkim_body_hash *h);

#endif
