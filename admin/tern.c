/* tern.c: the `tern` command that admins start, stop and look after the mail system with (like
 * the `postfix` command); `init` (tern_init.c) makes a test instance, `setup` (tern_setup.c)
 * makes an installed tern the host's mail system, `dkim` (tern_dkim.c) makes and checks DKIM
 * signing keys. `start` waits until every service is ready
 * and every inet listener accepts connections; `stop`/`abort` wait until the master and all its
 * processes are gone.
 * Exit codes are sysexits(3): 78 for configuration errors, 69 when the mail system is not in the
 * state the command needs. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "admin.h"
#include "buf.h"
#include "config.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "master_conf.h"
#include "mem.h"

static const char *config_directory;
static char **overrides;
static int noverrides;

static void usage(void)
{
    fprintf(stderr,
            "usage: tern [-c config_dir] [-o name=value]... "
            "start|start-fg|stop|abort|reload|status|check|flush\n"
            "       tern [-c config_dir] [-o name=value]... setup [--links [--force]] "
            "[--root DIR]\n"
            "       tern init DIR [--smtp-port N] [--submission-port N] [--smtps-port N] "
            "[--hostname NAME]\n"
            "       tern [-c config_dir] dkim keygen [-a ed25519|rsa] [-b 2048|3072|4096] "
            "DOMAIN SELECTOR\n"
            "       tern [-c config_dir] dkim check DOMAIN\n");
    exit(EX_USAGE);
}


static void load_config_or_exit(void)
{
    char err[ERR_TEXT_MAX];
    if (config_load(config_directory, err, sizeof err) < 0)
        log_fatal_code(EX_CONFIG, "%s", err);
    for (int i = 0; i < noverrides; i++)
        if (config_override(overrides[i], err, sizeof err) < 0)
            log_fatal_code(EX_CONFIG, "-o %s: %s", overrides[i], err);
    if (*config_str("daemon_directory") == '\0') {
        struct buf b;
        buf_init(&b, BUF_UNBOUNDED);
        buf_printf(&b, "daemon_directory=%s", tern_daemon_dir());
        config_override(buf_str(&b), err, sizeof err);
        buf_free(&b);
    }
}

static void load_master_conf_or_exit(struct master_conf *conf)
{
    char err[ERR_TEXT_MAX];
    if (master_conf_load(config_directory, (int)config_int("default_process_limit"), conf, err,
                         sizeof err) < 0)
        log_fatal_code(EX_CONFIG, "%s", err);
}

/* The pid of the running master (the holder of the pid file's lock), or 0. */
static pid_t running_pid(void)
{
    struct buf path;
    buf_init(&path, BUF_UNBOUNDED);
    buf_printf(&path, "%s/pid/master.pid", config_str("queue_directory"));
    int fd = open(buf_str(&path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    buf_free(&path);
    if (fd < 0)
        return 0;
    struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    pid_t pid = 0;
    if (fcntl(fd, F_GETLK, &lk) == 0 && lk.l_type != F_UNLCK)
        pid = lk.l_pid;
    close(fd);
    return pid;
}

static char *master_path(void)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_printf(&b, "%s/master", config_str("daemon_directory"));
    return buf_steal(&b);
}

static char **master_argv(char *path, bool foreground)
{
    char **argv = xcalloc((size_t)(noverrides * 2 + 6), sizeof *argv);
    int i = 0;
    argv[i++] = path;
    if (foreground)
        argv[i++] = "-f";
    argv[i++] = "-c";
    argv[i++] = (char *)config_directory;
    for (int k = 0; k < noverrides; k++) {
        argv[i++] = "-o";
        argv[i++] = overrides[k];
    }
    return argv;
}

/* Where a service given only a port listens: loopback for "all" and "loopback-only", else the
 * first address of inet_interfaces. */
static const char *probe_address(char *buf, size_t size)
{
    const char *ifaces = config_str("inet_interfaces");
    bool v6 = strcmp(config_str("inet_protocols"), "ipv6") == 0;
    if (strcmp(ifaces, "all") == 0 || strcmp(ifaces, "loopback-only") == 0)
        return v6 ? "::1" : "127.0.0.1";
    size_t skip = strspn(ifaces, ", \t[");
    size_t len = strcspn(ifaces + skip, ", \t]");
    snprintf(buf, size, "%.*s", (int)len, ifaces + skip);
    return buf;
}

/* Connects to every inet listener of master.conf; returns the first that refuses, or NULL. */
static const struct service_def *probe_listeners(const struct master_conf *conf, int timeout_ms,
                                                 char *why, size_t whylen)
{
    for (int i = 0; i < conf->count; i++) {
        const struct service_def *s = &conf->services[i];
        if (s->type != SERVICE_INET)
            continue;
        char first[256];
        const char *host = s->host ? s->host : probe_address(first, sizeof first);
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
        struct addrinfo *res = NULL;
        int gai = getaddrinfo(host, s->port, &hints, &res);
        if (gai != 0) {
            snprintf(why, whylen, "%s", gai_strerror(gai));
            return s;
        }
        int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int ok = fd >= 0 && (connect(fd, res->ai_addr, res->ai_addrlen) == 0 || errno == EINPROGRESS);
        if (ok) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int err = 0;
            socklen_t len = sizeof err;
            ok = poll(&p, 1, timeout_ms) == 1 &&
                 getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
            if (!ok)
                snprintf(why, whylen, "%s", err ? strerror(err) : "timed out");
        } else {
            snprintf(why, whylen, "%s", strerror(errno));
        }
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        if (!ok)
            return s;
    }
    return NULL;
}

