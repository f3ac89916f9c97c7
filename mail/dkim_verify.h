/* dkim_verify.h: one DKIM signature checked (RFC 6376 section 6.1.3, RFC 8463, RFC 8301)
 * from its parsed field (dkim_sig.h), the message's header block, the body hash it asks for
 * (dkim_canon.h) and its parsed key record (dkim_key.h); and which body hashes a set of
 * signatures needs, so that the body streams once through one hasher per distinct kind. */
#ifndef TERN_MAIL_DKIM_VERIFY_H
#define TERN_MAIL_DKIM_VERIFY_H
#include <stdbool.h>
#include <stddef.h>
#include "dkim.h"
#include "dkim_canon.h"
#include "dkim_key.h"
#include "dkim_sig.h"

/* The result for sig, the DKIM-Signature field sig_field[0..sig_len) (whole, as it is in the
 * header, CRLF included) read into *sig by dkim_sig_parse, in the message whose header block
 * is header[0..len) (fields, CRLF, without the empty line; sig_field normally points into it),
 * with body the finished body hash of sig's (body canonicalization, hash, l=) and key the
 * parsed record of sig's selector and domain. The reason goes to reason:
 *   DKIM_FAIL: "rsa-sha1 not accepted" (body may then be NULL), "body hash did not verify",
 *              "signature did not verify";
 *   DKIM_PERMERROR: "key type does not match a=", "hash not allowed by key", "i= domain is not
 *              d= (key t=s)", "body hash of another kind given".
 * DKIM_PASS: "" (a key with t=y passes too: key->testing says so). */
enum dkim_result dkim_verify(const struct dkim_signature *sig, const char *header, size_t len,
                             const char *sig_field, size_t sig_len,
                             const struct dkim_body_hash *body, const struct dkim_key *key,
                             char *reason, size_t reasonlen);

/* A kind of body hash: what dkim_body_hash_init takes. */
struct dkim_body_kind {
    enum dkim_canon canon;
    enum dkim_hash hash;
    bool has_limit;
    unsigned long long limit;
};

#define DKIM_BODY_NONE ((size_t)-1)

/* The distinct body hashes the signatures sigs[0..n) need: kinds[0..return) (kinds has room
 * for n), and which[i], the index in kinds of the one sigs[i] needs (DKIM_BODY_NONE for
 * rsa-sha1, which fails without one). */
size_t dkim_body_kinds(const struct dkim_signature *sigs, size_t n, struct dkim_body_kind *kinds,
                       size_t *which);

/* The hash an algorithm uses for the body and the header data. */
enum dkim_hash dkim_alg_hash(enum dkim_alg alg);

#endif
