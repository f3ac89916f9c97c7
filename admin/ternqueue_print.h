/* ternqueue_print.h: the two forms of the queue listing of ternqueue: Postfix's `postqueue -p`
 * (mailq) layout, and one JSON object per message (`postqueue -j`). Entries are printed as they
 * come, recipient by recipient, so a message with many recipients needs no memory. */
#ifndef TERN_TERNQUEUE_PRINT_H
#define TERN_TERNQUEUE_PRINT_H
#include <stdbool.h>
#include <stdio.h>
#include "qlist.h"

struct qprint {
    FILE *out;
    bool json;
    unsigned long count;             /* entries begun */
    unsigned long long bytes;        /* their sizes */
    /* the entry being printed */
    char *last_reason;               /* text: the reason shown last ("" none) */
    size_t nrcpt;                    /* json: recipients printed */
    long long next_attempt;
};

void qprint_init(struct qprint *p, FILE *out, bool json);
/* An entry's first line (text) or its fields up to the recipient list (json); e's recipients
 * are not printed (see qprint_entry). */
void qprint_begin(struct qprint *p, const struct qlist_entry *e);
void qprint_rcpt(struct qprint *p, const char *address, const char *reason);
void qprint_end(struct qprint *p);
/* begin, every recipient of e, end */
void qprint_entry(struct qprint *p, const struct qlist_entry *e);
/* Text: the footer (`-- N Kbytes in M Requests.` or `Mail queue is empty`); json: nothing. */
void qprint_finish(struct qprint *p);
void qprint_free(struct qprint *p);

/* s as the body of a JSON string: ", \ and control characters escaped (\b \f \n \r \t, else
 * \u00XX), valid UTF-8 kept, every byte that is not part of valid UTF-8 as \ufffd. */
void qprint_json_string(FILE *out, const char *s);
/* s for a terminal: valid UTF-8 kept, control characters and invalid bytes as '?'. */
void qprint_text(FILE *out, const char *s);

#endif
