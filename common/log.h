/* log.h: the one logging API. Lines read `tern/<service>[<pid>]: <text>`; severities other than
 * info carry Postfix's `warning:`, `error:`, `fatal:` prefixes. Output goes to syslog (facility
 * mail) or, when maillog_file is set, to that file with an RFC 3339 time stamp and the host
 * name, each line written whole with one write(2) so processes never interleave.
 * A line about one message starts with its queue ID, as Postfix's do and log tools expect:
 *     log_info("%s: client=%s[%s]", queue_id, name, addr);   ->  tern/smtpd[812]: 4TxQ2b0001: ... */
#ifndef TERN_LOG_H
#define TERN_LOG_H
#include <stdarg.h>
#include <stdbool.h>

#define LOG_LINE_MAX 4096   /* longer lines are cut, never split */

enum { LOG_SEV_INFO, LOG_SEV_WARN, LOG_SEV_ERROR, LOG_SEV_FATAL };   /* for log_vmsg */

/* Before log_open, messages go to stderr only. `service` is e.g. "master" or "smtpd";
 * syslog_name (default "tern") gives the `tern/` prefix. */
void log_init(const char *service);
/* Opens the destination: maillog_file NULL or "" means syslog; "/dev/stdout" and "/dev/stderr"
 * write to those descriptors. Returns 0, or -1 with errno when the file cannot be opened or the
 * facility is unknown (EINVAL); the previous destination then stays in use. */
int log_open(const char *syslog_name, const char *maillog_file, const char *facility);
bool log_facility_known(const char *name);   /* mail, daemon, user, local0..local7 */
int log_reopen(void);            /* after logrotate: reopen maillog_file (SIGHUP / tern reload) */
void log_close(void);
void log_set_stderr(bool on);    /* command-line tools: also write `tern: text` to stderr */
void log_set_service(const char *service);
const char *log_service(void);
int log_fd(void);                /* the maillog file descriptor, or -1 */

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fatal: logs and exits with EX_SOFTWARE (log_fatal: a failure inside tern) or the given
 * sysexits code (log_fatal_code: configuration, usage, the system...). */
_Noreturn void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void log_fatal_code(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int severity, const char *fmt, va_list ap);

#endif
