/*
 * net_read: nanoseconds per read() of 16 bytes from a TCP socket carrying a
 * stream that is not HTTP.  Usage: net_read accepted|client.
 *   accepted  read on the fd accept() returned (watched under CTXSHIM_CONN /
 *             CTXSHIM_HTTP: the context switch and the parser's verdict)
 *   client    read on the fd that connect()ed (not watched without
 *             CTXSHIM_HTTP_PROPAGATE: one branch)
 * Prints the median of 9 batches of 20,000 reads (writes not timed).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 20000
#define CHUNK 16

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int accepted_side = argc > 1 && !strcmp(argv[1], "accepted");
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
	int sv = accept(ls, NULL, NULL);
	if (sv < 0)
		return 1;
	int rd = accepted_side ? sv : cl, wr = accepted_side ? cl : sv;
	int big = 1 << 22;
	setsockopt(rd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	setsockopt(wr, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);

	/* Binary junk: the first byte already tells it is not HTTP. */
	static char junk[BATCH * CHUNK];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(0x80 | (i * 7));
	double t[9];
	char buf[CHUNK];
	for (int b = 0; b < 9; b++) {
		for (size_t off = 0; off < sizeof junk;) {
			ssize_t w = write(wr, junk + off, sizeof junk - off);
			if (w <= 0)
				return 1;
			off += (size_t)w;
		}
		double t0 = now();
		for (int i = 0; i < BATCH; i++) {
			size_t got = 0;
			while (got < CHUNK) {
				ssize_t r = read(rd, buf + got, CHUNK - got);
				if (r <= 0)
					return 1;
				got += (size_t)r;
			}
		}
		t[b] = (now() - t0) / BATCH;
	}
	qsort(t, 9, sizeof *t, cmp);
	printf("%.1f\n", t[4]);
	return 0;
}
