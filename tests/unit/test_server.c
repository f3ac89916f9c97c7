/* test_server.c: unit tests of common/server.c, the daemon skeleton, driven the way the master
 * drives it (master_proto.h): a forked child runs server_main() with the status socket on fd 3
 * and a loopback listener on fd 4; the test reads its status records and connects as a client. */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "master_proto.h"
#include "server.h"
#include "unit.h"

#define WAIT_MS 5000   /* bound of every wait; generous, the machines are shared and noisy */

static int ms_left(long long end)
{
    long long left = end - unit_now_ms();
    return left < 0 ? 0 : (int)left;
}

/* ---- the service run by the child ---- */

struct conn {
    int fd;
    struct event *ev;
};

static void on_client(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    char b[256];
    ssize_t n = read(fd, b, sizeof b);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
        return;   /* what the client says does not matter; only its closing does */
    event_free(c->ev);
    close(c->fd);
    free(c);
    server_client_done();
}

/* Greets with myhostname; a connection that is not what server.h promises (non-blocking,
 * close-on-exec, from 127.0.0.1) gets a complaint instead, which the test sees. */
static void svc_accept(int fd, const struct sockaddr *peer, socklen_t peerlen)
{
    char line[300];
    const struct sockaddr_in *sin = (const struct sockaddr_in *)peer;
    if (!(fcntl(fd, F_GETFL) & O_NONBLOCK) || !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
        snprintf(line, sizeof line, "client fd is not non-blocking and close-on-exec\n");
    else if (peerlen < (socklen_t)sizeof *sin || sin->sin_family != AF_INET ||
             sin->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
        snprintf(line, sizeof line, "wrong peer address\n");
    else
        snprintf(line, sizeof line, "%s\n", config_str("myhostname"));
    if (write(fd, line, strlen(line)) < 0)
        _exit(90);
    struct conn *c = malloc(sizeof *c);
    if (c == NULL)
        _exit(91);
    c->fd = fd;
    c->ev = event_new(server_base(), fd, EV_READ | EV_PERSIST, on_client, c);
    if (c->ev == NULL || event_add(c->ev, NULL) < 0)
        _exit(92);
}

static const struct server_ops svc_ops = {
    .name = "testsvc",
    .max_clients = 1,
    .accept = svc_accept,
};

/* A service on server_serve_kept: each request is a line, answered "N line" (N counting the
 * requests this process served); "bye" or the client's closing ends the connection. */
static bool kept_serve(int fd)
{
    static int served;
    char line[128];
    size_t len = 0;
    while (len == 0 || line[len - 1] != '\n') {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, WAIT_MS) != 1)
            return false;
        ssize_t n = read(fd, line + len, sizeof line - 1 - len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0 || (len += (size_t)n) >= sizeof line - 1)
            return false;
    }
    line[len] = '\0';
    if (strcmp(line, "bye\n") == 0)
        return false;
    char reply[160];
    int n = snprintf(reply, sizeof reply, "%d %s", ++served, line);
    return write(fd, reply, (size_t)n) == n;
}

static void kept_accept(int fd, const struct sockaddr *peer, socklen_t peerlen)
{
    (void)peer;
    (void)peerlen;
    server_serve_kept(fd, kept_serve);
}

static const struct server_ops kept_ops = {
    .name = "testsvc",
    .max_clients = 1,
    .accept = kept_accept,
};

/* ---- the test's side ---- */

static char dir[64];

static const char *path_in(const char *name)
{
    return unit_fmt("%s/%s", dir, name);
}

static void setup(void)
{
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_server.XXXXXX");
    ck_assert_int_eq(mkdir(path_in("q"), 0755), 0);
    FILE *f = fopen(path_in("tern.conf"), "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "queue_directory = %s/q\nmaillog_file = %s/mail.log\nmyhostname = test.example\n",
            dir, dir);
    ck_assert_int_eq(fclose(f), 0);
}

static void teardown(void)
{
    ck_assert_int_eq(unit_rmtree(dir), 0);
}

struct server {
    pid_t pid;
    int status_fd;   /* the test's end of the status socket */
    int port;        /* of the listener, which only the child holds */
};

/* Forks a child that runs server_main() for ops with extra_args after the standard arguments,
 * the master's descriptors in place (fd 3 status, fd 4 listener) and stderr in dir/stderr. */
