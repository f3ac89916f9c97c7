/* test_srs.c: unit tests of mail/srs_address.c and mail/srs.c: the day stamp, addresses taken
 * apart and put together, forward and reverse round trips (SRS0, SRS1 and a third hop), what is
 * left alone, case folding on the way, a wrong key, expired and future stamps across the wrap
 * of the day counter, bounds, and the key file (made, read, refused). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "errtext.h"
#include "srs.h"
#include "unit.h"

#define DAY 86400L
static struct srs_key key, other_key;
static const time_t now = 20000 * DAY + 3600;   /* day 20000: stamp 20000 % 1024 = 544 */

static void setup(void)
{
    for (int i = 0; i < SRS_KEY_BYTES; i++) {
        key.bytes[i] = (unsigned char)i;
        other_key.bytes[i] = (unsigned char)(i + 1);
    }
}

START_TEST(stamp)
{
    char s[3];
    srs_stamp_encode(0, s);
    ck_assert_str_eq(s, "AA");
    srs_stamp_encode(1023, s);
    ck_assert_str_eq(s, "77");
    srs_stamp_encode(1024 + 33, s);
    ck_assert_str_eq(s, "BB");
    ck_assert_int_eq(srs_stamp_decode("BB"), 33);
    ck_assert_int_eq(srs_stamp_decode("bb"), 33);
    ck_assert_int_eq(srs_stamp_decode("77"), 1023);
    ck_assert_int_eq(srs_stamp_decode("18"), -1);   /* 1 and 8 are not base32 */
    ck_assert_int_eq(srs_stamp_decode("A"), -1);
    ck_assert_int_eq(srs_stamp_decode("AAA"), -1);
    for (unsigned long d = 0; d < 1024; d++) {
        srs_stamp_encode(d, s);
        ck_assert_int_eq(srs_stamp_decode(s), (int)d);
    }
}
END_TEST

