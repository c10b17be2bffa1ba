/*
 * ctl_forker.c: a process that forks a child the way a pre-forking server
 * does: the child keeps running (no exec), prints its pid, waits until
 * FILE exists, and returns from main (exit, not _exit).  The parent waits
 * for it, prints "child done" and stays until SIGTERM, then exits normally.
 *
 *   ctl_forker FILE
 *   ctl_forker FILE daemon   daemon(3) instead (glibc forks internally):
 *                            the daemon prints "daemon PID", waits for FILE
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *file = argc > 1 ? argv[1] : "/nonexistent";
	sigset_t set;
	int sig, st;

	if (argc > 2 && !strcmp(argv[2], "daemon")) {
		if (daemon(1, 1) < 0)
			return 1;
		printf("daemon %d\n", (int)getpid());
		fflush(stdout);
		for (int i = 0; i < 600 && access(file, F_OK) != 0; i++)
			usleep(20000);
		return 0;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		printf("child %d\n", (int)getpid());
		fflush(stdout);
		for (int i = 0; i < 600 && access(file, F_OK) != 0; i++)
			usleep(20000);
		return 0;
	}
	waitpid(pid, &st, 0);
	printf("child done\n");
	fflush(stdout);
	sigwait(&set, &sig);
	return 0;
}
