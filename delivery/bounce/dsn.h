/* dsn.h: the text of a delivery status notification (RFC 3464, RFC 3462 multipart/report),
 * built by the bounce service from a message's status records: a readable part, the
 * message/delivery-status part, and the original message (or only its header with RET=HDRS),
 * cut at bounce_size_limit; and the choice of the records a notice lists. Pure: no I/O. */
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
    const char *envid;           /* the ENVID as queued (xtext), or NULL; Original-Envelope-Id
                                  * shows it decoded when that gives printable ASCII */
    const char *sender;          /* the original envelope sender */
    const char *notice_to;       /* To: of the notice; NULL: the sender */
    bool postmaster_copy;        /* the original came from <> (it was a notice itself): the
                                  * notice goes to the postmaster and says so */
    time_t arrival;              /* Arrival-Date */
    time_t will_retry_until;     /* delay notices: Will-Retry-Until of each recipient; 0: none */
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
 * System <MAILER-DAEMON@reporting_mta>, To: <notice_to or sender>, Subject by kind
 * ("Undelivered Mail Returned to Sender", "Delayed Mail (still being retried)", "Successful
 * Mail Delivery Report"; "Postmaster Copy: Undelivered Mail" for a postmaster copy),
 * Auto-Submitted: auto-replied, MIME-Version, Content-Type: multipart/report;
 * report-type=delivery-status; boundary=... Only records whose action fits the kind are listed.
 * Returns 0, or -1 (out unchanged) when out's bound is reached. */
int dsn_format(const struct dsn_message *m, struct buf *out);

/* Whether a status record asks for a notice of this kind: its action fits (failed; delayed;
 * delivered, relayed or expanded) and its NOTIFY bits allow it (failure and delay: none given,
 * or the FAILURE or DELAY bit; success: the SUCCESS bit; NEVER: never). */
bool dsn_wanted(enum dsn_kind kind, const struct status_record *r);

/* The records one notice lists, gathered from a status log in order: only the wanted ones, and
 * the last one of each recipient (a log may hold one record per attempt), for at most max
 * recipients (their order is that of each recipient's first record). */
struct dsn_records {
    struct status_record *r;
    size_t n, cap, max;
    size_t dropped;              /* wanted records of recipients past max */
    size_t *slot;                /* hash of the recipients: index + 1, 0 for free */
    size_t nslots;
};
void dsn_records_init(struct dsn_records *s, size_t max);
/* 1 when r was taken (added, or it replaced its recipient's earlier record), 0 when it does not
 * ask for this kind of notice, -1 when it belongs to a recipient past max (counted). */
int dsn_records_add(struct dsn_records *s, enum dsn_kind kind, const struct status_record *r);
void dsn_records_free(struct dsn_records *s);

#endif
