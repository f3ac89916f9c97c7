/* test_policy.c: unit tests of smtpd/policy.c: the recipient classes (local, virtual alias,
 * virtual mailbox, relay, other) with their tables and exact replies, smtpd_relay_restrictions,
 * every routing trick from an untrusted client, lookup failures and configuration errors. */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "config.h"
#include "dict.h"
#include "policy.h"
#include "smtp_parse.h"
#include "unit.h"

static char tmpdir[64];

/* Local recipients most tests share; other settings are added per test. */
#define BASE_CONF \
    "mydestination = mail.example.com, localhost\n" \
    "mynetworks = 127.0.0.0/8 [::1]/128\n" \
    "local_recipient_maps = inline:{alice=x, bob=x}\n"

static void setup(void)
{
    unit_mkdtemp(tmpdir, sizeof tmpdir, "/tmp/test_policy.XXXXXX");
}

static void teardown(void)
{
    unit_rmtree(tmpdir);
}

static void write_file(const char *name, const char *text)
{
    ck_assert_int_eq(unit_write_file(unit_fmt("%s/%s", tmpdir, name), text), 0);
}

/* Loads the configuration text, where every "@DIR@" stands for the test's directory. */
static void load(const char *text)
{
    unit_load_config(text, tmpdir);
}

static struct policy *open_ok(const char *text)
{
    load(text);
    char err[512] = "";
    struct policy *p = policy_open(err, sizeof err);
    ck_assert_msg(p != NULL, "policy_open: %s", err);
    return p;
}

static void open_fails(const char *text, const char *expected)
{
    load(text);
    char err[512] = "";
    ck_assert_ptr_null(policy_open(err, sizeof err));
    ck_assert_str_eq(err, expected);
}

/* The recipient as the parser would leave it: local and domain as written. */
static struct smtp_address rcpt(const char *local, const char *domain)
{
    struct smtp_address a;
    memset(&a, 0, sizeof a);
    snprintf(a.local, sizeof a.local, "%s", local);
    snprintf(a.domain, sizeof a.domain, "%s", domain);
    a.quoted = local[0] == '"';
    a.literal = domain[0] == '[';
    snprintf(a.address, sizeof a.address, "%s%s%s", local, *domain ? "@" : "", domain);
    return a;
}

enum client { UNTRUSTED, NET, AUTH };

/* Checks the verdict and the reply; expected_reply NULL means "" (accepted). */
static void check_as(struct policy *p, enum client c, const struct smtp_address *a,
                     enum rcpt_verdict expected, const char *expected_reply)
{
    char reply[512] = "junk";
    enum rcpt_verdict v = policy_check_rcpt(p, a, c == NET, c == AUTH, reply, sizeof reply);
    ck_assert_msg(v == expected, "<%s>: verdict %d, expected %d (%s)", a->address, (int)v,
                  (int)expected, reply);
    ck_assert_str_eq(reply, expected_reply ? expected_reply : "");
}

static void check(struct policy *p, enum client c, const char *local, const char *domain,
                  enum rcpt_verdict expected, const char *expected_reply)
{
    struct smtp_address a = rcpt(local, domain);
    check_as(p, c, &a, expected, expected_reply);
}

#define ACCEPTED RCPT_OK, NULL
#define UNKNOWN_LOCAL(addr) RCPT_UNKNOWN_USER, \
    "550 5.1.1 <" addr ">: Recipient address rejected: User unknown in local recipient table"
#define DENIED(addr) RCPT_RELAY_DENIED, "554 5.7.1 <" addr ">: Relay access denied"

/* ---- local domains ---- */

