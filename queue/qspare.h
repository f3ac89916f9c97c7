/* qspare.h: spare queue files. A delivered message's file is not unlinked but kept in spare/
 * (mode 0200, its content stale) and the next queue file written by smtpd, pickup or bounce
 * reuses it: a busy queue then allocates and frees no inodes and no blocks, which on a file
 * system without a journal also spares every new file a scan past recently freed inodes and
 * every removal a discard (docs/ARCHITECTURE.md, "Spare queue files").
 *
 * A spare keeps its queue ID as its name (spare/<ID>), so its inode number is known from the
 * name alone. Claiming one is a rename(2) into incoming/ that never replaces anything
 * (RENAME_NOREPLACE), so two processes can never take the same file; the file is then checked
 * (regular, one link, the inode the name says, owned by this user, mode 0200) and refused
 * otherwise. Its mode stays 0200 (no reader takes it, DESIGN.md §2 invariant 2) until the
 * writer seals it. qmgr empties spare/ when it starts, so nothing a crash left half-moved is
 * reused. At most QSPARE_KEEP_MAX files are kept; a larger file than QSPARE_SIZE_MAX gives its
 * blocks back and is kept empty (the inode is what matters) unless it is at most
 * QSPARE_LARGE_MAX and fewer than QSPARE_LARGE_KEEP files are kept, so spare/ holds at most
 * 256 x 128 KiB + 768 x 8 KiB = 38 MiB. */
#ifndef TERN_QSPARE_H
#define TERN_QSPARE_H
#include <stdint.h>
#include <sys/types.h>
#include "qfile.h"

#define QSPARE_KEEP_MAX 1024           /* files kept in spare/ */
#define QSPARE_SIZE_MAX (8 * 1024)     /* kept whole; a larger file is emptied (truncated)... */
#define QSPARE_LARGE_MAX (128 * 1024)  /* ...unless at most this large while fewer than */
#define QSPARE_LARGE_KEEP 256          /* this many are kept */

/* Takes a spare file as incoming/<ID> (ID from usec and the file's inode) for writing: its
 * descriptor (O_WRONLY, offset 0), with id, path (incoming/<ID>) and *stale_size (bytes of old
 * content to cut off, see qfile_finish) set. -1 when none could be taken (the caller then
 * creates a new file). */
int qspare_claim(uint64_t usec, char id[QFILE_ID_MAX], char *path, size_t path_size,
                 off_t *stale_size);

/* For qmgr, in place of unlink(path) of a message it is done with (path = <dir>/<id>): keeps
 * the file in spare/ when there is room (emptied first when larger than QSPARE_SIZE_MAX), else
 * unlinks it. 0, or -1 with errno as unlink. */
int qspare_retire(const char *path, const char *id);

/* For qmgr at start: removes every file in spare/. */
void qspare_clear(void);

#endif
