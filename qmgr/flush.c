/* flush.c: ternqueue -i (retry one deferred message now) and -s (retry now every deferred
 * message with a recipient still to deliver in a domain). A deferred message is due when its
 * mtime (its next attempt time) has come, so "now" is an mtime of now and a deferred scan; the
 * destinations involved are no longer held back as dead. The -s scan reads only envelopes
 * (queue/qlist.c), a batch per turn of the event loop, so the queue manager stays responsive. */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "mem.h"
#include "qlist.h"
#include "qmgr.h"
#include "server.h"

#define SITE_BATCH 100     /* deferred files read per turn of the event loop */
#define SITES_MAX 100      /* domains one scan looks for */

struct sites {
    char *name[SITES_MAX];
    size_t n;
};

static struct {
    DIR *d;                 /* open while a scan runs */
    struct sites now;       /* what this scan looks for */
    struct sites next;      /* asked for while it ran: the next scan */
    size_t due;             /* messages made due by this scan */
    struct event *ev;
    struct buf records;
} S;

/* ---- shared ---- */

static int make_due(const char *id)
{
    char path[300];
    snprintf(path, sizeof path, "deferred/%s", id);
    return utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW);
}

/* Forgets that the destination of address was dead. */
static void undead_address(const char *address)
{
    struct resolved to;
    char err[256];
    if (resolve_recipient(qmgr_resolver(), address, &to, err, sizeof err) == 0)
        schedule_undead(&to);
}

static int undead_rcpt(const struct qfile_rcpt *r, void *arg)
{
    (void)arg;
    if (!r->done && r->address_len < DELIVERY_ADDR_MAX) {
        char address[DELIVERY_ADDR_MAX];
        memcpy(address, r->address, r->address_len);
        address[r->address_len] = '\0';
        undead_address(address);
    }
    return 0;
}

static bool exists(const char *dir, const char *id)
{
    char path[300];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, id);
    return lstat(path, &st) == 0;
}

/* ---- -i ---- */

int flush_message(const char *id, char *err, size_t errlen)
{
    if (message_find(id) || exists("incoming", id) || exists("active", id))
        return 0;   /* on its way already */
    if (exists("hold", id)) {
        snprintf(err, errlen, "%s: the message is on hold; release it with ternqueue -H", id);
        return -1;
    }
    char path[300];
    snprintf(path, sizeof path, "deferred/%s", id);
    struct buf records;
    buf_init(&records, QLIST_ENVELOPE_MAX);
    struct qlist_envelope env;
    if (qlist_read_envelope(path, &records, &env, NULL, 0) == 0)
        qfile_recipients(records.data, records.len, undead_rcpt, NULL);
    buf_free(&records);
    if (make_due(id) < 0) {
        snprintf(err, errlen, "%s: no such message in the queue", id);
        return -1;
    }
    log_info("%s: flush: the message is retried now", id);
    scan_request_deferred(false);
    return 0;
}

/* ---- -s ---- */

static bool has_site(const struct sites *s, const char *site)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcasecmp(s->name[i], site) == 0)
            return true;
    return false;
}

static void clear_sites(struct sites *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->name[i]);
    s->n = 0;
}

struct match {
    bool found;
};

static int match_rcpt(const struct qfile_rcpt *r, void *arg)
{
    struct match *m = arg;
    const char *at = r->done ? NULL : memrchr(r->address, '@', r->address_len);
    if (at == NULL)
        return 0;
    size_t n = r->address_len - (size_t)(at + 1 - r->address);
    for (size_t i = 0; i < S.now.n && !m->found; i++)
        m->found = strlen(S.now.name[i]) == n && strncasecmp(S.now.name[i], at + 1, n) == 0;
    return m->found;   /* stop at the first match */
}

static void scan_done(void)
{
    closedir(S.d);
    S.d = NULL;
    char list[1024] = "";
    for (size_t i = 0; i < S.now.n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 S.now.name[i]);
    log_info("flush %s: %zu deferred message%s retried now", list, S.due,
             S.due == 1 ? "" : "s");
    clear_sites(&S.now);
    S.now = S.next;
    S.next.n = 0;
}

static void start_scan(void);

static void scan_soon(void)
{
    struct timeval now = { 0, 0 };
    evtimer_add(S.ev, &now);   /* after the loop has looked at its sockets again */
}

static void on_scan(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    size_t due_before = S.due;
    for (size_t k = 0; k < SITE_BATCH; k++) {
        struct dirent *de = readdir(S.d);
        if (de == NULL) {
            if (S.due > due_before)
                scan_request_deferred(false);
            scan_done();
            if (S.now.n)
                start_scan();
            return;
        }
        if (!qfile_valid_id(de->d_name))
            continue;
        char path[300];
        snprintf(path, sizeof path, "deferred/%s", de->d_name);
        struct qlist_envelope env;
        struct match m = { false };
        if (qlist_read_envelope(path, &S.records, &env, NULL, 0) == 0)
            qfile_recipients(S.records.data, S.records.len, match_rcpt, &m);
        if (m.found && make_due(de->d_name) == 0)
            S.due++;
    }
    if (S.due > due_before)
        scan_request_deferred(false);   /* what is due goes on while the scan goes on */
    scan_soon();
}

static void start_scan(void)
{
    if (S.ev == NULL) {
        S.ev = evtimer_new(server_base(), on_scan, NULL);
        buf_init(&S.records, QLIST_ENVELOPE_MAX);
    }
    S.d = opendir("deferred");
    S.due = 0;
    if (S.d == NULL) {
        log_error("flush: cannot read deferred/: %s", strerror(errno));
        clear_sites(&S.now);
        return;
    }
    scan_soon();
}

int flush_site(const char *site, char *err, size_t errlen)
{
    struct sites *into = S.d ? &S.next : &S.now;
    if (!has_site(into, site)) {
        if (into->n >= SITES_MAX) {
            snprintf(err, errlen, "too many flush requests at once; try again later");
            return -1;
        }
        into->name[into->n++] = xstrdup(site);
    }
    char postmaster[DELIVERY_ADDR_MAX];
    snprintf(postmaster, sizeof postmaster, "postmaster@%s", site);
    undead_address(postmaster);
    log_info("flush %s: its deferred mail is retried now", site);
    if (S.d == NULL)
        start_scan();
    return 0;
}