START_TEST(local_users)
{
    struct policy *p = open_ok(BASE_CONF);
    check(p, UNTRUSTED, "alice", "mail.example.com", ACCEPTED);
    check(p, UNTRUSTED, "Alice", "MAIL.Example.COM", ACCEPTED);
    check(p, UNTRUSTED, "bob", "localhost", ACCEPTED);
    check(p, UNTRUSTED, "carol", "mail.example.com", UNKNOWN_LOCAL("carol@mail.example.com"));
    check(p, NET, "carol", "mail.example.com", UNKNOWN_LOCAL("carol@mail.example.com"));
    check(p, AUTH, "Carol", "Mail.Example.Com", UNKNOWN_LOCAL("Carol@Mail.Example.Com"));
    /* no extension handling without recipient_delimiter */
    check(p, UNTRUSTED, "alice+news", "mail.example.com",
          UNKNOWN_LOCAL("alice+news@mail.example.com"));
    /* localhost forms are local only when listed */
    check(p, UNTRUSTED, "alice", "localhost.localdomain", DENIED("alice@localhost.localdomain"));
    /* a quoted local part without routing characters is just the user */
    check(p, UNTRUSTED, "\"alice\"", "mail.example.com", ACCEPTED);
    check(p, UNTRUSTED, "\"al\\ice\"", "mail.example.com", ACCEPTED);
    policy_close(p);
}
END_TEST

START_TEST(local_delimiter)
{
    struct policy *p = open_ok(BASE_CONF "recipient_delimiter = +-\n");
    check(p, UNTRUSTED, "alice+news", "mail.example.com", ACCEPTED);
    check(p, UNTRUSTED, "ALICE+News", "mail.example.com", ACCEPTED);
    check(p, UNTRUSTED, "bob-lists+x", "mail.example.com", ACCEPTED);
    check(p, UNTRUSTED, "carol+news", "mail.example.com",
          UNKNOWN_LOCAL("carol+news@mail.example.com"));
    /* an empty user part is not stripped to nothing */
    check(p, UNTRUSTED, "+alice", "mail.example.com", UNKNOWN_LOCAL("+alice@mail.example.com"));
    /* a quoted local part is unquoted before it is cut */
    check(p, UNTRUSTED, "\"Alice+News\"", "mail.example.com", ACCEPTED);
    policy_close(p);

    /* with '-' a delimiter, mailing list names are not cut (as local(8) does not cut them) */
    p = open_ok("mydestination = mail.example.com\n"
                "local_recipient_maps = inline:{owner=x, list=x}\n"
                "recipient_delimiter = -\n");
    check(p, UNTRUSTED, "list-x", "mail.example.com", ACCEPTED);
    check(p, UNTRUSTED, "owner-list", "mail.example.com",
          UNKNOWN_LOCAL("owner-list@mail.example.com"));
    check(p, UNTRUSTED, "list-request", "mail.example.com",
          UNKNOWN_LOCAL("list-request@mail.example.com"));
    policy_close(p);
}
END_TEST

START_TEST(local_postmaster)
{
    struct policy *p = open_ok(BASE_CONF);
    check(p, UNTRUSTED, "postmaster", "", ACCEPTED);
    check(p, UNTRUSTED, "PostMaster", "", ACCEPTED);
    /* with a domain it is an ordinary recipient */
    check(p, UNTRUSTED, "postmaster", "mail.example.com",
          UNKNOWN_LOCAL("postmaster@mail.example.com"));
    policy_close(p);
}
END_TEST

START_TEST(local_empty_maps)
{
    struct policy *p = open_ok(BASE_CONF "local_recipient_maps =\n");
    check(p, UNTRUSTED, "anyone", "mail.example.com", ACCEPTED);
    check(p, UNTRUSTED, "anyone", "example.org", DENIED("anyone@example.org"));
    policy_close(p);
}
END_TEST

START_TEST(local_passwd_and_aliases)
{
    write_file("aliases", "info root\nabuse root\n");
    /* the default local_recipient_maps: unix:passwd.byname $alias_maps */
    struct policy *p = open_ok("mydestination = mail.example.com\n"
                               "alias_maps = texthash:@DIR@/aliases\n");
    check(p, UNTRUSTED, "root", "mail.example.com", ACCEPTED);
    check(p, UNTRUSTED, "Info", "mail.example.com", ACCEPTED);
    check(p, UNTRUSTED, "no-such-user-xyz", "mail.example.com",
          UNKNOWN_LOCAL("no-such-user-xyz@mail.example.com"));
    policy_close(p);
}
END_TEST

