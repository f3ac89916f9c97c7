/* listfile.c: reading a .forward or :include: file as its user (listfile.h). Symbolic links
 * are followed (the reader has only the user's rights), and the checks apply to the file
 * actually opened (fstat). */
#include "listfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "report.h"
#include "safefile.h"

/* 1 read into text, 0 absent or not usable (warning set for an unusable .forward), -1 failed
 * (reported). */
static int read_one(const char *path, bool forward, struct buf *text, char *warning,
                    size_t wlen, struct ipc_msg *report)
{
    struct stat st;
    int fd = safe_open_stat(path, O_RDONLY, 0, &st);   /* no O_NOFOLLOW: see the top */
    if (fd < 0) {
        if (forward && (errno == ENOENT || errno == ENOTDIR))
            return 0;
        if (forward && errno == EACCES) {
            snprintf(warning, wlen, "cannot read %s: %s; delivering to the mailbox", path,
                     strerror(errno));
            return 0;
        }
        delivery_report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "cannot open %s: %s", path,
                            strerror(errno));
        return -1;
    }
    const char *bad = NULL;
    if (!S_ISREG(st.st_mode))
        bad = "not a regular file";
    else if (forward && st.st_uid != geteuid())
        bad = "not owned by the user";
    else if (st.st_mode & (S_IWGRP | S_IWOTH))
        bad = "writable by group or others";
    else if (st.st_size > LISTFILE_MAX)
        bad = "too large";
    if (bad) {
        close(fd);
        if (forward) {
            snprintf(warning, wlen, "ignoring %s: %s", path, bad);
            return 0;
        }
        delivery_report_set(report, DELIVERY_DEFER, "4.3.5", NULL, "refusing %s: %s", path, bad);
        return -1;
    }
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (n > 0 && buf_append(text, chunk, (size_t)n) < 0)) {
            delivery_report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "cannot read %s: %s", path,
                                n < 0 ? strerror(errno) : "too large");
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
    }
    close(fd);
    if (memchr(text->data, '\0', text->len)) {
        delivery_report_set(report, DELIVERY_DEFER, "4.3.5", NULL,
                            "refusing %s: it holds a NUL byte", path);
        return -1;
    }
    return 1;
}

void listfile_job_run(void *arg, struct ipc_msg *report)
{
    const struct listfile_job *j = arg;
    struct buf text;
    buf_init(&text, LISTFILE_MAX);
    char warning[600] = "";
    for (size_t i = 0; i < 2 && j->path[i]; i++) {
        buf_reset(&text);
        int r = read_one(j->path[i], j->forward, &text, warning, sizeof warning, report);
        if (r < 0)
            goto out;
        if (r > 0) {
            ipc_add(report, LOCAL_REPORT_A_FOUND, j->path[i]);
            ipc_add_len(report, LOCAL_REPORT_A_CONTENT, text.data, text.len);
            goto out;
        }
        if (!j->forward) {
            delivery_report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "cannot open %s: %s",
                                j->path[i], strerror(ENOENT));
            goto out;
        }
    }
    ipc_add(report, LOCAL_REPORT_A_NONE, "1");
out:
    if (warning[0])
        ipc_add(report, LOCAL_REPORT_A_WARNING, warning);
    buf_free(&text);
}
