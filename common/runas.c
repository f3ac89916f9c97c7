/* runas.c: jobs done as a user (see runas.h): one job in a child forked for it, or a job handed
 * to a kept worker. Every such process leads its own process group, closes the parent's
 * descriptors (a client's connection, the other workers' sockets), drops root with priv_drop
 * before any job runs, asks to be killed if the parent dies, and ends with _exit so nothing of
 * the parent's (atexit handlers, stdio buffers) runs twice. Both ways read the report the same
 * way (ipc_recv, bounded; no_report when there is none). */
#include "clock.h"
#include "runas.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "priv.h"

#define RUNAS_SEND_MS 30000      /* the child's report must reach the parent within this */
#define RUNAS_REAP_MS 10000      /* waiting for a killed or finished child to be reaped */
#define RUNAS_JOB_MAX (64 * 1024)   /* bytes of one encoded job for a kept worker */
#define WORKER_MAX 4             /* kept workers of one process (one per uid and gid) */
#define WORKER_IDLE_MS 5000      /* a worker unused this long is retired (runas_retire_idle),
                                    so that a user can be removed soon after a job */
#define WORKER_JOBS 1000         /* jobs before a worker is replaced, bounding any slow leak */
#define WORKER_WAIT_MS (3600 * 1000)   /* a worker left without a job this long ends itself */

static int close_in_child[4] = { -1, -1, -1, -1 };
static const char *label = "process";

struct worker {
    pid_t pid;                   /* 0: a free slot */
    int sock;                    /* the parent's end of the socketpair */
    uid_t uid;
    gid_t gid;
    long long last_used;         /* monotonic ms */
    unsigned jobs;
};
static struct worker workers[WORKER_MAX];
static runas_serve worker_serve;

void runas_set_label(const char *what)
{
    label = what;
}

void runas_child_close(int fd)
{
    for (size_t i = 0; i < sizeof close_in_child / sizeof close_in_child[0]; i++) {
        if (close_in_child[i] < 0 || close_in_child[i] == fd) {
            close_in_child[i] = fd;
            return;
        }
    }
}

void runas_child_keep(int fd)
{
    for (size_t i = 0; i < sizeof close_in_child / sizeof close_in_child[0]; i++)
        if (close_in_child[i] == fd)
            close_in_child[i] = -1;
}

/* The effective uid, read once (it never changes in the parent; become() forgets it in a
 * child). */
static uid_t parent_euid = (uid_t)-1;

uid_t runas_euid(void)
{
    if (parent_euid == (uid_t)-1)
        parent_euid = geteuid();
    return parent_euid;
}

bool runas_possible(uid_t uid)
{
    uid_t euid = runas_euid();
    return euid == 0 || euid == uid;
}


/* In a new child: its own process group, none of the parent's descriptors but its own socket (a
 * command run as one user must never reach another user's worker), then uid and gid. */
static void become(pid_t parent, uid_t uid, gid_t gid)
{
    parent_euid = (uid_t)-1;
    umask(077);   /* whatever a child creates is the user's alone */
    /* the skeleton's libevent handlers must not run here */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    setpgid(0, 0);
    for (size_t i = 0; i < sizeof close_in_child / sizeof close_in_child[0]; i++)
        if (close_in_child[i] >= 0)
            close(close_in_child[i]);
    for (size_t i = 0; i < WORKER_MAX; i++)
        if (workers[i].pid > 0)
            close(workers[i].sock);
    memset(workers, 0, sizeof workers);   /* they are the parent's, not this process's */
    if (geteuid() == 0)
        priv_drop(uid, gid, NULL);
    else if (geteuid() != uid)
        _exit(77);   /* runas_possible was not asked: nothing to do as someone else */
    /* setuid cleared the parent-death signal; a job must not outlive its parent */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
}

static _Noreturn void child_main(int sock, pid_t parent, uid_t uid, gid_t gid, runas_job job,
                                 void *arg)
{
    become(parent, uid, gid);
    struct ipc_msg report;
    ipc_msg_init(&report);
    job(arg, &report);
    int rc = ipc_send(sock, &report, RUNAS_SEND_MS);
    _exit(rc == 0 ? 0 : 1);
}

