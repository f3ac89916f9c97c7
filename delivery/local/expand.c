/* expand.c: what the local agent does with each item of an alias value, a .forward or an
 * :include: file: addresses go to the forward list (qmgr resubmits them), "self" and "\user"
 * to a mailbox, files and commands to a child running as the list's account (when
 * allow_mail_to_files / allow_mail_to_commands allow them for the list's class), :include:
 * files are read as that account and expanded in turn, error: items give their status. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "aliasparse.h"
#include "local.h"
#include "log.h"
#include "mem.h"

void job_note(struct rcpt_job *job, const struct outcome *o)
{
    switch (o->status) {
    case DELIVERY_SENT:
        job->delivered = true;
        if (job->texts.len > 0)
            buf_puts(&job->texts, ", ");
        buf_puts(&job->texts, o->text);
        break;
    case DELIVERY_DEFER:
        if (!job->deferred) {
            job->deferred = true;
            job->defer = *o;
        }
        job->stop = true;   /* what is left is tried again with the retry */
        break;
    default:
        if (!job->bounced) {
            job->bounced = true;
            job->bounce = *o;
        }
        break;
    }
}

bool job_seen(const struct rcpt_job *job, const char *kind, const char *key)
{
    size_t kl = strlen(kind);
    for (size_t i = 0; i < job->nseen; i++) {
        const char *s = job->seen[i];
        if (strncmp(s, kind, kl) == 0 && s[kl] == ':' && strcmp(s + kl + 1, key) == 0)
            return true;
    }
    return false;
}

bool job_first(struct rcpt_job *job, const char *kind, const char *key)
{
    if (job_seen(job, kind, key))
        return false;
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_printf(&b, "%s:%s", kind, key);
    job->seen = xrealloc(job->seen, (job->nseen + 1) * sizeof *job->seen);
    job->seen[job->nseen++] = buf_steal(&b);
    return true;
}

