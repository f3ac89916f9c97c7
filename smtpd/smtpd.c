/* smtpd.c: the tern SMTP server daemon: runs on the server skeleton (common/server.c) as
 * mail_owner, one event loop with many sessions (session.c). Reads its settings once (tern.conf
 * with this service's -o overrides), builds the TLS context and opens the tables as root before
 * privileges are dropped, then starts the worker threads that make queue files durable and check
 * passwords. Services: smtp (25), submission (587: -o smtpd_tls_security_level=encrypt
 * -o smtpd_sasl_auth_enable=yes -o smtpd_require_auth=yes), submissions (465:
 * -o smtpd_tls_wrappermode=yes), as in Postfix's master.cf. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sodium.h>
#include "auth.h"
#include "config.h"
#include "dkim_signing.h"
#include "dmarc.h"
#include "dns.h"
#include "log.h"
#include "mem.h"
#include "policy.h"
#include "qcommit.h"
#include "server.h"
#include "session.h"
#include "smtpd.h"
#include "srs_rcpt.h"
#include "tls.h"
#include "workpool.h"

struct smtpd smtpd;

/* ---- per-client session counts (a small hash table of addresses) ---- */

#define COUNT_BUCKETS 4096

struct client_count {
    char address[48];
    int sessions;
    struct client_count *next;
};

static struct client_count *counts[COUNT_BUCKETS];

static unsigned bucket(const char *address)
{
    unsigned h = 5381;
    for (const unsigned char *p = (const unsigned char *)address; *p; p++)
        h = h * 33 + *p;
    return h % COUNT_BUCKETS;
}

int smtpd_client_count_add(const char *address, int delta)
{
    struct client_count **link = &counts[bucket(address)];
    while (*link && strcmp((*link)->address, address) != 0)
        link = &(*link)->next;
    if (*link == NULL) {
        if (delta <= 0)
            return 0;
        *link = xcalloc(1, sizeof **link);
        snprintf((*link)->address, sizeof (*link)->address, "%s", address);
    }
    struct client_count *c = *link;
    c->sessions += delta;
    int n = c->sessions;
    if (n <= 0) {
        *link = c->next;
        free(c);
        n = 0;
    }
    return n;
}

/* ---- settings ---- */

/* SPF, DKIM and DMARC of the mail of untrusted clients (msgauth.h). */
static void read_auth_settings(struct msgauth_settings *a, const char *myhostname)
{
    a->spf = config_bool("smtpd_spf_verify");
    a->dkim = config_bool("smtpd_dkim_verify");
    long long limit = config_int("smtpd_dkim_signature_limit");
    if (limit < 0 || limit > 32)
        log_fatal_code(EX_CONFIG, "smtpd_dkim_signature_limit must be 0-32, not %lld", limit);
    a->dkim_limit = (size_t)limit;
    const char *mode = config_str("smtpd_dmarc_policy");
    if (strcmp(mode, "enforce") == 0)
        a->dmarc = MSGAUTH_DMARC_ENFORCE;
    else if (strcmp(mode, "report") == 0)
        a->dmarc = MSGAUTH_DMARC_REPORT;
    else if (strcmp(mode, "off") == 0)
        a->dmarc = MSGAUTH_DMARC_OFF;
    else
        log_fatal_code(EX_CONFIG, "smtpd_dmarc_policy must be enforce, report or off, not "
                       "\"%s\"", mode);
    long long timeout = config_time("smtpd_policy_dns_timeout");
    a->timeout_ms = (timeout < 1 ? 1 : timeout > 3600 ? 3600 : timeout) * 1000;
    a->authserv_id = config_str("authserv_id");
    a->myhostname = myhostname;
}

static void read_settings(struct smtpd_settings *s)
{
    s->myhostname = config_str("myhostname");
    s->banner = config_str("smtpd_banner");
    s->timeout = config_time("smtpd_timeout");
    s->message_size_limit = config_size("message_size_limit");
    s->header_size_limit = config_size("header_size_limit");
    s->line_length_limit = config_int("line_length_limit");
    s->hopcount_limit = config_int("hopcount_limit");
    s->recipient_limit = config_int("smtpd_recipient_limit");
    s->client_connection_limit = config_int("smtpd_client_connection_count_limit");
    s->soft_error_limit = config_int("smtpd_soft_error_limit");
    s->hard_error_limit = config_int("smtpd_hard_error_limit");
    s->error_sleep_time = config_time("smtpd_error_sleep_time");
    s->junk_command_limit = config_int("smtpd_junk_command_limit");
    s->sasl_failure_limit = config_int("smtpd_sasl_failure_limit");
    s->queue_minfree = config_size("queue_minfree");
    s->helo_required = config_bool("smtpd_helo_required");
    s->disable_vrfy = config_bool("disable_vrfy_command");
    s->forbid_unauth_pipelining = config_bool("smtpd_forbid_unauth_pipelining");
    s->reject_bare_newline = strcmp(config_str("smtpd_forbid_bare_newline"), "reject") == 0;
    s->add_missing_headers = config_bool("smtpd_add_missing_headers");
    s->require_auth = config_bool("smtpd_require_auth");
    const char *level = config_str("smtpd_tls_security_level");
    s->tls_wrapper = config_bool("smtpd_tls_wrappermode");
    s->tls_offer = strcmp(level, "none") != 0;
    s->tls_required = strcmp(level, "encrypt") == 0;
    s->sasl_enable = config_bool("smtpd_sasl_auth_enable");
    s->sasl_authenticated_header = config_bool("smtpd_sasl_authenticated_header");
    s->peername_lookup = config_bool("smtpd_peername_lookup");
    read_auth_settings(&s->auth, s->myhostname);
    s->verify = s->auth.spf || s->auth.dkim || s->auth.dmarc != MSGAUTH_DMARC_OFF;
    if (s->line_length_limit < 512)
        s->line_length_limit = 512;   /* RFC 5321 4.5.3.1.4: a command line may be 512 bytes */
    if (s->timeout < 1)
        s->timeout = 1;
}

