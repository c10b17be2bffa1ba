/*
 * net_dump_server: prints the head of every HTTP request it gets on stdout
 * (one request per connection, then "--" on a line), answers 200 "ok".
 * Connections that send nothing are not counted.
 * Usage: net_dump_server PORT [COUNT] (stops after COUNT requests).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int count = argc > 2 ? atoi(argv[2]) : -1;
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 64) < 0) {
		perror("net_dump_server");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	while (count != 0) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		char buf[65536];
		size_t len = 0;
		ssize_t n;
		while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			if (strstr(buf, "\r\n\r\n"))
				break;
		}
		if (len == 0) {
			close(fd);    /* a probe (wait_port), not a request */
			continue;
		}
		char *end = strstr(buf, "\r\n\r\n");
		if (end)
			len = (size_t)(end - buf) + 2;
		fwrite(buf, 1, len, stdout);
		printf("--\n");
		static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
		if (write(fd, ok, sizeof ok - 1) < 0)
			perror("write");
		close(fd);
		if (count > 0)
			count--;
	}
	return 0;
}
