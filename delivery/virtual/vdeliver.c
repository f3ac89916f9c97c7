/* vdeliver.c: a virtual mailbox delivery in a child process that runs as the mailbox's owner
 * (see vdeliver.h). The root parent only forks, waits and reads the child's outcome; nothing
 * under virtual_mailbox_base is ever opened as root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "log.h"
#include "maildir.h"
#include "mbox.h"
#include "priv.h"
#include "safefile.h"
#include "vdeliver.h"


static void set_outcome(struct vdeliver_outcome *out, enum delivery_status status,
                        const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_outcome(struct vdeliver_outcome *out, enum delivery_status status,
                        const char *dsn, const char *fmt, ...)
{
    out->status = status;
    snprintf(out->dsn, sizeof out->dsn, "%s", dsn);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->text, sizeof out->text, fmt, ap);
    va_end(ap);
}

/* ---- the child: as the mailbox owner ---- */

/* Creates the directories between virtual_mailbox_base and the mailbox itself (mode 0700, as
 * the calling user); the base must exist. 0, or -1 with out set. */
static int make_parents(const struct vmailbox *mb, struct vdeliver_outcome *out)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", mb->path);
    for (char *slash = strchr(dir + mb->base_len + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        struct stat st;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            set_outcome(out, DELIVERY_DEFER, "4.2.0", "cannot create directory %s: %s", dir,
                        strerror(errno));
            return -1;
        }
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
            set_outcome(out, DELIVERY_DEFER, "4.2.0", "%s is not a directory", dir);
            return -1;
        }
        *slash = '/';
    }
    return 0;
}

static void write_maildir(const struct vmailbox *mb, const struct vdeliver_job *job,
                          struct vdeliver_outcome *out)
{
    if (job->size_limit > 0 && job->head_len + job->body_len > job->size_limit) {
        set_outcome(out, DELIVERY_BOUNCE, "5.2.3", "message is larger than "
                    "mailbox_size_limit (%zu bytes)", job->size_limit);
        return;
    }
    char name[VDELIVER_NAME_MAX], err[MAILDIR_ERR_MAX];
    if (maildir_deliver(mb->path, job->head, job->head_len, job->body, job->body_len, name,
                        sizeof name, err) < 0) {
        set_outcome(out, DELIVERY_DEFER, "4.2.0", "cannot deliver to %s", err);
        return;
    }
    set_outcome(out, DELIVERY_SENT, "2.0.0", "delivered to maildir");
    snprintf(out->file, sizeof out->file, "%s/%s", mb->path, name);
}

static void write_mbox(const struct vmailbox *mb, const struct vdeliver_job *job,
                       struct vdeliver_outcome *out)
{
    char err[MBOX_ERR_MAX];
    bool temporary = true;
    errno = 0;
    if (mbox_deliver(mb->path, job->sender, job->head, job->head_len, job->body, job->body_len,
                     job->size_limit, true, &temporary, err) < 0) {
        int e = errno;
        /* err reads "mailbox PATH: reason"; mbox.c leaves EFBIG for the size limit */
        if (temporary)
            set_outcome(out, DELIVERY_DEFER, "4.2.0", "cannot update %s", err);
        else
            set_outcome(out, DELIVERY_BOUNCE, e == EFBIG ? "5.2.2" : "5.2.0",
                        "cannot update %s", err);
        return;
    }
    set_outcome(out, DELIVERY_SENT, "2.0.0", "delivered to mailbox");
    snprintf(out->file, sizeof out->file, "%s", mb->path);
}

void vdeliver_write(const struct vmailbox *mb, const struct vdeliver_job *job,
                    struct vdeliver_outcome *out)
{
    memset(out, 0, sizeof *out);
    if (make_parents(mb, out) < 0)
        return;
    if (mb->maildir)
        write_maildir(mb, job, out);
    else
        write_mbox(mb, job, out);
}

