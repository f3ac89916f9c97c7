/* server.h: the skeleton every tern daemon runs on. server_main() reads the arguments the master
 * passes (master_proto.h), loads tern.conf, opens the log, calls pre_jail as root, drops
 * privileges (mail_owner, optional chroot), calls post_jail, reports READY to the master, then
 * runs a libevent loop that accepts clients on the inherited sockets and hands each to accept().
 * SIGTERM stops accepting and exits once the last client is done (the master replaces processes
 * that way on reload and stop). */
#ifndef TERN_SERVER_H
#define TERN_SERVER_H
#include <stdbool.h>
#include <sys/socket.h>

struct event_base;

struct server_ops {
    const char *name;            /* program name for the log: "smtpd" */
    int max_clients;             /* clients one process serves at once (1: one at a time) */
    void (*pre_jail)(void);      /* as root, before privileges are dropped; may be NULL */
    void (*post_jail)(void);     /* after privileges are dropped; may be NULL */
    /* A client connection, non-blocking and close-on-exec. The service owns fd and calls
     * server_client_done() once it has closed it. */
    void (*accept)(int fd, const struct sockaddr *peer, socklen_t peerlen);
    void (*stopping)(void);      /* SIGTERM: finish current clients; may be NULL */
};

_Noreturn void server_main(int argc, char **argv, const struct server_ops *ops);
struct event_base *server_base(void);
const char *server_service(void);    /* the master.conf service name: "127.0.0.1:2525", "qmgr" */
char **server_args(void);            /* master.conf arguments after the options; NULL-terminated */
void server_client_done(void);
bool server_stopping(void);          /* SIGTERM came: finish, keep no connection */

/* For a service that answers one request at a time (max_clients 1: local, virtual): serve is
 * called for the request on fd now and, as long as it returns true, for each next request on
 * the same connection (the client keeps it: IPC_A_KEEP in ipc_proto.h). The connection is
 * closed, and server_client_done called, when serve returns false, after SERVER_KEEP_IDLE_S
 * seconds without a request, or on SIGTERM. */
#define SERVER_KEEP_IDLE_S 10
void server_serve_kept(int fd, bool (*serve)(int fd));

#endif
