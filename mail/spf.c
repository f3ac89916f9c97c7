/* spf.c: check_host() of RFC 7208 (sections 4-6, 11) as a state machine without I/O: record
 * selection and parsing, the directives in order with their look-ups, include and redirect
 * (frames), the limits (10 DNS mechanisms, 2 void look-ups, 10 MX names, 10 PTR names), the
 * validated name of the client for ptr and %{p}, and exp= for fail. spf_next names the next
 * look-up; spf_answer feeds its answer to whatever asked for it (s->waiting). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "errtext.h"
#include "mem.h"
#include "spf.h"
#include "spf_macro.h"
#include "spf_record.h"

#define TYPE_A 1
#define TYPE_MX 15
#define TYPE_PTR 12
#define TYPE_TXT 16
#define TYPE_AAAA 28
#define DEPTH_MAX (SPF_DNS_TERMS_MAX + 2)   /* each include counts, so this is never reached */
#define HOST_MAX DNS_HOST_MAX

/* One check_host(): the top one, an include's, or (in place) a redirect's. */
struct frame {
    char domain[HOST_MAX];
    struct spf_record *rec;          /* NULL until its record came */
    size_t pos;                      /* the directive being evaluated */
    bool include;
    bool redirected;                 /* reached by redirect= (no record is then permerror) */
};

enum wait { W_NONE, W_RECORD, W_MECH, W_MX_HOST, W_PTR, W_VALIDATE, W_EXP };
/* Where the directive of the top frame is: counted; its target known; waiting for its first
 * answer; matching PTR names; trying MX hosts; decided (match says how). */
enum stage { S_ENTER, S_TARGET, S_LOOKUP, S_WAIT, S_PTR, S_MX, S_DECIDED };
enum ptr_state { PTR_UNASKED, PTR_OK, PTR_VOID, PTR_FAILED };
/* The explanation: not wanted; its domain to expand; its TXT to fetch; its text to expand. */
enum exp_state { EXP_NONE, EXP_DOMAIN, EXP_FETCH, EXP_TEXT };

struct spf {
    struct spf_outcome out;
    bool done;
    /* the request */
    int family;                      /* AF_INET or AF_INET6 (mapped addresses are AF_INET) */
    uint8_t addr[16];
    char ip_dotted[80], ip_readable[64], revname[80], now[24];
    char sender[SPF_SENDER_MAX], local[SPF_SENDER_MAX], sender_domain[SPF_SENDER_MAX];
    char helo[SPF_SENDER_MAX], receiver[SPF_SENDER_MAX];
    /* the frames */
    struct frame frames[DEPTH_MAX];
    int depth;
    int dns_terms, voids;
    /* the directive in progress */
    enum stage stage;
    bool match;
    bool target_ok;                  /* target is a name that can be looked up */
    size_t nmx, mx_next;             /* mx[0..nmx) */
    /* the client's names (ptr, %{p}) */
    enum ptr_state ptr;
    signed char ptr_valid[SPF_PTR_NAMES_MAX];   /* -1 not checked yet, 0, 1 */
    size_t nptr, validating;         /* ptr_names[0..nptr) */
    char p[HOST_MAX];
    /* the explanation */
    enum exp_state exp;
    size_t exp_len;                  /* exp_text[0..exp_len) */
    /* the look-up asked for */
    enum wait waiting;
    char want[SPF_NAME_MAX];
    int want_type;
    /* Large, and read only as far as the fields above say they were written: spf_new does
     * not clear them (most checks use none of them). target is the first. */
    char target[SPF_MACRO_OUT_MAX];
    char mx[SPF_MX_NAMES_MAX][HOST_MAX];
    char ptr_names[SPF_PTR_NAMES_MAX][HOST_MAX];
    char exp_text[DNS_TXT_MAX + 1];
};

