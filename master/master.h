/* master.h: the master's view of services and their processes, shared by master.c (start-up,
 * signals, reload), service.c (listening sockets, reconciling master.conf), spawn.c
 * (fork/exec, status reports, reaping, throttling, wake-ups) and notify.c (systemd). */
#ifndef TERN_MASTER_H
#define TERN_MASTER_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "master_conf.h"

struct event;
struct event_base;

struct child {
    pid_t pid;
    struct service *svc;
    uint32_t generation;
    bool ready;            /* reported READY */
    bool taken;            /* served at least one client */
    bool full;             /* reported FULL: takes no more clients */
    bool retiring;         /* from an older generation: finishing, not replaced */
    char *retired_from;    /* retiring: "name/type" of its service, for maxproc across reloads */
    long long started_ms;  /* CLOCK_MONOTONIC */
    struct child *next;
};

struct service {
    struct service_def def;
    char *path;            /* resolved command */
    int *fds;              /* listening sockets */
    int nfds;
    char *socket_path;     /* unix: private/NAME or public/NAME, relative to queue_directory */
    int status_pipe[2];    /* SOCK_SEQPACKET pair: [0] the master's end, [1] the daemons' */
    char *bind_key;        /* what the listeners were bound with; reload rebinds when it changes */
    bool wakeup_failing;   /* the last wake-up could not be delivered (logged once) */
    struct event *status_ev;
    struct event *wakeup_ev;
    struct event *throttle_ev;
    struct child *children;
    int nlive;             /* children that are not retiring */
    uint32_t generation;
    bool throttled;
    bool used;             /* some process took a client (for `wakeup N?`) */
    bool ever_ready;       /* some process reached READY (start-up readiness) */
    long long crash_window_ms; /* start of the current minute of crashes and quick exits */
    int crashes;
    struct service *next;
};

struct master {
    struct event_base *base;
    const char *config_dir;
    char **overrides;      /* -o name=value from the command line, NULL-terminated */
    struct service *services;
    struct child *retired; /* processes of replaced or removed services, finishing */
    bool stopping;
    bool privsep;          /* running as root: daemons drop to mail_owner */
    int ready_fd;          /* without -f: the starting process waits for "ready" on it */
    bool ready;            /* every service has had a process ready (start-up is over) */
    bool foreground_stdio; /* children keep the terminal as stdout/stderr */
    uint32_t generation;
};

extern struct master M;

/* service.c */
int service_bind(struct service *svc, char *err, size_t errlen);
void service_close_listeners(struct service *svc);
struct service *service_new(const struct service_def *def, char *err, size_t errlen);
void service_free(struct service *svc);
int services_load(char *err, size_t errlen);   /* master.conf -> M.services; 0 or sysexits */
int services_reload(char *err, size_t errlen); /* reconcile with a changed master.conf */

/* spawn.c */
void spawn_init(struct service *svc);          /* status pipe, wake-up timer, first process */
void spawn_ensure(struct service *svc);        /* start processes the service needs */
void spawn_retire_all(struct service *svc, int signo);
void spawn_reap(void);
void spawn_signal_all(int signo);
int spawn_count_children(void);
bool spawn_all_ready(void);
void spawn_stop_service(struct service *svc);  /* timers and pipe, before free */
char *service_key(const struct service_def *def);  /* "name/type", malloc'd */

/* notify.c: systemd's sd_notify protocol (Type=notify), a no-op without $NOTIFY_SOCKET */
void notify_init(void);                        /* reads and unsets $NOTIFY_SOCKET */
bool notify_enabled(void);
void notify_send(const char *state);           /* "READY=1", "STOPPING=1", ... */
void notify_reloading(void);                   /* RELOADING=1 with MONOTONIC_USEC */

/* master.c */
void master_startup_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void master_check_ready(void);

#endif
