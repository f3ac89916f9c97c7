/* spf_record.h: an SPF record (RFC 7208 sections 4.5-4.6, 5, 6, 12) parsed into its terms, a
 * pure function over the record's text; syntax errors are what the evaluator reports as
 * permerror. */
#ifndef TERN_SPF_RECORD_H
#define TERN_SPF_RECORD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPF_RECORD_MAX 4096   /* bytes of a record's text; longer is a permerror */
#define SPF_TERMS_MAX 512     /* directives of a record; more is a permerror */

enum spf_mechanism { SPF_ALL, SPF_INCLUDE, SPF_A, SPF_MX, SPF_PTR, SPF_IP4, SPF_IP6, SPF_EXISTS };

/* A piece of the record's text: text[off .. off+len). */
struct spf_span {
    uint16_t off, len;
};

struct spf_directive {
    enum spf_mechanism mechanism;
    char qualifier;            /* '+', '-', '~' or '?' ('+' when none was written) */
    struct spf_span term;      /* the whole directive, for logs */
    bool has_domain;           /* a domain-spec was given (else the current domain) */
    struct spf_span domain;    /* the domain-spec, unexpanded */
    uint8_t cidr4, cidr6;      /* prefix lengths (32 and 128 when none was given) */
    uint8_t addr[16];          /* ip4: 4 bytes, ip6: 16 */
};

struct spf_record {
    char text[SPF_RECORD_MAX + 1];
    size_t len;
    size_t ndirectives;
    struct spf_directive directives[SPF_TERMS_MAX];
    bool has_redirect, has_exp;
    struct spf_span redirect, exp;   /* their domain-specs */
};

/* Whether txt[0..len) is an SPF version 1 record: "v=spf1" (any case) alone or followed by a
 * space (4.5). */
bool spf_record_is_spf1(const char *txt, size_t len);
/* Parses the record txt[0..len) (which spf_record_is_spf1) into out. 0, or -1 with the
 * reason in err: an unknown or malformed term, a bad CIDR length or address, a domain-spec
 * that is not one (macro syntax, or not ending in a top label or a macro), redirect= or exp=
 * twice, a record too long or of too many terms. */
int spf_record_parse(const char *txt, size_t len, struct spf_record *out, char *err,
                     size_t errlen);

#endif
