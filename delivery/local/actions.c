/* actions.c: the root parent's side of each delivery step: it decides the path, the account
 * and the environment, checks that it can become that account at all, and hands the step to a
 * process of that account (runas.h: a kept worker for mailbox writes and file reads, a child
 * of its own for a command) whose report becomes the step's outcome. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "command.h"
#include "header.h"
#include "listfile.h"
#include "local.h"
#include "log.h"
#include "mailbox.h"
#include "mem.h"
#include "runas.h"
#include "userjob.h"

static void note(struct rcpt_job *job, enum delivery_status st, const char *dsn,
                 const char *text)
{
    struct outcome o;
    outcome_set(&o, st, dsn, NULL, "%s", text);
    job_note(job, &o);
}

/* The ids a child of this process can take for who: who's, or when the agent is not root
 * (a test instance), its own ids for its own uid. false (and a deferral noted) otherwise. */
static bool ids_for(struct rcpt_job *job, const struct identity *who, uid_t *uid, gid_t *gid)
{
    if (!runas_possible(who->uid)) {
        char text[600];
        snprintf(text, sizeof text,
                 "cannot deliver as %s%s (uid %ld): the local delivery agent runs as uid %ld, "
                 "not as root, and can deliver only to its own uid",
                 who->is_root ? "default_privs for " : "user ", who->name, (long)who->uid,
                 (long)runas_euid());
        log_warn("%s: to=<%s>: %s", job->msg->queue_id, job->address, text);
        note(job, DELIVERY_DEFER, "4.3.0", text);
        return false;
    }
    *uid = who->uid;
    *gid = runas_euid() == 0 ? who->gid : getegid();
    return true;
}

/* Runs one step; false (with a deferral noted) when there is no valid report. */
static bool run(struct rcpt_job *job, uid_t uid, gid_t gid, long long limit, runas_job fn,
                void *arg, const char *timeout_text, struct ipc_msg *report)
{
    char err[512];
    enum runas_result r = runas_run(uid, gid, limit, fn, arg, report, err, sizeof err);
    if (r == RUNAS_OK)
        return true;
    if (r == RUNAS_TIMEOUT) {
        note(job, DELIVERY_DEFER, "4.3.0", timeout_text ? timeout_text : err);
    } else {
        log_warn("%s: to=<%s>: %s", job->msg->queue_id, job->address, err);
        note(job, DELIVERY_DEFER, "4.3.0", err);
    }
    return false;
}

/* A step's report with an outcome: noted in the job. */
static void take_outcome(struct rcpt_job *job, const struct ipc_msg *report)
{
    struct outcome o;
    if (report_get(report, &o) < 0) {
        log_warn("%s: to=<%s>: malformed report from a delivery process", job->msg->queue_id,
                 job->address);
        outcome_set(&o, DELIVERY_DEFER, "4.3.0", NULL, "malformed report from a delivery process");
    }
    job_note(job, &o);
}

static void build_head(const struct rcpt_job *job, struct buf *head)
{
    buf_init(head, BUF_UNBOUNDED);
    header_prepend(head, job->sender, job->address, job->orig);
}

/* A mailbox job carries the content itself when there is no memory file of it (userjob.h). */
static void inline_body(const struct rcpt_job *job, struct mailbox_job *mj)
{
    if (job->msg->content_fd < 0) {
        mj->body = job->msg->content;
        mj->body_len = job->msg->content_len;
    }
}

/* Runs a mailbox or list file step in the kept worker of uid and gid; as run. */
static bool run_kept(struct rcpt_job *job, uid_t uid, gid_t gid, const struct ipc_msg *step,
                     int fd, struct ipc_msg *report)
{
    char err[512];
    enum runas_result r = runas_call(uid, gid, LOCAL_STEP_TIME, step, fd, report, err,
                                     sizeof err);
    if (r == RUNAS_OK)
        return true;
    if (r != RUNAS_TIMEOUT)
        log_warn("%s: to=<%s>: %s", job->msg->queue_id, job->address, err);
    note(job, DELIVERY_DEFER, "4.3.0", err);
    return false;
}

/* The Maildir++ folder a quarantined message goes to when the mailbox has it; "" else. */
static const char *quarantine_folder(const struct rcpt_job *job)
{
    return job->msg->quarantine ? job->conf->quarantine_folder : "";
}

/* A mailbox or /file write of the message, as uid and gid. */
static void write_message(struct rcpt_job *job, uid_t uid, gid_t gid, const char *path,
                          bool maildir, bool file)
{
    struct buf head;
    build_head(job, &head);
    struct mailbox_job mj = {
        .path = path, .maildir = maildir, .file = file, .sender = job->sender,
        .head = head.data, .head_len = head.len, .size_limit = job->conf->size_limit,
        .folder = quarantine_folder(job),
    };
    inline_body(job, &mj);
    struct ipc_msg step, report;
    ipc_msg_init(&step);
    ipc_msg_init(&report);
    if (userjob_mailbox(&mj, &step) < 0)
        note(job, DELIVERY_DEFER, "4.3.0", "cannot describe the delivery to its process");
    else if (run_kept(job, uid, gid, &step, job->msg->content_fd, &report))
        take_outcome(job, &report);
    ipc_msg_free(&step);
    ipc_msg_free(&report);
    buf_free(&head);
}

