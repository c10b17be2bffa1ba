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

/* A connection's requests wait for their responses as small records in one
 * buffer per connection (q), in order, found through a ring of offsets: a
 * keep-alive connection allocates its buffer once, and a request costs no
 * allocation of its own.  What a connection holds is bounded by
 * NET_HELD_MAX whatever its client sends (deep pipelining, long targets,
 * long ids) and whatever the base context holds: a request that would take
 * it past that abandons the connection (net_abandon), the server never
 * notices. */

struct net_req *net_ring_at(struct net_conn *c, unsigned i)
{
	struct net_http *h = c->h;
	if (!h || i >= h->ring_len)
		return NULL;
	return (struct net_req *)(h->q + h->ring[(h->ring_head + i) % h->ring_cap]);
}

void net_apply(struct net_conn *c, struct net_req *r)
{
	struct net_http *h = c->h;
	if (r->applied)
		return;
	r->applied = 1;
	struct cmap_entry e[6];
	size_t n = 0;
	const char *path = net_req_path(r);
	/* Sorted by key: ctx_derive then has nothing to sort. */
	e[n++] = net_entry("request_id", net_req_id(r), r->idlen);
	e[n++] = net_entry("request_method", r->text + r->idlen + 1, r->method_len);
	e[n++] = net_entry("request_path", path, r->path_len);
	if (r->tp) {
		const char *t = net_req_trace(r);
		e[n++] = net_entry("span_id", t + 33, 16);
		e[n++] = net_entry("trace_flags", t + 50, 2);
		e[n++] = net_entry("trace_id", t, 32);
	}
	/* Applied on the write path when the response starts (pipelining):
	 * a write from a signal handler that interrupted the core may not
	 * allocate, so that request goes without entries of its own. */
	ctxshim_ctx_t *x = ctx_self.in_core ? NULL : ctx_derive(c->base, e, n);
	size_t sz = ctx_size(x);
	/* Reached from writes: the old context's release is deferred. */
	if (ctx_release_later(c->ctx) < 0)
		ctx_release(c->ctx);     /* the thread's deferred list is full */
	c->ctx = NULL;
	h->ctx_size = 0;
	atomic_fetch_add(&c->ver, 1);
	if (net_held(h) + sz > NET_HELD_MAX) {
		/* The base context is too large to give each request its own
		 * copy: no request entries from here on. */
		ctx_release(x);
		net_abandon(c);
		return;
	}
	/* Without memory the request has no entries, never another's. */
	c->ctx = x;
	h->ctx_size = x ? sz : 0;
}

void net_ring_pop(struct net_conn *c)
{
	struct net_http *h = c->h;
	if (!h || !h->ring_len)
		return;
	h->ring_head = (h->ring_head + 1) % h->ring_cap;
	if (--h->ring_len)
		h->q_beg = h->ring[h->ring_head];
	else
		h->q_beg = h->q_end = 0;
}

void net_abandon(struct net_conn *c)
{
	/* Stop following the connection for good, both ways: its framing is
	 * ambiguous (the server may see other requests than the parser does)
	 * or it would hold more than NET_HELD_MAX.  No request of it is matched
	 * to a response again and no line is ever added to its output (one the
	 * kernel took in part is still finished: net_http.c); the request
	 * entries go, since which request is being served can no longer be
	 * told; conn_id and peer stay. */
	while (c->h && c->h->ring_len)
		net_ring_pop(c);
	if (c->ctx) {
		/* may be reached from a write: the release is deferred */
		if (ctx_release_later(c->ctx) < 0)
			ctx_release(c->ctx);
		c->ctx = NULL;
		atomic_fetch_add(&c->ver, 1);
	}
	if (c->h)
		c->h->ctx_size = 0;
	c->rx_pass = 1;
	c->tx_pass = 1;
}

/* Room for twice as many waiting requests; 0 at NET_RING_MAX, past
 * NET_HELD_MAX or without memory. */
