/*
 * api_edge.c: edge cases found in review, one scenario per argument.
 *
 *   smallstack   a thread with a 16 kB stack starts programs (posix_spawn,
 *                system, popen, fork+execve)
 *   popenmix     popen with a context, clear, popen again; pclose the first
 *   sigexec      a timer's signal handler calls execve while the main thread
 *                keeps changing its context
 *   chainfull    (chain mode) a child's view is capped at 64 entries
 *   attachnull   attach(NULL) then detach restores the caller's context
 */
#include <ctxshim.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void *small(void *arg)
{
	pid_t pid;
	int st;
	char *argv[] = { "/bin/sh", "-c", "echo \"spawned ${BAGGAGE:-none}\"", NULL };
	(void)arg;
	posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
	waitpid(pid, &st, 0);
	fflush(stdout);
	system("echo \"system ${BAGGAGE:-none}\"");
	FILE *f = popen("echo \"popen ${BAGGAGE:-none}\"", "r");
	char line[256];
	while (f && fgets(line, sizeof line, f))
		fputs(line, stdout);
	if (f)
		pclose(f);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execve(argv[0], argv, environ);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	return NULL;
}

static void on_alarm(int sig)
{
	char *argv[] = { "/bin/echo", "exec from a signal handler", NULL };
	(void)sig;
	execve(argv[0], argv, environ);
	_exit(126);
}

static int count(const char *k, const char *v, void *arg)
{
	(void)k, (void)v;
	++*(int *)arg;
	return 0;
}

static void *chain_child(void *arg)
{
	char k[16];
	int ok = 0, n = 0;
	(void)arg;
	for (int i = 0; i < 10; i++) {
		snprintf(k, sizeof k, "child%02d", i);
		if (ctxshim_set(k, "c") == 0)
			ok++;
		else if (errno != ENOSPC)
			printf("unexpected errno %d\n", errno);
	}
	ctxshim_foreach(count, &n);
	printf("child set %d new keys, sees %d entries\n", ok, n);
	printf("replace an inherited key: %d\n", ctxshim_set("p00", "mine"));
	printf("unset an inherited key: %d\n", ctxshim_unset("p01"));
	printf("unset an own key: %d\n", ctxshim_unset("child00"));
	n = 0;
	ctxshim_foreach(count, &n);
	printf("child sees %d entries\n", n);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "smallstack")) {
		pthread_attr_t a;
		pthread_t t;
		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN);
		if (pthread_create(&t, &a, small, NULL))
			return 2;
		pthread_join(t, NULL);
	} else if (!strcmp(what, "popenmix")) {
		ctxshim_set("request_id", "first");
		FILE *a = popen("cat >/dev/null", "w");
		ctxshim_clear();
		FILE *b = popen("cat >/dev/null", "w");
		printf("pclose first: %d\n", pclose(a));
		printf("pclose second: %d\n", pclose(b));
	} else if (!strcmp(what, "sigexec")) {
		struct sigaction sa;
		struct itimerval it = { { 0, 0 }, { 0, 20000 } };
		char v[32];
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_alarm;
		sigaction(SIGALRM, &sa, NULL);
		ctxshim_set("request_id", "before");
		fflush(stdout);
		setitimer(ITIMER_REAL, &it, NULL);
		for (long i = 0;; i++) {
			snprintf(v, sizeof v, "req-%ld", i);
			ctxshim_set("request_id", v);
		}
	} else if (!strcmp(what, "chainfull")) {
		char k[16];
		pthread_t t;
		for (int i = 0; i < 60; i++) {
			snprintf(k, sizeof k, "p%02d", i);
			ctxshim_set(k, "p");
		}
		pthread_create(&t, NULL, chain_child, NULL);
		pthread_join(t, NULL);
	} else if (!strcmp(what, "attachnull")) {
		char v[32] = "";
		ctxshim_set("request_id", "mine");
		ctxshim_ctx_t *tok = ctxshim_attach(NULL);
		ssize_t inside = ctxshim_get("request_id", v, sizeof v);
		ctxshim_detach(tok);
		ctxshim_get("request_id", v, sizeof v);
		printf("inside %zd after %s\n", inside, v);
	}
	return 0;
}