START_TEST(address_parse_format)
{
    struct srs_address a;
    char out[SRS_ADDRESS_MAX];
    ck_assert_int_eq(srs_address_parse("SRS0=AbC+/1=QA=example.org=a=b@fwd.example", &a), 1);
    ck_assert_int_eq(a.version, 0);
    ck_assert_int_eq(a.sep, '=');
    ck_assert_str_eq(a.hash, "AbC+/1");
    ck_assert_str_eq(a.stamp, "QA");
    ck_assert_str_eq(a.domain, "example.org");
    ck_assert_str_eq(a.local, "a=b");
    ck_assert_str_eq(a.at, "fwd.example");
    ck_assert_int_eq(srs_address_format(&a, out, sizeof out), 0);
    ck_assert_str_eq(out, "SRS0=AbC+/1=QA=example.org=a=b@fwd.example");

    ck_assert_int_eq(srs_address_parse("srs1+HHHH=first.example=-XX=QA=d.example=u@b", &a), 1);
    ck_assert_int_eq(a.version, 1);
    ck_assert_int_eq(a.sep, '+');
    ck_assert_str_eq(a.domain, "first.example");
    ck_assert_int_eq(a.srs0_sep, '-');
    ck_assert_str_eq(a.local, "XX=QA=d.example=u");
    ck_assert_int_eq(srs_address_format(&a, out, sizeof out), 0);
    ck_assert_str_eq(out, "SRS1+HHHH=first.example=-XX=QA=d.example=u@b");
    ck_assert_int_eq(srs_address_format(&a, out, 10), -1);
    ck_assert_str_eq(out, "");

    const char *not_srs[] = { "user@example.org", "SRS2=a=b@x", "SRS0@x", "SRS0x=a@x", "",
                              "SRS" };
    for (size_t i = 0; i < sizeof not_srs / sizeof *not_srs; i++)
        ck_assert_msg(srs_address_parse(not_srs[i], &a) == 0, "%s", not_srs[i]);
    const char *bad[] = {
        "SRS0=@x", "SRS0=HH@x", "SRS0=HH=QA@x", "SRS0=HH=QA=d.example@x",
        "SRS0=HH=QA=d.example=@x", "SRS0=HH=Q1=d.example=u@x", "SRS0=H!H=QA=d=u@x",
        "SRS0=HH=QAA=d=u@x", "SRS0==QA=d=u@x", "SRS0=HH=QA==u@x", "SRS0=HH=QA=d=u@",
        "SRS0=HH=QA=d=a b@x", "SRS0=HH=QA=d=a@b@x", "SRS1=HH=first=xrest@x", "SRS1=HH=first=@x",
        "SRS1=HH=first@x", "SRS0=HHHHHHHHHHHHHHHHHHHHH=QA=d=u@x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(srs_address_parse(bad[i], &a) == -1, "%s", bad[i]);
}
END_TEST

static const char *fwd(const struct srs_key *k, const char *domain, const char *address,
                       time_t when, enum srs_status want)
{
    static char out[SRS_ADDRESS_MAX];
    ck_assert_msg(srs_forward(k, domain, address, when, out, sizeof out) == want, "%s", address);
    return out;
}

static const char *rev(const struct srs_key *k, const char *domain, const char *address,
                       time_t when, enum srs_status want)
{
    static char out[SRS_ADDRESS_MAX];
    enum srs_status st = srs_reverse(k, domain, address, when, out, sizeof out);
    ck_assert_msg(st == want, "%s: %s", address, srs_status_text(st));
    if (st != SRS_OK)
        ck_assert_str_eq(out, "");
    return out;
}

START_TEST(round_trip_srs0)
{
    char s[SRS_ADDRESS_MAX];
    snprintf(s, sizeof s, "%s", fwd(&key, "fwd.example", "Joe.User@Example.ORG", now, SRS_OK));
    /* SRS0=HHHHHH=TT=domain=local@srs domain; the domain folded, the local part kept */
    ck_assert_int_eq(strncmp(s, "SRS0=", 5), 0);
    ck_assert_int_eq(s[5 + SRS_HASH_CHARS], '=');
    ck_assert_str_eq(s + 6 + SRS_HASH_CHARS, "RA=example.org=Joe.User@fwd.example");
    ck_assert_str_eq(rev(&key, "fwd.example", s, now, SRS_OK), "Joe.User@example.org");
    ck_assert_str_eq(rev(&key, "FWD.Example.", s, now, SRS_OK), "Joe.User@example.org");
    /* the same address again gives the same rewrite; another key another hash */
    ck_assert_str_eq(fwd(&key, "fwd.example", "Joe.User@example.org", now, SRS_OK), s);
    ck_assert_str_ne(fwd(&other_key, "fwd.example", "Joe.User@example.org", now, SRS_OK), s);
    /* a local part with '=' and '+' */
    snprintf(s, sizeof s, "%s", fwd(&key, "fwd.example", "a=b+c@x.example", now, SRS_OK));
    ck_assert_str_eq(rev(&key, "fwd.example", s, now, SRS_OK), "a=b+c@x.example");
}
END_TEST

START_TEST(case_folded_in_transit)
{
    char s[SRS_ADDRESS_MAX], lower[SRS_ADDRESS_MAX], upper[SRS_ADDRESS_MAX];
    snprintf(s, sizeof s, "%s", fwd(&key, "fwd.example", "Joe@Example.org", now, SRS_OK));
    for (size_t i = 0; i <= strlen(s); i++) {
        lower[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
        upper[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    }
    ck_assert_str_eq(rev(&key, "fwd.example", lower, now, SRS_OK), "joe@example.org");
    ck_assert_str_eq(rev(&key, "fwd.example", upper, now, SRS_OK), "JOE@EXAMPLE.ORG");
}
END_TEST

START_TEST(srs1_chain)
{
    char s0[SRS_ADDRESS_MAX], s1[SRS_ADDRESS_MAX], s1b[SRS_ADDRESS_MAX];
    /* hop 1 (a.example) makes SRS0; hop 2 (b.example) SRS1; hop 3 (c.example) SRS1 again */
    snprintf(s0, sizeof s0, "%s", fwd(&key, "a.example", "u@orig.example", now, SRS_OK));
    snprintf(s1, sizeof s1, "%s", fwd(&other_key, "b.example", s0, now, SRS_OK));
    ck_assert_int_eq(strncmp(s1, "SRS1=", 5), 0);
    ck_assert_ptr_nonnull(strstr(s1, "=a.example=="));
    ck_assert_str_eq(s1 + strlen(s1) - 10, "@b.example");
    snprintf(s1b, sizeof s1b, "%s", fwd(&key, "c.example", s1, now, SRS_OK));
    ck_assert_int_eq(strncmp(s1b, "SRS1=", 5), 0);
    ck_assert_ptr_nonnull(strstr(s1b, "=a.example=="));   /* the first SRS domain is kept */
    /* back: c's SRS1 and b's SRS1 both give a's SRS0, which a reverses to the original */
    ck_assert_str_eq(rev(&key, "c.example", s1b, now, SRS_OK), s0);
    ck_assert_str_eq(rev(&other_key, "b.example", s1, now, SRS_OK), s0);
    ck_assert_str_eq(rev(&key, "a.example", s0, now, SRS_OK), "u@orig.example");
    /* SRS1 has no stamp: it does not expire */
    ck_assert_str_eq(rev(&other_key, "b.example", s1, now + 400 * DAY, SRS_OK), s0);
    /* an SRS0 with another separator keeps it */
    snprintf(s1, sizeof s1, "%s", fwd(&key, "b.example", "SRS0+xyz=QA=d.example=u@a.example",
                                      now, SRS_OK));
    ck_assert_ptr_nonnull(strstr(s1, "=a.example=+xyz=QA=d.example=u@b.example"));
    ck_assert_str_eq(rev(&key, "b.example", s1, now, SRS_OK),
                     "SRS0+xyz=QA=d.example=u@a.example");
}
END_TEST

START_TEST(left_alone)
{
    ck_assert_str_eq(fwd(&key, "fwd.example", "", now, SRS_UNCHANGED), "");
    ck_assert_str_eq(fwd(&key, "fwd.example", "root", now, SRS_UNCHANGED), "root");
    ck_assert_str_eq(fwd(&key, "fwd.example", "u@FWD.example", now, SRS_UNCHANGED),
                     "u@FWD.example");
    ck_assert_str_eq(fwd(&key, "fwd.example", "SRS0=x=QA=d=u@fwd.example", now, SRS_UNCHANGED),
                     "SRS0=x=QA=d=u@fwd.example");
    fwd(&key, "fwd.example", "\"a b\"@x.example", now, SRS_MALFORMED);
    fwd(&key, "fwd.example", "a\tb@x.example", now, SRS_MALFORMED);
    fwd(&key, "fwd.example", "@x.example", now, SRS_MALFORMED);
    fwd(&key, "fwd.example", "a@b@x.example", now, SRS_MALFORMED);
    fwd(&key, "fwd.example", "SRS0=@x.example", now, SRS_MALFORMED);   /* SRS1 of nothing */
    ck_assert_str_eq(srs_status_text(SRS_MALFORMED), "malformed SRS address");
}
END_TEST

START_TEST(reverse_errors)
{
    char s[SRS_ADDRESS_MAX], bad[SRS_ADDRESS_MAX];
    snprintf(s, sizeof s, "%s", fwd(&key, "fwd.example", "u@x.example", now, SRS_OK));
    rev(&other_key, "fwd.example", s, now, SRS_BAD_HASH);
    rev(&key, "other.example", s, now, SRS_NOT_SRS);
    rev(&key, "fwd.example", "u@fwd.example", now, SRS_NOT_SRS);
    rev(&key, "fwd.example", "SRS0=zz@fwd.example", now, SRS_MALFORMED);
    /* each part is covered by the hash */
    const char *parts[] = { "x.example=u@", "=RA=" };
    const char *swaps[] = { "y.example=u@", "=RB=" };
    for (int i = 0; i < 2; i++) {
        snprintf(bad, sizeof bad, "%s", s);
        char *p = strstr(bad, parts[i]);
        ck_assert_ptr_nonnull(p);
        memcpy(p, swaps[i], strlen(swaps[i]));
        rev(&key, "fwd.example", bad, now, SRS_BAD_HASH);
    }
    snprintf(bad, sizeof bad, "%s", s);
    strcpy(strchr(bad, '@') - 1, "v@fwd.example");
    rev(&key, "fwd.example", bad, now, SRS_BAD_HASH);
    snprintf(bad, sizeof bad, "%s", s);
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    rev(&key, "fwd.example", bad, now, SRS_BAD_HASH);
    /* a shorter hash is no match either */
    snprintf(bad, sizeof bad, "SRS0=%.*s%s", SRS_HASH_CHARS - 1, s + 5, s + 5 + SRS_HASH_CHARS);
    rev(&key, "fwd.example", bad, now, SRS_BAD_HASH);
}
END_TEST

START_TEST(age)
{
    char s[SRS_ADDRESS_MAX];
    snprintf(s, sizeof s, "%s", fwd(&key, "fwd.example", "u@x.example", now, SRS_OK));
    rev(&key, "fwd.example", s, now + SRS_MAX_AGE_DAYS * DAY, SRS_OK);
    rev(&key, "fwd.example", s, now + (SRS_MAX_AGE_DAYS + 1) * DAY, SRS_EXPIRED);
    rev(&key, "fwd.example", s, now - DAY, SRS_OK);           /* a day ahead: clock skew */
    rev(&key, "fwd.example", s, now - 2 * DAY, SRS_EXPIRED);  /* further ahead */
    rev(&key, "fwd.example", s, now + 500 * DAY, SRS_EXPIRED);
    /* the counter wraps at 1024 days: made on day 1020, checked on day 1024 + 3 */
    time_t made = 1020 * DAY + 100;
    snprintf(s, sizeof s, "%s", fwd(&key, "fwd.example", "u@x.example", made, SRS_OK));
    ck_assert_ptr_nonnull(strstr(s, "=74=x.example"));   /* 1020 = 31 * 32 + 28 */
    rev(&key, "fwd.example", s, 1027 * DAY, SRS_OK);
    rev(&key, "fwd.example", s, (1024 + 1020 - 2) * DAY, SRS_EXPIRED);   /* 1022 days old */
    rev(&key, "fwd.example", s, (1020 + 22) * DAY, SRS_EXPIRED);
    /* made on day 3 and seen on day 1026 (= 2 mod 1024): one day ahead after the wrap */
    snprintf(s, sizeof s, "%s", fwd(&key, "fwd.example", "u@x.example", 3 * DAY, SRS_OK));
    rev(&key, "fwd.example", s, 1026 * DAY, SRS_OK);
}
END_TEST

START_TEST(bounds)
{
    char local[SRS_LOCAL_MAX + 2], addr[SRS_ADDRESS_MAX + 8], out[SRS_ADDRESS_MAX];
    /* a long local part: the SRS0 around it would pass SRS_LOCAL_MAX */
    memset(local, 'l', SRS_LOCAL_MAX - 20);
    local[SRS_LOCAL_MAX - 20] = '\0';
    snprintf(addr, sizeof addr, "%s@x.example", local);
    fwd(&key, "fwd.example", addr, now, SRS_MALFORMED);
    memset(local, 'l', 100);
    local[100] = '\0';
    snprintf(addr, sizeof addr, "%s@x.example", local);
    const char *s = fwd(&key, "fwd.example", addr, now, SRS_OK);
    ck_assert_str_eq(rev(&key, "fwd.example", s, now, SRS_OK), addr);
    /* an output buffer too small */
    ck_assert_int_eq(srs_forward(&key, "fwd.example", "u@x.example", now, out, 20),
                     SRS_MALFORMED);
    ck_assert_str_eq(out, "");
    /* input past SRS_ADDRESS_MAX */
    memset(addr, 'a', sizeof addr - 1);
    addr[sizeof addr - 1] = '\0';
    fwd(&key, "fwd.example", addr, now, SRS_MALFORMED);
    rev(&key, "fwd.example", addr, now, SRS_NOT_SRS);
    memcpy(addr, "SRS0=", 5);
    rev(&key, "fwd.example", addr, now, SRS_MALFORMED);
}
END_TEST

START_TEST(key_file)
{
    char dir[64], err[ERR_TEXT_MAX];
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_srs.XXXXXX");
    const char *path = unit_fmt("%s/srs.key", dir);
    ck_assert_int_eq(srs_key_generate(path, err, sizeof err), 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(st.st_size, 65);
    struct srs_key k1, k2;
    ck_assert_msg(srs_key_load(path, &k1, err, sizeof err) == 0, "%s", err);
    /* never over an existing file */
    ck_assert_int_eq(srs_key_generate(path, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "exists"));
    /* another key differs */
    const char *path2 = unit_fmt("%s/srs2.key", dir);
    ck_assert_int_eq(srs_key_generate(path2, err, sizeof err), 0);
    ck_assert_int_eq(srs_key_load(path2, &k2, err, sizeof err), 0);
    ck_assert(memcmp(k1.bytes, k2.bytes, SRS_KEY_BYTES) != 0);
    /* a known key reads back */
    const char *path3 = unit_fmt("%s/known.key", dir);
    unit_write_file(path3, "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F");
    chmod(path3, 0400);
    ck_assert_int_eq(srs_key_load(path3, &k2, err, sizeof err), 0);
    ck_assert(memcmp(k2.bytes, key.bytes, SRS_KEY_BYTES) == 0);
    /* refused: group or world readable, a symbolic link, wrong content, missing */
    chmod(path, 0640);
    ck_assert_int_eq(srs_key_load(path, &k1, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "group or others"));
    ck_assert_ptr_nonnull(strstr(err, "0640"));
    chmod(path, 0604);
    ck_assert_int_eq(srs_key_load(path, &k1, err, sizeof err), -1);
    chmod(path, 0600);
    const char *link = unit_fmt("%s/link.key", dir);
    ck_assert_int_eq(symlink(path, link), 0);
    ck_assert_int_eq(srs_key_load(link, &k1, err, sizeof err), -1);
    ck_assert_int_eq(srs_key_generate(link, err, sizeof err), -1);
    const char *bad[] = { "", "00", "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                          "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00",
                          "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        unit_write_file(path3, bad[i]);
        ck_assert_msg(srs_key_load(path3, &k2, err, sizeof err) == -1, "%s", bad[i]);
        ck_assert_ptr_nonnull(strstr(err, "hexadecimal"));
    }
    ck_assert_int_eq(srs_key_load(unit_fmt("%s/none", dir), &k2, err, sizeof err), -1);
    ck_assert_int_eq(unit_rmtree(dir), 0);
}
END_TEST

static Suite *srs_suite(void)
{
    Suite *s = suite_create("srs");
    TCase *t = tcase_create("srs");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, stamp);
    tcase_add_test(t, address_parse_format);
    tcase_add_test(t, round_trip_srs0);
    tcase_add_test(t, case_folded_in_transit);
    tcase_add_test(t, srs1_chain);
    tcase_add_test(t, left_alone);
    tcase_add_test(t, reverse_errors);
    tcase_add_test(t, age);
    tcase_add_test(t, bounds);
    tcase_add_test(t, key_file);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return unit_run(srs_suite());
}
