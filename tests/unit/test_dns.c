/* test_dns.c: unit tests of the resolver's pure parts (common/dns_mx.c: names, literals, MX
 * and TLSA data, MX order and shuffling, address order and limits, dns_server values, reason
 * texts), and of the request paths that need no answering server (IP literals, malformed
 * names, time-outs against a silent server, cancelling with queries in flight). */
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sodium.h>
#include "dns_impl.h"
#include "unit.h"

/* ---- names and literals ---- */

START_TEST(name_canon)
{
    char out[DNS_NAME_MAX];
    ck_assert_int_eq(dns_name_canon("Mail.Example.TEST.", out), 0);
    ck_assert_str_eq(out, "mail.example.test");
    ck_assert_int_eq(dns_name_canon("_25._tcp.mx-1.example", out), 0);
    ck_assert_str_eq(out, "_25._tcp.mx-1.example");
    ck_assert_int_eq(dns_name_canon("localhost", out), 0);
    const char *bad[] = { "", ".", "a..b", ".a", "a b", "a@b", "caf\xc3\xa9.test", "a/b",
                          "[1.2.3.4]", "a.b..", NULL };
    for (int i = 0; bad[i]; i++)
        ck_assert_msg(dns_name_canon(bad[i], out) == -1, "%s", bad[i]);
    char label[70];
    memset(label, 'a', 63);
    strcpy(label + 63, ".test");
    ck_assert_int_eq(dns_name_canon(label, out), 0);
    memset(label, 'a', 64);
    strcpy(label + 64, ".test");
    ck_assert_int_eq(dns_name_canon(label, out), -1);
    char longname[300] = "";
    while (strlen(longname) < 250)
        strcat(longname, "abcd.");
    strcat(longname, "xyz");                            /* 253 characters */
    ck_assert_uint_eq(strlen(longname), 253);
    ck_assert_int_eq(dns_name_canon(longname, out), 0);
    strcat(longname, "z");
    ck_assert_int_eq(dns_name_canon(longname, out), -1);
}
END_TEST

START_TEST(wire_name)
{
    char out[DNS_NAME_MAX];
    const unsigned char mx1[] = "\3MX1\7example\4test";   /* with the final 0 byte */
    ck_assert_int_eq(dns_wire_name(mx1, sizeof mx1, out), (int)sizeof mx1);
    ck_assert_str_eq(out, "mx1.example.test");
    const unsigned char root[] = { 0 };
    ck_assert_int_eq(dns_wire_name(root, 1, out), 1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(dns_wire_name(mx1, sizeof mx1 - 1, out), -1);   /* no final 0 */
    ck_assert_int_eq(dns_wire_name(mx1, 3, out), -1);                /* label cut */
    ck_assert_int_eq(dns_wire_name(root, 0, out), -1);
    const unsigned char bad[] = "\3a b\4test";
    ck_assert_int_eq(dns_wire_name(bad, sizeof bad, out), -1);
    const unsigned char ptr[] = { 0xc0, 0x0c };                        /* compression */
    ck_assert_int_eq(dns_wire_name(ptr, sizeof ptr, out), -1);
    unsigned char big[300];
    size_t n = 0;
    for (int i = 0; i < 5; i++) {                /* 5 labels of 63: 319 characters, too long */
        if (n + 64 > sizeof big - 1)
            break;
        big[n++] = 63;
        memset(big + n, 'a', 63);
        n += 63;
    }
    big[n++] = 0;
    ck_assert_int_eq(dns_wire_name(big, n, out), -1);
}
END_TEST

START_TEST(literals)
{
    struct sockaddr_storage ss;
    socklen_t len;
    ck_assert_int_eq(dns_literal("127.0.0.1", 2525, &ss, &len), 0);
    ck_assert_int_eq(ss.ss_family, AF_INET);
    ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
    ck_assert_int_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 2525);
    ck_assert_int_eq(dns_literal("::1", 25, &ss, &len), 0);
    ck_assert_int_eq(ss.ss_family, AF_INET6);
    ck_assert_int_eq(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 25);
    ck_assert_int_eq(dns_literal("IPv6:2001:db8::1", 25, &ss, &len), 0);
    ck_assert_int_eq(ss.ss_family, AF_INET6);
    ck_assert_int_eq(dns_literal("example.test", 25, &ss, &len), -1);
    ck_assert_int_eq(dns_literal("[127.0.0.1]", 25, &ss, &len), -1);
    ck_assert_int_eq(dns_literal("1.2.3", 25, &ss, &len), -1);
}
END_TEST

