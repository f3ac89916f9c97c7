/* dict_db.c: hash: and btree: tables, Berkeley DB 5.3 files /path.db built from the text file
 * /path. Reads files written by Postfix's postmap/postalias (keys and values with or without a
 * trailing NUL), notices a rebuild (rename over /path.db) so long-running daemons see it, and
 * lists every entry with a cursor (ternmap -s). */
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "dict_impl.h"
#include "log.h"
#include "mem.h"
#include "safefile.h"

struct dict_db {
    struct dict base;
    char *path;            /* /path.db */
    bool btree;
    DB *db;                /* NULL after a failed reopen: lookups fail until it opens again */
    struct stat id;        /* the file db has open, to tell when /path.db was replaced */
    time_t checked;        /* monotonic second of the last look at /path.db */
    bool try_nul, try_plain;  /* key forms worth trying; the first hit settles it, as in Postfix */
    struct buf value;
    char reopen_err[ERR_TEXT_MAX];
};

/* Berkeley DB explains failures (say, a file of the wrong type) only through this callback. */
static _Thread_local char db_message[256];

static void db_capture(const DB_ENV *env, const char *prefix, const char *msg)
{
    snprintf(db_message, sizeof db_message, "%s", msg);
}

static void db_reason(char *out, size_t size, int ret)
{
    if (db_message[0])
        snprintf(out, size, "%s (%s)", db_strerror(ret), db_message);
    else
        snprintf(out, size, "%s", db_strerror(ret));
    db_message[0] = '\0';
}

/* Opens path as a Berkeley DB of the given type. Returns 0 or a DB error, with reason set. */
static int db_open_file(const char *path, bool btree, u_int32_t flags, int mode, DB **out,
                        char *reason, size_t size)
{
    DB *db;
    db_message[0] = '\0';
    int ret = db_create(&db, NULL, 0);
    if (ret == 0) {
        db->set_errcall(db, db_capture);
        ret = db->open(db, NULL, path, NULL, btree ? DB_BTREE : DB_HASH, flags, mode);
        if (ret != 0)
            db->close(db, 0);
    }
    if (ret != 0) {
        db_reason(reason, size, ret);
        return ret;
    }
    *out = db;
    return 0;
}

/* ---- reading ---- */

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size
        && a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static time_t now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* Opens x->path afresh; the identity comes from the open descriptor, not a separate stat, so a
 * rename between the two cannot pair the old file's identity with the new file's data. */
static int db_reopen(struct dict_db *x, char *err, size_t errlen)
{
    char reason[ERR_TEXT_MAX];
    DB *db;
    int fd;
    struct stat st;
    if (db_open_file(x->path, x->btree, DB_RDONLY, 0, &db, reason, sizeof reason) != 0) {
        snprintf(err, errlen, "%s: cannot open %s: %s", x->base.spec, x->path, reason);
    } else if (db->fd(db, &fd) != 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: cannot stat %s: %s", x->base.spec, x->path, strerror(errno));
        db->close(db, 0);
    } else {
        if (x->db)
            x->db->close(x->db, 0);
        x->db = db;
        x->id = st;
        x->try_nul = x->try_plain = true;
        return 0;
    }
    if (x->db)
        x->db->close(x->db, 0);
    x->db = NULL;
    snprintf(x->reopen_err, sizeof x->reopen_err, "%s", err);
    return -1;
}

/* A cheap stat at most once a second, so each lookup does not cost a system call. */
static int db_check_fresh(struct dict_db *x, char *err, size_t errlen)
{
    time_t now = now_sec();
    if (now == x->checked) {
        if (x->db)
            return 0;
        snprintf(err, errlen, "%s", x->reopen_err);
        return -1;
    }
    x->checked = now;
    struct stat st;
    int r = stat(x->path, &st);
    if (x->db && r == 0 && same_file(&st, &x->id))
        return 0;
    /* a table opened before privileges were dropped may sit where this process can no longer
     * look: keep the open handle then (a rebuild shows after a restart or `tern reload`) */
    if (x->db && r < 0 && (errno == EACCES || errno == EPERM))
        return 0;
    /* likewise a rebuilt file this process may not read (a 0600 table of root's): the open
     * handle stays until a restart or `tern reload` opens it as root again */
    if (x->db && r == 0 && access(x->path, R_OK) < 0 && (errno == EACCES || errno == EPERM)) {
        x->id = st;
        return 0;
    }
    return db_reopen(x, err, errlen);
}

