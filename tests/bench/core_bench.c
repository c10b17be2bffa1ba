/*
 * core_bench.c: micro-benchmarks of the context core.  Each mode prints one
 * number, the median over several batches (ns per operation).
 *
 *   core_bench get          ctxshim_get of a present key (8 entries)
 *   core_bench getkey       ctxshim_get_key of the same key
 *   core_bench getspecific  pthread_getspecific, the reference
 *   core_bench reads        the three above in alternating rounds in one
 *                           process: "get getkey getspecific" medians (ns)
 *                           and each one's spread (max/min - 1, in %)
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

/* The read loops.  Each side is its own function of the same shape: one
 * direct call per iteration (the header's macros would add a test of the
 * weak symbol and keep a register busy on the ctxshim side only), the
 * result summed in a register and stored once. */
static char rbuf[64];
static pthread_key_t rkey;
static ctxshim_key_t rhandle;

static __attribute__((noinline)) long loop_get(long n)
{
	long s = 0;
	for (long i = 0; i < n; i++)
		s += (ctxshim_get)("request_id", rbuf, sizeof rbuf);
	return s;
}

static __attribute__((noinline)) long loop_getkey(long n)
{
	long s = 0;
	for (long i = 0; i < n; i++)
		s += (ctxshim_get_key)(rhandle, rbuf, sizeof rbuf);
	return s;
}

static __attribute__((noinline)) long loop_getspecific(long n)
{
	long s = 0;
	for (long i = 0; i < n; i++)
		s += (long)pthread_getspecific(rkey);
	return s;
}

static double time_loop(long (*f)(long), long n)
{
	double t0 = now_ns();
	sink += f(n);
	return (now_ns() - t0) / (double)n;
}

/* ROUNDS rounds, each timing the three loops in turn (rotating which goes
 * first): the medians and spreads of each. */
static int reads(void)
{
	enum { ROUNDS = 15 };
	long (*f[3])(long) = { loop_get, loop_getkey, loop_getspecific };
	double t[3][ROUNDS];
	long n = 1000000;
	for (int i = 0; i < 3; i++)
		time_loop(f[i], n / 10);   /* warm up: caches, the CPU's clock */
	for (int r = 0; r < ROUNDS; r++)
		for (int j = 0; j < 3; j++) {
			int i = (r + j) % 3;
			t[i][r] = time_loop(f[i], n);
		}
	for (int i = 0; i < 3; i++) {
		qsort(t[i], ROUNDS, sizeof t[i][0], cmp);
		printf("%s%.2f", i ? " " : "", t[i][ROUNDS / 2]);
	}
	for (int i = 0; i < 3; i++)
		printf(" %.1f", (t[i][ROUNDS - 1] / t[i][0] - 1) * 100);
	printf("\n");
	return 0;
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
	rkey = key;
	if ((!strcmp(what, "reads") || !strncmp(what, "get", 3)) && strcmp(what, "getspecific") &&
	    (!ctxshim_get_key || !ctxshim_get)) {
		fprintf(stderr, "core_bench: run it under the shim\n");
		return 1;
	}
	if (ctxshim_key)
		rhandle = (ctxshim_key)("request_id");
	if (!strcmp(what, "reads")) {
		fill(8);
		return reads();
	}
	if (!strcmp(what, "create") || !strcmp(what, "spawn"))
		n = !strcmp(what, "create") ? 20000 : 30;   /* 9 x 30 spawns: make bench stays short */
	else if (!strcmp(what, "capture"))
		fill(argc > 2 ? atoi(argv[2]) : 8);
	else if (!strcmp(what, "get") || !strcmp(what, "getkey"))
		fill(8);

	for (int b = 0; b < BATCHES; b++) {
		double t0 = now_ns();
		if (!strcmp(what, "get")) {
			sink += loop_get(n);
		} else if (!strcmp(what, "getkey")) {
			sink += loop_getkey(n);
		} else if (!strcmp(what, "getspecific")) {
			sink += loop_getspecific(n);
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