static int signal_master(int signo, const char *doing, bool wait);

/* Runs the master without -f: it returns once every service is ready (0), or with the reason
 * on stderr and a sysexits code; then every inet listener must accept a connection. */
static int cmd_start(bool foreground)
{
    struct master_conf conf;
    load_master_conf_or_exit(&conf);
    pid_t running = running_pid();
    if (running) {
        log_error("the tern mail system is already running (pid %ld)", (long)running);
        master_conf_free(&conf);
        return EX_UNAVAILABLE;
    }
    char *path = master_path();
    char **argv = master_argv(path, foreground);
    if (foreground) {
        execv(path, argv);
        log_fatal_code(EX_OSERR, "cannot run %s: %s", path, strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0)
        log_fatal_code(EX_OSERR, "fork: %s", strerror(errno));
    if (pid == 0) {
        execv(path, argv);
        dprintf(2, "tern: fatal: cannot run %s: %s\n", path, strerror(errno));
        _exit(EX_OSERR);
    }
    /* the master bounds its own wait by master_start_timeout */
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : EX_SOFTWARE;
    if (code != 0) {
        log_error("the tern mail system did not start; see the messages above and %s",
                  *config_str("maillog_file") ? config_str("maillog_file") : "the system log");
    } else {
        char why[256] = "";
        const struct service_def *bad = probe_listeners(&conf, 5000, why, sizeof why);
        if (bad == NULL) {
            log_info("started the tern mail system (pid %ld)", (long)running_pid());
        } else {
            log_error("service %s does not accept connections: %s", bad->name, why);
            signal_master(SIGTERM, "stopping", true);
            code = EX_UNAVAILABLE;
        }
    }
    master_conf_free(&conf);
    free(argv);
    free(path);
    return code;
}

/* Sends signo to the master; with wait, returns once it (and so every process) is gone. */
static int signal_master(int signo, const char *doing, bool wait)
{
    pid_t pid = running_pid();
    if (pid == 0) {
        log_error("the tern mail system is not running");
        return EX_UNAVAILABLE;
    }
    if (kill(pid, signo) < 0) {
        log_error("cannot signal the master (pid %ld): %s", (long)pid, strerror(errno));
        return EX_NOPERM;
    }
    log_info("%s the tern mail system (pid %ld)", doing, (long)pid);
    if (!wait)
        return 0;
    long long deadline = clock_ms() + (config_time("master_stop_timeout") + 10) * 1000;
    while (clock_ms() < deadline) {
        if (running_pid() == 0)
            return 0;
        usleep(50 * 1000);
    }
    log_error("the master (pid %ld) is still running", (long)pid);
    return EX_TEMPFAIL;
}

static int cmd_status(void)
{
    pid_t pid = running_pid();
    if (pid == 0) {
        log_info("the tern mail system is not running");
        return EX_UNAVAILABLE;
    }
    log_info("the tern mail system is running: PID: %ld", (long)pid);
    return 0;
}

static int cmd_reload(void)
{
    struct master_conf conf;
    load_master_conf_or_exit(&conf);   /* never signal a master into a broken configuration */
    master_conf_free(&conf);
    return signal_master(SIGHUP, "refreshing", false);
}

static int cmd_flush(void)
{
    struct buf path;
    buf_init(&path, BUF_UNBOUNDED);
    buf_printf(&path, "%s/public/qmgr", config_str("queue_directory"));
    struct ipc_msg req, reply;
    ipc_msg_init(&req);
    ipc_msg_init(&reply);
    ipc_add(&req, IPC_A_TYPE, IPC_T_FLUSH);
    char err[ERR_TEXT_MAX] = "";
    int code = 0;
    if (ipc_call(buf_str(&path), &req, &reply, IPC_MSG_MAX_DEFAULT, 10000, err, sizeof err) < 0) {
        log_error("cannot flush the queue: the queue manager does not answer at %s: %s",
                  buf_str(&path), *err ? err : strerror(errno));
        code = EX_UNAVAILABLE;
    } else if (ipc_get(&reply, IPC_A_STATUS) == NULL ||
               strcmp(ipc_get(&reply, IPC_A_STATUS), IPC_STATUS_OK) != 0) {
        const char *reason = ipc_get(&reply, IPC_A_REASON);
        log_error("the queue manager refused to flush: %s", reason ? reason : "no reason given");
        code = EX_SOFTWARE;
    }
    ipc_msg_free(&req);
    ipc_msg_free(&reply);
    buf_free(&path);
    return code;
}

int main(int argc, char **argv)
{
    log_init("tern");
    log_set_stderr(true);
    overrides = xcalloc((size_t)argc + 1, sizeof *overrides);
    int c;
    while ((c = getopt(argc, argv, "+c:o:")) != -1) {
        switch (c) {
        case 'c': config_directory = optarg; break;
        case 'o': overrides[noverrides++] = optarg; break;
        default: usage();
        }
    }
    if (optind >= argc)
        usage();
    const char *cmd = argv[optind];
    if (strcmp(cmd, "init") == 0)
        return tern_init(argc - optind, argv + optind);
    if (strcmp(cmd, "setup") == 0)
        return tern_setup(config_directory, overrides, noverrides, argc - optind, argv + optind);
    bool dkim = strcmp(cmd, "dkim") == 0;   /* the one command with arguments of its own */
    if (optind + 1 != argc && !dkim)
        usage();
    char *abs_dir = realpath(config_dir(config_directory), NULL);
    if (abs_dir == NULL)
        log_fatal_code(EX_CONFIG, "configuration directory %s: %s", config_dir(config_directory),
                       strerror(errno));
    config_directory = abs_dir;
    load_config_or_exit();
    /* also into the mail log, where the admin reads what happened; not fatal when it is not
     * writable for this user: stderr still gets every message */
    log_open(config_str("syslog_name"), config_str("maillog_file"), config_str("syslog_facility"));

    if (dkim)
        return tern_dkim(config_directory, argc - optind, argv + optind);
    if (strcmp(cmd, "start") == 0)
        return cmd_start(false);
    if (strcmp(cmd, "start-fg") == 0)
        return cmd_start(true);
    if (strcmp(cmd, "stop") == 0)
        return signal_master(SIGTERM, "stopping", true);
    if (strcmp(cmd, "abort") == 0)
        return signal_master(SIGINT, "aborting", true);
    if (strcmp(cmd, "reload") == 0)
        return cmd_reload();
    if (strcmp(cmd, "status") == 0)
        return cmd_status();
    if (strcmp(cmd, "check") == 0)
        return tern_check(config_directory);
    if (strcmp(cmd, "flush") == 0)
        return cmd_flush();
    usage();
}
