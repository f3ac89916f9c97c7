/* notify.c: tells systemd how the master is doing (Type=notify units): the sd_notify(3) datagram
 * protocol spoken directly, without libsystemd. READY=1 once every service has a process,
 * RELOADING=1 and READY=1 around a reload, STOPPING=1 on stop. Does nothing when the master was
 * not started with $NOTIFY_SOCKET. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "master.h"

static struct {
    int fd;
    struct sockaddr_un addr;
    socklen_t addrlen;
    bool warned;          /* one warning when messages cannot be sent, not one per message */
} N = { .fd = -1 };

/* $NOTIFY_SOCKET: a path ("/run/systemd/notify") or an abstract name ("@name"). */
static int parse_address(const char *value)
{
    size_t len = strlen(value);
    if ((value[0] != '/' && value[0] != '@') || len < 2 || len >= sizeof N.addr.sun_path)
        return -1;
    memset(&N.addr, 0, sizeof N.addr);
    N.addr.sun_family = AF_UNIX;
    memcpy(N.addr.sun_path, value, len);
    if (value[0] == '@')
        N.addr.sun_path[0] = '\0';   /* abstract: no NUL at the end, the length says */
    N.addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (value[0] == '/'));
    return 0;
}

void notify_init(void)
{
    const char *value = getenv("NOTIFY_SOCKET");
    if (value == NULL || *value == '\0')
        return;
    if (parse_address(value) < 0) {
        log_warn("NOTIFY_SOCKET=%s: not a UNIX socket path or @abstract name; "
                 "systemd is not told when the master is ready", value);
    } else {
        N.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (N.fd < 0)
            log_warn("cannot create the socket for systemd notifications: %s", strerror(errno));
    }
    /* the daemons must not speak for the master */
    unsetenv("NOTIFY_SOCKET");
}

bool notify_enabled(void)
{
    return N.fd >= 0;
}

/* One datagram of newline-separated VAR=value assignments; never blocks. */
void notify_send(const char *state)
{
    if (N.fd < 0)
        return;
    ssize_t n = sendto(N.fd, state, strlen(state), MSG_DONTWAIT | MSG_NOSIGNAL,
                       (const struct sockaddr *)&N.addr, N.addrlen);
    if (n < 0 && !N.warned) {
        N.warned = true;
        log_warn("cannot notify systemd (NOTIFY_SOCKET): %s", strerror(errno));
    } else if (n >= 0) {
        N.warned = false;
    }
}

/* RELOADING=1 carries the time it was sent (CLOCK_MONOTONIC, microseconds), which systemd
 * 253 and later want to match the reload they asked for; older versions ignore it. */
void notify_reloading(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char msg[96];
    snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
             (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    notify_send(msg);
}
