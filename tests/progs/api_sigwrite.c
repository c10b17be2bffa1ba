/*
 * api_sigwrite.c: a signal handler writes a log line to stderr every 50 us
 * while the main thread keeps changing its context.  Under share/chain modes
 * the handler may interrupt the thread while it holds a box lock: the write
 * must neither deadlock nor lose the line.  Prints "done N" with the number
 * of handler writes.
 */
#include <ctxshim.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
	(void)sig;
	static const char line[] = "tick from a signal handler\n";
	write(2, line, sizeof line - 1);
	ticks++;
}

int main(void)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 50 }, { 0, 50 } };
	char v[32];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	for (int i = 0; i < 200000; i++) {
		snprintf(v, sizeof v, "req-%d", i);
		ctxshim_set("request_id", v);
		ctxshim_get("request_id", v, sizeof v);
	}
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	printf("done %d\n", (int)ticks);
	return 0;
}
