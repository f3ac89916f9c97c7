/* ternpasswd.c: the `ternpasswd` command: reads one password line from standard input and
 * prints its argon2id hash (libsodium's crypto_pwhash_str) for the smtpd_sasl_users table;
 * `ternpasswd -c HASH` instead tells by its exit status whether the password matches HASH. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>
#include "log.h"

#define PASSWORD_MAX 1024   /* bytes, without the newline */

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: ternpasswd < password\n"
                    "       ternpasswd -c hash < password\n");
    exit(EX_USAGE);
}

/* One byte of standard input, read without stdio so no copy of the password stays in a
 * buffer we cannot wipe. 1 read, 0 end of input, -1 error. */
static int read_byte(char *c)
{
    for (;;) {
        ssize_t n = read(STDIN_FILENO, c, 1);
        if (n >= 0)
            return (int)n;
        if (errno != EINTR)
            return -1;
    }
}

/* Reads up to the newline; returns EX_OK with the password NUL-terminated in pw, or a status. */
static int read_line(char pw[PASSWORD_MAX + 1], size_t *len)
{
    size_t n = 0;
    char c;
    int r;
    while ((r = read_byte(&c)) == 1 && c != '\n') {
        if (n == PASSWORD_MAX) {
            log_error("the password is longer than %d bytes", PASSWORD_MAX);
            return EX_DATAERR;
        }
        pw[n++] = c;
    }
    pw[n] = '\0';
    *len = n;
    if (r < 0) {
        log_error("cannot read standard input: %s", strerror(errno));
        return EX_NOINPUT;
    }
    if (n == 0) {
        log_error("no password on standard input");
        return EX_NOINPUT;
    }
    if (strlen(pw) != n) {
        log_error("the password contains a NUL byte");
        return EX_DATAERR;
    }
    return EX_OK;
}

/* On a terminal the password is typed: prompt on stderr and do not echo it. */
static int read_password(char pw[PASSWORD_MAX + 1], size_t *len)
{
    struct termios saved, quiet;
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
        return read_line(pw, len);
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    fputs("Password: ", stderr);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    int status = read_line(pw, len);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    fputs("\n", stderr);
    return status;
}

static int print_hash(const char *pw, size_t len)
{
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        log_error("cannot compute the hash: out of memory");
        return EX_SOFTWARE;
    }
    if (printf("%s\n", hash) < 0 || fflush(stdout) == EOF) {
        log_error("cannot write the output: %s", strerror(errno));
        return EX_IOERR;
    }
    return EX_OK;
}

/* A string crypto_pwhash_str_verify can check (argon2id, or the older argon2i). */
static bool hash_valid(const char *hash)
{
    return strlen(hash) < crypto_pwhash_STRBYTES &&
           crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_MEMLIMIT_INTERACTIVE) >= 0;
}

int main(int argc, char **argv)
{
    log_init("ternpasswd");
    log_set_stderr(true);
    const char *check = NULL;
    int c;
    while ((c = getopt(argc, argv, "c:")) != -1) {
        if (c != 'c')
            usage();
        check = optarg;
    }
    if (optind != argc)
        usage();
    if (sodium_init() < 0) {
        log_error("cannot initialize libsodium");
        return EX_SOFTWARE;
    }
    if (check != NULL && !hash_valid(check)) {
        log_error("-c: not an argon2 password hash: %s", check);
        return EX_USAGE;
    }
    char pw[PASSWORD_MAX + 1];
    size_t len = 0;
    int status = read_password(pw, &len);
    if (status == EX_OK && check != NULL)
        status = crypto_pwhash_str_verify(check, pw, len) == 0 ? EX_OK : 1;
    else if (status == EX_OK)
        status = print_hash(pw, len);
    sodium_memzero(pw, sizeof pw);
    return status;
}
