/*
 * net_splice: a server that sends a response head with splice() from a
 * pipe and then a body, written with write(), that itself looks like a
 * response head.  The client must get exactly those bytes.  Exits 0 when
 * it does.  Usage: net_splice.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 38\r\n\r\n";
static const char body[] = "HTTP/1.1 200 OK\r\nX-Inner: yes\r\n\r\n1234";

int main(void)
{
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
	int s = accept(ls, NULL, NULL);
	static const char req[] = "GET / HTTP/1.1\r\nX-Request-ID: abc\r\n\r\n";
	char buf[512];
	if (s < 0 || write(cl, req, sizeof req - 1) < 0 || read(s, buf, sizeof buf) <= 0)
		return 1;
	int p[2];
	if (pipe(p) < 0 || write(p[1], head, sizeof head - 1) != (ssize_t)(sizeof head - 1))
		return 1;
	if (splice(p[0], NULL, s, NULL, sizeof head - 1, 0) != (ssize_t)(sizeof head - 1))
		return 1;
	if (write(s, body, sizeof body - 1) != (ssize_t)(sizeof body - 1))
		return 1;
	shutdown(s, SHUT_WR);
	size_t n = 0;
	ssize_t r;
	while ((r = read(cl, buf + n, sizeof buf - n)) > 0)
		n += (size_t)r;
	char want[512];
	int wn = snprintf(want, sizeof want, "%s%s", head, body);
	if (n != (size_t)wn || memcmp(buf, want, n) != 0) {
		fprintf(stderr, "got %zu bytes: %.*s\n", n, (int)n, buf);
		return 1;
	}
	return 0;
}
