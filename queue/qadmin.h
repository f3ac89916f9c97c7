/* qadmin.h: placeholder until written (issue 6). */
#ifndef TERN_QADMIN_H
#define TERN_QADMIN_H
#endif