const char *spf_result_name(enum spf_result r)
{
    static const char *const names[] = { "none",     "neutral",   "pass",     "fail",
                                         "softfail", "temperror", "permerror" };
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

/* ---- the end ---- */

static void finish(struct spf *s, enum spf_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finish(struct spf *s, enum spf_result r, const char *fmt, ...)
{
    s->out.result = r;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->out.reason, sizeof s->out.reason, fmt, ap);
    va_end(ap);
    s->done = true;
}

void spf_give_up(struct spf *s, const char *reason)
{
    if (s->done)
        return;
    if (s->exp != EXP_NONE)      /* fail is known; only its explanation is missing */
        s->done = true;
    else
        finish(s, SPF_RESULT_TEMPERROR, "%s", reason);
}

/* ---- names ---- */

/* A name made of labels of 1-63 bytes, 253 at most (a final dot allowed); with strict, also
 * of two labels or more of letters, digits, '-' and '_' (the domain a check starts from). */
static bool name_ok(const char *name, bool strict)
{
    size_t len = strlen(name), label = 0, labels = 0;
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            labels++;
        } else if (++label > 63 || (strict && !isalnum(c) && c != '-' && c != '_'))
            return false;
    }
    return label > 0 && (!strict || labels >= 1);
}

/* Whether name is domain or under it (without case, final dots ignored). */
static bool name_in(const char *name, const char *domain)
{
    size_t n = strlen(name), d = strlen(domain);
    if (n && name[n - 1] == '.')
        n--;
    if (d && domain[d - 1] == '.')
        d--;
    if (d == 0 || n < d || strncasecmp(name + n - d, domain, d) != 0)
        return false;
    return n == d || name[n - d - 1] == '.';
}

/* Asks for name, which is in presentation format already (from a record). */
static void want(struct spf *s, enum wait w, const char *name, int type)
{
    snprintf(s->want, sizeof s->want, "%s", name);
    s->want_type = type;
    s->waiting = w;
}

/* Asks for a name from a macro expansion: its bytes written in presentation format. */
static void want_raw(struct spf *s, enum wait w, const char *name, int type)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && n + 5 < sizeof s->want;
         p++) {
        if (*p == '\\')
            n += (size_t)snprintf(s->want + n, sizeof s->want - n, "\\\\");
        else if (*p < 0x21 || *p > 0x7e)
            n += (size_t)snprintf(s->want + n, sizeof s->want - n, "\\%03u", *p);
        else
            s->want[n++] = (char)*p;
    }
    s->want[n] = '\0';
    s->want_type = type;
    s->waiting = w;
}

static int addr_type(const struct spf *s)
{
    return s->family == AF_INET ? TYPE_A : TYPE_AAAA;
}

/* Whether addr (alen bytes) is the client's address within bits. */
static bool in_network(const struct spf *s, const uint8_t *net, size_t alen, int bits)
{
    if (alen != (s->family == AF_INET ? 4u : 16u))
        return false;
    for (int i = 0; i < bits; i++) {
        int byte = i / 8, bit = 7 - i % 8;
        if (((net[byte] >> bit) & 1) != ((s->addr[byte] >> bit) & 1))
            return false;
    }
    return true;
}

static bool any_in_network(const struct spf *s, const struct dns_records *r, int bits)
{
    for (size_t i = 0; r->rc == DNS_RC_OK && i < r->nrecords; i++)
        if (in_network(s, r->records[i].addr, r->records[i].addrlen, bits))
            return true;
    return false;
}

/* ---- the client's validated names (5.5, %{p}) ---- */

enum ready { READY, NEED };

/* Validates, in order, the PTR names under domain (or, with others, those not under it) until
 * one is valid; READY with that name's index in *found (-1: none), or NEED (a look-up). */
static enum ready find_valid_name(struct spf *s, const char *domain, bool others, int *found)
{
    *found = -1;
    if (s->ptr == PTR_UNASKED) {
        want(s, W_PTR, s->revname, TYPE_PTR);
        return NEED;
    }
    for (size_t i = 0; s->ptr == PTR_OK && i < s->nptr; i++) {
        if (name_in(s->ptr_names[i], domain) == others)
            continue;
        if (s->ptr_valid[i] < 0) {
            s->validating = i;
            want(s, W_VALIDATE, s->ptr_names[i], addr_type(s));
            return NEED;
        }
        if (s->ptr_valid[i] == 1) {
            *found = (int)i;
            return READY;
        }
    }
    return READY;
}

/* The value of %{p} for domain in s->p: a validated name under domain, else any validated
 * name, else "unknown". */
static enum ready resolve_p(struct spf *s, const char *domain)
{
    int found;
    if (find_valid_name(s, domain, false, &found) == NEED)
        return NEED;
    if (found < 0 && find_valid_name(s, domain, true, &found) == NEED)
        return NEED;
    snprintf(s->p, sizeof s->p, "%s", found >= 0 ? s->ptr_names[found] : "unknown");
    return READY;
}