_Noreturn static void child(const struct vmailbox *mb, const struct vdeliver_job *job, int wfd)
{
    /* the parent's libevent handlers would swallow these; a plain default is wanted here */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    umask(077);
    priv_drop(mb->uid, mb->gid, NULL);   /* fatal on any failure: the parent sees no outcome */
    struct vdeliver_outcome out;
    vdeliver_write(mb, job, &out);
    _exit(write_all(wfd, &out, sizeof out) == 0 ? 0 : 1);
}

/* ---- the parent ---- */

/* Reads the child's outcome until the deadline: 1 whole, 0 the child closed the pipe first,
 * -1 timed out, -2 poll failed (errno). */
static int read_outcome(int fd, long long deadline, struct vdeliver_outcome *o)
{
    char *p = (char *)o;
    size_t got = 0;
    while (got < sizeof *o) {
        long long left = deadline - clock_ms();
        if (left <= 0)
            return -1;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r < 0 && errno != EINTR)
            return -2;
        if (r <= 0)
            continue;
        ssize_t n = read(fd, p + got, sizeof *o - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        got += (size_t)n;
    }
    return 1;
}

static int reap(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

/* The outcome a child sent is trusted no further than its form: a known status whose code
 * matches it, and terminated texts. */
static bool outcome_ok(struct vdeliver_outcome *o)
{
    char want = o->status == DELIVERY_SENT ? '2' : o->status == DELIVERY_DEFER ? '4'
              : o->status == DELIVERY_BOUNCE ? '5' : 0;
    return want && memchr(o->dsn, '\0', sizeof o->dsn) && o->dsn[0] == want &&
           memchr(o->text, '\0', sizeof o->text) && memchr(o->file, '\0', sizeof o->file);
}

static void describe_end(int status, char *buf, size_t size)
{
    if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
}

void vdeliver(const struct vmailbox *mb, const struct vdeliver_job *job, long long deadline_ms,
              struct vdeliver_outcome *out)
{
    memset(out, 0, sizeof *out);
    if (mb->uid == 0 || mb->gid == 0) {   /* vmailbox_find refuses them; never write as root */
        set_outcome(out, DELIVERY_DEFER, "4.3.5", "mail system configuration error: refusing "
                    "to deliver to %s as uid %ld gid %ld", mb->path, (long)mb->uid,
                    (long)mb->gid);
        return;
    }
    if (geteuid() != 0 && (mb->uid != getuid() || mb->gid != getgid())) {
        set_outcome(out, DELIVERY_DEFER, "4.3.5", "mail system configuration error: cannot "
                    "deliver as uid %ld gid %ld: the virtual service does not run as root, so "
                    "it can only write as its own uid %ld gid %ld", (long)mb->uid,
                    (long)mb->gid, (long)getuid(), (long)getgid());
        return;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        set_outcome(out, DELIVERY_DEFER, "4.3.0", "cannot create a pipe: %s", strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        set_outcome(out, DELIVERY_DEFER, "4.3.0", "cannot fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        child(mb, job, fds[1]);
    }
    close(fds[1]);
    struct vdeliver_outcome got;
    int r = read_outcome(fds[0], deadline_ms, &got);
    int e = errno;
    close(fds[0]);
    if (r < 0)
        kill(pid, SIGKILL);
    int status = reap(pid);
    char end[64];
    describe_end(status, end, sizeof end);
    if (r == -2) {
        set_outcome(out, DELIVERY_DEFER, "4.3.0", "cannot wait for the delivery to %s: %s",
                    mb->path, strerror(e));
    } else if (r < 0) {
        set_outcome(out, DELIVERY_DEFER, "4.3.0", "delivery to %s did not finish within "
                    "command_time_limit; stopped", mb->path);
    } else if (r == 0 || !outcome_ok(&got)) {
        set_outcome(out, DELIVERY_DEFER, "4.3.0", "delivery process for %s ended without a "
                    "result (%s)", mb->path, end);
    } else {
        *out = got;
    }
}
