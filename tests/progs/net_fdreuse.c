/*
 * net_fdreuse: after a connection's fd is closed or replaced (close, dup2,
 * dup3, close_range), the number is reused for a file; what is written
 * there must land in the file byte for byte.  Usage: net_fdreuse FILE MODE
 * with MODE close|dup2|dup3|close_range.  Exits 0 when the file holds
 * exactly what was written.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *mode = argv[2];
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
	char buf[256];
	if (s < 0 || write(cl, req, sizeof req - 1) < 0 || read(s, buf, sizeof buf) <= 0)
		return 1;

	int f;
	if (!strcmp(mode, "close") || !strcmp(mode, "close_range")) {
		if (!strcmp(mode, "close"))
			close(s);
		else
			close_range((unsigned)s, (unsigned)s, 0);
		f = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (f != s) {
			fprintf(stderr, "fd %d not reused (got %d)\n", s, f);
			return 1;
		}
	} else {
		int tmp = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		f = !strcmp(mode, "dup2") ? dup2(tmp, s) : dup3(tmp, s, 0);
		close(tmp);
		if (f != s)
			return 1;
	}
	if (write(f, resp, sizeof resp - 1) != (ssize_t)(sizeof resp - 1))
		return 1;
	close(f);
	FILE *in = fopen(argv[1], "r");
	size_t n = fread(buf, 1, sizeof buf, in);
	fclose(in);
	if (n != sizeof resp - 1 || memcmp(buf, resp, n) != 0) {
		fprintf(stderr, "file holds %zu bytes: %.*s\n", n, (int)n, buf);
		return 1;
	}
	return 0;
}
