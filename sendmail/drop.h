/* drop.h: sendmail's side of terndrop: it starts the set-gid helper with a pipe on its standard
 * input and streams one maildrop file's records into it (queue/maildrop.h), then waits for its
 * verdict. Used once per message by the command line mode and by -bs. */
#ifndef TERN_DROP_H
#define TERN_DROP_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "buf.h"

struct drop {
    pid_t pid;
    int fd;               /* the pipe to terndrop */
    struct buf out;       /* records not yet written */
    struct buf content;   /* message bytes not yet in a CONTENT record */
    bool broken;          /* terndrop stopped reading (it says why itself) */
};

/* Starts terndrop (program) with `-c config_dir`; writes MAGIC and the sender. -1 with a
 * message on stderr when it cannot be started. */
int drop_open(struct drop *d, const char *program, const char *config_dir, const char *sender);
void drop_attr(struct drop *d, const char *name, const char *value);
void drop_recipient(struct drop *d, const char *address);
void drop_rcpt_param(struct drop *d, int type, const char *value);   /* RCPT_NOTIFY, RCPT_ORCPT */
/* Message bytes (any amount; sent as CONTENT records of up to 64 KiB). */
void drop_content(struct drop *d, const char *p, size_t n);
/* Sends what is buffered now (before waiting for more input, so that terndrop never waits on
 * data sendmail holds). */
void drop_flush(struct drop *d);
/* Ends the file (END), waits for terndrop: its exit code (a sysexits value, 0 when the message
 * is safe in maildrop/). */
int drop_close(struct drop *d);
/* Gives up on the message: terndrop sees the input end without END and removes its file. */
void drop_abort(struct drop *d);

#endif
