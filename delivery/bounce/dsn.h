/* dsn.h: the text of a delivery status notification (RFC 3464, RFC 3462 multipart/report),
 * built by the bounce service from a message's status records: a readable part, the
 * message/delivery-status part, and the original message (or only its header with RET=HDRS),
 * cut at bounce_size_limit. Pure: no I/O. */
#ifndef TERN_DSN_H
#define TERN_DSN_H
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include "buf.h"
#include "statuslog.h"

enum dsn_kind { DSN_FAILURE, DSN_DELAY, DSN_SUCCESS };

struct dsn_message {
    enum dsn_kind kind;
    const char *reporting_mta;   /* myhostname */
    const char *queue_id;        /* of the original message */
    const char *envid;           /* Original-Envelope-Id, or NULL */
    const char *sender;          /* the original envelope sender (the notice goes there) */
    time_t arrival;              /* Arrival-Date */
    const struct status_record *records;
    size_t nrecords;
    const char *original;        /* the original message content, CRLF line ends */
    size_t original_len;
    bool headers_only;           /* RET=HDRS: only the original's header */
    size_t size_limit;           /* bounce_size_limit: the original part is cut to this */
    const char *boundary;        /* a MIME boundary string that the caller made unique */
    time_t now;                  /* Date: */
    const char *message_id;      /* Message-ID: of the notice, e.g. "<ID@host>" */
};

/* Appends the whole notice (header and body, CRLF line ends) to out: From: Mail Delivery
 * System <MAILER-DAEMON@reporting_mta>, To: <sender>, Subject by kind ("Undelivered Mail
 * Returned to Sender", "Delayed Mail (still being retried)", "Successful Mail Delivery
 * Report"), Auto-Submitted: auto-replied, MIME-Version, Content-Type: multipart/report;
 * report-type=delivery-status; boundary=... Returns 0, or -1 when out's bound is reached. */
int dsn_format(const struct dsn_message *m, struct buf *out);

#endif
