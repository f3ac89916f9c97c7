/* spf_check.c: runs the SPF state machine (spf.c) over dns_lookup: each look-up it asks for is
 * started from the loop and its answer fed back, one at a time (the order of the record's
 * terms matters); a dns_job gives the caller one handle and one deadline for all of them. */
#include <stdio.h>
#include <stdlib.h>
#include "errtext.h"
#include "mem.h"
#include "spf_check.h"

struct spf_run {
    struct dns *d;
    struct spf *spf;                 /* NULL when the request was refused (refused says why) */
    struct spf_outcome refused;
    struct dns_req *job;             /* the caller's handle */
    struct dns_req *lookup;          /* the look-up running, or NULL */
    int timeout_ms;
    void (*cb)(void *arg, const struct spf_outcome *o);
    void *arg;
};

static void run_deliver(void *arg)
{
    struct spf_run *r = arg;
    r->cb(r->arg, r->spf ? spf_outcome(r->spf) : &r->refused);
}

static void run_free(struct spf_run *r)
{
    spf_free(r->spf);
    free(r);
}

static void run_end(struct spf_run *r)
{
    dns_job_end(r->job, run_deliver, r);
    run_free(r);
}

static void on_answer(void *arg, const struct dns_records *rec);

/* Starts the next look-up, or ends the check. */
static void run_advance(struct spf_run *r)
{
    const char *name;
    int type;
    if (r->spf == NULL || spf_next(r->spf, &name, &type) == SPF_STEP_DONE) {
        run_end(r);
        return;
    }
    r->lookup = dns_lookup(r->d, name, type, r->timeout_ms, on_answer, r);
}

static void on_answer(void *arg, const struct dns_records *rec)
{
    struct spf_run *r = arg;
    r->lookup = NULL;   /* it ends when this returns */
    spf_answer(r->spf, rec);
    run_advance(r);
}

static void on_event(void *arg, bool timeout)
{
    struct spf_run *r = arg;
    if (!timeout) {
        run_advance(r);
        return;
    }
    dns_cancel(r->lookup);
    r->lookup = NULL;
    char why[128];
    snprintf(why, sizeof why, "SPF check not done within %d ms", r->timeout_ms);
    if (r->spf)
        spf_give_up(r->spf, why);
    run_end(r);
}

static void on_cancel(void *arg)
{
    struct spf_run *r = arg;
    dns_cancel(r->lookup);
    run_free(r);
}

struct dns_req *spf_check(struct dns *d, const struct spf_request *in, int timeout_ms,
                          void (*cb)(void *arg, const struct spf_outcome *o), void *arg)
{
    struct spf_run *r = xcalloc(1, sizeof *r);
    r->d = d;
    r->timeout_ms = timeout_ms;
    r->cb = cb;
    r->arg = arg;
    r->spf = spf_new(in, r->refused.reason, sizeof r->refused.reason);
    r->refused.result = SPF_RESULT_NONE;
    r->job = dns_job(d, timeout_ms, on_event, on_cancel, r);
    dns_job_wake(r->job);
    return r->job;
}
