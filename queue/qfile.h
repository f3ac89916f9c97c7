/* qfile.h: the queue file: its record format, its queue ID, and the writer that smtpd, pickup,
 * qmgr (forwarded copies) and bounce (notices) use to put a message in incoming/ durably; plus a
 * strict reader for qmgr, the admin tools and the tests.
 *
 * A queue file is a sequence of records (qrecord.h: a type byte, a varint length, the data).
 * The first record is the magic QREC_MAGIC; the last is QREC_END. The envelope records between
 * are written from a struct qenvelope (qenvelope.h, which names the attributes).
 *
 * Durability: the file is a spare (qspare.h) renamed to incoming/<ID>, or a new file created as
 * incoming/t<unique> and at once renamed to incoming/<ID>; either way with mode 0200
 * (QFILE_MODE_WRITING: no read bit, so no reader takes it while it is written).
 * Commit = the read bit set (mode 0600, the completeness mark of DESIGN.md §2, invariant 2),
 * fsync(file), and an fsync(incoming/) that started after the rename — only then may smtpd
 * answer 250. qcommit.h does the commit off the event loop, and starts that directory fsync
 * while the content still arrives. */
#ifndef TERN_QFILE_H
#define TERN_QFILE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "buf.h"
#include "errtext.h"
#include "qenvelope.h"
#include "qrecord.h"

#define QFILE_ID_MAX 32          /* a queue ID is shorter than this, NUL included */
#define QREC_MAGIC_TEXT "tern-queue-1"
#define QFILE_CONTENT_CHUNK (64u << 10)   /* the most content qfile_put_content puts in a record */

/* Mode bits of a queue file: 0200 while it is written, 0600 once complete (every reader checks
 * qfile_complete); qmgr adds the owner's execute bit once it sent the delay notice, so a restart
 * never sends it twice. */
#define QFILE_MODE_WRITING 0200
#define QFILE_MODE 0600
#define QFILE_MODE_WARNED 0100
/* Whether a queue directory entry with this mode (from lstat) is a complete message. */
bool qfile_complete(mode_t mode);

/* A queue ID: the arrival time in microseconds (fixed width, so IDs sort by arrival) followed
 * by the inode number of the queue file, in an alphabet of digits and upper-case letters:
 * unique for the life of the host, a safe file name, never starting with 't'. */
int qfile_make_id(uint64_t usec, uint64_t inode, char id[QFILE_ID_MAX]);
bool qfile_valid_id(const char *name);
/* The inode number a valid queue ID ends with (false for an invalid ID). */
bool qfile_id_inode(const char *id, uint64_t *inode);

struct qfile;   /* a queue file being written */

/* Makes incoming/<ID> in the queue directory (the process's working directory) with mode
 * QFILE_MODE_WRITING: a spare file claimed (qspare.h), or a new one created O_EXCL|O_NOFOLLOW
 * under a temporary name and renamed to its ID at once. NULL with errno on failure. */
struct qfile *qfile_create(void);
const char *qfile_id(const struct qfile *q);
/* Buffered record writes (flushed when the buffer passes 64 KiB and at qfile_finish). -1 with
 * errno on a write error; once an error happened every later call fails too. */
int qfile_put(struct qfile *q, enum qrec_type type, const void *data, size_t len);
int qfile_put_attr(struct qfile *q, const char *name, const char *value);
/* The message content (header and body, CRLF line ends), as CONTENT records of at most
 * QFILE_CONTENT_CHUNK bytes each. */
int qfile_put_content(struct qfile *q, const void *data, size_t len);
/* After the content: a header field (name, value, line ends, final CRLF) that the message is
 * delivered with in front of everything (a HEADER record of the trailer). Also allowed in the
 * trailer: qfile_put_attr, for attributes decided at the end of the message. */
int qfile_put_header(struct qfile *q, const char *field, size_t len);
/* Writes END, flushes, and cuts off what a reused spare held beyond it. After it, the file only
 * needs qcommit. -1 with errno. */
int qfile_finish(struct qfile *q);
/* The descriptor, and the name relative to the queue dir (incoming/<ID>). */
int qfile_fd(const struct qfile *q);
const char *qfile_path(const struct qfile *q);
/* For qcommit: marks the file complete (mode 0600) and fsyncs it. Its directory entry is made
 * durable apart. -1 with errno. */
int qfile_seal(struct qfile *q);
/* For qcommit: the number it gave the file's directory entry (0: none yet). */
uint64_t qfile_dir_gen(const struct qfile *q);
void qfile_set_dir_gen(struct qfile *q, uint64_t gen);
/* Abandons a file not committed (or whose commit failed): unlinks it, frees q. */
void qfile_abort(struct qfile *q);
/* Frees q after a commit (the file stays). */
void qfile_free(struct qfile *q);
/* Synchronous commit for programs without an event loop: qfile_seal, fsync of incoming/. */
int qfile_commit_sync(struct qfile *q);

