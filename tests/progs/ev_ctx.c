/*
 * ev_ctx: a libevent program that registers callbacks from four "requests"
 * (request_id req-0..req-3) and prints, from inside every callback, the
 * request it was registered for (reg=, carried in the program's own arg) and
 * the request_id it sees (ctx=, "-" when unset).  Under ctxshim the two
 * agree; without it ctx is always "-" and everything else is the same.
 *
 * Covered: persistent timers (every run), event_base_once siblings run in
 * one loop iteration, evtimer_assign'ed events re-added from their own
 * callback, event_active from another request, a signal event, bufferevent
 * read callbacks, event_active from another thread, and what the program
 * reads back (event_get_callback, event_get_callback_arg, event_self_cbarg,
 * event_get_assignment, bufferevent_getcb); then the loop thread's context.
 */
#include <ctxshim.h>
#include "keycheck.h"
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *req[4] = { "req-0", "req-1", "req-2", "req-3" };
static struct event_base *base;

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

static void check(const char *what, int ok)
{
	char line[128];
	int n = snprintf(line, sizeof line, "%s %s\n", what, ok ? "ok" : "WRONG");
	if (write(1, line, (size_t)n) < 0)
		exit(1);
}

/* ---- persistent timers --------------------------------------------------- */

struct rep {
	struct event *ev;
	const char *reg;
	int runs;
};
static struct rep reps[4];

static void on_repeat(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct rep *r = arg;
	char label[32];
	snprintf(label, sizeof label, "persist-run%d", ++r->runs);
	say(label, r->reg);
	if (r->runs == 3)
		event_free(r->ev);   /* from inside its own callback */
}

/* ---- once, assign, active --------------------------------------------- */

static void on_once(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	say("once", arg);
}

static struct event assigned[4];
static int assigned_runs[4];

static void on_assigned(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	int i = (int)(intptr_t)arg;
	char label[32];
	snprintf(label, sizeof label, "assigned-run%d", ++assigned_runs[i]);
	say(label, req[i]);
	if (assigned_runs[i] == 1) {
		struct timeval tv = { 0, 1000 };
		evtimer_add(&assigned[i], &tv);   /* re-armed in its own context */
	}
}

static struct event *act_ev;

static void on_active(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	say("active", req[2]);     /* activated from req-2, created in req-0 */
}

static void *self_seen;

static void on_self(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	self_seen = arg;
	say("selfarg", req[1]);
}

struct sigarg {
	const char *reg;
	struct event *ev;
};
static struct sigarg sig = { "req-3", NULL };

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct sigarg *s = arg;
	say("signal", s->reg);
	event_del(s->ev);
}

/* ---- bufferevents ------------------------------------------------------- */

static void on_bev_read(struct bufferevent *bev, void *arg)
{
	char buf[16];
	size_t n = bufferevent_read(bev, buf, sizeof buf);
	if (n > 0) {
		say("bev-read", arg);
		bufferevent_disable(bev, EV_READ);
	}
}

static void on_bev_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	(void)arg;
}

/* ---- another thread ------------------------------------------------------ */

static struct event *thr_ev;

static void on_thread_active(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	say("thread-active", "thr-9");
	event_free(thr_ev);
}

static void *activator(void *arg)
{
	(void)arg;
	enter("thr-9");
	event_active(thr_ev, EV_TIMEOUT, 0);
	return NULL;
}

static void on_never(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	say("never", arg);
}

int main(void)
{
	evthread_use_pthreads();
	base = event_base_new();
	if (!base)
		return 1;

	for (int i = 0; i < 4; i++) {
		enter(req[i]);
		struct timeval five = { 0, 5000 }, one = { 0, 1000 };
		reps[i].reg = req[i];
		reps[i].ev = event_new(base, -1, EV_PERSIST, on_repeat, &reps[i]);
		event_add(reps[i].ev, &five);
		event_base_once(base, -1, EV_TIMEOUT, on_once, (void *)req[i], NULL);
		evtimer_assign(&assigned[i], base, on_assigned, (void *)(intptr_t)i);
		evtimer_add(&assigned[i], &one);
	}

	/* Registering leaves the program's errno alone. */
	errno = EDOM;
	struct event *quiet = event_new(base, -1, 0, on_never, "quiet");
	event_add(quiet, NULL);
	event_del(quiet);
	event_free(quiet);
	event_base_once(base, -1, EV_TIMEOUT, on_once, (void *)req[3], NULL);
	check("errno-kept", errno == EDOM);

	/* What the program reads back is its own. */
	enter(req[0]);
	act_ev = event_new(base, -1, 0, on_active, (void *)req[0]);
	check("get-callback", event_get_callback(act_ev) == on_active);
	check("get-callback-arg", event_get_callback_arg(act_ev) == (void *)req[0]);
	event_callback_fn cb_out = NULL;
	void *arg_out = NULL;
	event_get_assignment(act_ev, NULL, NULL, NULL, &cb_out, &arg_out);
	check("get-assignment", cb_out == on_active && arg_out == (void *)req[0]);
	enter(req[2]);
	event_active(act_ev, EV_TIMEOUT, 1);

	enter(req[1]);
	struct event *self = event_new(base, -1, 0, on_self, event_self_cbarg());
	event_active(self, EV_TIMEOUT, 1);

	/* An event added and deleted before it ever runs. */
	struct event *never = event_new(base, -1, 0, on_never, "never");
	struct timeval hour = { 3600, 0 };
	event_add(never, &hour);
	event_del(never);
	event_free(never);

	enter(req[3]);
	sig.ev = evsignal_new(base, SIGUSR1, on_signal, &sig);
	event_add(sig.ev, NULL);

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 1;
	struct bufferevent *rd = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *wr = bufferevent_socket_new(base, sv[1], BEV_OPT_CLOSE_ON_FREE);
	enter(req[1]);
	bufferevent_setcb(rd, on_bev_read, NULL, on_bev_event, (void *)req[1]);
	bufferevent_enable(rd, EV_READ);
	bufferevent_data_cb r_out = NULL, w_out = NULL;
	bufferevent_event_cb e_out = NULL;
	void *a_out = NULL;
	bufferevent_getcb(rd, &r_out, &w_out, &e_out, &a_out);
	check("bev-getcb", r_out == on_bev_read && w_out == NULL && e_out == on_bev_event &&
	      a_out == (void *)req[1]);
	enter(req[2]);
	bufferevent_write(wr, "ping", 4);

	enter(NULL);
	thr_ev = event_new(base, -1, 0, on_thread_active, NULL);

	enter("loop-main");
	say("before", "loop-main");
	raise(SIGUSR1);
	pthread_t th;
	pthread_create(&th, NULL, activator, NULL);
	pthread_join(th, NULL);
	event_base_dispatch(base);
	say("after", "loop-main");
	check("self-cbarg", self_seen == self);

	event_free(act_ev);
	event_free(self);
	event_free(sig.ev);
	bufferevent_free(rd);
	bufferevent_free(wr);
	event_base_free(base);
	libevent_global_shutdown();
	return 0;
}