static struct server start_service(const char *const *extra_args,
                                   const struct server_ops *ops)
{
    struct server s;
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(lfd, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = 0 };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(listen(lfd, 128), 0);
    socklen_t len = sizeof sin;
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
    s.port = ntohs(sin.sin_port);

    s.pid = fork();
    ck_assert_int_ne(s.pid, -1);
    if (s.pid == 0) {
        /* dup2 to a new number clears close-on-exec: the skeleton must set it again on fd 3.
         * Going through high numbers first keeps one dup2 from closing the other's source. */
        int st = fcntl(sv[1], F_DUPFD, 20);
        int ls = fcntl(lfd, F_DUPFD, 20);
        int err = open(path_in("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (st < 0 || ls < 0 || err < 0 || dup2(st, MASTER_STATUS_FD) < 0 ||
            dup2(ls, MASTER_LISTEN_FD) < 0 || dup2(err, STDERR_FILENO) < 0)
            _exit(95);
        close(st);
        close(ls);
        close(err);
        /* only fds 3 and 4 may stay: a leftover copy of the listener would keep accepting
         * connections after the skeleton closed its own (an original numbered 3 or 4 is
         * already replaced by the dup2 above) */
        int originals[] = { sv[0], sv[1], lfd };
        for (size_t i = 0; i < 3; i++)
            if (originals[i] != MASTER_STATUS_FD && originals[i] != MASTER_LISTEN_FD)
                close(originals[i]);
        /* Check's SIGTERM handler would take the test's whole process group with it */
        signal(SIGTERM, SIG_DFL);
        setenv(MASTER_GENERATION_ENV, "7", 1);
        static char *argv[32];
        int argc = 0;
        static const char *const base[] = { "testsvc", "-n", "svc", "-t", "inet" };
        for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
            argv[argc++] = (char *)base[i];
        for (size_t i = 0; extra_args[i] != NULL && argc < 31; i++)
            argv[argc++] = (char *)extra_args[i];
        argv[argc] = NULL;
        server_main(argc, argv, ops);
    }
    close(sv[1]);
    close(lfd);   /* from here on only the child holds the listener */
    s.status_fd = sv[0];
    return s;
}

static struct server start_server(const char *const *extra_args)
{
    return start_service(extra_args, &svc_ops);
}

static const char *const *normal_args(void)
{
    static char cdir[64];
    snprintf(cdir, sizeof cdir, "%s", dir);
    static const char *args[] = { "-C", NULL, "-s", "1", "-o", "myhostname=override.example",
                                  NULL };
    args[1] = cdir;
    return args;
}

/* One status record: 1, 0 at EOF (every copy of the child's end closed), -1 on timeout. */
static int recv_status(int fd, struct master_status *st, int ms)
{
    long long end = unit_now_ms() + ms;
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        int r = poll(&p, 1, ms_left(end));
        if (r == 0)
            return -1;
        if (r < 0 && errno == EINTR)
            continue;
        ck_assert_int_eq(r, 1);
        ssize_t n = recv(fd, st, sizeof *st, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        ck_assert_int_ge(n, 0);
        if (n == 0)
            return 0;
        ck_assert_int_eq(n, sizeof *st);
        return 1;
    }
}

static const char *code_name(int code)
{
    static const char *const names[] = { "?", "READY", "TAKEN", "FULL", "AVAIL", "EXEC_FAILED" };
    return code >= 1 && code <= 5 ? names[code] : "?";
}

static void expect_status(const struct server *s, enum master_status_code code)
{
    struct master_status st;
    int r = recv_status(s->status_fd, &st, WAIT_MS);
    ck_assert_msg(r == 1, "waiting for %s: %s", code_name(code),
                  r == 0 ? "the child closed the status socket" : "timed out");
    ck_assert_msg(st.code == (int32_t)code, "got %s (%d), wanted %s", code_name(st.code),
                  st.code, code_name(code));
    ck_assert_int_eq(st.pid, s->pid);
    ck_assert_uint_eq(st.generation, 7);
    ck_assert_int_eq(st.detail, 0);
}

/* Nothing more on the status socket: EOF within the bound (the child is gone). */
static void expect_status_eof(const struct server *s)
{
    struct master_status st;
    int r = recv_status(s->status_fd, &st, WAIT_MS);
    ck_assert_msg(r == 0, "wanted EOF on the status socket, got %s",
                  r == 1 ? code_name(st.code) : "a timeout");
}

/* Connects to 127.0.0.1:port within the bound: the fd, or -1 with errno (ECONNREFUSED...). */
static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0)
        return fd;
    if (errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    struct pollfd p = { fd, POLLOUT, 0 };
    int r = poll(&p, 1, WAIT_MS);
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (r == 1)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (r != 1 || soerr != 0) {
        close(fd);
        errno = r == 1 ? soerr : ETIMEDOUT;
        return -1;
    }
    return fd;
}

