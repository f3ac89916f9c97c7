/* qenvelope.h: the envelope of a queue file as its writers give it: the sender, the message
 * attributes (ATTR records, named by the QATTR_* constants below, the one list of them), and
 * the recipients with their DSN values (NOTIFY bits, ORCPT). smtpd, pickup, qmgr's forwarded
 * copies and bounce's notices fill a struct qenvelope and qfile_put_envelope writes its records,
 * in one order, so every queue file is composed in one place. */
#ifndef TERN_QENVELOPE_H
#define TERN_QENVELOPE_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The attribute names (ATTR records, "name=value"), in the order the writer puts them. */
#define QATTR_CLIENT_NAME     "client_name"     /* smtpd: the verified client name or "unknown" */
#define QATTR_CLIENT_ADDRESS  "client_address"  /* smtpd: the client's IP address */
#define QATTR_CLIENT_PORT     "client_port"     /* smtpd: the client's port */
#define QATTR_HELO            "helo"            /* smtpd: the HELO/EHLO argument, maybe "" */
#define QATTR_PROTOCOL        "protocol"        /* SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA; local */
#define QATTR_SASL_USERNAME   "sasl_username"   /* smtpd: the authenticated login */
#define QATTR_TLS             "tls"             /* smtpd: the TLS protocol and cipher */
#define QATTR_UID             "uid"             /* pickup: the submitting user's uid */
#define QATTR_ENVID           "envid"           /* ENVID (RFC 3461), xtext */
/* An ENVID has at most 100 characters (RFC 3461 section 4.4), each at most 3 in xtext. */
#define QENVID_XTEXT_MAX (100 * 3)
#define QATTR_RET             "ret"             /* RET: QATTR_RET_FULL or QATTR_RET_HDRS */
#define QATTR_BODY            "body"            /* BODY: 7BIT, 8BITMIME, BINARYMIME */
#define QATTR_SMTPUTF8        "smtputf8"        /* QATTR_YES: SMTPUTF8 was given or needed */
#define QATTR_FORWARDED_FROM  "forwarded_from"  /* qmgr: the queue ID of the forwarded message */
#define QATTR_VALIAS_EXPANDED "valias_expanded" /* qmgr, QATTR_YES: the recipients are the result
                                                 * of a virtual alias expansion, not to be
                                                 * expanded again */
#define QATTR_QUARANTINE      "quarantine"      /* trailer, smtpd: why the message goes to the
                                                 * recipient's quarantine folder ("dmarc") */
#define QATTR_YES "yes"
#define QATTR_RET_FULL "FULL"
#define QATTR_RET_HDRS "HDRS"

/* The NOTIFY bits of a QREC_RCPT_NOTIFY record (RFC 3461), 0 when the client gave none. */
#define NOTIFY_NEVER   1u
#define NOTIFY_SUCCESS 2u
#define NOTIFY_FAILURE 4u
#define NOTIFY_DELAY   8u

/* One recipient: an R record, then an N record when notify is not 0, then an O record when
 * there is an ORCPT, given either decoded (orcpt_type and orcpt: written "type;" + xtext) or as
 * it was stored (orcpt_record: "type;xtext" taken from another file, written as it is). */
struct qenvelope_rcpt {
    const char *address;
    unsigned notify;             /* NOTIFY_* bits */
    const char *orcpt_type;      /* e.g. "rfc822"; NULL or "": no decoded ORCPT */
    const char *orcpt;           /* the original recipient, decoded */
    const char *orcpt_record;    /* NULL: none (takes precedence over orcpt_type) */
};

/* A NULL string is an attribute not written; any other value is written, even "". */
struct qenvelope {
    const char *sender;          /* "" for <> */
    const char *client_name, *client_address, *client_port, *helo, *protocol;
    const char *sasl_username, *tls;
    bool has_uid;
    uid_t uid;
    const char *envid;           /* decoded: written in xtext */
    const char *envid_xtext;     /* or the ENVID as stored (xtext), written as it is */
    const char *ret;             /* QATTR_RET_FULL, QATTR_RET_HDRS */
    const char *body;
    bool smtputf8;
    const char *forwarded_from;
    bool valias_expanded;
    const struct qenvelope_rcpt *rcpt;
    size_t nrcpt;
};

struct qfile;
/* Writes the envelope records of e after the MAGIC and TIME records qfile_create wrote: SENDER,
 * the attributes in the order of the QATTR_* list above, then each recipient with its N and O
 * records. The CONTENT records come next (qfile_put_content). 0, or -1 with errno (the
 * writer's errors are sticky: see qfile_put). */
int qfile_put_envelope(struct qfile *q, const struct qenvelope *e);

#endif