START_TEST(unix_passwd)
{
    char err[ERR_TEXT_MAX];
    const char *value;
    struct dict *d = dict_open("unix:passwd.byname", err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    ck_assert_int_eq(dict_lookup(d, "root", &value, err, sizeof err), 1);
    ck_assert_msg(strncmp(value, "root:x:0:0:", 11) == 0, "value %s", value);
    int colons = 0;
    for (const char *s = value; *s; s++)
        colons += *s == ':';
    ck_assert_int_eq(colons, 6);
    ck_assert_int_eq(dict_lookup(d, "ROOT", &value, err, sizeof err), 1);   /* keys are folded */
    /* users found are remembered a moment (8 of them): more than that, twice over, each time
     * with its own line */
    static const char *const users[] = { "root", "daemon", "bin", "sys", "sync", "games",
                                         "man", "lp", "mail", "news", "uucp", "proxy" };
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
            ck_assert_int_eq(dict_lookup(d, users[i], &value, err, sizeof err), 1);
            size_t n = strlen(users[i]);
            ck_assert_msg(strncmp(value, users[i], n) == 0 && value[n] == ':', "%s: %s",
                          users[i], value);
        }
    }
    ck_assert_int_eq(dict_lookup(d, "no-such-user-xyz", &value, err, sizeof err), 0);
    ck_assert_int_eq(dict_lookup(d, "", &value, err, sizeof err), 0);
    ck_assert_str_eq(dict_spec(d), "unix:passwd.byname");
    dict_close(d);

    ck_assert_ptr_null(dict_open("unix:group.byname", err, sizeof err));
    ck_assert_str_eq(err, "unix:group.byname: unsupported unix table \"group.byname\" "
                     "(only passwd.byname)");
}
END_TEST

/* ---- virtual domains ---- */

START_TEST(virtual_alias)
{
    write_file("virtual", "info@valias.example alice\n"
                          "sales@valias.example bob\n"
                          "@catch.example alice\n"
                          "staff@mail.example.com alice\n");
    struct policy *p = open_ok(BASE_CONF "recipient_delimiter = +\n"
                               "virtual_alias_domains = valias.example, catch.example\n"
                               "virtual_alias_maps = texthash:@DIR@/virtual\n");
    check(p, UNTRUSTED, "info", "valias.example", ACCEPTED);
    check(p, UNTRUSTED, "SALES", "VAlias.Example", ACCEPTED);
    check(p, UNTRUSTED, "info+x", "valias.example", ACCEPTED);
    check(p, UNTRUSTED, "\"info+x\"", "valias.example", ACCEPTED);
    check(p, UNTRUSTED, "nobody", "valias.example", RCPT_UNKNOWN_USER,
          "550 5.1.1 <nobody@valias.example>: Recipient address rejected: User unknown in "
          "virtual alias table");
    /* a local user name is no member of a virtual alias domain */
    check(p, NET, "alice", "valias.example", RCPT_UNKNOWN_USER,
          "550 5.1.1 <alice@valias.example>: Recipient address rejected: User unknown in "
          "virtual alias table");
    check(p, UNTRUSTED, "anything", "catch.example", ACCEPTED);
    /* virtual aliasing applies to every domain, as in Postfix */
    check(p, UNTRUSTED, "staff", "mail.example.com", ACCEPTED);
    policy_close(p);
}
END_TEST

START_TEST(virtual_alias_empty_map)
{
    struct policy *p = open_ok(BASE_CONF "virtual_alias_domains = valias.example\n");
    check(p, NET, "info", "valias.example", RCPT_UNKNOWN_USER,
          "550 5.1.1 <info@valias.example>: Recipient address rejected: User unknown in "
          "virtual alias table");
    policy_close(p);
}
END_TEST

