/* fuzz_check.h: the invariant check shared by the libFuzzer targets of tests/fuzz/: a broken
 * invariant prints where and aborts, so libFuzzer (or replay.c) reports it as a crash. */
#ifndef TERN_FUZZ_CHECK_H
#define TERN_FUZZ_CHECK_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
