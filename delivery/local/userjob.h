/* userjob.h: the jobs the local agent hands to a kept worker (runas_call): a mailbox or /file
 * write (mailbox.h), the reading of a .forward or :include: file (listfile.h), and a user's
 * .forward with the mailbox write done at once when there is none (one step instead of two
 * for the common case), each described as an IPC message. The message's content travels in
 * the job itself when it is small (USERJOB_INLINE_MAX, no NUL byte), else as a sealed memory
 * file (userjob_content_fd), made once per request and passed with every mailbox job: a
 * memory file costs eight system calls and a mapping, which a small message does not need. */
#ifndef TERN_USERJOB_H
#define TERN_USERJOB_H
#include <stdbool.h>
#include <stddef.h>
#include "ipc.h"
#include "listfile.h"
#include "mailbox.h"

#define USERJOB_INLINE_MAX (32 * 1024)   /* content bytes carried in the job itself */

/* Whether content data[0..len) travels in the job (else in a memory file). */
bool userjob_content_inline(const char *data, size_t len);

/* The job messages; j->body and j->body_len go in it when j->body is not NULL (the content is
 * inline), else the content is the memory file passed with the job. */
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
