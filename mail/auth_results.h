/* auth_results.h: the Authentication-Results header field (RFC 8601): smtpd writes one with
 * the results of SPF, DKIM, DMARC and SMTP AUTH, and reads the authserv-id of the ones a
 * message arrives with, to remove those that claim to be its own. Pure functions. */
#ifndef TERN_AUTH_RESULTS_H
#define TERN_AUTH_RESULTS_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

#define AUTH_RESULTS_PROPS_MAX 4       /* properties of one method's result */
#define AUTH_RESULTS_COMMENT_MAX 200   /* a reason comment is cut to this many bytes */
#define AUTH_RESULTS_ID_MAX 256        /* an authserv-id read, with its NUL */

struct auth_results_prop {
    const char *name;     /* ptype "." property: "smtp.mailfrom", "header.d", "smtp.auth" */
    const char *value;    /* written as it is when a token or local-part@domain, else quoted */
};

struct auth_results_method {
    const char *method;   /* "spf", "dkim", "dmarc", "auth", ... */
    const char *result;   /* "pass", "fail", "none", ... */
    const char *reason;   /* NULL, or text for a "(comment)" after the result */
    struct auth_results_prop props[AUTH_RESULTS_PROPS_MAX];
    size_t nprops;
};

/* Appends the whole field to out: "Authentication-Results: AUTHSERV-ID;" then each method
 * as "method=result (reason) ptype.property=value ...", separated by ";", or "; none" when n
 * is 0; folded before a piece that would pass column 78 (a piece longer than a line stays
 * whole), each line ending in eol ("\r\n" or "\n"), the last one too. A reason's control
 * characters become spaces and its "(", ")" and "\" are escaped, so no reason can end the
 * comment or the field; it is cut at AUTH_RESULTS_COMMENT_MAX bytes. -1 with why in err (out
 * unchanged) for a method, result or property name that is not a token, an authserv-id or
 * value with a control character, or out's bound. */
int auth_results_compose(const char *authserv_id, const struct auth_results_method *m,
                         size_t n, const char *eol, struct buf *out, char *err, size_t errlen);

/* Reads the authserv-id at the start of an Authentication-Results field value (value[0..len),
 * after the colon, folded lines allowed): CFWS and comments skipped, then a token (RFC 2045;
 * 8-bit bytes allowed for RFC 6532) or a quoted-string (unquoted into id; no control
 * character but a tab), then an optional
 * version number (*version; 1 when absent). 1 with id[0..idsize) set, 0 when there is no
 * authserv-id (an empty value, an unclosed comment or quoted-string, too long for idsize).
 * Only the id and version are read: what follows is not checked. */
int auth_results_authserv_id(const char *value, size_t len, char *id, size_t idsize,
                             unsigned *version);

/* Whether a field value carries authserv_id (compared without regard to ASCII case): the
 * field a receiver removes before adding its own (RFC 8601 §5). */
bool auth_results_is_ours(const char *value, size_t len, const char *authserv_id);

#endif
