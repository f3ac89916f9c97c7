/* xtext.h: xtext (RFC 3461 §4), the encoding of the DSN envelope values ENVID and ORCPT on the
 * SMTP command line and in queue files (in maildrop files only ORCPT is xtext; ENVID is plain
 * there): a byte outside 33..126, '+' and '=' are written "+XX" (upper-case hex). Pure
 * functions over (pointer, length) buffers. */
#ifndef TERN_XTEXT_H
#define TERN_XTEXT_H
#include <stddef.h>

/* Decodes "+XX" hex escapes of s[0..len) into out (NUL-terminated, at most size-1 bytes).
 * Returns the decoded length, or -1 for bad xtext (a byte outside 33..126, '=', a '+' without
 * two upper-case hex digits) or a result that does not fit. */
int xtext_decode(const char *s, size_t len, char *out, size_t size);
/* Encodes s[0..len) into out (NUL-terminated). Returns the encoded length, or -1 when it does
 * not fit in size. */
int xtext_encode(const char *s, size_t len, char *out, size_t size);
/* An ORCPT value as the ORCPT= parameter, the O record of a queue file and the ORCPT record of
 * a maildrop file hold it (RFC 3461 §4.2): "type;" then the address in xtext. Returns its
 * length, or -1 when it does not fit in size (out is then "", when size is not 0). */
int xtext_orcpt(const char *type, const char *address, char *out, size_t size);

#endif