/* ---- macros ---- */

static struct spf_macro_values values(const struct spf *s, const char *domain)
{
    return (struct spf_macro_values){
        .s = s->sender, .l = s->local, .o = s->sender_domain, .d = domain, .i = s->ip_dotted,
        .p = s->p, .v = s->family == AF_INET ? "in-addr" : "ip6", .h = s->helo,
        .c = s->ip_readable, .r = s->receiver, .t = s->now,
    };
}

/* Expands a domain-spec of rec for domain into s->target (READY), setting target_ok; NEED
 * when %{p} needs a look-up first. */
static enum ready expand_target(struct spf *s, const struct spf_record *rec,
                                struct spf_span spec, const char *domain)
{
    const char *text = rec->text + spec.off;
    if (spf_macro_uses_p(text, spec.len) && resolve_p(s, domain) == NEED)
        return NEED;
    char err[ERR_TEXT_MAX];
    struct spf_macro_values v = values(s, domain);
    s->target_ok = spf_macro_expand(text, spec.len, SPF_MACRO_DOMAIN, &v, s->target,
                                    sizeof s->target, err, sizeof err) == 0;
    if (s->target_ok) {
        spf_macro_fit_name(s->target);
        s->target_ok = name_ok(s->target, false);
    }
    return READY;
}

/* ---- frames ---- */

static struct frame *top(struct spf *s)
{
    return &s->frames[s->depth - 1];
}

static void enter(struct spf *s, struct frame *f, const char *domain, bool include)
{
    snprintf(f->domain, sizeof f->domain, "%s", domain);
    size_t len = strlen(f->domain);
    if (len > 1 && f->domain[len - 1] == '.')
        f->domain[len - 1] = '\0';
    free(f->rec);
    f->rec = NULL;
    f->pos = 0;
    f->include = include;
    f->redirected = false;
    s->stage = S_ENTER;
}

static void push(struct spf *s, const char *domain)
{
    struct frame *f = &s->frames[s->depth++];
    f->rec = NULL;
    enter(s, f, domain, true);
}

static void term_text(const struct frame *f, size_t i, char *out, size_t size)
{
    const struct spf_directive *d = &f->rec->directives[i];
    snprintf(out, size, "%.*s", (int)d->term.len, f->rec->text + d->term.off);
}

/* A frame's check_host() ended with r: the whole check's result (the top frame, via exp for
 * fail), or the include directive's match in the frame below. */
static void frame_result(struct spf *s, enum spf_result r, const char *why)
{
    struct frame *f = top(s);
    if (!f->include) {
        if (r == SPF_RESULT_FAIL && f->rec && f->rec->has_exp) {
            s->out.result = r;
            snprintf(s->out.reason, sizeof s->out.reason, "%s", why);
            s->exp = EXP_DOMAIN;
            return;
        }
        finish(s, r, "%s", why);
        return;
    }
    char domain[HOST_MAX];
    snprintf(domain, sizeof domain, "%s", f->domain);
    free(f->rec);
    f->rec = NULL;
    s->depth--;
    switch (r) {
    case SPF_RESULT_PASS:
    case SPF_RESULT_FAIL:
    case SPF_RESULT_SOFTFAIL:
    case SPF_RESULT_NEUTRAL:
        s->match = r == SPF_RESULT_PASS;
        s->stage = S_DECIDED;
        break;
    case SPF_RESULT_TEMPERROR:
        finish(s, r, "%s", why);
        break;
    default:
        finish(s, SPF_RESULT_PERMERROR, "include:%s: %s", domain,
               r == SPF_RESULT_NONE ? "no SPF record" : why);
    }
}

static enum spf_result qualified(char q)
{
    return q == '-' ? SPF_RESULT_FAIL
           : q == '~' ? SPF_RESULT_SOFTFAIL
           : q == '?' ? SPF_RESULT_NEUTRAL
                      : SPF_RESULT_PASS;
}

static bool count_term(struct spf *s)
{
    if (++s->dns_terms <= SPF_DNS_TERMS_MAX)
        return true;
    finish(s, SPF_RESULT_PERMERROR, "more than %d DNS-querying mechanisms and redirects",
           SPF_DNS_TERMS_MAX);
    return false;
}

