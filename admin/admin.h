/* admin.h: the pieces of the `tern` command that live in their own files. */
#ifndef TERN_ADMIN_H
#define TERN_ADMIN_H

/* `tern init DIR [options]`: argv[0] is "init". Returns a sysexits code. */
int tern_init(int argc, char **argv);
/* `tern check`: configuration, master.conf, tables, queue directory. Returns a sysexits code;
 * expects the configuration loaded. */
int tern_check(const char *config_dir);
/* The daemon directory of this tern: <builddir>/libexec when run from a build tree, else the
 * directory it was installed with. Static storage. */
const char *tern_daemon_dir(void);

#endif
