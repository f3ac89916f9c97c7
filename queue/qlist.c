/* qlist.c: placeholder until written (issue 6). */
#include "qlist.h"
