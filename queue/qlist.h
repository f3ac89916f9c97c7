/* qlist.h: placeholder until written (issue 6). */
#ifndef TERN_QLIST_H
#define TERN_QLIST_H
#endif
