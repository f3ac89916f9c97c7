/* policy.c: smtpd's policy (see policy.h): at RCPT the address class of the recipient's domain,
 * then that class's recipient tables, or smtpd_relay_restrictions for the domains tern is no
 * destination for; at MAIL smtpd_sender_restrictions with the owners of sender addresses
 * (smtpd_sender_login_maps), which also rule the From: header of a logged-in client. Built once
 * from the configuration by policy_open. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "address.h"
#include "config.h"
#include "dict.h"
#include "lists.h"
#include "log.h"
#include "mem.h"
#include "netmatch.h"
#include "policy.h"

#define RESTRICTION_MAX 32

enum restriction {
    R_PERMIT_MYNETWORKS, R_PERMIT_SASL, R_REJECT_UNAUTH, R_DEFER_UNAUTH,
    R_LOGIN_MISMATCH,          /* reject_sender_login_mismatch: both of the next two */
    R_AUTH_LOGIN_MISMATCH,     /* a login sending as an address it does not own */
    R_UNAUTH_LOGIN_MISMATCH,   /* no login, sending as an address that has owners */
};

/* The restrictions, and the lists each may appear in. */
enum { IN_RELAY = 1, IN_SENDER = 2 };
static const struct { const char *name; enum restriction r; int lists; } restriction_names[] = {
    { "permit_mynetworks", R_PERMIT_MYNETWORKS, IN_RELAY | IN_SENDER },
    { "permit_sasl_authenticated", R_PERMIT_SASL, IN_RELAY | IN_SENDER },
    { "reject_unauth_destination", R_REJECT_UNAUTH, IN_RELAY },
    { "defer_unauth_destination", R_DEFER_UNAUTH, IN_RELAY },
    { "reject_sender_login_mismatch", R_LOGIN_MISMATCH, IN_SENDER },
    { "reject_authenticated_sender_login_mismatch", R_AUTH_LOGIN_MISMATCH, IN_SENDER },
    { "reject_unauthenticated_sender_login_mismatch", R_UNAUTH_LOGIN_MISMATCH, IN_SENDER },
};

struct restrictions {
    int list;                  /* IN_RELAY or IN_SENDER */
    enum restriction r[RESTRICTION_MAX];
    size_t n;
};

enum rcpt_class { C_LOCAL, C_VIRTUAL_ALIAS, C_VIRTUAL_MAILBOX, C_RELAY, C_OTHER };

struct policy {
    struct domain_list *mydestination, *virtual_alias_domains, *virtual_mailbox_domains,
        *relay_domains;
    struct table_list *local_maps, *virtual_alias_maps, *virtual_mailbox_maps, *relay_maps,
        *sender_login_maps;
    char *delimiters;          /* recipient_delimiter: each byte is a delimiter */
    struct netlist *mynetworks;
    struct restrictions relay, sender;
};

/* ---- reading the configuration ---- */

static int add_restriction(void *list, char *item, char *err, size_t errlen)
{
    struct restrictions *l = list;
    for (size_t i = 0; i < sizeof restriction_names / sizeof restriction_names[0]; i++) {
        if (strcmp(item, restriction_names[i].name) != 0)
            continue;
        if (!(restriction_names[i].lists & l->list)) {
            snprintf(err, errlen, "%s does not belong in this list", item);
            return -1;
        }
        if (l->n == RESTRICTION_MAX) {
            snprintf(err, errlen, "more than %d restrictions", RESTRICTION_MAX);
            return -1;
        }
        l->r[l->n++] = restriction_names[i].r;
        return 0;
    }
    snprintf(err, errlen, "unknown restriction \"%.64s\"", item);
    return -1;
}

/* As Postfix insists: without a reject or defer for other domains, tern is an open relay. */
static int check_restrictions(const struct policy *p, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->relay.n; i++)
        if (p->relay.r[i] == R_REJECT_UNAUTH || p->relay.r[i] == R_DEFER_UNAUTH)
            return 0;
    snprintf(err, errlen, "smtpd_relay_restrictions: specify at least one of "
             "reject_unauth_destination, defer_unauth_destination (else anyone may relay)");
    return -1;
}

static int read_mynetworks(struct policy *p, char *err, size_t errlen)
{
    char why[ERR_TEXT_MAX];
    p->mynetworks = netlist_parse(config_str("mynetworks"), why, sizeof why);
    if (p->mynetworks)
        return 0;
    snprintf(err, errlen, "mynetworks: %s", why);
    return -1;
}