START_TEST(virtual_mailbox)
{
    write_file("vmailbox", "u1@vmbox.example vmbox.example/u1/\n"
                           "@all.example all.example/catchall/\n");
    struct policy *p = open_ok(BASE_CONF
                               "virtual_mailbox_domains = vmbox.example all.example\n"
                               "virtual_mailbox_maps = texthash:@DIR@/vmailbox\n"
                               "virtual_alias_maps = "
                               "inline:{alias@vmbox.example=u1@vmbox.example}\n");
    check(p, UNTRUSTED, "u1", "vmbox.example", ACCEPTED);
    check(p, UNTRUSTED, "alias", "vmbox.example", ACCEPTED);
    check(p, UNTRUSTED, "u2", "vmbox.example", RCPT_UNKNOWN_USER,
          "550 5.1.1 <u2@vmbox.example>: Recipient address rejected: User unknown in "
          "virtual mailbox table");
    check(p, UNTRUSTED, "whoever", "all.example", ACCEPTED);
    policy_close(p);
}
END_TEST

/* ---- relay domains and other domains ---- */

START_TEST(relay_without_maps)
{
    struct policy *p = open_ok(BASE_CONF "relay_domains = relay.example, .sub.relay.example\n");
    check(p, UNTRUSTED, "anyone", "relay.example", ACCEPTED);
    check(p, UNTRUSTED, "anyone", "Deep.SUB.relay.example", ACCEPTED);
    check(p, UNTRUSTED, "anyone", "a.sub.relay.example", ACCEPTED);
    /* ".domain" is for subdomains only, and "domain" for itself only */
    check(p, UNTRUSTED, "anyone", "sub.relay.example", DENIED("anyone@sub.relay.example"));
    check(p, UNTRUSTED, "anyone", "x.relay.example", DENIED("anyone@x.relay.example"));
    check(p, UNTRUSTED, "anyone", "notrelay.example", DENIED("anyone@notrelay.example"));
    policy_close(p);
}
END_TEST

START_TEST(relay_with_maps)
{
    struct policy *p = open_ok(BASE_CONF "relay_domains = relay.example open.example\n"
                               "relay_recipient_maps = inline:{known@relay.example=x, "
                               "@open.example=x}\n");
    check(p, UNTRUSTED, "known", "relay.example", ACCEPTED);
    check(p, UNTRUSTED, "Known", "RELAY.example", ACCEPTED);
    check(p, UNTRUSTED, "unknown", "relay.example", RCPT_UNKNOWN_USER,
          "550 5.1.1 <unknown@relay.example>: Recipient address rejected: User unknown in "
          "relay recipient table");
    check(p, NET, "unknown", "relay.example", RCPT_UNKNOWN_USER,
          "550 5.1.1 <unknown@relay.example>: Recipient address rejected: User unknown in "
          "relay recipient table");
    check(p, UNTRUSTED, "anyone", "open.example", ACCEPTED);
    policy_close(p);
}
END_TEST

START_TEST(domain_tables_and_negation)
{
    write_file("relay", "tab.example ok\n.wild.example ok\n");
    struct policy *p = open_ok(BASE_CONF "relay_domains = !no.lists.example, .lists.example, "
                               "texthash:@DIR@/relay\n");
    check(p, UNTRUSTED, "a", "yes.lists.example", ACCEPTED);
    check(p, UNTRUSTED, "a", "no.lists.example", DENIED("a@no.lists.example"));
    check(p, UNTRUSTED, "a", "Tab.Example", ACCEPTED);
    check(p, UNTRUSTED, "a", "sub.tab.example", DENIED("a@sub.tab.example"));
    check(p, UNTRUSTED, "a", "x.y.wild.example", ACCEPTED);
    check(p, UNTRUSTED, "a", "wild.example", DENIED("a@wild.example"));
    policy_close(p);
}
END_TEST

START_TEST(other_domains)
{
    struct policy *p = open_ok(BASE_CONF);
    check(p, UNTRUSTED, "someone", "example.org", DENIED("someone@example.org"));
    check(p, NET, "someone", "example.org", ACCEPTED);
    check(p, AUTH, "someone", "example.org", ACCEPTED);
    check(p, NET, "someone", "[192.0.2.1]", ACCEPTED);
    policy_close(p);
}
END_TEST

