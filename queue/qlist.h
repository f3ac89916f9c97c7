/* qlist.h: the queue as mailq shows it: each message of incoming/, active/, deferred/ and hold/
 * with its sender, arrival time, size, next attempt and the recipients still to deliver, each
 * with the reason it waits (from defer/ID). Read by the showq service for everyone, and by
 * ternqueue itself (root, when showq does not answer); also the entries' form on the wire of
 * public/showq (ipc_proto.h). Reads only the envelope of each queue file, never its content. */
#ifndef TERN_QLIST_H
#define TERN_QLIST_H
#include <stddef.h>
#include <sys/stat.h>
#include "buf.h"
#include "ipc.h"
#include "qfile.h"

#define QLIST_ENVELOPE_MAX (64u << 20)   /* envelope bytes read from one queue file */
#define QLIST_DEFER_LOG_MAX (16u << 20)  /* bytes read from one defer/ID log */
#define QLIST_QUEUE_NAME_MAX 16

/* The queues listed, in listing order ("incoming", "active", "deferred", "hold"), NULL-ended. */
extern const char *const qlist_queues[];

/* The envelope of one queue file: its records up to the first CONTENT record, read without
 * reading the content, whose size is summed from the record headers. */
struct qlist_envelope {
    char sender[512];
    double arrival;                   /* seconds since the epoch */
    unsigned long long content_size;  /* bytes of the message (as qmgr logs size=) */
    size_t content_offset;            /* offset of the first CONTENT (or the END) record */
    struct stat st;                   /* of the open file */
};

/* Reads the envelope of the queue file at path into records (replacing its content; bound
 * QLIST_ENVELOPE_MAX): the envelope records followed by an END record, a well-formed queue
 * file without content, so qfile_recipients() walks its recipients. Checks the framing of the
 * whole file (END last, only CONTENT records between) and the envelope order. 0, or -1 with
 * errno (ENOENT: gone, e.g. moved to another queue meanwhile; EPROTO: malformed; EFBIG: an
 * envelope past the bound) and the reason in err. */
int qlist_read_envelope(const char *path, struct buf *records, struct qlist_envelope *env,
                        char *err, size_t errlen);

struct qlist_rcpt {
    char *address;
    const char *reason;     /* why it waits (defer/ID), "" when not known */
};

struct qlist_entry {
    char queue[QLIST_QUEUE_NAME_MAX];
    char id[QFILE_ID_MAX];
    long long arrival;               /* seconds since the epoch */
    long long next_attempt;          /* deferred/: the file's mtime; else 0 (unknown) */
    unsigned long long size;         /* bytes of the message */
    char sender[512];                /* "" for <> */
    size_t nrcpt;                    /* recipients still to deliver (R records) */
    struct qlist_rcpt *rcpt;
    char **reasons;                  /* owned: the distinct texts rcpt[].reason points to */
    size_t nreasons;
};

/* Reads queue/id (relative to the working directory, the queue directory) and the reasons of
 * defer/id. 0, or -1 with errno and err as qlist_read_envelope. */
int qlist_read_entry(const char *queue, const char *id, struct qlist_entry *e, char *err,
                     size_t errlen);
void qlist_entry_free(struct qlist_entry *e);

/* Lists every queue in qlist_queues order (files in directory order): fn gets each entry and
 * returns 0 to go on. A file that vanished meanwhile is skipped silently; one that cannot be
 * read goes to warn (may be NULL). Returns the number of entries, or -1 when fn stopped. */
long qlist_walk(int (*fn)(const struct qlist_entry *e, void *arg),
                void (*warn)(const char *queue, const char *id, const char *why, void *arg),
                void *arg);

/* The warn callback of qlist_walk that showq and ternqueue use: a log warning. */
void qlist_log_warning(const char *queue, const char *id, const char *why, void *arg);

/* The wire form (ipc_proto.h, public/showq): calls send with an entry message and as many
 * recipients messages as the pairs need (SHOWQ_PAIRS_MAX pairs each); send returns 0 to go on.
 * 0, or the first non-zero value send returned. */
int qlist_encode(const struct qlist_entry *e, int (*send)(const struct ipc_msg *m, void *arg),
                 void *arg);
/* Decodes the header of an entry message into e (nrcpt 0, no recipients). 0, or -1 with err. */
int qlist_decode_header(const struct ipc_msg *m, struct qlist_entry *e, char *err,
                        size_t errlen);
/* Calls fn for each recipient/delay_reason pair of an entry or recipients message, in order.
 * 0, or -1 with err for a malformed message (fn returning non-zero stops: its value). */
int qlist_decode_pairs(const struct ipc_msg *m,
                       int (*fn)(const char *address, const char *reason, void *arg), void *arg,
                       char *err, size_t errlen);

#endif
