/*
 * net_hold_server: accepts CONNS connections on 127.0.0.1:PORT and reads
 * from all of them until each has sent BYTES bytes, answering nothing (a
 * server slow to answer pipelined requests); then prints "held N": how many
 * bytes of heap the process holds more than before its first accept
 * (mallinfo2: in use plus mmapped blocks), and exits.  It reads into one
 * static buffer, so on its own it holds nothing more: the figure is what
 * anything else in the process keeps per connection.  Prints "ready" once
 * listening.
 * Usage: net_hold_server PORT CONNS BYTES [lines]
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXC 256

static char buf[65536];
static struct pollfd pf[MAXC];
static long got[MAXC];

static long heap(void)
{
	struct mallinfo2 m = mallinfo2();
	return (long)(m.uordblks + m.hblkhd);
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5)
		return 2;
	int lines = argc == 5;
	int n = atoi(argv[2]);
	long want = atol(argv[3]);
	if (n < 1 || n > MAXC)
		return 2;
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, MAXC) < 0) {
		perror("net_hold_server");
		return 1;
	}
	printf("ready\n");     /* no probe connection: it would count as a client */
	fflush(stdout);
	long before = heap();
	for (int i = 0; i < n; i++) {
		pf[i].fd = accept(ls, NULL, NULL);
		if (pf[i].fd < 0) {
			perror("accept");
			return 1;
		}
		pf[i].events = POLLIN;
	}
	for (int left = n; left > 0;) {
		if (poll(pf, (nfds_t)n, 20000) <= 0) {
			fprintf(stderr, "net_hold_server: clients went quiet\n");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = read(pf[i].fd, buf, sizeof buf);
			if (r > 0)
				got[i] += r;
			if (r <= 0 || got[i] >= want) {
				if (got[i] < want) {
					fprintf(stderr, "net_hold_server: connection %d ended early\n", i);
					return 1;
				}
				pf[i].fd = -pf[i].fd - 1;   /* done: keep it open, stop polling */
				left--;
			}
		}
	}
	printf("held %ld\n", heap() - before);
	fflush(stdout);
	/* With "lines": one stderr line per connection, each written after
	 * touching that connection (a read that finds nothing), so a log
	 * decorator shows what it holds for the connection now. */
	for (int i = 0; lines && i < n; i++) {
		int fd = -pf[i].fd - 1;
		recv(fd, buf, 1, MSG_DONTWAIT);
		fprintf(stderr, "connection %d read %ld\n", i, got[i]);
	}
	return 0;
}
