/* ev_once: ns per 0-timeout event_base_once plus the dispatch that runs it. */
#include "bench_clock.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>

static long fired;

static void cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fired++;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 300000;
	struct event_base *base = event_base_new();
	for (long i = 0; i < n / 10; i++) {     /* warm-up */
		event_base_once(base, -1, EV_TIMEOUT, cb, NULL, NULL);
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		event_base_once(base, -1, EV_TIMEOUT, cb, NULL, NULL);
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
	double t1 = now_ns();
	printf("%.1f\n", (t1 - t0) / n);
	event_base_free(base);
	return fired == n + n / 10 ? 0 : 1;
}