/* Waits for pid until deadline (monotonic ms). 1 reaped (*status set), 0 not yet. A child that
 * has reported is usually a few microseconds from its exit, so the pauses start at 50 us and
 * double up to 10 ms (a fixed 10 ms cost every delivery that much). */
static int reap(pid_t pid, long long deadline, int *status)
{
    long pause_ns = 50 * 1000L;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return 1;
        if (clock_ms() >= deadline)
            return 0;
        struct timespec ts = { 0, pause_ns };
        nanosleep(&ts, NULL);
        if (pause_ns < 10 * 1000000L)
            pause_ns *= 2;
    }
}

static void kill_group(pid_t pid, int *status)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    if (!reap(pid, clock_ms() + RUNAS_REAP_MS, status))
        *status = 0;   /* stuck in the kernel; the zombie goes when this process ends */
}

static void describe_exit(int status, char *err, size_t errlen)
{
    if (WIFSIGNALED(status))
        snprintf(err, errlen, "%s killed by signal %d", label, WTERMSIG(status));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        snprintf(err, errlen, "%s exited with status %d", label, WEXITSTATUS(status));
    else
        snprintf(err, errlen, "%s ended without a report", label);
}

/* A process that ended without a valid report (errno e from ipc_recv, why its reason for a
 * malformed one, status its exit status): what err says. */
static enum runas_result no_report(int e, const char *why, int status, char *err, size_t errlen)
{
    if (e == EPROTO)
        snprintf(err, errlen, "malformed report from the %s: %s", label, *why ? why : "?");
    else
        describe_exit(status, err, errlen);
    return RUNAS_FAILED;
}

/* A child connected by a socketpair: its pid with the parent's end in *sock (the child leads
 * its own group from here on), 0 in the child with its end in *sock, -1 with err. */
static pid_t fork_connected(int *sock, char *err, size_t errlen)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        *sock = sv[1];
        return 0;
    }
    close(sv[1]);
    setpgid(pid, pid);   /* also here, so a kill right away reaches the group */
    *sock = sv[0];
    return pid;
}

/* Milliseconds of a limit in seconds, at most INT_MAX (what poll and ipc_recv take). */
static long long seconds_ms(long long seconds)
{
    return seconds > INT_MAX / 1000 ? INT_MAX : seconds * 1000;
}