static int read_config(struct policy *p, char *err, size_t errlen)
{
    if (domain_list_read("mydestination", &p->mydestination, err, errlen) < 0
        || domain_list_read("virtual_alias_domains", &p->virtual_alias_domains, err, errlen) < 0
        || domain_list_read("virtual_mailbox_domains", &p->virtual_mailbox_domains, err,
                            errlen) < 0
        || domain_list_read("relay_domains", &p->relay_domains, err, errlen) < 0
        || table_list_read("local_recipient_maps", &p->local_maps, err, errlen) < 0
        || table_list_read("virtual_alias_maps", &p->virtual_alias_maps, err, errlen) < 0
        || table_list_read("virtual_mailbox_maps", &p->virtual_mailbox_maps, err, errlen) < 0
        || table_list_read("relay_recipient_maps", &p->relay_maps, err, errlen) < 0
        || table_list_read("smtpd_sender_login_maps", &p->sender_login_maps, err, errlen) < 0)
        return -1;
    p->delimiters = xstrdup(config_str("recipient_delimiter"));
    p->relay.list = IN_RELAY;
    p->sender.list = IN_SENDER;
    if (list_read("smtpd_relay_restrictions", add_restriction, &p->relay, err, errlen) < 0
        || check_restrictions(p, err, errlen) < 0
        || list_read("smtpd_sender_restrictions", add_restriction, &p->sender, err, errlen) < 0)
        return -1;
    return read_mynetworks(p, err, errlen);
}

struct policy *policy_open(char *err, size_t errlen)
{
    struct policy *p = xcalloc(1, sizeof *p);
    if (read_config(p, err, errlen) < 0) {
        policy_close(p);
        return NULL;
    }
    return p;
}

void policy_close(struct policy *p)
{
    if (!p)
        return;
    domain_list_free(p->mydestination);
    domain_list_free(p->virtual_alias_domains);
    domain_list_free(p->virtual_mailbox_domains);
    domain_list_free(p->relay_domains);
    table_list_free(p->local_maps);
    table_list_free(p->virtual_alias_maps);
    table_list_free(p->virtual_mailbox_maps);
    table_list_free(p->relay_maps);
    table_list_free(p->sender_login_maps);
    free(p->delimiters);
    netlist_free(p->mynetworks);
    free(p);
}

bool policy_client_in_mynetworks(const struct policy *p, const struct sockaddr *peer)
{
    return netlist_match(p->mynetworks, peer);
}

/* ---- lookups ---- */

/* The first table that has key wins; -1 on a table error (logged; the caller defers). */
static int maps_find(const struct table_list *m, const char *key)
{
    char err[ERR_TEXT_MAX];
    int rc = table_list_find(m, key, NULL, err, sizeof err);
    if (rc < 0)
        log_warn("%s", err);
    return rc;
}

/* 1 when the domain is in the list, 0 when not, -1 on a table error (logged). */
static int domain_in(const struct domain_list *l, const char *domain)
{
    char err[ERR_TEXT_MAX];
    int rc = domain_list_match(l, domain, err, sizeof err);
    if (rc < 0)
        log_warn("%s", err);
    return rc;
}

/* The address class, in Postfix's order; -1 on a table error. */
static int classify(struct policy *p, const struct mail_address *a, enum rcpt_class *c)
{
    const struct domain_list *lists[] = { p->mydestination, p->virtual_alias_domains,
                                          p->virtual_mailbox_domains, p->relay_domains };
    static const enum rcpt_class classes[] = { C_LOCAL, C_VIRTUAL_ALIAS, C_VIRTUAL_MAILBOX,
                                               C_RELAY };
    if (a->domain[0] == '\0') {   /* a bare local part is one of ours */
        *c = C_LOCAL;
        return 0;
    }
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        int rc = domain_in(lists[i], a->domain);
        if (rc != 0) {
            *c = classes[i];
            return rc < 0 ? -1 : 0;
        }
    }
    *c = C_OTHER;
    return 0;
}

/* Whether a table of m has the recipient under one of its keys (address_lookup_keys: virtual(5)
 * order for addresses, user+ext then user for local parts). */
static int keys_find(const struct policy *p, const struct table_list *m,
                     const struct mail_address *a, enum address_keys which)
{
    char keys[ADDRESS_KEYS_MAX][ADDRESS_KEY_MAX];
    int n = address_lookup_keys(a, p->delimiters, which, keys);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = maps_find(m, keys[i]);
    return rc;
}

/* Whether a recipient of a domain tern serves exists: 1, 0 (table names the table that says
 * so), -1 on a table error. An address in virtual_alias_maps exists in every class, as Postfix
 * rewrites it before delivery; an empty table list accepts all but virtual alias domains. */