/* One get with the key n bytes long (with or without its NUL). Returns 1, 0 or -1 like lookup. */
static int db_get(struct dict_db *x, const char *key, size_t n, const char **value, char *err,
                  size_t errlen)
{
    DBT k = { .data = (void *)key, .size = (u_int32_t)n }, v = { .data = NULL };
    db_message[0] = '\0';
    int ret = x->db->get(x->db, NULL, &k, &v, 0);
    if (ret == DB_NOTFOUND)
        return 0;
    if (ret != 0) {
        char reason[ERR_TEXT_MAX];
        db_reason(reason, sizeof reason, ret);
        snprintf(err, errlen, "%s: cannot read %s: %s", x->base.spec, x->path, reason);
        return -1;
    }
    size_t len = v.size;
    if (len > 0 && ((const char *)v.data)[len - 1] == '\0')
        len--;
    buf_reset(&x->value);
    if (buf_append(&x->value, v.data, len) < 0) {
        snprintf(err, errlen, "%s: value of \"%s\" is longer than %d bytes", x->base.spec, key,
                  DICT_VALUE_MAX);
        return -1;
    }
    *value = x->value.data;
    return 1;
}

static int db_lookup(struct dict *d, const char *key, const char **value, char *err, size_t errlen)
{
    struct dict_db *x = (struct dict_db *)d;
    if (db_check_fresh(x, err, errlen) < 0)
        return -1;
    size_t n = strlen(key);
    int rc = 0;
    if (x->try_nul) {
        rc = db_get(x, key, n + 1, value, err, errlen);
        if (rc == 1)
            x->try_plain = false;
        if (rc != 0)
            return rc;
    }
    if (x->try_plain && n > 0) {
        rc = db_get(x, key, n, value, err, errlen);
        if (rc == 1)
            x->try_nul = false;
    }
    return rc;
}

/* A stored key or value, without its trailing NUL when it has one, into out. */
static int stored_copy(struct buf *out, const DBT *v)
{
    size_t len = v->size;
    if (len > 0 && ((const char *)v->data)[len - 1] == '\0')
        len--;
    buf_reset(out);
    return buf_append(out, v->data, len);
}

/* cb must not use d: a lookup may reopen the file under the cursor. */
static int db_walk(struct dict *d, int (*cb)(const char *key, const char *value, void *arg),
                   void *arg, char *err, size_t errlen)
{
    struct dict_db *x = (struct dict_db *)d;
    if (db_check_fresh(x, err, errlen) < 0)
        return -1;
    DBC *cursor;
    char reason[ERR_TEXT_MAX];
    db_message[0] = '\0';
    int ret = x->db->cursor(x->db, NULL, &cursor, 0);
    if (ret != 0) {
        db_reason(reason, sizeof reason, ret);
        snprintf(err, errlen, "%s: cannot read %s: %s", x->base.spec, x->path, reason);
        return -1;
    }
    struct buf key, value;
    buf_init(&key, DICT_LINE_MAX);
    buf_init(&value, DICT_VALUE_MAX);
    DBT k = { .data = NULL }, v = { .data = NULL };
    int rc = 0;
    while (rc == 0 && (ret = cursor->get(cursor, &k, &v, DB_NEXT)) == 0) {
        if (stored_copy(&key, &k) < 0) {
            snprintf(err, errlen, "%s: %s has a key longer than %d bytes", x->base.spec, x->path,
                      DICT_LINE_MAX);
            rc = -1;
        } else if (stored_copy(&value, &v) < 0) {
            snprintf(err, errlen, "%s: %s has a value longer than %d bytes", x->base.spec, x->path,
                      DICT_VALUE_MAX);
            rc = -1;
        } else {
            rc = cb(key.data, value.data, arg);
        }
    }
    if (rc == 0 && ret != DB_NOTFOUND) {
        db_reason(reason, sizeof reason, ret);
        snprintf(err, errlen, "%s: cannot read %s: %s", x->base.spec, x->path, reason);
        rc = -1;
    }
    cursor->close(cursor);
    buf_free(&key);
    buf_free(&value);
    return rc;
}

