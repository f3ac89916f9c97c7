/* vmailbox.h: where the virtual delivery agent puts a recipient's mail: the mailbox path under
 * virtual_mailbox_base from virtual_mailbox_maps (a trailing "/" means Maildir) and the uid and
 * gid it is written as, from virtual_uid_maps and virtual_gid_maps. Every table is searched in
 * virtual(5) order (address_lookup_keys, mail/address.h): user+ext@domain, user@domain
 * (recipient_delimiter), then @domain, with a quoted local part unquoted. */
#ifndef TERN_VMAILBOX_H
#define TERN_VMAILBOX_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include "errtext.h"
#include <sys/types.h>

struct vmaps;

struct vmailbox {
    char path[PATH_MAX];     /* base/value, without the trailing "/" of a Maildir */
    size_t base_len;         /* path[0..base_len) is virtual_mailbox_base, then a "/" */
    bool maildir;
    uid_t uid;
    gid_t gid;
};

/* What vmailbox_find says about a recipient. */
enum vmailbox_verdict {
    VMAILBOX_FOUND,          /* out is filled */
    VMAILBOX_UNKNOWN,        /* no virtual_mailbox_maps entry: bounce 5.1.1 */
    VMAILBOX_TEMPORARY,      /* a table could not be read: defer 4.3.0 */
    VMAILBOX_CONFIG,         /* a bad value or setting: defer 4.3.5 */
};

/* Reads virtual_mailbox_base, virtual_mailbox_maps, virtual_uid_maps, virtual_gid_maps,
 * virtual_minimum_uid and recipient_delimiter. NULL with err (`param: reason`) when a table
 * cannot be opened. */
struct vmaps *vmaps_open(char *err, size_t errlen);
void vmaps_close(struct vmaps *m);

/* Looks the recipient (an address; folded to lower case here, its local part unquoted for the
 * keys) up. err gets the reason for every verdict but FOUND. */
enum vmailbox_verdict vmailbox_find(const struct vmaps *m, const char *address,
                                    struct vmailbox *out, char *err, size_t errlen);

/* Pure parts, for the tests. */
/* Joins base and a map value into out's path, base_len and maildir: the value must be
 * relative, without "." or ".." components or empty ones ("a//b"), and base absolute.
 * 0, or -1 with err. */
int vmailbox_path(const char *base, const char *value, struct vmailbox *out, char *err,
                  size_t errlen);
/* A decimal uid or gid below (id_t)-1. 0, or -1. */
int vmailbox_id(const char *s, unsigned long long *out);

#endif
