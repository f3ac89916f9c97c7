/* replay.c: a main() for the fuzz targets when clang's libFuzzer is not available: feeds each
 * file named on the command line, or each regular file in a named directory, to
 * LLVMFuzzerTestOneInput once (in an exact-size heap buffer), so the seed corpus still runs. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fuzz_check.h"

/* Reads a whole file into a malloc'd buffer of exactly its size; -1 on error. */
static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL)
                free(buf);
            buf = bigger;
        }
    }
    int bad = ferror(f) || buf == NULL;
    fclose(f);
    if (bad) {
        free(buf);
        return -1;
    }
    *data = malloc(len ? len : 1);
    if (*data == NULL) {
        free(buf);
        return -1;
    }
    memcpy(*data, buf, len);
    free(buf);
    *size = len;
    return 0;
}

static int run_file(const char *path)
{
    uint8_t *data;
    size_t size;
    if (read_file(path, &data, &size) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno ? errno : EIO));
        return -1;
    }
    fprintf(stderr, "replay: input %s\n", path);     /* unbuffered: names a crashing input */
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

/* Runs every regular file of dir; returns the count, or -1 on error. */
static long run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    long count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            stat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (run_file(path) < 0) {
            count = -1;
            break;
        }
        count++;
    }
    closedir(d);
    return count;
}

int main(int argc, char **argv)
{
    long total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n;
        if (stat(argv[i], &st) < 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) < 0 ? -1 : 1;
        if (n < 0)
            return 1;
        total += n;
    }
    printf("replay: %ld inputs run\n", total);
    return 0;
}
