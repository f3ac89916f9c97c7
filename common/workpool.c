/* workpool.c: the thread pool of workpool.h. Workers take jobs from a mutex+condvar queue; a
 * finished job goes on a completion list and an eventfd wakes the event loop, which runs the
 * done callbacks in finish order. Workers never log or touch the event base. */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "log.h"
#include "mem.h"
#include "workpool.h"

#define WORKPOOL_MAX_THREADS 64

struct job {
    void (*work)(void *arg);
    void (*done)(void *arg);
    void *arg;
    struct job *next;
};

struct jobq {
    struct job *head, *tail;
};

struct workpool {
    struct event *ev;
    int efd;                    /* eventfd: "the completion list became non-empty" */
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* signalled when a job is queued or when stopping */
    struct jobq todo;           /* submitted, not yet taken by a worker */
    struct jobq finished;       /* work done, done() not yet run; in finish order */
    bool stopping;
    int nthreads;
    pthread_t threads[WORKPOOL_MAX_THREADS];
};

static void jobq_push(struct jobq *q, struct job *j)
{
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
}

static struct job *jobq_pop(struct jobq *q)
{
    struct job *j = q->head;
    if (j) {
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
    }
    return j;
}

static void notify_loop(struct workpool *p)
{
    uint64_t one = 1;
    /* an eventfd write only fails when the counter would overflow, and then a wake-up is
     * already pending: nothing is lost */
    while (write(p->efd, &one, sizeof one) < 0 && errno == EINTR)
        ;
}

static void *worker_main(void *arg)
{
    struct workpool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->todo.head && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        struct job *j = jobq_pop(&p->todo);
        if (!j)
            break;   /* stopping and nothing left to do */
        pthread_mutex_unlock(&p->lock);
        j->work(j->arg);
        if (!j->done) {   /* nothing to hand back to the loop */
            free(j);
            pthread_mutex_lock(&p->lock);
            continue;
        }
        pthread_mutex_lock(&p->lock);
        bool was_empty = p->finished.head == NULL;
        jobq_push(&p->finished, j);
        /* one wake-up per batch: the loop takes the whole list after reading the eventfd */
        if (was_empty)
            notify_loop(p);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Runs the done callbacks of every finished job, oldest first. Loop thread only. */
static void run_finished(struct workpool *p)
{
    pthread_mutex_lock(&p->lock);
    struct jobq batch = p->finished;
    p->finished = (struct jobq){ NULL, NULL };
    pthread_mutex_unlock(&p->lock);
    struct job *j;
    while ((j = jobq_pop(&batch)) != NULL) {
        if (j->done)
            j->done(j->arg);
        free(j);
    }
}

static void on_completion(evutil_socket_t fd, short what, void *arg)
{
    struct workpool *p = arg;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN && errno != EINTR)
        log_warn("workpool: reading the completion eventfd: %s", strerror(errno));
    run_finished(p);
}

static void stop_workers(struct workpool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
}

/* Workers block every signal, so signals reach the loop thread (and libevent's handlers). */
static int start_workers(struct workpool *p, int threads)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = 0;
    while (p->nthreads < threads) {
        err = pthread_create(&p->threads[p->nthreads], NULL, worker_main, p);
        if (err)
            break;
        p->nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return err;
}

static void destroy(struct workpool *p)
{
    if (p->ev)
        event_free(p->ev);
    if (p->efd >= 0)
        close(p->efd);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

struct workpool *workpool_new(struct event_base *base, int threads)
{
    if (!base || threads < 1 || threads > WORKPOOL_MAX_THREADS) {
        errno = EINVAL;
        return NULL;
    }
    struct workpool *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->efd >= 0)
        p->ev = event_new(base, p->efd, EV_READ | EV_PERSIST, on_completion, p);
    if (p->efd < 0 || !p->ev || event_add(p->ev, NULL) < 0) {
        int e = p->efd < 0 ? errno : ENOMEM;
        destroy(p);
        errno = e;
        return NULL;
    }
    int err = start_workers(p, threads);
    if (err) {
        stop_workers(p);
        destroy(p);
        errno = err;
        return NULL;
    }
    return p;
}

void workpool_submit(struct workpool *p, void (*work)(void *arg), void (*done)(void *arg),
                     void *arg)
{
    struct job *j = xmalloc(sizeof *j);
    *j = (struct job){ work, done, arg, NULL };
    pthread_mutex_lock(&p->lock);
    jobq_push(&p->todo, j);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

void workpool_free(struct workpool *p)
{
    if (!p)
        return;
    /* workers finish everything queued before they see `stopping` on an empty queue */
    stop_workers(p);
    event_del(p->ev);
    run_finished(p);
    destroy(p);
}