/* As root: the key may be readable by root only, and so may the tables. */
static void pre_jail(void)
{
    char err[512];
    if (sodium_init() < 0)
        log_fatal("cannot initialize libsodium");
    read_settings(&smtpd.set);
    bool need_tls = smtpd.set.tls_offer || smtpd.set.tls_wrapper;
    const char *cert = config_str("smtpd_tls_cert_file");
    if (need_tls || *cert) {
        smtpd.tls = tls_server_context(cert, config_str("smtpd_tls_key_file"), err, sizeof err);
        if (smtpd.tls == NULL && need_tls)
            log_fatal_code(EX_CONFIG, "TLS is configured but cannot be used: %s", err);
        if (smtpd.tls == NULL)
            log_warn("TLS not available: %s", err);
    }
    if (smtpd.set.peername_lookup || smtpd.set.verify) {
        smtpd.dns = dns_open(err, sizeof err);
        if (smtpd.dns == NULL)
            log_warn("%s; client names are not looked up, nor SPF, DKIM or DMARC checked", err);
    }
    smtpd.signing = dkim_signing_open_config(err, sizeof err);
    if (smtpd.signing == NULL)
        log_fatal_code(EX_CONFIG, "%s", err);
    if (dkim_signing_domains(smtpd.signing) == 0) {
        dkim_signing_close(smtpd.signing);
        smtpd.signing = NULL;
    }
    if (smtpd.set.auth.dmarc != MSGAUTH_DMARC_OFF) {
        smtpd.psl = dmarc_psl_load(NULL, err, sizeof err);
        if (smtpd.psl == NULL)
            log_fatal_code(EX_CONFIG, "cannot load the Public Suffix List for DMARC: %s", err);
    }
    if (srs_rcpt_open(err, sizeof err) < 0)   /* before the tables: nothing left open */
        log_fatal_code(EX_CONFIG, "%s", err);
    smtpd.policy = policy_open(err, sizeof err);
    if (smtpd.policy == NULL)
        log_fatal_code(EX_CONFIG, "%s", err);
    if (smtpd.set.sasl_enable) {
        const char *users = config_str("smtpd_sasl_users");
        if (*users == '\0')
            log_fatal_code(EX_CONFIG, "smtpd_sasl_auth_enable = yes needs smtpd_sasl_users");
        smtpd.users = auth_users_open(users, err, sizeof err);
        if (smtpd.users == NULL)
            log_fatal_code(EX_CONFIG, "smtpd_sasl_users: %s", err);
        if (smtpd.tls == NULL)
            log_warn("AUTH is enabled but TLS is not: AUTH is never offered");
    }
}

static struct server_ops ops = {
    .name = "smtpd",
    .max_clients = 10000,
    .pre_jail = pre_jail,
    .accept = session_start,
};

/* At exit: close the tables, so Berkeley DB lets go of what it holds (and LeakSanitizer sees
 * nothing left behind). */
static void close_tables(void)
{
    policy_close(smtpd.policy);
    smtpd.policy = NULL;
    if (smtpd.users)
        auth_users_close(smtpd.users);
    smtpd.users = NULL;
    dmarc_psl_free(smtpd.psl);
    smtpd.psl = NULL;
    dkim_signing_close(smtpd.signing);
    smtpd.signing = NULL;
}

static void post_jail(void)
{
    atexit(close_tables);
    smtpd.base = server_base();
    smtpd.service = server_service();
    long long threads = config_int("smtpd_commit_threads");
    if (threads < 1 || threads > 16)
        log_fatal_code(EX_CONFIG, "smtpd_commit_threads must be 1-16, not %lld", threads);
    smtpd.pool = workpool_new(smtpd.base, (int)threads);
    if (smtpd.pool == NULL)
        log_fatal("cannot start the worker threads: %s", strerror(errno));
    qcommit_init(smtpd.base, (int)threads);
    if (smtpd.dns)
        dns_attach(smtpd.dns, smtpd.base);
    long long limit = config_int("smtpd_process_client_limit");
    ops.max_clients = limit < 1 ? 1 : limit > 1000000 ? 1000000 : (int)limit;
}

int main(int argc, char **argv)
{
    ops.post_jail = post_jail;
    server_main(argc, argv, &ops);
}
