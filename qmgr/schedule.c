/* schedule.c: destinations (transport + next hop) with their job queues and concurrency
 * windows, and the transports (one private/<name> socket each) with their process limits.
 * For local with local_destination_recipient_limit = 1 each recipient is a destination of its
 * own, as in Postfix, limited by local_destination_concurrency_limit: a flood for one mailbox
 * takes few agents and holds up no other mailbox. A window starts at
 * initial_destination_concurrency, grows by 1/window per delivery that went through (slow
 * start) up to the limit (default_destination_concurrency_limit), shrinks by one per failed
 * one; when a whole window's worth of deliveries in a row found the destination dead, it is
 * declared dead until minimal_backoff_time has passed: its queued mail is deferred at once
 * instead of hammering it. Destinations are served round-robin, jobs of one destination in
 * the order their messages arrived. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ipc_proto.h"
#include "log.h"
#include "mem.h"
#include "qmgr.h"

#define DEST_BUCKETS 4096

struct qtransport {
    char name[64];
    char socket[80];
    long long active;
    TAILQ_HEAD(, qdest) ready;   /* destinations with queued jobs */
    struct qtransport *next;
};

struct qdest {
    char *key;                   /* transport:nexthop */
    char nexthop[512];
    struct qtransport *tr;
    struct qjob_list jobs;
    long long active;
    double window;
    double limit;                /* the most the window grows to */
    long long failures;          /* deliveries in a row that found it dead */
    double dead_until;
    char dead_dsn[16];
    char dead_reason[STATUSLOG_TEXT_MAX];
    bool in_ready;
    TAILQ_ENTRY(qdest) ready_link;
    struct qdest *hnext;
};

static struct qdest *buckets[DEST_BUCKETS];
static struct qtransport *transports;

void schedule_init(void)
{
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % DEST_BUCKETS;
}

static bool valid_transport(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '-' || name[i] == '_'))
            return false;
    return true;
}

