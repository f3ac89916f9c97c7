/* service.c: the master's services: one per master.conf entry, with its listening sockets
 * (inet: bound on the entry's address or on inet_interfaces; unix: private/ or public/ under the
 * queue directory) and its resolved command. Reload reconciles the running services with a
 * changed master.conf, keeping the sockets of entries whose listener did not change. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>
#include "config.h"
#include "log.h"
#include "master.h"
#include "master_proto.h"
#include "buf.h"
#include "mem.h"
#include "safefile.h"

static char **copy_strv(char **v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **out = xcalloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = xstrdup(v[i]);
    return out;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void copy_def(struct service_def *to, const struct service_def *from)
{
    *to = *from;
    to->name = xstrdup(from->name);
    to->host = dup_or_null(from->host);
    to->port = dup_or_null(from->port);
    to->command = xstrdup(from->command);
    to->overrides = copy_strv(from->overrides);
    to->args = copy_strv(from->args);
}

static void free_def(struct service_def *d)
{
    free(d->name);
    free(d->host);
    free(d->port);
    free(d->command);
    free_strv(d->overrides);
    free_strv(d->args);
}

/* Everything the listeners of an entry are bound with; equal keys mean equal sockets. */
static char *listener_key(const struct service_def *def)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    if (def->type == SERVICE_INET)
        buf_printf(&b, "inet %s %s %s %s %lld", def->host ? def->host : "*", def->port,
                   config_str("inet_interfaces"), config_str("inet_protocols"),
                   config_int("listen_backlog"));
    else
        buf_printf(&b, "unix %s %s %lld", def->private_service ? "private" : "public", def->name,
                   config_int("listen_backlog"));
    return buf_steal(&b);
}

static int add_fd(struct service *svc, int fd)
{
    if (svc->nfds >= MASTER_MAX_LISTEN) {
        log_warn("service %s: more than %d listening sockets; extra ones closed", svc->def.name,
                 MASTER_MAX_LISTEN);
        close(fd);
        return 0;
    }
    svc->fds = xrealloc(svc->fds, (size_t)(svc->nfds + 1) * sizeof *svc->fds);
    svc->fds[svc->nfds++] = fd;
    return 0;
}

static int listen_on(struct service *svc, const struct addrinfo *ai, char *err, size_t errlen)
{
    char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
    getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, port, sizeof port,
                NI_NUMERICHOST | NI_NUMERICSERV);
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        snprintf(err, errlen, "socket for %s port %s: %s", host, port, strerror(errno));
        return -1;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
        listen(fd, (int)config_int("listen_backlog")) < 0) {
        snprintf(err, errlen, "bind %s port %s: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    return add_fd(svc, fd);
}

static int bind_inet_host(struct service *svc, const char *host, bool optional, char *err,
                          size_t errlen)
{
    const char *proto = config_str("inet_protocols");
    struct addrinfo hints = { 0 }, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    hints.ai_family = strcmp(proto, "ipv4") == 0 ? AF_INET
                      : strcmp(proto, "ipv6") == 0 ? AF_INET6 : AF_UNSPEC;
    int gai = getaddrinfo(host, svc->def.port, &hints, &res);
    if (gai != 0 && optional) {
        log_warn("service %s: address %s: %s", svc->def.name, host, gai_strerror(gai));
        return 0;
    }
    if (gai != 0) {
        snprintf(err, errlen, "service %s: address %s port %s: %s", svc->def.name,
                 host ? host : "*", svc->def.port, gai_strerror(gai));
        return -1;
    }
    int bound = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char why[256];
        if (listen_on(svc, ai, why, sizeof why) == 0) {
            bound++;
        } else if (optional || (host == NULL && ai->ai_family == AF_INET6)) {
            /* "all" on a host without IPv6 still serves IPv4 */
            log_warn("service %s: %s", svc->def.name, why);
        } else {
            snprintf(err, errlen, "service %s: %s", svc->def.name, why);
            freeaddrinfo(res);
            return -1;
        }
    }
    freeaddrinfo(res);
    if (bound == 0 && !optional) {
        snprintf(err, errlen, "service %s: no address to listen on", svc->def.name);
        return -1;
    }
    return 0;
}

