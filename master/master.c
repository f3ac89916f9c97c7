/* master.c: the tern master, the one resident root process. It reads tern.conf and master.conf,
 * creates and checks the queue directories, binds every listener, starts each service's
 * processes (spawn.c) and supervises them: restarts, throttling, wake-ups. SIGHUP reloads,
 * SIGTERM stops gracefully, SIGINT aborts; a locked pid file keeps a second master out.
 *
 * Usage: master [-c config_dir] [-f] [-o name=value]...
 *   -f  stay in the foreground (systemd, containers, `tern start`, `make run`).
 * Without -f, the command returns once every service has a process ready (exit 0, the master
 * goes on in the background), or with the start-up failure's exit code; its messages reach
 * stderr until then. `tern start` runs it that way. Under systemd (`tern start-fg` in a
 * Type=notify unit, $NOTIFY_SOCKET set) it tells systemd when it is ready, reloading and stopping
 * (notify.c), and a service that cannot start fails the start as it does for `tern start`. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>
#include "config.h"
#include "log.h"
#include "master.h"
#include "mem.h"
#include "priv.h"
#include "qdir.h"

#define PID_FILE "pid/master.pid"

struct master M = { .ready_fd = -1 };

static struct {
    int pid_fd;
    int exit_code;
    bool graceful;
    struct event *kill_timer;
    char *queue_dir;
} G = { .pid_fd = -1 };

static void usage(void)
{
    log_fatal_code(EX_USAGE, "usage: master [-c config_dir] [-f] [-o name=value]...");
}

/* Loads tern.conf and applies the -o settings; daemon_directory defaults to where tern was
 * installed. Returns 0, or -1 with err. */
static int load_config(char *err, size_t errlen)
{
    if (config_load(M.config_dir, err, errlen) < 0)
        return -1;
    for (char **o = M.overrides; *o; o++)
        if (config_override(*o, err, errlen) < 0)
            return -1;
    if (*config_str("daemon_directory") == '\0')
        config_override("daemon_directory=" TERN_DAEMON_DIR, err, errlen);
    /* root runs what these files name: only root may be able to change them */
    if (geteuid() == 0 && config_check_trusted(err, errlen) < 0)
        return -1;
    return 0;
}

/* The pid file stays and its lock goes with the process itself, so `tern stop` (which waits for
 * the lock) returns only once the master has really exited. */
static void finish(void)
{
    log_info("stopped");
    exit(G.exit_code);
}

static void on_kill_timer(evutil_socket_t fd, short what, void *arg)
{
    int n = spawn_count_children();
    if (n > 0 && G.graceful)
        log_warn("%d process%s still running after %llds: killing", n, n == 1 ? "" : "es",
                 config_time("master_stop_timeout"));
    spawn_signal_all(SIGKILL);
}

/* graceful: SIGTERM now and SIGKILL after master_stop_timeout; otherwise SIGKILL now. */
static void begin_stop(bool graceful, int exit_code)
{
    if (M.stopping)
        return;
    M.stopping = true;
    notify_send("STOPPING=1\nSTATUS=stopping");
    G.exit_code = exit_code;
    G.graceful = graceful;
    for (struct service *svc = M.services; svc; svc = svc->next) {
        service_close_listeners(svc);
        if (svc->wakeup_ev)
            event_del(svc->wakeup_ev);
    }
    spawn_signal_all(graceful ? SIGTERM : SIGKILL);
    G.kill_timer = evtimer_new(M.base, on_kill_timer, NULL);
    struct timeval t = { graceful ? config_time("master_stop_timeout") : 0, 0 };
    evtimer_add(G.kill_timer, &t);
    if (spawn_count_children() == 0)
        finish();
}

/* Before the master is ready, for `tern start` (ready_fd) and for systemd (notify), a service that
 * cannot start fails the start. Once ready, or in the foreground without systemd (`make run`),
 * the throttle keeps retrying. */
void master_startup_failed(const char *fmt, ...)
{
    if (M.ready || (M.ready_fd < 0 && !notify_enabled()))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_error("start-up failed: %s", msg);
    begin_stop(false, EX_UNAVAILABLE);
}

void master_check_ready(void)
{
    if (M.ready || !spawn_all_ready())
        return;
    M.ready = true;
    notify_send("READY=1\nSTATUS=ready: every service has a process");
    if (M.ready_fd >= 0) {
        static const char ready[] = "ready\n";
        if (write(M.ready_fd, ready, sizeof ready - 1) < 0)
            log_warn("cannot tell the starting process that the master is ready: %s",
                     strerror(errno));
        /* from now on the log is the only place the master writes to */
        close(M.ready_fd);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            for (int fd = 0; fd <= 2; fd++)
                dup2(devnull, fd);
            close(devnull);
        }
        log_set_stderr(false);
        M.ready_fd = -1;
    }
    log_info("ready: every service has a process");
}

