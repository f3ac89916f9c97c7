/* dkimtool.c: the DKIM library (mail/dkim_*.c) as a command, for the integration test that
 * holds it against dkimpy (tests/integration/test_dkim_lib.py), with the key record given on
 * the command line instead of fetched from DNS.
 *   dkimtool sign KEYFILE DOMAIN SELECTOR [TIME] < msg > signed   (prepends DKIM-Signature)
 *   dkimtool verify KEYRECORD [NOW] < signed    (one line per signature: RESULT (REASON))
 *   dkimtool record KEYFILE                     (the key record to publish) */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "dkim_canon.h"
#include "dkim_key.h"
#include "dkim_sign.h"
#include "dkim_sig.h"
#include "dkim_verify.h"
#include "errtext.h"
#include "header_scanner.h"

#define MESSAGE_MAX (16 * 1024 * 1024)
#define SIGS_MAX 8

static void die(const char *what)
{
    fprintf(stderr, "dkimtool: %s\n", what);
    exit(2);
}

static void read_stdin(struct buf *msg)
{
    char chunk[65536];
    ssize_t n;
    while ((n = read(0, chunk, sizeof chunk)) > 0)
        if (buf_append(msg, chunk, (size_t)n) < 0)
            die("message too large");
    if (n < 0)
        die("cannot read the message");
}

/* Where the header block ends and the body starts. */
static void split(const struct buf *msg, size_t *header_len, size_t *body)
{
    struct header_fields it;
    struct header_field f;
    header_fields_init(&it, msg->data, msg->len);
    while (header_fields_next(&it, &f))
        ;
    *header_len = it.scan.end;
    *body = it.scan.body;
}

static int sign(char **argv, int argc, const struct buf *msg)
{
    char err[ERR_TEXT_MAX];
    EVP_PKEY *key = dkim_key_private_file(argv[0], err, sizeof err);
    if (key == NULL)
        die(err);
    size_t hlen, body;
    split(msg, &hlen, &body);
    struct dkim_body_hash bh;
    dkim_body_hash_init(&bh, DKIM_CANON_RELAXED, DKIM_HASH_SHA256, false, 0);
    dkim_body_hash_feed(&bh, msg->data + body, msg->len - body);
    dkim_body_hash_final(&bh);
    struct dkim_sign_params p = { argv[1], argv[2], key,
                                  argc > 3 ? atoll(argv[3]) : (long long)time(NULL), NULL };
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    if (dkim_sign(&p, msg->data, hlen, bh.digest, bh.digest_len, &out, err, sizeof err) < 0)
        die(err);
    fwrite(out.data, 1, out.len, stdout);
    fwrite(msg->data, 1, msg->len, stdout);
    buf_free(&out);
    dkim_body_hash_free(&bh);
    EVP_PKEY_free(key);
    return 0;
}

/* Each signature parsed (results[i] stays DKIM_PASS while it is fit to check); the body is
 * hashed once per kind the usable ones need, then each is verified. */
static int verify(char **argv, int argc, const struct buf *msg)
{
    static struct dkim_signature sigs[SIGS_MAX];
    struct header_field fields[SIGS_MAX];
    enum dkim_result results[SIGS_MAX];
    char reasons[SIGS_MAX][ERR_TEXT_MAX];
    long long now = argc > 1 ? atoll(argv[1]) : (long long)time(NULL);
    size_t n = 0, hlen, body;
    split(msg, &hlen, &body);

    struct header_fields it;
    struct header_field f;
    header_fields_init(&it, msg->data, hlen);
    while (header_fields_next(&it, &f) && n < SIGS_MAX) {
        if (f.name_len != 14 || strncasecmp(msg->data + f.start, "dkim-signature", 14) != 0)
            continue;
        fields[n] = f;
        results[n] = DKIM_PASS;
        reasons[n][0] = '\0';
        dkim_sig_parse(msg->data + f.value, f.end - f.value, now, &sigs[n], &results[n],
                       reasons[n], sizeof reasons[n]);
        n++;
    }
    struct dkim_body_kind kinds[SIGS_MAX];
    struct dkim_body_hash hashes[SIGS_MAX];
    size_t which[SIGS_MAX];
    size_t nkinds = dkim_body_kinds(sigs, n, kinds, which);
    for (size_t k = 0; k < nkinds; k++) {
        dkim_body_hash_init(&hashes[k], kinds[k].canon, kinds[k].hash, kinds[k].has_limit,
                            kinds[k].limit);
        dkim_body_hash_feed(&hashes[k], msg->data + body, msg->len - body);
        dkim_body_hash_final(&hashes[k]);
    }
    for (size_t i = 0; i < n; i++) {
        struct dkim_key key;
        if (results[i] == DKIM_PASS &&
            dkim_key_parse(argv[0], strlen(argv[0]), &key, &results[i], reasons[i],
                           sizeof reasons[i]) == 0) {
            results[i] = dkim_verify(&sigs[i], msg->data, hlen, msg->data + fields[i].start,
                                     fields[i].end - fields[i].start,
                                     which[i] == DKIM_BODY_NONE ? NULL : &hashes[which[i]],
                                     &key, reasons[i], sizeof reasons[i]);
            dkim_key_free(&key);
        }
        printf("%s (%s)\n", dkim_result_word(results[i]), reasons[i]);
    }
    for (size_t k = 0; k < nkinds; k++)
        dkim_body_hash_free(&hashes[k]);
    return 0;
}

static int record(const char *keyfile)
{
    char err[ERR_TEXT_MAX];
    EVP_PKEY *key = dkim_key_private_file(keyfile, err, sizeof err);
    if (key == NULL)
        die(err);
    struct buf out;
    buf_init(&out, DKIM_KEY_RECORD_MAX);
    if (dkim_key_record(key, &out) < 0)
        die("cannot write the record");
    printf("%s\n", out.data);
    buf_free(&out);
    EVP_PKEY_free(key);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "record") == 0)
        return record(argv[2]);
    bool signing = argc >= 5 && argc <= 6 && strcmp(argv[1], "sign") == 0;
    if (!signing && !(argc >= 3 && argc <= 4 && strcmp(argv[1], "verify") == 0)) {
        fprintf(stderr, "usage: dkimtool sign KEYFILE DOMAIN SELECTOR [TIME] < msg\n"
                        "       dkimtool verify KEYRECORD [NOW] < msg\n"
                        "       dkimtool record KEYFILE\n");
        return 2;
    }
    struct buf msg;
    buf_init(&msg, MESSAGE_MAX);
    read_stdin(&msg);
    int rc = signing ? sign(argv + 2, argc - 2, &msg) : verify(argv + 2, argc - 2, &msg);
    buf_free(&msg);
    return rc;
}
