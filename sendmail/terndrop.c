/* terndrop.c: the set-gid helper of sendmail(1) (libexec/terndrop, group setgid_group, mode
 * 2755 once installed; terndrop(8)). It reads one maildrop file's records on standard input,
 * checks each against the rules of queue/maildrop.h, writes them to maildrop/t<random>, and
 * only after END makes the file durable and gives it its final name, then wakes pickup. The
 * group is all it has beyond the user's rights, and all that group can do is create files in
 * maildrop/ and reach public/. It writes nothing else and runs no other program. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>
#include "config.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "maildrop.h"
#include "qfile.h"
#include "safefile.h"

#define INPUT_TIMEOUT_MS (24 * 3600 * 1000)   /* sendmail streams as it reads its input */
#define WRITE_BUFFER (256 * 1024)

static char temp_path[64];    /* the unfinished file, removed on every failure */

#ifdef __SANITIZE_ADDRESS__
/* Sanitizer builds only: LeakSanitizer cannot stop the world in a process that is not
 * dumpable, which a set-gid program run by an ordinary user is, and would fail the run; it is
 * turned off there (runs by root are still checked). */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
    return prctl(PR_GET_DUMPABLE) == 0 && getuid() != 0;
}
#endif

static _Noreturn void fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static _Noreturn void fail(int code, const char *fmt, ...)
{
    if (temp_path[0])
        unlink(temp_path);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "terndrop: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

static void on_signal(int sig)
{
    (void)sig;
    if (temp_path[0])
        unlink(temp_path);
    _exit(EX_TEMPFAIL);
}

/* Descriptors 0-2 must exist, or the file created next could become someone's stdout. */
static void sanitize_descriptors(void)
{
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
            _exit(EX_OSERR);
}

/* The configuration names the queue directory this program writes into and its size limit.
 * Running set-gid for another user, terndrop takes one other than the default only when root
 * controls it (its directory, tern.conf and the path to them); the resolved path is used from
 * then on, so a symbolic link cannot be switched afterwards. */
static const char *trusted_config_dir(const char *dir, char resolved[PATH_MAX])
{
    bool privileged = getegid() != getgid() || geteuid() != getuid();
    if (!privileged || getuid() == 0 || strcmp(dir, TERN_CONFIG_DIR) == 0)
        return dir;
    char err[2 * PATH_MAX], conf[PATH_MAX + 16], ignored[PATH_MAX];
    if (safe_root_controlled(dir, resolved, err, sizeof err) < 0)
        fail(EX_NOPERM, "a configuration that root does not control cannot be used: %s", err);
    snprintf(conf, sizeof conf, "%s/tern.conf", resolved);
    if (safe_root_controlled(conf, ignored, err, sizeof err) < 0)
        fail(EX_NOPERM, "a configuration that root does not control cannot be used: %s", err);
    return resolved;
}

struct writer {
    int fd;
    char *buf;
    size_t len;
};

static void flush_out(struct writer *w)
{
    if (w->len && write_all(w->fd, w->buf, w->len) < 0)
        fail(EX_TEMPFAIL, "cannot write to maildrop/: %s", strerror(errno));
    w->len = 0;
}

static void put_record(struct writer *w, int type, const char *data, size_t len)
{
    unsigned char hdr[6];
    size_t h = 0;
    hdr[h++] = (unsigned char)type;
    size_t n = len;
    do {
        unsigned char b = n & 0x7f;
        n >>= 7;
        hdr[h++] = b | (n ? 0x80 : 0);
    } while (n);
    if (w->len + h + len > WRITE_BUFFER)
        flush_out(w);
    if (h + len > WRITE_BUFFER) {
        if (write_all(w->fd, hdr, h) < 0 || write_all(w->fd, data, len) < 0)
            fail(EX_TEMPFAIL, "cannot write to maildrop/: %s", strerror(errno));
        return;
    }
    memcpy(w->buf + w->len, hdr, h);
    memcpy(w->buf + w->len + h, data, len);
    w->len += h + len;
}

int main(int argc, char **argv)
{
    sanitize_descriptors();
    const char *cli_dir = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "c:")) != -1) {
        if (opt == 'c')
            cli_dir = optarg;
        else
            fail(EX_USAGE, "%s", "usage: terndrop [-c config_dir] < maildrop-records");
    }
    if (optind != argc)
        fail(EX_USAGE, "%s", "usage: terndrop [-c config_dir] < maildrop-records");
    char resolved[PATH_MAX];
    const char *dir = trusted_config_dir(config_dir(cli_dir), resolved);
    char err[ERR_TEXT_MAX];
    if (config_load(dir, err, sizeof err) < 0)
        fail(EX_CONFIG, "%s", err);
    const char *queue = config_str("queue_directory");
    if (chdir(queue) < 0)
        fail(EX_TEMPFAIL, "cannot enter the queue directory: %s", strerror(errno));
    long long limit = config_size("message_size_limit");
    if (sodium_init() < 0)
        fail(EX_SOFTWARE, "%s", "cannot initialize libsodium");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    sigaction(SIGXFSZ, &sa, NULL);

    unsigned char rnd[12];
    randombytes_buf(rnd, sizeof rnd);
    char hex[2 * sizeof rnd + 1];
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    snprintf(temp_path, sizeof temp_path, "maildrop/t%s", hex);
    umask(077);
    int fd = open(temp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        temp_path[0] = '\0';
        fail(EX_TEMPFAIL, "cannot create a file in maildrop/: %s", strerror(e));
    }

    struct writer w = { fd, malloc(WRITE_BUFFER), 0 };
    if (w.buf == NULL)
        fail(EX_OSERR, "%s", "out of memory");
    struct maildrop_reader r;
    struct maildrop_check chk;
    maildrop_reader_init(&r, STDIN_FILENO, INPUT_TIMEOUT_MS);
    maildrop_check_init(&chk, limit > 0 ? (unsigned long long)limit : 0);
    for (;;) {
        int type;
        const char *data;
        char why[ERR_TEXT_MAX];
        size_t len;
        int rc = maildrop_read(&r, &type, &data, &len);
        if (rc < 0)
            fail(errno == ETIMEDOUT ? EX_TEMPFAIL : EX_DATAERR, "bad input: %s",
                 errno == EPROTO ? "malformed record" : strerror(errno));
        if (rc == 0) {
            if (!chk.ended)
                fail(EX_DATAERR, "%s", "the input ended before the message did");
            break;
        }
        if (maildrop_check(&chk, type, data, len, why, sizeof why) < 0)
            fail(EX_DATAERR, "%s", why);
        put_record(&w, type, data, len);
    }
    flush_out(&w);
    free(w.buf);
    maildrop_reader_free(&r);

    /* durable before it has a name pickup takes: fsync, rename, fsync of maildrop/ */
    struct stat st;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char id[QFILE_ID_MAX], final[QFILE_ID_MAX + 16];
    if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || fstat(fd, &st) < 0)
        fail(EX_TEMPFAIL, "cannot write to maildrop/: %s", strerror(errno));
    if (qfile_make_id((uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec, st.st_ino, id) < 0)
        fail(EX_SOFTWARE, "%s", "cannot make a file name");
    snprintf(final, sizeof final, "maildrop/%s", id);
    if (rename(temp_path, final) < 0)
        fail(EX_TEMPFAIL, "cannot name the file in maildrop/: %s", strerror(errno));
    temp_path[0] = '\0';
    /* the new name must be on disk too. With only the group's -wx on maildrop/ the directory
     * cannot be opened to fsync it; syncfs on the file's file system covers the entry then. */
    if (fsync_dir("maildrop") < 0 && (errno != EACCES || syncfs(fd) < 0)) {
        /* named, so pickup takes it; but the caller must not count on it: 75, as for a full
         * disk (a retry may duplicate the message, never lose it) */
        fail(EX_TEMPFAIL, "cannot sync maildrop/: %s", strerror(errno));
    }
    close(fd);
    ipc_wakeup(IPC_PICKUP_SOCKET);
    return 0;
}