/* A look-up of a mechanism answered NXDOMAIN or nothing: false after the limit (permerror). */
static bool count_void(struct spf *s)
{
    if (++s->voids <= SPF_VOID_MAX)
        return true;
    finish(s, SPF_RESULT_PERMERROR, "more than %d void DNS look-ups", SPF_VOID_MAX);
    return false;
}

/* ---- one directive ---- */

/* Moves the directive at f->pos on; NEED when it waits for a look-up. */
static enum ready directive_step(struct spf *s, struct frame *f)
{
    const struct spf_directive *d = &f->rec->directives[f->pos];
    enum spf_mechanism m = d->mechanism;
    bool dns = m == SPF_INCLUDE || m == SPF_A || m == SPF_MX || m == SPF_PTR || m == SPF_EXISTS;
    switch (s->stage) {
    case S_ENTER:
        if (dns && !count_term(s))
            return READY;
        s->stage = S_TARGET;
        /* fall through */
    case S_TARGET:
        if (dns) {
            if (d->has_domain) {
                if (expand_target(s, f->rec, d->domain, f->domain) == NEED)
                    return NEED;
            } else {
                snprintf(s->target, sizeof s->target, "%s", f->domain);
                s->target_ok = true;
            }
        }
        s->stage = S_LOOKUP;
        /* fall through */
    case S_LOOKUP:
        s->match = false;
        s->stage = S_WAIT;
        switch (m) {
        case SPF_ALL:
            s->match = true;
            break;
        case SPF_IP4:
            s->match = s->family == AF_INET && in_network(s, d->addr, 4, d->cidr4);
            break;
        case SPF_IP6:
            s->match = s->family == AF_INET6 && in_network(s, d->addr, 16, d->cidr6);
            break;
        case SPF_A:
        case SPF_MX:
        case SPF_EXISTS:
            if (!s->target_ok)
                break;
            want_raw(s, W_MECH, s->target,
                     m == SPF_MX ? TYPE_MX : m == SPF_EXISTS ? TYPE_A : addr_type(s));
            return NEED;
        case SPF_PTR:
            if (s->ptr == PTR_UNASKED) {
                s->stage = S_LOOKUP;
                want(s, W_PTR, s->revname, TYPE_PTR);
                return NEED;
            }
            if (s->ptr == PTR_VOID && !count_void(s))
                return READY;
            s->stage = S_PTR;
            return READY;
        case SPF_INCLUDE:
            if (!s->target_ok) {
                finish(s, SPF_RESULT_PERMERROR, "include of an invalid domain");
                return READY;
            }
            push(s, s->target);
            return READY;
        }
        s->stage = S_DECIDED;
        return READY;
    case S_PTR: {
        int found = -1;
        if (s->target_ok && find_valid_name(s, s->target, false, &found) == NEED)
            return NEED;
        s->match = found >= 0;
        s->stage = S_DECIDED;
        return READY;
    }
    case S_MX:
        while (s->mx_next < s->nmx && s->mx[s->mx_next][0] == '\0')
            s->mx_next++;   /* a null MX names no host */
        if (s->mx_next == s->nmx) {
            s->stage = S_DECIDED;
            return READY;
        }
        want(s, W_MX_HOST, s->mx[s->mx_next], addr_type(s));
        return NEED;
    case S_WAIT:
    case S_DECIDED:
        break;
    }
    return READY;
}

/* The answer to a directive's own look-up (a, mx, exists). */
static void directive_answer(struct spf *s, const struct dns_records *r)
{
    struct frame *f = top(s);
    const struct spf_directive *d = &f->rec->directives[f->pos];
    if (r->rc == DNS_RC_TEMP) {
        finish(s, SPF_RESULT_TEMPERROR, "DNS failure looking up %s", s->want);
        return;
    }
    if (r->rc != DNS_RC_OK) {
        if (count_void(s))
            s->stage = S_DECIDED;
        return;
    }
    switch (d->mechanism) {
    case SPF_A:
        s->match = any_in_network(s, r, s->family == AF_INET ? d->cidr4 : d->cidr6);
        s->stage = S_DECIDED;
        break;
    case SPF_EXISTS:
        s->match = true;
        s->stage = S_DECIDED;
        break;
    case SPF_MX:
        if (r->count > SPF_MX_NAMES_MAX) {
            finish(s, SPF_RESULT_PERMERROR, "more than %d MX names for %s", SPF_MX_NAMES_MAX,
                   s->target);
            return;
        }
        s->nmx = r->nrecords;
        s->mx_next = 0;
        for (size_t i = 0; i < r->nrecords; i++)
            snprintf(s->mx[i], sizeof s->mx[i], "%s", r->records[i].host);
        s->stage = S_MX;
        break;
    default:
        s->stage = S_DECIDED;
    }
}

