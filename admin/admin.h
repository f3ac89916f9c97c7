/* admin.h: the pieces of the `tern` command that live in their own files. */
#ifndef TERN_ADMIN_H
#define TERN_ADMIN_H
#include <sys/types.h>

/* `tern init DIR [options]`: argv[0] is "init". Returns a sysexits code. */
int tern_init(int argc, char **argv);
/* `tern setup [--links] [--force] [--root DIR]`, as root: makes the installed tern the host's
 * mail system (tern_setup.c). config_dir is -c (NULL: $TERN_CONFIG or the default); overrides
 * the -o settings. argv[0] is "setup". Returns a sysexits code. */
int tern_setup(const char *config_dir, char **overrides, int noverrides, int argc, char **argv);
/* As root: the system group terndrop and user tern, created with groupadd and useradd when
 * missing (exit 71 when that fails). Returns how many were created. */
int tern_ensure_accounts(void);
/* A self-signed certificate for hostname (ECDSA P-256, SHA-256, ten years, the host name as CN
 * and DNS subject alternative name): cert_path (0644) and key_path (0600), both created with
 * O_EXCL. Exits 73 when it cannot. */
void tern_make_certificate(const char *cert_path, const char *key_path, const char *hostname);
/* `tern check`: configuration, master.conf, tables, queue directory. Returns a sysexits code;
 * expects the configuration loaded. */
int tern_check(const char *config_dir);
/* The daemon directory of this tern: <builddir>/libexec when run from a build tree, else the
 * directory it was installed with. Static storage. */
const char *tern_daemon_dir(void);

/* `tern dkim keygen|check ...` (tern_dkim.c): argv[0] is "dkim"; expects the configuration
 * loaded. Returns a sysexits code (check: 1 when a record is missing or does not match). */
int tern_dkim(const char *config_dir, int argc, char **argv);
/* Makes the directory of the DKIM keys, path, or takes the one there (not a symbolic link):
 * mode 0750, owned by root (as root) and group gid, which may read the keys. Exits 73 when it
 * cannot. */
void tern_dkim_make_dir(const char *path, gid_t gid);

/* The text of a new, empty dkim_signing_keys source (tern init, tern setup, tern dkim
 * keygen). */
#define DKIM_SIGNING_KEYS_TEXT \
    "# dkim_signing_keys: the keys that DKIM-sign mail from a domain and its subdomains, one\n" \
    "# domain a line: DOMAIN SELECTOR:KEYFILE[, SELECTOR:KEYFILE] (a relative KEYFILE is in\n" \
    "# the configuration directory), e.g. example.com ed:dkim/ed.key, rsa:dkim/rsa.key\n" \
    "# `tern dkim keygen DOMAIN SELECTOR` makes a key and adds it here. Run `tern reload`\n" \
    "# after a change.\n"

/* The text of a new, empty smtpd_sender_login_maps source (tern init, tern setup). */
#define SENDER_LOGINS_TEXT \
    "# sender_logins: which AUTH logins may send as which addresses on the submission services\n" \
    "# (smtpd_sender_restrictions = reject_sender_login_mismatch there), one address a line:\n" \
    "#   alice@example.com   alice\n" \
    "#   @example.org        bob, carol     (any address of that domain)\n" \
    "# A login that is an address may always send as itself. Run `tern reload` after a change.\n"

#endif
