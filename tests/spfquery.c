/* spfquery: runs SPF checks (mail/spf_check.h) against one DNS server, so the integration tests
 * can drive the RFC 7208 test suite through the real resolver. Usage:
 *   spfquery -s ADDR@PORT [-t ms] [-r receiver] IP MAILFROM HELO
 *   spfquery -s ADDR@PORT [-t ms] [-r receiver] < lines of "IP<tab>MAILFROM<tab>HELO"
 * For each check one line: "RESULT<tab>EXPLANATION<tab>REASON" (EXPLANATION empty when fail has
 * none from exp=). Exit 0 when every check ran, 1 on errors. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "dns.h"
#include "errtext.h"
#include "log.h"
#include "spf_check.h"

static void on_outcome(void *arg, const struct spf_outcome *o)
{
    printf("%s\t%s\t%s\n", spf_result_name(o->result), o->explanation, o->reason);
    fflush(stdout);
    event_base_loopbreak(arg);
}

static void check(struct dns *d, struct event_base *base, int timeout, const char *receiver,
                  const char *ip, const char *from, const char *helo)
{
    struct spf_request req = { .ip = ip, .mail_from = from, .helo = helo,
                               .receiver = receiver, .now = (long long)time(NULL) };
    spf_check(d, &req, timeout, on_outcome, base);
    event_base_dispatch(base);
}

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: spfquery -s ADDR@PORT [-t ms] [-r receiver] [IP MAILFROM HELO]\n");
    exit(1);
}

int main(int argc, char **argv)
{
    const char *server = NULL, *receiver = NULL;
    int timeout = 10000, opt;
    char err[ERR_TEXT_MAX];
    log_init("spfquery");
    while ((opt = getopt(argc, argv, "s:t:r:")) != -1) {
        switch (opt) {
        case 's': server = optarg; break;
        case 't': timeout = atoi(optarg); break;
        case 'r': receiver = optarg; break;
        default: usage();
        }
    }
    if (server == NULL || (optind != argc && optind + 3 != argc))
        usage();
    char conf[512];
    /* the suite's server is not signed: its example.com names must not be validated against
     * the root's trust anchor (dns_dnssec_validation) */
    snprintf(conf, sizeof conf, "dns_server = %s\ndns_dnssec_validation = no\n", server);
    if (config_load_text("spfquery", conf, err, sizeof err) < 0) {
        fprintf(stderr, "spfquery: %s\n", err);
        return 1;
    }
    struct dns *d = dns_open(err, sizeof err);
    if (d == NULL) {
        fprintf(stderr, "spfquery: %s\n", err);
        return 1;
    }
    struct event_base *base = event_base_new();
    dns_attach(d, base);
    if (optind + 3 == argc) {
        check(d, base, timeout, receiver, argv[optind], argv[optind + 1], argv[optind + 2]);
    } else {
        char line[4096];
        while (fgets(line, sizeof line, stdin)) {
            line[strcspn(line, "\r\n")] = '\0';
            char *from = strchr(line, '\t'), *helo = from ? strchr(from + 1, '\t') : NULL;
            if (helo == NULL) {
                fprintf(stderr, "spfquery: want IP<tab>MAILFROM<tab>HELO: %s\n", line);
                return 1;
            }
            *from++ = '\0';
            *helo++ = '\0';
            check(d, base, timeout, receiver, line, from, helo);
        }
    }
    dns_close(d);
    event_base_free(base);
    return 0;
}
