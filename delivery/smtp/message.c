/* message.c: loads a message for the smtp client (message.h) with the queue file reader of
 * queue/qfile.c (which reads the attributes), and the content facts a transaction needs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "dotstuff.h"
#include "message.h"
#include "mime_downgrade.h"

/* The size of the message as delivered, and whether it has 8-bit bytes. */
static void read_content_facts(struct message *m)
{
    struct qfile_content_iter it = { 0, 0 };
    const char *rec;
    size_t len;
    while (qfile_content_next(m->data.data, m->data.len, &m->env, &it, &rec, &len)) {
        m->size += len;
        if (!m->eightbit && content_has_8bit(rec, len))
            m->eightbit = true;
    }
}

int message_load(struct message *m, const char *queue_id, char *err, size_t errlen)
{
    char path[QFILE_ID_MAX + 16];
    char why[ERR_TEXT_MAX] = "";
    memset(m, 0, sizeof *m);
    snprintf(path, sizeof path, "active/%s", queue_id);
    buf_init(&m->data, qfile_read_limit());
    if (qfile_read(path, qfile_read_limit(), &m->data, &m->env, why, sizeof why) < 0) {
        /* malformed (EPROTO) or too large (EFBIG): qfile_read's reason; else the read error */
        snprintf(err, errlen, "cannot read queue file %s: %s", path,
                 errno == EPROTO || errno == EFBIG ? why : strerror(errno));
        return -1;
    }
    m->body_8bitmime = strcmp(m->env.body, "8BITMIME") == 0;
    m->smtputf8 = m->env.smtputf8;
    read_content_facts(m);
    return 0;
}

void message_free(struct message *m)
{
    buf_free(&m->data);
    if (m->converted)
        buf_free(&m->seven_bit);
}

int message_convert(struct message *m)
{
    if (m->converted)
        return 0;
    struct buf content;
    buf_init(&content, m->size + 1);
    int rc = qfile_content(m->data.data, m->data.len, &m->env, &content);
    if (rc == 0) {
        /* quoted-printable at most triples a byte, plus a soft break per 75 */
        buf_init(&m->seven_bit, 4 * m->size + 4096);
        rc = mime_downgrade_buffer(content.data, content.len, &m->seven_bit);
        if (rc == 0)
            m->converted = true;
        else
            buf_free(&m->seven_bit);
    }
    buf_free(&content);
    return rc;
}
