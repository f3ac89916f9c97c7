/* maildrop.h: the files of maildrop/, written by the set-gid terndrop helper for sendmail(1)
 * and turned into queue files by pickup(8). A maildrop file uses the record format of queue
 * files (qrecord.h: a type byte, a varint length, the data), in this order:
 *
 *   MAGIC "tern-maildrop-1"
 *   SENDER        the envelope sender ("" for <>); an address without @ gets @$myorigin
 *   ATTR*         name=value: fullname, envid (plain text), ret (FULL|HDRS),
 *                 body (7BIT|8BITMIME), notify (NOTIFY_* bits for every recipient),
 *                 extract (yes: also take the recipients from To:, Cc:, Bcc: — sendmail -t)
 *   RECIPIENT*    as given on the command line (an address list: pickup splits it),
 *                 each optionally followed by RCPT_NOTIFY and RCPT_ORCPT (sendmail -bs)
 *   CONTENT*      the message as the user gave it (LF or CRLF line ends)
 *   END
 *
 * Both ends check the same rules (maildrop_check): terndrop before it writes a record, pickup
 * again when it reads the file, since the file comes from an ordinary user. */
#ifndef TERN_MAILDROP_H
#define TERN_MAILDROP_H
#include <stdbool.h>
#include <stddef.h>
#include "qfile.h"

#define MAILDROP_MAGIC_TEXT "tern-maildrop-1"
#define MAILDROP_FIELD_MAX 1000      /* longest sender, recipient or attribute record */
#define MAILDROP_RCPT_MAX 10000      /* recipient records in one file */
#define MAILDROP_ATTR_MAX 16

/* The validator: feed every record in order. */
struct maildrop_check {
    int stage;               /* where in the order above the file is */
    size_t nrcpt, nattr;
    unsigned long long content;   /* CONTENT bytes so far */
    unsigned long long limit;     /* most CONTENT bytes allowed (0: no limit) */
    bool ended;
};

void maildrop_check_init(struct maildrop_check *c, unsigned long long content_limit);
/* Checks the next record. 0, or -1 with the reason in err; EFBIG in errno (else EPROTO) when
 * the content passed the limit. */
int maildrop_check(struct maildrop_check *c, int type, const char *data, size_t len,
                   char *err, size_t errlen);

/* A buffered reader of records from a descriptor (a pipe or a file). */
struct maildrop_reader {
    int fd;
    char *buf;
    size_t len, pos, cap;
    bool eof;
    int timeout_ms;          /* per read (pipes); -1: none */
};

void maildrop_reader_init(struct maildrop_reader *r, int fd, int timeout_ms);
void maildrop_reader_free(struct maildrop_reader *r);
/* The next record: 1 with type/data/len (valid until the next call), 0 at a clean end of
 * input, -1 with errno (EPROTO for a malformed or truncated record, ETIMEDOUT). */
int maildrop_read(struct maildrop_reader *r, int *type, const char **data, size_t *len);

#endif