static int recipient_known(struct policy *p, enum rcpt_class c, const struct mail_address *a,
                           const char **table)
{
    int rc = a->domain[0] ? keys_find(p, p->virtual_alias_maps, a, ADDRESS_KEYS_ADDRESS) : 0;
    if (rc != 0)
        return rc;
    switch (c) {
    case C_LOCAL:
        *table = "local recipient";
        return table_list_count(p->local_maps)
                   ? keys_find(p, p->local_maps, a, ADDRESS_KEYS_LOCAL) : 1;
    case C_VIRTUAL_ALIAS:
        *table = "virtual alias";
        return 0;
    case C_VIRTUAL_MAILBOX:
        *table = "virtual mailbox";
        return table_list_count(p->virtual_mailbox_maps)
                   ? keys_find(p, p->virtual_mailbox_maps, a, ADDRESS_KEYS_ADDRESS) : 1;
    case C_RELAY:
        *table = "relay recipient";
        return table_list_count(p->relay_maps)
                   ? keys_find(p, p->relay_maps, a, ADDRESS_KEYS_ADDRESS) : 1;
    case C_OTHER:
        break;
    }
    return 1;
}

/* smtpd_relay_restrictions, for a domain tern is no destination for. */
static enum rcpt_verdict relay_verdict(const struct policy *p, bool trusted_net,
                                       bool authenticated)
{
    for (size_t i = 0; i < p->relay.n; i++) {
        switch (p->relay.r[i]) {
        case R_PERMIT_MYNETWORKS:
            if (trusted_net)
                return RCPT_OK;
            break;
        case R_PERMIT_SASL:
            if (authenticated)
                return RCPT_OK;
            break;
        case R_REJECT_UNAUTH:
            return RCPT_RELAY_DENIED;
        case R_DEFER_UNAUTH:
            return RCPT_RELAY_DEFERRED;
        default:
            break;   /* not in this list (policy_open) */
        }
    }
    return RCPT_RELAY_DENIED;   /* not reached: policy_open requires a reject or a defer */
}

/* ---- the recipient ---- */

/* The percent hack, bang paths, a quoted @ and address literals all name a next hop inside the
 * address; for a client that may not relay none of them is accepted, whatever the domain. */
static bool routing_trick(const struct smtp_address *rcpt, const struct mail_address *a)
{
    return rcpt->literal || rcpt->domain[0] == '[' || strpbrk(a->local, "%!@") != NULL;
}

static enum rcpt_verdict reply_for(enum rcpt_verdict v, const char *table,
                                   const struct smtp_address *rcpt, char *reply, size_t len)
{
    const char *a = rcpt->null ? "" : rcpt->address;
    if (!reply || len == 0)
        return v;
    switch (v) {
    case RCPT_OK:
        reply[0] = '\0';
        break;
    case RCPT_UNKNOWN_USER:
        snprintf(reply, len, "550 5.1.1 <%s>: Recipient address rejected: User unknown in %s "
                 "table", a, table);
        break;
    case RCPT_RELAY_DENIED:
        snprintf(reply, len, "554 5.7.1 <%s>: Relay access denied", a);
        break;
    case RCPT_RELAY_DEFERRED:
        snprintf(reply, len, "450 4.7.1 <%s>: Relay access denied", a);
        break;
    case RCPT_TEMPFAIL:
        snprintf(reply, len, "451 4.3.0 <%s>: Temporary lookup failure", a);
        break;
    }
    return v;
}

static enum rcpt_verdict verdict(struct policy *p, const struct smtp_address *rcpt,
                                 bool trusted_net, bool authenticated, const char **table)
{
    struct mail_address a;
    if (rcpt->null || address_split(rcpt->address, &a) < 0)
        return RCPT_RELAY_DENIED;   /* the parser keeps addresses far shorter than ADDRESS_MAX */
    if (a.domain[0] == '\0' && strcmp(a.local, "postmaster") == 0)
        return RCPT_OK;   /* RFC 5321 4.5.1: always accepted */
    if (!trusted_net && !authenticated && routing_trick(rcpt, &a))
        return RCPT_RELAY_DENIED;
    enum rcpt_class c;
    if (classify(p, &a, &c) < 0)
        return RCPT_TEMPFAIL;
    if (c == C_OTHER)
        return relay_verdict(p, trusted_net, authenticated);
    switch (recipient_known(p, c, &a, table)) {
    case 1: return RCPT_OK;
    case 0: return RCPT_UNKNOWN_USER;
    default: return RCPT_TEMPFAIL;
    }
}

