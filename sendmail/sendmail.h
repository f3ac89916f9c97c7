/* sendmail.h: what sendmail.c (options, modes, the command line submission) shares with
 * smtp_stdio.c (sendmail -bs: SMTP on standard input and output). */
#ifndef TERN_SENDMAIL_H
#define TERN_SENDMAIL_H
#include <stdbool.h>

/* A standard input silent this long is given up: a day for a message on the command line (cron
 * streams a job's output as it runs; terndrop waits as long), an hour in an SMTP dialogue. */
#define SENDMAIL_INPUT_TIMEOUT_MS (24 * 3600 * 1000)
#define SMTP_STDIO_TIMEOUT_MS (3600 * 1000)

struct sendmail_opts {
    const char *config_dir;     /* -C, TERN_CONFIG or the default */
    const char *terndrop;       /* $daemon_directory/terndrop */
    const char *myhostname;
    long long size_limit;       /* message_size_limit */
    bool verbose;               /* -v */
};

/* sendmail -bs: an SMTP dialogue on standard input/output, each message through terndrop.
 * Returns the exit code. */
int smtp_stdio_run(const struct sendmail_opts *o);

#endif
