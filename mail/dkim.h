/* dkim.h: what the DKIM modules (dkim_tags, dkim_sig, dkim_key, dkim_canon, dkim_sign,
 * dkim_verify) share: the algorithms, the canonicalizations, the bounds and the results of a
 * check in the words of RFC 8601 (Authentication-Results). */
#ifndef TERN_MAIL_DKIM_H
#define TERN_MAIL_DKIM_H
#include <stddef.h>

enum dkim_alg {
    DKIM_ALG_RSA_SHA256,
    DKIM_ALG_ED25519_SHA256,   /* RFC 8463 */
    DKIM_ALG_RSA_SHA1,         /* parsed, never passes (RFC 8301) */
};

enum dkim_canon {
    DKIM_CANON_SIMPLE,
    DKIM_CANON_RELAXED,
};

enum dkim_hash {
    DKIM_HASH_SHA256,
    DKIM_HASH_SHA1,
};

/* RFC 8601 section 2.7.1 */
enum dkim_result {
    DKIM_PASS,
    DKIM_FAIL,        /* checked and failed: hashes, signature, expired, revoked, too weak */
    DKIM_NEUTRAL,
    DKIM_TEMPERROR,   /* the key could not be fetched for now (the caller's DNS) */
    DKIM_PERMERROR,   /* a signature or key that cannot be used: syntax, missing tags */
    DKIM_POLICY,
};

#define DKIM_HEADERS_MAX 64     /* names in h= */
#define DKIM_FIELD_NAME_MAX 80  /* a header field name in h=, NUL included */
#define DKIM_DOMAIN_MAX 256     /* d=, and the domain of i=, NUL included */
#define DKIM_SELECTOR_MAX 256   /* s=, NUL included */
#define DKIM_IDENTITY_MAX 512   /* i=, NUL included */
#define DKIM_SIG_MAX 1024       /* b= decoded: an RSA key of 8192 bits */
#define DKIM_DIGEST_MAX 32      /* bh= decoded: SHA-256 */
#define DKIM_RSA_MIN_BITS 1024  /* RFC 8301 section 3.2 */
#define DKIM_RSA_MAX_BITS 8192

/* The word RFC 8601 uses for r ("pass", "fail", ...). */
const char *dkim_result_word(enum dkim_result r);

/* Writes the reason for a result, a short phrase for Authentication-Results and the log
 * ("signature expired"), into err[0..errlen) (nothing when err is NULL). Returns -1, so a
 * failing parser can `return dkim_reason(...)`. */
int dkim_reason(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
