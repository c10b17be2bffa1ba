/*
 * ev_http: libevent's HTTP client, from four requests (req-0..req-3) to an
 * evhttp server in the same process, plus one to a port nobody listens on
 * (the failure path: libevent frees the request, then calls back with
 * NULL).  Each completion callback prints the request it was made for and
 * the request_id it sees (see uv_ctx.c for the format).
 */
#include <ctxshim.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *req[4] = { "req-0", "req-1", "req-2", "req-3" };
static struct event_base *base;
static int left = 5;

static void say(const char *what, const char *reg)
{
	char cur[80], line[256];
	if (ctxshim_get("request_id", cur, sizeof cur) < 0)
		strcpy(cur, "-");
	int n = snprintf(line, sizeof line, "%s reg=%s ctx=%s\n", what, reg, cur);
	if (write(1, line, (size_t)n) < 0)
		exit(1);
}

static void on_request(struct evhttp_request *r, void *arg)
{
	(void)arg;
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "hello");
	evhttp_send_reply(r, 200, "OK", b);
	evbuffer_free(b);
}

static void on_response(struct evhttp_request *r, void *arg)
{
	say(r && evhttp_request_get_response_code(r) == 200 ? "response" : "failed", arg);
	if (--left == 0)
		event_base_loopexit(base, NULL);
}

static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		exit(1);
	close(fd);
	return ntohs(a.sin_port);
}

int main(void)
{
	base = event_base_new();
	struct evhttp *http = evhttp_new(base);
	evhttp_set_gencb(http, on_request, NULL);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	if (!bs)
		return 1;
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&a, &len);
	int port = ntohs(a.sin_port);

	struct evhttp_connection *conn[4];
	for (int i = 0; i < 4; i++) {
		ctxshim_set("request_id", req[i]);
		conn[i] = evhttp_connection_base_new(base, NULL, "127.0.0.1", port);
		struct evhttp_request *r = evhttp_request_new(on_response, (void *)req[i]);
		evhttp_add_header(evhttp_request_get_output_headers(r), "Host", "localhost");
		evhttp_make_request(conn[i], r, EVHTTP_REQ_GET, "/");
	}
	ctxshim_set("request_id", "req-2");
	struct evhttp_connection *refused = evhttp_connection_base_new(base, NULL, "127.0.0.1",
								      closed_port());
	evhttp_make_request(refused, evhttp_request_new(on_response, "req-2"), EVHTTP_REQ_GET, "/");

	ctxshim_set("request_id", "loop-main");
	event_base_dispatch(base);
	say("after", "loop-main");
	for (int i = 0; i < 4; i++)
		evhttp_connection_free(conn[i]);
	evhttp_connection_free(refused);
	evhttp_free(http);
	event_base_free(base);
	return 0;
}
