/* dkim_signing_parse.c: the text of the signing table (dkim_signing.h), as pure functions: a
 * value's SELECTOR:KEYFILE items, the domain and selector names, where a KEYFILE is. Apart
 * from the table so that its fuzz target links it alone. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "dkim_signing.h"

/* Dot-separated labels of letters, digits, '-' and '_', each 1-63 long. */
static bool labels_ok(const char *s, size_t n)
{
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_') {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return label > 0;
}

bool dkim_signing_domain_ok(const char *name)
{
    size_t n = strlen(name);
    return n <= 253 && labels_ok(name, n);
}

bool dkim_signing_selector_ok(const char *name, size_t len)
{
    return len < DKIM_SELECTOR_MAX && labels_ok(name, len);
}

static bool separator(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int dkim_signing_parse(const char *value, size_t len,
                       struct dkim_signing_ref refs[DKIM_SIGNING_SELECTORS_MAX], size_t *count,
                       char *err, size_t errlen)
{
    *count = 0;
    for (size_t i = 0;;) {
        while (i < len && separator(value[i]))
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && !separator(value[i]))
            i++;
        const char *item = value + start, *colon = memchr(item, ':', i - start);
        size_t item_len = i - start;
        if (colon == NULL)
            return dkim_reason(err, errlen, "\"%.*s\": not SELECTOR:KEYFILE", (int)item_len,
                               item);
        size_t sel_len = (size_t)(colon - item), file_len = item_len - sel_len - 1;
        if (!dkim_signing_selector_ok(item, sel_len))
            return dkim_reason(err, errlen, "\"%.*s\": not a selector", (int)sel_len, item);
        for (const char *c = colon + 1; c < item + item_len; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return dkim_reason(err, errlen, "selector %.*s: a control character in the key "
                                   "file name", (int)sel_len, item);
        if (file_len == 0 || file_len >= DKIM_SIGNING_KEYFILE_MAX)
            return dkim_reason(err, errlen, "selector %.*s: %s key file name", (int)sel_len,
                               item, file_len ? "too long a" : "no");
        for (size_t k = 0; k < *count; k++)
            if (strlen(refs[k].selector) == sel_len &&
                strncasecmp(refs[k].selector, item, sel_len) == 0)
                return dkim_reason(err, errlen, "selector %.*s given twice", (int)sel_len, item);
        if (*count == DKIM_SIGNING_SELECTORS_MAX)
            return dkim_reason(err, errlen, "more than %d keys", DKIM_SIGNING_SELECTORS_MAX);
        struct dkim_signing_ref *r = &refs[(*count)++];
        memcpy(r->selector, item, sel_len);
        r->selector[sel_len] = '\0';
        memcpy(r->keyfile, colon + 1, file_len);
        r->keyfile[file_len] = '\0';
    }
    if (*count == 0)
        return dkim_reason(err, errlen, "no SELECTOR:KEYFILE");
    return 0;
}

int dkim_signing_path(const char *config_dir, const char *keyfile, char *out, size_t size)
{
    int n = keyfile[0] == '/' ? snprintf(out, size, "%s", keyfile)
                              : snprintf(out, size, "%s/%s", config_dir, keyfile);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}
