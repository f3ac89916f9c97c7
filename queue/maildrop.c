/* maildrop.c: placeholder until written (issue 6). */
#include "maildrop.h"
