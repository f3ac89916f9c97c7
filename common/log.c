/* log.c: the logging API of log.h. One formatted line per call, written with a single write(2)
 * (O_APPEND for files) so lines from many processes never interleave; control characters in the
 * text are replaced so peer-supplied strings cannot forge log lines. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <sysexits.h>
#include <unistd.h>
#include "log.h"

enum log_dest { DEST_STDERR, DEST_SYSLOG, DEST_FILE };

static struct {
    char service[64];
    char syslog_name[64];
    char ident[140];
    char path[4096];
    char host[256];
    enum log_dest dest;
    int facility;         /* syslog */
    int fd;               /* DEST_FILE */
    bool own_fd;          /* we opened fd (a file), so reopen/close apply */
    bool to_stderr;       /* tools: also `name: text` on stderr */
} L = { "tern", "tern", "tern", "", "localhost", DEST_STDERR, LOG_MAIL, -1, false, false };

static const struct { const char *name; int facility; } facilities[] = {
    { "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
    { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
    { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
    { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static void set_ident(void)
{
    snprintf(L.ident, sizeof L.ident, "%s/%s", L.syslog_name, L.service);
}

void log_init(const char *service)
{
    log_set_service(service);
}

void log_set_service(const char *service)
{
    snprintf(L.service, sizeof L.service, "%s", service);
    set_ident();
    if (L.dest == DEST_SYSLOG) {
        closelog();
        openlog(L.ident, LOG_PID | LOG_NDELAY, L.facility);
    }
}

const char *log_service(void)
{
    return L.service;
}

void log_set_stderr(bool on)
{
    L.to_stderr = on;
}

int log_fd(void)
{
    return L.dest == DEST_FILE ? L.fd : -1;
}

static int open_file(void)
{
    if (strcmp(L.path, "/dev/stdout") == 0)
        return dup(STDOUT_FILENO);
    if (strcmp(L.path, "/dev/stderr") == 0)
        return dup(STDERR_FILENO);
    /* 0640: the log holds addresses, not for every local user to read */
    return open(L.path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
}

static int find_facility(const char *name)
{
    for (size_t i = 0; i < sizeof facilities / sizeof facilities[0]; i++)
        if (strcmp(name, facilities[i].name) == 0)
            return facilities[i].facility;
    return -1;
}

bool log_facility_known(const char *name)
{
    return find_facility(name) >= 0;
}

/* A failure leaves the previous destination as it was, so a bad reload loses no log lines. */
int log_open(const char *syslog_name, const char *maillog_file, const char *facility)
{
    int fd = -1, fac = LOG_MAIL;
    if (maillog_file && *maillog_file) {
        char old[sizeof L.path];
        snprintf(old, sizeof old, "%s", L.path);
        snprintf(L.path, sizeof L.path, "%s", maillog_file);
        fd = open_file();
        if (fd < 0) {
            int e = errno;
            snprintf(L.path, sizeof L.path, "%s", old);
            errno = e;
            return -1;
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    } else if (facility && *facility) {
        fac = find_facility(facility);
        if (fac < 0) {
            errno = EINVAL;
            return -1;
        }
    }
    char path[sizeof L.path];
    snprintf(path, sizeof path, "%s", L.path);
    log_close();
    snprintf(L.path, sizeof L.path, "%s", path);
    if (syslog_name && *syslog_name)
        snprintf(L.syslog_name, sizeof L.syslog_name, "%s", syslog_name);
    set_ident();
    if (gethostname(L.host, sizeof L.host) < 0 || L.host[0] == '\0')
        snprintf(L.host, sizeof L.host, "localhost");
    L.host[sizeof L.host - 1] = '\0';
    char *dot = strchr(L.host, '.');
    if (dot)
        *dot = '\0';   /* syslog writes the short host name; so do we */
    if (fd < 0) {
        L.facility = fac;
        openlog(L.ident, LOG_PID | LOG_NDELAY, fac);
        L.dest = DEST_SYSLOG;
        return 0;
    }
    L.fd = fd;
    L.own_fd = true;
    L.dest = DEST_FILE;
    return 0;
}

int log_reopen(void)
{
    if (L.dest != DEST_FILE)
        return 0;
    int fd = open_file();
    if (fd < 0)
        return -1;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    /* dup2 keeps the descriptor number, so a process that passed it on keeps it valid */
    if (dup2(fd, L.fd) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    close(fd);
    return 0;
}

void log_close(void)
{
    if (L.dest == DEST_FILE && L.own_fd && L.fd >= 0)
        close(L.fd);
    if (L.dest == DEST_SYSLOG)
        closelog();
    L.fd = -1;
    L.own_fd = false;
    L.dest = DEST_STDERR;
}

static const char *prefix(int severity)
{
    switch (severity) {
    case LOG_SEV_WARN: return "warning: ";
    case LOG_SEV_ERROR: return "error: ";
    case LOG_SEV_FATAL: return "fatal: ";
    default: return "";
    }
}

/* Formats the message text, replacing control characters (peer text may hold CR/LF). */
static size_t format_text(char *out, size_t size, int severity, const char *fmt, va_list ap)
{
    char raw[LOG_LINE_MAX];
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    if (n < 0)
        snprintf(raw, sizeof raw, "(unformattable log message)");
    const char *pre = prefix(severity);
    size_t len = strlen(pre);   /* size is far larger */
    memcpy(out, pre, len);
    for (const unsigned char *p = (const unsigned char *)raw; *p && len + 1 < size; p++)
        out[len++] = (*p < 0x20 && *p != '\t') || *p == 0x7f ? '?' : (char)*p;
    out[len] = '\0';
    return len;
}

/* The time stamp of a file line, RFC 3339 with microseconds and the UTC offset, into out
 * (room for 64). What changes once a second is formatted once a second, by each thread. */
static size_t time_stamp(char *out)
{
    static _Thread_local time_t second = -1;
    static _Thread_local char date[40], zone[16];   /* "2026-12-07T21:40:26", "+00:00" */
    static _Thread_local size_t date_len, zone_len;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != second) {
        struct tm tm;
        localtime_r(&ts.tv_sec, &tm);
        date_len = strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
        long off = tm.tm_gmtoff / 60;
        zone_len = (size_t)snprintf(zone, sizeof zone, "%c%02ld:%02ld", off < 0 ? '-' : '+',
                                    labs(off) / 60 % 100, labs(off) % 60);
        second = ts.tv_sec;
    }
    size_t n = date_len;
    memcpy(out, date, n);
    out[n++] = '.';
    long us = ts.tv_nsec / 1000;
    for (int i = 5; i >= 0; i--, us /= 10)
        out[n + (size_t)i] = (char)('0' + us % 10);
    n += 6;
    memcpy(out + n, zone, zone_len);
    return n + zone_len;
}

/* Appends p[0..n) to line (*len bytes so far), cut at cap bytes. */
static void put(char *line, size_t *len, size_t cap, const char *p, size_t n)
{
    if (n > cap - *len)
        n = cap - *len;
    memcpy(line + *len, p, n);
    *len += n;
}

static void write_whole(int fd, const char *p, size_t n)
{
    /* one write for the whole line; a short write is finished but may then interleave */
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* The pid for log lines, read once a process: a child made with fork(2) reads its own (the
 * pthread_atfork handler forgets the parent's). */
static atomic_long cached_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;
static bool pid_tracked;

static void forget_pid(void)
{
    atomic_store(&cached_pid, 0);
}

static void track_pid(void)
{
    pid_tracked = pthread_atfork(NULL, NULL, forget_pid) == 0;
}

static long log_pid(void)
{
    pthread_once(&pid_once, track_pid);
    if (!pid_tracked)
        return (long)getpid();
    long pid = atomic_load(&cached_pid);
    if (pid == 0) {
        pid = (long)getpid();
        atomic_store(&cached_pid, pid);
    }
    return pid;
}

void log_vmsg(int severity, const char *fmt, va_list ap)
{
    int saved_errno = errno;
    if (severity < LOG_SEV_INFO || severity > LOG_SEV_FATAL)
        severity = LOG_SEV_ERROR;
    char text[LOG_LINE_MAX];
    format_text(text, sizeof text, severity, fmt, ap);

    if (L.to_stderr || L.dest == DEST_STDERR) {
        char line[LOG_LINE_MAX + 160];
        int n = L.to_stderr ? snprintf(line, sizeof line, "%s: %s\n", L.service, text)
                            : snprintf(line, sizeof line, "%s[%ld]: %s\n", L.ident,
                                       log_pid(), text);
        if (n > 0)
            write_whole(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
    if (L.dest == DEST_SYSLOG) {
        static const int prio[] = { LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT };
        syslog(prio[severity], "%s", text);
    } else if (L.dest == DEST_FILE) {
        /* "STAMP HOST IDENT[PID]: TEXT\n", cut to the buffer with its line end kept */
        char line[LOG_LINE_MAX + 512], pid[32];
        size_t len = time_stamp(line), cap = sizeof line - 1;
        line[len++] = ' ';
        put(line, &len, cap, L.host, strlen(L.host));
        put(line, &len, cap, " ", 1);
        put(line, &len, cap, L.ident, strlen(L.ident));
        put(line, &len, cap, pid, (size_t)snprintf(pid, sizeof pid, "[%ld]: ", log_pid()));
        put(line, &len, cap, text, strlen(text));
        put(line, &len, cap, "\n", 1);
        line[len - 1] = '\n';
        write_whole(L.fd, line, len);
    }
    errno = saved_errno;
}

#define LOG_BODY(sev) do { va_list ap; va_start(ap, fmt); log_vmsg(sev, fmt, ap); va_end(ap); } while (0)

void log_info(const char *fmt, ...) { LOG_BODY(LOG_SEV_INFO); }
void log_warn(const char *fmt, ...) { LOG_BODY(LOG_SEV_WARN); }
void log_error(const char *fmt, ...) { LOG_BODY(LOG_SEV_ERROR); }

_Noreturn void log_fatal(const char *fmt, ...)
{
    LOG_BODY(LOG_SEV_FATAL);
    exit(EX_SOFTWARE);
}

_Noreturn void log_fatal_code(int code, const char *fmt, ...)
{
    LOG_BODY(LOG_SEV_FATAL);
    exit(code);
}
