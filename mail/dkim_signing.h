/* dkim_signing.h: the signing table (dkim_signing_keys: `DOMAIN SELECTOR:KEYFILE[,
 * SELECTOR:KEYFILE]...`) with every key it names loaded, read once when a daemon starts, and
 * the keys that sign mail from a domain: the domain's own line, else its nearest parent's.
 * The streamed signer of one message is dkim_signer.h. */
#ifndef TERN_MAIL_DKIM_SIGNING_H
#define TERN_MAIL_DKIM_SIGNING_H
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include "dkim.h"
#include "dkim_key.h"

#define DKIM_SIGNING_SELECTORS_MAX 8     /* keys of one domain (RFC 8463 dual signing: two) */
#define DKIM_SIGNING_KEYFILE_MAX 1024    /* a KEYFILE as written, and resolved, NUL included */

/* One SELECTOR:KEYFILE of a table line, as written. */
struct dkim_signing_ref {
    char selector[DKIM_SELECTOR_MAX];
    char keyfile[DKIM_SIGNING_KEYFILE_MAX];
};

/* Parses a table value value[0..len): SELECTOR:KEYFILE items separated by commas and/or white
 * space; a selector is dot-separated labels of letters, digits, '-' and '_'; a KEYFILE is
 * anything but white space, commas and control characters. Pure. 0 with refs[0..*count)
 * filled (at least one), or -1 with err: empty, no colon, a bad selector, an empty or too long
 * KEYFILE or one with a control character, a selector given twice, more than
 * DKIM_SIGNING_SELECTORS_MAX. */
int dkim_signing_parse(const char *value, size_t len,
                       struct dkim_signing_ref refs[DKIM_SIGNING_SELECTORS_MAX], size_t *count,
                       char *err, size_t errlen);

/* Whether name is a domain name as a table key (d=): dot-separated labels of letters, digits,
 * '-' and '_', each 1-63 long, at most 253 in all, no final dot. */
bool dkim_signing_domain_ok(const char *name);
/* Whether name is a selector (s=): the same labels; at most DKIM_SELECTOR_MAX - 1 long. */
bool dkim_signing_selector_ok(const char *name, size_t len);

/* Where a KEYFILE is: itself when absolute, else config_dir/KEYFILE. -1 when it does not fit
 * in out[0..size). */
int dkim_signing_path(const char *config_dir, const char *keyfile, char *out, size_t size);

/* A loaded key. */
struct dkim_signing_key {
    char domain[DKIM_DOMAIN_MAX];             /* d=: the table's domain (lower case) */
    char selector[DKIM_SELECTOR_MAX];         /* s= */
    char path[DKIM_SIGNING_KEYFILE_MAX];      /* the key file (resolved) */
    EVP_PKEY *pkey;                           /* the private key; owned */
    enum dkim_key_type type;
};

/* Loads the key of ref for domain (dkim_key_private_file of its resolved path) into *key. 0, or
 * -1 with `DOMAIN: selector SELECTOR: PATH: reason` in err. */
int dkim_signing_load(const char *config_dir, const char *domain,
                      const struct dkim_signing_ref *ref, struct dkim_signing_key *key,
                      char *err, size_t errlen);
void dkim_signing_key_free(struct dkim_signing_key *key);

/* "rsa-sha256" or "ed25519-sha256": a= of a key's signatures. */
const char *dkim_signing_alg(const struct dkim_signing_key *key);

struct dkim_signing_table;

/* Reads the whole table spec (dict_open + dict_walk: hash:, btree:, texthash:) and loads every
 * key it names (a relative KEYFILE is relative to config_dir). An empty spec is an empty
 * table. When missing_ok and the table's file (texthash: the file, hash:/btree: the .db) does
 * not exist, the table is empty too; any other missing or unreadable table, a bad line, or a
 * key that is missing, unreadable or not a usable key fails: NULL with err naming the domain,
 * the file and the reason (`dkim_signing_keys: ...`). */
struct dkim_signing_table *dkim_signing_open(const char *spec, const char *config_dir,
                                             bool missing_ok, char *err, size_t errlen);
/* dkim_signing_open of the loaded configuration's dkim_signing_keys and config_directory; a
 * missing file is an empty table only when the parameter is not set (its default: an old
 * install has no such file). For a daemon's pre_jail (before privileges are dropped). */
struct dkim_signing_table *dkim_signing_open_config(char *err, size_t errlen);
void dkim_signing_close(struct dkim_signing_table *t);

/* How many domains the table has (0: signing is off). */
size_t dkim_signing_domains(const struct dkim_signing_table *t);

/* The keys that sign mail from domain (any case, a final dot allowed): those of domain's own
 * line, else of its nearest parent domain that has one (a.b.example.com, b.example.com,
 * example.com, com). The count, with *keys set to them (valid while t is open); 0 when none. */
size_t dkim_signing_lookup(const struct dkim_signing_table *t, const char *domain,
                           const struct dkim_signing_key **keys);

#endif
