/* clock.h: the monotonic clock in milliseconds, for timeouts, deadlines and ages: the one
 * helper every daemon and tool uses (it never jumps with the wall clock). */
#ifndef TERN_CLOCK_H
#define TERN_CLOCK_H

long long clock_ms(void);

#endif
