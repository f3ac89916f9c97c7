/* qcommit.h: durable commits of queue files off the event loop. A small pool of threads seals
 * each file (mode 0600, fsync) and waits for an fsync of incoming/ that covers its directory
 * entry, one fsync serving every entry made before it started (group commit), then hands the
 * result back to the event loop, where the callback runs (so smtpd answers 250 only after the
 * file and its directory entry are on disk, and a slow disk never stalls the other sessions). */
#ifndef TERN_QCOMMIT_H
#define TERN_QCOMMIT_H
#include "qfile.h"

struct event_base;

/* Starts `threads` worker threads (1-16) delivering results into base. Once per process,
 * after privileges are dropped. Fatal on failure. */
void qcommit_init(struct event_base *base, int threads);
/* Right after qfile_create: starts the fsync of incoming/ that makes q's directory entry
 * durable, so that it runs while the content arrives instead of after it. Optional. */
void qcommit_start(struct qfile *q);
/* Queues q for commit (after qfile_finish). done(arg, 0) or done(arg, errno) runs later in the
 * event loop thread; q is then still owned by the caller (qfile_free on success, qfile_abort on
 * failure, which removes the file). */
void qcommit_submit(struct qfile *q, void (*done)(void *arg, int error), void *arg);
/* Stops the threads after the queued commits are done (for a clean exit). */
void qcommit_shutdown(void);

#endif
