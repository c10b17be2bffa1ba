/*
 * uv_ctx: a libuv program that registers callbacks from four "requests"
 * (request_id req-0..req-3) and prints, from inside every callback, the
 * request it was registered for (reg=, carried in the handle's own data)
 * and the request_id it sees (ctx=, "-" when unset).  Under ctxshim the two
 * agree; without it ctx is always "-" and everything else is the same.
 *
 * Covered: repeating timers (every run), zero-timeout sibling timers fired
 * in one loop iteration, idle/prepare/check, both halves of uv_queue_work on
 * pool threads started before any request, uv_async_send from threads of
 * their own, uv_fs_stat, uv_getaddrinfo, uv_read_start/uv_write on a socket
 * pair, uv_close callbacks; and the loop thread's own context after uv_run.
 */
#include <ctxshim.h>
#include "keycheck.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

static const char *req[4] = { "req-0", "req-1", "req-2", "req-3" };

static void say(const char *what, const char *reg)
{
	char cur[80], line[256];
	if (kc_get("request_id", cur, sizeof cur) < 0)
		strcpy(cur, "-");
	int n = snprintf(line, sizeof line, "%s reg=%s ctx=%s\n", what, reg, cur);
	if (write(1, line, (size_t)n) < 0)
		exit(1);
}

static void enter(const char *id)
{
	if (id)
		ctxshim_set("request_id", id);
	else
		ctxshim_unset("request_id");
}

static uv_loop_t *loop;

/* ---- timers ------------------------------------------------------------ */

static uv_timer_t rep[4], sib[4];
static int runs[4];

static void on_close(uv_handle_t *h)
{
	say("close", h->data);
}

static void on_repeat(uv_timer_t *t)
{
	int i = (int)(t - rep);
	char what[32];
	snprintf(what, sizeof what, "timer-run%d", ++runs[i]);
	say(what, t->data);
	if (runs[i] == 3) {
		uv_timer_stop(t);
		uv_close((uv_handle_t *)t, on_close);   /* from inside req-i's callback */
	}
}

static void on_sibling(uv_timer_t *t)
{
	say("sibling", t->data);
	uv_close((uv_handle_t *)t, NULL);
}

/* ---- idle / prepare / check ------------------------------------------- */

static uv_idle_t idle;
static uv_prepare_t prep;
static uv_check_t check;

static void on_idle(uv_idle_t *h)
{
	say("idle", h->data);
	uv_idle_stop(h);
	uv_close((uv_handle_t *)h, NULL);
}

static void on_prep(uv_prepare_t *h)
{
	say("prepare", h->data);
	uv_prepare_stop(h);
	uv_close((uv_handle_t *)h, NULL);
}

static void on_check(uv_check_t *h)
{
	say("check", h->data);
	uv_check_stop(h);
	uv_close((uv_handle_t *)h, NULL);
}

/* ---- the thread pool ---------------------------------------------------- */

static uv_work_t work[5], warm;

static void on_work(uv_work_t *w) { say("work", w->data); }
static void on_after(uv_work_t *w, int status) { (void)status; say("after-work", w->data); }
static void warm_work(uv_work_t *w) { (void)w; }

/* ---- async from other threads ---------------------------------------- */

static uv_async_t async;
static int async_seen;

static const char *senders[2] = { "sender-A", "sender-B" };

static void on_async(uv_async_t *a)
{
	say("async", senders[async_seen]);
	if (++async_seen == 2)
		uv_close((uv_handle_t *)a, NULL);
}

static void *sender(void *arg)
{
	enter(arg);
	uv_async_send(&async);
	return NULL;
}

/* ---- fs, dns, streams ---------------------------------------------------- */

static uv_fs_t fsreq;
static uv_getaddrinfo_t dns;
static uv_pipe_t ends[2];
static uv_write_t wreq;
static char rbuf[64];

static void on_stat(uv_fs_t *r) { say("fs-stat", r->data); uv_fs_req_cleanup(r); }

