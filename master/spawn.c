/* spawn.c: the processes of each service: fork/exec with the descriptors of master_proto.h, the
 * status reports they send, reaping, restarts, and throttling of a service whose processes die at
 * start (service_throttle_time) or crash or exit quickly in a loop (service_crash_limit a
 * minute). Also the periodic wake-up triggers of master.conf's wakeup column. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "config.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "master.h"
#include "master_proto.h"
#include "mem.h"

/* A process that exits within this time of its start counts toward service_crash_limit even
 * with status 0: a daemon that keeps exiting at once would otherwise be restarted forever. */
#define QUICK_EXIT_MS 10000
#define STATUS_RECORDS_PER_EVENT 1000


char *service_key(const struct service_def *def)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_printf(&b, "%s/%s", def->name, def->type == SERVICE_INET ? "inet" : "unix");
    return buf_steal(&b);
}

static struct child *find_child(pid_t pid, struct child ***link)
{
    for (struct service *svc = M.services; svc; svc = svc->next)
        for (struct child **p = &svc->children; *p; p = &(*p)->next)
            if ((*p)->pid == pid) {
                *link = p;
                return *p;
            }
    for (struct child **p = &M.retired; *p; p = &(*p)->next)
        if ((*p)->pid == pid) {
            *link = p;
            return *p;
        }
    return NULL;
}

