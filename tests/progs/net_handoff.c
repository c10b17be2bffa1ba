/*
 * net_handoff.c: one keep-alive connection whose requests are read by the
 * main thread and answered by a worker thread, which then writes a log line
 * "served /PATH" to stderr.  The worker never reads, accepts, closes or
 * changes its context itself: everything it lets go of happens on writes.
 * It knows nothing of the shim.
 *
 *   net_handoff N     serves N requests from its own client (X-Request-ID:
 *                     idK for path /K), prints "ok N" when every response
 *                     came back whole.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int hand[2];     /* main -> worker: the path number to answer */
static int conn;

static void *worker(void *arg)
{
	(void)arg;
	int k;
	char line[64];
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	while (read(hand[0], &k, sizeof k) == sizeof k) {
		if (write(conn, resp, sizeof resp - 1) != (ssize_t)(sizeof resp - 1))
			break;
		int n = snprintf(line, sizeof line, "served /%d\n", k);
		if (write(2, line, (size_t)n) != n)
			break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int total = argc > 1 ? atoi(argv[1]) : 200;
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
	if (conn < 0 || pipe(hand) < 0)
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, worker, NULL);

	int ok = 0;
	for (int k = 1; k <= total; k++) {
		char req[128], buf[512];
		int n = snprintf(req, sizeof req, "GET /%d HTTP/1.1\r\nX-Request-ID: id%d\r\n\r\n", k, k);
		if (write(cl, req, (size_t)n) != n)
			return 1;
		/* the server side: read the whole head, hand it to the worker */
		size_t got = 0;
		while (got < (size_t)n) {
			ssize_t r = read(conn, buf + got, sizeof buf - got);
			if (r <= 0)
				return 1;
			got += (size_t)r;
		}
		if (write(hand[1], &k, sizeof k) != sizeof k)
			return 1;
		/* the client side: the whole response */
		got = 0;
		while (!memmem(buf, got, "\r\n\r\nok", 6)) {
			ssize_t r = read(cl, buf + got, sizeof buf - got);
			if (r <= 0)
				return 1;
			got += (size_t)r;
		}
		ok++;
	}
	close(hand[1]);
	pthread_join(t, NULL);
	printf("ok %d\n", ok);
	return 0;
}