START_TEST(restriction_order)
{
    struct policy *p = open_ok(BASE_CONF "smtpd_relay_restrictions = permit_mynetworks, "
                               "defer_unauth_destination\n");
    check(p, UNTRUSTED, "someone", "example.org", RCPT_RELAY_DEFERRED,
          "450 4.7.1 <someone@example.org>: Relay access denied");
    check(p, AUTH, "someone", "example.org", RCPT_RELAY_DEFERRED,
          "450 4.7.1 <someone@example.org>: Relay access denied");
    check(p, NET, "someone", "example.org", ACCEPTED);
    /* local recipients are not relaying */
    check(p, UNTRUSTED, "alice", "mail.example.com", ACCEPTED);
    policy_close(p);

    p = open_ok(BASE_CONF "smtpd_relay_restrictions = reject_unauth_destination "
                "permit_mynetworks\n");
    check(p, NET, "someone", "example.org", DENIED("someone@example.org"));
    policy_close(p);
}
END_TEST

START_TEST(mynetworks)
{
    struct policy *p = open_ok(BASE_CONF);
    struct sockaddr_in in = { .sin_family = AF_INET };
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
    inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
    ck_assert(policy_client_in_mynetworks(p, (struct sockaddr *)&in));
    inet_pton(AF_INET, "192.0.2.1", &in.sin_addr);
    ck_assert(!policy_client_in_mynetworks(p, (struct sockaddr *)&in));
    inet_pton(AF_INET6, "::1", &in6.sin6_addr);
    ck_assert(policy_client_in_mynetworks(p, (struct sockaddr *)&in6));
    inet_pton(AF_INET6, "::ffff:127.0.0.2", &in6.sin6_addr);
    ck_assert(policy_client_in_mynetworks(p, (struct sockaddr *)&in6));
    inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr);
    ck_assert(!policy_client_in_mynetworks(p, (struct sockaddr *)&in6));
    policy_close(p);
}
END_TEST

/* ---- routing tricks ---- */

START_TEST(routing_tricks_untrusted)
{
    /* even where the local part names a known user */
    struct policy *p = open_ok(BASE_CONF "local_recipient_maps = inline:{alice=x, "
                               "{alice%other.example=x}, {other.example!alice=x}}\n"
                               "relay_domains = relay.example\n");
    check(p, UNTRUSTED, "alice%other.example", "mail.example.com",
          DENIED("alice%other.example@mail.example.com"));
    check(p, UNTRUSTED, "other.example!alice", "mail.example.com",
          DENIED("other.example!alice@mail.example.com"));
    check(p, UNTRUSTED, "\"alice@other.example\"", "mail.example.com",
          DENIED("\"alice@other.example\"@mail.example.com"));
    check(p, UNTRUSTED, "\"alice\\@other.example\"", "mail.example.com",
          DENIED("\"alice\\@other.example\"@mail.example.com"));
    check(p, UNTRUSTED, "alice%other.example", "relay.example",
          DENIED("alice%other.example@relay.example"));
    check(p, UNTRUSTED, "alice", "[192.0.2.1]", DENIED("alice@[192.0.2.1]"));
    check(p, UNTRUSTED, "alice", "[IPv6:2001:db8::1]", DENIED("alice@[IPv6:2001:db8::1]"));
    check(p, UNTRUSTED, "alice", "[127.0.0.1]", DENIED("alice@[127.0.0.1]"));
    check(p, UNTRUSTED, "user", "other.example", DENIED("user@other.example"));

    /* trusted clients may route (local parts are then plain lookups) */
    check(p, NET, "alice%other.example", "mail.example.com", ACCEPTED);
    check(p, AUTH, "other.example!alice", "mail.example.com", ACCEPTED);
    check(p, AUTH, "carol%other.example", "mail.example.com",
          UNKNOWN_LOCAL("carol%other.example@mail.example.com"));
    check(p, AUTH, "alice", "[192.0.2.1]", ACCEPTED);
    policy_close(p);
}
END_TEST

