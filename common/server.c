/* server.c: the daemon skeleton of server.h: the child side of the master protocol
 * (master_proto.h), privilege dropping before any input is read, and the accept loop. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>
#include "config.h"
#include "log.h"
#include "master_proto.h"
#include "mem.h"
#include "priv.h"
#include "server.h"

#define SERVER_MAX_LISTEN MASTER_MAX_LISTEN

static struct {
    const struct server_ops *ops;
    struct event_base *base;
    const char *service;
    char **args;
    struct event *listen_ev[SERVER_MAX_LISTEN];
    int listen_fd[SERVER_MAX_LISTEN];
    int nlisten;
    int clients;
    bool taken, full, stopping;
    uint32_t generation;
    pid_t master_pid;
    pid_t pid;                   /* this process, for its status records */
} S;

/* A connection server_serve_kept waits on for the client's next request. */
struct kept_conn {
    int fd;
    struct event *ev;
    bool (*serve)(int fd);
    LIST_ENTRY(kept_conn) link;
};
static LIST_HEAD(, kept_conn) kept_conns = LIST_HEAD_INITIALIZER(kept_conns);

static void report(enum master_status_code code)
{
    struct master_status st = { (int32_t)S.pid, S.generation, code, 0 };
    /* a SOCK_SEQPACKET record: it arrives whole and alone, whatever the other processes write.
     * The socket is non-blocking; when a burst filled it, wait a little (bounded) for the
     * master to read rather than drop the record. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (send(MASTER_STATUS_FD, &st, sizeof st, MSG_NOSIGNAL) == sizeof st)
            return;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            break;
        struct pollfd p = { .fd = MASTER_STATUS_FD, .events = POLLOUT };
        poll(&p, 1, 1000);
    }
    if (errno != EPIPE)
        log_warn("cannot report to the master: %s", strerror(errno));
}

struct event_base *server_base(void) { return S.base; }
const char *server_service(void) { return S.service; }
char **server_args(void) { return S.args; }

static void set_listening(bool on)
{
    for (int i = 0; i < S.nlisten; i++) {
        if (S.listen_ev[i] == NULL)
            continue;
        if (on)
            event_add(S.listen_ev[i], NULL);
        else
            event_del(S.listen_ev[i]);
    }
}

static void maybe_exit(void)
{
    if (S.stopping && S.clients == 0) {
        log_info("stopped");
        exit(0);
    }
}

void server_client_done(void)
{
    if (S.clients > 0)
        S.clients--;
    if (S.full && S.clients < S.ops->max_clients && !S.stopping) {
        S.full = false;
        set_listening(true);
        report(MASTER_STAT_AVAIL);
    }
    maybe_exit();
}

bool server_stopping(void) { return S.stopping; }

static void kept_close(struct kept_conn *k)
{
    LIST_REMOVE(k, link);
    event_free(k->ev);
    close(k->fd);
    free(k);
    server_client_done();
}

static void on_kept(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct kept_conn *k = arg;
    if ((what & EV_TIMEOUT) || S.stopping || !k->serve(k->fd))
        kept_close(k);
}

void server_serve_kept(int fd, bool (*serve)(int fd))
{
    struct kept_conn *k = NULL;
    if (serve(fd) && !S.stopping) {
        k = xcalloc(1, sizeof *k);
        k->ev = event_new(S.base, fd, EV_READ | EV_PERSIST, on_kept, k);
    }
    struct timeval idle = { SERVER_KEEP_IDLE_S, 0 };
    if (k == NULL || k->ev == NULL || event_add(k->ev, &idle) < 0) {
        if (k && k->ev)
            event_free(k->ev);
        free(k);
        close(fd);
        server_client_done();
        return;
    }
    k->fd = fd;
    k->serve = serve;
    LIST_INSERT_HEAD(&kept_conns, k, link);
}

static void resume_listening(evutil_socket_t fd, short what, void *arg)
{
    if (!S.full && !S.stopping)
        set_listening(true);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    int fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* out of resources: the socket stays readable, so pause instead of spinning */
            log_warn("accept: %s; pausing for a second", strerror(errno));
            set_listening(false);
            struct timeval second = { 1, 0 };
            event_base_once(S.base, -1, EV_TIMEOUT, resume_listening, NULL, &second);
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED &&
                   errno != EINTR) {
            /* another process of the service took it, or the client left: nothing to do */
            log_warn("accept: %s", strerror(errno));
        }
        return;
    }
    if (!S.taken) {
        S.taken = true;
        report(MASTER_STAT_TAKEN);
    }
    S.clients++;
    if (S.clients >= S.ops->max_clients) {
        S.full = true;
        set_listening(false);
        report(MASTER_STAT_FULL);
    }
    S.ops->accept(fd, (struct sockaddr *)&peer, len);
}

static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
    if (S.stopping)
        return;
    S.stopping = true;
    set_listening(false);
    for (int i = 0; i < S.nlisten; i++)
        close(S.listen_fd[i]);
    S.nlisten = 0;
    if (S.ops->stopping)
        S.ops->stopping();
    while (!LIST_EMPTY(&kept_conns))   /* none is inside serve: that runs to its end */
        kept_close(LIST_FIRST(&kept_conns));
    maybe_exit();
}

