/* spf.h: SPF (RFC 7208): check_host() as a state machine that never does I/O. The caller
 * creates a check, asks spf_next what to look up, hands each answer to spf_answer, and reads
 * the outcome when spf_next says done (spf_check.h runs it over the resolver). */
#ifndef TERN_SPF_H
#define TERN_SPF_H
#include <stdbool.h>
#include <stddef.h>
#include "dns.h"

enum spf_result {
    SPF_RESULT_NONE, SPF_RESULT_NEUTRAL, SPF_RESULT_PASS, SPF_RESULT_FAIL,
    SPF_RESULT_SOFTFAIL, SPF_RESULT_TEMPERROR, SPF_RESULT_PERMERROR
};

#define SPF_DNS_TERMS_MAX 10      /* include, a, mx, ptr, exists, redirect of one check (4.6.4) */
#define SPF_VOID_MAX 2            /* look-ups answering NXDOMAIN or no records (4.6.4) */
#define SPF_MX_NAMES_MAX 10       /* MX names of one mx (more: permerror) */
#define SPF_PTR_NAMES_MAX 10      /* PTR names looked at (the rest ignored) */
#define SPF_NAME_MAX 1024         /* a name to look up, in presentation format */
#define SPF_SENDER_MAX 512        /* a MAIL FROM address or HELO name given to spf_new */
#define SPF_EXPLANATION_MAX 1024
#define SPF_REASON_MAX 512

/* What to check. ip: the client's address (IPv4, IPv6; an IPv4-mapped IPv6 address counts as
 * IPv4). mail_from: the MAIL FROM address without angle brackets, "" for the null sender
 * (then the HELO identity, postmaster@helo, is checked). helo: the HELO/EHLO name. receiver:
 * this host's name for %{r} (NULL or "": "unknown"). now: seconds since the epoch for %{t}. */
struct spf_request {
    const char *ip;
    const char *mail_from;
    const char *helo;
    const char *receiver;
    long long now;
};

/* result; explanation: for fail only, the exp= text of the domain expanded ("" when none or
 * when it could not be had: the caller then uses its own); reason: a short text for the log and
 * Authentication-Results (the matched mechanism, or why none or an error); domain: the domain
 * checked (the MAIL FROM domain or the HELO name; "" when there was none). */
struct spf_outcome {
    enum spf_result result;
    char explanation[SPF_EXPLANATION_MAX];
    char reason[SPF_REASON_MAX];
    char domain[SPF_SENDER_MAX];
};

enum spf_step { SPF_STEP_LOOKUP, SPF_STEP_DONE };

struct spf;
/* A check; NULL with the reason in err when the request is unusable (ip not an address, a
 * string too long). A sender domain that is not a valid multi-label name is no error: the
 * check is then done at once with none (4.3). */
struct spf *spf_new(const struct spf_request *req, char *err, size_t errlen);
void spf_free(struct spf *s);   /* NULL is fine */
/* What is next: SPF_STEP_LOOKUP with *name (valid until the next call) and *rrtype (A, AAAA,
 * MX, PTR or TXT) to look up, to be answered with spf_answer before spf_next is called again;
 * or SPF_STEP_DONE, when spf_outcome has the result. */
enum spf_step spf_next(struct spf *s, const char **name, int *rrtype);
/* The answer to the last look-up spf_next asked for (rc DNS_RC_TEMP for a failure or a time
 * limit). r need only be valid during the call. */
void spf_answer(struct spf *s, const struct dns_records *r);
/* The outcome (after SPF_STEP_DONE; before that it says temperror: what a caller that gives
 * up early, e.g. at a deadline, reports). */
const struct spf_outcome *spf_outcome(const struct spf *s);
/* Ends the check now with temperror and reason (the caller's deadline passed). */
void spf_give_up(struct spf *s, const char *reason);

/* "pass", "fail", ... as in Authentication-Results (RFC 8601) and Received-SPF. */
const char *spf_result_name(enum spf_result r);

#endif
