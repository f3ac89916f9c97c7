/* exitcode.h: what the exit of a |command delivery means (sysexits.h, as Postfix reads it):
 * 0 delivered, EX_TEMPFAIL and the other temporary codes deferred, the rest bounced with the
 * code's enhanced status, a signal deferred. Pure. */
#ifndef TERN_EXITCODE_H
#define TERN_EXITCODE_H
#include "delivery_proto.h"

struct exit_meaning {
    enum delivery_status status;
    const char *dsn;      /* "2.0.0", "4.3.0", "5.1.1", ... */
    const char *text;     /* "user unknown"; "" for 0 */
};

/* The meaning of a wait(2) status of the command's shell. For a signal, text is "killed by a
 * signal" (the caller names the signal). */
void exitcode_meaning(int wait_status, struct exit_meaning *m);

#endif
