/* recipient.c: one recipient, the way Postfix's local(8) takes it: a Delivered-To: loop check,
 * then alias_maps (the local part with its extension, then without), then the system user
 * with its ~/.forward (.forward+EXT first), then the user's mailbox; else "unknown user". The
 * outcome of all steps becomes one result: deferred if any step deferred, else bounced if any
 * bounced, else sent (with the forward list for qmgr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "header.h"
#include "local.h"
#include "log.h"
#include "mem.h"

static void note(struct rcpt_job *job, enum delivery_status st, const char *dsn, const char *text)
{
    struct outcome o;
    outcome_set(&o, st, dsn, NULL, "%s", text);
    job_note(job, &o);
}

/* owner-KEY in the aliases: forwarded copies (and the alias's file and command deliveries)
 * then go out from owner-KEY@domain, so bounces reach the list's owner. Mail from <> stays
 * from <>: a bounce must never cause another one. */
static int find_owner(struct rcpt_job *job, struct table_list *t, const char *key)
{
    if (job->msg->sender[0] == '\0')
        return 0;
    char okey[DELIVERY_ADDR_MAX + 8], err[512];
    snprintf(okey, sizeof okey, "owner-%s", key);
    int r = table_list_find(t, okey, NULL, err, sizeof err);
    if (r < 0) {
        note(job, DELIVERY_DEFER, "4.3.0", err);
        return -1;
    }
    if (r == 0)
        return 0;
    int n = snprintf(job->owner, sizeof job->owner, "%s@%s", okey,
                     job->a.domain[0] ? job->a.domain : job->conf->myhostname);
    if (n > 0 && n < (int)sizeof job->owner)
        job->sender = job->owner;
    else
        job->owner[0] = '\0';   /* too long to be an address: the sender stays */
    return 0;
}

/* 1 when the recipient is an alias (handled), 0 when not. */
static int try_alias(struct rcpt_job *job)
{
    struct table_list *t;
    char err[600];
    if (conf_aliases(job->conf, &t) < 0) {
        note(job, DELIVERY_DEFER, "4.3.0", job->conf->aliases_err);
        return 1;
    }
    const char *keys[2] = { job->a.local, job->a.delim ? job->a.user : NULL };
    for (size_t k = 0; k < 2 && keys[k]; k++) {
        const char *value;
        int r = table_list_find(t, keys[k], &value, err, sizeof err);
        if (r < 0) {
            note(job, DELIVERY_DEFER, "4.3.0", err);
            return 1;
        }
        if (r == 0)
            continue;
        char *v = xstrdup(value);   /* the next look-up would overwrite it */
        if (find_owner(job, t, keys[k]) == 0) {
            struct expand_ctx ctx = {
                .cls = CLASS_ALIAS,
                .who = conf_privs(job->conf),
                .cwd = "/",
                .self = { keys[k], job->a.local },
                .ext = k == 1 ? job->a.ext : NULL,
            };
            char what[DELIVERY_ADDR_MAX + 16];
            snprintf(what, sizeof what, "alias %s", keys[k]);
            expand_text(job, &ctx, what, v, strlen(v), false);
        }
        free(v);
        return 1;
    }
    return 0;
}

