/* master_proto.h: how the master hands a service process its work (used by master/ and by the
 * server skeleton, server.c).
 *
 * The master forks and execs `command -n SERVICE -t inet|unix [-u] [-c] -C CONFIG_DIR
 * -s NSOCKETS [-o name=value]... [args]` as root, with:
 *   fd 0         /dev/null
 *   fd 1, 2      /dev/null, or the master's when it runs in the foreground (`tern start-fg`)
 *   fd 3         the status socket (SOCK_SEQPACKET, so each record arrives whole and alone),
 *                shared by the processes of one service; the daemon makes it close-on-exec
 *   fd 4...      NSOCKETS listening sockets
 * -u: drop to mail_owner; -c: chroot to queue_directory. The process reports on fd 3 with
 * struct master_status records; the master trusts them only for pids it forked. */
#ifndef TERN_MASTER_PROTO_H
#define TERN_MASTER_PROTO_H
#include <stdint.h>
#include <sys/types.h>

#define MASTER_STATUS_FD 3
#define MASTER_LISTEN_FD 4
#define MASTER_MAX_LISTEN 64    /* listening sockets one service may have */

enum master_status_code {
    MASTER_STAT_READY = 1,   /* started, privileges dropped, ready for clients; a process that
                              * exits before this is a start-up failure and throttles its service */
    MASTER_STAT_TAKEN = 2,   /* took its first client (for `wakeup N?`: the service was used) */
    MASTER_STAT_FULL = 3,    /* takes no more clients: the master may start another process */
    MASTER_STAT_AVAIL = 4,   /* takes clients again */
    MASTER_STAT_EXEC_FAILED = 5,  /* sent by the forked master child: execve failed, errno in
                                   * detail */
};

struct master_status {
    int32_t pid;
    uint32_t generation;     /* from the environment variable TERN_GENERATION */
    int32_t code;            /* enum master_status_code */
    int32_t detail;          /* MASTER_STAT_EXEC_FAILED: the errno of execve; else 0 */
};

#define MASTER_GENERATION_ENV "TERN_GENERATION"

#endif
