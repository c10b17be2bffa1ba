/*
 * net_wait: nanoseconds per epoll_wait() or poll() on one ready eventfd, on
 * a thread that holds no connection's lease.  Usage: net_wait MODE with MODE
 *   epoll0    epoll_wait, zero timeout
 *   epoll     epoll_wait, 1 s timeout (the fd is ready: it returns at once)
 *   poll      poll, 1 s timeout (ready likewise)
 * Prints the median of 9 batches of 100,000 calls.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#define BATCH 100000

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "epoll0";
	int ev = eventfd(1, 0);
	int ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN }, out[4];
	if (ev < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) < 0)
		return 1;
	struct pollfd p = { .fd = ev, .events = POLLIN };
	int ms = strcmp(mode, "epoll0") ? 1000 : 0, use_poll = !strcmp(mode, "poll");
	double t[9];
	for (int b = 0; b < 9; b++) {
		double t0 = now();
		for (int i = 0; i < BATCH; i++) {
			int r = use_poll ? poll(&p, 1, ms) : epoll_wait(ep, out, 4, ms);
			if (r != 1)
				return 1;
		}
		t[b] = (now() - t0) / BATCH;
	}
	qsort(t, 9, sizeof t[0], cmp);
	printf("%.1f\n", t[4]);
	return 0;
}
