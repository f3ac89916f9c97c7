/* command.c: the |command job of command.h. The child writes the message to the shell's
 * standard input and reads its output at the same time (poll), so a command that writes much
 * before it reads cannot dead-lock with us; the shell's exit decides the outcome, and output a
 * background process writes after that is not waited for. */
#include "command.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "buf.h"
#include "exitcode.h"
#include "header.h"
#include "report.h"

#define COMMAND_SHOW_MAX 200      /* bytes of the command text shown in results */
#define COMMAND_FD_SCAN_MAX 65536 /* descriptors closed one by one without close_range */

static void close_from(int first)
{
    if (close_range((unsigned)first, ~0U, 0) == 0)
        return;
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > COMMAND_FD_SCAN_MAX)
        max = COMMAND_FD_SCAN_MAX;
    for (int fd = first; fd < max; fd++)
        close(fd);
}

/* In the shell's process: standard descriptors, nothing else open, default signals, then
 * /bin/sh -c COMMAND. */
static _Noreturn void exec_shell(const struct command_job *j, int in, int out)
{
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        _exit(71);
    close_from(3);
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    umask(077);
    if (chdir(j->cwd) < 0 && chdir("/") < 0)
        _exit(71);
    if (j->fsize_limit > 0) {
        struct rlimit rl = { j->fsize_limit, j->fsize_limit };
        setrlimit(RLIMIT_FSIZE, &rl);
    }
    char *argv[] = { "sh", "-c", (char *)j->command, NULL };
    execve("/bin/sh", argv, j->env);
    dprintf(2, "cannot execute /bin/sh: %s\n", strerror(errno));
    _exit(71);   /* EX_OSERR: deferred */
}

struct capture {
    char text[COMMAND_OUTPUT_MAX + 1];
    size_t len;
};

/* Reads what is there; returns true at end of file or on an error. */
static bool drain(int fd, struct capture *c)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            size_t room = COMMAND_OUTPUT_MAX - c->len;
            size_t k = (size_t)n < room ? (size_t)n : room;
            memcpy(c->text + c->len, chunk, k);
            c->len += k;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    }
}

/* Feeds input to the shell and collects its output until it exits; its wait status. */
static int converse(pid_t pid, int infd, int outfd, const struct buf *input, struct capture *c)
{
    size_t off = 0;
    int status = 0;
    bool out_eof = false;
    fcntl(infd, F_SETFL, fcntl(infd, F_GETFL) | O_NONBLOCK);
    fcntl(outfd, F_SETFL, fcntl(outfd, F_GETFL) | O_NONBLOCK);
    if (input->len == 0) {
        close(infd);
        infd = -1;
    }
    for (;;) {
        struct pollfd p[2];
        nfds_t n = 0;
        if (infd >= 0)
            p[n++] = (struct pollfd){ .fd = infd, .events = POLLOUT };
        if (!out_eof)
            p[n++] = (struct pollfd){ .fd = outfd, .events = POLLIN };
        poll(p, n, 100);
        if (infd >= 0) {
            size_t left = input->len - off;
            ssize_t w = write(infd, input->data + off, left < 65536 ? left : 65536);
            if (w > 0)
                off += (size_t)w;
            /* a command that stops reading (EPIPE) just does not want the rest */
            if (off == input->len ||
                (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                close(infd);
                infd = -1;
            }
        }
        if (!out_eof)
            out_eof = drain(outfd, c);
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r < 0 && errno != EINTR)
            status = 71 << 8;   /* lost the shell (cannot happen): EX_OSERR, deferred */
        if (r == pid || (r < 0 && errno != EINTR)) {
            if (!out_eof)
                drain(outfd, c);
            break;
        }
    }
    if (infd >= 0)
        close(infd);
    close(outfd);
    return status;
}

/* The command text as results show it: printable, cut. */
static void show(const char *command, char *out, size_t size)
{
    snprintf(out, size, "%.*s%s", COMMAND_SHOW_MAX, command,
             strlen(command) > COMMAND_SHOW_MAX ? "..." : "");
    text_printable(out);
}

static void report_exit(const struct command_job *j, int status, struct capture *c,
                        struct ipc_msg *report)
{
    char cmd[COMMAND_SHOW_MAX + 8], diag[COMMAND_OUTPUT_MAX + 16];
    show(j->command, cmd, sizeof cmd);
    c->text[c->len] = '\0';
    text_printable(c->text);
    char *o = c->text;
    while (*o == ' ')
        o++;
    for (size_t n = strlen(o); n > 0 && o[n - 1] == ' '; n--)
        o[n - 1] = '\0';
    snprintf(diag, sizeof diag, "x-unix; %s", o);
    struct exit_meaning m;
    exitcode_meaning(status, &m);
    if (m.status == DELIVERY_SENT)
        delivery_report_set(report, DELIVERY_SENT, "2.0.0", NULL, "delivered to command: %s", cmd);
    else if (WIFSIGNALED(status))
        delivery_report_set(report, m.status, m.dsn, *o ? diag : NULL,
                            "command killed by signal %d: %s%s%s", WTERMSIG(status), cmd,
                            *o ? ". Command output: " : "", o);
    else
        delivery_report_set(report, m.status, m.dsn, *o ? diag : NULL,
                            "command died with status %d (%s): %s%s%s", WEXITSTATUS(status),
                            m.text, cmd, *o ? ". Command output: " : "", o);
}

void command_job_run(void *arg, struct ipc_msg *report)
{
    const struct command_job *j = arg;
    struct buf input;
    buf_init(&input, BUF_UNBOUNDED);
    buf_append(&input, j->head, j->head_len);
    text_to_lf(j->body, j->body_len, &input);
    int in[2] = { -1, -1 }, out[2] = { -1, -1 };
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
        delivery_report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "cannot make a pipe: %s",
                            strerror(errno));
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        delivery_report_set(report, DELIVERY_DEFER, "4.3.0", NULL, "cannot fork: %s",
                            strerror(errno));
        goto out;
    }
    if (pid == 0)
        exec_shell(j, in[0], out[1]);
    close(in[0]);
    close(out[1]);
    int infd = in[1], outfd = out[0];
    in[0] = in[1] = out[0] = out[1] = -1;
    struct capture c = { .len = 0 };
    int status = converse(pid, infd, outfd, &input, &c);
    report_exit(j, status, &c, report);
out:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (out[i] >= 0)
            close(out[i]);
    }
    buf_free(&input);
}
