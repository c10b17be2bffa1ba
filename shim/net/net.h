/*
 * net.h: state shared by the sockets family's files.
 *
 *   net_conn.c  settings, the per-fd connection table, accept/connect,
 *               the context that follows the connection, close.
 *   net_read.c  the read side: request parsing, each request's context.
 *   net_http.c  the write side: following responses and outgoing requests,
 *               adding X-Request-ID / traceparent to their heads.
 *   net_lease.c when a thread stops working for a connection: the wait
 *               hooks and shutdown (README "Attribution rules").
 *   net_tls.c, net_tls_write.c, net_gnutls.c (net_tls.h)  HTTPS: TLS
 *               connections keyed by the library's object, their plaintext
 *               fed to the reader and writer above.
 *
 * A connection's slot is found in O(1) by fd (net_slot).  Slots are
 * allocated on first use of an fd number (in chunks) and never freed, so a thread still
 * inside a read on an fd that another thread closes never touches freed
 * memory; each open and close bumps the slot's generation, and work done for
 * an old generation is dropped.  The slot lock is never held across a system
 * call.
 */
#ifndef CTX_NET_H
#define CTX_NET_H

#include "core.h"
#include "http_parse.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/socket.h>

enum { NET_NONE, NET_IN, NET_OUT };

#define NET_RING 8          /* requests awaiting a response, held inline */
#define NET_RING_MAX 256    /* ... and at most, per connection */
#define NET_INJ_MAX 512     /* bytes of header lines the shim may add to one head */
#define NET_HELD_MAX 65536  /* bytes a connection's HTTP state may hold (net_held) */
#define NET_Q_MIN 512       /* first size of a connection's request records */

/* Process-wide settings, fixed by net_init. */
struct net_cfg {
	int conn;           /* CTXSHIM_CONN: watch accepted connections */
	int http;           /* CTXSHIM_HTTP: parse the requests they carry */
	int echo;           /* CTXSHIM_HTTP_ECHO: add the id to responses */
	int propagate;      /* CTXSHIM_HTTP_PROPAGATE: add it to outgoing requests */
	char idname[HTTP_NAME_MAX + 1];     /* as configured, written as is */
	char idname_lc[HTTP_NAME_MAX + 1];  /* lowercase, for matching */
	size_t idname_len;
};
extern struct net_cfg net_cfg;

/* A request whose response has not ended yet: only what its echo and its
 * context need.  The context itself (the connection's base plus these
 * entries) is made when the request is applied (net_apply), so a request
 * waiting behind others holds no copy of the base.  Records live one after
 * another in the connection's q, each 8-aligned. */
struct net_req {
	uint64_t t_ns;          /* when its head was read (net_now_ns) */
	uint16_t path_len;
	uint8_t idlen, method_len;
	uint8_t head;           /* a HEAD request: the response has no body */
	uint8_t connect;        /* CONNECT: a 2xx response starts a tunnel */
	uint8_t tp;             /* trace fields follow */
	uint8_t applied;        /* its context has become the connection's */
	char text[];            /* id, method, path, and with tp trace_id,
				 * span_id, trace_flags: each NUL-ended */
};

static inline const char *net_req_id(const struct net_req *r)
{
	return r->text;
}

static inline const char *net_req_method(const struct net_req *r)
{
	return r->text + r->idlen + 1;
}

static inline const char *net_req_path(const struct net_req *r)
{
	return net_req_method(r) + r->method_len + 1;
}

/* trace_id (32), span_id (16), trace_flags (2), each NUL-ended; with tp. */
static inline const char *net_req_trace(const struct net_req *r)
{
	return net_req_path(r) + r->path_len + 1;
}

/* HTTP state, allocated when a connection first carries HTTP. */
struct net_http {
	unsigned ring_head, ring_len, ring_cap;
	uint32_t q_beg, q_end, q_cap;   /* the live records are q[q_beg, q_end) */
	uint32_t *ring;              /* records' offsets in q: inline, or grown */
	char *q;                     /* the records (NULL until the first) */
	size_t ctx_size;             /* bytes of the connection's request context */
	size_t base_size;            /* ... and of its own (conn_id, peer) context */
	size_t pend_off, pend_len;   /* added bytes the kernel has not taken yet */
	uint32_t inline_ring[NET_RING];
	struct http_tx tx;      /* the messages written */
	struct http_rx rx;      /* inbound: the requests read */
	char pend[NET_INJ_MAX];
};

