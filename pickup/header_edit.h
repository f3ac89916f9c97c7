/* header_edit.h: what pickup does to the header of a locally submitted message: finds where the
 * header ends, notes the From:, Date: and Message-ID: it has and counts its Received: fields,
 * takes the recipients from To:, Cc: and Bcc: (sendmail -t), and removes Bcc: lines. The mail
 * layer's header scanner reads the header, as it does for smtpd. Pure: the caller passes the
 * start of the content with CRLF line ends. */
#ifndef TERN_HEADER_EDIT_H
#define TERN_HEADER_EDIT_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "header_scanner.h"

struct header_info {
    size_t header_len;      /* bytes of header fields at the start of the content */
    bool blank_line;        /* the header ended with an empty line (counted in header_len) */
    bool complete;          /* the header ended within the given bytes */
    bool has_from, has_date, has_msgid, has_sender;
    int received;           /* Received: fields (header_too_many_hops decides) */
    struct header_scanner scan;   /* where header_scan_more goes on */
};

/* Scans content[0..len): the header is the lines up to an empty line or the first line that is
 * not a header field (the body then starts without an empty line). When the header does not end
 * within len bytes, complete is false and header_len covers the whole lines seen. */
void header_scan(const char *content, size_t len, struct header_info *info);
/* The same, going on from where an earlier scan of the same (grown) content stopped: the
 * lines before info->header_len are not looked at again. An all-zero info starts a scan. */
void header_scan_more(const char *content, size_t len, struct header_info *info);

/* Appends the header fields of content[0..info->header_len) to out, without the empty line and
 * without Bcc: fields (and their continuation lines). For each To:, Cc: and Bcc: field (when
 * extract), calls cb with its value (folding included). out may be NULL (only extract).
 * -1 when out is full. */
int header_rewrite(const char *content, const struct header_info *info, bool extract,
                   struct buf *out, void (*cb)(const char *value, size_t len, void *arg),
                   void *arg);

#endif
