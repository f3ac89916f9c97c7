/* vdeliver.c: a virtual mailbox delivery in a child process that runs as the mailbox's owner
 * (see vdeliver.h), started by runas_run_until. The root parent only forks, waits and checks
 * the child's report; nothing under virtual_mailbox_base is ever opened as root. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "header.h"
#include "maildir.h"
#include "mbox.h"
#include "vdeliver.h"

/* ---- the child: as the mailbox owner ---- */

/* Creates the directories between virtual_mailbox_base and the mailbox itself (mode 0700, as
 * the calling user); the base must exist. 0, or -1 with the outcome in report. */
static int make_parents(const struct vmailbox *mb, struct ipc_msg *report)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", mb->path);
    for (char *slash = strchr(dir + mb->base_len + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        struct stat st;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            delivery_report_set(report, DELIVERY_DEFER, "4.2.0", NULL,
                                "cannot create directory %s: %s", dir, strerror(errno));
            return -1;
        }
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
            delivery_report_set(report, DELIVERY_DEFER, "4.2.0", NULL, "%s is not a directory",
                                dir);
            return -1;
        }
        *slash = '/';
    }
    return 0;
}

static void write_maildir(const struct vmailbox *mb, const struct vdeliver_job *job,
                          struct ipc_msg *report)
{
    if (job->size_limit > 0 && job->head_len + job->body_len > job->size_limit) {
        delivery_report_set(report, DELIVERY_BOUNCE, "5.2.3", NULL, "message is larger than "
                            "mailbox_size_limit (%zu bytes)", job->size_limit);
        return;
    }
    char dir[PATH_MAX];
    bool in_folder = job->folder && job->folder[0] &&
                     maildir_folder(mb->path, job->folder, dir, sizeof dir) == 1;
    const char *path = in_folder ? dir : mb->path;
    char name[VDELIVER_NAME_MAX], err[ERR_TEXT_MAX];
    if (maildir_deliver(path, job->head, job->head_len, job->body, job->body_len, name,
                        sizeof name, err, sizeof err) < 0) {
        delivery_report_set(report, DELIVERY_DEFER, "4.2.0", NULL, "cannot deliver to %s", err);
        return;
    }
    if (in_folder)
        delivery_report_set(report, DELIVERY_SENT, "2.0.0", NULL,
                            "delivered to maildir folder %s (quarantine)", job->folder);
    else
        delivery_report_set(report, DELIVERY_SENT, "2.0.0", NULL, "delivered to maildir");
    ipc_addf(report, VDELIVER_REPORT_A_FILE, "%s/%s", path, name);
}

static void write_mbox(const struct vmailbox *mb, const struct vdeliver_job *job,
                       struct ipc_msg *report)
{
    char err[ERR_TEXT_MAX];
    bool temporary = true;
    errno = 0;
    if (mbox_deliver(mb->path, job->sender, job->head, job->head_len, job->body, job->body_len,
                     job->size_limit, true, &temporary, err, sizeof err) < 0) {
        int e = errno;
        /* err reads "mailbox PATH: reason"; mbox.c leaves EFBIG for the size limit */
        if (temporary)
            delivery_report_set(report, DELIVERY_DEFER, "4.2.0", NULL, "cannot update %s", err);
        else
            delivery_report_set(report, DELIVERY_BOUNCE, e == EFBIG ? "5.2.2" : "5.2.0", NULL,
                                "cannot update %s", err);
        return;
    }
    delivery_report_set(report, DELIVERY_SENT, "2.0.0", NULL, "delivered to mailbox");
    ipc_add(report, VDELIVER_REPORT_A_FILE, mb->path);
}

void vdeliver_write(const struct vmailbox *mb, const struct vdeliver_job *job,
                    struct ipc_msg *report)
{
    if (make_parents(mb, report) < 0)
        return;
    if (mb->maildir)
        write_maildir(mb, job, report);
    else
        write_mbox(mb, job, report);
}

struct child_arg {
    const struct vmailbox *mb;
    const struct vdeliver_job *job;
};

static void child_job(void *arg, struct ipc_msg *report)
{
    const struct child_arg *a = arg;
    vdeliver_write(a->mb, a->job, report);
}

/* ---- the parent ---- */

void vdeliver_result(const struct vmailbox *mb, enum runas_result r, const char *err,
                     const struct ipc_msg *report, struct delivery_reply *reply, size_t i,
                     char *file)
{
    enum delivery_status status;
    const char *dsn, *text, *diag, *written = ipc_get(report, VDELIVER_REPORT_A_FILE);
    file[0] = '\0';
    if (r == RUNAS_TIMEOUT) {
        delivery_result_set(reply, i, DELIVERY_DEFER, "4.3.0", "delivery to %s did not finish "
                            "within command_time_limit; stopped", mb->path);
    } else if (r != RUNAS_OK) {
        delivery_result_set(reply, i, DELIVERY_DEFER, "4.3.0", "cannot deliver to %s: %s",
                            mb->path, err);
    } else if (delivery_report_get(report, &status, &dsn, &text, &diag) < 0 ||
               (status == DELIVERY_SENT) != (written != NULL)) {
        delivery_result_set(reply, i, DELIVERY_DEFER, "4.3.0", "cannot deliver to %s: "
                            "malformed report from the delivery process", mb->path);
    } else {
        delivery_result_set(reply, i, status, dsn, "%s", text);
        if (written) {
            snprintf(file, VDELIVER_FILE_MAX, "%s", written);
            text_printable(file);   /* it goes into the log */
        }
    }
}

void vdeliver(const struct vmailbox *mb, const struct vdeliver_job *job, long long deadline_ms,
              struct delivery_reply *reply, size_t i, char *file)
{
    file[0] = '\0';
    if (mb->uid == 0 || mb->gid == 0) {   /* vmailbox_find refuses them; never write as root */
        delivery_result_set(reply, i, DELIVERY_DEFER, "4.3.5", "mail system configuration "
                            "error: refusing to deliver to %s as uid %ld gid %ld", mb->path,
                            (long)mb->uid, (long)mb->gid);
        return;
    }
    if (geteuid() != 0 && (mb->uid != getuid() || mb->gid != getgid())) {
        delivery_result_set(reply, i, DELIVERY_DEFER, "4.3.5", "mail system configuration "
                            "error: cannot deliver as uid %ld gid %ld: the virtual service does "
                            "not run as root, so it can only write as its own uid %ld gid %ld",
                            (long)mb->uid, (long)mb->gid, (long)getuid(), (long)getgid());
        return;
    }
    struct child_arg arg = { mb, job };
    struct ipc_msg report;
    ipc_msg_init(&report);
    char err[512];
    enum runas_result r = runas_run_until(mb->uid, mb->gid, deadline_ms, child_job, &arg,
                                          &report, err, sizeof err);
    vdeliver_result(mb, r, err, &report, reply, i, file);
    ipc_msg_free(&report);
}
