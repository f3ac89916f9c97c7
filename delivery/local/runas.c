/* runas.c: one job in a child process that has become a user (see runas.h). The child leads its
 * own process group, drops root with priv_drop before the job runs, asks to be killed if the
 * agent dies, and ends with _exit so nothing of the parent's (atexit handlers, stdio buffers)
 * runs twice. */
#include "runas.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "priv.h"

#define RUNAS_SEND_MS 30000      /* the child's report must reach the parent within this */
#define RUNAS_REAP_MS 10000      /* waiting for a killed or finished child to be reaped */

static int close_in_child[4] = { -1, -1, -1, -1 };

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

bool runas_possible(uid_t uid)
{
    return geteuid() == 0 || geteuid() == uid;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static _Noreturn void child_main(int sock, pid_t parent, uid_t uid, gid_t gid, runas_job job,
                                 void *arg)
{
    /* the skeleton's libevent handlers must not run here */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    setpgid(0, 0);
    for (size_t i = 0; i < sizeof close_in_child / sizeof close_in_child[0]; i++)
        if (close_in_child[i] >= 0)
            close(close_in_child[i]);
    if (geteuid() == 0)
        priv_drop(uid, gid, NULL);
    else if (geteuid() != uid)
        _exit(77);   /* runas_possible was not asked: nothing to do as someone else */
    /* setuid cleared the parent-death signal; a job must not outlive the agent */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    struct ipc_msg report;
    ipc_msg_init(&report);
    job(arg, &report);
    int rc = ipc_send(sock, &report, RUNAS_SEND_MS);
    _exit(rc == 0 ? 0 : 1);
}

/* Waits for pid until deadline (monotonic ms). 1 reaped (*status set), 0 not yet. */
static int reap(pid_t pid, long long deadline, int *status)
{
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return 1;
        if (now_ms() >= deadline)
            return 0;
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

static void kill_group(pid_t pid, int *status)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    if (!reap(pid, now_ms() + RUNAS_REAP_MS, status))
        *status = 0;   /* stuck in the kernel; the zombie goes when this process ends */
}

static void describe_exit(int status, char *err, size_t errlen)
{
    if (WIFSIGNALED(status))
        snprintf(err, errlen, "delivery process killed by signal %d", WTERMSIG(status));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        snprintf(err, errlen, "delivery process exited with status %d", WEXITSTATUS(status));
    else
        snprintf(err, errlen, "delivery process ended without a report");
}

enum runas_result runas_run(uid_t uid, gid_t gid, long long time_limit, runas_job job,
                            void *arg, struct ipc_msg *report, char *err, size_t errlen)
{
    int sv[2];
    err[0] = '\0';
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return RUNAS_FAILED;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return RUNAS_FAILED;
    }
    if (pid == 0) {
        close(sv[0]);
        child_main(sv[1], parent, uid, gid, job, arg);
    }
    close(sv[1]);
    setpgid(pid, pid);   /* also here, so a kill right away reaches the group */

    long long limit_ms = time_limit > INT_MAX / 1000 ? INT_MAX : time_limit * 1000;
    long long deadline = now_ms() + limit_ms;
    const char *why = NULL;
    int rc = ipc_recv(sv[0], report, RUNAS_REPORT_MAX, (int)limit_ms, &why);
    int e = errno;
    close(sv[0]);
    int status = 0;
    if (rc < 0 && e == ETIMEDOUT) {
        kill_group(pid, &status);
        snprintf(err, errlen, "time limit of %llds exceeded", time_limit);
        return RUNAS_TIMEOUT;
    }
    long long reap_by = deadline > now_ms() + RUNAS_REAP_MS ? deadline : now_ms() + RUNAS_REAP_MS;
    if (!reap(pid, reap_by, &status)) {
        kill_group(pid, &status);
        if (rc == 0)
            return RUNAS_OK;   /* it reported, then hung: the report stands */
        snprintf(err, errlen, "time limit of %llds exceeded", time_limit);
        return RUNAS_TIMEOUT;
    }
    /* the job's own children may linger in the group after it ended: they go too */
    kill(-pid, SIGKILL);
    if (rc == 0)
        return RUNAS_OK;
    if (e == EPROTO)
        snprintf(err, errlen, "malformed report from the delivery process: %s",
                 why ? why : "?");
    else
        describe_exit(status, err, errlen);
    return RUNAS_FAILED;
}