/* Reads one line (up to '\n') from fd within the bound. */
static const char *read_line(int fd)
{
    static char line[512];
    size_t len = 0;
    long long end = unit_now_ms() + WAIT_MS;
    while (len == 0 || line[len - 1] != '\n') {
        struct pollfd p = { fd, POLLIN, 0 };
        int r = poll(&p, 1, ms_left(end));
        ck_assert_msg(r == 1, "no line from the server in time (got \"%.*s\")", (int)len, line);
        ssize_t n = read(fd, line + len, sizeof line - 1 - len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        ck_assert_msg(n > 0, "connection closed after \"%.*s\"", (int)len, line);
        len += (size_t)n;
        ck_assert_uint_lt(len, sizeof line - 1);
    }
    line[len] = '\0';
    return line;
}

/* Waits for the child to end within the bound (a child still running is killed and fails),
 * then checks its exit code. */
static void expect_exit(const struct server *s, int code)
{
    int status = unit_wait_child(s->pid, WAIT_MS);
    ck_assert_msg(WIFEXITED(status), "server did not exit normally (status %#x)", status);
    ck_assert_msg(WEXITSTATUS(status) == code, "server exit %d, wanted %d",
                  WEXITSTATUS(status), code);
}

static bool still_running(const struct server *s)
{
    int status;
    pid_t r = waitpid(s->pid, &status, WNOHANG);
    ck_assert_int_ne(r, -1);
    return r == 0;
}

static const char *read_text(const char *name)
{
    static char text[16384];
    FILE *f = fopen(path_in(name), "r");
    if (f == NULL)
        return "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

/* Serves one client: the greeting shows the -o override winning over tern.conf. */
static int client_greeted(int port)
{
    int c = connect_port(port);
    ck_assert_msg(c >= 0, "connect: %s", strerror(errno));
    ck_assert_str_eq(read_line(c), "override.example\n");
    return c;
}

START_TEST(serves_and_reports)
{
    struct server s = start_server(normal_args());
    expect_status(&s, MASTER_STAT_READY);

    int c = client_greeted(s.port);
    expect_status(&s, MASTER_STAT_TAKEN);
    expect_status(&s, MASTER_STAT_FULL);   /* max_clients is 1 */
    ck_assert_int_eq(close(c), 0);
    expect_status(&s, MASTER_STAT_AVAIL);

    /* the second client: FULL again, but TAKEN only ever once */
    c = client_greeted(s.port);
    expect_status(&s, MASTER_STAT_FULL);
    ck_assert_int_eq(close(c), 0);
    expect_status(&s, MASTER_STAT_AVAIL);

    ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
    expect_exit(&s, 0);
    expect_status_eof(&s);
    /* the child held the only copy of the listener */
    errno = 0;
    ck_assert_int_eq(connect_port(s.port), -1);
    ck_assert_msg(errno == ECONNREFUSED, "connect: %s", strerror(errno));
    close(s.status_fd);

    char want[64];
    snprintf(want, sizeof want, "tern/testsvc[%ld]: stopped\n", (long)s.pid);
    const char *log = read_text("mail.log");
    ck_assert_msg(strstr(log, want) != NULL, "mail.log: %s", log);
    ck_assert_str_eq(read_text("stderr"), "");
}
END_TEST

/* SIGTERM closes the listener at once, but the process stays until its last client is done. */
START_TEST(sigterm_waits_for_last_client)
{
    struct server s = start_server(normal_args());
    expect_status(&s, MASTER_STAT_READY);
    int c = client_greeted(s.port);
    expect_status(&s, MASTER_STAT_TAKEN);
    expect_status(&s, MASTER_STAT_FULL);

    ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
    /* until the child handles the signal, a connection may still land in the backlog (and
     * one caught in the middle is reset); in the end connections must be refused */
    long long end = unit_now_ms() + WAIT_MS;
    int fd;
    while (((fd = connect_port(s.port)) >= 0 || errno == ECONNRESET) && unit_now_ms() < end) {
        if (fd >= 0)
            close(fd);
        usleep(10000);
    }
    /* refused, not timed out: a timeout would only mean a full backlog */
    ck_assert_msg(fd < 0, "the listener still accepts connections after SIGTERM");
    ck_assert_msg(errno == ECONNREFUSED, "connect: %s", strerror(errno));
    ck_assert_msg(still_running(&s), "the server exited with a client still connected");

    /* the client is still served: the process reads (and ignores) what it sends */
    ck_assert_int_eq(write(c, "x\n", 2), 2);
    ck_assert(still_running(&s));
    ck_assert_int_eq(close(c), 0);
    expect_exit(&s, 0);
    expect_status_eof(&s);   /* and no AVAIL: a stopping process takes nobody */
    close(s.status_fd);
}
END_TEST

/* A kept connection carries request after request; the process stays FULL (taken) until the
 * connection ends, by the client's "bye" or its closing, or by SIGTERM, which closes an idle
 * kept connection and lets the process exit. */
START_TEST(kept_connection_serves_each_request)
{
    struct server s = start_service(normal_args(), &kept_ops);
    expect_status(&s, MASTER_STAT_READY);
    int c = connect_port(s.port);
    ck_assert_msg(c >= 0, "connect: %s", strerror(errno));
    ck_assert_int_eq(write(c, "a\n", 2), 2);
    ck_assert_str_eq(read_line(c), "1 a\n");
    expect_status(&s, MASTER_STAT_TAKEN);
    expect_status(&s, MASTER_STAT_FULL);
    ck_assert_int_eq(write(c, "b\n", 2), 2);
    ck_assert_str_eq(read_line(c), "2 b\n");
    ck_assert_int_eq(write(c, "bye\n", 4), 4);
    expect_status(&s, MASTER_STAT_AVAIL);
    close(c);

    /* the next client; then SIGTERM while its connection waits for a request */
    c = connect_port(s.port);
    ck_assert_msg(c >= 0, "connect: %s", strerror(errno));
    ck_assert_int_eq(write(c, "c\n", 2), 2);
    ck_assert_str_eq(read_line(c), "3 c\n");
    expect_status(&s, MASTER_STAT_FULL);
    ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
    expect_exit(&s, 0);
    char b[8];
    struct pollfd p = { c, POLLIN, 0 };
    ck_assert_int_eq(poll(&p, 1, WAIT_MS), 1);
    ck_assert_int_eq(read(c, b, sizeof b), 0);   /* closed by the server */
    close(c);
    expect_status_eof(&s);
    close(s.status_fd);
}
END_TEST

/* After READY, fd 3 is close-on-exec (nothing the daemon runs may inherit it); so is fd 4. */
START_TEST(status_fd_close_on_exec)
{
    struct server s = start_server(normal_args());
    expect_status(&s, MASTER_STAT_READY);
    for (int fdnum = MASTER_STATUS_FD; fdnum <= MASTER_LISTEN_FD; fdnum++) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%ld/fdinfo/%d", (long)s.pid, fdnum);
        FILE *f = fopen(p, "r");
        ck_assert_msg(f != NULL, "%s: %s", p, strerror(errno));
        char line[128];
        unsigned long flags = 0;
        bool found = false;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "flags: %lo", &flags) == 1) {
                found = true;
                break;
            }
        fclose(f);
        ck_assert_msg(found, "no flags in %s", p);
        ck_assert_msg(flags & 02000000, "fd %d flags %lo: not close-on-exec", fdnum, flags);
    }
    ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
    expect_exit(&s, 0);
    close(s.status_fd);
}
END_TEST

