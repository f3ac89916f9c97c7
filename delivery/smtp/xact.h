/* xact.h: one mail transaction over a ready session: the checks against the server's
 * extensions (SIZE, SMTPUTF8; 8-bit content to a server without 8BITMIME goes as
 * quoted-printable), MAIL FROM, RCPT TO, DATA (pipelined when the server
 * offers PIPELINING, else one at a time), the message, and the replies turned into results
 * for the recipients of a delivery request that have none yet. */
#ifndef TERN_SMTP_XACT_H
#define TERN_SMTP_XACT_H
#include <stdbool.h>
#include "delivery_proto.h"
#include "message.h"
#include "session.h"

struct xact;

/* How a transaction ended. */
enum xact_end {
    XACT_OK,          /* the session is in sync and may carry another message */
    XACT_FAILED,      /* the session failed and is gone; err says why */
    XACT_RETRY,       /* a reused session refused MAIL: it was let go; try a fresh one */
};

struct xact_job {
    const struct delivery_request *req;
    struct message *msg;           /* converted to 7-bit when a server needs it */
    struct delivery_reply *reply;
    bool *done;                    /* per recipient: its result is final */
    /* the end; s is still the caller's with XACT_OK only */
    void (*finished)(void *arg, struct session *s, enum xact_end end,
                     const struct session_error *err);
    void *arg;
};

/* Takes over s (its owner becomes the transaction) for the recipients not done yet. reused:
 * s carried an earlier message. finished is called later, from the loop. */
void xact_start(const struct xact_job *job, struct session *s, bool reused);

#endif