static void mx_host_answer(struct spf *s, const struct dns_records *r)
{
    const struct spf_directive *d = &top(s)->rec->directives[top(s)->pos];
    if (r->rc == DNS_RC_TEMP) {
        finish(s, SPF_RESULT_TEMPERROR, "DNS failure looking up %s", s->want);
        return;
    }
    if (any_in_network(s, r, s->family == AF_INET ? d->cidr4 : d->cidr6)) {
        s->match = true;
        s->stage = S_DECIDED;
        return;
    }
    s->mx_next++;
}

/* ---- records ---- */

static void record_answer(struct spf *s, const struct dns_records *r)
{
    struct frame *f = top(s);
    if (r->rc == DNS_RC_TEMP) {
        finish(s, SPF_RESULT_TEMPERROR, "DNS failure looking up the SPF record of %s",
               f->domain);
        return;
    }
    const struct dns_record *found = NULL;
    for (size_t i = 0; r->rc == DNS_RC_OK && i < r->nrecords; i++) {
        if (!spf_record_is_spf1(r->records[i].text, r->records[i].textlen))
            continue;
        if (found) {
            finish(s, SPF_RESULT_PERMERROR, "more than one SPF record for %s", f->domain);
            return;
        }
        found = &r->records[i];
    }
    if (found == NULL) {
        char why[SPF_REASON_MAX];
        snprintf(why, sizeof why, "no SPF record for %s", f->domain);
        if (f->redirected && !f->include)
            finish(s, SPF_RESULT_PERMERROR, "redirect=%s: no SPF record", f->domain);
        else
            frame_result(s, SPF_RESULT_NONE, why);
        return;
    }
    char err[ERR_TEXT_MAX];
    f->rec = xmalloc(sizeof *f->rec);
    if (found->cut)
        snprintf(err, sizeof err, "record longer than %d bytes", DNS_TXT_MAX);
    if (found->cut ||
        spf_record_parse(found->text, found->textlen, f->rec, err, sizeof err) != 0)
        finish(s, SPF_RESULT_PERMERROR, "SPF record of %s: %s", f->domain, err);
    s->stage = S_ENTER;
}

/* The frame's directives are done without a match: redirect= (counted at S_ENTER, then
 * expanded), or neutral. NEED when the expansion waits for %{p}. */
static enum ready frame_end(struct spf *s, struct frame *f)
{
    if (!f->rec->has_redirect) {
        char why[SPF_REASON_MAX];
        snprintf(why, sizeof why, "no mechanism matched in the record of %s (neutral)",
                 f->domain);
        frame_result(s, SPF_RESULT_NEUTRAL, why);
        return READY;
    }
    if (s->stage == S_ENTER) {
        if (!count_term(s))
            return READY;
        s->stage = S_TARGET;
    }
    if (expand_target(s, f->rec, f->rec->redirect, f->domain) == NEED)
        return NEED;
    if (!s->target_ok) {
        finish(s, SPF_RESULT_PERMERROR, "redirect to an invalid domain");
        return READY;
    }
    enter(s, f, s->target, f->include);   /* target_ok: it fits */
    f->redirected = true;
    return READY;
}

/* ---- the client's PTR names ---- */

static void ptr_answer(struct spf *s, const struct dns_records *r)
{
    s->ptr = r->rc == DNS_RC_TEMP ? PTR_FAILED : r->rc == DNS_RC_OK ? PTR_OK : PTR_VOID;
    s->nptr = 0;
    for (size_t i = 0; r->rc == DNS_RC_OK && i < r->nrecords && s->nptr < SPF_PTR_NAMES_MAX;
         i++) {
        snprintf(s->ptr_names[s->nptr], HOST_MAX, "%s", r->records[i].host);
        s->ptr_valid[s->nptr++] = -1;
    }
}

