/* uv_timer: ns per timer callback, one per loop iteration: the timer is
 * started (0 ms) and uv_run(UV_RUN_NOWAIT) runs it.  With "chain", the
 * callback restarts itself instead, and libuv runs the chain back to back
 * inside one timer phase (no loop iteration between callbacks). */
#include "bench_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static long left, fired;

static void cb(uv_timer_t *t)
{
	(void)t;
	fired++;
}

static void chained(uv_timer_t *t)
{
	if (--left > 0)
		uv_timer_start(t, chained, 0, 0);
}

static void run(uv_loop_t *loop, uv_timer_t *t, long n, int chain)
{
	if (chain) {
		left = n;
		uv_timer_start(t, chained, 0, 0);
		uv_run(loop, UV_RUN_DEFAULT);
		return;
	}
	for (long i = 0; i < n; i++) {
		uv_timer_start(t, cb, 0, 0);
		uv_run(loop, UV_RUN_NOWAIT);
	}
}

int main(int argc, char **argv)
{
	int chain = argc > 1 && !strcmp(argv[1], "chain");
	long n = argc > 2 ? atol(argv[2]) : chain ? 3000000 : 300000;
	uv_loop_t *loop = uv_default_loop();
	uv_timer_t t;
	uv_timer_init(loop, &t);
	run(loop, &t, n / 10, chain);          /* warm-up */
	double t0 = now_ns();
	run(loop, &t, n, chain);
	double t1 = now_ns();
	printf("%.1f\n", (t1 - t0) / n);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	return 0;
}
