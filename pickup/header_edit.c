/* header_edit.c: the header scan and rewrite of header_edit.h, on the fields the mail layer's
 * header scanner finds. The scan takes whole lines only, so a header cut at header_size_limit
 * is cut between lines, and every field it counted is in header_len. */
#include <string.h>
#include "header_edit.h"

void header_scan(const char *content, size_t len, struct header_info *info)
{
    memset(info, 0, sizeof *info);
    header_scan_more(content, len, info);
}

void header_scan_more(const char *content, size_t len, struct header_info *info)
{
    struct header_scanner *s = &info->scan;
    if (info->complete || len <= s->offset)
        return;
    /* up to the end of the last whole line: an unfinished one may still become anything */
    const char *from = content + s->offset;
    const char *last = memrchr(from, '\n', len - s->offset);
    size_t n = last ? (size_t)(last + 1 - from) : 0;
    for (;;) {
        size_t used;
        struct header_field f;
        enum header_event ev = header_scanner_feed(s, from, n, &used, &f);
        from += used;
        n -= used;
        if (ev == HEADER_EV_MORE)
            break;
        if (ev == HEADER_EV_END) {
            info->complete = true;
            info->blank_line = s->ended_by == HEADER_END_BLANK;
            info->header_len = s->body;
            return;
        }
        if (f.name == HEADER_FROM)
            info->has_from = true;
        else if (f.name == HEADER_SENDER)
            info->has_sender = true;
        else if (f.name == HEADER_DATE)
            info->has_date = true;
        else if (f.name == HEADER_MESSAGE_ID)
            info->has_msgid = true;
        else if (f.name == HEADER_RECEIVED)
            info->received++;
    }
    info->header_len = s->offset;
}

int header_rewrite(const char *content, const struct header_info *info, bool extract,
                   struct buf *out, void (*cb)(const char *value, size_t len, void *arg),
                   void *arg)
{
    struct header_fields it;
    struct header_field f;
    header_fields_init(&it, content, info->header_len);
    while (header_fields_next(&it, &f)) {
        bool bcc = f.name == HEADER_BCC;
        if (extract && (bcc || f.name == HEADER_TO || f.name == HEADER_CC))
            cb(content + f.value, f.end - f.value, arg);
        /* the whole field: its line and its continuation lines; the empty line is the
         * caller's to write */
        if (!bcc && out && buf_append(out, content + f.start, f.end - f.start) < 0)
            return -1;
    }
    return 0;
}