static int ring_grow(struct net_http *h)
{
	unsigned cap = h->ring_cap * 2;
	if (cap > NET_RING_MAX ||
	    net_held(h) + cap * sizeof *h->ring > NET_HELD_MAX)
		return 0;
	uint32_t *v = malloc(cap * sizeof *v);
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

/* Room for NEED more bytes of records: reuse the space of records gone,
 * then grow; 0 past NET_HELD_MAX or without memory. */
static int q_room(struct net_http *h, size_t need)
{
	if (h->q_end + need <= h->q_cap)
		return 1;
	if (h->q_beg) {
		uint32_t beg = h->q_beg;
		memmove(h->q, h->q + beg, h->q_end - beg);
		for (unsigned i = 0; i < h->ring_len; i++)
			h->ring[(h->ring_head + i) % h->ring_cap] -= beg;
		h->q_end -= beg;
		h->q_beg = 0;
		if (h->q_end + need <= h->q_cap)
			return 1;
	}
	size_t cap = h->q_cap ? h->q_cap : NET_Q_MIN;
	while (cap < h->q_end + need)
		cap *= 2;
	if (net_held(h) - h->q_cap + cap > NET_HELD_MAX)
		return 0;
	char *q = realloc(h->q, cap);
	if (!q)
		return 0;
	h->q = q;
	h->q_cap = (uint32_t)cap;
	return 1;
}

static void put(char **p, const char *s, size_t n)
{
	memcpy(*p, s, n);
	(*p)[n] = '\0';
	*p += n + 1;
}

/* A request head was read: queue what it needs; its context is made when
 * it is applied. */
static void on_request(struct net_conn *c, const struct http_req_fields *f)
{
	struct net_http *h = c->h;
	char gen[33];
	const char *id = f->id;
	size_t idlen = f->id_len;
	if (!f->id_ok) {
		ctx_new_id(gen);
		id = gen;
		idlen = 32;
	}
	size_t need = offsetof(struct net_req, text) + idlen + 1 + f->method_len + 1 +
		      f->path_len + 1 + (f->tp_ok ? 33 + 17 + 3 : 0);
	need = (need + 7) & ~(size_t)7;
	if (c->tx_pass) {
		/* Responses are not followed (any more): nothing will answer
		 * the requests still queued. */
		while (h->ring_len)
			net_ring_pop(c);
	}
	if (!h->ring_len)
		h->q_beg = h->q_end = 0;
	if ((h->ring_len == h->ring_cap && !ring_grow(h)) || !q_room(h, need)) {
		net_abandon(c);    /* pipelined deeper than we hold */
		return;
	}
	uint32_t off = h->q_end;
	h->q_end += (uint32_t)need;
	struct net_req *r = (struct net_req *)(h->q + off);
	r->t_ns = net_now_ns();
	r->path_len = f->path_len;
	r->idlen = (uint8_t)idlen;
	r->method_len = f->method_len;
	r->head = f->method_len == 4 && !memcmp(f->method, "HEAD", 4);
	r->connect = f->method_len == 7 && !memcmp(f->method, "CONNECT", 7);
	r->tp = f->tp_ok;
	r->applied = 0;
	char *p = r->text;
	put(&p, id, idlen);
	put(&p, f->method, f->method_len);
	put(&p, f->path, f->path_len);
	if (f->tp_ok) {
		put(&p, f->trace_id, 32);
		put(&p, f->span_id, 16);
		put(&p, f->flags, 2);
	}
	h->ring[(h->ring_head + h->ring_len) % h->ring_cap] = off;
	h->ring_len++;
	if (c->tx_pass) {
		/* Responses are not followed: the request applies at once. */
		net_apply(c, r);
		net_ring_pop(c);
		return;
	}
	/* Nothing unanswered before it: this is the request being served.
	 * Otherwise (pipelined) it waits for its response to start. */
	if (h->ring_len == 1)
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
			if (c->rx_pass)
				break;     /* abandoned: not one more request of this read */
		} else if (ev == HTTP_AMBIG) {
			net_abandon(c);
			break;
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

void net_rx(struct net_conn *c, const void *buf, size_t n)
{
	if (n && net_cfg.http && !c->rx_pass && atomic_load(&c->kind) == NET_IN)
		rx_bytes(c, buf, n);
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
	if (atomic_load(&c->gen) == gen && atomic_load(&c->kind) == NET_OUT) {
		/* The upstream's answer: the thread works for the request the
		 * connection is bound to (net_out_bind). */
		if (r > 0 && c->ctx)
			net_enter(c);
	} else if (atomic_load(&c->gen) == gen && atomic_load(&c->kind) == NET_IN) {
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
	if (!c)
		return NULL;
	int kind = atomic_load_explicit(&c->kind, memory_order_relaxed);
	if (kind != NET_IN && kind != NET_OUT)
		return NULL;
	*gen = atomic_load(&c->gen);
	if (kind == NET_IN && net_cfg.http)
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

