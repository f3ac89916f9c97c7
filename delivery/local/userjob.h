/* userjob.h: the jobs the local agent hands to a kept worker (runas_call): a mailbox or /file
 * write (mailbox.h), the reading of a .forward or :include: file (listfile.h), and a user's
 * .forward with the mailbox write done at once when there is none (one step instead of two
 * for the common case), each described as an IPC message. The message's content travels as a sealed memory file
 * (userjob_content_fd), made once per request and passed with every mailbox job. */
#ifndef TERN_USERJOB_H
#define TERN_USERJOB_H
#include <stddef.h>
#include "ipc.h"
#include "listfile.h"
#include "mailbox.h"

/* The job messages; j->body and j->body_len are not part of it (they are the content fd). */
int userjob_mailbox(const struct mailbox_job *j, struct ipc_msg *job);
int userjob_listfile(const struct listfile_job *j, struct ipc_msg *job);
/* lj's .forward files; without a usable one, mj's write (its report then has "none", the
 * mailbox outcome and any warning; with one, the list file report). */
int userjob_forward(const struct listfile_job *lj, const struct mailbox_job *mj,
                    struct ipc_msg *job);

/* A read-only, sealed memory file holding data[0..len); -1 with errno when none can be made. */
int userjob_content_fd(const char *data, size_t len);

/* The runas_serve of the local agent: decodes the job and runs it, or reports a deferral. */
void userjob_serve(const struct ipc_msg *job, int fd, struct ipc_msg *report);

#endif
