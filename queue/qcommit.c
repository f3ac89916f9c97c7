/* qcommit.c: durable commits of queue files on a workpool (qcommit.h). A worker fsyncs the
 * file and renames it into incoming/; then one fsync of incoming/ covers every rename done
 * before it started (group commit), and the result goes back to the event loop. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "mem.h"
#include "qcommit.h"
#include "workpool.h"

#define QCOMMIT_MAX_THREADS 16

/* A worker whose rename waits for a directory fsync; lives on that worker's stack. */
struct dir_waiter {
    uint64_t gen;       /* its rename generation */
    bool done;
    int error;
    struct dir_waiter *next;
};

/* Group commit state. rename_gen numbers the renames in the order they completed; a directory
 * fsync started when rename_gen was G covers every rename of generation <= G (sync_gen while
 * it runs). The thread that ran an fsync hands its result to every waiter it covers, so no
 * rename is reported durable on the strength of a later fsync that might not report an
 * earlier failure (Linux reports a writeback error once per open file). */
static struct {
    struct workpool *pool;
    int incoming_fd;
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* broadcast whenever a directory fsync ends */
    uint64_t rename_gen;
    uint64_t sync_gen;          /* coverage of the running (or last) directory fsync */
    bool syncing;
    struct dir_waiter *waiters;
} C = { NULL, -1, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, false, NULL };

struct commit {
    struct qfile *q;
    void (*done)(void *arg, int error);
    void *arg;
    int error;
};

/* With C.lock held: gives the result of the fsync that covered generations <= upto. */
static void resolve_waiters(uint64_t upto, int error)
{
    struct dir_waiter **pp = &C.waiters;
    while (*pp) {
        struct dir_waiter *w = *pp;
        if (w->gen <= upto) {
            w->done = true;
            w->error = error;
            *pp = w->next;
        } else {
            pp = &w->next;
        }
    }
}

/* Called right after a successful rename: returns once a directory fsync that started after
 * the rename has ended, with its error (0 on success). At most one fsync runs at a time;
 * renames that arrive while it runs share the next one. */
static int sync_incoming(void)
{
    struct dir_waiter w = { 0, false, 0, NULL };
    pthread_mutex_lock(&C.lock);
    w.gen = ++C.rename_gen;
    w.next = C.waiters;
    C.waiters = &w;
    while (!w.done) {
        if (C.syncing) {
            pthread_cond_wait(&C.cond, &C.lock);
            continue;
        }
        C.syncing = true;
        C.sync_gen = C.rename_gen;
        uint64_t upto = C.sync_gen;
        pthread_mutex_unlock(&C.lock);
        int error = fsync(C.incoming_fd) < 0 ? errno : 0;
        pthread_mutex_lock(&C.lock);
        C.syncing = false;
        resolve_waiters(upto, error);
        pthread_cond_broadcast(&C.cond);
    }
    pthread_mutex_unlock(&C.lock);
    return w.error;
}

/* On a worker: fsync, rename, group fsync of incoming/. When that last fsync fails the file
 * is removed again: the client gets a 4xx and will send the message again, and a copy that
 * might still survive a crash would only be delivered twice. (If qmgr already took the file
 * from incoming/ in that instant, the unlink misses it: a duplicate, never a loss.) */
static void commit_work(void *arg)
{
    struct commit *c = arg;
    if (fsync(qfile_fd(c->q)) < 0 || rename(qfile_tmp_path(c->q), qfile_final_path(c->q)) < 0) {
        c->error = errno;
        return;
    }
    c->error = sync_incoming();
    if (c->error)
        unlink(qfile_final_path(c->q));
}

static void commit_done(void *arg)
{
    struct commit *c = arg;
    c->done(c->arg, c->error);
    free(c);
}

void qcommit_init(struct event_base *base, int threads)
{
    if (C.pool)
        log_fatal("qcommit_init: already initialized");
    if (threads < 1 || threads > QCOMMIT_MAX_THREADS)
        log_fatal("qcommit_init: %d threads (1-%d)", threads, QCOMMIT_MAX_THREADS);
    C.incoming_fd = open("incoming", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (C.incoming_fd < 0)
        log_fatal("open incoming/: %s", strerror(errno));
    C.pool = workpool_new(base, threads);
    if (!C.pool)
        log_fatal("cannot start the queue commit threads: %s", strerror(errno));
}

void qcommit_submit(struct qfile *q, void (*done)(void *arg, int error), void *arg)
{
    if (!C.pool)
        log_fatal("qcommit_submit before qcommit_init");
    struct commit *c = xmalloc(sizeof *c);
    *c = (struct commit){ q, done, arg, 0 };
    workpool_submit(C.pool, commit_work, commit_done, c);
}

void qcommit_shutdown(void)
{
    if (!C.pool)
        return;
    workpool_free(C.pool);
    C.pool = NULL;
    close(C.incoming_fd);
    C.incoming_fd = -1;
}
