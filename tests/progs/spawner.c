/*
 * spawner.c: starts a command from a second thread, by the method named in
 * argv[1], and waits for it.  It knows nothing of ctxshim.
 *
 *   spawner METHOD CMD [ARG]...
 *   METHOD: fork-exec execve execv execvp execvpe execl execlp execle
 *           execle-stale fexecve execveat posix_spawn posix_spawnp system
 *           popen vfork
 * Checks that its own environment is the same before and after.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static char **cmd;
static const char *method;

static void child_exec(void)
{
	char *stale[] = { "BAGGAGE=request_id=stale", "PATH=/usr/bin:/bin", NULL };
	char line[4096];
	size_t len = 0;
	if (!strcmp(method, "execve") || !strcmp(method, "fork-exec"))
		execve(cmd[0], cmd, environ);
	else if (!strcmp(method, "execv"))
		execv(cmd[0], cmd);
	else if (!strcmp(method, "execvp"))
		execvp(cmd[0], cmd);
	else if (!strcmp(method, "execvpe"))
		execvpe(cmd[0], cmd, environ);
	else if (!strcmp(method, "execl"))
		execl(cmd[0], cmd[0], cmd[1], cmd[1] ? cmd[2] : NULL, (char *)NULL);
	else if (!strcmp(method, "execlp"))
		execlp(cmd[0], cmd[0], cmd[1], cmd[1] ? cmd[2] : NULL, (char *)NULL);
	else if (!strcmp(method, "execle"))
		execle(cmd[0], cmd[0], cmd[1], cmd[1] ? cmd[2] : NULL, (char *)NULL, environ);
	else if (!strcmp(method, "execle-stale"))
		execle(cmd[0], cmd[0], cmd[1], cmd[1] ? cmd[2] : NULL, (char *)NULL, stale);
	else if (!strcmp(method, "fexecve")) {
		int fd = open(cmd[0], O_RDONLY);
		fexecve(fd, cmd, environ);
	} else if (!strcmp(method, "execveat"))
		execveat(AT_FDCWD, cmd[0], cmd, environ, 0);
	(void)line;
	(void)len;
	perror("exec");
	_exit(127);
}

static void *work(void *unused)
{
	pid_t pid;
	int status = 0;
	(void)unused;
	if (!strcmp(method, "posix_spawn") || !strcmp(method, "posix_spawnp")) {
		int rc = method[11] == 'p' ? posix_spawnp(&pid, cmd[0], NULL, NULL, cmd, environ)
					   : posix_spawn(&pid, cmd[0], NULL, NULL, cmd, environ);
		if (rc) {
			fprintf(stderr, "spawn failed: %d\n", rc);
			exit(1);
		}
		waitpid(pid, &status, 0);
	} else if (!strcmp(method, "system")) {
		char line[4096] = "";
		for (char **a = cmd; *a; a++) {
			strcat(line, "'");
			strcat(line, *a);
			strcat(line, "' ");
		}
		status = system(line);
	} else if (!strcmp(method, "popen")) {
		char line[4096] = "", buf[4096];
		for (char **a = cmd; *a; a++) {
			strcat(line, "'");
			strcat(line, *a);
			strcat(line, "' ");
		}
		FILE *f = popen(line, "r");
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, f)) > 0)
			fwrite(buf, 1, n, stdout);
		status = pclose(f);
	} else if (!strcmp(method, "vfork")) {
		/* Under tests/progs/libnomalloc.so, forbid allocation in the child. */
		volatile int *armed = dlsym(RTLD_DEFAULT, "nomalloc_armed");
		pid = vfork();
		if (pid == 0) {
			if (armed)
				*armed = 1;
			execve(cmd[0], cmd, environ);
			_exit(127);
		}
		if (armed)
			*armed = 0;
		waitpid(pid, &status, 0);
	} else {
		fflush(stdout);
		pid = fork();
		if (pid == 0)
			child_exec();
		waitpid(pid, &status, 0);
	}
	fflush(stdout);
	if (status != 0)
		fprintf(stderr, "child status %d\n", status);
	return NULL;
}

static char *env_dump(void)
{
	size_t len = 1;
	for (char **e = environ; *e; e++)
		len += strlen(*e) + 1;
	char *s = malloc(len), *p = s;
	for (char **e = environ; *e; e++)
		p += sprintf(p, "%s\n", *e);
	*p = 0;
	return s;
}

int main(int argc, char **argv)
{
	pthread_t t;
	if (argc < 3) {
		fprintf(stderr, "usage: spawner METHOD CMD...\n");
		return 2;
	}
	method = argv[1];
	cmd = argv + 2;
	char **env_before = environ;
	char *before = env_dump();
	pthread_create(&t, NULL, work, NULL);
	pthread_join(t, NULL);
	char *after = env_dump();
	if (environ != env_before || strcmp(before, after)) {
		fprintf(stderr, "spawner: my environment changed\n");
		return 3;
	}
	return 0;
}