/* ---- MX records ---- */

START_TEST(parse_mx)
{
    struct dns_mx_host h;
    const unsigned char rd[] = "\0\12\3mx1\4test";
    ck_assert_int_eq(dns_parse_mx(rd, sizeof rd, &h), 0);
    ck_assert_int_eq(h.preference, 10);
    ck_assert_str_eq(h.name, "mx1.test");
    const unsigned char null_mx[] = { 0, 0, 0 };
    ck_assert_int_eq(dns_parse_mx(null_mx, sizeof null_mx, &h), 0);
    ck_assert_int_eq(h.preference, 0);
    ck_assert_str_eq(h.name, "");
    const unsigned char high[] = "\xff\xff\1a";
    ck_assert_int_eq(dns_parse_mx(high, sizeof high, &h), 0);
    ck_assert_int_eq(h.preference, 65535);
    ck_assert_int_eq(dns_parse_mx(rd, 2, &h), -1);
    unsigned char trailing[sizeof rd + 1];
    memcpy(trailing, rd, sizeof rd);
    trailing[sizeof rd] = 'x';
    ck_assert_int_eq(dns_parse_mx(trailing, sizeof trailing, &h), -1);
}
END_TEST

static uint32_t always_zero(uint32_t upper)
{
    (void)upper;
    return 0;
}

static void set_host(struct dns_mx_host *h, const char *name, int pref)
{
    snprintf(h->name, sizeof h->name, "%s", name);
    h->preference = pref;
}

START_TEST(mx_order_sorted_and_deduplicated)
{
    struct dns_mx_host h[6];
    set_host(&h[0], "c", 30);
    set_host(&h[1], "a", 10);
    set_host(&h[2], "b", 20);
    set_host(&h[3], "a", 40);       /* repeated: the best preference stays */
    set_host(&h[4], "d", 5);
    set_host(&h[5], "b", 20);
    size_t n = dns_mx_order(h, 6, always_zero);
    ck_assert_uint_eq(n, 4);
    const char *want[] = { "d", "a", "b", "c" };
    const int prefs[] = { 5, 10, 20, 30 };
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(h[i].name, want[i]);
        ck_assert_int_eq(h[i].preference, prefs[i]);
    }
    ck_assert_uint_eq(dns_mx_order(h, 0, always_zero), 0);
}
END_TEST

