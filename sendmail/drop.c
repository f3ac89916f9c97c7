/* drop.c: the pipe to terndrop of drop.h. Records are framed here with qrec_put, the encoder of
 * the queue file format; terndrop checks them again before it writes a byte. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>
#include "drop.h"
#include "maildrop.h"
#include "qfile.h"
#include "safefile.h"

#define RECORD_CONTENT (64 * 1024)
#define FLUSH_AT (256 * 1024)

static void flush(struct drop *d)
{
    if (!d->broken && d->out.len && write_all(d->fd, d->out.data, d->out.len) < 0)
        d->broken = true;   /* EPIPE: terndrop gave up and says why on stderr */
    buf_reset(&d->out);
}

static void record(struct drop *d, int type, const char *data, size_t len)
{
    if (qrec_put(&d->out, type, data, len) < 0)
        d->broken = true;   /* cannot happen below QREC_DATA_MAX: the buffer is unbounded */
    if (d->out.len >= FLUSH_AT)
        flush(d);
}

int drop_open(struct drop *d, const char *program, const char *config_dir, const char *sender)
{
    memset(d, 0, sizeof *d);
    buf_init(&d->out, BUF_UNBOUNDED);
    buf_init(&d->content, BUF_UNBOUNDED);
    signal(SIGPIPE, SIG_IGN);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        fprintf(stderr, "sendmail: cannot make a pipe: %s\n", strerror(errno));
        return -1;
    }
    fflush(stdout);
    d->pid = fork();
    if (d->pid < 0) {
        fprintf(stderr, "sendmail: cannot fork: %s\n", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (d->pid == 0) {
        if (dup2(p[0], STDIN_FILENO) < 0)
            _exit(EX_OSERR);
        /* terndrop answers only on stderr; keep stdout (the SMTP dialogue of -bs) out of it */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        execl(program, "terndrop", "-c", config_dir, (char *)NULL);
        fprintf(stderr, "sendmail: cannot run %s: %s\n", program, strerror(errno));
        _exit(EX_UNAVAILABLE);
    }
    close(p[0]);
    d->fd = p[1];
    record(d, QREC_MAGIC, MAILDROP_MAGIC_TEXT, strlen(MAILDROP_MAGIC_TEXT));
    record(d, QREC_SENDER, sender, strlen(sender));
    return 0;
}

void drop_attr(struct drop *d, const char *name, const char *value)
{
    char text[MAILDROP_FIELD_MAX + 64];
    int n = snprintf(text, sizeof text, "%s=%s", name, value);
    if (n > 0 && (size_t)n < sizeof text)
        record(d, QREC_ATTR, text, (size_t)n);
}

void drop_recipient(struct drop *d, const char *address)
{
    record(d, QREC_RECIPIENT, address, strlen(address));
}

void drop_rcpt_param(struct drop *d, int type, const char *value)
{
    record(d, type, value, strlen(value));
}

void drop_content(struct drop *d, const char *p, size_t n)
{
    while (n) {
        size_t room = RECORD_CONTENT - d->content.len;
        size_t take = n < room ? n : room;
        buf_append(&d->content, p, take);
        p += take;
        n -= take;
        if (d->content.len == RECORD_CONTENT) {
            record(d, QREC_CONTENT, d->content.data, d->content.len);
            buf_reset(&d->content);
        }
    }
}

void drop_flush(struct drop *d)
{
    if (d->content.len) {
        record(d, QREC_CONTENT, d->content.data, d->content.len);
        buf_reset(&d->content);
    }
    flush(d);
}

static int wait_for(struct drop *d)
{
    int status;
    while (waitpid(d->pid, &status, 0) < 0) {
        if (errno != EINTR)
            return EX_OSERR;
    }
    buf_free(&d->out);
    buf_free(&d->content);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    fprintf(stderr, "sendmail: terndrop was killed by signal %d\n", WTERMSIG(status));
    return EX_TEMPFAIL;
}

int drop_close(struct drop *d)
{
    if (d->content.len)
        record(d, QREC_CONTENT, d->content.data, d->content.len);
    record(d, QREC_END, "", 0);
    flush(d);
    close(d->fd);
    int code = wait_for(d);
    if (code == 0 && d->broken)
        code = EX_TEMPFAIL;   /* cannot happen: terndrop succeeds only after reading END */
    return code;
}

void drop_abort(struct drop *d)
{
    close(d->fd);
    wait_for(d);
}
