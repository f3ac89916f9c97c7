/* dnsq: asks tern's resolver (common/dns.h) one question with an instance's tern.conf, so the
 * integration tests can check dns_mx and dns_tlsa against their DNS server without an smtp
 * client. Usage:
 *   dnsq -c DIR [-o name=value]... [-t ms] [-p port] [-l max_addrs] [-n] [-C ms] mx NAME
 *   dnsq -c DIR [-o name=value]... [-t ms] [-p port] [-C ms] tlsa HOST
 * mx prints one line per target, "pref host addr port secure(0/1)", or "TEMP|PERM dsn reason";
 * tlsa prints "tlsa failed=0/1 secure=0/1 count=N" and "usage selector mtype hexdata" per record.
 * -n: no MX look-up (a [host] next hop); -C ms: cancel the request after ms, wait as long again,
 * print "cancelled" (the callback must not have run). Exit 0 after an answer, 1 on errors. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "dns.h"
#include "log.h"

struct run {
    struct event_base *base;
    struct dns_req *req;
    bool answered;
};

static void on_mx(void *arg, const struct dns_mx_result *res)
{
    struct run *run = arg;
    run->answered = true;
    if (res->status != DNS_MX_OK)
        printf("%s %s %s\n", res->status == DNS_MX_TEMP ? "TEMP" : "PERM", res->dsn,
               res->reason);
    for (size_t i = 0; i < res->ntargets; i++) {
        const struct dns_target *t = &res->targets[i];
        char addr[INET6_ADDRSTRLEN] = "?";
        int port = 0;
        if (t->addr.ss_family == AF_INET) {
            const struct sockaddr_in *s4 = (const struct sockaddr_in *)&t->addr;
            inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof addr);
            port = ntohs(s4->sin_port);
        } else if (t->addr.ss_family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&t->addr;
            inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof addr);
            port = ntohs(s6->sin6_port);
        }
        printf("%d %s %s %d %d\n", t->preference, t->host, addr, port, t->secure ? 1 : 0);
    }
    event_base_loopbreak(run->base);
}

static void on_tlsa(void *arg, bool failed, bool secure, const struct dns_tlsa *records,
                    size_t count)
{
    struct run *run = arg;
    run->answered = true;
    printf("tlsa failed=%d secure=%d count=%zu\n", failed, secure, count);
    for (size_t i = 0; i < count; i++) {
        printf("%u %u %u ", records[i].usage, records[i].selector, records[i].mtype);
        for (size_t k = 0; k < records[i].len; k++)
            printf("%02x", records[i].data[k]);
        printf("\n");
    }
    event_base_loopbreak(run->base);
}

static void on_cancel(evutil_socket_t fd, short what, void *arg)
{
    struct run *run = arg;
    dns_cancel(run->req);
    run->req = NULL;
}

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: dnsq -c DIR [-o name=value] [-t ms] [-p port] [-l max_addrs] [-n] "
            "[-C ms] mx NAME | tlsa HOST\n");
    exit(1);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int timeout = 10000, port = 25, cancel_ms = -1, max_addrs = -1, opt;
    bool use_mx = true;
    char err[ERR_TEXT_MAX];
    log_init("dnsq");
    while ((opt = getopt(argc, argv, "c:o:t:p:l:nC:")) != -1) {
        switch (opt) {
        case 'c': dir = optarg; break;
        case 'o':
            if (config_override(optarg, err, sizeof err) < 0) {
                fprintf(stderr, "dnsq: %s\n", err);
                return 1;
            }
            break;
        case 't': timeout = atoi(optarg); break;
        case 'p': port = atoi(optarg); break;
        case 'l': max_addrs = atoi(optarg); break;
        case 'n': use_mx = false; break;
        case 'C': cancel_ms = atoi(optarg); break;
        default: usage();
        }
    }
    if (optind + 2 != argc || (strcmp(argv[optind], "mx") && strcmp(argv[optind], "tlsa")))
        usage();
    if (config_load(config_dir(dir), err, sizeof err) < 0) {
        fprintf(stderr, "dnsq: %s\n", err);
        return 1;
    }
    if (max_addrs < 0)
        max_addrs = (int)config_int("smtp_mx_address_limit");
    struct dns *d = dns_open(err, sizeof err);
    if (d == NULL) {
        fprintf(stderr, "dnsq: %s\n", err);
        return 1;
    }
    struct run run = { .base = event_base_new() };
    dns_attach(d, run.base);
    const char *name = argv[optind + 1];
    if (strcmp(argv[optind], "mx") == 0)
        run.req = dns_mx(d, name, use_mx, port, max_addrs, timeout, on_mx, &run);
    else
        run.req = dns_tlsa(d, name, port, timeout, on_tlsa, &run);
    struct event *cancel = NULL;
    if (cancel_ms >= 0) {
        cancel = evtimer_new(run.base, on_cancel, &run);
        struct timeval t = { cancel_ms / 1000, cancel_ms % 1000 * 1000 };
        evtimer_add(cancel, &t);
        struct timeval stop = { 2 * cancel_ms / 1000 + 1, 0 };
        event_base_loopexit(run.base, &stop);
    }
    event_base_dispatch(run.base);
    if (cancel_ms >= 0 && !run.answered)
        printf("cancelled\n");
    if (cancel)
        event_free(cancel);
    dns_close(d);
    event_base_free(run.base);
    return run.answered || cancel_ms >= 0 ? 0 : 1;
}
