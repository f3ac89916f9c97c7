/* ternqueue.h: the pieces of ternqueue (the queue: list, flush, and root's hold, release,
 * delete, requeue and show) shared by its files: ternqueue.c (options, privileges, listing,
 * flush) and ternqueue_super.c (the commands only root may run). */
#ifndef TERN_TERNQUEUE_H
#define TERN_TERNQUEUE_H
#include <stdbool.h>
#include <stddef.h>
#include "qadmin.h"

/* root, or the user the mail system runs as (mail_owner): may change the queue */
extern bool tq_privileged;

/* Connects to a socket of public/ (a path relative to the queue directory), then gives up the
 * set-gid group ternqueue may run with: reaching public/ is all it is for. -1 with errno. */
int tq_connect(const char *path, int timeout_ms);
/* Gives up the set-gid group for good (real, effective and saved gid); fatal when it cannot. */
void tq_drop_group(void);

/* -d, -h, -H, -r: args are queue IDs, or "ALL", or "-" (IDs from standard input); queues the
 * bit set of the queues named after them (0: the action's defaults). Returns the exit code. */
int tq_super(enum qadmin_op op, char **args, size_t nargs, unsigned queues);
/* -v ID: the envelope and content of one message. Returns the exit code. */
int tq_show(const char *id);

#endif