/* In a spool that the user may not write but its group may (Debian's /var/mail, root:mail
 * 2775), the child takes the directory's group instead of the user's, so it can make the
 * lock file and the mailbox. No command runs in that child. */
static gid_t spool_gid(const char *spool, uid_t uid, gid_t gid)
{
    struct stat st;
    if (stat(spool, &st) < 0 || (st.st_mode & S_IWOTH) || st.st_uid == uid)
        return gid;
    return (st.st_mode & S_IWGRP) ? st.st_gid : gid;
}

/* Where user's mailbox is: false when its path is too long. */
struct mailbox_target {
    char path[PATH_MAX * 2];
    bool maildir;
    bool in_spool;                   /* in mail_spool_directory, not in the home */
};

static bool mailbox_place(const struct rcpt_job *job, const struct identity *user,
                          struct mailbox_target *t)
{
    const struct local_conf *c = job->conf;
    int n;
    if (c->home_mailbox[0]) {
        n = snprintf(t->path, sizeof t->path, "%s/%s", user->home, c->home_mailbox);
        t->maildir = c->home_mailbox[strlen(c->home_mailbox) - 1] == '/';
        t->in_spool = false;
    } else {
        size_t sl = strlen(c->spool);
        t->maildir = sl > 0 && c->spool[sl - 1] == '/';
        n = snprintf(t->path, sizeof t->path, "%s%s%s%s", c->spool, t->maildir ? "" : "/",
                     user->name, t->maildir ? "/" : "");
        t->in_spool = true;
    }
    return n >= 0 && (size_t)n < PATH_MAX;
}

/* The group a mailbox is written with: the user's, or the spool's (spool_gid). */
static gid_t mailbox_gid(const struct rcpt_job *job, const struct mailbox_target *t, uid_t uid,
                         gid_t gid)
{
    return t->in_spool && runas_euid() == 0 ? spool_gid(job->conf->spool, uid, gid) : gid;
}

void action_mailbox(struct rcpt_job *job, const struct identity *user)
{
    struct mailbox_target t;
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    if (!job_first(job, "mailbox", user->name))
        return;
    if (!mailbox_place(job, user, &t)) {
        note(job, DELIVERY_BOUNCE, "5.2.0", "mailbox path too long");
        return;
    }
    if (!ids_for(job, user, &uid, &gid))
        return;
    write_message(job, uid, mailbox_gid(job, &t, uid, gid), t.path, t.maildir, false);
}

/* The account of a list's files and commands; NULL (deferral noted) when default_privs is
 * not usable. */
static const struct identity *runner(struct rcpt_job *job, const struct expand_ctx *ctx)
{
    if (ctx->who == NULL)
        note(job, DELIVERY_DEFER, "4.3.5", job->conf->privs_err);
    return ctx->who;
}

void action_file(struct rcpt_job *job, const struct expand_ctx *ctx, const char *path)
{
    const struct identity *who = runner(job, ctx);
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    if (who == NULL || !job_first(job, "file", path) || !ids_for(job, who, &uid, &gid))
        return;
    write_message(job, uid, gid, path, path[strlen(path) - 1] == '/', true);
}

/* NAME=value with control characters made spaces: one line each, as shells expect. */
static char *env_entry(const char *name, const char *value)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_printf(&b, "%s=%s", name, value);
    text_printable(b.data);
    return buf_steal(&b);
}

void action_command(struct rcpt_job *job, const struct expand_ctx *ctx, const char *command)
{
    const struct identity *who = runner(job, ctx);
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    if (who == NULL)
        return;
    char key[64];
    snprintf(key, sizeof key, "%ld:", (long)who->uid);
    struct buf dedupe;
    buf_init(&dedupe, BUF_UNBOUNDED);
    buf_printf(&dedupe, "%s%s", key, command);
    bool first = job_first(job, "command", dedupe.data);
    buf_free(&dedupe);
    if (!first || !ids_for(job, who, &uid, &gid))
        return;

    const struct rcpt_addr *a = &job->a;
    char *env[] = {
        env_entry("SENDER", job->sender), env_entry("RECIPIENT", job->address),
        env_entry("USER", who->name), env_entry("LOGNAME", who->name),
        env_entry("HOME", who->home), env_entry("EXTENSION", a->ext),
        env_entry("LOCAL", a->local), env_entry("DOMAIN", a->domain),
        env_entry("SHELL", "/bin/sh"), env_entry("PATH", "/usr/bin:/bin"), NULL,
    };
    struct buf head;
    build_head(job, &head);
    struct command_job cj = {
        .command = command, .cwd = ctx->cwd, .env = env,
        .head = head.data, .head_len = head.len,
        .body = job->msg->content, .body_len = job->msg->content_len,
        .fsize_limit = job->conf->size_limit,
    };
    char timeout_text[300];
    snprintf(timeout_text, sizeof timeout_text, "command time limit exceeded: %.200s%s", command,
             strlen(command) > 200 ? "..." : "");
    struct ipc_msg report;
    ipc_msg_init(&report);
    if (run(job, uid, gid, job->conf->command_time_limit, command_job_run, &cj, timeout_text,
            &report))
        take_outcome(job, &report);
    ipc_msg_free(&report);
    buf_free(&head);
    for (char **e = env; *e; e++)
        free(*e);
}