/* The user's .forward (not root's: it would be read as default_privs), else the mailbox. */
static void deliver_user(struct rcpt_job *job)
{
    struct identity u;
    char err[600];
    int r = conf_user(job->conf, job->a.user, &u, err, sizeof err);
    if (r < 0) {
        note(job, DELIVERY_DEFER, "4.3.0", err);
        return;
    }
    if (r == 0) {
        snprintf(err, sizeof err, "unknown user: \"%s\"", job->a.user);
        note(job, DELIVERY_BOUNCE, "5.1.1", err);
        return;
    }
    if (!u.is_root) {
        char with_ext[PATH_MAX], plain[PATH_MAX], found[PATH_MAX];
        const char *paths[3] = { NULL, NULL, NULL };
        size_t n = 0;
        bool ext_ok = job->a.delim && job->a.ext[0] && !strchr(job->a.ext, '/');
        if (ext_ok && snprintf(with_ext, sizeof with_ext, "%s/.forward%c%s", u.home,
                               job->a.delim, job->a.ext) < (int)sizeof with_ext)
            paths[n++] = with_ext;
        if (snprintf(plain, sizeof plain, "%s/.forward", u.home) < (int)sizeof plain)
            paths[n++] = plain;
        struct buf text;
        buf_init(&text, BUF_UNBOUNDED);
        int got = action_forward(job, &u, paths, &text, found, sizeof found);
        if (got == 2) {
            buf_free(&text);
            return;   /* no .forward, and the mailbox is written */
        }
        int items = 0;
        if (got > 0) {
            struct expand_ctx ctx = {
                .cls = CLASS_FORWARD,
                .who = &u,
                .cwd = u.home,
                .from_forward = true,
                .self = { job->a.user, job->a.local },
                .self_user = &u,
                .ext = strcmp(found, plain) == 0 ? job->a.ext : NULL,
            };
            items = expand_text(job, &ctx, found, text.data, text.len, true);
        }
        buf_free(&text);
        if (got < 0 || (got > 0 && items != 0))
            return;   /* reading it failed, or the .forward decided */
    }
    action_mailbox(job, &u);
}

static void job_result(struct rcpt_job *job, struct delivery_reply *reply, size_t i)
{
    struct delivery_result *x = &reply->result[i];
    const struct outcome *o = job->deferred ? &job->defer : job->bounced ? &job->bounce : NULL;
    if (o) {
        delivery_result_set(reply, i, o->status, o->dsn, "%s", o->text);
        snprintf(x->diag, sizeof x->diag, "%s", o->diag);
    } else {
        const char *text = job->texts.len ? job->texts.data
                           : job->nforward ? "forwarded" : "expanded to no recipients";
        delivery_result_set(reply, i, DELIVERY_SENT, "2.0.0", "%s", text);
        snprintf(x->action, sizeof x->action, "%s",
                 job->nforward || !job->delivered ? "expanded" : "delivered");
        for (size_t k = 0; k < job->nforward; k++)
            delivery_result_forward(reply, i, job->forward[k]);
        if (job->nforward && job->owner[0])
            snprintf(x->forward_sender, sizeof x->forward_sender, "%s", job->owner);
    }
    snprintf(x->relay, sizeof x->relay, "local");
}

void recipient_deliver(struct local_conf *conf, const struct local_msg *msg,
                       const struct delivery_rcpt *rcpt, struct delivery_reply *reply, size_t i)
{
    struct rcpt_job job;
    memset(&job, 0, sizeof job);
    job.conf = conf;
    job.msg = msg;
    job.address = rcpt->address;
    job.orig = rcpt->orig[0] ? rcpt->orig : rcpt->address;
    job.sender = msg->sender;
    buf_init(&job.texts, STATUSLOG_TEXT_MAX - 1);
    char text[DELIVERY_ADDR_MAX + 64];

    if (rcpt_addr_split(rcpt->address, conf->delims, &job.a) < 0) {
        note(&job, DELIVERY_BOUNCE, "5.1.3", "bad address syntax");
    } else if (header_has_delivered_to(msg->content, msg->content_len, rcpt->address)) {
        snprintf(text, sizeof text, "mail forwarding loop for %s", rcpt->address);
        note(&job, DELIVERY_BOUNCE, "5.4.6", text);
    } else if (try_alias(&job) == 0) {
        deliver_user(&job);
    }
    job_result(&job, reply, i);

    for (size_t k = 0; k < job.nseen; k++)
        free(job.seen[k]);
    free(job.seen);
    for (size_t k = 0; k < job.nforward; k++)
        free(job.forward[k]);
    free(job.forward);
    buf_free(&job.texts);
}
