/* runas.h: how the root part of the local delivery agent gets anything done as a user: it forks
 * a child that becomes the user (priv_drop) before it touches a file of theirs, runs one job
 * there (read a .forward, write a mailbox, run a command) and sends back one IPC message with
 * the outcome over a socketpair. The parent waits a bounded time, and on timeout kills the
 * child's whole process group (the child leads its own group, and a command it runs stays in
 * it). A report is bounded and checked like any other peer's message. */
#ifndef TERN_RUNAS_H
#define TERN_RUNAS_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "ipc.h"

#define RUNAS_REPORT_MAX (1024 * 1024)   /* bytes of one encoded report */

/* The job, run in the child after the privileges are dropped; it fills report. */
typedef void (*runas_job)(void *arg, struct ipc_msg *report);

enum runas_result {
    RUNAS_OK,        /* the child reported and exited */
    RUNAS_TIMEOUT,   /* time_limit passed: the process group was killed */
    RUNAS_FAILED,    /* no report: fork failed, the child died, or its report was malformed */
};

/* Runs job(arg) in a child that has become uid and gid (priv_drop: gid is its only group), for
 * at most time_limit seconds. RUNAS_OK fills report; otherwise err says what happened. */
enum runas_result runas_run(uid_t uid, gid_t gid, long long time_limit,
                            runas_job job, void *arg, struct ipc_msg *report, char *err,
                            size_t errlen);

/* Descriptors of the agent (the qmgr connection) that a child closes at once; at most 4.
 * runas_child_keep forgets one again (it is about to be closed or reused). */
void runas_child_close(int fd);
void runas_child_keep(int fd);

/* Whether this process may become uid (it is root, or it already is uid). */
bool runas_possible(uid_t uid);

#endif