static void validate_answer(struct spf *s, const struct dns_records *r)
{
    /* a failed look-up skips the name (5.5) */
    s->ptr_valid[s->validating] = any_in_network(s, r, s->family == AF_INET ? 32 : 128);
}

/* ---- the explanation (6.2) ---- */

static void exp_step(struct spf *s)
{
    struct frame *f = top(s);
    if (s->exp == EXP_DOMAIN) {
        if (expand_target(s, f->rec, f->rec->exp, f->domain) == NEED)
            return;
        if (!s->target_ok) {
            s->done = true;
            return;
        }
        s->exp = EXP_FETCH;
        want_raw(s, W_EXP, s->target, TYPE_TXT);
        return;
    }
    if (s->exp == EXP_TEXT) {
        if (spf_macro_uses_p(s->exp_text, s->exp_len) && resolve_p(s, f->domain) == NEED)
            return;
        char err[ERR_TEXT_MAX];
        struct spf_macro_values v = values(s, f->domain);
        if (spf_macro_expand(s->exp_text, s->exp_len, SPF_MACRO_EXPLANATION, &v,
                             s->out.explanation, sizeof s->out.explanation, err,
                             sizeof err) != 0)
            s->out.explanation[0] = '\0';   /* a malformed text: as if there were no exp= */
        s->done = true;
    }
}

static void exp_answer(struct spf *s, const struct dns_records *r)
{
    /* anything but exactly one record: as if there were no exp= (void look-ups not counted) */
    if (r->rc != DNS_RC_OK || r->count != 1 || r->nrecords != 1 || r->records[0].cut) {
        s->done = true;
        return;
    }
    s->exp_len = r->records[0].textlen;
    memcpy(s->exp_text, r->records[0].text, s->exp_len);
    s->exp_text[s->exp_len] = '\0';
    s->exp = EXP_TEXT;
}

/* ---- the machine ---- */

static void matched(struct spf *s, struct frame *f)
{
    char term[SPF_REASON_MAX / 2], why[SPF_REASON_MAX];
    term_text(f, f->pos, term, sizeof term);
    snprintf(why, sizeof why, "matched '%s' in the record of %.200s", term, f->domain);
    frame_result(s, qualified(f->rec->directives[f->pos].qualifier), why);
}

enum spf_step spf_next(struct spf *s, const char **name, int *rrtype)
{
    while (!s->done) {
        if (s->waiting != W_NONE) {
            *name = s->want;
            *rrtype = s->want_type;
            return SPF_STEP_LOOKUP;
        }
        struct frame *f = top(s);
        if (s->exp != EXP_NONE)
            exp_step(s);
        else if (f->rec == NULL)
            want_raw(s, W_RECORD, f->domain, TYPE_TXT);
        else if (f->pos == f->rec->ndirectives)
            frame_end(s, f);
        else if (s->stage != S_DECIDED)
            directive_step(s, f);
        else if (s->match)
            matched(s, f);
        else {
            f->pos++;
            s->stage = S_ENTER;
        }
    }
    return SPF_STEP_DONE;
}

void spf_answer(struct spf *s, const struct dns_records *r)
{
    enum wait w = s->waiting;
    s->waiting = W_NONE;
    if (s->done)
        return;
    switch (w) {
    case W_RECORD: record_answer(s, r); break;
    case W_MECH: directive_answer(s, r); break;
    case W_MX_HOST: mx_host_answer(s, r); break;
    case W_PTR: ptr_answer(s, r); break;
    case W_VALIDATE: validate_answer(s, r); break;
    case W_EXP: exp_answer(s, r); break;
    case W_NONE: break;
    }
}

const struct spf_outcome *spf_outcome(const struct spf *s)
{
    return &s->out;
}

/* ---- a new check ---- */

