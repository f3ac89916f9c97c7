/* ipc_io.c: the blocking helpers of ipc.h that move messages over stream sockets. One deadline
 * bounds each whole call, so a stuck or hostile peer costs the caller only the time it agreed
 * to spend; a negative timeout means no limit. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "ipc.h"
#include "ipc_proto.h"

#define CONNECT_RETRY_MS 10   /* pause while a listener's backlog is full */


static long long deadline_after(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : clock_ms() + timeout_ms;
}

/* Milliseconds left for poll(2): -1 waits forever, 0 once the deadline has passed. */
static int ms_left(long long deadline)
{
    if (deadline < 0)
        return -1;
    long long left = deadline - clock_ms();
    return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, ms_left(deadline));
        if (r > 0)
            return 0;
        if (r == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (errno != EINTR)
            return -1;
    }
}

static int close_keep_errno(int fd)
{
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

/* A full backlog gives EAGAIN with nothing in progress, so that case is retried until the
 * deadline; a connection in progress is waited for and its outcome read with SO_ERROR. */
static int connect_retry(int fd, const struct sockaddr_un *sa, long long deadline)
{
    for (;;) {
        if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0)
            return 0;
        if (errno == EAGAIN) {
            int left = ms_left(deadline);
            if (left == 0) {
                errno = ETIMEDOUT;
                return -1;
            }
            poll(NULL, 0, left < 0 || left > CONNECT_RETRY_MS ? CONNECT_RETRY_MS : left);
            continue;
        }
        if (errno != EINPROGRESS && errno != EINTR)
            return -1;
        if (wait_fd(fd, POLLOUT, deadline) < 0)
            return -1;
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            return -1;
        if (err != 0) {
            errno = err;
            return -1;
        }
        return 0;
    }
}

/* A connected socket, still non-blocking (fine for this file's own I/O, which never blocks on
 * a read or write call). */
static int connect_nonblocking(const char *path, long long deadline)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t n = strlen(path);
    if (n >= sizeof sa.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, path, n + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect_retry(fd, &sa, deadline) < 0)
        return close_keep_errno(fd);
    return fd;
}

static int connect_until(const char *path, long long deadline)
{
    int fd = connect_nonblocking(path, deadline);
    if (fd < 0)
        return -1;
    /* hand back an ordinary blocking socket; our own I/O uses MSG_DONTWAIT regardless */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
        return close_keep_errno(fd);
    return fd;
}

int ipc_connect_unix(const char *path, int timeout_ms)
{
    return connect_until(path, deadline_after(timeout_ms));
}

static int send_all(int fd, const char *p, size_t n, long long deadline)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {   /* wait only when it is full */
                if (wait_fd(fd, POLLOUT, deadline) < 0)
                    return -1;
                continue;
            }
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_until(int fd, const struct ipc_msg *m, long long deadline)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    int r;
    if (ipc_encode(m, &b) < 0) {
        errno = EMSGSIZE;
        r = -1;
    } else {
        r = send_all(fd, b.data, b.len, deadline);
    }
    int e = errno;
    buf_free(&b);
    errno = e;
    return r;
}

int ipc_send(int fd, const struct ipc_msg *m, int timeout_ms)
{
    return send_until(fd, m, deadline_after(timeout_ms));
}

int ipc_send_bytes(int fd, const void *data, size_t len, int timeout_ms)
{
    return send_all(fd, data, len, deadline_after(timeout_ms));
}

/* The size of the whole frame once its length prefix (already validated by ipc_decode) is
 * buffered, else 0. */
static size_t frame_size(const struct buf *b)
{
    const char *colon = memchr(b->data, ':', b->len);
    if (colon == NULL)
        return 0;
    size_t n = 0;
    for (const char *p = b->data; p < colon; p++)
        n = n * 10 + (size_t)(*p - '0');
    return (size_t)(colon - b->data) + 1 + n + 1;
}

/* A peer that breaks the protocol: errno EPROTO, the reason in err (already there when the
 * decoder wrote it: reason NULL). */
static int proto_error(char *err, size_t errlen, const char *reason)
{
    if (reason)
        snprintf(err, errlen, "%s", reason);
    errno = EPROTO;
    return -1;
}

/* Reads exactly one frame, so bytes of a following message stay in the socket: the length
 * prefix is seen with MSG_PEEK (or read a byte at a time while it is still incomplete), then
 * the frame is read whole (in 16 KiB pieces). Waits (poll) only when nothing is there.
 * Decodes as bytes arrive to reject garbage early, but only when the buffer has doubled since
 * the last try, so a peer dribbling single bytes cannot make the total work quadratic. */