START_TEST(source_route)
{
    /* the parser drops the route and keeps the final address */
    struct policy *p = open_ok(BASE_CONF);
    struct smtp_address a = rcpt("alice", "other.example");
    a.source_route = true;
    check_as(p, UNTRUSTED, &a, DENIED("alice@other.example"));
    a = rcpt("alice", "mail.example.com");
    a.source_route = true;
    check_as(p, UNTRUSTED, &a, ACCEPTED);
    policy_close(p);
}
END_TEST

/* The same tricks as smtp_parse_path leaves them. */
START_TEST(routing_tricks_parsed)
{
    static const struct { const char *path; enum rcpt_verdict v; } cases[] = {
        { "<@mail.example.com:alice@other.example>", RCPT_RELAY_DENIED },
        { "<@relay1.example,@relay2.example:alice@mail.example.com>", RCPT_OK },
        { "<alice%other.example@mail.example.com>", RCPT_RELAY_DENIED },
        { "<other.example!alice@mail.example.com>", RCPT_RELAY_DENIED },
        { "<\"alice@other.example\"@mail.example.com>", RCPT_RELAY_DENIED },
        { "<alice@[192.0.2.1]>", RCPT_RELAY_DENIED },
        { "<alice@[IPv6:2001:db8::1]>", RCPT_RELAY_DENIED },
        { "<Alice@Mail.Example.Com>", RCPT_OK },
        { "<postmaster>", RCPT_OK },
    };
    struct policy *p = open_ok(BASE_CONF);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct smtp_address a;
        char why[ERR_TEXT_MAX] = "";
        const char *s = cases[i].path;
        ck_assert_msg(smtp_parse_path(s, strlen(s), false, true, &a, why, sizeof why) > 0,
                      "%s: %s", s, *why ? why : "");
        char reply[512];
        ck_assert_msg(policy_check_rcpt(p, &a, false, false, reply, sizeof reply) == cases[i].v,
                      "%s: %s", s, reply);
    }
    policy_close(p);
}
END_TEST

/* ---- failures ---- */

static void wait_next_second(void)
{
    struct timespec ts = { 1, 100 * 1000 * 1000 };   /* hash: tables re-check once a second */
    nanosleep(&ts, NULL);
}

START_TEST(lookup_failure)
{
    char err[ERR_TEXT_MAX], path[256];
    write_file("virtual", "info@valias.example alice\n");
    write_file("relay", "relay.example ok\n");
    snprintf(path, sizeof path, "hash:%s/virtual", tmpdir);
    ck_assert_msg(dict_build(path, DICT_FORMAT_MAP, err, sizeof err) == 1, "%s", err);
    snprintf(path, sizeof path, "hash:%s/relay", tmpdir);
    ck_assert_msg(dict_build(path, DICT_FORMAT_MAP, err, sizeof err) == 1, "%s", err);
    struct policy *p = open_ok(BASE_CONF "virtual_alias_domains = valias.example\n"
                               "virtual_alias_maps = hash:@DIR@/virtual\n"
                               "relay_domains = hash:@DIR@/relay\n");
    check(p, UNTRUSTED, "info", "valias.example", ACCEPTED);
    check(p, UNTRUSTED, "x", "relay.example", ACCEPTED);

    snprintf(path, sizeof path, "%s/virtual.db", tmpdir);
    ck_assert_int_eq(unlink(path), 0);
    snprintf(path, sizeof path, "%s/relay.db", tmpdir);
    ck_assert_int_eq(unlink(path), 0);
    wait_next_second();
    check(p, UNTRUSTED, "info", "valias.example", RCPT_TEMPFAIL,
          "451 4.3.0 <info@valias.example>: Temporary lookup failure");
    /* every domain that is no local one goes through the broken relay_domains table */
    check(p, NET, "x", "example.org", RCPT_TEMPFAIL,
          "451 4.3.0 <x@example.org>: Temporary lookup failure");
    /* local recipients consult virtual_alias_maps first */
    check(p, UNTRUSTED, "alice", "mail.example.com", RCPT_TEMPFAIL,
          "451 4.3.0 <alice@mail.example.com>: Temporary lookup failure");
    /* decided before any table is read */
    check(p, UNTRUSTED, "postmaster", "", ACCEPTED);
    check(p, UNTRUSTED, "a%b", "example.org", DENIED("a%b@example.org"));
    policy_close(p);
}
END_TEST

