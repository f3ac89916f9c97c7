/* qcommit.c: durable commits of queue files on a workpool (qcommit.h). A worker seals the file
 * (mode 0600, fsync); one fsync of incoming/ covers every directory entry made before it
 * started (group commit), and may already have run while the content arrived (qcommit_start);
 * then the result goes back to the event loop. */
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

/* Directory entries are numbered in the order they were registered (entry_gen), each after its
 * file got its name in incoming/. A directory fsync started when entry_gen was G covers every
 * entry numbered <= G. durable_upto is the largest G of a successful fsync, failed_upto the
 * largest of a failed one: an entry a failed fsync covered is reported failed even when a later
 * fsync succeeds (Linux reports a writeback error once per open file, so that later success
 * proves nothing about it). */
static struct {
    struct workpool *pool;
    int incoming_fd;
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* broadcast whenever a directory fsync ends */
    uint64_t entry_gen;
    uint64_t durable_upto;
    uint64_t failed_upto;
    int failed_error;           /* errno of the last failed fsync */
    bool syncing;
} C = { NULL, -1, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, false };

struct commit {
    struct qfile *q;
    void (*done)(void *arg, int error);
    void *arg;
    int error;
};

/* Numbers q's directory entry (its name exists now), once. */
static uint64_t register_entry(struct qfile *q)
{
    uint64_t gen = qfile_dir_gen(q);
    if (gen == 0) {
        pthread_mutex_lock(&C.lock);
        gen = ++C.entry_gen;
        pthread_mutex_unlock(&C.lock);
        qfile_set_dir_gen(q, gen);
    }
    return gen;
}

/* Returns once a directory fsync that covers entry gen has ended: 0, or the errno of a failed
 * fsync that covered it. At most one fsync runs at a time; entries registered while it runs
 * share the next one. */
static int sync_incoming(uint64_t gen)
{
    pthread_mutex_lock(&C.lock);
    while (C.durable_upto < gen && C.failed_upto < gen) {
        if (C.syncing) {
            pthread_cond_wait(&C.cond, &C.lock);
            continue;
        }
        C.syncing = true;
        uint64_t upto = C.entry_gen;
        pthread_mutex_unlock(&C.lock);
        int error = fsync(C.incoming_fd) < 0 ? errno : 0;
        pthread_mutex_lock(&C.lock);
        C.syncing = false;
        if (error) {
            C.failed_upto = upto;
            C.failed_error = error;
        } else if (upto > C.durable_upto) {
            C.durable_upto = upto;
        }
        pthread_cond_broadcast(&C.cond);
    }
    int error = C.failed_upto >= gen ? C.failed_error : 0;
    pthread_mutex_unlock(&C.lock);
    return error;
}

/* The early directory fsync of qcommit_start; its result is read again at the commit. */
static void entry_work(void *arg)
{
    (void)sync_incoming((uint64_t)(uintptr_t)arg);
}

/* On a worker: seal (mode 0600, fsync), then the directory fsync that covers the entry. On
 * failure the caller removes the file and the client gets a 4xx: a copy that qmgr may have taken
 * meanwhile is delivered twice at worst, never lost. */
static void commit_work(void *arg)
{
    struct commit *c = arg;
    if (qfile_seal(c->q) < 0) {
        c->error = errno;
        return;
    }
    c->error = sync_incoming(qfile_dir_gen(c->q));
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

void qcommit_start(struct qfile *q)
{
    if (!C.pool)
        log_fatal("qcommit_start before qcommit_init");
    workpool_submit(C.pool, entry_work, NULL, (void *)(uintptr_t)register_entry(q));
}

void qcommit_submit(struct qfile *q, void (*done)(void *arg, int error), void *arg)
{
    if (!C.pool)
        log_fatal("qcommit_submit before qcommit_init");
    register_entry(q);
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
