/* message.h: the message a delivery request is about, read from active/<queue_id>: the
 * envelope, the attributes the smtp client passes on (BODY, SMTPUTF8, RET, ENVID), the content
 * size and whether it holds 8-bit bytes. The content stays in the loaded file and is streamed
 * from its CONTENT records (session_send_content). */
#ifndef TERN_SMTP_MESSAGE_H
#define TERN_SMTP_MESSAGE_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "qfile.h"

struct message {
    struct buf data;               /* the whole queue file */
    struct qfile_envelope env;     /* sender, envid (xtext), ret */
    size_t size;                   /* content bytes, as queued (CRLF line ends) */
    bool eightbit;                 /* the content has a byte above 127 */
    bool body_8bitmime;            /* the client said BODY=8BITMIME (attribute body) */
    bool smtputf8;                 /* the client said SMTPUTF8 (attribute smtputf8=yes) */
    struct buf seven_bit;          /* the content made 7-bit (mime_downgrade.h) */
    bool converted;                /* seven_bit holds it */
};

/* Loads active/<queue_id>. 0, or -1 with the reason in err (the caller defers). */
int message_load(struct message *m, const char *queue_id, char *err, size_t errlen);
void message_free(struct message *m);
/* Makes the 7-bit form of an 8-bit message's content (m->seven_bit) for a server without
 * 8BITMIME, once. 0, or -1 when it cannot be made (nesting too deep, too large). */
int message_convert(struct message *m);

#endif