/* A list file step's report: 1 with the text (found: its path), 0 for none (with a forward
 * job's mailbox outcome, when it has one, still in the report), -1 with the outcome noted. */
static int list_report(struct rcpt_job *job, const struct listfile_job *lj,
                       const struct ipc_msg *report, struct buf *text, char *found,
                       size_t found_size)
{
    const char *warning = ipc_get(report, LOCAL_REPORT_A_WARNING);
    if (warning) {
        char w[600];
        snprintf(w, sizeof w, "%s", warning);
        text_printable(w);
        log_warn("%s: to=<%s>: %s", job->msg->queue_id, job->address, w);
    }
    const char *path = ipc_get(report, LOCAL_REPORT_A_FOUND);
    if (ipc_get(report, LOCAL_REPORT_A_NONE))
        return 0;
    if (ipc_get(report, DELIVERY_REPORT_A_STATUS)) {
        take_outcome(job, report);
    } else if (path && (strcmp(path, lj->path[0]) == 0 || (lj->path[1] &&
                                                           strcmp(path, lj->path[1]) == 0))) {
        for (size_t k = 0; k < report->count; k++) {
            if (strcmp(report->attr[k].name, LOCAL_REPORT_A_CONTENT) == 0) {
                buf_append(text, report->attr[k].value, report->attr[k].value_len);
                break;
            }
        }
        snprintf(found, found_size, "%s", path);
        return 1;
    } else {
        note(job, DELIVERY_DEFER, "4.3.0", "malformed report from a delivery process");
    }
    return -1;
}

int action_read_list(struct rcpt_job *job, const struct identity *who, const char *const *paths,
                     bool forward, struct buf *text, char *found, size_t found_size)
{
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    if (!ids_for(job, who, &uid, &gid))
        return -1;
    struct listfile_job lj = { .path = { paths[0], paths[0] ? paths[1] : NULL }, .forward = forward };
    struct ipc_msg step, report;
    ipc_msg_init(&step);
    ipc_msg_init(&report);
    int ret = -1;
    if (userjob_listfile(&lj, &step) < 0) {
        note(job, DELIVERY_DEFER, "4.3.0", "cannot describe the file reading to its process");
        goto out;
    }
    if (!run_kept(job, uid, gid, &step, -1, &report))
        goto out;
    ret = list_report(job, &lj, &report, text, found, found_size);
out:
    ipc_msg_free(&step);
    ipc_msg_free(&report);
    return ret;
}

int action_forward(struct rcpt_job *job, const struct identity *user, const char *const *paths,
                   struct buf *text, char *found, size_t found_size)
{
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    struct mailbox_target t;
    /* the mailbox in the same step only when it is written with the same ids and is still
     * to be written for this recipient */
    if (job_seen(job, "mailbox", user->name) || !runas_possible(user->uid) ||
        !mailbox_place(job, user, &t) || !ids_for(job, user, &uid, &gid) ||
        mailbox_gid(job, &t, uid, gid) != gid)
        return action_read_list(job, user, paths, true, text, found, found_size);
    struct listfile_job lj = { .path = { paths[0], paths[0] ? paths[1] : NULL }, .forward = true };
    struct buf head;
    build_head(job, &head);
    struct mailbox_job mj = {
        .path = t.path, .maildir = t.maildir, .sender = job->sender,
        .head = head.data, .head_len = head.len, .size_limit = job->conf->size_limit,
        .folder = quarantine_folder(job),
    };
    inline_body(job, &mj);
    struct ipc_msg step, report;
    ipc_msg_init(&step);
    ipc_msg_init(&report);
    int ret = -1;
    if (userjob_forward(&lj, &mj, &step) < 0) {
        note(job, DELIVERY_DEFER, "4.3.0", "cannot describe the delivery to its process");
        goto out;
    }
    if (!run_kept(job, uid, gid, &step, job->msg->content_fd, &report))
        goto out;
    ret = list_report(job, &lj, &report, text, found, found_size);
    if (ret == 0) {
        /* no .forward: the same process wrote the mailbox */
        job_first(job, "mailbox", user->name);
        take_outcome(job, &report);
        ret = 2;
    }
out:
    ipc_msg_free(&step);
    ipc_msg_free(&report);
    buf_free(&head);
    return ret;
}
