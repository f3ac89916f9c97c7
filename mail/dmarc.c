/* dmarc.c: DMARC's decisions (RFC 7489 §3, §6.6; np= of DMARCbis): organizational domains by
 * the Public Suffix List (libpsl), identifier alignment, the names to look up, and the result,
 * policy and disposition of a message. Pure once the list is loaded. */
#include "dmarc.h"
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "errtext.h"
#include "mem.h"

struct dmarc_psl {
    psl_ctx_t *ctx;
};

struct dmarc_psl *dmarc_psl_load(const char *file, char *err, size_t errlen)
{
    psl_ctx_t *ctx = file ? psl_load_file(file) : psl_latest(NULL);
    if (ctx == NULL) {
        errtext_setf(err, errlen, "public suffix list", file ? file : "(built in)",
                     "cannot be loaded");
        return NULL;
    }
    struct dmarc_psl *psl = xmalloc(sizeof *psl);
    psl->ctx = ctx;
    return psl;
}

void dmarc_psl_free(struct dmarc_psl *psl)
{
    if (psl == NULL)
        return;
    psl_free(psl->ctx);
    free(psl);
}

/* name folded to lower case (ASCII) without a final dot into out; false when it is empty,
 * too long, or has a byte no domain name has */
static bool fold(const char *name, char out[DMARC_DOMAIN_MAX])
{
    size_t n = strlen(name);
    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n == 0 || n >= DMARC_DOMAIN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= ' ' || c == 0x7f || c == '@')
            return false;
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[n] = '\0';
    return true;
}

int dmarc_org_domain(const struct dmarc_psl *psl, const char *domain,
                     char out[DMARC_DOMAIN_MAX])
{
    char d[DMARC_DOMAIN_MAX];
    out[0] = '\0';
    if (!fold(domain, d))
        return -1;
    const char *reg = psl_registrable_domain(psl->ctx, d);
    snprintf(out, DMARC_DOMAIN_MAX, "%s", reg ? reg : d);
    return 0;
}

bool dmarc_aligned(const struct dmarc_psl *psl, const char *a, const char *b,
                   enum dmarc_alignment mode)
{
    char fa[DMARC_DOMAIN_MAX], fb[DMARC_DOMAIN_MAX];
    if (a == NULL || b == NULL)
        return false;
    if (mode == DMARC_ALIGN_STRICT)
        return fold(a, fa) && fold(b, fb) && strcmp(fa, fb) == 0;
    /* the same domain has the same organizational domain: no look-up in the list (the common
     * case: d= and the MAIL FROM domain are the From: domain) */
    if (fold(a, fa) && fold(b, fb) && strcmp(fa, fb) == 0)
        return true;
    return dmarc_org_domain(psl, a, fa) == 0 && dmarc_org_domain(psl, b, fb) == 0 &&
           strcmp(fa, fb) == 0;
}

int dmarc_lookup_names(const struct dmarc_psl *psl, const char *from_domain,
                       char names[2][DMARC_QNAME_MAX])
{
    char d[DMARC_DOMAIN_MAX], org[DMARC_DOMAIN_MAX];
    names[0][0] = names[1][0] = '\0';
    if (!fold(from_domain, d) || dmarc_org_domain(psl, d, org) < 0)
        return -1;
    snprintf(names[0], DMARC_QNAME_MAX, "_dmarc.%s", d);
    if (strcmp(d, org) == 0)
        return 1;
    snprintf(names[1], DMARC_QNAME_MAX, "_dmarc.%s", org);
    return 2;
}

/* p=, sp= or np= (§6.6.3 and DMARCbis): sp= when the From domain is below the domain the
 * record was found at, np= when that subdomain does not exist either; each absent one falls
 * back to the one before */
static enum dmarc_policy policy_for(const struct dmarc_input *in)
{
    const struct dmarc_record *r = in->record;
    char from[DMARC_DOMAIN_MAX], at[DMARC_DOMAIN_MAX];
    bool subdomain = in->record_domain != NULL && fold(in->from_domain, from) &&
                     fold(in->record_domain, at) && strcmp(from, at) != 0;
    if (!subdomain)
        return r->p;
    if (!in->from_exists && r->np != DMARC_POLICY_UNSET)
        return r->np;
    return r->sp != DMARC_POLICY_UNSET ? r->sp : r->p;
}

void dmarc_evaluate(const struct dmarc_psl *psl, const struct dmarc_input *in,
                    struct dmarc_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->result = DMARC_RESULT_NONE;
    out->policy = out->disposition = DMARC_POLICY_NONE;
    out->dkim_index = -1;
    if (in->from_domain == NULL || in->from_domain[0] == '\0')
        return;
    switch (in->lookup) {
    case DMARC_LOOKUP_NONE:
        return;
    case DMARC_LOOKUP_TEMPERROR:
        out->result = DMARC_RESULT_TEMPERROR;
        return;
    case DMARC_LOOKUP_PERMERROR:
        out->result = DMARC_RESULT_PERMERROR;
        return;
    case DMARC_LOOKUP_FOUND:
        break;
    }
    const struct dmarc_record *r = in->record;
    if (r == NULL) {
        out->result = DMARC_RESULT_PERMERROR;
        return;
    }
    out->policy = policy_for(in);
    out->spf_aligned = in->spf_pass && dmarc_aligned(psl, in->spf_domain, in->from_domain,
                                                     r->aspf);
    for (size_t i = 0; i < in->ndkim && !out->dkim_aligned; i++) {
        if (in->dkim[i].pass &&
            dmarc_aligned(psl, in->dkim[i].domain, in->from_domain, r->adkim)) {
            out->dkim_aligned = true;
            out->dkim_index = (int)i;
        }
    }
    if (out->spf_aligned || out->dkim_aligned) {
        out->result = DMARC_RESULT_PASS;
        return;
    }
    out->result = DMARC_RESULT_FAIL;
    out->disposition = out->policy;
    if (in->sample >= r->pct && out->policy != DMARC_POLICY_NONE) {
        /* §6.6.4: a message pct= leaves out gets the next policy down */
        out->sampled_out = true;
        out->disposition = out->policy == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE
                                                               : DMARC_POLICY_NONE;
    }
}

const char *dmarc_result_name(enum dmarc_result r)
{
    switch (r) {
    case DMARC_RESULT_PASS: return "pass";
    case DMARC_RESULT_FAIL: return "fail";
    case DMARC_RESULT_TEMPERROR: return "temperror";
    case DMARC_RESULT_PERMERROR: return "permerror";
    case DMARC_RESULT_NONE: break;
    }
    return "none";
}

const char *dmarc_policy_name(enum dmarc_policy p)
{
    switch (p) {
    case DMARC_POLICY_QUARANTINE: return "quarantine";
    case DMARC_POLICY_REJECT: return "reject";
    case DMARC_POLICY_NONE:
    case DMARC_POLICY_UNSET: break;
    }
    return "none";
}
