/*
 * ctl_churn.c: threads that come and go.  For SECONDS, 4 spawner threads
 * each start short-lived threads in turn; every short-lived thread sets its
 * own request_id, rewrites its context a few times and ends, in turn, by
 * returning, by pthread_exit, or by being cancelled.  Then it prints
 * "idle <count>" and waits for SIGTERM, with only the main thread left.
 *
 *   ctl_churn SECONDS [return]
 *
 * With "return" every thread ends by returning (ThreadSanitizer cannot
 * follow glibc's unwinding of pthread_exit and cancellation into cleanup
 * handlers: it loses the mutexes held there and reports false races).
 */
#include <ctxshim.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static time_t end;
static int only_return;

static void *short_lived(void *arg)
{
	long n = (long)arg;
	char id[32];
	snprintf(id, sizeof id, "churn-%ld", n);
	ctxshim_set("request_id", id);
	for (int i = 0; i < 20; i++) {
		ctxshim_set("step", i & 1 ? "odd" : "even");
		ctxshim_unset("step");
	}
	if (only_return)
		return NULL;
	if (n % 3 == 1)
		pthread_exit(NULL);
	if (n % 3 == 2) {
		for (;;)
			pause();    /* a cancellation point */
	}
	return NULL;
}

static void *spawner(void *arg)
{
	long count = 0, base = (long)arg * 1000000;
	while (time(NULL) < end) {
		pthread_t th;
		long n = base + count++;
		if (pthread_create(&th, NULL, short_lived, (void *)n) != 0)
			continue;
		if (n % 3 == 2 && !only_return)
			pthread_cancel(th);
		pthread_join(th, NULL);
	}
	return (void *)count;
}

int main(int argc, char **argv)
{
	sigset_t set;
	int sig;
	long total = 0;
	pthread_t sp[4];

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 3);
	only_return = argc > 2;
	printf("started\n");
	fflush(stdout);
	for (long i = 0; i < 4; i++)
		pthread_create(&sp[i], NULL, spawner, (void *)i);
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(sp[i], &r);
		total += (long)r;
	}
	printf("idle %ld\n", total);
	fflush(stdout);
	sigwait(&set, &sig);
	return 0;
}