static void reload(void);

/* systemd hears RELOADING=1 before and READY=1 after; before start-up is over it hears nothing,
 * since its READY=1 comes when every service is ready. */
static void on_reload(evutil_socket_t sig, short what, void *arg)
{
    if (M.stopping)
        return;
    if (M.ready)
        notify_reloading();
    reload();
    if (M.ready)
        notify_send("READY=1\nSTATUS=ready: reloaded");
}

static void reload(void)
{
    char err[ERR_TEXT_MAX];
    int loaded = load_config(err, sizeof err);
    /* open the log afresh (logrotate moved it, or maillog_file changed) before saying anything,
     * so the lines of this reload land in the new file */
    if (loaded == 0 ? log_open(config_str("syslog_name"), config_str("maillog_file"),
                               config_str("syslog_facility"))
                    : log_reopen())
        log_warn("cannot reopen the log %s: %s", config_str("maillog_file"), strerror(errno));
    log_info("reload -- version %s, configuration %s", PACKAGE_VERSION, M.config_dir);
    if (loaded < 0) {
        log_error("reload failed: %s; the running services are not replaced", err);
        return;
    }
    if (strcmp(config_str("queue_directory"), G.queue_dir) != 0)
        log_warn("queue_directory changed to %s: it takes effect after `tern stop; tern start`",
                 config_str("queue_directory"));
    if (services_reload(err, sizeof err) < 0)
        log_error("reload failed: %s; the services keep running as they were", err);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    switch (sig) {
    case SIGCHLD:
        spawn_reap();
        if (M.stopping && spawn_count_children() == 0)
            finish();
        break;
    case SIGTERM:
        log_info("terminating on signal %d", (int)sig);
        begin_stop(true, 0);
        break;
    case SIGINT:
        log_info("aborting on signal %d", (int)sig);
        begin_stop(false, 0);
        break;
    }
}

/* Without -f: the master goes on in a child of its own session, and this process exits once
 * that child is ready (0), or with its exit status when it fails to start. Until then the
 * child's messages still reach our stderr. */
static void daemonize(void)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        log_fatal_code(EX_OSERR, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        log_fatal_code(EX_OSERR, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(pfd[0]);
        setsid();
        M.ready_fd = pfd[1];
        return;
    }
    close(pfd[1]);
    char buf[16] = "";
    struct pollfd p = { .fd = pfd[0], .events = POLLIN };
    ssize_t n = 0;
    if (poll(&p, 1, (int)(config_time("master_start_timeout") * 1000)) == 1)
        n = read(pfd[0], buf, sizeof buf - 1);
    if (n > 0 && strncmp(buf, "ready\n", 6) == 0)
        _exit(0);
    int status = 0;
    if (n == 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
        WEXITSTATUS(status) != 0)
        _exit(WEXITSTATUS(status));
    log_error("the master (pid %ld) did not become ready within %llds: ending it", (long)pid,
              config_time("master_start_timeout"));
    kill(-pid, SIGKILL);   /* its whole session: the master and what it started */
    waitpid(pid, &status, 0);
    _exit(EX_SOFTWARE);
}

