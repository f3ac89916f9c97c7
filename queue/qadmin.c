/* qadmin.c: the admin actions of qadmin.h on queue files: renames between the queue
 * directories and unlinks, each logged; used by the queue manager and, when it does not run,
 * by root's ternqueue. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ipc_proto.h"
#include "log.h"
#include "qadmin.h"
#include "qfile.h"
#include "safefile.h"

static const struct {
    unsigned bit;
    const char *name;
} queues[] = {
    { QADMIN_Q_INCOMING, "incoming" },
    { QADMIN_Q_ACTIVE, "active" },
    { QADMIN_Q_DEFERRED, "deferred" },
    { QADMIN_Q_HOLD, "hold" },
};
#define NQUEUES (sizeof queues / sizeof queues[0])

static const struct {
    const char *name;
    const char *done;
    unsigned queues;
} ops[] = {
    [QADMIN_DELETE] = { IPC_T_DELETE, "removed", QADMIN_Q_ALL },
    [QADMIN_HOLD] = { IPC_T_HOLD, "placed on hold",
                      QADMIN_Q_INCOMING | QADMIN_Q_ACTIVE | QADMIN_Q_DEFERRED },
    [QADMIN_RELEASE] = { IPC_T_RELEASE, "released from hold", QADMIN_Q_HOLD },
    [QADMIN_REQUEUE] = { IPC_T_REQUEUE, "requeued", QADMIN_Q_ALL },
};

const char *qadmin_op_name(enum qadmin_op op)
{
    return ops[op].name;
}

int qadmin_op_parse(const char *name, enum qadmin_op *op)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(name, ops[i].name) == 0) {
            *op = (enum qadmin_op)i;
            return 0;
        }
    return -1;
}

const char *qadmin_op_done_text(enum qadmin_op op)
{
    return ops[op].done;
}

unsigned qadmin_queues(enum qadmin_op op)
{
    return ops[op].queues;
}

unsigned qadmin_queue_bit(const char *name)
{
    for (size_t i = 0; i < NQUEUES; i++)
        if (strcmp(name, queues[i].name) == 0)
            return queues[i].bit;
    return 0;
}

const char *qadmin_queue_name(unsigned bit)
{
    for (size_t i = 0; i < NQUEUES; i++)
        if (queues[i].bit == bit)
            return queues[i].name;
    return "?";
}

void qadmin_remove_logs(const char *id, bool all)
{
    static const char *const dirs[] = { "defer", "bounce", "trace" };
    for (size_t i = 0; i < (all ? 3u : 1u); i++) {
        char path[QFILE_ID_MAX + 16];
        snprintf(path, sizeof path, "%s/%s", dirs[i], id);
        if (unlink(path) < 0 && errno != ENOENT)
            log_warn("%s: cannot remove %s: %s", id, path, strerror(errno));
    }
}

static int failed(char *err, size_t errlen, const char *id, const char *what, const char *path)
{
    snprintf(err, errlen, "%s: cannot %s %s: %s", id, what, path, strerror(errno));
    return -1;
}

/* Moves from to the queue dir to; 1 done, 0 when from vanished meanwhile, -1 with err. */
static int move(const char *id, const char *from, const char *to_dir, char *err, size_t errlen)
{
    char to[QFILE_ID_MAX + 16];
    snprintf(to, sizeof to, "%s/%s", to_dir, id);
    if (rename(from, to) == 0)
        return 1;
    if (errno == ENOENT)
        return 0;
    return failed(err, errlen, id, "move", from);
}

/* op on the file at path (in queue bit); 1 done, 0 gone meanwhile, -1 with err. */
static int act(enum qadmin_op op, const char *id, const char *path, unsigned bit, char *err,
               size_t errlen)
{
    switch (op) {
    case QADMIN_DELETE:
        if (unlink(path) < 0)
            return errno == ENOENT ? 0 : failed(err, errlen, id, "remove", path);
        qadmin_remove_logs(id, true);
        return 1;
    case QADMIN_HOLD:
        return move(id, path, "hold", err, errlen);
    case QADMIN_RELEASE: {
        /* due now: deferred/ files are retried once their mtime has come */
        if (utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW) < 0)
            return errno == ENOENT ? 0 : failed(err, errlen, id, "set the retry time of", path);
        return move(id, path, "deferred", err, errlen);
    }
    case QADMIN_REQUEUE: {
        int r = bit == QADMIN_Q_INCOMING ? 1 : move(id, path, "incoming", err, errlen);
        if (r == 1)
            qadmin_remove_logs(id, false);
        return r;
    }
    }
    return 0;
}

int qadmin_apply(enum qadmin_op op, const char *id, unsigned bits, char *err, size_t errlen)
{
    if (!qfile_valid_id(id)) {
        snprintf(err, errlen, "%s: not a queue ID", id);
        return -1;
    }
    bits &= qadmin_queues(op);
    for (size_t i = 0; i < NQUEUES; i++) {
        if (!(bits & queues[i].bit))
            continue;
        char path[QFILE_ID_MAX + 16];
        snprintf(path, sizeof path, "%s/%s", queues[i].name, id);
        struct stat st;
        if (lstat(path, &st) < 0) {
            if (errno == ENOENT)
                continue;
            return failed(err, errlen, id, "look at", path);
        }
        if (!S_ISREG(st.st_mode)) {
            snprintf(err, errlen, "%s: %s is not a regular file", id, path);
            return -1;
        }
        if (!qfile_complete(st.st_mode))
            continue;   /* still being written: not a message yet */
        int r = act(op, id, path, queues[i].bit, err, errlen);
        if (r < 0)
            return -1;
        if (r == 0)
            continue;   /* moved on meanwhile: look in the next queue */
        log_info("%s: %s", id, qadmin_op_done_text(op));
        return (int)queues[i].bit;
    }
    return 0;
}

int qadmin_each(unsigned bits, int (*fn)(unsigned queue, const char *id, void *arg), void *arg,
                char *err, size_t errlen)
{
    for (size_t i = 0; i < NQUEUES; i++) {
        if (!(bits & queues[i].bit))
            continue;
        DIR *d = opendir(queues[i].name);
        if (d == NULL) {
            snprintf(err, errlen, "cannot read %s/: %s", queues[i].name, strerror(errno));
            return -1;
        }
        struct dirent *de;
        int stop = 0;
        while (!stop && (de = readdir(d)) != NULL)
            if (qfile_valid_id(de->d_name))
                stop = fn(queues[i].bit, de->d_name, arg);
        closedir(d);
        if (stop)
            break;
    }
    return 0;
}

void qadmin_sync(unsigned bits)
{
    for (size_t i = 0; i < NQUEUES; i++)
        if (bits & queues[i].bit)
            fsync_dir(queues[i].name);
}

bool qadmin_parse_id(const char *text, char *out, size_t size)
{
    size_t n = strlen(text);
    if (n > 0 && (text[n - 1] == '*' || text[n - 1] == '!'))
        n--;
    if (n == 0 || n >= size || n >= QFILE_ID_MAX)
        return false;
    memcpy(out, text, n);
    out[n] = '\0';
    return qfile_valid_id(out);
}
