/* ev_leak: libevent register/fire cycles, for RSS and valgrind (leak_rss.h). */
#include "leak_rss.h"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <sys/socket.h>

static struct event_base *base;
static long fired;

static void cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fired++;
}

static void cb_free(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_free(arg);
	fired++;
}

static void bcb(struct bufferevent *b, void *arg)
{
	(void)b;
	(void)arg;
}

static int cycle(const char *mode, long n)
{
	struct timeval zero = { 0, 0 }, hour = { 3600, 0 };
	static struct event ev;
	struct event *p;
	if (!base)
		base = event_base_new();
	for (long i = 0; i < n; i++) {
		leak_context(i);
		if (!strcmp(mode, "once")) {
			event_base_once(base, -1, EV_TIMEOUT, cb, NULL, NULL);
		} else if (!strcmp(mode, "new")) {           /* fires, then frees itself */
			p = event_new(base, -1, 0, cb_free, event_self_cbarg());
			event_add(p, &zero);
		} else if (!strcmp(mode, "assign")) {        /* the same struct again and again */
			evtimer_assign(&ev, base, cb, NULL);
			event_add(&ev, &zero);
		} else if (!strcmp(mode, "persist")) {       /* runs, then deleted */
			p = event_new(base, -1, EV_PERSIST, cb, NULL);
			event_add(p, &zero);
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
			event_del(p);
			event_free(p);
			continue;
		} else if (!strcmp(mode, "active")) {
			p = event_new(base, -1, 0, cb_free, event_self_cbarg());
			event_active(p, EV_TIMEOUT, 1);
		} else if (!strcmp(mode, "never")) {         /* added, deleted unfired */
			p = event_new(base, -1, 0, cb, NULL);
			event_add(p, &hour);
			event_del(p);
			event_free(p);
			continue;
		} else if (!strcmp(mode, "unfired-once")) {  /* ended by event_base_free */
			event_base_once(base, -1, EV_TIMEOUT, cb, NULL, &hour);
			if (i % 1000 == 999) {
				event_base_free(base);
				base = event_base_new();
			}
			continue;
		} else if (!strcmp(mode, "bev")) {
			int sv[2];
			if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
				return -1;
			struct bufferevent *b = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
			bufferevent_setcb(b, bcb, NULL, NULL, NULL);
			bufferevent_setcb(b, bcb, bcb, NULL, NULL);
			bufferevent_free(b);   /* finished by the loop, below */
			close(sv[1]);
		} else {
			return -1;
		}
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
	return 0;
}

LEAK_MAIN(cycle)