static void db_release(struct dict *d)
{
    struct dict_db *x = (struct dict_db *)d;
    if (x->db)
        x->db->close(x->db, 0);
    free(x->path);
    buf_free(&x->value);
}

static void db_recheck(struct dict *d)
{
    ((struct dict_db *)d)->checked = (time_t)-1;   /* not a second now_sec() gives */
}

struct dict *dict_db_open(const char *spec, const char *path, bool btree, char *err, size_t errlen)
{
    struct dict_db *x = xcalloc(1, sizeof *x);
    dict_base_init(&x->base, spec, db_lookup, db_release);
    x->base.walk = db_walk;
    x->base.recheck = db_recheck;
    struct buf p;
    buf_init(&p, BUF_UNBOUNDED);
    buf_printf(&p, "%s.db", path);
    x->path = buf_steal(&p);
    x->btree = btree;
    buf_init(&x->value, DICT_VALUE_MAX);
    x->checked = now_sec();
    if (db_reopen(x, err, errlen) < 0) {
        dict_close(&x->base);
        return NULL;
    }
    return &x->base;
}

/* ---- building ---- */

struct build {
    DB *db;
    const char *spec, *src, *tmp;
    mode_t mode;                  /* of the new file */
    struct buf key;
    long count;
    enum dict_build_error *why;   /* set with err on each failure */
    char *err;
    size_t errlen;
};

/* Keys and values go in with their NUL, as Postfix writes them on Linux. */
static int build_put(struct build *b, const char *key, const char *value)
{
    DBT k = { .data = (void *)key, .size = (u_int32_t)strlen(key) + 1 };
    DBT v = { .data = (void *)value, .size = (u_int32_t)strlen(value) + 1 };
    db_message[0] = '\0';
    int ret = b->db->put(b->db, NULL, &k, &v, DB_NOOVERWRITE);
    if (ret != 0 && ret != DB_KEYEXIST) {
        char reason[ERR_TEXT_MAX];
        db_reason(reason, sizeof reason, ret);
        snprintf(b->err, b->errlen, "%s: cannot write %s: %s", b->spec, b->tmp, reason);
        *b->why = DICT_BUILD_ERR_WRITE;
        return -1;
    }
    return ret == DB_KEYEXIST ? 0 : 1;
}

static int build_entry(const char *key, const char *value, long line, void *arg)
{
    struct build *b = arg;
    buf_set(&b->key, key);   /* the parser bounds keys to a line */
    dict_fold(b->key.data);
    int rc = build_put(b, b->key.data, value);
    if (rc == 0)   /* the first entry wins, as with postmap */
        log_warn("%s:%ld: duplicate entry \"%s\" ignored", b->src, line, b->key.data);
    if (rc > 0)
        b->count++;
    return rc < 0 ? -1 : 0;
}

/* Puts the source's entries into b->db (created at b->tmp). Returns 0 or -1 with err. */
static int build_fill(struct build *b, const struct buf *text, enum dict_format format)
{
    *b->why = DICT_BUILD_ERR_SOURCE;   /* build_put says when it was the writing */
    if (dict_parse_lines(b->src, text->data, text->len, format, build_entry, b, b->err,
                         b->errlen) < 0)
        return -1;
    /* Sendmail-style readers take "@" as the sign that the alias database is complete. */
    if (format == DICT_FORMAT_ALIAS && build_put(b, "@", "@") < 0)
        return -1;
    int ret = b->db->sync(b->db, 0);
    if (ret != 0) {
        char reason[ERR_TEXT_MAX];
        db_reason(reason, sizeof reason, ret);
        snprintf(b->err, b->errlen, "%s: cannot write %s: %s", b->spec, b->tmp, reason);
        *b->why = DICT_BUILD_ERR_WRITE;
        return -1;
    }
    return 0;
}

/* DB->sync only promises the cache was written out; our own fsync puts the data on disk before
 * the rename publishes it, and the directory fsync makes the rename itself durable. */