enum rcpt_verdict policy_check_rcpt(struct policy *p, const struct smtp_address *rcpt,
                                    bool trusted_net, bool authenticated, char *reply,
                                    size_t replylen)
{
    const char *table = "";
    enum rcpt_verdict v = verdict(p, rcpt, trusted_net, authenticated, &table);
    return reply_for(v, table, rcpt, reply, replylen);
}

/* ---- the sender ---- */

/* Whether login is among the owners "a, b c" (logins compared without regard to case). */
static bool owner_listed(const char *owners, const char *login)
{
    size_t n = strlen(login);
    for (const char *o = owners; *o;) {
        o += strspn(o, LIST_SEPARATORS);
        size_t len = strcspn(o, LIST_SEPARATORS);
        if (len == n && n > 0 && strncasecmp(o, login, n) == 0)
            return true;
        o += len;
    }
    return false;
}

/* Who may send as address: *owned is 1 when smtpd_sender_login_maps names owners for it
 * (under its keys in virtual(5) order), and *allowed whether login (NULL: none) may use it: a
 * login that is the address itself always may. -1 on a table error (logged). */
static int ownership(struct policy *p, const char *address, const char *login, bool *owned,
                     bool *allowed)
{
    *owned = false;
    *allowed = login && strcasecmp(login, address) == 0;
    struct mail_address a;
    if (address_split(address, &a) < 0)
        return 0;
    char keys[ADDRESS_KEYS_MAX][ADDRESS_KEY_MAX];
    int n = address_lookup_keys(&a, p->delimiters, ADDRESS_KEYS_ADDRESS, keys);
    for (int i = 0; i < n; i++) {
        char err[ERR_TEXT_MAX];
        const char *owners;
        int rc = table_list_find(p->sender_login_maps, keys[i], &owners, err, sizeof err);
        if (rc < 0) {
            log_warn("%s", err);
            return -1;
        }
        if (rc == 1) {
            *owned = true;
            if (login && owner_listed(owners, login))
                *allowed = true;
            return 0;
        }
    }
    return 0;
}

/* One login-mismatch restriction on address; what names the address in the reply. */
static enum sender_verdict login_mismatch(struct policy *p, enum restriction r,
                                          const char *address, const char *login,
                                          const char *what, char *reply, size_t len)
{
    bool owned, allowed;
    if (ownership(p, address, login, &owned, &allowed) < 0) {
        snprintf(reply, len, "451 4.3.0 <%s>: Temporary lookup failure", address);
        return SENDER_TEMPFAIL;
    }
    if (login && !allowed && r != R_UNAUTH_LOGIN_MISMATCH) {
        snprintf(reply, len, "553 5.7.1 <%s>: %s rejected: not owned by user %s", address, what,
                 login);
        return SENDER_REJECT;
    }
    if (!login && owned && r != R_AUTH_LOGIN_MISMATCH) {
        snprintf(reply, len, "553 5.7.1 <%s>: %s rejected: not logged in", address, what);
        return SENDER_REJECT;
    }
    return SENDER_OK;
}

enum sender_verdict policy_check_sender(struct policy *p, const struct smtp_address *sender,
                                        bool trusted_net, const char *login,
                                        bool *from_checked, char *reply, size_t replylen)
{
    *from_checked = false;
    reply[0] = '\0';
    for (size_t i = 0; i < p->sender.n; i++) {
        enum restriction r = p->sender.r[i];
        switch (r) {
        case R_PERMIT_MYNETWORKS:
            if (trusted_net)
                return SENDER_OK;
            break;
        case R_PERMIT_SASL:
            if (login)
                return SENDER_OK;
            break;
        case R_LOGIN_MISMATCH:
        case R_AUTH_LOGIN_MISMATCH:
        case R_UNAUTH_LOGIN_MISMATCH:
            if (login && r != R_UNAUTH_LOGIN_MISMATCH)
                *from_checked = true;
            if (!sender->null) {
                enum sender_verdict v = login_mismatch(p, r, sender->address, login,
                                                       "Sender address", reply, replylen);
                if (v != SENDER_OK)
                    return v;
            }
            break;
        default:
            break;   /* not in this list (policy_open) */
        }
    }
    return SENDER_OK;
}

enum sender_verdict policy_check_from(struct policy *p, const char *address, const char *login,
                                      char *reply, size_t replylen)
{
    enum sender_verdict v = login_mismatch(p, R_AUTH_LOGIN_MISMATCH, address, login,
                                           "From: address", reply, replylen);
    if (v == SENDER_REJECT)   /* at the end of DATA: 550, not MAIL's 553 */
        memcpy(reply, "550", 3);
    return v;
}
