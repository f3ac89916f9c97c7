/* tls_policy.c: smtp_tls_policy_maps look-ups (tls_policy.h) on the tables of common/lists.h. */
#include <stdio.h>
#include <string.h>
#include "lists.h"
#include "smtp.h"
#include "tls_policy.h"

static struct table_list *policy;

int tls_policy_open(char *err, size_t errlen)
{
    return table_list_read("smtp_tls_policy_maps", &policy, err, errlen);
}

void tls_policy_close(void)
{
    table_list_free(policy);
    policy = NULL;
}

/* 1 with the value's first word as the level, 0 when no table has key, -1 with err. */
static int find(const char *key, enum tls_level *level, char *err, size_t errlen)
{
    char k[NEXTHOP_HOST_MAX + 16], word[32];
    const char *value;
    snprintf(k, sizeof k, "%s", key);
    list_lower(k);
    int rc = table_list_find(policy, k, &value, err, errlen);
    if (rc <= 0)
        return rc;
    size_t n = strcspn(value, " \t,");
    snprintf(word, sizeof word, "%.*s", (int)(n < sizeof word ? n : sizeof word - 1), value);
    if (n >= sizeof word || tls_level_parse(word, level) < 0) {
        snprintf(err, errlen, "smtp_tls_policy_maps: %s: unknown security level \"%.40s\"", k,
                 value);
        return -1;
    }
    return 1;
}

int tls_policy_level(const char *nexthop, const char *host, enum tls_level *level, char *err,
                     size_t errlen)
{
    *level = smtp_set.tls_level;
    if (table_list_count(policy) == 0)
        return 0;
    int rc = find(nexthop, level, err, errlen);
    if (rc == 0 && *host && strcmp(host, nexthop) != 0)
        rc = find(host, level, err, errlen);
    for (const char *dot = *host ? strchr(host, '.') : NULL; rc == 0 && dot;
         dot = strchr(dot + 1, '.'))
        rc = find(dot, level, err, errlen);
    if (rc == 0)
        *level = smtp_set.tls_level;
    return rc < 0 ? -1 : 0;
}
