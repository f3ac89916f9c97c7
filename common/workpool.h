/* workpool.h: a small pool of threads for work that would block an event loop (fsync, password
 * hashing). Jobs run on a worker thread; their completion callbacks run back in the event loop
 * thread, in the order the jobs finished. Nothing else of tern is touched from a worker thread:
 * a job may only use its own argument (and thread-safe libc / libsodium / OpenSSL calls). */
#ifndef TERN_WORKPOOL_H
#define TERN_WORKPOOL_H

struct event_base;
struct workpool;

/* Starts `threads` workers (1-64) whose results are delivered into base. NULL on failure
 * (errno set). */
struct workpool *workpool_new(struct event_base *base, int threads);
/* Runs work(arg) on a worker, then done(arg) in the loop thread (done NULL: nothing runs in
 * the loop and the loop is not woken). */
void workpool_submit(struct workpool *p, void (*work)(void *arg), void (*done)(void *arg),
                     void *arg);
/* Lets queued jobs finish, stops the workers, frees p. Call from the loop thread. */
void workpool_free(struct workpool *p);

#endif
