/*
 * net_read.c: what a thread reads from an inbound connection.  With
 * CTXSHIM_HTTP the bytes are parsed (http_rx.c); each request gets its own
 * context (the connection's plus request_id, request_method, request_path
 * and, from traceparent, trace_id, span_id, trace_flags), queued until its
 * response starts when requests are pipelined (net_http.c).  Every read
 * makes the connection's context the reading thread's.
 */
#include "net.h"

#include "hooks.h"
#include "io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- requests ----------------------------------------------------------- */

/* Records are reused: a keep-alive connection allocates one, once. */
static struct net_req *req_new(struct net_conn *c)
{
	struct net_req *r = c->spare;
	if (r) {
		c->spare = NULL;
		return r;
	}
	return malloc(sizeof *r);
}

/* Reached from writes (a response ends): the free is deferred. */
static void req_free(struct net_conn *c, struct net_req *r)
{
	if (!c->spare)
		c->spare = r;
	else if (ctx_free_later(r) < 0)
		free(r);     /* the thread's deferred list is full */
}

struct net_req *net_ring_at(struct net_conn *c, unsigned i)
{
	struct net_http *h = c->h;
	if (!h || i >= h->ring_len)
		return NULL;
	return h->ring[(h->ring_head + i) % h->ring_cap];
}

void net_apply(struct net_conn *c, struct net_req *r)
{
	if (r->applied)
		return;
	r->applied = 1;
	if (!r->ctx)
		return;
	if (ctx_release_later(c->ctx) < 0)
		ctx_release(c->ctx);     /* the thread's deferred list is full */
	c->ctx = r->ctx;
	r->ctx = NULL;
	atomic_fetch_add(&c->ver, 1);
}

void net_ring_pop(struct net_conn *c)
{
	struct net_http *h = c->h;
	if (!h || !h->ring_len)
		return;
	struct net_req *r = h->ring[h->ring_head];
	h->ring_head = (h->ring_head + 1) % h->ring_cap;
	h->ring_len--;
	if (ctx_release_later(r->ctx) < 0)
		ctx_release(r->ctx);     /* the thread's deferred list is full */
	req_free(c, r);
}

/* Stop matching responses to requests: from now on each request's context
 * applies as soon as it is read. */
static void ring_drop(struct net_conn *c)
{
	while (c->h && c->h->ring_len) {
		struct net_req *r = net_ring_at(c, 0);
		net_apply(c, r);
		net_ring_pop(c);
	}
	c->tx_pass = 1;
}

/* Room for twice as many waiting requests; 0 at NET_RING_MAX or without
 * memory. */
static int ring_grow(struct net_http *h)
{
	unsigned cap = h->ring_cap * 2;
	if (cap > NET_RING_MAX)
		return 0;
	struct net_req **v = malloc(cap * sizeof *v);
	if (!v)
		return 0;
	for (unsigned i = 0; i < h->ring_len; i++)
		v[i] = h->ring[(h->ring_head + i) % h->ring_cap];
	if (h->ring != h->inline_ring)
		free(h->ring);
	h->ring = v;
	h->ring_cap = cap;
	h->ring_head = 0;
	return 1;
}

/* A request head was read: make its context and queue it. */
static void on_request(struct net_conn *c, const struct http_req_fields *f)
{
	char gen[33];
	struct cmap_entry e[6];
	size_t n = 0;
	const char *id = f->id;
	size_t idlen = f->id_len;
	if (!f->id_ok) {
		ctx_new_id(gen);
		id = gen;
		idlen = 32;
	}
	e[n++] = net_entry("request_id", id, idlen);
	e[n++] = net_entry("request_method", f->method, f->method_len);
	e[n++] = net_entry("request_path", f->path, f->path_len);
	if (f->tp_ok) {
		e[n++] = net_entry("trace_id", f->trace_id, 32);
		e[n++] = net_entry("span_id", f->span_id, 16);
		e[n++] = net_entry("trace_flags", f->flags, 2);
	}
	struct net_req *r = req_new(c);
	if (!r)
		return;
	r->ctx = ctx_derive(c->base, e, n);
	r->applied = 0;
	r->head = f->method_len == 4 && !memcmp(f->method, "HEAD", 4);
	r->connect = f->method_len == 7 && !memcmp(f->method, "CONNECT", 7);
	r->idlen = (uint8_t)idlen;
	memcpy(r->id, id, idlen + 1);
	r->t_ns = net_now_ns();

	struct net_http *h = c->h;
	if (!c->tx_pass && h->ring_len == h->ring_cap && !ring_grow(h))
		ring_drop(c);    /* pipelined deeper than we follow */
	if (c->tx_pass) {
		net_apply(c, r);
		ctx_release(r->ctx);
		req_free(c, r);
		return;
	}
	h->ring[(h->ring_head + h->ring_len) % h->ring_cap] = r;
	/* Nothing unanswered before it: this is the request being served.
	 * Otherwise (pipelined) it waits for its response to start. */
	if (++h->ring_len == 1)
		net_apply(c, r);
}

/* With C locked: stop parsing for good, and drop the last request's
 * entries so that they are not taken for the next one's. */
static void rx_give_up(struct net_conn *c)
{
	if (ctx_release_later(c->ctx) < 0)
		ctx_release(c->ctx);
	c->ctx = NULL;
	atomic_fetch_add(&c->ver, 1);
	c->rx_pass = 1;
}