START_TEST(mx_order_shuffles_equal_preferences)
{
    /* three hosts at 10 and two at 20: every run keeps the groups apart; over a bounded number
     * of runs every host of the first group comes first at least once */
    int first[3] = { 0, 0, 0 };
    int second_group_first[2] = { 0, 0 };
    for (int run = 0; run < 300; run++) {
        struct dns_mx_host h[5];
        set_host(&h[0], "b20", 20);
        set_host(&h[1], "a10", 10);
        set_host(&h[2], "a20", 20);
        set_host(&h[3], "b10", 10);
        set_host(&h[4], "c10", 10);
        ck_assert_uint_eq(dns_mx_order(h, 5, randombytes_uniform), 5);
        for (int i = 0; i < 3; i++)
            ck_assert_int_eq(h[i].preference, 10);
        for (int i = 3; i < 5; i++)
            ck_assert_int_eq(h[i].preference, 20);
        first[h[0].name[0] - 'a']++;
        second_group_first[h[3].name[0] - 'a']++;
    }
    for (int i = 0; i < 3; i++)
        ck_assert_int_gt(first[i], 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_gt(second_group_first[i], 0);
}
END_TEST

START_TEST(mx_keep_most_preferred)
{
    struct dns_mx_host kept[3], h;
    size_t n = 0;
    const int prefs[] = { 50, 10, 40, 30, 60, 5, 30 };
    for (int i = 0; i < 7; i++) {
        snprintf(h.name, sizeof h.name, "h%d", prefs[i]);
        h.preference = prefs[i];
        dns_mx_keep(kept, &n, 3, &h);
        ck_assert_uint_le(n, 3);
    }
    ck_assert_uint_eq(dns_mx_order(kept, n, always_zero), 3);
    ck_assert_int_eq(kept[0].preference, 5);
    ck_assert_int_eq(kept[1].preference, 10);
    ck_assert_int_eq(kept[2].preference, 30);
    size_t none = 0;
    dns_mx_keep(kept, &none, 0, &h);
    ck_assert_uint_eq(none, 0);
}
END_TEST

/* ---- TLSA records ---- */

START_TEST(parse_tlsa)
{
    unsigned char rd[3 + 64];
    struct dns_tlsa t;
    rd[0] = 3, rd[1] = 1, rd[2] = 1;
    memset(rd + 3, 0xab, 64);
    ck_assert_int_eq(dns_parse_tlsa(rd, 3 + 32, &t), 0);
    ck_assert_int_eq(t.usage, 3);
    ck_assert_int_eq(t.selector, 1);
    ck_assert_int_eq(t.mtype, 1);
    ck_assert_uint_eq(t.len, 32);
    ck_assert_ptr_eq(t.data, rd + 3);
    ck_assert_int_eq(dns_parse_tlsa(rd, 3 + 31, &t), -1);       /* SHA2-256 is 32 bytes */
    rd[2] = 2;
    ck_assert_int_eq(dns_parse_tlsa(rd, 3 + 64, &t), 0);
    ck_assert_int_eq(dns_parse_tlsa(rd, 3 + 32, &t), -1);       /* SHA2-512 is 64 bytes */
    rd[0] = 2, rd[1] = 0, rd[2] = 0;
    ck_assert_int_eq(dns_parse_tlsa(rd, 3 + 10, &t), 0);        /* a full certificate */
    ck_assert_uint_eq(t.len, 10);
    ck_assert_int_eq(dns_parse_tlsa(rd, 3, &t), -1);
    ck_assert_int_eq(dns_parse_tlsa(rd, 0, &t), -1);
}
END_TEST

/* ---- parameters ---- */

START_TEST(protocols_and_preference)
{
    ck_assert_int_eq(dns_protocols("all"), DNS_V4 | DNS_V6);
    ck_assert_int_eq(dns_protocols("ipv4"), DNS_V4);
    ck_assert_int_eq(dns_protocols("IPv6"), DNS_V6);
    ck_assert_int_eq(dns_protocols("ipv4, ipv6"), DNS_V4 | DNS_V6);
    ck_assert_int_eq(dns_protocols(""), 0);
    ck_assert_int_eq(dns_protocols("ipv5"), 0);
    ck_assert_int_eq(dns_protocols("ipv4 bogus"), 0);
    enum dns_family_pref p;
    ck_assert_int_eq(dns_family_pref("any", &p), 0);
    ck_assert_int_eq(p, DNS_PREF_ANY);
    ck_assert_int_eq(dns_family_pref("ipv4", &p), 0);
    ck_assert_int_eq(p, DNS_PREF_V4);
    ck_assert_int_eq(dns_family_pref("ipv6", &p), 0);
    ck_assert_int_eq(p, DNS_PREF_V6);
    ck_assert_int_eq(dns_family_pref("both", &p), -1);
}
END_TEST

START_TEST(server_parse)
{
    char out[64];
    ck_assert_int_eq(dns_server_parse("127.0.0.1", out, sizeof out), 0);
    ck_assert_str_eq(out, "127.0.0.1@53");
    ck_assert_int_eq(dns_server_parse("127.0.0.1@5353", out, sizeof out), 0);
    ck_assert_str_eq(out, "127.0.0.1@5353");
    ck_assert_int_eq(dns_server_parse("::1@5300", out, sizeof out), 0);
    ck_assert_str_eq(out, "::1@5300");
    ck_assert_int_eq(dns_server_parse("2001:db8::53", out, sizeof out), 0);
    ck_assert_str_eq(out, "2001:db8::53@53");
    const char *bad[] = { "", "localhost", "127.0.0.1@", "127.0.0.1@0", "127.0.0.1@65536",
                          "@53", "127.0.0.1@53x", "127.0.0.1@-1", "[::1]@53", "1.2.3.4 ", NULL };
    for (int i = 0; bad[i]; i++)
        ck_assert_msg(dns_server_parse(bad[i], out, sizeof out) == -1, "%s", bad[i]);
    ck_assert_int_eq(dns_server_parse("127.0.0.1@5353", out, 8), -1);   /* does not fit */
}
END_TEST

/* ---- address order and limits ---- */

static struct dns_addr v4(const char *text, bool secure)
{
    struct dns_addr a = { .family = AF_INET, .secure = secure };
    ck_assert_int_eq(inet_pton(AF_INET, text, a.bytes), 1);
    return a;
}

static struct dns_addr v6(const char *text, bool secure)
{
    struct dns_addr a = { .family = AF_INET6, .secure = secure };
    ck_assert_int_eq(inet_pton(AF_INET6, text, a.bytes), 1);
    return a;
}

static const char *addr_of(const struct dns_target *t)
{
    static char text[INET6_ADDRSTRLEN];
    if (t->addr.ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)&t->addr)->sin_addr, text, sizeof text);
    else
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&t->addr)->sin6_addr, text,
                  sizeof text);
    return text;
}

