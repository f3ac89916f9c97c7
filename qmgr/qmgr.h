/* qmgr.h: the queue manager's internal model, shared by its files: messages in active/ with
 * their recipients (message.c), destinations and transports with their delivery windows and
 * the job queues (schedule.c), the queue scans (scan.c), asynchronous calls to the agents and the
 * bounce service (call.c), forwarded copies (forward.c), virtual alias expansion (valias.c),
 * SRS (srs.c) and ternqueue's requests (admin.c, flush.c). One process, one libevent loop:
 * nothing here needs a lock. */
#ifndef TERN_QMGR_H
#define TERN_QMGR_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <time.h>
#include "delivery_proto.h"
#include "ipc.h"
#include "qadmin.h"
#include "qfile.h"
#include "resolve.h"
#include "srs.h"

struct qdest;

enum qrcpt_state { QR_TODO, QR_QUEUED, QR_DONE, QR_DEFERRED };

struct qrcpt {
    char *address;
    char *orig;              /* the original address for orig_to, X-Original-To and the DSN: the
                              * ORCPT address when rfc822, else "" */
    unsigned notify;
    size_t offset;           /* of its R record, for qfile_mark_done */
    enum qrcpt_state state;
};

struct qmsg {
    char id[QFILE_ID_MAX];
    char *sender;
    double arrival;          /* seconds since the epoch */
    double active_time;      /* when it entered active/ */
    size_t size;             /* of the content */
    bool warned;             /* the delay notice went out (QFILE_MODE_WARNED) */
    bool valias_expanded;    /* its recipients came from virtual_alias_maps already */
    bool marks_unsynced;     /* done marks written since the last fsync of the queue file */
    bool bounce_logged;      /* bounce/<id>, trace/<id>, defer/<id> exist (looked at when */
    bool trace_logged;       /* the message is loaded, then kept up to date as qmgr writes */
    bool defer_logged;       /* and removes them: no access(2) per finished message) */
    size_t nrcpt;
    struct qrcpt *rcpt;
    size_t unfinished;       /* recipients queued or in flight */
    size_t deferred;         /* recipients deferred in this pass */
    int notice_step;         /* finishing: which notice is next (message.c) */
    bool notice_failed;      /* a notice could not be queued: keep the message */
    bool admin_set;          /* ternqueue asked for admin_op while it was in active/: */
    enum qadmin_op admin_op; /* done when it leaves active/ (delete, hold or requeue) */
    TAILQ_ENTRY(qmsg) link;
    struct qmsg *hnext;      /* in the table by queue ID */
};

struct qjob {
    struct qmsg *msg;
    struct qdest *dest;
    size_t n;
    size_t *idx;             /* indexes into msg->rcpt */
    double start;            /* when it was handed to the agent */
    TAILQ_ENTRY(qjob) link;
};
TAILQ_HEAD(qjob_list, qjob);

/* ---- qmgr.c: process-wide state and settings ---- */
struct qmgr_settings {
    long long active_limit, initial_concurrency, concurrency_limit, recipient_limit,
        local_recipient_limit, local_concurrency_limit;
    long long process_limit, min_backoff, max_backoff, queue_run_delay, lifetime,
        bounce_lifetime, delay_warning, daemon_timeout;
    char myhostname[256];
    char double_bounce[1024];    /* double_bounce_sender@myhostname */
};
extern struct qmgr_settings qmgr_conf;
struct resolver *qmgr_resolver(void);
double qmgr_now(void);

/* ---- scan.c ---- */
void scan_recover_active(void);          /* at start: active/ -> incoming/ */
void scan_request_incoming(void);        /* soon: take new files from incoming/ */
void scan_request_deferred(bool all);    /* soon: deferred files due now (all: every one) */
void scan_capacity_freed(void);          /* a message left active/: look again if we stopped */

/* ---- message.c ---- */
size_t message_active_count(void);
/* Loads active/<id> (already moved there) and queues its recipients. -1 when the file is
 * corrupt (it was moved to corrupt/) or could not be opened (left for a later scan). */
int message_load(const char *id);
/* A job's results (reply NULL: the call failed, reason says why): logs, status logs, marks. */
void message_job_done(struct qjob *job, const struct delivery_reply *reply, const char *reason,
                      const char *reason_dsn);
/* Recipient i of m was not sent to an agent: defer, bounce or finish it right here. */
void message_rcpt_deferred(struct qmsg *m, size_t i, const char *dsn, const char *reason,
                           const char *relay);
void message_rcpt_bounced(struct qmsg *m, size_t i, const char *dsn, const char *reason,
                          const char *relay);
void message_rcpt_sent(struct qmsg *m, size_t i, const char *dsn, const char *text,
                       const char *relay);
/* A queued job taken back unsent (the admin held, deleted or requeued its message). */
void message_job_withdrawn(struct qjob *job);
/* Called when a recipient left the schedule; finishes the message when none is left. */
void message_rcpt_finished(struct qmsg *m);
/* The message with this ID in active/, or NULL. */
struct qmsg *message_find(const char *id);
/* Every message in active/. */
void message_each(void (*fn)(struct qmsg *m, void *arg), void *arg);
/* Records op (delete, hold or requeue) for m: done when m leaves active/, instead of the move
 * to deferred/ (hold, requeue) or of the notices (delete). A delete is never replaced. */
