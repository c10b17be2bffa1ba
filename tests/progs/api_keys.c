/*
 * api_keys.c: ctxshim_get_key against ctxshim_get across every way the
 * calling thread's context changes.  Each step changes the context and then
 * reads request_id, user and absent both ways (keycheck.h exits 99 when
 * they disagree) after the handles already read the previous state, so a
 * reader that missed the change would answer from it.  Prints one line per
 * step: "STEP request_id=<> user=<>", and writes "STEP request_id=<>" to
 * stderr with write(2), for the log decoration to be compared.
 *
 *   api_keys          the steps below, in this process
 *   api_keys watch    prints "ready", then reads incident every millisecond
 *                     and prints "incident=<>" whenever it changes, until
 *                     it reads "stop" (for ctxctl set / unset)
 */
#include "keycheck.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static ctxshim_key_t h_id;

static void show(const char *step)
{
	char id[128], user[128];
	if (kc_get("request_id", id, sizeof id) < 0)
		strcpy(id, "-");
	if (kc_get("user", user, sizeof user) < 0)
		strcpy(user, "-");
	kc_get("absent", NULL, 0);
	kc_get("request_id", NULL, 0);     /* size 0: the length only */
	printf("%s request_id=%s user=%s\n", step, id, user);
	fflush(stdout);
	/* a log line, decorated (under CTXSHIM_LOG=stderr) from the context
	 * just read: the prefix cache must follow every change too */
	char line[300];
	int n = snprintf(line, sizeof line, "%s request_id=%s\n", step, id);
	if (write(2, line, (size_t)n) != n)
		return;
}

static void *child(void *arg)
{
	show(arg);
	ctxshim_set("request_id", "in-thread");
	show("thread-set");
	return NULL;
}

static int watch(void)
{
	char last[256] = "", cur[256];
	printf("ready\n");
	fflush(stdout);
	for (int i = 0; i < 60000; i++) {
		if (kc_get("incident", cur, sizeof cur) < 0)
			strcpy(cur, "-");
		if (strcmp(cur, last)) {
			printf("incident=%s\n", cur);
			fflush(stdout);
			strcpy(last, cur);
		}
		if (!strcmp(cur, "stop"))
			return 0;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return 1;
}

int main(int argc, char **argv)
{
	char buf[64];
	h_id = ctxshim_key("request_id");
	if (argc > 1 && !strcmp(argv[1], "watch"))
		return watch();
	/* the handle API's own contract */
	if (ctxshim_key("bad key") != 0 || ctxshim_key(NULL) != 0 ||
	    ctxshim_key("request_id") != h_id || h_id == 0)
		return printf("bad handles\n"), 1;
	errno = 0;
	if (ctxshim_get_key(0, buf, sizeof buf) != -1 || errno != EINVAL ||
	    ctxshim_get_key(h_id + 1000, buf, sizeof buf) != -1 || errno != EINVAL)
		return printf("bad handle reads\n"), 1;

	show("start");
	ctxshim_set("request_id", "one");
	show("set");
	ctxshim_set("user", "alice");
	show("set-user");
	ctxshim_set("request_id", "two");
	show("set-again");
	/* a short buffer truncates like ctxshim_get */
	if (ctxshim_get_key(h_id, buf, 3) != 3 || strcmp(buf, "tw"))
		return printf("bad truncation\n"), 1;
	ctxshim_unset("user");
	show("unset");

	ctxshim_ctx_t *saved = ctxshim_capture();
	ctxshim_clear();
	show("clear");
	ctxshim_ctx_t *tok = ctxshim_attach(saved);
	show("attach");
	ctxshim_set("request_id", "attached");
	show("attach-set");
	ctxshim_detach(tok);
	show("detach");
	tok = ctxshim_attach(NULL);
	show("attach-empty");
	ctxshim_detach(tok);
	show("detach-empty");
	ctxshim_release(saved);

	ctxshim_set("request_id", "parent");
	show("before-thread");
	pthread_t th;
	pthread_create(&th, NULL, child, "thread");
	pthread_join(th, NULL);
	show("after-thread");

	ctxshim_set("request_id", "before-fork");
	show("before-fork");
	pid_t pid = fork();
	if (pid == 0) {
		/* the handle from before the fork, in the child */
		ssize_t n = ctxshim_get_key(h_id, buf, sizeof buf);
		show("fork-child");
		ctxshim_set("request_id", "in-child");
		show("fork-child-set");
		_exit(n == 11 && !strcmp(buf, "before-fork") ? 0 : 3);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	show("after-fork");
	return 0;
}