/* The environment of a daemon: import_environment (names copied, name=value set). */
static char **daemon_environment(uint32_t generation)
{
    char *list = xstrdup(config_str("import_environment")), *save = NULL;
    size_t cap = 8, n = 0;
    char **env = xcalloc(cap, sizeof *env);
    for (char *w = strtok_r(list, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
        const char *value = strchr(w, '=') ? NULL : getenv(w);
        if (strchr(w, '=') == NULL && value == NULL)
            continue;
        if (n + 3 >= cap)
            env = xrealloc(env, (cap *= 2) * sizeof *env);
        struct buf b;
        buf_init(&b, BUF_UNBOUNDED);
        if (value)
            buf_printf(&b, "%s=%s", w, value);
        else
            buf_puts(&b, w);
        env[n++] = buf_steal(&b);
    }
    free(list);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_printf(&b, "%s=%u", MASTER_GENERATION_ENV, generation);
    env[n++] = buf_steal(&b);
    env[n++] = xstrdup("PATH=/usr/bin:/bin:/usr/sbin:/sbin");
    env[n] = NULL;
    return env;
}

static char **daemon_argv(struct service *svc)
{
    size_t n = 16;
    for (char **o = M.overrides; o && *o; o++)
        n += 2;
    for (char **o = svc->def.overrides; *o; o++)
        n += 2;
    for (char **a = svc->def.args; *a; a++)
        n++;
    char **argv = xcalloc(n, sizeof *argv);
    size_t i = 0;
    char nsock[16];
    snprintf(nsock, sizeof nsock, "%d", svc->nfds);
    argv[i++] = xstrdup(svc->def.command);
    argv[i++] = xstrdup("-n");
    argv[i++] = xstrdup(svc->def.name);
    argv[i++] = xstrdup("-t");
    argv[i++] = xstrdup(svc->def.type == SERVICE_INET ? "inet" : "unix");
    if (svc->def.unprivileged && M.privsep)
        argv[i++] = xstrdup("-u");
    if (svc->def.chroot && M.privsep)
        argv[i++] = xstrdup("-c");
    argv[i++] = xstrdup("-C");
    argv[i++] = xstrdup(M.config_dir);
    argv[i++] = xstrdup("-s");
    argv[i++] = xstrdup(nsock);
    for (char **o = M.overrides; o && *o; o++) {   /* the master's own -o settings go first */
        argv[i++] = xstrdup("-o");
        argv[i++] = xstrdup(*o);
    }
    for (char **o = svc->def.overrides; *o; o++) {
        argv[i++] = xstrdup("-o");
        argv[i++] = xstrdup(*o);
    }
    for (char **a = svc->def.args; *a; a++)
        argv[i++] = xstrdup(*a);
    argv[i] = NULL;
    return argv;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v[i]; i++)
        free(v[i]);
    free(v);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static _Noreturn void exec_child(struct service *svc, char **argv, char **envp, int devnull,
                                 pid_t master)
{
    /* signals are blocked since before the fork: drop the master's handlers (they would write
     * to the master's own signal pipe) before letting any through */
    static const int handled[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE };
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
        signal(handled[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != master)
        _exit(EX_SOFTWARE);   /* the master died before the parent-death signal was set */
    /* move the descriptors out of the way of 3.. before placing them */
    int status = fcntl(svc->status_pipe[1], F_DUPFD_CLOEXEC, 64);
    int fds[MASTER_MAX_LISTEN];
    for (int i = 0; i < svc->nfds; i++)
        fds[i] = fcntl(svc->fds[i], F_DUPFD_CLOEXEC, 64 + 1 + i);
    dup2(devnull, 0);
    if (!M.foreground_stdio) {
        dup2(devnull, 1);
        dup2(devnull, 2);
    }
    dup2(status, MASTER_STATUS_FD);
    for (int i = 0; i < svc->nfds; i++)
        dup2(fds[i], MASTER_LISTEN_FD + i);
    execve(svc->path, argv, envp);
    /* tell the master why, so the log says more than an exit status */
    struct master_status st = { (int32_t)getpid(), 0, MASTER_STAT_EXEC_FAILED, errno };
    if (send(MASTER_STATUS_FD, &st, sizeof st, MSG_NOSIGNAL) < 0)
        _exit(127);
    _exit(127);
}

static void throttle(struct service *svc, const char *why);

static void spawn_one(struct service *svc)
{
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    char **argv = daemon_argv(svc);
    char **envp = daemon_environment(svc->generation);
    sigset_t all, saved;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &saved);
    pid_t master = getpid();
    pid_t pid = fork();
    if (pid == 0)
        exec_child(svc, argv, envp, devnull, master);
    int fork_errno = errno;
    sigprocmask(SIG_SETMASK, &saved, NULL);
    close(devnull);
    free_strv(argv);
    free_strv(envp);
    if (pid < 0) {
        char why[128];
        snprintf(why, sizeof why, "fork: %s", strerror(fork_errno));
        throttle(svc, why);
        return;
    }
    struct child *c = xcalloc(1, sizeof *c);
    c->pid = pid;
    c->started_ms = clock_ms();
    c->svc = svc;
    c->generation = svc->generation;
    c->next = svc->children;
    svc->children = c;
    svc->nlive++;
}

/* Processes of an older generation of the service that are still finishing. */
static int count_retired(const struct service *svc)
{
    char *key = service_key(&svc->def);
    int n = 0;
    for (struct child *c = M.retired; c; c = c->next)
        if (strcmp(c->retired_from, key) == 0)
            n++;
    free(key);
    return n;
}

void spawn_ensure(struct service *svc)
{
    if (M.stopping || svc->throttled)
        return;
    int avail = 0;
    for (struct child *c = svc->children; c; c = c->next)
        if (!c->full)
            avail++;
    /* maxproc holds across a reload too: a one-process service (qmgr) never runs twice */
    int running = svc->nlive + (svc->def.maxproc ? count_retired(svc) : 0);
    bool room = svc->def.maxproc == 0 || running < svc->def.maxproc;
    if ((svc->nlive == 0 || avail == 0) && room)
        spawn_one(svc);
}

static void on_status(evutil_socket_t fd, short what, void *arg)
{
    struct service *svc = arg;
    struct master_status st;
    for (int i = 0; i < STATUS_RECORDS_PER_EVENT; i++) {
        ssize_t n = recv(fd, &st, sizeof st, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0)
            return;
        if (n != (ssize_t)sizeof st) {
            log_warn("service %s: malformed status record of %zd bytes ignored", svc->def.name, n);
            continue;
        }
        struct child **link, *c = find_child(st.pid, &link);
        if (c == NULL || c->svc != svc)
            continue;   /* not one of ours, or retired: its word changes nothing */
        switch (st.code) {
        case MASTER_STAT_EXEC_FAILED:
            log_warn("service %s: cannot execute %s: %s", svc->def.name, svc->path,
                     strerror(st.detail));
            break;
        case MASTER_STAT_READY:
            c->ready = true;
            svc->ever_ready = true;
            master_check_ready();
            break;
        case MASTER_STAT_TAKEN:
            c->taken = true;
            svc->used = true;
            break;
        case MASTER_STAT_FULL:
            c->full = true;
            spawn_ensure(svc);
            break;
        case MASTER_STAT_AVAIL:
            c->full = false;
            break;
        default:
            log_warn("service %s: pid %ld sent unknown status %d", svc->def.name,
                     (long)st.pid, (int)st.code);
        }
    }
}

static void on_throttle_end(evutil_socket_t fd, short what, void *arg)
{
    struct service *svc = arg;
    svc->throttled = false;
    svc->crashes = 0;
    spawn_ensure(svc);
}

static void on_wakeup(evutil_socket_t fd, short what, void *arg)
{
    struct service *svc = arg;
    if (svc->def.wakeup_after_use && !svc->used)
        return;
    /* short limits: the master must never wait long on a busy service */
    int s = ipc_connect_unix(svc->socket_path, 100);
    int sent = -1;
    if (s >= 0) {
        struct ipc_msg m;
        ipc_msg_init(&m);
        ipc_add(&m, IPC_A_TYPE, IPC_T_WAKEUP);
        sent = ipc_send(s, &m, 100);
        ipc_msg_free(&m);
        close(s);
    }
    /* say it once when wake-ups start failing and once when they work again */
    if (sent < 0 && !svc->wakeup_failing)
        log_warn("service %s: cannot deliver the wakeup: %s", svc->def.name, strerror(errno));
    else if (sent == 0 && svc->wakeup_failing)
        log_info("service %s: wakeups are delivered again", svc->def.name);
    svc->wakeup_failing = sent < 0;
}

void spawn_init(struct service *svc)
{
    if (svc->status_ev == NULL) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
                       svc->status_pipe) < 0)
            log_fatal("socketpair: %s", strerror(errno));
        svc->status_ev = event_new(M.base, svc->status_pipe[0], EV_READ | EV_PERSIST, on_status, svc);
        event_add(svc->status_ev, NULL);
        svc->throttle_ev = evtimer_new(M.base, on_throttle_end, svc);
        if (svc->def.wakeup > 0 && svc->def.type == SERVICE_UNIX) {
            svc->wakeup_ev = event_new(M.base, -1, EV_PERSIST, on_wakeup, svc);
            struct timeval t = { svc->def.wakeup, 0 };
            event_add(svc->wakeup_ev, &t);
        }
    }
    svc->generation = ++M.generation;
    spawn_ensure(svc);
}

