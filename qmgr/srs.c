/* srs.c: the Sender Rewriting Scheme in the queue manager (mail/srs.h does the addresses): the
 * sender of a forwarded copy bound for other domains is rewritten into srs_domain, so SPF passes
 * at the next hop, and mail queued here for an SRS address of srs_domain (a bounce tern's own
 * smtp client made for such a copy) goes back to the original sender. Off when srs_domain is
 * empty. The key is read as root at start, before qmgr drops its privileges. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "address.h"
#include "config.h"
#include "errtext.h"
#include "lists.h"
#include "mem.h"
#include "qmgr.h"

struct qsrs {
    struct srs_key key;
    char domain[SRS_DOMAIN_MAX];      /* srs_domain, lower case */
    /* the domains tern delivers itself: a copy for them is not forwarded off the host */
    struct domain_list *mydestination, *virtual_alias_domains, *virtual_mailbox_domains;
};

int qsrs_open(struct qsrs **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *domain = config_str("srs_domain");
    domain += strspn(domain, LIST_SEPARATORS);
    size_t n = strcspn(domain, LIST_SEPARATORS);
    if (n == 0)
        return 0;
    if (n >= SRS_DOMAIN_MAX || domain[n + strspn(domain + n, LIST_SEPARATORS)] != '\0') {
        snprintf(err, errlen, "srs_domain: not one domain of at most %d bytes",
                 SRS_DOMAIN_MAX - 1);
        return -1;
    }
    if (sodium_init() < 0) {
        snprintf(err, errlen, "cannot initialize libsodium");
        return -1;
    }
    struct qsrs *s = xcalloc(1, sizeof *s);
    memcpy(s->domain, domain, n);
    s->domain[n] = '\0';
    list_lower(s->domain);
    char why[ERR_TEXT_MAX];
    if (srs_key_load(config_str("srs_key_file"), &s->key, why, sizeof why) < 0) {
        snprintf(err, errlen, "srs_domain is set but the key cannot be used (srs_key_file; "
                 "`tern setup` makes a missing one): %s", why);
        qsrs_close(s);
        return -1;
    }
    if (domain_list_read("mydestination", &s->mydestination, err, errlen) < 0 ||
        domain_list_read("virtual_alias_domains", &s->virtual_alias_domains, err, errlen) < 0 ||
        domain_list_read("virtual_mailbox_domains", &s->virtual_mailbox_domains, err,
                         errlen) < 0) {
        qsrs_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void qsrs_close(struct qsrs *s)
{
    if (!s)
        return;
    domain_list_free(s->mydestination);
    domain_list_free(s->virtual_alias_domains);
    domain_list_free(s->virtual_mailbox_domains);
    sodium_memzero(s, sizeof *s);
    free(s);
}

const char *qsrs_domain(const struct qsrs *s)
{
    return s->domain;
}

int qsrs_remote(const struct qsrs *s, const char *address, char *err, size_t errlen)
{
    struct mail_address a;
    if (address_split(address, &a) < 0) {
        snprintf(err, errlen, "<%.64s...>: address too long", address);
        return -1;
    }
    if (a.domain[0] == '\0')   /* a bare local part is delivered here */
        return 0;
    const struct domain_list *ours[] = { s->mydestination, s->virtual_alias_domains,
                                         s->virtual_mailbox_domains };
    for (size_t k = 0; k < sizeof ours / sizeof ours[0]; k++) {
        int rc = domain_list_match(ours[k], a.domain, err, errlen);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    return 1;
}

enum srs_status qsrs_forward(const struct qsrs *s, const char *sender, time_t now, char *out,
                             size_t size)
{
    return srs_forward(&s->key, s->domain, sender, now, out, size);
}

enum srs_status qsrs_reverse(const struct qsrs *s, const char *recipient, time_t now, char *out,
                             size_t size)
{
    return srs_reverse(&s->key, s->domain, recipient, now, out, size);
}
