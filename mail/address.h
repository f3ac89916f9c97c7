/* address.h: an email address taken apart the one way every program looks it up in a table:
 * local part and domain, the local part unquoted and both in lower case, the address extension
 * (user+ext with recipient_delimiter), the table keys in Postfix's order, and the address
 * written back with quotes only where RFC 5321 needs them. Pure: no I/O, bounded outputs. */
#ifndef TERN_MAIL_ADDRESS_H
#define TERN_MAIL_ADDRESS_H
#include <stddef.h>

#define ADDRESS_MAX 512                    /* an address, NUL included (DELIVERY_ADDR_MAX) */
#define ADDRESS_KEY_MAX (2 * ADDRESS_MAX)  /* a table key: local part, '@', domain, NUL */
#define ADDRESS_KEYS_MAX 3                 /* keys one address is looked up by */

/* An address as tables are keyed by (Postfix's internal form): "a b"@X.Example. is the local
 * part `a b` in the domain `x.example`. */
struct mail_address {
    char local[ADDRESS_MAX];    /* unquoted, ASCII lower case, with its extension */
    char domain[ADDRESS_MAX];   /* ASCII lower case, without final dots; "" when none */
};

/* The '@' that starts address's domain: the last one outside a quoted string (in
 * "a@b"@x.example the second), or NULL when there is none. */
const char *address_at(const char *address);

/* Splits address at address_at. A local part that is one quoted string is unquoted (its
 * backslash escapes removed); any other is taken as written. Bytes of 0x80 and above are kept
 * as they are. Parts may be empty ("@x", "x@", ""): the caller decides what it accepts.
 * 0, or -1 when address is ADDRESS_MAX bytes or longer. */
int address_split(const char *address, struct mail_address *out);

/* The delimiter that starts local's extension, or NULL when it has none: the first byte of
 * local after its first that is one of delims (recipient_delimiter: each byte is one, "" for
 * none), so that "+x" stays whole and "a-b+c" with "+-" is a with the extension b+c. With '-'
 * among delims, owner-NAME and NAME-request (mailing list names) have no extension. */
const char *address_extension(const char *local, const char *delims);

/* The address as tables are keyed by: "local@domain", or the local part alone when there is
 * no domain. */
void address_key(const struct mail_address *a, char key[ADDRESS_KEY_MAX]);

/* Which keys address_lookup_keys makes. */
enum address_keys {
    ADDRESS_KEYS_ADDRESS,   /* virtual(5) (virtual_alias_maps, virtual_mailbox_maps, relay
                             * recipients): user+ext@domain, user@domain, @domain; without a
                             * domain the local part alone */
    ADDRESS_KEYS_LOCAL,     /* aliases(5), local recipients: user+ext, then user */
};

/* The keys to look a up by, most specific first, into keys; returns how many (1 to
 * ADDRESS_KEYS_MAX). The user@domain and user keys come only when address_extension finds an
 * extension; @domain only when the local part is not empty (else it is the first key). */
int address_lookup_keys(const struct mail_address *a, const char *delims,
                        enum address_keys which, char keys[ADDRESS_KEYS_MAX][ADDRESS_KEY_MAX]);

/* Writes a as RFC 5321 wants it into out[size]: the local part as is when it is a dot-string
 * (atoms of letters, digits, 8-bit bytes and !#$%&'*+-/=?^_`{|}~ joined by single dots), else
 * quoted, with '"' and '\' escaped; then "@domain" when there is a domain. For an a from
 * address_split, address_split of out gives a back. 0, or -1 when it does not fit (out is
 * then "" when size > 0). */
int address_join(const struct mail_address *a, char *out, size_t size);

#endif
