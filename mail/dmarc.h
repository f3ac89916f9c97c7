/* dmarc.h: DMARC (RFC 7489, with np= of DMARCbis) as pure decisions for smtpd: the
 * organizational domain through the Public Suffix List (libpsl), identifier alignment, the
 * names to look up, and the evaluation of a message's SPF and DKIM results against the policy.
 * The records and the From: domain are read by dmarc_record.h; DNS is the caller's. */
#ifndef TERN_DMARC_H
#define TERN_DMARC_H
#include <stdbool.h>
#include <stddef.h>
#include "dmarc_record.h"

#define DMARC_QNAME_MAX (DMARC_DOMAIN_MAX + 8)   /* "_dmarc." and a domain */

/* The Public Suffix List, loaded once by the daemon before it chroots or drops privileges. */
struct dmarc_psl;

/* Loads the list from file (the Debian file is /usr/share/publicsuffix/public_suffix_list.dat
 * or its .dafsa form), or with file NULL the newest of libpsl's built-in list and its
 * distribution file (psl_latest). NULL with why in err. */
struct dmarc_psl *dmarc_psl_load(const char *file, char *err, size_t errlen);
void dmarc_psl_free(struct dmarc_psl *psl);   /* NULL is fine */

/* The organizational domain of domain (RFC 7489 §3.2): its registrable domain by the list (a
 * public suffix and one label more), folded to lower case without a final dot; a domain that
 * is itself a public suffix is its own. 0, or -1 for a name that is no domain name. */
int dmarc_org_domain(const struct dmarc_psl *psl, const char *domain,
                     char out[DMARC_DOMAIN_MAX]);

/* Identifier alignment (§3.1): strict, the two names are equal (case-insensitive, a final dot
 * ignored); relaxed, their organizational domains are. */
bool dmarc_aligned(const struct dmarc_psl *psl, const char *a, const char *b,
                   enum dmarc_alignment mode);

/* The names to ask for TXT records, in order (§6.6.3): names[0] "_dmarc.FROMDOMAIN", and when
 * the organizational domain differs names[1] "_dmarc.ORGDOMAIN", asked only when names[0] gave
 * no DMARC record (dmarc_record_pick 0, or no such name). Returns how many (1 or 2), or -1 for
 * a from_domain that is no domain name. */
int dmarc_lookup_names(const struct dmarc_psl *psl, const char *from_domain,
                       char names[2][DMARC_QNAME_MAX]);

/* How the policy look-up ended. */
enum dmarc_lookup {
    DMARC_LOOKUP_FOUND,       /* a record: dmarc_record_parse gave 1 */
    DMARC_LOOKUP_NONE,        /* no record at either name (or several at one) */
    DMARC_LOOKUP_TEMPERROR,   /* a DNS failure (SERVFAIL, time-out) */
    DMARC_LOOKUP_PERMERROR,   /* a record that dmarc_record_parse refused (-1) */
};

struct dmarc_dkim {
    const char *domain;       /* the signature's d= */
    bool pass;                /* its result was pass */
};

struct dmarc_input {
    const char *from_domain;            /* from dmarc_from_domain */
    bool from_exists;                   /* false when the From domain does not exist in DNS
                                         * (NXDOMAIN for A, AAAA and MX): then np= applies */
    enum dmarc_lookup lookup;
    const struct dmarc_record *record;  /* with DMARC_LOOKUP_FOUND */
    const char *record_domain;          /* where it was found: the From domain or the
                                         * organizational domain (without "_dmarc.") */
    const char *spf_domain;             /* the domain SPF checked: MAIL FROM's, or HELO's for
                                         * the null sender; NULL for none */
    bool spf_pass;                      /* SPF's result was pass */
    const struct dmarc_dkim *dkim;      /* every DKIM signature checked */
    size_t ndkim;
    int sample;                         /* drawn by the caller, 0-99, for pct= */
};

enum dmarc_result {
    DMARC_RESULT_NONE,        /* no policy (or no usable From domain) */
    DMARC_RESULT_PASS,
    DMARC_RESULT_FAIL,
    DMARC_RESULT_TEMPERROR,
    DMARC_RESULT_PERMERROR,
};

struct dmarc_outcome {
    enum dmarc_result result;
    enum dmarc_policy policy;        /* the policy that applies: p=, sp= (a subdomain of where
                                      * the record was found) or np= (a subdomain that does not
                                      * exist); NONE without a record */
    enum dmarc_policy disposition;   /* what to do with the message: NONE unless it failed;
                                      * sampled out by pct= one step lower (§6.6.4) */
    bool sampled_out;                /* the message failed and pct= left it out */
    bool spf_aligned;                /* SPF passed for an aligned domain */
    bool dkim_aligned;               /* a DKIM signature passed for an aligned d= */
    int dkim_index;                  /* that signature's index in dkim[], or -1 */
};

/* The DMARC result of a message (§6.6.2-§6.6.4). Pure; the caller drew in->sample. A FAIL
 * with sample < pct keeps the policy; otherwise reject becomes quarantine and quarantine
 * becomes none. */
void dmarc_evaluate(const struct dmarc_psl *psl, const struct dmarc_input *in,
                    struct dmarc_outcome *out);

/* "none", "pass", "fail", "temperror", "permerror": the words of Authentication-Results */
const char *dmarc_result_name(enum dmarc_result r);
/* "none", "quarantine", "reject" (UNSET: "none") */
const char *dmarc_policy_name(enum dmarc_policy p);

#endif
