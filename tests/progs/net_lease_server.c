/*
 * net_lease_server: a one-thread TCP server that serves one connection and
 * then ends its work on it in a chosen way.  Usage: net_lease_server PORT HOW
 * with HOW one of close, shutdown, fclose, closefrom, close_range, poll,
 * poll0, pollpipe, epoll, select, selectpipe.  It accepts (blocking), writes
 * "accepted" to stderr, reads one line, writes "served" to stderr, then:
 *   close/shutdown/fclose/closefrom/close_range  ends the connection that way
 *   poll, select         waits 20 ms on an idle pipe and the connection
 *   epoll                waits 20 ms on an idle pipe (epoll)
 *   poll0                polls the pipe and the connection, zero timeout
 *   pollpipe, selectpipe waits 20 ms on the idle pipe alone (as a request's
 *                        work waits for a child's output)
 * and writes "after" to stderr; then closes whatever is left and exits.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

static void say(const char *s)
{
	fprintf(stderr, "%s\n", s);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *how = argv[2];
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4) < 0)
		return 1;
	/* The test's port probe is a connection of its own: skip it. */
	int fd;
	char buf[256];
	ssize_t n;
	for (;;) {
		fd = accept(ls, NULL, NULL);
		if (fd < 0)
			return 1;
		say("accepted");
		n = read(fd, buf, sizeof buf);
		if (n > 0)
			break;
		close(fd);
	}
	say("served");
	int p[2];
	if (pipe(p) < 0)
		return 1;
	FILE *f = NULL;
	if (!strcmp(how, "close")) {
		close(fd);
	} else if (!strcmp(how, "shutdown")) {
		shutdown(fd, SHUT_RDWR);
	} else if (!strcmp(how, "fclose")) {
		f = fdopen(fd, "r+");
		fclose(f);
	} else if (!strcmp(how, "closefrom")) {
		if (dup2(fd, 100) < 0)
			return 1;
		close(fd);
		fd = 100;
		closefrom(100);
	} else if (!strcmp(how, "close_range")) {
		close_range((unsigned)fd, (unsigned)fd, 0);
	} else if (!strcmp(how, "poll") || !strcmp(how, "poll0") || !strcmp(how, "pollpipe")) {
		struct pollfd pf[2] = { { .fd = p[0], .events = POLLIN }, { .fd = fd, .events = POLLOUT } };
		poll(pf, strcmp(how, "pollpipe") ? 2 : 1, strcmp(how, "poll0") ? 20 : 0);
	} else if (!strcmp(how, "epoll")) {
		int ep = epoll_create1(0);
		struct epoll_event e = { .events = EPOLLIN }, out;
		epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e);
		epoll_wait(ep, &out, 1, 20);
	} else if (!strcmp(how, "select") || !strcmp(how, "selectpipe")) {
		fd_set r;
		FD_ZERO(&r);
		FD_SET(p[0], &r);
		int pipe_only = !strcmp(how, "selectpipe");
		if (!pipe_only)
			FD_SET(fd, &r);
		struct timeval tv = { 0, 20000 };
		select((pipe_only || p[0] > fd ? p[0] : fd) + 1, &r, NULL, NULL, &tv);
	}
	say("after");
	return 0;
}
