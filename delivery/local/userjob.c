/* userjob.c: the jobs of userjob.h, encoded in the agent and decoded and run in a kept worker.
 * The worker trusts its parent, yet checks each job as any IPC message: a malformed one is
 * reported as a deferral, never guessed at. */
#include "userjob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "report.h"

#define JOB_MAILBOX "mailbox"
#define JOB_LISTFILE "listfile"

int userjob_mailbox(const struct mailbox_job *j, struct ipc_msg *job)
{
    if (ipc_add(job, "type", JOB_MAILBOX) < 0 || ipc_add(job, "path", j->path) < 0 ||
        ipc_add(job, "maildir", j->maildir ? "1" : "0") < 0 ||
        ipc_add(job, "file", j->file ? "1" : "0") < 0 || ipc_add(job, "sender", j->sender) < 0 ||
        ipc_add_len(job, "head", j->head, j->head_len) < 0 ||
        ipc_addf(job, "size_limit", "%zu", j->size_limit) < 0)
        return -1;
    return 0;
}

int userjob_listfile(const struct listfile_job *j, struct ipc_msg *job)
{
    if (ipc_add(job, "type", JOB_LISTFILE) < 0 ||
        ipc_add(job, "forward", j->forward ? "1" : "0") < 0)
        return -1;
    for (size_t i = 0; i < 2 && j->path[i]; i++)
        if (ipc_add(job, "path", j->path[i]) < 0)
            return -1;
    return 0;
}

int userjob_content_fd(const char *data, size_t len)
{
    int fd = memfd_create("tern-content", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            errno = e;
            return -1;
        }
        done += (size_t)n;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* The flag attribute name as a bool: "1" true, "0" false, anything else -1. */
static int flag(const struct ipc_msg *job, const char *name)
{
    const char *v = ipc_get(job, name);
    if (v && strcmp(v, "1") == 0)
        return 1;
    return v && strcmp(v, "0") == 0 ? 0 : -1;
}

static void serve_mailbox(const struct ipc_msg *job, int fd, struct ipc_msg *report)
{
    static const char *const required[] = { "type", "path", "maildir", "file", "sender", "head",
                                            "size_limit", NULL };
    const char *why;
    long long limit;
    int maildir = flag(job, "maildir"), file = flag(job, "file");
    if (ipc_check(job, required, required, &why) < 0 || maildir < 0 || file < 0 ||
        ipc_get_long(job, "size_limit", 0, (long long)(SIZE_MAX >> 1), &limit) < 0 || fd < 0) {
        report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "malformed mailbox job");
        return;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "cannot read the message: %s",
                   strerror(errno));
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "malformed mailbox job");
        return;
    }
    size_t len = (size_t)st.st_size;
    void *body = NULL;
    if (len > 0) {
        body = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (body == MAP_FAILED) {
            report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "cannot map the message: %s",
                       strerror(errno));
            return;
        }
    }
    const char *head = NULL;
    size_t head_len = 0;
    for (size_t i = 0; i < job->count; i++) {
        if (strcmp(job->attr[i].name, "head") == 0) {
            head = job->attr[i].value;
            head_len = job->attr[i].value_len;
            break;
        }
    }
    struct mailbox_job mj = {
        .path = ipc_get(job, "path"), .maildir = maildir, .file = file,
        .sender = ipc_get(job, "sender"), .head = head, .head_len = head_len,
        .body = body ? body : "", .body_len = len, .size_limit = (size_t)limit,
    };
    mailbox_job_run(&mj, report);
    if (body)
        munmap(body, len);
}

static void serve_listfile(const struct ipc_msg *job, struct ipc_msg *report)
{
    static const char *const required[] = { "type", "forward", "path", NULL };
    const char *why;
    struct listfile_job lj = { .path = { NULL, NULL } };
    int forward = flag(job, "forward");
    size_t n = 0;
    for (size_t i = 0; i < job->count; i++) {
        if (strcmp(job->attr[i].name, "path") != 0)
            continue;
        if (n == 2) {
            n = 3;   /* more than a listfile_job holds */
            break;
        }
        lj.path[n++] = job->attr[i].value;
    }
    if (ipc_check(job, required, required, &why) < 0 || forward < 0 || n > 2) {
        report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "malformed list file job");
        return;
    }
    lj.forward = forward;
    listfile_job_run(&lj, report);
}

void userjob_serve(const struct ipc_msg *job, int fd, struct ipc_msg *report)
{
    const char *type = ipc_get(job, "type");
    if (type && strcmp(type, JOB_MAILBOX) == 0)
        serve_mailbox(job, fd, report);
    else if (type && strcmp(type, JOB_LISTFILE) == 0)
        serve_listfile(job, report);
    else
        report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "unknown job for a delivery process");
}
