/* mailbox.c: the mailbox and /file delivery jobs of mailbox.h, run as the recipient. A Maildir
 * whose top directory belongs to someone else is refused: in a shared spool (mode 1777) another
 * user could have made it first to read the mail. */
#include "mailbox.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "maildir.h"
#include "mbox.h"
#include "report.h"

/* The Maildir's top directory: created (0700) when missing, then it must be ours. */
static int check_maildir_owner(const char *path, struct ipc_msg *report)
{
    char dir[PATH_MAX];
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n >= sizeof dir) {
        delivery_report_set(report, DELIVERY_BOUNCE, "5.2.0", NULL, "maildir %s: path too long",
                            path);
        return -1;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    struct stat st;
    int r = lstat(dir, &st);
    if (r < 0 && errno == ENOENT) {
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            delivery_report_set(report, DELIVERY_DEFER, "4.2.0", NULL,
                                "maildir %s: cannot create: %s", dir, strerror(errno));
            return -1;
        }
        r = lstat(dir, &st);
    }
    if (r < 0) {
        delivery_report_set(report, DELIVERY_DEFER, "4.2.0", NULL, "maildir %s: %s", dir,
                            strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        delivery_report_set(report, DELIVERY_DEFER, "4.2.0", NULL, "maildir %s: not a directory",
                            dir);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        delivery_report_set(report, DELIVERY_DEFER, "4.2.0", NULL,
                            "maildir %s: owned by uid %ld, not by the recipient (uid %ld)", dir,
                            (long)st.st_uid, (long)geteuid());
        return -1;
    }
    return 0;
}

static void deliver_maildir(const struct mailbox_job *j, struct ipc_msg *report)
{
    if (j->size_limit > 0 && j->head_len + j->body_len > j->size_limit) {
        delivery_report_set(report, DELIVERY_BOUNCE, "5.2.2", NULL,
                            "message too large for the mailbox (mailbox_size_limit %zu bytes)",
                            j->size_limit);
        return;
    }
    if (check_maildir_owner(j->path, report) < 0)
        return;
    char dir[PATH_MAX];
    bool in_folder = j->folder[0] && maildir_folder(j->path, j->folder, dir, sizeof dir) == 1;
    char name[1300], err[ERR_TEXT_MAX];
    if (maildir_deliver(in_folder ? dir : j->path, j->head, j->head_len, j->body, j->body_len,
                        name, sizeof name, err, sizeof err) < 0) {
        delivery_report_set(report, DELIVERY_DEFER, "4.2.0", NULL, "%s", err);
        return;
    }
    if (j->file)
        delivery_report_set(report, DELIVERY_SENT, "2.0.0", NULL, "delivered to maildir: %s",
                            j->path);
    else if (in_folder)
        delivery_report_set(report, DELIVERY_SENT, "2.0.0", NULL,
                            "delivered to maildir folder %s (quarantine)", j->folder);
    else
        delivery_report_set(report, DELIVERY_SENT, "2.0.0", NULL, "delivered to maildir");
}

/* /dev/null as a /file target: the message goes nowhere, and that is what was asked. */
static bool is_dev_null(const char *path)
{
    struct stat st, null;
    return strcmp(path, "/dev/null") == 0 && stat(path, &st) == 0 && S_ISCHR(st.st_mode) &&
           stat("/dev/null", &null) == 0 && st.st_rdev == null.st_rdev;
}

static void deliver_mbox(const struct mailbox_job *j, struct ipc_msg *report)
{
    if (j->file && is_dev_null(j->path)) {
        delivery_report_set(report, DELIVERY_SENT, "2.0.0", NULL, "delivered to file: %s",
                            j->path);
        return;
    }
    bool temporary;
    char err[ERR_TEXT_MAX];
    if (mbox_deliver(j->path, j->sender, j->head, j->head_len, j->body, j->body_len,
                     j->size_limit, true, &temporary, err, sizeof err) < 0) {
        bool full = errno == EFBIG;
        const char *dsn = temporary ? "4.2.0" : full ? "5.2.2" : "5.2.0";
        delivery_report_set(report, temporary ? DELIVERY_DEFER : DELIVERY_BOUNCE, dsn, NULL,
                            "%s%s", j->file ? "cannot append to file: " : "", err);
        return;
    }
    if (j->file)
        delivery_report_set(report, DELIVERY_SENT, "2.0.0", NULL, "delivered to file: %s",
                            j->path);
    else
        delivery_report_set(report, DELIVERY_SENT, "2.0.0", NULL, "delivered to mailbox");
}

void mailbox_job_run(void *arg, struct ipc_msg *report)
{
    const struct mailbox_job *j = arg;   /* the umask is 077 already (runas.c's become) */
    if (j->maildir)
        deliver_maildir(j, report);
    else
        deliver_mbox(j, report);
}
