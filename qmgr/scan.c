/* scan.c: the queue manager's directory scans. New mail: incoming/ (on a wake-up from smtpd,
 * pickup, bounce or forwarding, and every queue_run_delay). Retries: deferred/ files whose mtime
 * (the next attempt time) has come. Both feed active/ only while it holds fewer than
 * qmgr_message_active_limit messages, and take turns when both have mail waiting, so new mail
 * and retries share the capacity. A scan reads a bounded number of entries per turn of the
 * event loop. At start, what a previous qmgr left in active/ goes back to incoming/. */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "qmgr.h"
#include "safefile.h"
#include "server.h"

#define SCAN_BATCH 20      /* messages moved into active/ per turn of the event loop: few, so
                              * that replies of the agents are not kept waiting by the intake */

struct scan {
    const char *dir;
    DIR *d;                 /* open while a scan is in progress */
    bool wanted;            /* a scan was asked for */
    bool all;               /* deferred: take every file, due or not (tern flush) */
    bool all_next;
    bool stalled;           /* stopped at the active limit: scan again when room frees */
};

static struct scan incoming = { "incoming", NULL, false, false, false, false };
static struct scan deferred = { "deferred", NULL, false, false, false, false };
static struct event *scan_ev;
static bool prefer_deferred;   /* whose turn it is when both want the capacity */

static void scan_soon(void);

void scan_recover_active(void)
{
    DIR *d = opendir("active");
    if (d == NULL) {
        log_error("cannot open active/: %s", strerror(errno));
        return;
    }
    struct dirent *e;
    size_t n = 0;
    while ((e = readdir(d)) != NULL) {
        if (!qfile_valid_id(e->d_name))
            continue;
        char from[300], to[300];
        snprintf(from, sizeof from, "active/%s", e->d_name);
        snprintf(to, sizeof to, "incoming/%s", e->d_name);
        struct stat st;
        if (lstat(from, &st) == 0 && S_ISREG(st.st_mode) && !qfile_complete(st.st_mode)) {
            /* stopped while being moved to spare/ (qspare_retire): delivered, not a message */
            unlink(from);
            continue;
        }
        if (rename(from, to) == 0)
            n++;
        else
            log_error("%s: cannot move back to incoming/: %s", e->d_name, strerror(errno));
    }
    closedir(d);
    if (n) {
        fsync_dir("incoming");
        log_info("%zu messages that were being delivered when the queue manager stopped go "
                 "back to incoming/", n);
    }
}

/* Moves dir/<id> to active/ and loads it. */
static void take(const char *dir, const char *id)
{
    char from[300], to[300];
    snprintf(from, sizeof from, "%s/%s", dir, id);
    snprintf(to, sizeof to, "active/%s", id);
    if (rename(from, to) < 0) {
        if (errno != ENOENT)
            log_warn("%s: cannot move %s to active/: %s", id, from, strerror(errno));
        return;
    }
    message_load(id);
}

/* Moves up to SCAN_BATCH files of s into active/. Returns true when the scan is over (the
 * directory was read to its end, or active/ is full). */
static bool scan_step(struct scan *s)
{
    if (s->d == NULL) {
        s->d = opendir(s->dir);
        s->all = s->all_next;
        s->all_next = false;
        s->wanted = false;
        s->stalled = false;
        if (s->d == NULL) {
            log_error("cannot open %s/: %s", s->dir, strerror(errno));
            return true;
        }
    }
    double now = qmgr_now();
    size_t moved = 0;
    struct dirent *e;
    while (moved < SCAN_BATCH) {
        if (message_active_count() >= (size_t)qmgr_conf.active_limit) {
            s->stalled = true;
            closedir(s->d);
            s->d = NULL;
            return true;
        }
        if ((e = readdir(s->d)) == NULL) {
            closedir(s->d);
            s->d = NULL;
            return true;
        }
        if (!qfile_valid_id(e->d_name))
            continue;   /* ".", "..", temporary files t... */
        if (s == &incoming) {
            struct stat st;
            char path[300];
            snprintf(path, sizeof path, "incoming/%s", e->d_name);
            if (lstat(path, &st) < 0 || !qfile_complete(st.st_mode))
                continue;   /* still being written (invariant 2) */
        }
        if (s == &deferred && !s->all) {
            struct stat st;
            char path[300];
            snprintf(path, sizeof path, "deferred/%s", e->d_name);
            if (lstat(path, &st) < 0 || (double)st.st_mtime > now)
                continue;   /* not due yet */
        }
        take(s->dir, e->d_name);
        moved++;
    }
    return false;
}

static bool busy(const struct scan *s)
{
    return s->d != NULL || s->wanted;
}

static void on_scan(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    /* one batch of one of the two scans per turn, taking turns */
    struct scan *first = prefer_deferred ? &deferred : &incoming;
    struct scan *second = first == &incoming ? &deferred : &incoming;
    struct scan *s = busy(first) ? first : busy(second) ? second : NULL;
    if (s) {
        scan_step(s);
        prefer_deferred = s == &incoming;
    }
    schedule_run();
    if (busy(&incoming) || busy(&deferred))
        scan_soon();
}

static void scan_soon(void)
{
    if (scan_ev == NULL)
        scan_ev = evtimer_new(server_base(), on_scan, NULL);
    if (!evtimer_pending(scan_ev, NULL)) {
        struct timeval now = { 0, 0 };
        evtimer_add(scan_ev, &now);
    }
}

void scan_request_incoming(void)
{
    incoming.wanted = true;
    scan_soon();
}

void scan_request_deferred(bool all)
{
    deferred.wanted = true;
    if (all)
        deferred.all_next = true;
    scan_soon();
}

void scan_capacity_freed(void)
{
    if (message_active_count() + 1 < (size_t)qmgr_conf.active_limit)
        return;   /* was not full */
    if (incoming.stalled)
        scan_request_incoming();
    if (deferred.stalled)
        scan_request_deferred(false);
}
