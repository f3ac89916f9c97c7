/* listfile.h: the job that reads a ~/.forward or an :include: file, in a child that already is
 * the user it is read as (runas.h), and sends the text back to the root parent, which parses
 * it (aliasparse.h). A .forward is used only when it is a regular file owned by the user and
 * not writable by group or others; an :include: file must be a regular file not writable by
 * group or others. Both are bounded by LISTFILE_MAX. */
#ifndef TERN_LISTFILE_H
#define TERN_LISTFILE_H
#include <stdbool.h>
#include <stddef.h>
#include "ipc.h"

#define LISTFILE_MAX (256 * 1024)

struct listfile_job {
    const char *path[2];   /* tried in order (.forward+ext, .forward); NULL ends the list */
    bool forward;          /* .forward rules: a missing or unsafe file means "none" */
};

/* A runas_job. Report attributes: found=PATH and content=TEXT for the file used; none when no
 * usable file exists (a .forward that is absent, or unsafe: then warning=TEXT says why); or a
 * defer/bounce outcome (report.h) when reading failed. */
void listfile_job_run(void *arg, struct ipc_msg *report);

#endif
