/*
 * net_slow_server: an HTTP/1.1 keep-alive server that writes each response
 * in awkward pieces (1, 2, 3, 5, 8 ... bytes, cycling through write, writev,
 * send and sendmsg) on a non-blocking socket with a small send buffer,
 * retrying short writes after poll().  Usage: net_slow_server PORT.
 *
 * Response k (0-based, per connection): "HTTP/1.1 200 OK", an X-Pad header
 * of (k * 997) % 9000 bytes of 'p', Content-Length (k * 7919) % 30000, and
 * a body whose byte i is (i * 31 + k) & 255.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static const size_t fib[] = { 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181 };
static unsigned turn;

/* Write all of B, piece by piece; 0 when done, -1 when the peer is gone. */
static int put(int fd, const char *b, size_t n)
{
	while (n) {
		size_t piece = fib[turn % (sizeof fib / sizeof *fib)];
		if (piece > n)
			piece = n;
		ssize_t w;
		struct iovec v[2] = { { (void *)b, piece / 2 }, { (void *)(b + piece / 2), piece - piece / 2 } };
		struct msghdr m = { .msg_iov = v, .msg_iovlen = 2 };
		switch (turn++ % 4) {
		case 0: w = write(fd, b, piece); break;
		case 1: w = writev(fd, v, 2); break;
		case 2: w = send(fd, b, piece, MSG_NOSIGNAL); break;
		default: w = sendmsg(fd, &m, MSG_NOSIGNAL); break;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd p = { fd, POLLOUT, 0 };
			poll(&p, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void serve(int fd)
{
	static char in[65536];
	static char out[9000 + 30000 + 256];
	size_t len = 0;
	int k = 0;
	for (;;) {
		char *end;
		while (!(end = memmem(in, len, "\r\n\r\n", 4))) {
			struct pollfd p = { fd, POLLIN, 0 };
			poll(&p, 1, 5000);
			ssize_t r = read(fd, in + len, sizeof in - len);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				return;
			if (r > 0)
				len += (size_t)r;
		}
		size_t used = (size_t)(end + 4 - in);
		memmove(in, in + used, len - used);
		len -= used;
		size_t pad = (size_t)(k * 997) % 9000, body = (size_t)(k * 7919) % 30000;
		size_t n = (size_t)sprintf(out, "HTTP/1.1 200 OK\r\nX-Pad: ");
		memset(out + n, 'p', pad);
		n += pad;
		n += (size_t)sprintf(out + n, "\r\nContent-Length: %zu\r\n\r\n", body);
		for (size_t i = 0; i < body; i++)
			out[n++] = (char)((i * 31 + (size_t)k) & 255);
		if (put(fd, out, n) < 0)
			return;
		k++;
	}
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 8) < 0) {
		perror("net_slow_server");
		return 1;
	}
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		int small = 4096;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		serve(fd);
		close(fd);
	}
}