static void expect_order(const struct dns_target *t, size_t n, const char *const *want)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(addr_of(&t[i]), want[i]);
    ck_assert_ptr_null(want[n]);
}

START_TEST(targets_by_preference)
{
    struct dns_mx_host h;
    set_host(&h, "mx.test", 10);
    struct dns_addr a4[] = { v4("192.0.2.1", true), v4("192.0.2.2", true) };
    struct dns_addr a6[] = { v6("2001:db8::1", true), v6("2001:db8::2", true) };
    struct dns_target t[8];

    size_t n = dns_add_targets(t, 0, 8, &h, true, a4, 2, a6, 2, DNS_PREF_V4, 25);
    ck_assert_uint_eq(n, 4);
    const char *w4[] = { "192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2", NULL };
    expect_order(t, n, w4);

    n = dns_add_targets(t, 0, 8, &h, true, a4, 2, a6, 2, DNS_PREF_V6, 25);
    const char *w6[] = { "2001:db8::1", "2001:db8::2", "192.0.2.1", "192.0.2.2", NULL };
    expect_order(t, n, w6);

    n = dns_add_targets(t, 0, 8, &h, true, a4, 2, a6, 1, DNS_PREF_ANY, 25);
    const char *wany[] = { "2001:db8::1", "192.0.2.1", "192.0.2.2", NULL };
    expect_order(t, n, wany);

    n = dns_add_targets(t, 0, 8, &h, true, a4, 2, NULL, 0, DNS_PREF_V6, 25);
    const char *wonly[] = { "192.0.2.1", "192.0.2.2", NULL };
    expect_order(t, n, wonly);

    ck_assert_str_eq(t[0].host, "mx.test");
    ck_assert_int_eq(t[0].preference, 10);
    ck_assert_int_eq(ntohs(((struct sockaddr_in *)&t[0].addr)->sin_port), 25);
    ck_assert_uint_eq(t[0].addrlen, sizeof(struct sockaddr_in));
}
END_TEST

