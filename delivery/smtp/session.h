/* session.h: one connection to an SMTP or LMTP server, on a libevent bufferevent: connect,
 * greeting, EHLO (HELO when EHLO is refused; LHLO for LMTP), STARTTLS as the security level
 * asks, then commands whose replies come back in order (so the caller may pipeline), the
 * message content streamed dot-stuffed, and QUIT. Every wait has its smtp_*_timeout.
 *
 * Ownership: whoever holds a session (a delivery, the connection cache) gets its events
 * through session_ops. After ops->error the session is finished and frees itself (maybe
 * after a QUIT): the owner forgets it. session_quit and session_free hand it back too. */
#ifndef TERN_SMTP_SESSION_H
#define TERN_SMTP_SESSION_H
#include <stdbool.h>
#include <stddef.h>
#include "reply.h"
#include "smtp.h"
#include "statuslog.h"

struct session;

enum smtp_cmd { CMD_GREETING, CMD_EHLO, CMD_HELO, CMD_LHLO, CMD_STARTTLS, CMD_MAIL, CMD_RCPT,
                CMD_DATA, CMD_DOT, CMD_RSET, CMD_QUIT };

struct session_error {
    char dsn[16];                        /* class 4 or 5 */
    char text[STATUSLOG_TEXT_MAX];       /* "connect to h[a]:25: Connection refused", ... */
    char diag[STATUSLOG_TEXT_MAX];       /* "smtp; 554 ..." when a server's reply says why */
    bool greeted;                        /* the server greeted: relay and remote_mta apply */
    char relay[NEXTHOP_HOST_MAX + NEXTHOP_PATH_MAX + 16];   /* "host[addr]:port" */
    char host[NEXTHOP_HOST_MAX];         /* the server's name (for remote_mta) */
    bool retry_plain;                    /* at may the TLS handshake failed: try again plain */
};

struct session_ops {
    /* greeting, EHLO and STARTTLS went through: commands may be sent */
    void (*ready)(void *arg, struct session *s);
    /* the reply to a command (or to an expected reply) of the owner, in order */
    void (*reply)(void *arg, struct session *s, enum smtp_cmd cmd, size_t index,
                  const struct smtp_reply *r);
    /* the session failed and is gone */
    void (*error)(void *arg, struct session *s, const struct session_error *e);
};

/* Starts connecting to t (a UNIX socket when t->port is 0) at the given TLS level; at dane,
 * dane holds the server's usable TLSA records (copied). The callbacks come later, from the
 * loop. */
struct session *session_connect(const struct smtp_target *t, enum tls_level level,
                                const struct tls_dane *dane, const struct session_ops *ops,
                                void *arg);
void session_set_owner(struct session *s, const struct session_ops *ops, void *arg);

/* Sends line (without CRLF) and expects its reply; ops->reply gets (cmd, index). */
void session_command(struct session *s, enum smtp_cmd cmd, size_t index, const char *line);
/* Expects one more reply without sending anything (LMTP: one per recipient after the dot). */
void session_expect(struct session *s, enum smtp_cmd cmd, size_t index);
/* Streams the message of a queue file held in data[0..len) (env: its qfile_parse result; the
 * pieces of qfile_content_next) in the wire form (dotstuff.h) with the final dot; the caller
 * then expects the reply(ies). data and env must stay valid until that reply. */
struct qfile_envelope;
void session_send_content(struct session *s, const char *data, size_t len,
                          const struct qfile_envelope *env);
/* The same for content held in one piece, data[0..len). */
void session_send_flat(struct session *s, const char *data, size_t len);

/* Gives the session up: QUIT, its reply awaited at most timeout seconds, then closed. */
void session_quit(struct session *s, int timeout);
/* Gives the session up: closed at once. */
void session_free(struct session *s);
/* Closes every session still open (the process stops). */
void session_close_all(void);

const struct smtp_caps *session_caps(const struct session *s);
const struct smtp_target *session_target(const struct session *s);
const char *session_relay(const struct session *s);     /* "host[addr]:port" */
const char *session_name(const struct session *s);      /* "host[addr]" */
int session_uses(const struct session *s);              /* messages sent over it */
void session_count_use(struct session *s);
/* "host h[a] said: 550 5.1.1 ... (in reply to RCPT TO command)" */
void session_reply_text(const struct session *s, enum smtp_cmd cmd, const struct smtp_reply *r,
                        char *out, size_t size);
/* An error for a reply the owner finds fatal to the connection (class forced to 4). */
void session_reply_error(const struct session *s, enum smtp_cmd cmd, const struct smtp_reply *r,
                         struct session_error *e);

#endif
