/* glib_idle: ns per g_idle_add plus the main-context iteration that runs it. */
#include "bench_clock.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

static long fired;

static gboolean cb(gpointer d)
{
	(void)d;
	fired++;
	return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 300000;
	for (long i = 0; i < n / 10; i++) {     /* warm-up */
		g_idle_add(cb, NULL);
		g_main_context_iteration(NULL, FALSE);
	}
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		g_idle_add(cb, NULL);
		g_main_context_iteration(NULL, FALSE);
	}
	double t1 = now_ns();
	printf("%.1f\n", (t1 - t0) / n);
	return fired == n + n / 10 ? 0 : 1;
}
