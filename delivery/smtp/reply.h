/* reply.h: SMTP/LMTP server replies, parsed without I/O: one line at a time into a reply
 * (code, enhanced status code, text), multiline replies included, with hard bounds on line
 * length and line count; and the EHLO reply's extensions. */
#ifndef TERN_SMTP_REPLY_H
#define TERN_SMTP_REPLY_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

#define REPLY_LINE_MAX 2048     /* bytes of one line, CRLF excluded (RFC 5321 says 512) */
#define REPLY_LINES_MAX 100     /* lines of one multiline reply */
#define REPLY_TEXT_MAX 2048     /* the text kept for logs and notices; longer text is cut */

struct smtp_reply {
    int code;                   /* 200-599, of the last line */
    char dsn[16];               /* the reply's enhanced status code (RFC 3463) when it gives
                                 * one of its class, else derived: "2.0.0", "4.0.0", "5.0.0" */
    bool dsn_given;             /* dsn came from the server */
    char text[REPLY_TEXT_MAX];  /* the lines as received (codes included) joined by spaces,
                                 * control and 8-bit bytes shown as '?' */
    size_t nlines;
};

struct reply_parser {
    struct smtp_reply reply;    /* complete after reply_feed returned REPLY_DONE */
    struct buf lines;           /* each line's text after "NNN-" / "NNN ", '\n'-terminated */
    bool done;                  /* the previous feed completed a reply: the next starts over */
};

enum { REPLY_ERROR = -1, REPLY_MORE = 0, REPLY_DONE = 1 };

void reply_parser_init(struct reply_parser *p);
void reply_parser_free(struct reply_parser *p);
/* Takes one line without its CRLF. REPLY_MORE after a continuation line ("250-..."),
 * REPLY_DONE after the last line, REPLY_ERROR with the reason in err for a malformed line,
 * one longer than REPLY_LINE_MAX or a reply of more than REPLY_LINES_MAX lines. */
int reply_feed(struct reply_parser *p, const char *line, size_t len, char *err, size_t errlen);

/* The extensions of an EHLO/LHLO reply, from its lines (reply_parser.lines) after the first. */
struct smtp_caps {
    bool pipelining, starttls, eightbitmime, smtputf8, dsn, size;
    unsigned long long size_limit;   /* SIZE's argument; 0 when absent (no stated limit) */
};
void reply_caps(const char *lines, size_t len, struct smtp_caps *caps);

/* The status class of a reply code: 2, 3, 4 or 5. */
static inline int reply_class(int code) { return code / 100; }

#endif
