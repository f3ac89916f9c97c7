/* config_admin.c: ternconf's side of tern.conf (config_admin.h): the listings of -n/-d/-h and
 * the edits of -e/-X, which rewrite the file keeping its comments and order, and replace it only
 * with a text that loads. Built on what config.c lends (config_impl.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "buf.h"
#include "config_admin.h"
#include "config_impl.h"
#include "log.h"
#include "mem.h"
#include "safefile.h"

void config_print(FILE *out, const char *name, bool defaults, bool no_names, bool raw)
{
    char *v = config_value_copy(name, defaults, raw);
    if (v == NULL) {
        log_warn("%s: unknown parameter", name);
        return;
    }
    if (no_names)
        fprintf(out, "%s\n", v);
    else
        fprintf(out, "%s = %s\n", name, v);
    free(v);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void config_print_all(FILE *out, bool defaults, bool explicit_only, bool no_names, bool raw)
{
    size_t table_size = 0;
    while (param_table[table_size].name)
        table_size++;
    const char **names = xcalloc(table_size + config_set_count(), sizeof *names);
    size_t n = 0;
    for (size_t i = 0; i < table_size; i++)
        names[n++] = param_table[i].name;
    if (!defaults)
        n = config_user_names(names, n);
    qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n; i++) {
        bool explicit_setting;
        config_raw(names[i], &explicit_setting);
        if (defaults || !explicit_only || explicit_setting)
            config_print(out, names[i], defaults, no_names, raw);
    }
    free(names);
}

/* ---- edits (ternconf -e / -X) ---- */

enum line_kind { LINE_SKIPPED, LINE_CONTINUATION, LINE_DEFINITION, LINE_OTHER };

/* Classifies a line as the parser sees it; *name is set (malloc'd) for a definition. */
static enum line_kind classify(const char *p, size_t n, char **name)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)p[i]))
        i++;
    if (i == n || p[i] == '#')
        return LINE_SKIPPED;
    if (i > 0)
        return LINE_CONTINUATION;
    const char *eq = memchr(p, '=', n);
    if (eq == NULL)
        return LINE_OTHER;
    const char *ne = eq;
    while (ne > p && isspace((unsigned char)ne[-1]))
        ne--;
    *name = xstrndup(p, (size_t)(ne - p));
    return LINE_DEFINITION;
}

/* Copies text to out without the definitions of name and their continuation lines (comment
 * lines among them stay); the first is replaced by `line` when it is not NULL, which is
 * otherwise appended at the end. Later duplicates go, so the new value is the one that wins. */
static void rewrite(const char *text, size_t len, const char *name, const char *line,
                    struct buf *out)
{
    bool dropping = false, placed = false;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t whole = n + (nl != NULL);
        char *defined = NULL;
        enum line_kind kind = classify(p, n, &defined);
        if (kind == LINE_DEFINITION)
            dropping = strcmp(defined, name) == 0;
        else if (kind == LINE_OTHER)
            dropping = false;
        if (dropping && kind == LINE_DEFINITION && line && !placed) {
            buf_printf(out, "%s\n", line);
            placed = true;
        }
        if (!dropping || kind == LINE_SKIPPED)
            buf_append(out, p, whole);
        free(defined);
        p += whole;
    }
    if (line && !placed) {
        if (out->len > 0 && out->data[out->len - 1] != '\n')
            buf_putc(out, '\n');
        buf_printf(out, "%s\n", line);
    }
}

/* Configuration errors set errno to EINVAL so ternconf can tell them from I/O errors. */
static int edit_refused(void)
{
    errno = EINVAL;
    return -1;
}

static int write_edited(const char *path, const char *text, size_t len, const struct buf *out,
                        char *err, size_t errlen)
{
    if (out->len == len && memcmp(out->data, text, len) == 0)
        return 0;
    struct stat st;
    mode_t mode = stat(path, &st) == 0 ? st.st_mode & 07777 : 0644;
    if (safe_write_file(path, out->data, out->len, mode) < 0) {
        int e = errno;
        snprintf(err, errlen, "%.256s: cannot write: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    return 0;
}

/* The edited text must load (syntax and types, without overrides) before it replaces the
 * file, so ternconf never writes a configuration that tern would refuse. */
static int edit(const char *dir, const char *name, const char *line, char *err, size_t errlen)
{
    char *path = config_path(dir);
    struct buf text, out;
    buf_init(&text, CONFIG_FILE_MAX);
    buf_init(&out, 2 * CONFIG_FILE_MAX);
    int r = config_read_file(path, &text, err, errlen);
    if (r == 0) {
        rewrite(buf_str(&text), text.len, name, line, &out);
        if (out.len > CONFIG_FILE_MAX) {
            snprintf(err, errlen, "%.256s: file would be larger than %d bytes", path,
                     CONFIG_FILE_MAX);
            r = edit_refused();
        } else if (config_check_text(path, dir, buf_str(&out), out.len, err, errlen) < 0)
            r = edit_refused();
        else
            r = write_edited(path, buf_str(&text), text.len, &out, err, errlen);
    }
    buf_free(&text);
    buf_free(&out);
    free(path);
    return r;
}

int config_edit_set(const char *dir, const char *assignment, char *err, size_t errlen)
{
    char *name, *value;
    if (config_split_assignment(assignment, strlen(assignment), &name, &value, err,
                                errlen) < 0)
        return edit_refused();
    int r;
    if (strpbrk(value, "\r\n")) {
        snprintf(err, errlen, "the value of %s must be a single line", name);
        r = edit_refused();
    } else if (strcmp(name, "config_directory") == 0) {
        snprintf(err, errlen, "config_directory is set at run time, not in %s",
                 CONFIG_FILE);
        r = edit_refused();
    } else {
        if (!param_find(name)) {
            char *path = config_path(dir);
            log_warn("%s: unknown parameter \"%s\"", path, name);
            free(path);
        }
        struct buf line;
        buf_init(&line, BUF_UNBOUNDED);
        buf_printf(&line, "%s =%s%s", name, *value ? " " : "", value);
        r = edit(dir, name, buf_str(&line), err, errlen);
        buf_free(&line);
    }
    free(name);
    free(value);
    return r;
}

int config_edit_remove(const char *dir, const char *name, char *err, size_t errlen)
{
    if (!config_valid_name(name, strlen(name))) {
        snprintf(err, errlen, "bad parameter name \"%.60s\" (use letters, digits and _)",
                 name);
        return edit_refused();
    }
    return edit(dir, name, NULL, err, errlen);
}
