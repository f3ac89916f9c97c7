/* srs_rcpt.c: SRS addresses at RCPT (see srs_rcpt.h). The key is read once as root; an SRS
 * address is recognised by its domain (srs_domain, any case) and local part (SRS0/SRS1, any
 * case), and turned back with srs_reverse at the time of the command. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "config.h"
#include "errtext.h"
#include "lists.h"
#include "log.h"
#include "srs.h"
#include "srs_rcpt.h"

static struct {
    bool on;
    char domain[SRS_DOMAIN_MAX];      /* srs_domain, lower case */
    struct srs_key key;
} S;

/* Whether srs_domain is one of the domains tern is the destination for: 1, 0, -1 with err. */
static int domain_is_ours(const char *domain, char *err, size_t errlen)
{
    static const char *const params[] = { "mydestination", "virtual_alias_domains",
                                          "virtual_mailbox_domains" };
    int rc = 0;
    for (size_t i = 0; i < sizeof params / sizeof params[0] && rc == 0; i++) {
        struct domain_list *l;
        if (domain_list_read(params[i], &l, err, errlen) < 0)
            return -1;
        rc = domain_list_match(l, domain, err, errlen);
        domain_list_free(l);
    }
    return rc;
}

int srs_rcpt_open(char *err, size_t errlen)
{
    sodium_memzero(&S, sizeof S);
    const char *domain = config_str("srs_domain");
    domain += strspn(domain, LIST_SEPARATORS);
    size_t n = strcspn(domain, LIST_SEPARATORS);
    if (n == 0)
        return 0;
    if (n >= sizeof S.domain || domain[n + strspn(domain + n, LIST_SEPARATORS)] != '\0') {
        snprintf(err, errlen, "srs_domain: not one domain of at most %zu bytes",
                 sizeof S.domain - 1);
        return -1;
    }
    memcpy(S.domain, domain, n);
    S.domain[n] = '\0';
    list_lower(S.domain);
    int ours = domain_is_ours(S.domain, err, errlen);
    if (ours <= 0) {
        if (ours == 0)
            snprintf(err, errlen, "srs_domain = %s is not a domain tern receives mail for (it "
                     "must be in mydestination, virtual_alias_domains or "
                     "virtual_mailbox_domains): bounces to SRS addresses would be refused",
                     S.domain);
        return -1;
    }
    char why[ERR_TEXT_MAX];
    if (sodium_init() < 0) {
        snprintf(err, errlen, "cannot initialize libsodium");
        return -1;
    }
    if (srs_key_load(config_str("srs_key_file"), &S.key, why, sizeof why) < 0) {
        snprintf(err, errlen, "srs_domain is set but the key cannot be used (srs_key_file; "
                 "`tern setup` makes a missing one): %s", why);
        return -1;
    }
    S.on = true;
    return 0;
}

int srs_rcpt_check(const char *client, struct smtp_address *addr, struct rcpt_params *params,
                   char *reply, size_t replylen)
{
    if (!S.on || addr->null || addr->quoted)
        return 0;
    char orig[SRS_ADDRESS_MAX];
    enum srs_status st = srs_reverse(&S.key, S.domain, addr->address, time(NULL), orig,
                                     sizeof orig);
    if (st == SRS_NOT_SRS)
        return 0;
    char path[SRS_ADDRESS_MAX + 2], why[ERR_TEXT_MAX];
    struct smtp_address back;
    snprintf(path, sizeof path, "<%s>", orig);
    if (st == SRS_OK && smtp_parse_path(path, strlen(path), false, false, &back, why,
                                        sizeof why) < 0)
        st = SRS_MALFORMED;   /* not an address SMTP can carry (srs_forward never makes one) */
    if (st != SRS_OK) {
        snprintf(reply, replylen, "550 5.1.1 <%s>: Recipient address rejected: %s",
                 addr->address, srs_status_text(st));
        return -1;
    }
    log_info("NOQUEUE: SRS recipient <%s> is <%s>; client=%s", addr->address, back.address,
             client);
    if (params->orcpt_type[0] == '\0') {
        snprintf(params->orcpt_type, sizeof params->orcpt_type, "rfc822");
        snprintf(params->orcpt, sizeof params->orcpt, "%s", addr->address);
    }
    *addr = back;
    return 1;
}
