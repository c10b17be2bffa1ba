/* uv_leak: libuv register/fire cycles, for RSS and valgrind (leak_rss.h). */
#include "leak_rss.h"

#include <uv.h>

static uv_loop_t *loop;
static long done;

static void on_timer(uv_timer_t *t) { (void)t; done++; }
static void on_close(uv_handle_t *h) { free(h); }
static void on_work(uv_work_t *w) { (void)w; }
static void on_after(uv_work_t *w, int st) { (void)st; free(w); done++; }
static void on_async(uv_async_t *a) { (void)a; done++; }
static void on_idle(uv_idle_t *h) { uv_idle_stop(h); done++; }
static void on_stat(uv_fs_t *r) { uv_fs_req_cleanup(r); free(r); done++; }

static int cycle(const char *mode, long n)
{
	static uv_timer_t timer;
	static uv_async_t async;
	static uv_idle_t idle;
	if (!loop) {
		loop = uv_default_loop();
		uv_timer_init(loop, &timer);
		uv_async_init(loop, &async, on_async);
		uv_unref((uv_handle_t *)&async);
		uv_idle_init(loop, &idle);
	}
	for (long i = 0; i < n; i++) {
		leak_context(i);
		if (!strcmp(mode, "timer")) {          /* one handle, restarted */
			uv_timer_start(&timer, on_timer, 0, 0);
		} else if (!strcmp(mode, "idle")) {
			uv_idle_start(&idle, on_idle);
		} else if (!strcmp(mode, "async")) {
			uv_async_send(&async);
		} else if (!strcmp(mode, "close")) {   /* a handle made, run, closed */
			uv_timer_t *t = malloc(sizeof *t);
			uv_timer_init(loop, t);
			uv_timer_start(t, on_timer, 0, 0);
			uv_run(loop, UV_RUN_NOWAIT);
			uv_close((uv_handle_t *)t, on_close);
		} else if (!strcmp(mode, "work")) {    /* batches keep the pool busy */
			uv_work_t *w = malloc(sizeof *w);
			uv_queue_work(loop, w, on_work, on_after);
			if (i % 256 != 255 && i != n - 1)
				continue;
			uv_run(loop, UV_RUN_DEFAULT);
			continue;
		} else if (!strcmp(mode, "fs")) {
			uv_fs_t *r = malloc(sizeof *r);
			uv_fs_stat(loop, r, "/", on_stat);
			if (i % 256 != 255 && i != n - 1)
				continue;
			uv_run(loop, UV_RUN_DEFAULT);
			continue;
		} else {
			return -1;
		}
		uv_run(loop, UV_RUN_NOWAIT);
	}
	return 0;
}

LEAK_MAIN(cycle)
