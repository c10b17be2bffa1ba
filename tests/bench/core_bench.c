/*
 * core_bench.c: micro-benchmarks of the context core.  Each mode prints one
 * number, the median over several batches (ns per operation).
 *
 *   core_bench get          ctxshim_get of a present key (8 entries)
 *   core_bench getspecific  pthread_getspecific, the reference
 *   core_bench capture N    capture+release with N entries (1, 8, 64)
 *   core_bench create       pthread_create + pthread_join
 *   core_bench spawn CMD..  posix_spawn + waitpid of CMD (prints ms)
 */
#include <ctxshim.h>

#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

#define BATCHES 9
static volatile long sink;

static void *nothing(void *a)
{
	return a;
}

static void fill(int n)
{
	char k[16], v[32];
	ctxshim_clear();
	for (int i = 1; i < n; i++) {
		snprintf(k, sizeof k, "key%02d", i);
		snprintf(v, sizeof v, "value-%d", i);
		ctxshim_set(k, v);
	}
	ctxshim_set("request_id", "0123456789abcdef0123456789abcdef");
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "get";
	double t[BATCHES];
	long n = 2000000;
	pthread_key_t key;
	char buf[64];

	pthread_key_create(&key, NULL);
	pthread_setspecific(key, buf);
	if (!strcmp(what, "create") || !strcmp(what, "spawn"))
		n = !strcmp(what, "create") ? 20000 : 100;
	else if (!strcmp(what, "capture"))
		fill(argc > 2 ? atoi(argv[2]) : 8);
	else if (!strcmp(what, "get"))
		fill(8);

	for (int b = 0; b < BATCHES; b++) {
		double t0 = now_ns();
		if (!strcmp(what, "get")) {
			for (long i = 0; i < n; i++)
				sink += ctxshim_get("request_id", buf, sizeof buf);
		} else if (!strcmp(what, "getspecific")) {
			for (long i = 0; i < n; i++)
				sink += (long)pthread_getspecific(key);
		} else if (!strcmp(what, "capture")) {
			for (long i = 0; i < n; i++)
				ctxshim_release(ctxshim_capture());
		} else if (!strcmp(what, "create")) {
			for (long i = 0; i < n; i++) {
				pthread_t th;
				pthread_create(&th, NULL, nothing, NULL);
				pthread_join(th, NULL);
			}
		} else if (!strcmp(what, "spawn")) {
			for (long i = 0; i < n; i++) {
				pid_t pid;
				int st;
				if (posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ))
					return 1;
				waitpid(pid, &st, 0);
			}
		}
		t[b] = (now_ns() - t0) / (double)n;
	}
	qsort(t, BATCHES, sizeof t[0], cmp);
	if (!strcmp(what, "spawn"))
		printf("%.3f\n", t[BATCHES / 2] / 1e6);
	else
		printf("%.2f\n", t[BATCHES / 2]);
	return 0;
}
