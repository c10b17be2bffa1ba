/*
 * ctl_workers.c: a small multi-threaded service.  N worker threads, each
 * with its own request_id (req-1 .. req-N, set through the public API),
 * write a line to stderr every 50 ms.  The main thread waits for signals:
 * SIGUSR1 runs COMMAND (sh -c) and waits for it, SIGTERM exits normally.
 * It prints "ready" on stdout once every worker runs.
 *
 *   ctl_workers N [COMMAND]
 *
 * Workers are started from start_workers(), a named function, so a spawn
 * backtrace has a recognisable frame.
 */
#include <ctxshim.h>

#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static pthread_barrier_t started;

static void *worker(void *arg)
{
	char id[32];
	long n = (long)arg;
	snprintf(id, sizeof id, "req-%ld", n);
	ctxshim_set("request_id", id);
	pthread_barrier_wait(&started);
	for (;;) {
		fprintf(stderr, "worker %ld tick\n", n);
		usleep(50000);
	}
	return NULL;
}

__attribute__((noinline)) void start_workers(long n)
{
	for (long i = 1; i <= n; i++) {
		pthread_t th;
		if (pthread_create(&th, NULL, worker, (void *)i) != 0) {
			perror("pthread_create");
			exit(1);
		}
		pthread_detach(th);
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 4;
	const char *cmd = argc > 2 ? argv[2] : "true";
	sigset_t set;
	int sig;

	/* Workers inherit the blocked set: the signals come to sigwait here. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_barrier_init(&started, NULL, (unsigned)n + 1);
	start_workers(n);
	pthread_barrier_wait(&started);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGTERM)
			break;
		char *args[] = { "sh", "-c", (char *)cmd, NULL };
		pid_t pid;
		int st;
		if (posix_spawn(&pid, "/bin/sh", NULL, NULL, args, environ) == 0)
			waitpid(pid, &st, 0);
		printf("spawned\n");
		fflush(stdout);
	}
	fprintf(stderr, "main exits\n");
	exit(0);
}
