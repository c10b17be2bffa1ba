/*
 * passthrough.c: checks that the hooks change nothing a program can see.
 * It knows nothing of ctxshim; run it with and without the shim: it prints
 * "ok NAME" for each check, or "FAIL NAME: why", and exits 1 on a failure;
 * "info" lines must be the same in both runs.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static int failed;

#define CHECK(name, cond, ...)                                          \
	do {                                                            \
		if (cond) {                                             \
			printf("ok %s\n", name);                        \
		} else {                                                \
			printf("FAIL %s: ", name);                      \
			printf(__VA_ARGS__);                            \
			printf("\n");                                   \
			failed = 1;                                     \
		}                                                       \
	} while (0)

static void *ret_value(void *arg)
{
	return (char *)arg + 1;
}

static size_t seen_stack;
static void *stack_size(void *arg)
{
	pthread_attr_t a;
	pthread_getattr_np(pthread_self(), &a);
	pthread_attr_getstacksize(&a, &seen_stack);
	pthread_attr_destroy(&a);
	return arg;
}

static void *exits(void *arg)
{
	pthread_exit((char *)arg + 2);
}

int main(void)
{
	pthread_t t;
	pthread_attr_t attr;
	void *res;
	int rc;
	static char token[4];

	errno = EDOM;
	rc = pthread_create(&t, NULL, ret_value, token);
	CHECK("pthread_create keeps errno", errno == EDOM, "errno %d", errno);
	pthread_join(t, &res);
	CHECK("start routine's return value passes through", res == token + 1, "%p", res);

	pthread_create(&t, NULL, exits, token);
	pthread_join(t, &res);
	CHECK("pthread_exit value passes through", res == token + 2, "%p", res);

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 1 << 20);
	pthread_create(&t, &attr, stack_size, NULL);
	pthread_join(t, NULL);
	CHECK("stack size attribute is honoured", seen_stack == 1 << 20, "%zu", seen_stack);

	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_create(&t, &attr, ret_value, token);
	rc = pthread_join(t, NULL);
	CHECK("detached attribute is honoured", rc == EINVAL || rc == ESRCH, "join %d", rc);
	pthread_attr_destroy(&attr);

	pthread_attr_init(&attr);
	rc = pthread_attr_setstacksize(&attr, (size_t)1 << 46);
	rc = pthread_create(&t, &attr, ret_value, token);
	CHECK("pthread_create's error code passes through", rc == EAGAIN || rc == ENOMEM, "rc %d", rc);
	pthread_attr_destroy(&attr);

	errno = ERANGE;
	pid_t pid = fork();
	if (pid == 0)
		_exit(errno == ERANGE ? 0 : 1);
	int st;
	CHECK("fork keeps errno in the parent", errno == ERANGE, "errno %d", errno);
	waitpid(pid, &st, 0);
	CHECK("fork keeps errno in the child", WIFEXITED(st) && WEXITSTATUS(st) == 0, "st %d", st);

	char *argv[] = { "true", NULL };
	errno = EXDEV;
	rc = posix_spawnp(&pid, "true", NULL, NULL, argv, environ);
	/* glibc itself may leave errno changed by its PATH search: print it,
	 * the test compares the runs with and without the shim. */
	printf("info posix_spawnp rc %d errno %d\n", rc, errno);
	waitpid(pid, &st, 0);
	rc = posix_spawn(&pid, "/nonexistent/prog", NULL, NULL, argv, environ);
	CHECK("posix_spawn's error code passes through", rc == ENOENT, "rc %d", rc);

	errno = EXDEV;
	rc = system("exit 3");
	CHECK("system returns the status", WIFEXITED(rc) && WEXITSTATUS(rc) == 3, "rc %d", rc);
	CHECK("system keeps errno", errno == EXDEV, "errno %d", errno);
	rc = system(NULL);
	CHECK("system(NULL) reports a shell", rc != 0, "rc %d", rc);

	errno = EXDEV;
	FILE *f = popen("echo hi; exit 4", "r");
	char line[16] = "";
	if (f && fgets(line, sizeof line, f)) {}
	rc = f ? pclose(f) : -1;
	CHECK("popen reads the output", !strcmp(line, "hi\n"), "%s", line);
	CHECK("pclose returns the status", WIFEXITED(rc) && WEXITSTATUS(rc) == 4, "rc %d", rc);
	errno = 0;
	f = popen("true", "x");
	CHECK("popen rejects a bad mode", !f && errno == EINVAL, "f %p errno %d", (void *)f, errno);

	errno = 0;
	rc = execve("/nonexistent/prog", argv, environ);
	CHECK("execve's failure sets ENOENT", rc == -1 && errno == ENOENT, "errno %d", errno);
	errno = 0;
	rc = execvp("no-such-program-ctxshim", argv);
	CHECK("execvp's failure sets ENOENT", rc == -1 && errno == ENOENT, "errno %d", errno);

	return failed;
}