/* A bad -o is a configuration error: EX_CONFIG, before READY. */
START_TEST(bad_override_exits_ex_config)
{
    static char cdir[64];
    snprintf(cdir, sizeof cdir, "%s", dir);
    const char *args[] = { "-C", cdir, "-s", "1", "-o", "service_throttle_time=soon", NULL };
    struct server s = start_server(args);
    expect_exit(&s, EX_CONFIG);
    expect_status_eof(&s);   /* no READY */
    close(s.status_fd);
    const char *err = read_text("stderr");
    ck_assert_msg(strstr(err, "fatal: ") != NULL && strstr(err, "service_throttle_time") != NULL,
                  "stderr: %s", err);
}
END_TEST

/* Without -C the skeleton cannot know its configuration: EX_USAGE, before READY. */
START_TEST(missing_config_dir_exits_ex_usage)
{
    const char *args[] = { "-s", "1", "-o", "myhostname=override.example", NULL };
    struct server s = start_server(args);
    expect_exit(&s, EX_USAGE);
    expect_status_eof(&s);
    close(s.status_fd);
    const char *err = read_text("stderr");
    ck_assert_msg(strstr(err, "fatal: usage: testsvc") != NULL, "stderr: %s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("server");
    TCase *tc = tcase_create("server");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, serves_and_reports);
    tcase_add_test(tc, sigterm_waits_for_last_client);
    tcase_add_test(tc, kept_connection_serves_each_request);
    tcase_add_test(tc, status_fd_close_on_exec);
    tcase_add_test(tc, bad_override_exits_ex_config);
    tcase_add_test(tc, missing_config_dir_exits_ex_usage);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