/* Milliseconds left until deadline: 0 once it has passed, at most INT_MAX. */
static int ms_until(long long deadline)
{
    long long left = deadline - clock_ms();
    return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

static enum runas_result timed_out(char *err, size_t errlen)
{
    snprintf(err, errlen, "time limit exceeded");
    return RUNAS_TIMEOUT;
}

enum runas_result runas_run_until(uid_t uid, gid_t gid, long long deadline, runas_job job,
                                  void *arg, struct ipc_msg *report, char *err, size_t errlen)
{
    err[0] = '\0';
    if (clock_ms() >= deadline)
        return timed_out(err, errlen);
    pid_t parent = getpid();
    int sock;
    pid_t pid = fork_connected(&sock, err, errlen);
    if (pid < 0)
        return RUNAS_FAILED;
    if (pid == 0)
        child_main(sock, parent, uid, gid, job, arg);

    char why[ERR_TEXT_MAX] = "";
    int rc = ipc_recv(sock, report, RUNAS_REPORT_MAX, ms_until(deadline), why, sizeof why);
    int e = errno;
    close(sock);
    int status = 0;
    if (rc < 0 && e == ETIMEDOUT) {
        kill_group(pid, &status);
        return timed_out(err, errlen);
    }
    long long reap_by = clock_ms() + RUNAS_REAP_MS;
    if (reap_by < deadline)
        reap_by = deadline;
    if (!reap(pid, reap_by, &status)) {
        kill_group(pid, &status);
        if (rc == 0)
            return RUNAS_OK;   /* it reported, then hung: the report stands */
        return timed_out(err, errlen);
    }
    /* the job's own children may linger in the group after it ended: they go too */
    kill(-pid, SIGKILL);
    if (rc == 0)
        return RUNAS_OK;
    return no_report(e, why, status, err, errlen);
}

enum runas_result runas_run(uid_t uid, gid_t gid, long long time_limit, runas_job job,
                            void *arg, struct ipc_msg *report, char *err, size_t errlen)
{
    enum runas_result r = runas_run_until(uid, gid, clock_ms() + seconds_ms(time_limit), job,
                                          arg, report, err, errlen);
    if (r == RUNAS_TIMEOUT)
        snprintf(err, errlen, "time limit of %llds exceeded", time_limit);
    return r;
}

/* ---- kept workers ---- */

void runas_set_server(runas_serve serve)
{
    worker_serve = serve;
}

/* One job on the wire: a marker byte carrying fd (SCM_RIGHTS) when there is one, then the
 * job's IPC message, both in one sendmsg when the socket takes them. */
static int send_job(int sock, int fd, const struct ipc_msg *job)
{
    char mark = 'j';
    struct buf frame;
    buf_init(&frame, RUNAS_JOB_MAX);
    if (ipc_encode(job, &frame) < 0) {
        buf_free(&frame);
        errno = EMSGSIZE;
        return -1;
    }
    struct iovec iov[2] = { { &mark, 1 }, { frame.data, frame.len } };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
    if (fd >= 0) {
        memset(&ctl, 0, sizeof ctl);
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof ctl.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    /* the marker (and the descriptor) must go in the first call: wait for room if need be */
    long long deadline = clock_ms() + RUNAS_SEND_MS;
    ssize_t n;
    for (;;) {
        n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
            break;
        long long left = deadline - clock_ms();
        struct pollfd p = { .fd = sock, .events = POLLOUT };
        if (errno != EINTR && (left <= 0 || poll(&p, 1, (int)left) <= 0)) {
            errno = ETIMEDOUT;
            break;
        }
    }
    int rc = n < 1 ? -1 : 0;
    if (rc == 0 && (size_t)n - 1 < frame.len) {   /* the rest of the frame */
        long long left = deadline - clock_ms();
        rc = ipc_send_bytes(sock, frame.data + (n - 1), frame.len - (size_t)(n - 1),
                            left > 0 ? (int)left : 0);
    }
    int e = errno;
    buf_free(&frame);
    errno = e;
    return rc;
}

/* 1 with a job (and *fd, or -1), 0 when the parent closed its end or sent nothing for
 * WORKER_WAIT_MS, -1 on a broken exchange. */
static int recv_job(int sock, int *fd, struct ipc_msg *job)
{
    *fd = -1;
    struct pollfd p = { .fd = sock, .events = POLLIN };
    int r;
    do
        r = poll(&p, 1, WORKER_WAIT_MS);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return r == 0 ? 0 : -1;
    char mark;
    struct iovec iov = { &mark, 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                         .msg_controllen = sizeof ctl.buf };
    ssize_t n;
    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return n == 0 ? 0 : -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int)) && *fd < 0)
            memcpy(fd, CMSG_DATA(c), sizeof *fd);
    }
    if (mark != 'j' || (mh.msg_flags & MSG_CTRUNC))
        return -1;
    return ipc_recv(sock, job, RUNAS_JOB_MAX, RUNAS_SEND_MS, NULL, 0) == 0 ? 1 : -1;
}

static _Noreturn void worker_main(int sock, pid_t parent, uid_t uid, gid_t gid)
{
    become(parent, uid, gid);
    struct ipc_msg job, report;
    ipc_msg_init(&job);
    ipc_msg_init(&report);
    for (;;) {
        int fd;
        int r = recv_job(sock, &fd, &job);
        if (r <= 0) {
            if (fd >= 0)
                close(fd);
            _exit(r == 0 ? 0 : 1);
        }
        ipc_msg_clear(&report);
        worker_serve(&job, fd, &report);
        if (fd >= 0)
            close(fd);
        if (ipc_send(sock, &report, RUNAS_SEND_MS) < 0)
            _exit(1);
    }
}