/* Reading a complete queue file (qmgr, tools, tests): loads it whole (bounded by max) and checks
 * its structure (qfile_parse). 0, or -1 with the reason in err and errno: EPROTO for a
 * malformed file, EFBIG for one larger than max, another value when it could not be read. */
struct qfile_envelope {
    char sender[512];
    double arrival;
    size_t nrcpt;
    size_t content_offset;   /* offset in the file of the first CONTENT record (without
                              * content: of the first trailer record, or of END) */
    size_t trailer_offset;   /* of the first trailer record (HEADER or ATTR after the content);
                              * 0 when there is no trailer */
    size_t content_size;     /* bytes of the message as delivered: trailer HEADER fields and
                              * CONTENT records */
    char envid[QENVID_XTEXT_MAX + 1];   /* the "envid" attribute (xtext as stored), or "" */
    char ret[8];             /* the "ret" attribute: "FULL", "HDRS" or "" */
    char body[16];           /* the "body" attribute: "7BIT", "8BITMIME", "BINARYMIME" or "" */
    bool smtputf8;           /* "smtputf8=yes" */
    bool valias_expanded;    /* "valias_expanded=yes": its recipients are the result of a
                              * virtual alias expansion, not to be expanded again */
    char quarantine[32];     /* the "quarantine" attribute of the trailer, or "" */
};
int qfile_read(const char *path, size_t max, struct buf *out, struct qfile_envelope *env,
               char *err, size_t errlen);
/* The check of qfile_read over a file held in data[0..len): MAGIC first, END last, every record
 * well formed and of a known type, the envelope records in order; fills env. 0, or -1 with the
 * reason in err. Pure. */
int qfile_parse(const char *data, size_t len, struct qfile_envelope *env, char *err,
                size_t errlen);

/* The largest queue file a reader should load: the larger of message_size_limit and
 * QFILE_CONTENT_MAX, plus room for the envelope, the headers tern adds and a notice's text.
 * (With message_size_limit = 0, smtpd accepts messages of any size, but a message larger than
 * QFILE_CONTENT_MAX cannot be delivered: qmgr moves it to hold/.) */
#define QFILE_CONTENT_MAX ((size_t)1 << 30)
size_t qfile_read_limit(void);
/* Appends the message as delivered (qfile_content_next's pieces: the trailer's header fields,
 * then the CONTENT records: header and body, CRLF line ends as queued) of a file loaded by
 * qfile_read to out. 0, or -1 when out's bound is reached. */
int qfile_content(const char *data, size_t len, const struct qfile_envelope *env,
                  struct buf *out);
/* The message as delivered, piece by piece, without a copy: the data of each trailer HEADER
 * record in file order, then of each CONTENT record. Start with it zeroed; false at the end.
 * The one way to read a message out of a queue file that qfile_parse accepted. */
struct qfile_content_iter {
    size_t pos;
    int phase;
};
bool qfile_content_next(const char *data, size_t len, const struct qfile_envelope *env,
                        struct qfile_content_iter *it, const char **piece, size_t *piece_len);

/* One recipient of a queue file as qfile_recipients sees it; the pointers are into the data. */
struct qfile_rcpt {
    const char *address;
    size_t address_len;
    const char *orcpt;       /* the ORCPT record ("type;xtext"), or NULL */
    size_t orcpt_len;
    unsigned notify;         /* NOTIFY_* bits, 0 when the record is absent or malformed */
    bool done;               /* a D record */
    size_t offset;           /* of the record's type byte in the file (for qfile_mark_done) */
};
/* The recipients of a complete queue file held in data[0..len) (as qfile_read loaded it): cb
 * gets each R or D record in file order, with the N and O records that follow it. cb returns 0
 * to go on. Returns 0, or -1 for a malformed file. Pure. */
int qfile_recipients(const char *data, size_t len,
                     int (*cb)(const struct qfile_rcpt *rcpt, void *arg), void *arg);
/* Marks the recipient whose R record starts at offset as delivered: overwrites its type byte
 * with 'D' in place (pwrite). The caller fsyncs the file before the message leaves active/ to
 * stay in the queue; until then a crash of the machine may lose the mark, and the recipient
 * is delivered again (DESIGN.md §2, invariant 3: twice, never zero times). Refuses (EINVAL)
 * when the byte there is not 'R' or 'D'. 0, or -1 with errno. */
int qfile_mark_done(int fd, size_t offset);

#endif
