/* spf_macro.h: SPF macro strings (RFC 7208 section 7): their syntax, and their expansion with
 * the values of one check. Pure functions over buffers, used by the record parser (syntax) and
 * the evaluator (expansion). */
#ifndef TERN_SPF_MACRO_H
#define TERN_SPF_MACRO_H
#include <stdbool.h>
#include <stddef.h>

/* Where a macro string is: a domain-spec (or an unknown modifier's value), where c, r and t
 * are not allowed and neither are spaces; or an explanation string (the TXT record exp=
 * names), where they are. */
enum spf_macro_use { SPF_MACRO_DOMAIN, SPF_MACRO_EXPLANATION };

#define SPF_MACRO_OUT_MAX 4096   /* the longest expansion (a domain is cut to 253 after) */

/* The values of the macro letters (7.2), each a NUL-terminated string: s sender, l its local
 * part, o its domain, d the current domain, i the address in dotted form (IPv6: 32 nibbles),
 * p the validated name of the address ("unknown"), v "in-addr" or "ip6", h the HELO name,
 * c the address in readable form, r the receiving host, t the time in seconds. */
struct spf_macro_values {
    const char *s, *l, *o, *d, *i, *p, *v, *h, *c, *r, *t;
};

/* Checks s[0..len) as a macro string of use. 0, or -1 with the reason in err. With ends_in
 * _macro (may be NULL): whether its last part is a macro-expand ("%{...}", "%%", "%_", "%-"),
 * which a domain-spec may end with instead of a top label. */
int spf_macro_check(const char *s, size_t len, enum spf_macro_use use, bool *ends_in_macro,
                    char *err, size_t errlen);
/* Whether s[0..len) uses the p macro (so the caller must first find the validated name). */
bool spf_macro_uses_p(const char *s, size_t len);
/* Expands s[0..len) with v into out[0..size) (NUL-terminated): transformers (keep the
 * rightmost N parts, r: reverse), delimiters (split on them, join with "."), upper-case letters
 * URL-escaped (RFC 3986 unreserved characters kept). 0, or -1 with the reason in err when s is
 * malformed or the expansion does not fit. */
int spf_macro_expand(const char *s, size_t len, enum spf_macro_use use,
                     const struct spf_macro_values *v, char *out, size_t size, char *err,
                     size_t errlen);
/* A name from an expansion made to fit DNS (4.8): one final dot dropped, then whole labels
 * taken off the left while it is longer than 253 characters. In place. */
void spf_macro_fit_name(char *name);

#endif
