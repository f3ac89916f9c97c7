/* srs.h: the Sender Rewriting Scheme for mail tern forwards: the envelope sender rewritten
 * into the SRS domain (SRS0, or SRS1 for an SRS address of another forwarder) so SPF passes
 * at the next hop, and bounces to it turned back into the original sender. The hash is an
 * HMAC-SHA256 (libsodium) with a key read from a file that only its owner may read. */
#ifndef TERN_SRS_H
#define TERN_SRS_H
#include <stddef.h>
#include <time.h>
#include "srs_address.h"

#define SRS_KEY_BYTES 32
#define SRS_HASH_CHARS 6          /* base32 characters of the hash written: 30 bits */
#define SRS_MAX_AGE_DAYS 21       /* an SRS0 address older than this is expired */

struct srs_key {
    unsigned char bytes[SRS_KEY_BYTES];
};

/* Makes a new key file at path: 64 hexadecimal digits of random bytes and a newline, mode
 * 0600, created with O_EXCL|O_NOFOLLOW (an existing file or link is an error), then fsynced
 * with its directory. 0, or -1 with why in err. */
int srs_key_generate(const char *path, char *err, size_t errlen);

/* Reads a key file made by srs_key_generate: a regular file (no symbolic link) that group and
 * others can neither read nor write, holding 64 hexadecimal digits (a final newline allowed).
 * 0, or -1 with why in err. */
int srs_key_load(const char *path, struct srs_key *key, char *err, size_t errlen);

enum srs_status {
    SRS_OK,             /* forward: rewritten; reverse: the original address is in out */
    SRS_UNCHANGED,      /* forward: left as it is (the null sender, no domain, already in
                         * srs_domain); out holds the address unchanged */
    SRS_NOT_SRS,        /* reverse: not an SRS address of srs_domain */
    SRS_BAD_HASH,       /* reverse: the hash does not match */
    SRS_EXPIRED,        /* reverse: older than SRS_MAX_AGE_DAYS, or dated more than a day
                         * ahead */
    SRS_MALFORMED,      /* reverse: SRS but malformed; forward: a sender that cannot be
                         * rewritten (too long, a local part that would need quotes, control
                         * characters) */
};

/* Rewrites the envelope sender address ("local@domain", unquoted local part; "" for <>) into
 * out[0..size) as an address of srs_domain, dated by now:
 *   local@domain              -> SRS0=HHHHHH=TT=domain=local@srs_domain
 *   SRS0=...@fwd.example      -> SRS1=HHHHHH=fwd.example==...@srs_domain
 *   SRS1=H=first=<s>rest@fwd  -> SRS1=HHHHHH=first=<s>rest@srs_domain (first kept)
 * The hash covers the stamp, the domain and the local part (SRS1: the first domain and the
 * rest), all folded to lower case, so a hop that changes their case does not break it (the
 * reverse gives the local part back as it arrives: a hop that folded it folds it). The domain
 * is written in lower case. */
enum srs_status srs_forward(const struct srs_key *key, const char *srs_domain,
                            const char *address, time_t now, char *out, size_t size);

/* Turns an SRS address of srs_domain (compared without regard to case) back: SRS0 into the
 * original "local@domain", SRS1 into "SRS0<sep>rest@firstdomain". The hash is compared in
 * constant time, without regard to case; an SRS0 stamp may be up to SRS_MAX_AGE_DAYS old or
 * one day ahead, counted modulo 1024 days (so the wrap of the day counter is no expiry).
 * out is "" unless SRS_OK. */
enum srs_status srs_reverse(const struct srs_key *key, const char *srs_domain,
                            const char *address, time_t now, char *out, size_t size);

/* A text for a reply or log line: "not an SRS address", "SRS address hash mismatch", ... */
const char *srs_status_text(enum srs_status s);

#endif
