/* ipc.h: the one framing for every internal socket (DESIGN.md §3).
 *
 * A message is a list of name=value attributes. On the wire it is a netstring whose payload is
 * a sequence of netstrings, one per attribute:  <len>:<n1>:name=value,<n2>:name=value,,
 * Lengths are decimal without leading zeros; names are [a-z0-9_]{1,32}; values are any bytes
 * except NUL (so CR, LF and commas from peer text can never forge an attribute). The decoder is
 * strict and pure (no I/O) and rejects anything else. Message types and attribute names live in
 * ipc_proto.h; the reader for an event loop (ipc_evbuffer.c) and the blocking helpers with
 * timeouts (ipc_io.c) are at the end of this file. */
#ifndef TERN_IPC_H
#define TERN_IPC_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "errtext.h"

struct evbuffer;   /* libevent's (event2/buffer.h): only ipc_evbuffer_take needs it */

#define IPC_NAME_MAX 32
#define IPC_MSG_MAX_DEFAULT (1024 * 1024)   /* bytes of one encoded message */
#define IPC_ATTR_MAX 10000                  /* attributes in one message */

struct ipc_attr {
    char *name;
    char *value;        /* NUL-terminated; contains no NUL */
    size_t value_len;
};

struct ipc_msg {
    struct ipc_attr *attr;
    size_t count, cap;
};

void ipc_msg_init(struct ipc_msg *m);
void ipc_msg_clear(struct ipc_msg *m);        /* drop all attributes, keep it usable */
void ipc_msg_free(struct ipc_msg *m);
/* Adds an attribute (repeats allowed: lists are repeated names). Returns -1 for an invalid
 * name or a value containing NUL (value_len form), or past IPC_ATTR_MAX. */
int ipc_add(struct ipc_msg *m, const char *name, const char *value);
int ipc_add_len(struct ipc_msg *m, const char *name, const char *value, size_t len);
int ipc_addf(struct ipc_msg *m, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Whether the last attribute is keep=1 (IPC_A_KEEP in ipc_proto.h); takes it off if so. */
bool ipc_take_keep(struct ipc_msg *m);
/* First value of name, or NULL. */
const char *ipc_get(const struct ipc_msg *m, const char *name);
/* Parses the first value of name as a decimal integer in [min, max]; -1 if missing or bad. */
int ipc_get_long(const struct ipc_msg *m, const char *name, long long min, long long max,
                 long long *out);
/* Checks that every attribute name is in `allowed` (NULL-terminated) and every name in
 * `required` is present. Returns 0, or -1 with the reason in err. */
int ipc_check(const struct ipc_msg *m, const char *const *required, const char *const *allowed,
              char *err, size_t errlen);

/* Appends the encoding of m to out. Returns -1 when out's bound would be exceeded. */
int ipc_encode(const struct ipc_msg *m, struct buf *out);
/* Decodes one message from the start of data[0..len). Returns 1 and sets *used when a whole
 * message was decoded into out (cleared first), 0 when more bytes are needed, -1 with the
 * reason in err when the input is malformed or the message would exceed max bytes (err may be
 * NULL when errlen is 0). */
int ipc_decode(const char *data, size_t len, size_t max, struct ipc_msg *out, size_t *used,
               char *err, size_t errlen);

/* For a process on an event loop: takes one message off the front of in (a libevent input
 * buffer). 1: m holds it (cleared first) and its bytes are drained, so what follows stays for
 * the next call; 0: in holds no more than the start of a message (nothing drained; wait for
 * more); -1 with the reason in err: the bytes are malformed or the message would exceed max
 * bytes (the connection cannot go on). */
int ipc_evbuffer_take(struct evbuffer *in, size_t max, struct ipc_msg *m, char *err,
                      size_t errlen);

/* Blocking helpers over stream sockets. timeout_ms bounds the whole call (negative: no limit);
 * on timeout they fail with errno ETIMEDOUT. ipc_connect_unix returns the connected descriptor
 * (close-on-exec); the others return 0 on success. All return -1 with errno on failure; a peer that
 * sends a malformed message gives errno EPROTO and the reason in err (err is written then only;
 * it may be NULL when errlen is 0). */
int ipc_connect_unix(const char *path, int timeout_ms);
int ipc_send(int fd, const struct ipc_msg *m, int timeout_ms);
/* Sends bytes already encoded (the rest of a frame whose start went another way). */
int ipc_send_bytes(int fd, const void *data, size_t len, int timeout_ms);
int ipc_recv(int fd, struct ipc_msg *m, size_t max, int timeout_ms, char *err, size_t errlen);
/* Sends a wakeup message (no reply) to the service at path, e.g. "public/qmgr" after a new
 * queue file: a hint only, so every failure is ignored, and it never waits. The connection is
 * kept for the next wakeup to the same path (the server reads wakeup after wakeup on it, and
 * may close it when idle: the next call connects again); one process, no fork in between. */
void ipc_wakeup(const char *path);
/* connect + send request + receive one reply + close */
int ipc_call(const char *path, const struct ipc_msg *req, struct ipc_msg *reply, size_t max,
             int timeout_ms, char *err, size_t errlen);

#endif
