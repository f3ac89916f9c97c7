/* statuslog.h: the per-message delivery status logs of the queue: defer/<ID> (why recipients
 * wait) and bounce/<ID> (why they failed), read by qmgr, mailq and the bounce service. Each
 * record is one message of the IPC framing (common/ipc.h) with the attributes below, appended
 * with O_APPEND and fsynced, so peer text (a remote server's reply) can never forge a record. */
#ifndef TERN_STATUSLOG_H
#define TERN_STATUSLOG_H
#include <stddef.h>
#include <time.h>

#define STATUSLOG_TEXT_MAX 2048      /* reason and diagnostic texts are cut to this */

/* The attribute names of a record, one for each field of status_record; recipient, status,
 * action and when are in every record. */
#define STATUSLOG_A_RECIPIENT      "recipient"
#define STATUSLOG_A_ORIG_RECIPIENT "orig_recipient"
#define STATUSLOG_A_NOTIFY         "notify"
#define STATUSLOG_A_STATUS         "status"
#define STATUSLOG_A_ACTION         "action"
#define STATUSLOG_A_REMOTE_MTA     "remote_mta"
#define STATUSLOG_A_DIAGNOSTIC     "diagnostic"
#define STATUSLOG_A_REASON         "reason"
#define STATUSLOG_A_WHEN           "when"

struct status_record {
    char recipient[512];         /* the envelope recipient */
    char orig_recipient[512];    /* ORCPT address, or "" */
    unsigned notify;             /* NOTIFY_* bits (qenvelope.h), 0 when none */
    char status[16];             /* enhanced status code, e.g. "5.1.1" */
    char action[16];             /* failed, delayed, delivered, relayed, expanded */
    char remote_mta[256];        /* "dns; mx.example.org" or "" */
    char diagnostic[STATUSLOG_TEXT_MAX]; /* "smtp; 550 5.1.1 <x@y>: unknown user" or "" */
    char reason[STATUSLOG_TEXT_MAX];     /* human-readable text for mailq and the DSN */
    time_t when;                 /* time of the attempt */
};

/* Appends r to the log at path (created 0600 with O_NOFOLLOW when missing), fsyncs it.
 * 0, or -1 with errno. */
int statuslog_append(const char *path, const struct status_record *r);
/* Reads every record of the log at path (at most max_bytes); cb gets each in order and returns
 * 0 to go on. Returns the number of records, or -1 with errno (EPROTO for a malformed log). */
long statuslog_read(const char *path, size_t max_bytes,
                    int (*cb)(const struct status_record *r, void *arg), void *arg);

#endif
