/* runas.h: work done as another user, by a process that has become that user (priv_drop)
 * before it runs any of it and that sends back one IPC message, its report, over a socketpair.
 * The parent waits a bounded time, and on timeout kills that process's whole group (it leads
 * its own group, and whatever it starts stays in it). A report is bounded and checked like any
 * other peer's message: the process runs as someone else and is trusted no further. Used by
 * the local and virtual delivery agents, which stay root only to look up and to fork.
 *
 * Two ways: runas_run forks a child for one job (a command, whose shell must start clean; a
 * virtual mailbox write); runas_call hands a job, described as an IPC message, to a kept worker
 * of that uid and gid (local's mailbox writes and file reads: a fork per delivery costs more
 * than the delivery). A process keeps at most a few workers, the longest unused one retired
 * first; a worker is retired after a few seconds unused (a user with a running process cannot
 * be removed), after many jobs, at once after a timeout or a failure, and when the process
 * exits. */
#ifndef TERN_RUNAS_H
#define TERN_RUNAS_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "ipc.h"

#define RUNAS_REPORT_MAX (1024 * 1024)   /* bytes of one encoded report */

/* What the texts of err call the processes that run as a user ("delivery process"); until it
 * is set, "process". label must stay valid. */
void runas_set_label(const char *label);

/* The job, run in the child after the privileges are dropped; it fills report. */
typedef void (*runas_job)(void *arg, struct ipc_msg *report);

enum runas_result {
    RUNAS_OK,        /* the child reported and exited */
    RUNAS_TIMEOUT,   /* the time was up: the process group was killed (or, for runas_run_until,
                        never started) */
    RUNAS_FAILED,    /* no report: fork failed, the child died, or its report was malformed */
};

/* Runs job(arg) in a child that has become uid and gid (priv_drop: gid is its only group), for
 * at most time_limit seconds. RUNAS_OK fills report; otherwise err says what happened. */
enum runas_result runas_run(uid_t uid, gid_t gid, long long time_limit,
                            runas_job job, void *arg, struct ipc_msg *report, char *err,
                            size_t errlen);
/* The same until deadline (monotonic ms, clock.h), for a limit shared by several jobs; when
 * the deadline has already passed, no child is started. */
enum runas_result runas_run_until(uid_t uid, gid_t gid, long long deadline, runas_job job,
                                  void *arg, struct ipc_msg *report, char *err, size_t errlen);

/* What a kept worker does with a job (in the worker, as the user): fd is the descriptor that
 * came with it, or -1; it fills report. Set once, before the first runas_call. */
typedef void (*runas_serve)(const struct ipc_msg *job, int fd, struct ipc_msg *report);
void runas_set_server(runas_serve serve);

/* Runs job in the kept worker for uid and gid (started when there is none), passing fd along
 * when it is not -1, for at most time_limit seconds. Results as runas_run. */
enum runas_result runas_call(uid_t uid, gid_t gid, long long time_limit,
                             const struct ipc_msg *job, int fd, struct ipc_msg *report,
                             char *err, size_t errlen);

/* Retires the workers unused for a few seconds; returns how many are left. The process calls
 * it every second while any is left. */
size_t runas_retire_idle(void);
/* Ends every worker (the process is about to exit). */
void runas_retire_all(void);

/* Descriptors of the process (a client's connection) that a child closes at once; at most 4.
 * runas_child_keep forgets one again (it is about to be closed or reused). */
void runas_child_close(int fd);
void runas_child_keep(int fd);

/* Whether this process may become uid (it is root, or it already is uid). */
bool runas_possible(uid_t uid);
/* This process's effective uid, read once. */
uid_t runas_euid(void);

#endif
