/* mailbox.h: the delivery jobs that write a message into a file, run in a child that already
 * is the recipient (runas.h): a Maildir (maildir.h) or an mbox mailbox (mbox.h), and a /file
 * target of an alias or .forward (mbox format; /dev/null takes the message without a write).
 * Each job reports sent, defer or bounce (report.h). */
#ifndef TERN_MAILBOX_H
#define TERN_MAILBOX_H
#include <stdbool.h>
#include <stddef.h>
#include "ipc.h"

struct mailbox_job {
    const char *path;        /* Maildir directory, mbox file, or the /file target */
    bool maildir;            /* path is a Maildir (a /file target ending in '/' is one too) */
    bool file;               /* a /file target (its own texts; /dev/null allowed) */
    const char *sender;      /* Return-Path and the From line; "" for <> */
    const char *head;        /* the lines the agent prepends (LF ends) */
    size_t head_len;
    const char *body;        /* the queued message (CRLF ends) */
    size_t body_len;
    size_t size_limit;       /* mailbox_size_limit; 0 none */
    const char *folder;      /* a Maildir goes to this Maildir++ folder when it has one (the
                              * DMARC quarantine); "" for the inbox */
    bool body_mapped;        /* body is a mapping of the content's memory file (userjob.c) */
};

/* A runas_job: delivers as mailbox_job arg says and reports the outcome. A Maildir must be a
 * directory owned by the delivering user (created when missing); an mbox file must be owned
 * by the user, a regular file with one link and no symbolic link (mbox.h). */
void mailbox_job_run(void *arg, struct ipc_msg *report);

#endif
