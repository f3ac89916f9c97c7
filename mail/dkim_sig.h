/* dkim_sig.h: a DKIM-Signature field (RFC 6376 section 3.5) read into a struct dkim_signature
 * and checked as section 6.1.1 says, for the verifier (smtpd, pickup: dkim_verify.h); and the
 * field with its b= value emptied, the form it takes in the hash it signs. Pure. */
#ifndef TERN_MAIL_DKIM_SIG_H
#define TERN_MAIL_DKIM_SIG_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "dkim.h"

struct dkim_signature {
    enum dkim_alg alg;                      /* a= */
    enum dkim_canon header_canon;           /* c=, simple/simple when absent */
    enum dkim_canon body_canon;
    char domain[DKIM_DOMAIN_MAX];           /* d=, in lower case */
    char selector[DKIM_SELECTOR_MAX];       /* s=, as written */
    char identity[DKIM_IDENTITY_MAX];       /* i=, or "@" d= when absent */
    char identity_domain[DKIM_DOMAIN_MAX];  /* the domain of identity, in lower case */
    size_t header_count;                    /* h=: the names, as written, in order */
    char headers[DKIM_HEADERS_MAX][DKIM_FIELD_NAME_MAX];
    unsigned char bh[DKIM_DIGEST_MAX];      /* bh=, decoded */
    size_t bh_len;
    unsigned char b[DKIM_SIG_MAX];          /* b=, decoded */
    size_t b_len;
    bool has_length;                        /* l= */
    unsigned long long length;
    bool has_timestamp;                     /* t= */
    long long timestamp;
    bool has_expiry;                        /* x= */
    long long expiry;
};

/* Reads the value value[0..len) of a DKIM-Signature field (what follows its colon, folded
 * lines and the final CRLF included) into *sig. 0 when the signature can be checked; -1 with
 * *result and the reason in err when it cannot: DKIM_PERMERROR for a syntax error, v= not 1,
 * a missing required tag (v a b bh d h s), an unknown a= or c=, h= without From, i= outside
 * d=, q= without dns/txt, x= before t=; DKIM_FAIL "signature expired" for x= before now
 * (seconds since the epoch). rsa-sha1 is read; dkim_verify fails it. */
int dkim_sig_parse(const char *value, size_t len, long long now, struct dkim_signature *sig,
                   enum dkim_result *result, char *err, size_t errlen);

/* Appends to out the field field[0..len) (name, colon, value, and its line end when it has
 * one) with the value of its b= tag (and the white space around it) removed, every other byte
 * kept as it is. -1 when the field has no colon, its value is no tag list or has no b=, or
 * out's bound is reached. */
int dkim_sig_without_b(const char *field, size_t len, struct buf *out);

#endif
