/* command.h: the |command delivery job, run in a child that already is the user the command
 * runs as (runas.h): /bin/sh -c with the command text of the alias or .forward (never an
 * address), a fixed small environment, the message with the prepended header lines on standard
 * input (LF line ends), standard output and error captured (the first COMMAND_OUTPUT_MAX
 * bytes) for the diagnostic, and the exit status read as sysexits (exitcode.h). The time limit
 * is the parent's: it kills the child's process group, which the shell belongs to. */
#ifndef TERN_COMMAND_H
#define TERN_COMMAND_H
#include <stddef.h>
#include "ipc.h"

#define COMMAND_OUTPUT_MAX 1000

struct command_job {
    const char *command;     /* the text after '|' */
    const char *cwd;         /* working directory: the home directory, "/" for aliases */
    char *const *env;        /* NULL-terminated NAME=value list, the whole environment */
    const char *head;        /* prepended lines (LF ends) */
    size_t head_len;
    const char *body;        /* the queued message (CRLF ends) */
    size_t body_len;
    size_t fsize_limit;      /* RLIMIT_FSIZE for the command (mailbox_size_limit); 0 none */
};

/* A runas_job: runs the command and reports sent, defer or bounce with its output. */
void command_job_run(void *arg, struct ipc_msg *report);

#endif