void spawn_stop_service(struct service *svc)
{
    if (svc->status_ev)
        event_free(svc->status_ev);
    if (svc->throttle_ev)
        event_free(svc->throttle_ev);
    if (svc->wakeup_ev)
        event_free(svc->wakeup_ev);
    svc->status_ev = svc->throttle_ev = svc->wakeup_ev = NULL;
    if (svc->status_pipe[0] >= 0)
        close(svc->status_pipe[0]);
    if (svc->status_pipe[1] >= 0)
        close(svc->status_pipe[1]);
    svc->status_pipe[0] = svc->status_pipe[1] = -1;
}

void spawn_retire_all(struct service *svc, int signo)
{
    while (svc->children) {
        struct child *c = svc->children;
        svc->children = c->next;
        c->retiring = true;
        c->retired_from = service_key(&svc->def);
        c->svc = NULL;
        c->next = M.retired;
        M.retired = c;
        kill(c->pid, signo);
    }
    svc->nlive = 0;
}

void spawn_signal_all(int signo)
{
    for (struct service *svc = M.services; svc; svc = svc->next)
        for (struct child *c = svc->children; c; c = c->next)
            kill(c->pid, signo);
    for (struct child *c = M.retired; c; c = c->next)
        kill(c->pid, signo);
}

int spawn_count_children(void)
{
    int n = 0;
    for (struct service *svc = M.services; svc; svc = svc->next)
        for (struct child *c = svc->children; c; c = c->next)
            n++;
    for (struct child *c = M.retired; c; c = c->next)
        n++;
    return n;
}

bool spawn_all_ready(void)
{
    for (struct service *svc = M.services; svc; svc = svc->next)
        if (!svc->ever_ready)
            return false;
    return true;
}

static void throttle(struct service *svc, const char *why)
{
    log_warn("%s: %s -- throttling", svc->path, why);
    svc->throttled = true;
    struct timeval t = { config_time("service_throttle_time"), 0 };
    event_add(svc->throttle_ev, &t);
    if (!svc->ever_ready)
        master_startup_failed("service %s: %s", svc->def.name, why);
}

/* The current service named like a retired process's old one, if any. */
static struct service *successor(const struct child *c)
{
    for (struct service *svc = M.services; svc; svc = svc->next) {
        char *key = service_key(&svc->def);
        bool same = strcmp(key, c->retired_from) == 0;
        free(key);
        if (same)
            return svc;
    }
    return NULL;
}

static void child_exited(struct child *c, int status)
{
    struct service *svc = c->svc;
    const char *path = svc ? svc->path : c->retired_from;
    bool normal = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    bool expected = c->retiring || M.stopping;   /* we asked it to go */
    if (WIFSIGNALED(status) && (!expected || (WTERMSIG(status) != SIGTERM &&
                                              WTERMSIG(status) != SIGKILL)))
        log_warn("process %s pid %ld killed by signal %d", path, (long)c->pid, WTERMSIG(status));
    else if (WIFEXITED(status) && !normal)
        log_warn("process %s pid %ld exit status %d", path, (long)c->pid, WEXITSTATUS(status));
    if (M.stopping)
        return;
    if (svc == NULL) {
        /* a retired process made room: the new generation may need it (maxproc) */
        struct service *next = successor(c);
        if (next)
            spawn_ensure(next);
        return;
    }
    svc->nlive--;
    if (!c->ready) {
        /* even a clean exit before READY: restarting at once would only loop */
        throttle(svc, "bad command startup");
    } else if (!normal || clock_ms() - c->started_ms < QUICK_EXIT_MS) {
        long long now = clock_ms();
        if (now - svc->crash_window_ms >= 60000) {
            svc->crash_window_ms = now;
            svc->crashes = 0;
        }
        if (++svc->crashes >= config_int("service_crash_limit"))
            throttle(svc, normal ? "exits too soon after start, too often"
                                 : "too many crashes");
    }
    spawn_ensure(svc);
}

void spawn_reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct child **link, *c = find_child(pid, &link);
        if (c == NULL)
            continue;
        *link = c->next;
        child_exited(c, status);
        free(c->retired_from);
        free(c);
    }
}
