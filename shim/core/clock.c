/*
 * clock.c: the one coarse clock of the shim (ages of threads, connections
 * and requests; deadlines of seconds).  The coarse clock (a few ms of
 * resolution) costs a third of the precise one.  It is libc's own
 * clock_gettime, found once in libc itself: another preload that fakes the
 * time (libfaketime) must not move the shim's deadlines, and may already be
 * torn down when the shim still reads the clock at exit.
 */
#include "core.h"
#include "hooks.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int (*libc_clock)(clockid_t, struct timespec *);

uint64_t ctx_now_ns(void)
{
	struct timespec ts;
	if (unlikely(!libc_clock))
		libc_clock = (int (*)(clockid_t, struct timespec *))hooks_find_in("libc.so.6",
										    "clock_gettime");
	if (likely(libc_clock != NULL))
		libc_clock(CLOCK_MONOTONIC_COARSE, &ts);
	else
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