/* Bytes the connection holds: its HTTP state, records, queue, request
 * context and its own context (a copy of the inherited one, as large as
 * that is).  Kept at most NET_HELD_MAX (net_read.c). */
static inline size_t net_held(const struct net_http *h)
{
	return sizeof *h + h->q_cap + (h->ring != h->inline_ring ? h->ring_cap * sizeof *h->ring : 0) +
	       h->ctx_size + h->base_size;
}


struct net_conn {
	atomic_int lock;        /* net_lock; never held across a system call */
	atomic_uint gen;        /* bumped at every open and close */
	_Atomic uint8_t kind;   /* NET_NONE, NET_IN, NET_OUT */
	_Atomic uint8_t rx_pass;   /* stop parsing what is read */
	_Atomic uint8_t tx_pass;   /* stop following what is written */
	atomic_uint ver;        /* bumped whenever base or ctx changes */
	ctxshim_ctx_t *base;    /* in: accepting thread's context + conn_id, peer */
	ctxshim_ctx_t *ctx;     /* in: the current request's context (NULL: base) */
	struct net_http *h;
	uint64_t opened_ns;     /* in: when it was accepted (net_now_ns) */
	uint32_t heads;         /* out: request heads begun on it (net_out_bind) */
} __attribute__((aligned(64)));

/* A thread's lease (README "Attribution rules"): BASE is what the thread
 * had before it took a connection's context; CUR the connection (or bound
 * request) context it switched to, CONN and VER the connection and its ver
 * then.  CUR is NULL when the thread holds no lease: the wait hooks test
 * only that. */
struct net_thread {
	ctxshim_ctx_t *base;    /* (share/chain: NULL for a thread without a box) */
	ctxshim_ctx_t *cur;     /* the connection context last switched to */
	struct net_conn *conn;  /* ... the connection it belonged to */
	unsigned ver;           /* ... and that connection's ver then */
	int based;              /* base was taken */
	int keyed;
};
extern __thread struct net_thread net_me CTX_TLS;

/* The calling thread gives its lease back: when it still runs under the
 * leased context, it returns to its base (net_conn.c). */
void net_lease_end(void);

/* net_lease_end for a wait hook: not from inside the shim's own work (a
 * signal handler that waits while the thread is in a hook). */
void net_lease_waiting(void);

/* Before a call that may block waiting for events: one TLS load and a
 * branch when the thread holds no lease. */
static inline void net_lease_wait(void)
{
	if (__builtin_expect(net_me.cur != NULL, 0))
		net_lease_waiting();
}

/* With C locked, an outbound connection about to carry a new request head:
 * the context it is bound to becomes the thread's (net_conn.c). */
void net_out_bind(struct net_conn *c);

/* CLOCK_MONOTONIC_COARSE in ns: when connections and requests start, for
 * their age in `ctxctl PID conns` (a few ns: a vDSO read, no system call). */
#define net_now_ns ctx_now_ns   /* the coarse clock is core's (core/clock.c) */

/* FD is no longer a connection (fdtab_forget): its state is released. */
void net_fd_closed(int fd);

/* For the control family: FN(fd, c, arg) for each inbound connection, with
 * its slot locked: FN must be brief (take references, copy a few fields)
 * and make no system call. */
void net_each_inbound(void (*fn)(int fd, struct net_conn *c, void *arg), void *arg);

/* The slot lock: held for a few hundred instructions at most and never
 * across a system call, so a spin that yields is cheaper than a mutex.
 * The recursion guard is up while it is held: a signal handler that writes
 * to the same connection then passes straight through instead of spinning
 * on a lock its own thread holds. */
static inline void net_lock(struct net_conn *c)
{
	ctx_self.in_hook++;
	while (atomic_exchange_explicit(&c->lock, 1, memory_order_acquire))
		sched_yield();
}

static inline void net_unlock(struct net_conn *c)
{
	atomic_store_explicit(&c->lock, 0, memory_order_release);
	ctx_self.in_hook--;
}

/* Before a read's system call: ask for the cache lines the parse after it
 * will touch (a server going round many connections finds them cold). */
