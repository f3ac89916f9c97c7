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
#include "ipc_proto.h"
#include "report.h"

/* The attributes a mailbox write always has besides its path (add_mailbox), for ipc_check. */
#define MAILBOX_ATTRS LOCAL_JOB_A_MAILDIR, LOCAL_JOB_A_FILE, LOCAL_JOB_A_SENDER, LOCAL_JOB_A_HEAD, \
    LOCAL_JOB_A_SIZE_LIMIT, LOCAL_JOB_A_FOLDER

/* The attributes of a mailbox write, its path under path_attr. */
static int add_mailbox(const struct mailbox_job *j, const char *path_attr, struct ipc_msg *job)
{
    if (ipc_add(job, path_attr, j->path) < 0 ||
        ipc_add(job, LOCAL_JOB_A_MAILDIR, j->maildir ? "1" : "0") < 0 ||
        ipc_add(job, LOCAL_JOB_A_FILE, j->file ? "1" : "0") < 0 ||
        ipc_add(job, LOCAL_JOB_A_SENDER, j->sender) < 0 ||
        ipc_add_len(job, LOCAL_JOB_A_HEAD, j->head, j->head_len) < 0 ||
        ipc_addf(job, LOCAL_JOB_A_SIZE_LIMIT, "%zu", j->size_limit) < 0 ||
        ipc_add(job, LOCAL_JOB_A_FOLDER, j->folder ? j->folder : "") < 0)
        return -1;
    if (j->body && ipc_add_len(job, LOCAL_JOB_A_BODY, j->body, j->body_len) < 0)
        return -1;
    return 0;
}

bool userjob_content_inline(const char *data, size_t len)
{
    return len <= USERJOB_INLINE_MAX && memchr(data, '\0', len) == NULL;
}

/* The list files to try, as repeated path attributes. */
static int add_paths(const struct listfile_job *j, struct ipc_msg *job)
{
    for (size_t i = 0; i < 2 && j->path[i]; i++)
        if (ipc_add(job, LOCAL_JOB_A_PATH, j->path[i]) < 0)
            return -1;
    return 0;
}

int userjob_mailbox(const struct mailbox_job *j, struct ipc_msg *job)
{
    if (ipc_add(job, IPC_A_TYPE, LOCAL_JOB_MAILBOX) < 0)
        return -1;
    return add_mailbox(j, LOCAL_JOB_A_PATH, job);
}

int userjob_listfile(const struct listfile_job *j, struct ipc_msg *job)
{
    if (ipc_add(job, IPC_A_TYPE, LOCAL_JOB_LISTFILE) < 0 ||
        ipc_add(job, LOCAL_JOB_A_FORWARD, j->forward ? "1" : "0") < 0)
        return -1;
    return add_paths(j, job);
}

int userjob_forward(const struct listfile_job *lj, const struct mailbox_job *mj,
                    struct ipc_msg *job)
{
    if (ipc_add(job, IPC_A_TYPE, LOCAL_JOB_FORWARD) < 0 ||
        add_mailbox(mj, LOCAL_JOB_A_MAILBOX_PATH, job) < 0)
        return -1;
    return add_paths(lj, job);
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

/* The value and length of attribute name, or NULL. */
static const char *value_of(const struct ipc_msg *job, const char *name, size_t *len)
{
    for (size_t i = 0; i < job->count; i++) {
        if (strcmp(job->attr[i].name, name) == 0) {
            *len = job->attr[i].value_len;
            return job->attr[i].value;
        }
    }
    return NULL;
}

/* The mailbox part of a job (path under path_attr) with the content from its body attribute or
 * mapped from fd (one of the two); false with a deferral reported when the job or the
 * descriptor is not what it must be. */
static bool mailbox_from(const struct ipc_msg *job, const char *path_attr, int fd,
                         struct mailbox_job *mj, struct ipc_msg *report)
{
    long long limit;
    int maildir = flag(job, LOCAL_JOB_A_MAILDIR), file = flag(job, LOCAL_JOB_A_FILE);
    const char *path = ipc_get(job, path_attr), *sender = ipc_get(job, LOCAL_JOB_A_SENDER);
    const char *folder = ipc_get(job, LOCAL_JOB_A_FOLDER);
    size_t head_len = 0, inline_len = 0;
    const char *head = value_of(job, LOCAL_JOB_A_HEAD, &head_len);
    const char *inline_body = value_of(job, LOCAL_JOB_A_BODY, &inline_len);
    struct stat st;
    if (maildir < 0 || file < 0 || !path || !sender || !head || !folder ||
        (fd < 0) == !inline_body ||
        ipc_get_long(job, LOCAL_JOB_A_SIZE_LIMIT, 0, (long long)(SIZE_MAX >> 1), &limit) < 0 ||
        (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)))) {
        delivery_report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "malformed mailbox job");
        return false;
    }
    *mj = (struct mailbox_job){
        .path = path, .maildir = maildir, .file = file, .sender = sender, .head = head,
        .head_len = head_len, .body = inline_body, .body_len = inline_len,
        .size_limit = (size_t)limit, .folder = folder, .body_mapped = false,
    };
    if (inline_body)
        return true;
    size_t len = (size_t)st.st_size;
    void *body = NULL;
    if (len > 0) {
        body = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (body == MAP_FAILED) {
            delivery_report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "cannot map the message: %s",
                                strerror(errno));
            return false;
        }
    }
    mj->body = body ? body : "";
    mj->body_len = len;
    mj->body_mapped = len > 0;
    return true;
}

