/* srs_address.h: the shape of Sender Rewriting Scheme addresses, without the keys: an SRS0 or
 * SRS1 local part taken apart and put together again, and the day stamp in base32. Pure
 * functions, so the parser is fuzzed alone; srs.h signs and checks. */
#ifndef TERN_SRS_ADDRESS_H
#define TERN_SRS_ADDRESS_H
#include <stdbool.h>
#include <stddef.h>

/* Bounds (SRS addresses pass RFC 5321's 64-byte local part in practice, so ours are wider):
 * a local part of at most SRS_LOCAL_MAX bytes, a domain of at most 255, so an address fits in
 * SRS_ADDRESS_MAX with its NUL. Longer input is refused, and so is output that would be. */
#define SRS_LOCAL_MAX 256
#define SRS_DOMAIN_MAX 256            /* with its NUL */
#define SRS_ADDRESS_MAX (SRS_LOCAL_MAX + 1 + SRS_DOMAIN_MAX)
#define SRS_HASH_MAX 16               /* longest hash field read, with its NUL */

/* "SRS0=HASH=TT=domain=local@srsdomain" and "SRS1=HASH=firstdomain=<sep>rest@srsdomain" (rest:
 * what followed "SRS0<sep>" in the SRS0 address that was rewritten at firstdomain). The
 * separator after "SRS0"/"SRS1" may be '=', '+' or '-' (other implementations write those);
 * inside, fields are separated by '='. */
struct srs_address {
    int version;                      /* 0 or 1 */
    char sep;                         /* the separator after SRS0/SRS1 */
    char hash[SRS_HASH_MAX];          /* as written */
    char stamp[3];                    /* SRS0: the two base32 day characters, as written */
    char domain[SRS_DOMAIN_MAX];      /* SRS0: the original domain; SRS1: the first SRS domain */
    char local[SRS_LOCAL_MAX + 1];    /* SRS0: the original local part; SRS1: rest */
    char srs0_sep;                    /* SRS1: the SRS0 separator, after "firstdomain=" */
    char at[SRS_DOMAIN_MAX];          /* the domain after the last '@' ("" without one) */
};

/* Takes address apart (nothing is folded: fields are as written). 1: an SRS0 or SRS1 address
 * (local part starting with "SRS0"/"SRS1", any case, and a separator). 0: not SRS. -1: an SRS
 * address that is malformed (a field missing or empty, a hash of more than SRS_HASH_MAX - 1 or
 * of other than letters, digits, '+' and '/', a stamp of other than two base32 characters, a
 * domain with a '=', a part too long). */
int srs_address_parse(const char *address, struct srs_address *out);

/* Writes a back as an address into out[0..size) (what srs_address_parse read gives the same
 * text again). 0, or -1 when it does not fit in size or SRS_ADDRESS_MAX (out is then ""). */
int srs_address_format(const struct srs_address *a, char *out, size_t size);

/* Whether local part `local` (up to its end or an '@') starts like an SRS address: "SRS0" or
 * "SRS1" (any case) and a separator. Sets *version. */
bool srs_address_is_srs(const char *local, int *version);

/* The day stamp: day (days since the epoch) mod 1024 as two base32 characters (RFC 4648
 * alphabet, upper case) and a NUL. */
void srs_stamp_encode(unsigned long day, char out[3]);
/* The value 0-1023 of two base32 characters, any case; -1 when they are not. */
int srs_stamp_decode(const char *stamp);

#endif