static void lock_pid_file(void)
{
    G.pid_fd = open(PID_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (G.pid_fd < 0)
        log_fatal("%s/%s: %s", G.queue_dir, PID_FILE, strerror(errno));
    struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    if (fcntl(G.pid_fd, F_SETLK, &lk) < 0) {
        struct flock who = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        fcntl(G.pid_fd, F_GETLK, &who);
        close(G.pid_fd);
        G.pid_fd = -1;
        log_fatal_code(EX_UNAVAILABLE, "the tern mail system is already running (pid %ld)",
                       (long)who.l_pid);
    }
    char line[32];
    int n = snprintf(line, sizeof line, "%10ld\n", (long)getpid());
    if (ftruncate(G.pid_fd, 0) < 0 || pwrite(G.pid_fd, line, (size_t)n, 0) != n)
        log_fatal("%s/%s: cannot write: %s", G.queue_dir, PID_FILE, strerror(errno));
}

/* Closes every descriptor above stderr that whoever started us left open, so none of them
 * reaches a daemon. */
static void close_inherited(void)
{
    close_range(3, ~0U, 0);
}

/* Finds the ids the queue is owned by and the daemons run as. */
static void queue_ids(struct qdir_ids *ids)
{
    char err[256];
    if (!M.privsep) {
        ids->mail_owner = ids->root_uid = getuid();
        ids->mail_owner_gid = ids->setgid_gid = ids->root_gid = getgid();
        struct passwd *pw = getpwuid(getuid());
        log_info("privilege separation is off: not started as root, so every process runs as "
                 "%s (uid %ld)", pw ? pw->pw_name : "?", (long)getuid());
        return;
    }
    if (priv_lookup_user(config_str("mail_owner"), &ids->mail_owner, &ids->mail_owner_gid, err,
                         sizeof err) < 0)
        log_fatal_code(EX_CONFIG, "mail_owner: %s", err);
    if (ids->mail_owner == 0)
        log_fatal_code(EX_CONFIG, "mail_owner %s has uid 0: it must be an unprivileged user",
                       config_str("mail_owner"));
    if (priv_lookup_group(config_str("setgid_group"), &ids->setgid_gid, err, sizeof err) < 0)
        log_fatal_code(EX_CONFIG, "setgid_group: %s", err);
    ids->root_uid = 0;
    ids->root_gid = 0;
}

int main(int argc, char **argv)
{
    bool foreground = false;
    char err[ERR_TEXT_MAX];
    const char *cli_dir = NULL;
    M.overrides = xcalloc((size_t)argc + 1, sizeof *M.overrides);
    int noverrides = 0;

    log_init("master");
    log_set_stderr(true);
    int c;
    while ((c = getopt(argc, argv, "c:fo:")) != -1) {
        switch (c) {
        case 'c': cli_dir = optarg; break;
        case 'f': foreground = true; break;
        case 'o': M.overrides[noverrides++] = optarg; break;
        default: usage();
        }
    }
    if (optind != argc)
        usage();
    /* until libevent handles them, signals wait: a SIGHUP now must not end the master */
    sigset_t handled, saved_mask;
    sigemptyset(&handled);
    sigaddset(&handled, SIGHUP);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGINT);
    sigaddset(&handled, SIGCHLD);
    sigprocmask(SIG_BLOCK, &handled, &saved_mask);
    close_inherited();
    /* absolute, because the master and its children work inside the queue directory */
    char *abs_dir = realpath(config_dir(cli_dir), NULL);
    if (abs_dir == NULL)
        log_fatal_code(EX_CONFIG, "configuration directory %s: %s", config_dir(cli_dir),
                       strerror(errno));
    M.config_dir = abs_dir;
    notify_init();
    if (load_config(err, sizeof err) < 0)
        log_fatal_code(EX_CONFIG, "%s", err);
    M.foreground_stdio = foreground;
    M.privsep = geteuid() == 0;
    G.queue_dir = xstrdup(config_str("queue_directory"));
    umask(022);

    if (!foreground)
        daemonize();
    if (log_open(config_str("syslog_name"), config_str("maillog_file"),
                 config_str("syslog_facility")) < 0)
        log_fatal_code(EX_CANTCREAT, "cannot open the log %s: %s", config_str("maillog_file"),
                       strerror(errno));
    struct qdir_ids ids;
    queue_ids(&ids);
    if (qdir_setup(G.queue_dir, &ids, true, err, sizeof err) < 0)
        log_fatal_code(EX_CONFIG, "unsafe or unusable queue directory: %s", err);
    if (chdir(G.queue_dir) < 0)
        log_fatal("chdir %s: %s", G.queue_dir, strerror(errno));
    lock_pid_file();
    signal(SIGPIPE, SIG_IGN);

    M.base = event_base_new();
    if (M.base == NULL)
        log_fatal("cannot create the event loop");
    static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        event_add(evsignal_new(M.base, sigs[i], on_signal, NULL), NULL);
    event_add(evsignal_new(M.base, SIGHUP, on_reload, NULL), NULL);
    sigprocmask(SIG_SETMASK, &saved_mask, NULL);

    int code = services_load(err, sizeof err);
    if (code != 0) {
        unlink(PID_FILE);
        log_fatal_code(code, "%s", err);
    }
    /* start-up problems went to stderr too; from here only the starting command wants copies */
    log_set_stderr(M.ready_fd >= 0);
    log_info("daemon started -- version %s, configuration %s", PACKAGE_VERSION, M.config_dir);
    for (struct service *svc = M.services; svc; svc = svc->next)
        spawn_init(svc);
    master_check_ready();
    event_base_dispatch(M.base);
    log_fatal("event loop ended unexpectedly");
}