static int build_commit(struct build *b, const char *dbpath)
{
    int fd = open(b->tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        snprintf(b->err, b->errlen, "%s: cannot fsync %s: %s", b->spec, b->tmp, strerror(errno));
        *b->why = DICT_BUILD_ERR_WRITE;
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    if (rename(b->tmp, dbpath) < 0) {
        snprintf(b->err, b->errlen, "%s: cannot rename %s to %s: %s", b->spec, b->tmp, dbpath,
                  strerror(errno));
        *b->why = DICT_BUILD_ERR_CREATE;
        return -1;
    }
    if (fsync_parent(dbpath) < 0) {
        snprintf(b->err, b->errlen, "%s: cannot fsync the directory of %s: %s", b->spec, dbpath,
                  strerror(errno));
        *b->why = DICT_BUILD_ERR_WRITE;
        return -1;
    }
    return 0;
}

/* Creates and fills tmp, then moves it over dbpath. The caller removes tmp on failure. */
static int build_file(struct build *b, bool btree, const struct buf *text,
                      enum dict_format format, const char *dbpath)
{
    char reason[ERR_TEXT_MAX];
    /* Only this process can have made a file with its pid in the name: a leftover of a crash.
     * DB_EXCL then keeps anyone from slipping a symlink in its place. */
    unlink(b->tmp);
    if (db_open_file(b->tmp, btree, DB_CREATE | DB_EXCL, b->mode, &b->db, reason,
                     sizeof reason) != 0) {
        snprintf(b->err, b->errlen, "%s: cannot create %s: %s", b->spec, b->tmp, reason);
        *b->why = DICT_BUILD_ERR_CREATE;
        return -1;
    }
    /* the exact mode, whatever the umask: the source decides who may read the table */
    int fd;
    if (b->db->fd(b->db, &fd) != 0 || fchmod(fd, b->mode) < 0) {
        snprintf(b->err, b->errlen, "%s: cannot set the mode of %s: %s", b->spec, b->tmp,
                 strerror(errno));
        *b->why = DICT_BUILD_ERR_CREATE;
        b->db->close(b->db, 0);
        b->db = NULL;
        return -1;
    }
    int rc = build_fill(b, text, format);
    int ret = b->db->close(b->db, 0);
    b->db = NULL;
    if (rc == 0 && ret != 0) {
        db_reason(reason, sizeof reason, ret);
        snprintf(b->err, b->errlen, "%s: cannot write %s: %s", b->spec, b->tmp, reason);
        *b->why = DICT_BUILD_ERR_WRITE;
        rc = -1;
    }
    return rc == 0 ? build_commit(b, dbpath) : -1;
}

/* Reads the source; its permissions give the new file's: read and write for the owner, read
 * for group and others where the source has it (as Postfix's postmap does). */
static int build_read_source(const char *spec, const char *path, struct buf *text,
                             mode_t *mode, enum dict_build_error *why, char *err, size_t errlen)
{
    struct stat st;
    if (safe_read_file(path, DICT_SOURCE_MAX, text) < 0 || stat(path, &st) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot read %s: %s", spec, path, dict_read_reason(path, e));
        *why = e == EFBIG ? DICT_BUILD_ERR_SOURCE : DICT_BUILD_ERR_READ;
        return -1;
    }
    *mode = 0600 | (st.st_mode & 0044);
    return 0;
}

/* Counts the entries taken from the source: not the duplicates skipped, nor the "@" entry. */
long dict_db_build(const char *spec, const char *path, bool btree, enum dict_format format,
                   enum dict_build_error *why, char *err, size_t errlen)
{
    struct buf text;
    mode_t mode;
    buf_init(&text, DICT_SOURCE_MAX);
    if (build_read_source(spec, path, &text, &mode, why, err, errlen) < 0) {
        buf_free(&text);
        return -1;
    }
    struct buf dbpath, tmp;
    buf_init(&dbpath, BUF_UNBOUNDED);
    buf_init(&tmp, BUF_UNBOUNDED);
    buf_printf(&dbpath, "%s.db", path);
    buf_printf(&tmp, "%s.db.tmp.%ld", path, (long)getpid());
    struct build b = { NULL, spec, path, tmp.data, mode, { 0 }, 0, why, err, errlen };
    buf_init(&b.key, DICT_LINE_MAX);
    int rc = build_file(&b, btree, &text, format, dbpath.data);
    if (rc < 0)
        unlink(tmp.data);
    buf_free(&b.key);
    buf_free(&tmp);
    buf_free(&dbpath);
    buf_free(&text);
    return rc < 0 ? -1 : b.count;
}
