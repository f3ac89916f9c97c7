/* conn_cache.c: the idle connection cache (conn_cache.h): a list of entries, oldest first,
 * each with its own idle timer; entries whose RSET is still on its way are listed too but
 * cannot be taken. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include "conn_cache.h"
#include "mem.h"
#include "server.h"

#define IDLE_QUIT_TIMEOUT 10     /* seconds a cached connection's QUIT may take */

struct entry {
    char key[CACHE_KEY_MAX];
    struct session *s;
    struct event *idle;
    bool ready;                  /* RSET answered: it may be taken */
    TAILQ_ENTRY(entry) link;
};

static TAILQ_HEAD(entry_list, entry) entries = TAILQ_HEAD_INITIALIZER(entries);
static size_t nentries;
static bool closed;              /* the process stops: nothing goes in any more */

static void on_reply(void *arg, struct session *s, enum smtp_cmd cmd, size_t index,
                     const struct smtp_reply *r);
static void on_error(void *arg, struct session *s, const struct session_error *e);
static const struct session_ops cache_ops = { NULL, on_reply, on_error };

static int quit_timeout(void)
{
    return smtp_set.quit_timeout < IDLE_QUIT_TIMEOUT ? smtp_set.quit_timeout
                                                     : IDLE_QUIT_TIMEOUT;
}

/* Takes e out of the list and frees it; the session stays as it is. */
static struct session *unlink_entry(struct entry *e)
{
    struct session *s = e->s;
    TAILQ_REMOVE(&entries, e, link);
    nentries--;
    event_free(e->idle);
    free(e);
    return s;
}

static void on_idle(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    session_quit(unlink_entry(arg), quit_timeout());
}

static void on_reply(void *arg, struct session *s, enum smtp_cmd cmd, size_t index,
                     const struct smtp_reply *r)
{
    (void)s;
    (void)index;
    struct entry *e = arg;
    if (cmd == CMD_RSET && !e->ready && reply_class(r->code) == 2) {
        e->ready = true;
        struct timeval tv = { smtp_set.cache_time, 0 };
        evtimer_add(e->idle, &tv);
        return;
    }
    session_quit(unlink_entry(e), quit_timeout());
}

static void on_error(void *arg, struct session *s, const struct session_error *err)
{
    (void)s;
    (void)err;
    unlink_entry(arg);           /* the session is gone already */
}

struct session *cache_take(const char *key)
{
    struct entry *e, *found = NULL;
    TAILQ_FOREACH_REVERSE(e, &entries, entry_list, link) {
        if (strcmp(e->key, key) != 0)
            continue;
        /* one whose RSET is still on its way will do if the server pipelines: the next
         * transaction then sees that reply first */
        if (e->ready) {
            found = e;
            break;
        }
        if (found == NULL && session_caps(e->s)->pipelining)
            found = e;
    }
    if (found == NULL)
        return NULL;
    struct session *s = unlink_entry(found);
    session_set_owner(s, NULL, NULL);
    return s;
}

void cache_release(struct session *s, const char *key)
{
    if (closed || smtp_set.cache_time <= 0 || session_uses(s) >= smtp_set.reuse_limit ||
        strlen(key) >= CACHE_KEY_MAX) {
        session_quit(s, smtp_set.quit_timeout);
        return;
    }
    if (nentries >= CACHE_SIZE_MAX)
        session_quit(unlink_entry(TAILQ_FIRST(&entries)), quit_timeout());
    struct entry *e = xcalloc(1, sizeof *e);
    snprintf(e->key, sizeof e->key, "%s", key);
    e->s = s;
    e->idle = evtimer_new(server_base(), on_idle, e);
    TAILQ_INSERT_TAIL(&entries, e, link);
    nentries++;
    session_set_owner(s, &cache_ops, e);
    session_command(s, CMD_RSET, 0, "RSET");
}

void cache_close_all(void)
{
    closed = true;
    while (!TAILQ_EMPTY(&entries))
        session_free(unlink_entry(TAILQ_FIRST(&entries)));
}
