/*
 * ev_fork: fork while another thread keeps registering and running
 * callbacks; the child (after event_reinit) still runs its callbacks in
 * their contexts, and nothing the shim holds stays locked in it.
 */
#include <ctxshim.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop;

static void nop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void *churn(void *arg)
{
	(void)arg;
	struct event_base *b = event_base_new();
	ctxshim_set("request_id", "churn");
	while (!stop) {
		event_base_once(b, -1, EV_TIMEOUT, nop, NULL, NULL);
		struct event *e = event_new(b, -1, 0, nop, NULL);
		event_active(e, EV_TIMEOUT, 1);
		event_base_loop(b, EVLOOP_NONBLOCK);
		event_free(e);
	}
	event_base_free(b);
	return NULL;
}

static void on_once(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	char v[64] = "-";
	ctxshim_get("request_id", v, sizeof v);
	printf("%s reg=%s ctx=%s\n", getpid() == *(pid_t *)arg ? "parent" : "child", "req-0", v);
	fflush(stdout);
}

int main(void)
{
	pid_t parent = getpid();
	evthread_use_pthreads();
	pthread_t th;
	pthread_create(&th, NULL, churn, NULL);
	int bad = 0;
	for (int i = 0; i < 50; i++) {
		struct event_base *base = event_base_new();
		ctxshim_set("request_id", "req-0");
		event_base_once(base, -1, EV_TIMEOUT, on_once, &parent, NULL);
		ctxshim_set("request_id", "main");
		pid_t pid = fork();
		if (pid == 0) {
			event_reinit(base);
			event_base_dispatch(base);
			event_base_free(base);
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
		event_base_free(base);
	}
	stop = 1;
	pthread_join(th, NULL);
	printf("children %s\n", bad ? "FAILED" : "ok");
	return bad;
}
