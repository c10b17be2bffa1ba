/*
 * net_ctx_loop: a single-threaded poll() server that reports the context it
 * runs under (through ctxshim.h only; without the shim it reports nothing).
 * Usage: net_ctx_loop PORT.
 *
 * Per connection, by what the client sends:
 *   "WHO\n"        -> "conn_id=<> peer=<> request_id=<>\n"
 *   "THREAD\n"     -> the same line, from a thread started (and joined) now
 *   HTTP requests  -> for each complete head (pipelining allowed): a head
 *                     "HTTP/1.1 200 OK" with a chunked body, written first;
 *                     then the body "request_id=<> path=<> conn_id=<>\n",
 *                     read from the context after the head went out.
 */
#include <ctxshim.h>
#include "keycheck.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXC 64

struct client {
	int fd;
	char buf[65536];
	size_t len;
};

static void get(const char *k, char *out, size_t cap)
{
	if (kc_get(k, out, cap) < 0)
		snprintf(out, cap, "-");
}

static void put(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void *who_thread(void *arg)
{
	char *out = arg, id[256], conn[64], peer[128];
	get("conn_id", conn, sizeof conn);
	get("peer", peer, sizeof peer);
	get("request_id", id, sizeof id);
	snprintf(out, 512, "conn_id=%s peer=%s request_id=%s\n", conn, peer, id);
	return NULL;
}

static void serve(struct client *c)
{
	char id[256], conn[64], peer[128], path[2048], out[4096];
	for (;;) {
		if (c->len >= 4 && !memcmp(c->buf, "WHO\n", 4)) {
			get("conn_id", conn, sizeof conn);
			get("peer", peer, sizeof peer);
			get("request_id", id, sizeof id);
			int n = snprintf(out, sizeof out, "conn_id=%s peer=%s request_id=%s\n", conn, peer, id);
			put(c->fd, out, (size_t)n);
			memmove(c->buf, c->buf + 4, c->len - 4);
			c->len -= 4;
			continue;
		}
		if (c->len >= 7 && !memcmp(c->buf, "THREAD\n", 7)) {
			pthread_t t;
			char line[512] = "";
			if (pthread_create(&t, NULL, who_thread, line) == 0)
				pthread_join(t, NULL);
			put(c->fd, line, strlen(line));
			memmove(c->buf, c->buf + 7, c->len - 7);
			c->len -= 7;
			continue;
		}
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (!end)
			return;
		static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
		put(c->fd, head, sizeof head - 1);
		get("request_id", id, sizeof id);
		get("request_path", path, sizeof path);
		get("conn_id", conn, sizeof conn);
		char body[3000];
		int bn = snprintf(body, sizeof body, "request_id=%s path=%s conn_id=%s\n", id, path, conn);
		int n = snprintf(out, sizeof out, "%x\r\n%s\r\n0\r\n\r\n", bn, body);
		put(c->fd, out, (size_t)n);
		size_t used = (size_t)(end + 4 - c->buf);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
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
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 64) < 0) {
		perror("net_ctx_loop");
		return 1;
	}
	static struct client cl[MAXC];
	struct pollfd p[MAXC + 1];
	int n = 0;
	for (;;) {
		p[0].fd = ls;
		p[0].events = POLLIN;
		for (int i = 0; i < n; i++) {
			p[i + 1].fd = cl[i].fd;
			p[i + 1].events = POLLIN;
		}
		if (poll(p, (nfds_t)n + 1, -1) < 0)
			continue;
		for (int i = n - 1; i >= 0; i--) {
			if (!(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			struct client *c = &cl[i];
			ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
			if (r <= 0) {
				close(c->fd);
				cl[i] = cl[--n];
				continue;
			}
			c->len += (size_t)r;
			serve(c);
		}
		if ((p[0].revents & POLLIN) && n < MAXC) {
			int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
			if (fd >= 0) {
				cl[n].fd = fd;
				cl[n].len = 0;
				n++;
			}
		}
	}
}