static void on_parent_check(evutil_socket_t fd, short what, void *arg)
{
    /* the master is gone (PR_SET_PDEATHSIG is best effort): stop like on SIGTERM */
    if (getppid() != S.master_pid)
        on_sigterm(SIGTERM, 0, NULL);
}

static void usage(const char *prog)
{
    log_fatal_code(EX_USAGE, "usage: %s -n service -t inet|unix [-u] [-c] -C config_dir "
                   "-s sockets [-o name=value]... [args]  (run by the tern master)", prog);
}

static void drop_privileges(bool unpriv, bool chroot_jail)
{
    const char *qdir = config_str("queue_directory");
    if (geteuid() != 0)
        return;   /* privilege separation is off; the master says so in the log */
    uid_t uid = 0;
    gid_t gid = 0;
    if (unpriv) {
        char err[256];
        if (priv_lookup_user(config_str("mail_owner"), &uid, &gid, err, sizeof err) < 0)
            log_fatal_code(EX_CONFIG, "mail_owner: %s", err);
        if (uid == 0)
            log_fatal_code(EX_CONFIG, "mail_owner %s has uid 0: refusing to run as root",
                           config_str("mail_owner"));
    }
    priv_drop(uid, gid, chroot_jail ? qdir : NULL);
}

_Noreturn void server_main(int argc, char **argv, const struct server_ops *ops)
{
    const char *service = NULL, *config = NULL;
    bool unpriv = false, chroot_jail = false;
    int nsockets = -1;
    char err[ERR_TEXT_MAX];
    char **overrides = xcalloc((size_t)argc + 1, sizeof *overrides);
    int noverrides = 0;

    S.ops = ops;
    log_init(ops->name);
    /* Keep freed heap memory for the next message instead of giving it back and faulting it in
     * again: buffers up to a little over QREC_DATA_MAX come from the heap, and up to 4 MiB of
     * free heap stays mapped (without this a 100 KiB message cost smtpd a brk and ~50 page
     * faults; a quarter of its CPU). */
    mallopt(M_MMAP_THRESHOLD, 2 << 20);
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
    int c;
    while ((c = getopt(argc, argv, "+n:t:ucC:s:o:")) != -1) {
        switch (c) {
        case 'n': service = optarg; break;
        case 't': break;   /* the socket type is implied by the descriptors */
        case 'u': unpriv = true; break;
        case 'c': chroot_jail = true; break;
        case 'C': config = optarg; break;
        case 's': nsockets = atoi(optarg); break;
        case 'o': overrides[noverrides++] = optarg; break;
        default: usage(argv[0]);
        }
    }
    if (service == NULL || config == NULL || nsockets < 0 || nsockets > SERVER_MAX_LISTEN)
        usage(argv[0]);
    S.service = service;
    S.args = argv + optind;
    S.master_pid = getppid();
    S.pid = getpid();
    const char *gen = getenv(MASTER_GENERATION_ENV);
    S.generation = gen ? (uint32_t)strtoul(gen, NULL, 10) : 0;

    if (config_load(config, err, sizeof err) < 0)
        log_fatal_code(EX_CONFIG, "%s", err);
    for (int i = 0; i < noverrides; i++)
        if (config_override(overrides[i], err, sizeof err) < 0)
            log_fatal_code(EX_CONFIG, "service %s: %s", service, err);
    free(overrides);
    if (log_open(config_str("syslog_name"), config_str("maillog_file"),
                 config_str("syslog_facility")) < 0)
        log_fatal("cannot open the log %s: %s", config_str("maillog_file"), strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    if (chdir(config_str("queue_directory")) < 0)
        log_fatal("chdir %s: %s", config_str("queue_directory"), strerror(errno));

    /* nothing this daemon runs later may inherit the master's status socket */
    fcntl(MASTER_STATUS_FD, F_SETFD, FD_CLOEXEC);
    for (int i = 0; i < nsockets; i++)
        S.listen_fd[i] = MASTER_LISTEN_FD + i;
    S.nlisten = nsockets;

    /* one descriptor per client: take every descriptor the hard limit allows (a daemon may
     * hold ten thousand idle sessions); only root could raise the hard limit itself */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    if (ops->pre_jail)
        ops->pre_jail();
    drop_privileges(unpriv, chroot_jail);
    /* setuid cleared the parent-death signal the master set; set it again, then make sure the
     * master did not die in between */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != S.master_pid)
        log_fatal("the master is gone");

    S.base = event_base_new();
    if (S.base == NULL)
        log_fatal("cannot create the event loop");
    if (ops->post_jail)
        ops->post_jail();
    for (int i = 0; i < S.nlisten; i++) {
        fcntl(S.listen_fd[i], F_SETFD, FD_CLOEXEC);
        S.listen_ev[i] = event_new(S.base, S.listen_fd[i], EV_READ | EV_PERSIST, on_accept, NULL);
    }
    set_listening(true);
    /* SIGINT too: Ctrl-C on a foreground master reaches the whole process group */
    event_add(evsignal_new(S.base, SIGTERM, on_sigterm, NULL), NULL);
    event_add(evsignal_new(S.base, SIGINT, on_sigterm, NULL), NULL);
    struct timeval second = { 1, 0 };
    struct event *parent = event_new(S.base, -1, EV_PERSIST, on_parent_check, NULL);
    event_add(parent, &second);
    report(MASTER_STAT_READY);
    event_base_dispatch(S.base);
    log_fatal("event loop ended unexpectedly");
}
