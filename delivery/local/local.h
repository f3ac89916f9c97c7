/* local.h: the state the root part of the local delivery agent shares between its files: the
 * settings of one request (conf.c), the message being delivered, the accounts deliveries run
 * as, and one recipient's expansion and outcome (recipient.c, expand.c, actions.c). */
#ifndef TERN_LOCAL_H
#define TERN_LOCAL_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "buf.h"
#include "delivery_proto.h"
#include "lists.h"
#include "rcptaddr.h"
#include "report.h"

#define LOCAL_EXPAND_MAX 1000     /* items one recipient may expand to, all levels together */
#define LOCAL_INCLUDE_DEPTH 10    /* nested :include: files */
#define LOCAL_STEP_TIME 600       /* seconds for a mailbox, /file or file-reading child */

/* Where an expansion item came from, for allow_mail_to_commands and allow_mail_to_files. */
enum {
    CLASS_ALIAS = 1,
    CLASS_FORWARD = 2,
    CLASS_INCLUDE = 4,
};

/* An account: whose name, home and ids a delivery uses. For root, uid and gid are those of
 * default_privs (mail for root never runs as root). */
struct identity {
    char name[256];
    char home[PATH_MAX];
    uid_t uid;
    gid_t gid;
    bool is_root;         /* the account is uid 0 (and uid/gid were replaced) */
};

struct local_conf {
    char delims[64];                 /* recipient_delimiter */
    char home_mailbox[PATH_MAX];
    char spool[PATH_MAX];            /* mail_spool_directory */
    char myhostname[256];
    size_t size_limit;               /* mailbox_size_limit */
    char quarantine_folder[256];     /* dmarc_quarantine_folder */
    long long command_time_limit;
    unsigned allow_commands;         /* CLASS_* bits */
    unsigned allow_files;
    /* looked up on first use, once per request */
    bool aliases_open;
    struct table_list *aliases;
    char aliases_err[512];
    int privs_state;                 /* 0 not yet, 1 ok, -1 failed (privs_err) */
    struct identity privs;           /* default_privs */
    char privs_err[512];
};

struct local_msg {
    const char *queue_id;
    const char *sender;
    const char *content;             /* header and body, CRLF line ends */
    size_t content_len;
    int content_fd;                  /* the same in a memory file for kept workers, or -1 when
                                      * it travels in their jobs (userjob.h) */
    bool quarantine;                 /* the queue file's quarantine attribute is set */
};

/* One recipient being delivered: its address, what it expanded to so far, and the outcome. */
struct rcpt_job {
    struct local_conf *conf;
    const struct local_msg *msg;
    const char *address;             /* the envelope recipient */
    const char *orig;                /* X-Original-To: rcpt_orig, else the recipient */
    struct rcpt_addr a;
    const char *sender;              /* the sender of deliveries: msg->sender or owner-LIST */
    char owner[DELIVERY_ADDR_MAX];   /* owner-LIST@domain when the alias has an owner */
    size_t nitems;                   /* expansion items handled, for LOCAL_EXPAND_MAX */
    char **seen;                     /* "kind:key" of targets done, against duplicates */
    size_t nseen;
    char **forward;                  /* addresses for qmgr to forward to */
    size_t nforward;
    bool stop;                       /* a deferral happened: nothing more is tried */
    bool delivered;                  /* a mailbox, file or command took the message */
    bool deferred, bounced;
    struct outcome defer, bounce;    /* the first of each */
    struct buf texts;                /* "delivered to ..." of the successful steps */
};

/* conf.c */
void conf_load(struct local_conf *c);
void conf_free(struct local_conf *c);
/* Closes the tables kept between requests (the agent is about to exit). */
void conf_end(void);
/* The alias tables (opened on first use): 0 with *t (NULL when alias_maps is empty), or -1
 * with the reason in c->aliases_err. */
int conf_aliases(struct local_conf *c, struct table_list **t);
/* default_privs (looked up on first use): NULL with the reason in c->privs_err. */
const struct identity *conf_privs(struct local_conf *c);
/* Looks up a system user by name: 1 found, 0 no such user, -1 error (err). For uid 0 the ids
 * become default_privs' (or -1 when those cannot be had). */
int conf_user(struct local_conf *c, const char *name, struct identity *id, char *err,
              size_t errlen);

/* recipient.c: delivers one recipient of the request and fills result i of reply. */
void recipient_deliver(struct local_conf *conf, const struct local_msg *msg,
                       const struct delivery_rcpt *rcpt, struct delivery_reply *reply, size_t i);

/* expand.c: how the items of one list are handled. */
struct expand_ctx {
    unsigned cls;                    /* CLASS_* of the list */
    const struct identity *who;      /* files, commands and :include: run as this account */
    const char *cwd;                 /* working directory of commands */
    bool from_forward;               /* the list comes from a .forward (no error:) */
    const char *self[2];             /* names that mean "this recipient's own mailbox" */
    const struct identity *self_user; /* whose mailbox that is; NULL: look up self[0] */
    const char *ext;                 /* extension carried to forwarded addresses, or NULL */
    int depth;                       /* :include: nesting */
};
/* Expands the value text (an alias value, or a file's content when as_file): the number of
 * items it held, or -1 when it does not parse (the recipient is then deferred). */
int expand_text(struct rcpt_job *job, const struct expand_ctx *ctx, const char *what,
                 const char *text, size_t len, bool as_file);
/* Records an outcome of one step in the job. */
void job_note(struct rcpt_job *job, const struct outcome *o);
/* Marks "kind:key" as done; false when it was already (a duplicate). */
bool job_first(struct rcpt_job *job, const char *kind, const char *key);
/* Whether "kind:key" is done already. */
bool job_seen(const struct rcpt_job *job, const char *kind, const char *key);

/* actions.c: the steps, each in a process running as the right user. */
void action_mailbox(struct rcpt_job *job, const struct identity *user);
void action_file(struct rcpt_job *job, const struct expand_ctx *ctx, const char *path);
void action_command(struct rcpt_job *job, const struct expand_ctx *ctx, const char *command);
/* Reads a list file as who: 1 with its text (found: its path), 0 when none (a .forward),
 * -1 with the outcome noted in the job. */
int action_read_list(struct rcpt_job *job, const struct identity *who, const char *const *paths,
                     bool forward, struct buf *text, char *found, size_t found_size);
/* The user's .forward (paths as for action_read_list), and when there is no usable one, the
 * mailbox in the same step where it can be (same ids, not written yet): 2 when the mailbox was
 * written that way (outcome noted), else as action_read_list. */
int action_forward(struct rcpt_job *job, const struct identity *user, const char *const *paths,
                   struct buf *text, char *found, size_t found_size);

#endif
