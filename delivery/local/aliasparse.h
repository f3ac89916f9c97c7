/* aliasparse.h: the tokenizer of aliases(5) values, ~/.forward files and :include: files, as
 * local delivery reads them: a comma-separated list of addresses, "/file", "|command",
 * ":include:/path", "error:5.x.y text" and "\user", where a double-quoted item may hold commas
 * and white space ("|cmd a, b"). Pure (no I/O), so the unit tests feed it directly. */
#ifndef TERN_ALIASPARSE_H
#define TERN_ALIASPARSE_H
#include <stdbool.h>
#include <stddef.h>

#define ALIAS_ITEM_MAX 4096     /* bytes of one item (a command line, a path, an address) */
#define ALIAS_ITEMS_MAX 10000   /* items in one value or file */

enum alias_item_type {
    ALIAS_ADDRESS,   /* text: an address as written ("joe", "joe@example.org", "\"a b\"@x") */
    ALIAS_FILE,      /* text: an absolute path */
    ALIAS_COMMAND,   /* text: the command after '|', for /bin/sh -c */
    ALIAS_INCLUDE,   /* text: the absolute path after ":include:" */
    ALIAS_ERROR,     /* dsn: "5.1.1" (4.x.y or 5.x.y; "5.0.0" when none), text: the rest */
    ALIAS_MAILBOX,   /* text: the user name after '\': that user's own mailbox */
};

struct alias_item {
    enum alias_item_type type;
    char *text;
    char dsn[16];
};

struct alias_list {
    struct alias_item *item;
    size_t count;
};

/* Parses one value. as_file: text is a whole .forward or :include: file, where each line is a
 * list of its own and lines whose first non-blank character is '#' are comments; otherwise
 * text is one alias value (newlines count as white space). Empty items are skipped. Appends to
 * out (zeroed or filled by an earlier call). 0, or -1 with the reason in err (what is wrong and
 * the item, cut short); out then holds the items before the bad one. */
int alias_parse(const char *text, size_t len, bool as_file, struct alias_list *out, char *err,
                size_t errlen);
void alias_list_free(struct alias_list *l);

const char *alias_type_name(enum alias_item_type t);   /* "address", "file", "command", ... */

#endif
