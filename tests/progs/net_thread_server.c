/*
 * net_thread_server: an HTTP/1.1 keep-alive server with one thread per
 * connection (accepted on the main thread).  Each response's body tells the
 * request_id the serving thread runs under (through ctxshim.h only).
 * Usage: net_thread_server PORT [CONNECTIONS] (exits after that many).
 */
#include <ctxshim.h>
#include "keycheck.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *serve(void *arg)
{
	int fd = (int)(long)arg;
	char in[16384], out[1024], id[256];
	size_t len = 0;
	for (;;) {
		char *end;
		while (!(end = memmem(in, len, "\r\n\r\n", 4))) {
			ssize_t r = recv(fd, in + len, sizeof in - len, 0);
			if (r <= 0 || len + (size_t)r >= sizeof in)
				goto out;
			len += (size_t)r;
		}
		size_t used = (size_t)(end + 4 - in);
		memmove(in, in + used, len - used);
		len -= used;
		if (kc_get("request_id", id, sizeof id) < 0)
			strcpy(id, "-");
		char body[300];
		int bn = snprintf(body, sizeof body, "request_id=%s\n", id);
		int n = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", bn, body);
		if (send(fd, out, (size_t)n, MSG_NOSIGNAL) != n)
			break;
	}
out:
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int left = argc > 2 ? atoi(argv[2]) : -1;
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 64) < 0) {
		perror("net_thread_server");
		return 1;
	}
	pthread_t t[256];
	int n = 0;
	while (left != 0) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		if (n < 256 && pthread_create(&t[n], NULL, serve, (void *)(long)fd) == 0)
			n++;
		else
			close(fd);
		if (left > 0)
			left--;
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}
