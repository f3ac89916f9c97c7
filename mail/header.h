/* header.h: the message text the delivery agents (local, virtual) read and add: the
 * Delivered-To: loop check on the queued header, the Return-Path:, X-Original-To: and
 * Delivered-To: lines they prepend, and CRLF to LF conversion for commands. Pure functions
 * over buffers. */
#ifndef TERN_MAIL_HEADER_H
#define TERN_MAIL_HEADER_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

/* Whether the header section of msg (CRLF or LF line ends; it ends where header_scanner.h
 * says: at the first empty line, or at the first line that is not a field) has a Delivered-To:
 * field whose value (folded lines joined, <> removed) is rcpt, compared without regard to
 * case. */
bool header_has_delivered_to(const char *msg, size_t len, const char *rcpt);

/* Appends "Return-Path: <sender>", "Delivered-To: rcpt" (folded to lower case) and
 * "X-Original-To: orig", each ending in LF. Control characters in the values become '?', so
 * no value can add a line. -1 when out's bound is reached. */
int header_prepend(struct buf *out, const char *sender, const char *rcpt, const char *orig);

/* Appends p[0..n) to out with each CRLF turned into LF (a lone CR stays). -1 past the bound. */
int text_to_lf(const char *p, size_t n, struct buf *out);

/* Replaces each control character of s (below 0x20, and 0x7f) with a space, in place, so text
 * from a command or a file is one printable line in the log and a DSN. */
void text_printable(char *s);

#endif