START_TEST(targets_limit_duplicates_secure)
{
    struct dns_mx_host h1, h2;
    set_host(&h1, "mx1.test", 10);
    set_host(&h2, "mx2.test", 20);
    struct dns_addr a1[] = { v4("192.0.2.1", true), v4("192.0.2.1", true),
                             v4("192.0.2.2", false) };
    struct dns_addr a2[] = { v4("192.0.2.2", true), v4("192.0.2.3", true) };
    struct dns_addr b6[] = { v6("2001:db8::9", true) };
    struct dns_target t[3];
    size_t n = dns_add_targets(t, 0, 3, &h1, true, a1, 3, NULL, 0, DNS_PREF_ANY, 2525);
    ck_assert_uint_eq(n, 2);                                /* the repeated address once */
    ck_assert(t[0].secure);
    ck_assert(!t[1].secure);                                /* its answer was not secure */
    n = dns_add_targets(t, n, 3, &h2, true, a2, 2, b6, 1, DNS_PREF_V4, 2525);
    ck_assert_uint_eq(n, 3);                                /* the limit */
    const char *want[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3", NULL };
    expect_order(t, n, want);
    ck_assert_str_eq(t[1].host, "mx1.test");                /* listed first by mx1 */
    ck_assert_str_eq(t[2].host, "mx2.test");
    ck_assert_int_eq(t[2].preference, 20);
    ck_assert_uint_eq(dns_add_targets(t, 3, 3, &h2, true, b6, 1, NULL, 0, DNS_PREF_ANY, 25), 3);
    n = dns_add_targets(t, 0, 3, &h1, false, a2, 2, NULL, 0, DNS_PREF_ANY, 25);
    ck_assert(!t[0].secure && !t[1].secure);                /* the MX answer was not secure */
}
END_TEST

/* ---- reason texts ---- */

START_TEST(reasons)
{
    char r[512];
    dns_reason(r, sizeof r, "x.example", "MX", DNS_RC_NXDOMAIN);
    ck_assert_str_eq(r, "Host or domain name not found. Name service error for name=x.example "
                     "type=MX: Host not found");
    dns_reason(r, sizeof r, "x.example", "MX", DNS_RC_TEMP);
    ck_assert_str_eq(r, "Host or domain name not found. Name service error for name=x.example "
                     "type=MX: Host not found, try again");
    dns_reason(r, sizeof r, "mx.example", "AAAA", DNS_RC_NODATA);
    ck_assert_str_eq(r, "Host or domain name not found. Name service error for name=mx.example "
                     "type=AAAA: Host found but no data record of requested type");
    dns_reason(r, 20, "mx.example", "A", DNS_RC_TEMP);      /* cut, still a string */
    ck_assert_uint_eq(strlen(r), 19);
}
END_TEST

/* ---- requests without an answering server ---- */

struct seen {
    int calls;
    enum dns_mx_status status;
    char dsn[16], reason[512], host[256];
    size_t ntargets;
    bool failed, secure;
    size_t count;
    struct event_base *base;
};

static void on_mx(void *arg, const struct dns_mx_result *r)
{
    struct seen *s = arg;
    s->calls++;
    s->status = r->status;
    snprintf(s->dsn, sizeof s->dsn, "%s", r->dsn);
    snprintf(s->reason, sizeof s->reason, "%s", r->reason);
    s->ntargets = r->ntargets;
    if (r->ntargets)
        snprintf(s->host, sizeof s->host, "%s", r->targets[0].host);
    event_base_loopbreak(s->base);
}

static void on_tlsa(void *arg, bool failed, bool secure, const struct dns_tlsa *records,
                    size_t count)
{
    struct seen *s = arg;
    s->calls++;
    s->failed = failed;
    s->secure = secure;
    s->count = count;
    event_base_loopbreak(s->base);
}

static void on_name(void *arg, const char *name)
{
    struct seen *s = arg;
    s->calls++;
    snprintf(s->host, sizeof s->host, "%s", name ? name : "unknown");
    event_base_loopbreak(s->base);
}

static int silent_fd = -1;

/* A resolver whose dns_server is a UDP socket nobody reads: every query times out. */
static struct dns *silent_resolver(struct event_base *base, const char *extra)
{
    silent_fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert_int_eq(bind(silent_fd, (struct sockaddr *)&sin, sizeof sin), 0);
    socklen_t len = sizeof sin;
    ck_assert_int_eq(getsockname(silent_fd, (struct sockaddr *)&sin, &len), 0);
    unit_load_config(unit_fmt("dns_server = 127.0.0.1@%d\n%s", ntohs(sin.sin_port), extra), "");
    char err[256];
    struct dns *d = dns_open(err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    dns_attach(d, base);
    return d;
}

static void run_loop(struct event_base *base, int seconds)
{
    struct timeval t = { seconds, 0 };
    event_base_loopexit(base, &t);
    event_base_dispatch(base);
}

static void done(struct dns *d, struct event_base *base)
{
    dns_close(d);
    event_base_free(base);
    close(silent_fd);
}

START_TEST(literal_is_asynchronous)
{
    struct event_base *base = event_base_new();
    struct dns *d = silent_resolver(base, "");
    struct seen s = { .base = base };
    struct dns_req *r = dns_mx(d, "127.0.0.1", true, 2525, 5, 5000, on_mx, &s);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(s.calls, 0);                           /* not before dns_mx returns */
    run_loop(base, 5);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(s.status, DNS_MX_OK);
    ck_assert_uint_eq(s.ntargets, 1);
    ck_assert_str_eq(s.host, "127.0.0.1");

    struct seen s6 = { .base = base };
    dns_mx(d, "::1", false, 25, 5, 5000, on_mx, &s6);
    run_loop(base, 5);
    ck_assert_int_eq(s6.calls, 1);
    ck_assert_int_eq(s6.status, DNS_MX_OK);
    done(d, base);
}
END_TEST

START_TEST(literal_of_disabled_family)
{
    struct event_base *base = event_base_new();
    struct dns *d = silent_resolver(base, "inet_protocols = ipv4\n");
    struct seen s = { .base = base };
    dns_mx(d, "::1", true, 25, 5, 5000, on_mx, &s);
    run_loop(base, 5);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(s.status, DNS_MX_TEMP);
    ck_assert_str_eq(s.dsn, "4.3.5");
    done(d, base);
}
END_TEST

START_TEST(malformed_name)
{
    struct event_base *base = event_base_new();
    struct dns *d = silent_resolver(base, "");
    struct seen s = { .base = base };
    dns_mx(d, "bad name\n.test", true, 25, 5, 5000, on_mx, &s);
    ck_assert_int_eq(s.calls, 0);
    run_loop(base, 5);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(s.status, DNS_MX_PERM);
    ck_assert_str_eq(s.dsn, "5.1.2");
    ck_assert_str_eq(s.reason, "Malformed domain name: bad?name?.test");

    struct seen t = { .base = base };
    dns_tlsa(d, "bad name", 25, 5000, on_tlsa, &t);
    run_loop(base, 5);
    ck_assert_int_eq(t.calls, 1);
    ck_assert(t.failed && !t.secure && t.count == 0);

    struct seen lit = { .base = base };
    dns_tlsa(d, "192.0.2.1", 25, 5000, on_tlsa, &lit);      /* no TLSA for an address */
    run_loop(base, 5);
    ck_assert_int_eq(lit.calls, 1);
    ck_assert(!lit.failed && !lit.secure && lit.count == 0);
    done(d, base);
}
END_TEST

START_TEST(timeouts)
{
    struct event_base *base = event_base_new();
    struct dns *d = silent_resolver(base, "");
    struct seen s = { .base = base };
    dns_mx(d, "example.test", true, 25, 5, 300, on_mx, &s);
    run_loop(base, 10);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(s.status, DNS_MX_TEMP);
    ck_assert_str_eq(s.dsn, "4.4.3");
    ck_assert_str_eq(s.reason, "Host or domain name not found. Name service error for "
                     "name=example.test type=MX: Host not found, try again");

    struct seen a = { .base = base };
    dns_mx(d, "mx.example.test", false, 25, 5, 300, on_mx, &a);
    run_loop(base, 10);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(a.status, DNS_MX_TEMP);
    ck_assert_str_eq(a.dsn, "4.4.3");
    ck_assert_str_eq(a.reason, "Host or domain name not found. Name service error for "
                     "name=mx.example.test type=A: Host not found, try again");

    struct seen t = { .base = base };
    dns_tlsa(d, "mx.example.test", 25, 300, on_tlsa, &t);
    run_loop(base, 10);
    ck_assert_int_eq(t.calls, 1);
    ck_assert(t.failed && !t.secure && t.count == 0);

    struct seen c = { .base = base, .calls = 0 };
    dns_client_name(d, "8.8.8.8", 300, on_name, &c);
    run_loop(base, 10);
    ck_assert_int_eq(c.calls, 1);
    ck_assert_str_eq(c.host, "unknown");
    done(d, base);
}
END_TEST

static void never(void *arg, const struct dns_mx_result *r)
{
    ck_abort_msg("callback of a cancelled request");
}

static void never_tlsa(void *arg, bool failed, bool secure, const struct dns_tlsa *records,
                       size_t count)
{
    ck_abort_msg("callback of a cancelled request");
}

static void never_name(void *arg, const char *name)
{
    ck_abort_msg("callback of a cancelled request");
}

START_TEST(cancel_in_flight)
{
    struct event_base *base = event_base_new();
    struct dns *d = silent_resolver(base, "");
    /* results known at once, cancelled before the loop hands them over */
    dns_cancel(dns_mx(d, "127.0.0.1", true, 25, 5, 200, never, NULL));
    dns_cancel(dns_mx(d, "bad name", true, 25, 5, 200, never, NULL));
    dns_cancel(dns_tlsa(d, "bad name", 25, 200, never_tlsa, NULL));
    dns_cancel(NULL);
    /* queries sent, and unanswered */
    struct dns_req *r[4];
    r[0] = dns_mx(d, "example.test", true, 25, 5, 200, never, NULL);
    r[1] = dns_mx(d, "mx.example.test", false, 25, 5, 200, never, NULL);   /* A and AAAA */
    r[2] = dns_tlsa(d, "mx.example.test", 25, 200, never_tlsa, NULL);
    r[3] = dns_client_name(d, "8.8.8.8", 200, never_name, NULL);   /* not a local zone */
    run_loop(base, 0);
    for (int i = 0; i < 4; i++)
        dns_cancel(r[i]);
    run_loop(base, 1);                                      /* past every deadline */
    done(d, base);
}
END_TEST

static Suite *dns_suite(void)
{
    Suite *s = suite_create("dns");
    TCase *pure = tcase_create("pure");
    tcase_add_test(pure, name_canon);
    tcase_add_test(pure, wire_name);
    tcase_add_test(pure, literals);
    tcase_add_test(pure, parse_mx);
    tcase_add_test(pure, mx_order_sorted_and_deduplicated);
    tcase_add_test(pure, mx_order_shuffles_equal_preferences);
    tcase_add_test(pure, mx_keep_most_preferred);
    tcase_add_test(pure, parse_tlsa);
    tcase_add_test(pure, protocols_and_preference);
    tcase_add_test(pure, server_parse);
    tcase_add_test(pure, targets_by_preference);
    tcase_add_test(pure, targets_limit_duplicates_secure);
    tcase_add_test(pure, reasons);
    suite_add_tcase(s, pure);
    TCase *req = tcase_create("requests");
    tcase_set_timeout(req, 30);
    tcase_add_test(req, literal_is_asynchronous);
    tcase_add_test(req, literal_of_disabled_family);
    tcase_add_test(req, malformed_name);
    tcase_add_test(req, timeouts);
    tcase_add_test(req, cancel_in_flight);
    suite_add_tcase(s, req);
    return s;
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    return unit_run(dns_suite());
}
