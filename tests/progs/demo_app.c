/*
 * demo_app.c: the bundled example for `make demo`: an ordinary
 * multi-threaded batch program that knows nothing of ctxshim.  Three worker
 * threads each log a line to stderr and start a child process (a shell that
 * asks `ctxrun --get` what context it inherited).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *ctxrun;

static void *worker(void *arg)
{
	long n = (long)arg;
	char cmd[1024];
	fprintf(stderr, "worker %ld: processing batch %ld\n", n, n * 100);
	snprintf(cmd, sizeof cmd,
		 "echo \"worker %ld's child process: request_id=$(%s --get request_id)"
		 " request_path=$(%s --get request_path)\"", n, ctxrun, ctxrun);
	fflush(stdout);
	if (system(cmd) != 0)
		fprintf(stderr, "worker %ld: child failed\n", n);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[3];
	ctxrun = argc > 1 ? argv[1] : "ctxrun";
	fprintf(stderr, "demo: starting 3 workers\n");
	for (long i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	fprintf(stderr, "demo: done\n");
	return 0;
}
