/* vdeliver.h: one virtual mailbox delivery, written by a child process that has become the
 * mailbox's uid and gid (priv_drop) before it touches anything: it creates the missing
 * directories below virtual_mailbox_base (mode 0700), writes the Maildir file or appends to the
 * mbox, and reports the outcome to the parent over a pipe. The parent waits until a deadline
 * and kills a child that overstays it. */
#ifndef TERN_VDELIVER_H
#define TERN_VDELIVER_H
#include <limits.h>
#include <stddef.h>
#include "delivery_proto.h"
#include "vmailbox.h"

#define VDELIVER_TEXT_MAX 1024
#define VDELIVER_NAME_MAX 1400   /* "new/" and a Maildir file name (maildir.c: at most 1200) */

struct vdeliver_job {
    const char *sender;          /* envelope sender, "" for <> */
    const char *head;            /* the lines to prepend (header_prepend), LF ends */
    size_t head_len;
    const char *body;            /* the queued message, CRLF ends */
    size_t body_len;
    size_t size_limit;           /* mailbox_size_limit; 0: none */
};

struct vdeliver_outcome {
    enum delivery_status status;
    char dsn[16];
    char text[VDELIVER_TEXT_MAX];    /* "delivered to maildir", or why not */
    char file[PATH_MAX + VDELIVER_NAME_MAX];   /* what was written: the mbox, or the Maildir's
                                                * new file */
};

/* Delivers job to mb as mb->uid/mb->gid in a child, waiting for it until deadline_ms (on
 * clock.h's clock_ms); a child still running then is killed and the recipient deferred. When
 * this process is not root it can only deliver as its own uid and gid; other ids are deferred
 * with a message that says so. */
void vdeliver(const struct vmailbox *mb, const struct vdeliver_job *job, long long deadline_ms,
              struct vdeliver_outcome *out);

/* The child's work, already running as the mailbox's owner: directories, then the Maildir or
 * mbox writer. Exposed for the tests, which run it as themselves. */
void vdeliver_write(const struct vmailbox *mb, const struct vdeliver_job *job,
                    struct vdeliver_outcome *out);

#endif