static void on_dns(uv_getaddrinfo_t *r, int status, struct addrinfo *res)
{
	(void)status;
	say("getaddrinfo", r->data);
	uv_freeaddrinfo(res);
}

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
	(void)size;
	say("alloc", h->data);
	*buf = uv_buf_init(rbuf, sizeof rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	if (n > 0) {
		say("read", s->data);
		uv_read_stop(s);
		uv_close((uv_handle_t *)&ends[0], NULL);
		uv_close((uv_handle_t *)&ends[1], NULL);
	}
}

static void on_write(uv_write_t *w, int status) { (void)status; say("write", w->data); }

int main(void)
{
	loop = uv_default_loop();

	/* Pool threads start before any request, in a context of their own. */
	enter("pool-creator");
	uv_queue_work(loop, &warm, warm_work, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	enter(NULL);

	for (int i = 0; i < 4; i++) {
		enter(req[i]);
		rep[i].data = (void *)req[i];
		uv_timer_init(loop, &rep[i]);
		uv_timer_start(&rep[i], on_repeat, 5, 5);
		sib[i].data = (void *)req[i];
		uv_timer_init(loop, &sib[i]);
		uv_timer_start(&sib[i], on_sibling, 0, 0);
		work[i].data = (void *)req[i];
		uv_queue_work(loop, &work[i], on_work, on_after);
	}
	/* Registering leaves the program's errno alone. */
	static uv_timer_t quiet;
	uv_timer_init(loop, &quiet);
	errno = EDOM;
	uv_timer_start(&quiet, on_sibling, 0, 0);
	uv_close((uv_handle_t *)&quiet, NULL);
	int e = errno;
	char line[64];
	int len = snprintf(line, sizeof line, "errno-kept %s\n", e == EDOM ? "ok" : "WRONG");
	if (write(1, line, (size_t)len) < 0)
		return 1;

	/* A work item queued from no request sees none on the pool thread. */
	enter(NULL);
	work[4].data = "-";
	uv_queue_work(loop, &work[4], on_work, on_after);

	enter(req[1]);
	idle.data = (void *)req[1];
	uv_idle_init(loop, &idle);
	uv_idle_start(&idle, on_idle);
	enter(req[2]);
	prep.data = (void *)req[2];
	uv_prepare_init(loop, &prep);
	uv_prepare_start(&prep, on_prep);
	enter(req[3]);
	check.data = (void *)req[3];
	uv_check_init(loop, &check);
	uv_check_start(&check, on_check);

	enter(req[0]);
	fsreq.data = (void *)req[0];
	uv_fs_stat(loop, &fsreq, "/", on_stat);
	enter(req[1]);
	dns.data = (void *)req[1];
	uv_getaddrinfo(loop, &dns, on_dns, "localhost", NULL, NULL);

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 1;
	for (int i = 0; i < 2; i++) {
		uv_pipe_init(loop, &ends[i], 0);
		uv_pipe_open(&ends[i], sv[i]);
	}
	enter(req[2]);
	ends[0].data = (void *)req[2];
	uv_read_start((uv_stream_t *)&ends[0], on_alloc, on_read);
	enter(req[3]);
	wreq.data = (void *)req[3];
	uv_buf_t b = uv_buf_init("ping", 4);
	uv_write(&wreq, (uv_stream_t *)&ends[1], &b, 1, on_write);

	/* Two senders, each the only one before the loop runs the callback. */
	enter(NULL);
	uv_async_init(loop, &async, on_async);

	enter("loop-main");
	say("before", "loop-main");
	pthread_t th;
	pthread_create(&th, NULL, sender, "sender-A");
	pthread_join(th, NULL);
	while (async_seen < 1)      /* the first send's callback, before the next send */
		uv_run(loop, UV_RUN_ONCE);
	pthread_create(&th, NULL, sender, "sender-B");
	pthread_join(th, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	say("after", "loop-main");
	uv_loop_close(loop);
	return 0;
}
