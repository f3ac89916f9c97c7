/* dkim_sign.h: the DKIM-Signature field a signer adds (RFC 6376 section 5; rsa-sha256, and
 * ed25519-sha256 of RFC 8463), c=relaxed/relaxed, folded, for smtpd and pickup to prepend. */
#ifndef TERN_MAIL_DKIM_SIGN_H
#define TERN_MAIL_DKIM_SIGN_H
#include <openssl/evp.h>
#include <stddef.h>
#include "buf.h"
#include "dkim.h"

/* The names signed when a signer names none (NULL-terminated): the fields whose change changes
 * what a reader sees or how the message is handled. */
extern const char *const dkim_sign_default_headers[];

struct dkim_sign_params {
    const char *domain;             /* d= */
    const char *selector;           /* s= */
    EVP_PKEY *key;                  /* RSA (rsa-sha256) or Ed25519 (ed25519-sha256) */
    long long timestamp;            /* t=; none when negative */
    const char *const *headers;     /* the names to sign, NULL-terminated; NULL: the default */
};

/* Appends "DKIM-Signature: ...\r\n" for the message whose header block is header[0..len)
 * (its fields as they will be sent, CRLF, up to but without the empty line) and whose body
 * hash (relaxed, SHA-256, no l=: dkim_canon.h) is bh[0..bh_len). h= has each listed name as
 * many times as a field of that name occurs, and From once more (so no From can be added
 * later); the fields are taken bottom-up (5.4.2). 0, or -1 with err set. */
int dkim_sign(const struct dkim_sign_params *p, const char *header, size_t len,
              const unsigned char *bh, size_t bh_len, struct buf *out, char *err,
              size_t errlen);

#endif
