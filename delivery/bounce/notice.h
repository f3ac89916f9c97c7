/* notice.h: one delivery status notification of the bounce service: reads active/<ID> and its
 * status log (bounce/, defer/ or trace/), decides who gets a notice, and writes the notice as
 * a new queue file in incoming/. Runs in the queue directory, as mail_owner. */
#ifndef TERN_NOTICE_H
#define TERN_NOTICE_H
#include "dsn.h"
#include "qfile.h"

#define NOTICE_LOG_MAX (16u << 20)     /* bytes of a status log read for one notice */
#define NOTICE_RCPT_MAX 1000           /* recipients listed in one notice */

enum notice_status {
    NOTICE_QUEUED,     /* a notice was written: queue_id, notice_to */
    NOTICE_NONE,       /* nothing to send: no log, no record asking, or a dropped double bounce */
    NOTICE_DEFER,      /* it could not be done now: reason */
};

struct notice_result {
    enum notice_status status;
    char queue_id[QFILE_ID_MAX];
    char notice_to[1024];
    char reason[512];
};

/* Makes the notice of kind about active/<queue_id> (a valid queue ID). Failures are logged. */
void notice_make(const char *queue_id, enum dsn_kind kind, struct notice_result *res);

#endif