static int recv_into(int fd, struct buf *b, struct ipc_msg *m, size_t max, long long deadline,
                     char *err, size_t errlen)
{
    char chunk[16384];
    size_t need = 0, checked = 0;
    for (;;) {
        size_t want = need ? need - b->len : 1;
        if (need == 0 && b->len == 0) {
            char head[24];   /* more than the digits of any allowed length, and the colon */
            ssize_t seen = recv(fd, head, sizeof head, MSG_PEEK | MSG_DONTWAIT);
            if (seen < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (wait_fd(fd, POLLIN, deadline) < 0)
                    return -1;
                continue;   /* nothing there yet: no read to try */
            }
            const char *colon = seen > 0 ? memchr(head, ':', (size_t)seen) : NULL;
            size_t n = 0;
            const char *p = head;
            while (colon && p < colon && *p >= '0' && *p <= '9' && n <= max)
                n = n * 10 + (size_t)(*p++ - '0');
            /* a well-formed prefix: read the whole frame at once (the decoder checks it);
             * anything else is read up to the colon and left to the decoder to refuse */
            if (colon && p == colon && p > head && n <= max)
                want = (size_t)(colon - head) + 1 + n + 1;
            else if (colon)
                want = (size_t)(colon - head) + 1;
        }
        if (want > sizeof chunk)
            want = sizeof chunk;
        ssize_t got = recv(fd, chunk, want, MSG_DONTWAIT);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (wait_fd(fd, POLLIN, deadline) < 0)
                    return -1;
                continue;
            }
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (got == 0) {
            errno = ECONNRESET;
            return -1;
        }
        if (buf_append(b, chunk, (size_t)got) < 0)
            return proto_error(err, errlen, "message too large");
        if (need != 0 && b->len != need && b->len < 2 * checked)
            continue;
        checked = b->len;
        size_t used;
        int r = ipc_decode(b->data, b->len, max, m, &used, err, errlen);
        if (r < 0)
            return proto_error(err, errlen, NULL);
        if (r > 0)
            return 0;
        if (need == 0)
            need = frame_size(b);
    }
}

static int recv_until(int fd, struct ipc_msg *m, size_t max, long long deadline, char *err,
                      size_t errlen)
{
    if (max == 0)
        max = IPC_MSG_MAX_DEFAULT;   /* nothing fits in 0 bytes, so 0 can only mean "default" */
    struct buf b;
    buf_init(&b, max);
    int r = recv_into(fd, &b, m, max, deadline, err, errlen);
    int e = errno;
    buf_free(&b);
    errno = e;
    return r;
}

int ipc_recv(int fd, struct ipc_msg *m, size_t max, int timeout_ms, char *err, size_t errlen)
{
    return recv_until(fd, m, max, deadline_after(timeout_ms), err, errlen);
}

int ipc_call(const char *path, const struct ipc_msg *req, struct ipc_msg *reply, size_t max,
             int timeout_ms, char *err, size_t errlen)
{
    long long deadline = deadline_after(timeout_ms);
    int fd = connect_until(path, deadline);
    if (fd < 0)
        return -1;
    int r = send_until(fd, req, deadline);
    if (r == 0)
        r = recv_until(fd, reply, max, deadline, err, errlen);
    if (r < 0)
        return close_keep_errno(fd);
    close(fd);
    return 0;
}

/* The connection of the last ipc_wakeup, kept for the next one to the same socket. */
static struct {
    int fd;
    char path[sizeof ((struct sockaddr_un *)0)->sun_path];
} waker = { -1, "" };

void ipc_wakeup(const char *path)
{
    static struct buf frame;
    if (frame.len == 0) {
        struct ipc_msg m;
        ipc_msg_init(&m);
        buf_init(&frame, 64);
        int r = ipc_add(&m, IPC_A_TYPE, IPC_T_WAKEUP) < 0 ? -1 : ipc_encode(&m, &frame);
        ipc_msg_free(&m);
        if (r < 0) {
            buf_reset(&frame);
            return;
        }
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        if (waker.fd < 0 || strcmp(waker.path, path) != 0) {
            if (waker.fd >= 0)
                close(waker.fd);
            waker.fd = connect_nonblocking(path, deadline_after(0));
            if (waker.fd < 0 || strlen(path) >= sizeof waker.path) {
                if (waker.fd >= 0)
                    close(waker.fd);
                waker.fd = -1;
                return;
            }
            memcpy(waker.path, path, strlen(path) + 1);
        }
        ssize_t n = send(waker.fd, frame.data, frame.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == (ssize_t)frame.len)
            return;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;   /* wakeups the server has not read yet are there: it will scan */
        /* the server closed it (it timed it out, or restarted), or only part went: a new one */
        close(waker.fd);
        waker.fd = -1;
        if (n > 0)
            return;
    }
}