void message_admin(struct qmsg *m, enum qadmin_op op);

/* ---- schedule.c ---- */
void schedule_init(void);
/* Queues recipient i of m for delivery by transport/nexthop (batched into jobs). */
void schedule_add(struct qmsg *m, size_t i, const struct resolved *to);
/* Closes the open jobs of m so that they can be dispatched. */
void schedule_flush_message(struct qmsg *m);
void schedule_run(void);                  /* start what the windows allow */
/* Takes every queued (not yet sent) job of m back (message_job_withdrawn); m may be freed. */
void schedule_withdraw_message(struct qmsg *m);
void schedule_undead_all(void);           /* tern flush: forget dead destinations */
void schedule_undead(const struct resolved *to);   /* ... the destination of to */
void schedule_sweep(void);                /* frees idle destinations whose dead time is over */

/* ---- admin.c: ternqueue -d, -h, -H, -r (qadmin.h) ---- */
/* Does the request (its type is op) and fills reply: status, count, missing, failed. */
void admin_request(enum qadmin_op op, const struct ipc_msg *req, struct ipc_msg *reply);

/* ---- flush.c: ternqueue -i and -s ---- */
/* Retry the message id now: 0 (also when it is in incoming/ or active/ already), or -1 with
 * err (not in the queue, or on hold). */
int flush_message(const char *id, char *err, size_t errlen);
/* Retry now every deferred message with a recipient still to deliver in site (a scan of
 * deferred/ in the background), and forget that site's destination was dead. 0, or -1 with
 * err when too many requests wait already. */
int flush_site(const char *site, char *err, size_t errlen);

/* ---- call.c: one asynchronous request/reply over a UNIX socket ---- */
typedef void (*call_done_fn)(void *arg, const struct ipc_msg *reply, const char *error);
/* Connects to path, sends req, waits up to timeout seconds for one reply; done gets the reply,
 * or NULL and an error text. done is always called later from the event loop, never inside. */
void call_start(const char *path, const struct ipc_msg *req, long long timeout, call_done_fn done,
                void *arg);

/* ---- forward.c ---- */
enum forward_kind {
    FORWARD_ALIAS,           /* an alias or .forward file (the local agent's reply) */
    FORWARD_VALIAS,          /* virtual_alias_maps: the copy is never expanded again (an alias
                              * that lists itself would loop) */
    FORWARD_SRS_REVERSE,     /* an SRS address of srs_domain turned back (srs.c) */
};
/* "ID" or "ID and ID": the copies one forwarding wrote */
#define FORWARD_IDS_MAX (2 * QFILE_ID_MAX + 8)
/* Writes a new queue file in incoming/ for addrs, with the envelope attributes and content of
 * m (prefixed with "Delivered-To: <delivered_to>" when not NULL), the NOTIFY of recipient i and
 * its original recipient as ORCPT. sender NULL keeps m's. With SRS on (srs_domain), an alias
 * or virtual alias copy for other domains (qsrs_remote) gets the sender rewritten (qsrs_forward):
 * when addrs mixes other domains and ours, two copies are written, the one for ours with the
 * sender unchanged. 0 with the new IDs, -1 with err (then no copy was committed, except when
 * the second of two commits failed). */
int forward_write(struct qmsg *m, size_t i, const char *sender, const char *delivered_to,
                  enum forward_kind kind, char *const *addrs, size_t naddrs,
                  char newids[FORWARD_IDS_MAX], char *err, size_t errlen);

/* ---- srs.c: the Sender Rewriting Scheme (mail/srs.h) ---- */
struct qsrs;
/* Reads srs_domain, the key (srs_key_file: run as root) and the domains tern delivers itself.
 * 0 with *out NULL when srs_domain is empty (SRS off), 0 with *out, or -1 with err. */
int qsrs_open(struct qsrs **out, char *err, size_t errlen);
void qsrs_close(struct qsrs *s);
struct qsrs *qmgr_srs(void);             /* qmgr.c's, NULL when SRS is off */
const char *qsrs_domain(const struct qsrs *s);
/* Whether address goes to another domain: 1; 0 for a domain tern delivers itself
 * (mydestination, virtual_alias_domains, virtual_mailbox_domains; relay_domains are others)
 * or a bare local part; -1 with err on a table error. */
int qsrs_remote(const struct qsrs *s, const char *address, char *err, size_t errlen);
/* srs_forward and srs_reverse with the key and srs_domain. */
enum srs_status qsrs_forward(const struct qsrs *s, const char *sender, time_t now, char *out,
                             size_t size);
enum srs_status qsrs_reverse(const struct qsrs *s, const char *recipient, time_t now,
                             char *out, size_t size);

/* ---- valias.c ---- */
struct valias;
struct valias *valias_open(char *err, size_t errlen);
void valias_close(struct valias *v);
/* Expands address through virtual_alias_maps (user+ext@domain, user@domain, then @domain, the
 * local part unquoted: mail/address.h; recursively, with self-references kept). 0 when the
 * address has no alias, 1 with the result in *out (n addresses, free with valias_free_list),
 * -1 with err on a table error or past the bounds. */
int valias_expand(struct valias *v, const char *address, char ***out, size_t *n, char *err,
                  size_t errlen);
void valias_free_list(char **list, size_t n);
struct valias *qmgr_valias(void);

#endif