/* Bytes a thread read from an inbound connection; returns the number of
 * request heads they completed. */
static int rx_bytes(struct net_conn *c, const char *buf, size_t n)
{
	struct net_http *h = net_http_of(c);
	int reqs = 0;
	if (!h) {
		c->rx_pass = 1;
		return 0;
	}
	size_t off = 0;
	while (off < n) {
		int ev;
		off += http_rx_feed(&h->rx, buf + off, n - off, &ev);
		if (ev == HTTP_REQ) {
			on_request(c, &h->rx.f);
			reqs++;
		} else if (ev == HTTP_TOO_BIG) {
			/* Give up on this request quietly. */
			rx_give_up(c);
			break;
		} else if (ev == HTTP_PASS) {
			c->rx_pass = 1;
			break;
		}
	}
	return reqs;
}

/* Bytes only looked at (MSG_PEEK) or not stored (MSG_TRUNC) are not the
 * stream the program consumes. */
#define NOT_CONSUMED (MSG_PEEK | MSG_TRUNC | MSG_ERRQUEUE)

struct rx_src {
	const struct iovec *iov;
	int cnt;
};

/* After a read of R bytes (the program's own result, into SRC) with FLAGS
 * from C as it was at generation GEN. */
static void after_read(struct net_conn *c, unsigned gen, ssize_t r, struct rx_src src, int flags)
{
	/* Nothing to parse and already in the connection's context: the common
	 * case of a stream that is not HTTP costs these few loads. */
	if ((r <= 0 || !net_cfg.http || atomic_load_explicit(&c->rx_pass, memory_order_relaxed)) &&
	    net_already_in(c))
		return;
	int reqs = 0;
	ctx_self.in_hook++;
	net_lock(c);
	if (atomic_load(&c->gen) == gen && atomic_load(&c->kind) == NET_IN) {
		if (r > 0 && net_cfg.http && !c->rx_pass) {
			if (flags & MSG_TRUNC)
				c->rx_pass = 1;    /* bytes dropped unseen: the parser lost its place */
			else if (ctx_interrupted())
				/* A signal handler's read, while the thread was inside
				 * the core (perhaps in malloc): a request cannot be
				 * made now, so the stream cannot be followed further. */
				rx_give_up(c);
			else if (!(flags & NOT_CONSUMED)) {
				size_t left = (size_t)r;
				for (int i = 0; i < src.cnt && left && !c->rx_pass; i++) {
					size_t k = src.iov[i].iov_len < left ? src.iov[i].iov_len : left;
					reqs += rx_bytes(c, src.iov[i].iov_base, k);
					left -= k;
				}
			}
		}
		net_enter(c);
	}
	net_unlock(c);
	ctx_self.in_hook--;
	/* A request head read allocated its context: freeing is no worse here. */
	if (reqs)
		ctx_defer_drain();
}

/* The slot to work on for a read, or NULL to pass straight through. */
static struct net_conn *inbound(int fd, unsigned *gen)
{
	struct net_conn *c = net_slot(fd);
	if (!c || atomic_load_explicit(&c->kind, memory_order_relaxed) != NET_IN)
		return NULL;
	*gen = atomic_load(&c->gen);
	if (net_cfg.http)
		net_prefetch(c);
	return c;
}

ssize_t net_read(int fd, void *buf, size_t n)
{
	unsigned gen;
	struct net_conn *c = inbound(fd, &gen);
	ssize_t r = REAL(read)(fd, buf, n);
	if (c) {
		KEEP_ERRNO;
		struct iovec v = { buf, n };
		after_read(c, gen, r, (struct rx_src){ &v, 1 }, 0);
		RESTORE_ERRNO;
	}
	return r;
}

ssize_t net_readv(int fd, const struct iovec *iov, int cnt)
{
	unsigned gen;
	struct net_conn *c = inbound(fd, &gen);
	ssize_t r = REAL(readv)(fd, iov, cnt);
	if (c) {
		KEEP_ERRNO;
		after_read(c, gen, r, (struct rx_src){ iov, cnt }, 0);
		RESTORE_ERRNO;
	}
	return r;
}

ssize_t net_recv(int fd, void *buf, size_t n, int flags)
{
	unsigned gen;
	struct net_conn *c = inbound(fd, &gen);
	ssize_t r = REAL(recv)(fd, buf, n, flags);
	if (c) {
		KEEP_ERRNO;
		struct iovec v = { buf, n };
		after_read(c, gen, r, (struct rx_src){ &v, 1 }, flags);
		RESTORE_ERRNO;
	}
	return r;
}

ssize_t net_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *al)
{
	unsigned gen;
	struct net_conn *c = inbound(fd, &gen);
	ssize_t r = REAL(recvfrom)(fd, buf, n, flags, a, al);
	if (c) {
		KEEP_ERRNO;
		struct iovec v = { buf, n };
		after_read(c, gen, r, (struct rx_src){ &v, 1 }, flags);
		RESTORE_ERRNO;
	}
	return r;
}

ssize_t net_recvmsg(int fd, struct msghdr *msg, int flags)
{
	unsigned gen;
	struct net_conn *c = inbound(fd, &gen);
	ssize_t r = REAL(recvmsg)(fd, msg, flags);
	if (c) {
		KEEP_ERRNO;
		after_read(c, gen, r, (struct rx_src){ msg->msg_iov, (int)msg->msg_iovlen }, flags);
		RESTORE_ERRNO;
	}
	return r;
}

