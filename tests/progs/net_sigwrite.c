/*
 * net_sigwrite.c: a SIGALRM handler writes to an accepted socket every
 * 50 us while the main thread keeps changing its context (ctxshim_set and
 * ctxshim_unset, weakly linked: without the shim they fail and nothing else
 * changes).  A handler may interrupt the thread anywhere, inside malloc
 * included, so nothing the write reaches may allocate or free.
 *
 *   net_sigwrite ITERATIONS [trap] [read]
 *
 * With "trap", the handler arms libnomalloc's nomalloc_armed (found with
 * dlsym; absent, nothing is armed) around its write: an allocation or a
 * free there exits 99.  Prints "done N BYTES" with the number of handler
 * writes and the bytes the client side received (they must match).  With
 * "read", the handler reads instead (what the client side sent, one byte at
 * a time, without blocking) and N counts the bytes it got, BYTES those sent.
 */
#include <ctxshim.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks;
static int conn = -1;
static volatile int *armed;
static int reading;

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	char c;
	if (armed)
		*armed = 1;
	ssize_t w = reading ? recv(conn, &c, 1, MSG_DONTWAIT) : write(conn, "x", 1);
	if (armed)
		*armed = 0;
	if (w == 1)
		ticks++;
	errno = saved;
}

/* What the client side has received so far (non-blocking). */
static long drain(int fd)
{
	char buf[4096];
	long total = 0;
	ssize_t r;
	while ((r = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
		total += r;
	return total;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	long iters = atol(argv[1]);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "trap"))
			armed = dlsym(RTLD_DEFAULT, "nomalloc_armed");
		else if (!strcmp(argv[i], "read"))
			reading = 1;
	}

	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof a;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 1) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &al) < 0)
		return 1;
	int cl = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(cl, (struct sockaddr *)&a, sizeof a) < 0)
		return 1;
	conn = accept(ls, NULL, NULL);
	if (conn < 0)
		return 1;
	/* The main thread serves the connection once: it is in its context. */
	if (write(conn, "hello\n", 6) != 6)
		return 1;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 50 }, { 0, 50 } };
	setitimer(ITIMER_REAL, &it, NULL);

	long got = 0, sent = 0;
	char v[32];
	for (long i = 0; i < iters; i++) {
		snprintf(v, sizeof v, "req-%ld", i);
		ctxshim_set("request_id", v);
		if (i % 3 == 0)
			ctxshim_set("tenant", v);
		ctxshim_unset(i % 2 ? "request_id" : "tenant");
		if (reading && i % 64 == 0 && send(cl, "y", 1, MSG_DONTWAIT) == 1)
			sent++;
		if (i % 1024 == 0)
			got += drain(cl);
	}
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	if (reading) {
		/* what the handler left unread, so that the counts can match */
		char c;
		while (recv(conn, &c, 1, MSG_DONTWAIT) == 1)
			sent--;
		printf("done %d %ld\n", (int)ticks, sent);
		return 0;
	}
	close(conn);
	char buf[4096];
	ssize_t r;
	while ((r = recv(cl, buf, sizeof buf, 0)) > 0)
		got += r;
	printf("done %d %ld\n", (int)ticks, got - 6);
	return 0;
}
