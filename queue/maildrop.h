/* maildrop.h: placeholder until written (issue 6). */
#ifndef TERN_MAILDROP_H
#define TERN_MAILDROP_H
#endif