START_TEST(open_errors)
{
    char expected[512];
    open_fails(BASE_CONF "smtpd_relay_restrictions = permit_mynetworks, "
               "reject_unknown_client_hostname, reject_unauth_destination\n",
               "smtpd_relay_restrictions: unknown restriction \"reject_unknown_client_hostname\"");
    open_fails(BASE_CONF "smtpd_relay_restrictions = Permit_Mynetworks\n",
               "smtpd_relay_restrictions: unknown restriction \"Permit_Mynetworks\"");
    open_fails(BASE_CONF "smtpd_relay_restrictions = permit_mynetworks\n",
               "smtpd_relay_restrictions: specify at least one of reject_unauth_destination, "
               "defer_unauth_destination (else anyone may relay)");
    open_fails(BASE_CONF "smtpd_relay_restrictions =\n",
               "smtpd_relay_restrictions: specify at least one of reject_unauth_destination, "
               "defer_unauth_destination (else anyone may relay)");
    open_fails(BASE_CONF "mynetworks = 127.0.0.0/8, 10.0.0.0/33\n",
               "mynetworks: 10.0.0.0/33: prefix length greater than 32");
    open_fails(BASE_CONF "mynetworks = localhost\n",
               "mynetworks: localhost: host names are not accepted (numeric addresses only)");
    open_fails(BASE_CONF "virtual_alias_maps = virtual\n",
               "virtual_alias_maps: \"virtual\": not a table (expected type:name)");
    open_fails(BASE_CONF "relay_domains = /etc/tern/relay_domains\n",
               "relay_domains: /etc/tern/relay_domains: file names are not supported here "
               "(use texthash:/etc/tern/relay_domains)");
    open_fails(BASE_CONF "relay_domains = nis:relay\n",
               "relay_domains: nis:relay: unsupported table type \"nis\"");
    open_fails(BASE_CONF "virtual_mailbox_maps = inline:{a=b\n",
               "virtual_mailbox_maps: inline:{a=b: expected inline:{ key=value, ... }");
    snprintf(expected, sizeof expected, "local_recipient_maps: texthash:%s/missing: cannot read "
             "%s/missing: No such file or directory", tmpdir, tmpdir);
    open_fails("local_recipient_maps = texthash:@DIR@/missing\n", expected);
}
END_TEST

START_TEST(reply_bounds)
{
    struct policy *p = open_ok(BASE_CONF);
    struct smtp_address a = rcpt("someone", "example.org");
    char reply[16];
    ck_assert_int_eq(policy_check_rcpt(p, &a, false, false, reply, sizeof reply),
                     RCPT_RELAY_DENIED);
    ck_assert_str_eq(reply, "554 5.7.1 <some");
    ck_assert_int_eq(policy_check_rcpt(p, &a, false, false, NULL, 0), RCPT_RELAY_DENIED);
    policy_close(p);
    policy_close(NULL);
}
END_TEST

static Suite *policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, local_users);
    tcase_add_test(tc, local_delimiter);
    tcase_add_test(tc, local_postmaster);
    tcase_add_test(tc, local_empty_maps);
    tcase_add_test(tc, local_passwd_and_aliases);
    tcase_add_test(tc, unix_passwd);
    tcase_add_test(tc, virtual_alias);
    tcase_add_test(tc, virtual_alias_empty_map);
    tcase_add_test(tc, virtual_mailbox);
    tcase_add_test(tc, relay_without_maps);
    tcase_add_test(tc, relay_with_maps);
    tcase_add_test(tc, domain_tables_and_negation);
    tcase_add_test(tc, other_domains);
    tcase_add_test(tc, restriction_order);
    tcase_add_test(tc, mynetworks);
    tcase_add_test(tc, routing_tricks_untrusted);
    tcase_add_test(tc, source_route);
    tcase_add_test(tc, routing_tricks_parsed);
    tcase_add_test(tc, lookup_failure);
    tcase_add_test(tc, open_errors);
    tcase_add_test(tc, reply_bounds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(policy_suite());
}
