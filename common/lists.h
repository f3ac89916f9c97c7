/* lists.h: tern.conf list parameters as Postfix writes them: items separated by commas and white
 * space (inline:{...} kept whole); domain lists (!negation, .domain for subdomains, type:name
 * tables also looked up by ".parent") and lists of tables (maps) searched in order. */
#ifndef TERN_LISTS_H
#define TERN_LISTS_H
#include <stdbool.h>
#include <stddef.h>

#define LIST_SEPARATORS ", \t\r\n\f\v"
#define LIST_MAX 10000          /* items in one parameter's list */

struct domain_list;
struct table_list;

/* Lower-cases s in place (ASCII only). */
void list_lower(char *s);

/* Calls add for each item of the parameter's list (item writable; add puts the reason in its
 * err and returns -1 to stop). -1 with err as `param: reason`. */
int list_read(const char *param, int (*add)(void *arg, char *item, char *err, size_t errlen),
              void *arg, char *err, size_t errlen);

/* Reads a domain list parameter; 0, or -1 with err (`param: reason`) and *out NULL. */
int domain_list_read(const char *param, struct domain_list **out, char *err, size_t errlen);
/* Whether a lower-case domain (no final dot) is in the list: 1, 0, or -1 with err on a table
 * error. */
int domain_list_match(const struct domain_list *l, const char *domain, char *err, size_t errlen);
void domain_list_free(struct domain_list *l);

/* Reads a parameter listing type:name tables; 0, or -1 with err and *out NULL. */
int table_list_read(const char *param, struct table_list **out, char *err, size_t errlen);
/* The first table that has key: 1 with *value (if value is not NULL; valid until the next lookup
 * in that table), 0 when none has it, -1 with err on a table error before it. */
int table_list_find(const struct table_list *l, const char *key, const char **value, char *err,
                    size_t errlen);
size_t table_list_count(const struct table_list *l);     /* the number of tables; 0 for NULL */
/* Whether every table sees changes by itself (hash:/btree: reopen a rebuilt file at the next
 * lookup; static:, inline:, unix: are live), so the list may stay open; false when one is
 * read once at open (texthash:). */
bool table_list_live(const struct table_list *l);
/* Makes each table look at its file at its next lookup (dict_recheck). */
void table_list_recheck(struct table_list *l);
void table_list_free(struct table_list *l);

#endif
