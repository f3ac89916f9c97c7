/* vheader.h: the header lines the virtual delivery agent puts before a message (Return-Path:,
 * Delivered-To:, X-Original-To:) and the Delivered-To: loop check. Pure functions over
 * buffers. */
#ifndef TERN_VHEADER_H
#define TERN_VHEADER_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

/* Appends "Return-Path: <sender>", "Delivered-To: rcpt" and, when orig is not empty,
 * "X-Original-To: orig" (an "rfc822;" ORCPT prefix dropped) to out, each line ending in CRLF.
 * Control characters in the values become '?', so no value can add a header line.
 * 0, or -1 when out's bound is reached. */
int vheader_build(struct buf *out, const char *sender, const char *rcpt, const char *orig);

/* Whether the header section of content (CRLF or LF line ends; it ends at the first empty
 * line) has a Delivered-To: field whose value is rcpt (case-insensitive, folded lines
 * joined): the message has been here before, and delivering it again would loop. */
bool vheader_loop(const char *content, size_t len, const char *rcpt);

#endif