static int bind_inet(struct service *svc, char *err, size_t errlen)
{
    if (svc->def.host)
        return bind_inet_host(svc, svc->def.host, false, err, errlen);
    const char *ifaces = config_str("inet_interfaces");
    if (strcmp(ifaces, "all") == 0)
        return bind_inet_host(svc, NULL, false, err, errlen);
    if (strcmp(ifaces, "loopback-only") == 0) {
        if (bind_inet_host(svc, "127.0.0.1", true, err, errlen) < 0 ||
            bind_inet_host(svc, "::1", true, err, errlen) < 0)
            return -1;
    } else {
        char *list = xstrdup(ifaces), *save = NULL;
        for (char *h = strtok_r(list, ", \t", &save); h; h = strtok_r(NULL, ", \t", &save)) {
            if (h[0] == '[' && h[strlen(h) - 1] == ']') {
                h[strlen(h) - 1] = '\0';
                h++;
            }
            if (bind_inet_host(svc, h, false, err, errlen) < 0) {
                free(list);
                return -1;
            }
        }
        free(list);
    }
    if (svc->nfds == 0) {
        snprintf(err, errlen, "service %s: no address of inet_interfaces to listen on",
                 svc->def.name);
        return -1;
    }
    return 0;
}

static int bind_unix(struct service *svc, char *err, size_t errlen)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (strlen(svc->socket_path) >= sizeof sun.sun_path) {
        snprintf(err, errlen, "service %s: socket name too long", svc->def.name);
        return -1;
    }
    strcpy(sun.sun_path, svc->socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "service %s: socket: %s", svc->def.name, strerror(errno));
        return -1;
    }
    struct stat st;
    /* only a stale socket is removed; anything else in its place is an error */
    if (lstat(sun.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(sun.sun_path);
    /* the mode comes from the umask at bind: a chmod by name could follow a symlink that an
     * unprivileged daemon put in private/ or public/ */
    mode_t old_umask = umask(0111);
    int bound = bind(fd, (struct sockaddr *)&sun, sizeof sun);
    umask(old_umask);
    if (bound < 0 || listen(fd, (int)config_int("listen_backlog")) < 0) {
        snprintf(err, errlen, "service %s: bind %s: %s", svc->def.name, svc->socket_path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return add_fd(svc, fd);
}

int service_bind(struct service *svc, char *err, size_t errlen)
{
    free(svc->bind_key);
    svc->bind_key = listener_key(&svc->def);
    return svc->def.type == SERVICE_INET ? bind_inet(svc, err, errlen)
                                         : bind_unix(svc, err, errlen);
}

void service_close_listeners(struct service *svc)
{
    /* only a socket this service holds is removed: a service that never bound must not take
     * away the path of the one that runs */
    if (svc->socket_path && svc->nfds > 0)
        unlink(svc->socket_path);
    for (int i = 0; i < svc->nfds; i++)
        close(svc->fds[i]);
    free(svc->fds);
    svc->fds = NULL;
    svc->nfds = 0;
}

static char *resolve_command(const char *command)
{
    if (command[0] == '/')
        return xstrdup(command);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_printf(&b, "%s/%s", config_str("daemon_directory"), command);
    return buf_steal(&b);
}

struct service *service_new(const struct service_def *def, char *err, size_t errlen)
{
    struct service *svc = xcalloc(1, sizeof *svc);
    copy_def(&svc->def, def);
    svc->path = resolve_command(def->command);
    svc->status_pipe[0] = svc->status_pipe[1] = -1;
    if (def->type == SERVICE_UNIX) {
        struct buf b;
        buf_init(&b, BUF_UNBOUNDED);
        buf_printf(&b, "%s/%s", def->private_service ? "private" : "public", def->name);
        svc->socket_path = buf_steal(&b);
        buf_free(&b);
    }
    if (def->wakeup > 0 && def->type == SERVICE_INET)
        log_warn("%s/%s:%d: service %s: the wakeup column applies to unix services only; ignored",
                 M.config_dir, MASTER_CONFIG_FILE, def->line, def->name);
    char why[512];
    if (access(svc->path, X_OK) < 0) {
        /* a program that is not there (yet): the service is throttled when it fails to start */
        log_warn("%s/%s:%d: service %s: %s: %s", M.config_dir, MASTER_CONFIG_FILE, def->line,
                 def->name, svc->path, strerror(errno));
    } else if (M.privsep && safe_check_trusted(svc->path, 0, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s/%s:%d: service %s: refusing to run %s as root", M.config_dir,
                 MASTER_CONFIG_FILE, def->line, def->name, why);
        service_free(svc);
        return NULL;
    }
    return svc;
}

void service_free(struct service *svc)
{
    service_close_listeners(svc);
    spawn_stop_service(svc);
    free_def(&svc->def);
    free(svc->path);
    free(svc->socket_path);
    free(svc->bind_key);
    free(svc);
}

/* Returns 0, or a sysexits code with the reason in err: EX_CONFIG for master.conf and unsafe
 * programs, EX_UNAVAILABLE when a listener cannot be bound (address in use...). */
int services_load(char *err, size_t errlen)
{
    struct master_conf conf;
    char why[ERR_TEXT_MAX];
    if (master_conf_load(M.config_dir, (int)config_int("default_process_limit"), &conf, why,
                         sizeof why) < 0) {
        snprintf(err, errlen, "%s", why);
        return EX_CONFIG;
    }
    int code = 0;
    struct service **tail = &M.services;
    for (int i = 0; i < conf.count && code == 0; i++) {
        struct service *svc = service_new(&conf.services[i], err, errlen);
        if (svc == NULL) {
            code = EX_CONFIG;
        } else if (service_bind(svc, err, errlen) < 0) {
            service_free(svc);
            code = EX_UNAVAILABLE;
        } else {
            *tail = svc;
            tail = &svc->next;
        }
    }
    master_conf_free(&conf);
    return code;
}

static struct service *take_matching(struct service **list, const struct service_def *def)
{
    for (struct service **p = list; *p; p = &(*p)->next) {
        if (strcmp((*p)->def.name, def->name) == 0 && (*p)->def.type == def->type) {
            struct service *svc = *p;
            *p = svc->next;
            svc->next = NULL;
            return svc;
        }
    }
    return NULL;
}

/* Reconciles the running services with master.conf: an entry whose listener is unchanged keeps
 * its sockets (clients never see it go away); every old process is told to finish (SIGTERM) and
 * a new generation starts with the new settings. Old listeners are closed before new ones are
 * bound, so an entry that moved to an overlapping address can bind. */
int services_reload(char *err, size_t errlen)
{
    struct master_conf conf;
    char why[ERR_TEXT_MAX];
    if (master_conf_load(M.config_dir, (int)config_int("default_process_limit"), &conf, why,
                         sizeof why) < 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    struct service *old = M.services, *fresh = NULL, **tail = &fresh;
    M.services = NULL;
    for (int i = 0; i < conf.count; i++) {
        const struct service_def *def = &conf.services[i];
        struct service *prev = take_matching(&old, def);
        struct service *svc = service_new(def, why, sizeof why);
        if (svc == NULL) {
            log_error("reload: %s; the service stays down", why);
            if (prev) {
                spawn_retire_all(prev, SIGTERM);
                service_free(prev);
            }
            continue;
        }
        char *key = listener_key(def);
        bool keep = prev && prev->bind_key && strcmp(prev->bind_key, key) == 0;
        free(key);
        if (keep) {
            svc->bind_key = prev->bind_key;
            prev->bind_key = NULL;
            svc->fds = prev->fds;
            svc->nfds = prev->nfds;
            prev->fds = NULL;
            prev->nfds = 0;
            free(prev->socket_path);   /* the socket stays: do not unlink it */
            prev->socket_path = NULL;
        }
        if (prev) {
            spawn_retire_all(prev, SIGTERM);
            service_free(prev);
        }
        *tail = svc;
        tail = &svc->next;
    }
    while (old) {
        struct service *gone = old;
        old = old->next;
        log_info("reload: service %s removed", gone->def.name);
        spawn_retire_all(gone, SIGTERM);
        service_free(gone);
    }
    master_conf_free(&conf);
    for (struct service **p = &fresh; *p;) {
        struct service *svc = *p;
        if (svc->nfds == 0 && service_bind(svc, why, sizeof why) < 0) {
            log_error("reload: %s; the service stays down", why);
            *p = svc->next;
            service_free(svc);
            continue;
        }
        p = &svc->next;
    }
    M.services = fresh;
    for (struct service *svc = M.services; svc; svc = svc->next)
        spawn_init(svc);
    return 0;
}