/* Ends w: closing its socket makes an idle worker exit; kill also kills its group first (a
 * worker in the middle of a job). *status gets the exit status when it was reaped. */
static void worker_end(struct worker *w, bool kill_it, int *status)
{
    int st = 0;
    close(w->sock);
    if (kill_it)
        kill_group(w->pid, &st);
    else if (!reap(w->pid, clock_ms() + RUNAS_REAP_MS, &st))
        kill_group(w->pid, &st);
    if (status)
        *status = st;
    memset(w, 0, sizeof *w);
}

/* The worker for uid and gid: the kept one, or a new one (the longest unused is retired when
 * all slots are taken). NULL with err when none can be started. */
static struct worker *worker_for(uid_t uid, gid_t gid, char *err, size_t errlen)
{
    struct worker *slot = NULL;
    for (size_t i = 0; i < WORKER_MAX; i++) {
        struct worker *w = &workers[i];
        if (w->pid > 0 && waitpid(w->pid, NULL, WNOHANG) != 0) {
            close(w->sock);   /* it ended while unused (killed): a new one takes its jobs */
            memset(w, 0, sizeof *w);
        }
        if (w->pid > 0 && w->uid == uid && w->gid == gid)
            return w;
        if (w->pid == 0) {
            if (!slot || slot->pid > 0)
                slot = w;
        } else if (!slot || (slot->pid > 0 && w->last_used < slot->last_used)) {
            slot = w;
        }
    }
    if (slot->pid > 0)
        worker_end(slot, false, NULL);
    pid_t parent = getpid();
    int sock;
    pid_t pid = fork_connected(&sock, err, errlen);
    if (pid < 0)
        return NULL;
    if (pid == 0)
        worker_main(sock, parent, uid, gid);
    *slot = (struct worker){ .pid = pid, .sock = sock, .uid = uid, .gid = gid,
                             .last_used = clock_ms() };
    return slot;
}

enum runas_result runas_call(uid_t uid, gid_t gid, long long time_limit,
                             const struct ipc_msg *job, int fd, struct ipc_msg *report,
                             char *err, size_t errlen)
{
    err[0] = '\0';
    struct worker *w = worker_for(uid, gid, err, errlen);
    if (w == NULL)
        return RUNAS_FAILED;
    int status = 0;
    if (send_job(w->sock, fd, job) < 0) {
        snprintf(err, errlen, "cannot hand the job to the %s: %s", label, strerror(errno));
        worker_end(w, true, NULL);
        return RUNAS_FAILED;
    }
    char why[ERR_TEXT_MAX] = "";
    ipc_msg_clear(report);
    /* the report comes once the job is done: wait for it first, then read it at once */
    long long deadline = clock_ms() + seconds_ms(time_limit);
    struct pollfd p = { .fd = w->sock, .events = POLLIN };
    while (poll(&p, 1, ms_until(deadline)) < 0 && errno == EINTR)
        ;
    if (ipc_recv(w->sock, report, RUNAS_REPORT_MAX, ms_until(deadline), why, sizeof why) == 0) {
        w->last_used = clock_ms();
        if (++w->jobs >= WORKER_JOBS)
            worker_end(w, false, NULL);
        return RUNAS_OK;
    }
    int e = errno;
    worker_end(w, true, &status);
    if (e == ETIMEDOUT) {
        snprintf(err, errlen, "time limit of %llds exceeded", time_limit);
        return RUNAS_TIMEOUT;
    }
    return no_report(e, why, status, err, errlen);
}

size_t runas_retire_idle(void)
{
    long long now = clock_ms();
    size_t left = 0;
    for (size_t i = 0; i < WORKER_MAX; i++) {
        if (workers[i].pid > 0 && now - workers[i].last_used >= WORKER_IDLE_MS)
            worker_end(&workers[i], false, NULL);
        left += workers[i].pid > 0;
    }
    return left;
}

void runas_retire_all(void)
{
    for (size_t i = 0; i < WORKER_MAX; i++)
        if (workers[i].pid > 0)
            worker_end(&workers[i], false, NULL);
}
