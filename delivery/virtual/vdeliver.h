/* vdeliver.h: one virtual mailbox delivery, written by a child process that has become the
 * mailbox's uid and gid (common/runas.h) before it touches anything: it creates the missing
 * directories below virtual_mailbox_base (mode 0700), writes the Maildir file or appends to the
 * mbox, and sends its report (mail/delivery_proto.h's, and the file it wrote) to the parent.
 * The parent waits until a deadline, kills a child that overstays it, and checks the report
 * like any peer's message. */
#ifndef TERN_VDELIVER_H
#define TERN_VDELIVER_H
#include <limits.h>
#include <stddef.h>
#include "delivery_proto.h"
#include "ipc.h"
#include "runas.h"
#include "vmailbox.h"

#define VDELIVER_NAME_MAX 1400   /* "new/" and a Maildir file name (maildir.c: at most 1200) */
#define VDELIVER_FILE_MAX (PATH_MAX + VDELIVER_NAME_MAX)

/* What the child's report has besides the outcome, when it delivered: the file it wrote (the
 * mbox, or the Maildir's new file). */
#define VDELIVER_REPORT_A_FILE "file"

struct vdeliver_job {
    const char *sender;          /* envelope sender, "" for <> */
    const char *head;            /* the lines to prepend (header_prepend), LF ends */
    size_t head_len;
    const char *body;            /* the queued message, CRLF ends */
    size_t body_len;
    size_t size_limit;           /* mailbox_size_limit; 0: none */
    const char *folder;          /* a Maildir goes to this Maildir++ folder when it has one
                                  * (the DMARC quarantine); "" for the inbox */
};

/* Delivers job to mb as mb->uid/mb->gid in a child, waiting for it until deadline_ms (on
 * clock.h's clock_ms), and sets result i of reply; file[VDELIVER_FILE_MAX] gets what was
 * written when it was delivered (else ""). A child still running at the deadline is killed and
 * the recipient deferred. When this process is not root it can only deliver as its own uid and
 * gid; other ids are deferred with a message that says so. */
void vdeliver(const struct vmailbox *mb, const struct vdeliver_job *job, long long deadline_ms,
              struct delivery_reply *reply, size_t i, char *file);

/* The child's work, already running as the mailbox's owner: directories, then the Maildir or
 * mbox writer; it fills report. Exposed for the tests, which run it as themselves. */
void vdeliver_write(const struct vmailbox *mb, const struct vdeliver_job *job,
                    struct ipc_msg *report);

/* The parent's part once the child has ended: result i of reply (and file) from r, err and the
 * report of runas_run_until. Exposed for the tests. */
void vdeliver_result(const struct vmailbox *mb, enum runas_result r, const char *err,
                     const struct ipc_msg *report, struct delivery_reply *reply, size_t i,
                     char *file);

#endif
