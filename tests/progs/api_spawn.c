/*
 * api_spawn.c: four threads, each with its own request_id, start a shell by
 * METHOD; each shell prints its tag and the BAGGAGE it got.  With "cleared",
 * the thread clears its context first (the child must get no BAGGAGE even
 * though this process's environ has one).
 *
 *   api_spawn posix_spawn|system|popen|fork-exec [cleared]
 */
#include <ctxshim.h>

#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static const char *method;
static int cleared;
static pthread_mutex_t out = PTHREAD_MUTEX_INITIALIZER;

static void *work(void *arg)
{
	char tag[32], cmd[128];
	snprintf(tag, sizeof tag, "t%ld", (long)arg);
	if (cleared)
		ctxshim_clear();
	else
		ctxshim_set("request_id", tag);
	char *argv[] = { "sh", "-c", "echo \"$0 ${BAGGAGE:-none}\"", tag, NULL };
	snprintf(cmd, sizeof cmd, "echo \"%s ${BAGGAGE:-none}\"", tag);
	pid_t pid;
	int st;
	if (!strcmp(method, "posix_spawn")) {
		posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
		waitpid(pid, &st, 0);
	} else if (!strcmp(method, "system")) {
		system(cmd);
	} else if (!strcmp(method, "popen")) {
		char line[512];
		FILE *f = popen(cmd, "r");
		while (fgets(line, sizeof line, f)) {
			pthread_mutex_lock(&out);
			fputs(line, stdout);
			fflush(stdout);
			pthread_mutex_unlock(&out);
		}
		pclose(f);
	} else {
		pid = fork();
		if (pid == 0) {
			execvp("sh", argv);
			_exit(127);
		}
		waitpid(pid, &st, 0);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[4];
	method = argc > 1 ? argv[1] : "posix_spawn";
	cleared = argc > 2 && !strcmp(argv[2], "cleared");
	ctxshim_set("request_id", "main");
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, work, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return 0;
}
