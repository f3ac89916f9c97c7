/* mbox.h: delivery of one message to an mbox file (local mailboxes in mail_spool_directory,
 * /file targets of aliases and .forward, virtual mailboxes), in the child that already runs as
 * the recipient: a dotlock (path.lock) plus an fcntl lock, the "From sender date" line,
 * ">From " quoting, LF line ends, a blank line after the message, fsync, and on any failure
 * the file truncated back to its old size. */
#ifndef TERN_MBOX_H
#define TERN_MBOX_H
#include <stdbool.h>
#include <stddef.h>
#include "errtext.h"
#include <sys/types.h>

/* Appends head (lines the agent prepends: Return-Path:, Delivered-To:, ...; LF or CRLF ends)
 * and body (the queued content, CRLF line ends) to the mbox at path, creating it with mode
 * 0600 when missing. The file must be a regular file with one link, not a symbolic link, owned
 * by the calling user (owner_check) and no larger than size_limit after the append
 * (0: no limit). sender is the envelope sender ("" is written as MAILER-DAEMON). Returns 0, or
 * -1 with a reason in err and *temporary set: true for a failure worth retrying (lock busy,
 * I/O error, no space), false for one that will not go away (not a regular file, wrong owner,
 * mailbox full). */
int mbox_deliver(const char *path, const char *sender, const char *head, size_t head_len,
                 const char *body, size_t body_len, size_t size_limit, bool owner_check,
                 bool *temporary, char *err, size_t errlen);

#endif