static inline void net_prefetch(struct net_conn *c)
{
	net_lock(c);
	struct net_http *h = c->h;
	const void *ctx = c->ctx, *base = c->base;
	net_unlock(c);
	if (atomic_load_explicit(&c->rx_pass, memory_order_relaxed))
		return;
	if (h) {
		__builtin_prefetch(h, 1);
		__builtin_prefetch(&h->tx, 1);
		__builtin_prefetch((const char *)&h->tx + 64, 1);
		__builtin_prefetch(&h->tx.h.name, 1);
		__builtin_prefetch(&h->rx, 1);
		__builtin_prefetch((const char *)&h->rx + 64, 1);
		__builtin_prefetch(&h->rx.h, 1);
		__builtin_prefetch((const char *)&h->rx.h + 64, 1);
	}
	if (ctx)
		__builtin_prefetch(ctx, 1);
	if (base) {
		__builtin_prefetch(base, 0);
		__builtin_prefetch((const char *)base + 64, 0);
	}
}
static inline struct cmap_entry net_entry(const char *k, const char *v, size_t vlen)
{
	struct cmap_entry e = { .key = k, .val = v, .klen = (uint32_t)__builtin_strlen(k),
				.vlen = (uint32_t)vlen };
	return e;
}

/* The slot of FD, or NULL when FD was never a connection. */
struct net_conn *net_slot(int fd);

/* With C locked: make the connection's context the calling thread's. */
void net_enter(struct net_conn *c);
/* Without the lock: 1 when the calling thread is in C's context already
 * (then there is nothing to do for a read or write that is not parsed). */
int net_already_in(struct net_conn *c);

/* With C locked: the request at position I of the queue (0: oldest). */
struct net_req *net_ring_at(struct net_conn *c, unsigned i);
/* With C locked: request R's context (made now) becomes the connection's.
 * May abandon the connection (net_abandon) when it would hold too much. */
void net_apply(struct net_conn *c, struct net_req *r);
/* With C locked: stop following the connection for good, both ways. */
void net_abandon(struct net_conn *c);
/* With C locked: drop the oldest request (its response ended). */
void net_ring_pop(struct net_conn *c);

/* With C locked: the HTTP state, allocated on first use (NULL: no memory). */
struct net_http *net_http_of(struct net_conn *c);

/* The write side (net_http.c).  IOV/CNT: the program's bytes; the real
 * call is chosen by HOW. */
enum { NET_WRITE, NET_WRITEV, NET_SEND, NET_SENDTO, NET_SENDMSG };
struct net_call {
	int how;
	int flags;
	const void *buf;                 /* write, send, sendto */
	size_t n;
	const struct iovec *iov;         /* writev */
	int cnt;
	const struct sockaddr *addr;     /* sendto */
	socklen_t alen;
	const struct msghdr *msg;        /* sendmsg */
};
ssize_t net_out(int fd, struct net_conn *c, const struct net_call *call);
/* Finish any added line the kernel took only in part: 0, or -1 with errno
 * when it could not be (the caller must then not write program bytes). */
int net_flush(int fd);

/* TLS (net_tls.c): a connection whose plaintext the program reads and writes
 * through a TLS library, keyed by the library's object, not by an fd.  Its
 * struct net_conn is one of its own, outside the fd table; these feed it to
 * the same reader and writer as a socket's. */
/* Like net_each_inbound, for the TLS server connections (FD: the socket
 * under the SSL, or -1). */
void net_tls_each(void (*fn)(int fd, struct net_conn *c, void *arg), void *arg);
/* With C locked: BUF[0,N) the program read from C. */
void net_rx(struct net_conn *c, const void *buf, size_t n);
/* The two below, in one (net_http.c): TAKEN == SIZE_MAX plans, else commits. */
size_t net_tx_tls(struct net_conn *c, const void *buf, size_t n, size_t taken, size_t inj_at,
		  char *line, size_t *len);
/* Without the lock: where a line is to be added to the program's bytes
 * BUF[0,N) about to be written on C (the line in LINE, *LEN bytes, at most
 * NET_INJ_MAX), or SIZE_MAX for none. */
static inline size_t net_tx_plan(struct net_conn *c, const void *buf, size_t n, char *line,
				 size_t *len)
{
	*len = 0;
	return net_tx_tls(c, buf, n, SIZE_MAX, SIZE_MAX, line, len);
}
/* Without the lock, with the recursion guard up: TAKEN of the program bytes
 * BUF[0,N) went out, and when INJ_AT is not SIZE_MAX (then TAKEN == INJ_AT)
 * the LEN-byte line planned there after them. */
static inline void net_tx_done(struct net_conn *c, const void *buf, size_t n, size_t taken,
			       size_t inj_at, size_t len)
{
	net_tx_tls(c, buf, n, taken, inj_at, NULL, &len);
}

#endif