static void note(struct rcpt_job *job, enum delivery_status st, const char *dsn,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void note(struct rcpt_job *job, enum delivery_status st, const char *dsn,
                 const char *fmt, ...)
{
    struct outcome o;
    char text[STATUSLOG_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    outcome_set(&o, st, dsn, NULL, "%s", text);
    job_note(job, &o);
}

/* The recipient's own mailbox, named by the list itself ("joe" in joe's .forward). */
static void self_mailbox(struct rcpt_job *job, const struct expand_ctx *ctx)
{
    if (ctx->self_user) {
        action_mailbox(job, ctx->self_user);
        return;
    }
    struct identity u;
    char err[512];
    int r = conf_user(job->conf, job->a.user, &u, err, sizeof err);
    if (r < 0)
        note(job, DELIVERY_DEFER, "4.3.0", "%s", err);
    else if (r == 0)
        note(job, DELIVERY_BOUNCE, "5.1.1", "unknown user: \"%s\"", job->a.user);
    else
        action_mailbox(job, &u);
}

static void forward_add(struct rcpt_job *job, const struct expand_ctx *ctx, const char *item)
{
    char addr[DELIVERY_ADDR_MAX];
    const char *domain = job->a.domain[0] ? job->a.domain : job->conf->myhostname;
    if (rcpt_addr_qualify(item, domain, job->a.delim, ctx->ext, job->conf->delims, addr,
                          sizeof addr) < 0) {
        note(job, DELIVERY_DEFER, "4.3.5", "address too long in the expansion of %s",
             job->address);
        return;
    }
    char key[DELIVERY_ADDR_MAX];
    snprintf(key, sizeof key, "%s", addr);
    list_lower(key);
    if (!job_first(job, "address", key))
        return;
    if (job->nforward >= DELIVERY_FORWARD_MAX) {
        note(job, DELIVERY_DEFER, "4.3.5", "%s expands to more than %d addresses",
             job->address, DELIVERY_FORWARD_MAX);
        return;
    }
    job->forward = xrealloc(job->forward, (job->nforward + 1) * sizeof *job->forward);
    job->forward[job->nforward++] = xstrdup(addr);
}

static bool is_self_name(const struct expand_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < 2; i++)
        if (ctx->self[i] && strcasecmp(ctx->self[i], name) == 0)
            return true;
    return false;
}

/* "\name": in an alias, that system user's mailbox; in a .forward, only the user's own. */
static void backslash(struct rcpt_job *job, const struct expand_ctx *ctx, const char *name)
{
    if (is_self_name(ctx, name)) {
        self_mailbox(job, ctx);
        return;
    }
    if (ctx->from_forward) {
        forward_add(job, ctx, name);
        return;
    }
    struct identity u;
    char err[512];
    int r = conf_user(job->conf, name, &u, err, sizeof err);
    if (r < 0)
        note(job, DELIVERY_DEFER, "4.3.0", "%s", err);
    else if (r == 0)
        note(job, DELIVERY_BOUNCE, "5.1.1", "unknown user: \"%s\"", name);
    else
        action_mailbox(job, &u);
}

static const char *class_name(unsigned cls)
{
    return cls == CLASS_ALIAS ? "aliases" : cls == CLASS_FORWARD ? ".forward files"
                                                                   : ":include: files";
}

static void include(struct rcpt_job *job, const struct expand_ctx *ctx, const char *path)
{
    if (ctx->depth >= LOCAL_INCLUDE_DEPTH) {
        note(job, DELIVERY_DEFER, "4.3.5", ":include: files nested more than %d deep at %s",
             LOCAL_INCLUDE_DEPTH, path);
        return;
    }
    if (!job_first(job, "include", path))
        return;
    if (ctx->who == NULL) {
        note(job, DELIVERY_DEFER, "4.3.5", "%s", job->conf->privs_err);
        return;
    }
    struct buf text;
    buf_init(&text, BUF_UNBOUNDED);
    const char *paths[] = { path, NULL };
    char found[PATH_MAX];
    if (action_read_list(job, ctx->who, paths, false, &text, found, sizeof found) > 0) {
        struct expand_ctx sub = *ctx;
        sub.cls = CLASS_INCLUDE;
        sub.depth++;
        char what[PATH_MAX + 16];
        snprintf(what, sizeof what, ":include:%s", path);
        expand_text(job, &sub, what, text.data, text.len, true);
    }
    buf_free(&text);
}

static void item(struct rcpt_job *job, const struct expand_ctx *ctx, const struct alias_item *it)
{
    switch (it->type) {
    case ALIAS_ADDRESS:
        if (rcpt_addr_is_self(it->text, ctx->self, 2, job->a.domain))
            self_mailbox(job, ctx);
        else
            forward_add(job, ctx, it->text);
        break;
    case ALIAS_MAILBOX:
        backslash(job, ctx, it->text);
        break;
    case ALIAS_FILE:
        if (job->conf->allow_files & ctx->cls)
            action_file(job, ctx, it->text);
        else
            note(job, DELIVERY_BOUNCE, "5.7.1",
                 "mail to file is restricted: %s (allow_mail_to_files does not allow %s)",
                 it->text, class_name(ctx->cls));
        break;
    case ALIAS_COMMAND:
        if (job->conf->allow_commands & ctx->cls)
            action_command(job, ctx, it->text);
        else
            note(job, DELIVERY_BOUNCE, "5.7.1",
                 "mail to command is restricted (allow_mail_to_commands does not allow %s)",
                 class_name(ctx->cls));
        break;
    case ALIAS_INCLUDE:
        include(job, ctx, it->text);
        break;
    case ALIAS_ERROR:
        if (ctx->from_forward)
            note(job, DELIVERY_DEFER, "4.3.5", "error: is not allowed in a .forward file");
        else
            note(job, it->dsn[0] == '4' ? DELIVERY_DEFER : DELIVERY_BOUNCE, it->dsn, "%s",
                 it->text[0] ? it->text : "delivery refused by the alias");
        break;
    }
}

int expand_text(struct rcpt_job *job, const struct expand_ctx *ctx, const char *what,
                const char *text, size_t len, bool as_file)
{
    struct alias_list l = { NULL, 0 };
    char err[512];
    if (alias_parse(text, len, as_file, &l, err, sizeof err) < 0) {
        log_warn("%s: %s: %s", job->msg->queue_id, what, err);
        note(job, DELIVERY_DEFER, "4.3.5", "bad entry in %s: %s", what, err);
        alias_list_free(&l);
        return -1;
    }
    int count = (int)l.count;
    for (size_t k = 0; k < l.count && !job->stop; k++) {
        if (++job->nitems > LOCAL_EXPAND_MAX) {
            note(job, DELIVERY_DEFER, "4.3.5", "%s expands to more than %d items",
                 job->address, LOCAL_EXPAND_MAX);
            break;
        }
        item(job, ctx, &l.item[k]);
    }
    alias_list_free(&l);
    return count;
}
