/* dkim_tags.h: the tag=value list of RFC 6376 section 3.2, which both a DKIM-Signature field
 * and a key record (DNS TXT) are written in. Pure, over a buffer, bounded. (Its base64 values,
 * b=, bh= and p=, with folding white space anywhere in them, are common/base64.h's.) */
#ifndef TERN_MAIL_DKIM_TAGS_H
#define TERN_MAIL_DKIM_TAGS_H
#include <stdbool.h>
#include <stddef.h>

#define DKIM_TAGS_MAX 32            /* tags in one list, unknown ones included */
#define DKIM_TAG_NAME_MAX 32        /* bytes of a tag name */
#define DKIM_TAG_LIST_MAX 16384     /* bytes of a whole list */

/* One tag-spec; offsets count from the start of the list. */
struct dkim_tag {
    size_t name, name_len;
    size_t eq;                  /* the '=' */
    size_t value, value_len;    /* the value without the white space around it */
    size_t end;                 /* the ';' after the spec, or the list's length */
};

struct dkim_tags {
    const char *p;              /* the list parsed */
    size_t n;
    struct dkim_tag tag[DKIM_TAGS_MAX];
};

/* Parses p[0..len): tag-specs separated by ';' (an empty one, e.g. a final ';', is allowed),
 * each `name = value` with white space (SP, HTAB, CR, LF) allowed around the name, the '=' and
 * the value. A name is ALPHA *(ALPHA / DIGIT / "_"); a value is bytes 0x21-0x7e but ';'
 * (0x80 and up allowed for RFC 8616), white space only inside. A name given twice, too many
 * tags, a name too long or a list longer than DKIM_TAG_LIST_MAX is an error. 0, or -1 with
 * err set. t keeps p. */
int dkim_tags_parse(const char *p, size_t len, struct dkim_tags *t, char *err, size_t errlen);

/* The tag named name (case matters: RFC 6376 3.2), or NULL. */
const struct dkim_tag *dkim_tags_find(const struct dkim_tags *t, const char *name);

/* Whether the value of tag equals s, without regard to ASCII case. */
bool dkim_tag_value_is(const struct dkim_tags *t, const struct dkim_tag *tag, const char *s);

#endif
