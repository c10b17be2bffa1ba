/* uv_work: ns per uv_queue_work round trip (work on a pool thread, then
 * after_work on the loop, which queues the next). */
#include "bench_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

static long left;
static uv_loop_t *loop;
static uv_work_t req;

static void work(uv_work_t *r) { (void)r; }

static void after(uv_work_t *r, int status)
{
	(void)status;
	if (--left > 0)
		uv_queue_work(loop, r, work, after);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	loop = uv_default_loop();
	left = n / 10;                          /* warm-up: the pool starts */
	uv_queue_work(loop, &req, work, after);
	uv_run(loop, UV_RUN_DEFAULT);
	left = n;
	double t0 = now_ns();
	uv_queue_work(loop, &req, work, after);
	uv_run(loop, UV_RUN_DEFAULT);
	double t1 = now_ns();
	printf("%.1f\n", (t1 - t0) / n);
	return 0;
}
