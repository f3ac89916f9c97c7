/* qadmin.c: placeholder until written (issue 6). */
#include "qadmin.h"
