/* maildir.h: delivery of one message into a Maildir (the qmail specification), used by the
 * local and virtual delivery agents in the child that already runs as the recipient: create
 * the file in tmp/ under a unique name, write, fsync, link it into new/ (rename where links
 * are not possible), fsync new/, and only then report success. */
#ifndef TERN_MAILDIR_H
#define TERN_MAILDIR_H
#include <stddef.h>
#include "errtext.h"

/* Delivers head (lines the agent prepends: Return-Path:, Delivered-To:, ...; may be empty)
 * followed by body (the message content, CRLF line ends as queued; written with LF line ends,
 * as mail readers expect) into the Maildir at dir (tmp/, new/ and cur/ are created, mode 0700,
 * when missing; dir itself too). The file name is `<seconds>.M<usec>P<pid>Q<count>.<host>`,
 * with '/' and ':' in the host escaped as \057 and \072. Returns 0 and the path of the new file
 * (relative to dir, e.g. "new/1795335202.M210565P812Q1.mx") in name, or -1 with a reason in err;
 * on failure nothing is left in tmp/ or new/. */
int maildir_deliver(const char *dir, const char *head, size_t head_len, const char *body,
                    size_t body_len, char *name, size_t name_size, char *err, size_t errlen);

/* The Maildir++ folder "folder" of the Maildir at dir, when it exists: out gets "dir/.folder"
 * and 1 is returned when that is a directory (not a symbolic link) owned by the process's
 * effective uid; else out gets dir and 0 is returned (the message goes to the inbox: a folder
 * is the mailbox owner's to make). -1 when the path does not fit out[size] or folder is no
 * plain name ("", ".", "..", '/' in it). For the DMARC quarantine (dmarc_quarantine_folder). */
int maildir_folder(const char *dir, const char *folder, char *out, size_t size);

#endif