static void mailbox_done(struct mailbox_job *mj)
{
    if (mj->body_mapped)
        munmap((void *)mj->body, mj->body_len);
}

/* The list file part of a job: false when malformed. */
static bool listfile_from(const struct ipc_msg *job, struct listfile_job *lj)
{
    size_t n = 0;
    for (size_t i = 0; i < job->count; i++) {
        if (strcmp(job->attr[i].name, LOCAL_JOB_A_PATH) != 0)
            continue;
        if (n == 2)
            return false;   /* more than a listfile_job holds */
        lj->path[n++] = job->attr[i].value;
    }
    return n > 0;
}

static void serve_mailbox(const struct ipc_msg *job, int fd, struct ipc_msg *report)
{
    static const char *const required[] = { IPC_A_TYPE, LOCAL_JOB_A_PATH, MAILBOX_ATTRS, NULL };
    static const char *const names[] = { LOCAL_JOB_A_BODY, NULL };
    struct mailbox_job mj;
    if (ipc_check(job, required, names, NULL, 0) < 0) {
        delivery_report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "malformed mailbox job");
        return;
    }
    if (!mailbox_from(job, LOCAL_JOB_A_PATH, fd, &mj, report))
        return;
    mailbox_job_run(&mj, report);
    mailbox_done(&mj);
}

static void serve_listfile(const struct ipc_msg *job, struct ipc_msg *report)
{
    static const char *const names[] = { IPC_A_TYPE, LOCAL_JOB_A_FORWARD, LOCAL_JOB_A_PATH, NULL };
    struct listfile_job lj = { .path = { NULL, NULL } };
    int forward = flag(job, LOCAL_JOB_A_FORWARD);
    if (ipc_check(job, names, names, NULL, 0) < 0 || forward < 0 || !listfile_from(job, &lj)) {
        delivery_report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "malformed list file job");
        return;
    }
    lj.forward = forward;
    listfile_job_run(&lj, report);
}

/* A .forward, and when there is none, the mailbox at once. */
static void serve_forward(const struct ipc_msg *job, int fd, struct ipc_msg *report)
{
    static const char *const required[] = { IPC_A_TYPE, LOCAL_JOB_A_PATH, LOCAL_JOB_A_MAILBOX_PATH,
                                            MAILBOX_ATTRS, NULL };
    static const char *const names[] = { LOCAL_JOB_A_BODY, NULL };
    struct listfile_job lj = { .path = { NULL, NULL }, .forward = true };
    if (ipc_check(job, required, names, NULL, 0) < 0 || !listfile_from(job, &lj)) {
        delivery_report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "malformed forward job");
        return;
    }
    listfile_job_run(&lj, report);
    if (!ipc_get(report, LOCAL_REPORT_A_NONE))
        return;
    struct mailbox_job mj;
    if (!mailbox_from(job, LOCAL_JOB_A_MAILBOX_PATH, fd, &mj, report))
        return;
    mailbox_job_run(&mj, report);
    mailbox_done(&mj);
}

void userjob_serve(const struct ipc_msg *job, int fd, struct ipc_msg *report)
{
    const char *type = ipc_get(job, IPC_A_TYPE);
    if (type && strcmp(type, LOCAL_JOB_MAILBOX) == 0)
        serve_mailbox(job, fd, report);
    else if (type && strcmp(type, LOCAL_JOB_FORWARD) == 0)
        serve_forward(job, fd, report);
    else if (type && strcmp(type, LOCAL_JOB_LISTFILE) == 0)
        serve_listfile(job, report);
    else
        delivery_report_set(report, DELIVERY_DEFER, "4.3.0", NULL,
                            "unknown job for a delivery process");
}
