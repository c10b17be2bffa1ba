/*
 * libearly.c: a library whose constructor starts a thread and a process
 * before ctxshim's constructor has run (preloaded after it, its constructor
 * runs first).  Knows nothing of ctxshim.  The thread and the child print
 * what they inherited.
 */
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void *thread_main(void *arg)
{
	(void)arg;
	printf("early thread ran\n");
	return NULL;
}

__attribute__((constructor)) static void early(void)
{
	pthread_t t;
	pid_t pid;
	int st;
	char *argv[] = { "sh", "-c", "echo \"early child: $BAGGAGE\"", NULL };
	/* The child preloads this library too: act in the first process only. */
	if (getenv("EARLY_DONE"))
		return;
	setenv("EARLY_DONE", "1", 1);
	if (pthread_create(&t, NULL, thread_main, NULL) == 0)
		pthread_join(t, NULL);
	fflush(stdout);
	if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) == 0)
		waitpid(pid, &st, 0);
}