/* i, c and the reverse name of the address (7.3: IPv6 as 32 dotted nibbles). */
static void address_forms(struct spf *s)
{
    static const char hex[] = "0123456789ABCDEF";
    inet_ntop(s->family, s->addr, s->ip_readable, sizeof s->ip_readable);
    if (s->family == AF_INET) {
        snprintf(s->ip_dotted, sizeof s->ip_dotted, "%s", s->ip_readable);
        snprintf(s->revname, sizeof s->revname, "%u.%u.%u.%u.in-addr.arpa", s->addr[3],
                 s->addr[2], s->addr[1], s->addr[0]);
        return;
    }
    size_t n = 0, m = 0;
    for (int i = 0; i < 16; i++) {
        s->ip_dotted[n++] = hex[s->addr[i] >> 4];
        s->ip_dotted[n++] = '.';
        s->ip_dotted[n++] = hex[s->addr[i] & 15];
        s->ip_dotted[n++] = '.';
    }
    s->ip_dotted[n - 1] = '\0';
    for (int i = 15; i >= 0; i--) {
        s->revname[m++] = (char)tolower((unsigned char)hex[s->addr[i] & 15]);
        s->revname[m++] = '.';
        s->revname[m++] = (char)tolower((unsigned char)hex[s->addr[i] >> 4]);
        s->revname[m++] = '.';
    }
    snprintf(s->revname + m, sizeof s->revname - m, "ip6.arpa");
}

static int parse_address(struct spf *s, const char *ip)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (inet_pton(AF_INET, ip, s->addr) == 1) {
        s->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, ip, s->addr) != 1)
        return -1;
    s->family = AF_INET6;
    if (memcmp(s->addr, mapped, sizeof mapped) == 0) {   /* IPv4-mapped: IPv4 (5 note) */
        memmove(s->addr, s->addr + 12, 4);
        s->family = AF_INET;
    }
    return 0;
}

struct spf *spf_new(const struct spf_request *req, char *err, size_t errlen)
{
    const char *from = req->mail_from ? req->mail_from : "";
    const char *helo = req->helo ? req->helo : "";
    const char *receiver = req->receiver && *req->receiver ? req->receiver : "unknown";
    if (strlen(from) >= SPF_SENDER_MAX || strlen(helo) >= SPF_SENDER_MAX ||
        strlen(receiver) >= SPF_SENDER_MAX) {
        snprintf(err, errlen, "SPF: sender, HELO name or receiver longer than %d characters",
                 SPF_SENDER_MAX - 1);
        return NULL;
    }
    struct spf *s = xmalloc(sizeof *s);
    memset(s, 0, offsetof(struct spf, target));
    s->target[0] = s->exp_text[0] = '\0';
    if (req->ip == NULL || parse_address(s, req->ip) != 0) {
        snprintf(err, errlen, "SPF: not an IP address: %s", req->ip ? req->ip : "(none)");
        free(s);
        return NULL;
    }
    address_forms(s);
    snprintf(s->now, sizeof s->now, "%lld", req->now);
    snprintf(s->helo, sizeof s->helo, "%s", helo);
    snprintf(s->receiver, sizeof s->receiver, "%s", receiver);
    snprintf(s->p, sizeof s->p, "unknown");
    const char *at = strrchr(from, '@');
    if (*from == '\0') {
        snprintf(s->local, sizeof s->local, "postmaster");
        snprintf(s->sender_domain, sizeof s->sender_domain, "%s", helo);
    } else if (at == NULL) {
        snprintf(s->local, sizeof s->local, "postmaster");
        snprintf(s->sender_domain, sizeof s->sender_domain, "%s", from);
    } else {
        snprintf(s->local, sizeof s->local, "%.*s", (int)(at - from), from);
        if (s->local[0] == '\0')
            snprintf(s->local, sizeof s->local, "postmaster");
        snprintf(s->sender_domain, sizeof s->sender_domain, "%s", at + 1);
    }
    snprintf(s->sender, sizeof s->sender, "%.*s@%.*s", SPF_SENDER_MAX / 2 - 1, s->local,
             SPF_SENDER_MAX / 2 - 1, s->sender_domain);
    snprintf(s->out.domain, sizeof s->out.domain, "%s", s->sender_domain);
    s->out.result = SPF_RESULT_TEMPERROR;
    snprintf(s->out.reason, sizeof s->out.reason, "not finished");
    s->depth = 1;
    enter(s, &s->frames[0], s->sender_domain, false);
    if (!name_ok(s->sender_domain, true))
        finish(s, SPF_RESULT_NONE, "no valid domain to check ('%.200s')", s->sender_domain);
    return s;
}

void spf_free(struct spf *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < DEPTH_MAX; i++)
        free(s->frames[i].rec);
    free(s);
}
