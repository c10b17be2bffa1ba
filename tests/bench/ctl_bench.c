/*
 * ctl_bench.c: what control and spawn tracing add to thread creation.  Each
 * mode prints one number, in ns.
 *
 *   ctl_bench create   pthread_create alone (the join is not timed), median
 *                      over batches, one creating thread (steady state)
 *   ctl_bench createjoin [P]  pthread_create + pthread_join, the P-th
 *                      percentile (default 10) of 20000 single timings: on a
 *                      shared, noisy machine a low percentile of single
 *                      operations is far steadier than a mean
 *   ctl_bench getq [P] ctxshim_get of a present key (8 entries), the P-th
 *                      percentile of 200 batches of 10000
 *   ctl_bench fork     fork + _exit in the child + waitpid, median of 300
 *   ctl_bench forkexit the same with exit(0) (exit handlers run) in the child
 *   ctl_bench nth K    the K-th pthread_create made by each of 200 fresh
 *                      threads (K=1: a thread's first), median
 */
#include <ctxshim.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

static void *nothing(void *a)
{
	return a;
}

static int nth;

/* NTH pthread_creates from a fresh thread; the last one timed. */
static void *spawner(void *out)
{
	for (int i = 1; i <= nth; i++) {
		pthread_t th;
		double t0 = now_ns();
		pthread_create(&th, NULL, nothing, NULL);
		*(double *)out = now_ns() - t0;
		pthread_join(th, NULL);
	}
	return NULL;
}

#define BATCHES 9

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "create";
	if (!strcmp(what, "nth")) {
		int n = 200;
		double *t = calloc((size_t)n, sizeof *t);
		nth = argc > 2 ? atoi(argv[2]) : 1;
		for (int i = 0; i < n; i++) {
			pthread_t th;
			pthread_create(&th, NULL, spawner, &t[i]);
			pthread_join(th, NULL);
		}
		qsort(t, (size_t)n, sizeof *t, cmp);
		printf("%.0f\n", t[n / 2]);
		return 0;
	}
	if (!strcmp(what, "createjoin")) {
		enum { M = 20000 };
		static double t[M];
		double p = argc > 2 ? atof(argv[2]) : 10;
		for (int i = 0; i < M; i++) {
			pthread_t th;
			double t0 = now_ns();
			pthread_create(&th, NULL, nothing, NULL);
			pthread_join(th, NULL);
			t[i] = now_ns() - t0;
		}
		qsort(t, M, sizeof *t, cmp);
		printf("%.0f\n", t[(int)(M * p / 100)]);
		return 0;
	}
	if (!strcmp(what, "fork") || !strcmp(what, "forkexit")) {
		enum { F = 300 };
		static double t[F];
		int handlers = !strcmp(what, "forkexit");
		for (int i = 0; i < F; i++) {
			int st;
			double t0 = now_ns();
			pid_t pid = fork();
			if (pid == 0) {
				if (handlers)
					exit(0);
				_exit(0);
			}
			waitpid(pid, &st, 0);
			t[i] = now_ns() - t0;
		}
		qsort(t, F, sizeof *t, cmp);
		printf("%.0f\n", t[F / 2]);
		return 0;
	}
	if (!strcmp(what, "getq")) {
		enum { K = 200, L = 10000 };
		static double t[K];
		static volatile long sink;
		char buf[64], key[16], val[16];
		double p = argc > 2 ? atof(argv[2]) : 10;
		for (int i = 1; i < 8; i++) {
			snprintf(key, sizeof key, "key%02d", i);
			snprintf(val, sizeof val, "value-%d", i);
			ctxshim_set(key, val);
		}
		ctxshim_set("request_id", "0123456789abcdef0123456789abcdef");
		for (int k = 0; k < K; k++) {
			double t0 = now_ns();
			for (int i = 0; i < L; i++)
				sink += ctxshim_get("request_id", buf, sizeof buf);
			t[k] = (now_ns() - t0) / L;
		}
		qsort(t, K, sizeof *t, cmp);
		printf("%.3f\n", t[(int)(K * p / 100)]);
		return 0;
	}
	double b[BATCHES];
	enum { N = 4000 };
	for (int k = 0; k < BATCHES; k++) {
		double sum = 0;
		for (int i = 0; i < N; i++) {
			pthread_t th;
			double t0 = now_ns();
			pthread_create(&th, NULL, nothing, NULL);
			sum += now_ns() - t0;
			pthread_join(th, NULL);
		}
		b[k] = sum / N;
	}
	qsort(b, BATCHES, sizeof b[0], cmp);
	printf("%.0f\n", b[BATCHES / 2]);
	return 0;
}