static struct qtransport *transport_get(const char *name)
{
    for (struct qtransport *t = transports; t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return t;
    struct qtransport *t = xcalloc(1, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->socket, sizeof t->socket, "private/%s", name);
    TAILQ_INIT(&t->ready);
    t->next = transports;
    transports = t;
    return t;
}

static bool is_local(const struct resolved *to)
{
    return strcmp(to->transport, "local") == 0;
}

/* The destination of a recipient: transport:nexthop, or for local one recipient at a time,
 * local:nexthop:address. */
static struct qdest *dest_get(const struct resolved *to, const char *address)
{
    bool per_rcpt = is_local(to) && qmgr_conf.local_recipient_limit == 1;
    char key[sizeof to->transport + sizeof to->nexthop + DELIVERY_ADDR_MAX + 3];
    snprintf(key, sizeof key, "%s:%s%s%s", to->transport, to->nexthop, per_rcpt ? ":" : "",
             per_rcpt ? address : "");
    unsigned h = hash(key);
    for (struct qdest *d = buckets[h]; d; d = d->hnext)
        if (strcmp(d->key, key) == 0)
            return d;
    struct qdest *d = xcalloc(1, sizeof *d);
    d->key = xstrdup(key);
    snprintf(d->nexthop, sizeof d->nexthop, "%s", to->nexthop);
    d->tr = transport_get(to->transport);
    TAILQ_INIT(&d->jobs);
    d->limit = (double)(is_local(to) ? qmgr_conf.local_concurrency_limit
                                     : qmgr_conf.concurrency_limit);
    d->window = (double)qmgr_conf.initial_concurrency;
    if (d->window > d->limit)
        d->window = d->limit;
    d->hnext = buckets[h];
    buckets[h] = d;
    return d;
}

static void dest_free_if_idle(struct qdest *d)
{
    if (d->active || !TAILQ_EMPTY(&d->jobs) || d->dead_until > qmgr_now())
        return;
    if (d->in_ready)
        TAILQ_REMOVE(&d->tr->ready, d, ready_link);
    struct qdest **pp = &buckets[hash(d->key)];
    while (*pp != d)
        pp = &(*pp)->hnext;
    *pp = d->hnext;
    free(d->key);
    free(d);
}

static void make_ready(struct qdest *d)
{
    if (!d->in_ready) {
        TAILQ_INSERT_TAIL(&d->tr->ready, d, ready_link);
        d->in_ready = true;
    }
}

void schedule_add(struct qmsg *m, size_t i, const struct resolved *to)
{
    if (!valid_transport(to->transport)) {
        char why[128];
        snprintf(why, sizeof why, "bad transport name in transport_maps: %.64s", to->transport);
        message_rcpt_deferred(m, i, "4.3.5", why, "none");
        return;
    }
    struct qdest *d = dest_get(to, m->rcpt[i].address);
    /* local delivers one recipient per request, as Postfix's local does: each gets its own
     * Delivered-To:, and one slow mailbox or command holds up nobody else */
    size_t limit = (size_t)(is_local(to) ? qmgr_conf.local_recipient_limit
                                         : qmgr_conf.recipient_limit);
    struct qjob *last = TAILQ_LAST(&d->jobs, qjob_list);
    if (last == NULL || last->msg != m || last->n >= limit) {
        last = xcalloc(1, sizeof *last);
        last->msg = m;
        last->dest = d;
        last->idx = xcalloc(limit, sizeof *last->idx);
        TAILQ_INSERT_TAIL(&d->jobs, last, link);
    }
    last->idx[last->n++] = i;
    m->rcpt[i].state = QR_QUEUED;
    m->unfinished++;
    make_ready(d);
}

void schedule_flush_message(struct qmsg *m)
{
    (void)m;   /* jobs are queued as they fill; nothing is dispatched before schedule_run */
}

static void job_free(struct qjob *job)
{
    free(job->idx);
    free(job);
}

static void feedback(struct qdest *d, bool dead, const struct delivery_reply *rep)
{
    if (!dead) {
        d->failures = 0;
        if (d->window < d->limit)
            d->window += 1.0 / d->window;
        return;
    }
    d->failures++;
    if (d->window > 1)
        d->window -= 1;
    if ((double)d->failures >= d->window && d->dead_until <= qmgr_now()) {
        d->dead_until = qmgr_now() + (double)qmgr_conf.min_backoff;
        const struct delivery_result *x = rep && rep->nresult ? &rep->result[0] : NULL;
        snprintf(d->dead_dsn, sizeof d->dead_dsn, "%s", x ? x->dsn : "4.3.0");
        snprintf(d->dead_reason, sizeof d->dead_reason, "%s",
                 x ? x->text : "mail transport unavailable");
        log_warn("%s: destination is not reachable; its mail waits %llds: %s", d->key,
                 qmgr_conf.min_backoff, d->dead_reason);
        d->window = (double)qmgr_conf.initial_concurrency < d->limit
                        ? (double)qmgr_conf.initial_concurrency : d->limit;
        d->failures = 0;
    }
}

static void on_job_done(void *arg, const struct ipc_msg *reply, const char *error)
{
    struct qjob *job = arg;
    struct qdest *d = job->dest;
    d->active--;
    d->tr->active--;
    struct delivery_reply rep;
    char why[ERR_TEXT_MAX];   /* the decoder's reason replaces the call's error */
    snprintf(why, sizeof why, "%s", error ? error : "no reason");
    bool ok = false;
    if (reply && delivery_reply_decode(reply, job->n, &rep, why, sizeof why) == 0)
        ok = true;
    if (ok) {
        feedback(d, rep.dead, &rep);
        /* the agent waits (on its kept connection): its next job goes out before this one's
         * log lines, marks and removal are written */
        schedule_run();
        message_job_done(job, &rep, NULL, NULL);
        delivery_reply_free(&rep);
    } else {
        char reason[ERR_TEXT_MAX + 128];   /* why and what failed */
        bool unavailable = error && strncmp(error, "connect to", 10) == 0;
        if (unavailable)
            snprintf(reason, sizeof reason, "mail transport unavailable: %s", error);
        else
            snprintf(reason, sizeof reason, "delivery agent %s failed: %s", d->tr->name, why);
        if (!unavailable)
            log_warn("%s: %s", job->msg->id, reason);
        else if (d->dead_until <= qmgr_now()) {
            struct delivery_reply fake;
            delivery_reply_init(&fake, 1);
            delivery_result_set(&fake, 0, DELIVERY_DEFER, "4.3.0", "%s", reason);
            d->failures = (long long)d->window;   /* nothing there: dead at once */
            feedback(d, true, &fake);
            delivery_reply_free(&fake);
        }
        message_job_done(job, NULL, reason, "4.3.0");
    }
    job_free(job);
    dest_free_if_idle(d);
    schedule_run();
}

static void start_job(struct qjob *job)
{
    struct qdest *d = job->dest;
    struct qmsg *m = job->msg;
    struct delivery_request req;
    memset(&req, 0, sizeof req);
    snprintf(req.queue_id, sizeof req.queue_id, "%s", m->id);
    snprintf(req.nexthop, sizeof req.nexthop, "%s", d->nexthop);
    req.nrcpt = job->n;
    req.rcpt = xcalloc(job->n, sizeof *req.rcpt);
    for (size_t k = 0; k < job->n; k++) {
        const struct qrcpt *r = &m->rcpt[job->idx[k]];
        snprintf(req.rcpt[k].address, sizeof req.rcpt[k].address, "%s", r->address);
        snprintf(req.rcpt[k].orig, sizeof req.rcpt[k].orig, "%s", r->orig);
        req.rcpt[k].notify = r->notify;
    }
    struct ipc_msg msg;
    ipc_msg_init(&msg);
    delivery_request_encode(&req, &msg);
    free(req.rcpt);
    job->start = qmgr_now();
    d->active++;
    d->tr->active++;
    call_start(d->tr->socket, &msg, qmgr_conf.daemon_timeout, on_job_done, job);
    ipc_msg_free(&msg);
}

/* A dead destination's queued jobs are deferred without an attempt. */
static void defer_dead(struct qdest *d)
{
    char reason[STATUSLOG_TEXT_MAX + 64];
    snprintf(reason, sizeof reason, "delivery temporarily suspended: %s", d->dead_reason);
    struct qjob *job;
    while ((job = TAILQ_FIRST(&d->jobs)) != NULL) {
        TAILQ_REMOVE(&d->jobs, job, link);
        message_job_done(job, NULL, reason, d->dead_dsn[0] == '4' ? d->dead_dsn : "4.3.0");
        job_free(job);
    }
}

static bool is_dead(struct qdest *d)
{
    return d->dead_until > qmgr_now();
}

static bool running;

void schedule_run(void)
{
    if (running)
        return;   /* results recorded while starting jobs come back here */
    running = true;
    for (struct qtransport *t = transports; t; t = t->next) {
        bool progress = true;
        while (progress) {
            progress = false;
            struct qdest *d = TAILQ_FIRST(&t->ready);
            struct qdest *stop = NULL;
            while (d != NULL && d != stop) {
                struct qdest *next = TAILQ_NEXT(d, ready_link);
                if (is_dead(d) && !TAILQ_EMPTY(&d->jobs))
                    defer_dead(d);
                if (TAILQ_EMPTY(&d->jobs)) {
                    TAILQ_REMOVE(&t->ready, d, ready_link);
                    d->in_ready = false;
                    dest_free_if_idle(d);
                } else if (t->active < qmgr_conf.process_limit &&
                           (double)d->active < (d->window < 1 ? 1 : (long long)d->window)) {
                    struct qjob *job = TAILQ_FIRST(&d->jobs);
                    TAILQ_REMOVE(&d->jobs, job, link);
                    start_job(job);
                    progress = true;
                    /* round-robin: this destination goes behind the others */
                    TAILQ_REMOVE(&t->ready, d, ready_link);
                    TAILQ_INSERT_TAIL(&t->ready, d, ready_link);
                    if (stop == NULL)
                        stop = d;
                }
                d = next;
            }
        }
    }
    running = false;
}

void schedule_withdraw_message(struct qmsg *m)
{
    struct qjob_list taken;
    TAILQ_INIT(&taken);
    for (size_t b = 0; b < DEST_BUCKETS; b++) {
        for (struct qdest *d = buckets[b]; d; d = d->hnext) {
            struct qjob *job, *next;
            for (job = TAILQ_FIRST(&d->jobs); job; job = next) {
                next = TAILQ_NEXT(job, link);
                if (job->msg == m) {
                    TAILQ_REMOVE(&d->jobs, job, link);
                    TAILQ_INSERT_TAIL(&taken, job, link);
                }
            }
        }
    }
    /* the last one may finish and free m: nothing of m is touched after the loop */
    struct qjob *job;
    while ((job = TAILQ_FIRST(&taken)) != NULL) {
        TAILQ_REMOVE(&taken, job, link);
        message_job_withdrawn(job);
        job_free(job);
    }
}

void schedule_undead_all(void)
{
    for (size_t h = 0; h < DEST_BUCKETS; h++)
        for (struct qdest *d = buckets[h]; d; d = d->hnext) {
            d->dead_until = 0;
            d->failures = 0;
        }
}

void schedule_undead(const struct resolved *to)
{
    char key[sizeof to->transport + sizeof to->nexthop + 2];
    snprintf(key, sizeof key, "%s:%s", to->transport, to->nexthop);
    for (struct qdest *d = buckets[hash(key)]; d; d = d->hnext)
        if (strcmp(d->key, key) == 0) {
            if (d->dead_until > qmgr_now())
                log_info("%s: destination is tried again now (ternqueue)", d->key);
            d->dead_until = 0;
            d->failures = 0;
        }
}

void schedule_sweep(void)
{
    for (size_t h = 0; h < DEST_BUCKETS; h++) {
        struct qdest *d = buckets[h];
        while (d) {
            struct qdest *next = d->hnext;
            dest_free_if_idle(d);
            d = next;
        }
    }
}
