/* session.h: one SMTP session of smtpd: the dialogue of RFC 5321 and its extensions over a
 * libevent bufferevent (plain, STARTTLS or implicit TLS), from the greeting to the close. */
#ifndef TERN_SESSION_H
#define TERN_SESSION_H
#include <sys/socket.h>

/* Takes over fd (a connected, non-blocking client socket) and starts the session. */
void session_start(int fd, const struct sockaddr *peer, socklen_t len);

#endif
