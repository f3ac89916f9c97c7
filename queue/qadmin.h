/* qadmin.h: what an admin does to queued messages (ternqueue -d, -h, -H, -r, like Postfix's
 * postsuper): delete, hold, release from hold, requeue. The queue manager applies these to the
 * files of the queues it does not hold in memory, and root's ternqueue applies them itself
 * when the queue manager is not running. Paths are relative to the working directory, the
 * queue directory. Each action is logged as Postfix does (`ID: removed`, `ID: placed on
 * hold`, `ID: released from hold`, `ID: requeued`). */
#ifndef TERN_QADMIN_H
#define TERN_QADMIN_H
#include <stdbool.h>
#include <stddef.h>

enum qadmin_op { QADMIN_DELETE, QADMIN_HOLD, QADMIN_RELEASE, QADMIN_REQUEUE };

/* Queues as bits, for the queues an action looks in. */
#define QADMIN_Q_INCOMING 1u
#define QADMIN_Q_ACTIVE   2u
#define QADMIN_Q_DEFERRED 4u
#define QADMIN_Q_HOLD     8u
#define QADMIN_Q_ALL      15u

#define QADMIN_BATCH 1000         /* queue IDs in one request to the queue manager */
#define QADMIN_STDIN_MAX 1000000  /* queue IDs read from standard input (ternqueue -d -) */
#define QADMIN_FAILED_MAX 20      /* errors one reply of the queue manager reports */

const char *qadmin_op_name(enum qadmin_op op);       /* the IPC type: "delete", ... */
int qadmin_op_parse(const char *name, enum qadmin_op *op);   /* 0, or -1 for an unknown one */
const char *qadmin_op_done_text(enum qadmin_op op);  /* "removed", "placed on hold", ... */
/* The bit of a queue name (incoming, active, deferred, hold), 0 for anything else. */
unsigned qadmin_queue_bit(const char *name);
const char *qadmin_queue_name(unsigned bit);
/* Where an action looks when no queue is named (postsuper's defaults): delete and requeue in
 * every queue, hold in incoming, active and deferred, release in hold. The queues it may act
 * on at all are the same. */
unsigned qadmin_queues(enum qadmin_op op);

/* Does op to the message id, looking in the queues of the bit set (in the order incoming,
 * active, deferred, hold). Delete unlinks the file and its defer/, bounce/ and trace/ logs;
 * hold moves it to hold/; release moves it from hold/ to deferred/ with its next attempt now;
 * requeue moves it to incoming/ (nothing to move when it is there) and removes its defer/
 * log, so that the queue manager routes it afresh. Logs the action. Returns the bit of the
 * queue it was found in, 0 when it is in none of them, -1 with err on a failure. */
int qadmin_apply(enum qadmin_op op, const char *id, unsigned queues, char *err, size_t errlen);
/* Removes the status logs of id: defer/ only, or defer/, bounce/ and trace/ (all). */
void qadmin_remove_logs(const char *id, bool all);
/* Calls fn with every message ID in the queues of the bit set (ternqueue ... ALL); fn returns
 * 0 to go on. 0, or -1 with err when a queue cannot be read. */
int qadmin_each(unsigned queues, int (*fn)(unsigned queue, const char *id, void *arg),
                void *arg, char *err, size_t errlen);
/* fsync of the directories of the bit set, after a batch of renames. */
void qadmin_sync(unsigned queues);

/* A queue ID as an admin may type it: a valid ID, with one trailing '*' or '!' (as mailq
 * prints them) taken off. Writes it to out; false when it is not one. */
bool qadmin_parse_id(const char *text, char *out, size_t size);

#endif
