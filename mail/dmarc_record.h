/* dmarc_record.h: the text DMARC (RFC 7489) reads, as pure functions over buffers: a policy
 * record (with the np= tag of DMARCbis), the choice of the one record among a name's TXT
 * records, and the RFC5322.From domain of a From: field value. The evaluation is dmarc.h. */
#ifndef TERN_DMARC_RECORD_H
#define TERN_DMARC_RECORD_H
#include <stdbool.h>
#include <stddef.h>

#define DMARC_RECORD_MAX 4096   /* longest record text read; longer is a permanent error */
#define DMARC_URIS_MAX 1024     /* rua=/ruf= kept when shorter (else left out, as invalid) */
#define DMARC_DOMAIN_MAX 256    /* a domain name (at most 253 characters) and its NUL */

enum dmarc_policy {
    DMARC_POLICY_UNSET,          /* sp=/np= absent (or np= invalid): the next one applies */
    DMARC_POLICY_NONE,
    DMARC_POLICY_QUARANTINE,
    DMARC_POLICY_REJECT,
};

enum dmarc_alignment { DMARC_ALIGN_RELAXED, DMARC_ALIGN_STRICT };

struct dmarc_record {
    enum dmarc_policy p;          /* never UNSET */
    enum dmarc_policy sp, np;     /* UNSET when absent */
    enum dmarc_alignment adkim, aspf;   /* default relaxed */
    int pct;                      /* 0-100, default 100 */
    unsigned long ri;             /* report interval in seconds, default 86400 */
    char fo[16];                  /* failure reporting options as written, default "0" */
    char rua[DMARC_URIS_MAX];     /* the URI lists as written; "" when absent or invalid */
    char ruf[DMARC_URIS_MAX];
    bool p_defaulted;             /* p= (or sp=) was missing or invalid and rua= valid: read as
                                   * "v=DMARC1; p=none" (RFC 7489 §6.6.3) */
};

/* Whether text[0..len) starts with the DMARC version tag: "v", "=", exactly "DMARC1" (white
 * space allowed around "="), then white space, ";" or the end. */
bool dmarc_record_is_dmarc(const char *text, size_t len);

/* Parses one DMARC record (the character-strings of one TXT record joined without separators).
 * 1: a policy record in *out. 0: not a DMARC record (no v=DMARC1 first). -1: a DMARC record
 * that cannot be used (a permanent error), with why in err: longer than DMARC_RECORD_MAX, a
 * malformed tag list (a tag without "=", a bad tag name, a control or 8-bit byte, a tag given
 * twice), or no valid p= (or an invalid sp=) and no valid rua=. Other errors in known tags are
 * read as the tag's default (RFC 7489 §6.3); unknown tags are ignored; tag names and policy
 * words are case-insensitive. Empty elements (";;", a final ";") are allowed. */
int dmarc_record_parse(const char *text, size_t len, struct dmarc_record *out, char *err,
                       size_t errlen);

/* Of the TXT records of one name (texts[i][0..lens[i])), the DMARC record: 1 with *index set
 * when exactly one is a DMARC record; 0 when none or several are (RFC 7489 §6.6.3: then there
 * is no policy). */
int dmarc_record_pick(const char *const *texts, const size_t *lens, size_t count, size_t *index);

enum dmarc_from {
    DMARC_FROM_OK,           /* one address with a domain: it is in domain */
    DMARC_FROM_NONE,         /* no address */
    DMARC_FROM_SEVERAL,      /* more than one address */
    DMARC_FROM_NO_DOMAIN,    /* one address without a domain */
    DMARC_FROM_BAD,          /* an element that is no address, or a domain that is not a
                              * domain name (an address literal, bad characters, too long) */
};

/* The RFC5322.From domain for DMARC (RFC 7489 §6.6.1) of one From: field value
 * (value[0..len), folded lines allowed), parsed with addrlist.h; the domain is folded to lower
 * case (ASCII) without a final dot. The caller deals with a message with no or several From:
 * fields. */
enum dmarc_from dmarc_from_domain(const char *value, size_t len, char domain[DMARC_DOMAIN_MAX]);
/* "ok", "no address", "several addresses", "no domain", "malformed address" */
const char *dmarc_from_text(enum dmarc_from f);

#endif
