/* smtp_parse.h: the SMTP command, address and ESMTP parameter parsers, used by smtpd,
 * sendmail -bs and pickup: pure functions over buffers (no I/O, no allocation that outlives the
 * call, no global state), so they are unit-tested and fuzzed directly
 * (tests/unit/test_smtp_parse.c, tests/fuzz/). The xtext of ENVID and ORCPT is queue/xtext.h. */
#ifndef TERN_SMTP_PARSE_H
#define TERN_SMTP_PARSE_H
#include <stdbool.h>
#include <stddef.h>
#include "errtext.h"
#include "qenvelope.h"   /* NOTIFY_* */

enum smtp_verb {
    SMTP_HELO, SMTP_EHLO, SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_BDAT, SMTP_RSET, SMTP_NOOP,
    SMTP_QUIT, SMTP_VRFY, SMTP_EXPN, SMTP_HELP, SMTP_STARTTLS, SMTP_AUTH,
    SMTP_OBSOLETE,   /* SEND, SOML, SAML, TURN: 502 5.5.1 */
    SMTP_UNKNOWN,    /* 500 5.5.2 */
};

struct smtp_command {
    enum smtp_verb verb;
    const char *args;      /* points into the line: the text after the verb and its separating
                            * spaces, without trailing spaces; "" when none */
    size_t args_len;
};

/* Splits one command line (CRLF already removed) into verb and arguments. The verb is
 * case-insensitive and ends at a space or the end of the line. Never fails: unknown verbs give
 * SMTP_UNKNOWN. */
void smtp_parse_command(const char *line, size_t len, struct smtp_command *out);

/* RFC 5321 4.5.3.1.1 says 64, and 4.5.3.1 that a server should impose no such limit where it
 * can: SRS and VERP addresses (bounces to forwarded and list mail) are often longer. As
 * Postfix, tern bounds the local part only by the path: at most 254 bytes beside "@x". */
#define SMTP_LOCAL_MAX 254
#define SMTP_DOMAIN_MAX 255
#define SMTP_PATH_MAX 256

struct smtp_address {
    bool null;             /* <> */
    bool utf8;             /* has bytes >= 0x80 (allowed only with SMTPUTF8) */
    bool quoted;           /* the local part was a quoted string */
    bool literal;          /* the domain is an address literal [1.2.3.4] / [IPv6:...] */
    bool source_route;     /* an old @a,@b: source route was given (and is ignored) */
    char local[SMTP_LOCAL_MAX * 2 + 3];   /* as written (quotes and escapes kept) */
    char domain[SMTP_DOMAIN_MAX + 1];     /* as written; "" for a bare local part (RCPT TO:<postmaster>) */
    char address[SMTP_PATH_MAX + 1];      /* local@domain as written, "" for <> */
};

/* Parses `<path>` at the start of s[0..len) (RFC 5321 Reverse-path / Forward-path, strict: the
 * angle brackets are required). allow_null: "<>" is accepted (MAIL); allow_bare_local: a
 * mailbox without @domain (only "postmaster", case-insensitive) is accepted (RCPT).
 * Returns the number of bytes consumed (through '>'), or -1 with the reason in err.
 * Enforces local part <= SMTP_LOCAL_MAX, domain <= 255, path <= 256 bytes; domain syntax (LDH
 * labels, or a valid address literal). 8-bit bytes set utf8 (the caller rejects them without
 * SMTPUTF8). */
int smtp_parse_path(const char *s, size_t len, bool allow_null, bool allow_bare_local,
                    struct smtp_address *out, char *err, size_t errlen);

enum smtp_body { BODY_NONE, BODY_7BIT, BODY_8BITMIME, BODY_BINARYMIME };
enum smtp_ret { RET_NONE, RET_FULL, RET_HDRS };
#define SMTP_ENVID_MAX 100
#define SMTP_ORCPT_MAX 500

struct mail_params {
    bool has_size;
    long long size;                   /* SIZE=, bytes */
    enum smtp_body body;              /* BODY= */
    enum smtp_ret ret;                /* RET= */
    char envid[SMTP_ENVID_MAX + 1];   /* ENVID=, xtext-decoded; "" when absent */
    bool smtputf8;                    /* SMTPUTF8 */
    bool has_auth;
    char auth[SMTP_PATH_MAX + 1];     /* AUTH=, xtext-decoded mailbox or "<>" */
};

struct rcpt_params {
    unsigned notify;                  /* NOTIFY_* bits, 0 when absent */
    char orcpt_type[32];              /* ORCPT= address type, e.g. "rfc822"; "" when absent */
    char orcpt[SMTP_ORCPT_MAX + 1];   /* ORCPT= address, xtext-decoded */
};

/* Parse the ESMTP parameters after the path (s: the rest of the line after '>'). Keywords are
 * case-insensitive; each may appear once; unknown keywords and bad values fail. Return 0, or -1
 * with the reason in err (the caller replies 555 5.5.4 for unknown/bad parameters). */
int smtp_parse_mail_params(const char *s, size_t len, struct mail_params *out, char *err,
                           size_t errlen);
int smtp_parse_rcpt_params(const char *s, size_t len, struct rcpt_params *out, char *err,
                           size_t errlen);

/* HELO/EHLO argument: a domain or an address literal; returns 0 or -1 with err. */
int smtp_parse_helo(const char *s, size_t len, char *err, size_t errlen);

#endif
