/*
 * net_conn.c: watched connections and the context that follows each
 * connection from thread to thread (the requests read: net_read.c; what is
 * written: net_http.c).
 *
 * accept/accept4 give every new connection a context of its own: the
 * accepting thread's (as it was before it served any connection) plus
 * conn_id and peer.  Whenever a thread reads from or writes to the
 * connection, that context becomes the thread's, so an event loop serving
 * many connections on one thread logs each line under the right one.  With
 * CTXSHIM_HTTP the bytes read are parsed (http_parse.c): each request gets
 * its own context (the connection's plus request_id, request_method,
 * request_path and, with traceparent, trace_id, span_id and trace_flags),
 * queued until its response starts when requests are pipelined (net_http.c).
 *
 * connect() marks client sockets for CTXSHIM_HTTP_PROPAGATE; their reads
 * pass untouched.
 */
#include "net.h"

#include "fdtab.h"
#include "hooks.h"
#include "io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <time.h>

struct net_cfg net_cfg;

/* Slots come in chunks of NET_CHUNK neighbouring fds, one cache line each:
 * finding fd's slot is two loads, the first from a small hot array. */
#define NET_CHUNK 64
static struct net_conn *_Atomic chunks[FDTAB_MAX / NET_CHUNK];

/* What the calling thread had before it first served a connection: new
 * connections it accepts start from this, not from another connection's;
 * a lease that ends returns the thread to it (net.h). */
__thread struct net_thread net_me CTX_TLS;
static pthread_key_t net_key;

/* ---- settings ----------------------------------------------------------- */

static int on(const char *name)
{
	return ctx_flag(ctx_getenv(name));
}

static void set_idname(const char *v)
{
	size_t n = v ? strlen(v) : 0;
	if (v && (n > HTTP_NAME_MAX || !http_token_valid(v, n) ||
		  !strcasecmp(v, "content-length") || !strcasecmp(v, "transfer-encoding") ||
		  !strcasecmp(v, "traceparent"))) {
		ctx_warn("CTXSHIM_HTTP_HEADER=%.64s is not a usable header name; using X-Request-ID", v);
		v = NULL;
	}
	if (!v || !n)
		v = "X-Request-ID";
	n = strlen(v);
	memcpy(net_cfg.idname, v, n + 1);
	for (size_t i = 0; i <= n; i++)
		net_cfg.idname_lc[i] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
	net_cfg.idname_len = n;
}

static void thread_gone(void *unused)
{
	(void)unused;
	ctxshim_ctx_t *b = net_me.base;
	net_me.base = net_me.cur = NULL;
	net_me.based = net_me.keyed = 0;
	ctx_release(b);
}

/* A forked child has one thread: locks held by others at the fork are
 * free again. */
static void fork_child(void)
{
	for (int i = 0; i < FDTAB_MAX / NET_CHUNK; i++) {
		struct net_conn *ch = atomic_load_explicit(&chunks[i], memory_order_relaxed);
		for (int j = 0; ch && j < NET_CHUNK; j++)
			atomic_store(&ch[j].lock, 0);
	}
}

void net_init(void)
{
	net_cfg.echo = on("CTXSHIM_HTTP_ECHO");
	net_cfg.http = net_cfg.echo || on("CTXSHIM_HTTP");
	net_cfg.conn = net_cfg.http || on("CTXSHIM_CONN");
	net_cfg.propagate = on("CTXSHIM_HTTP_PROPAGATE");
	set_idname(ctx_getenv("CTXSHIM_HTTP_HEADER"));
	fdtab_on_forget(FD_CONN, net_fd_closed);
	if (net_cfg.conn || net_cfg.propagate) {
		pthread_key_create(&net_key, thread_gone);
		ctx_at_fork(NULL, NULL, fork_child);
	}
}

/* ---- the table ---------------------------------------------------------- */


void net_each_inbound(void (*fn)(int fd, struct net_conn *c, void *arg), void *arg)
{
	for (int i = 0; i < FDTAB_MAX / NET_CHUNK; i++) {
		struct net_conn *ch = atomic_load_explicit(&chunks[i], memory_order_acquire);
		for (int j = 0; ch && j < NET_CHUNK; j++) {
			struct net_conn *c = &ch[j];
			if (atomic_load_explicit(&c->kind, memory_order_relaxed) != NET_IN)
				continue;
			net_lock(c);
			if (atomic_load_explicit(&c->kind, memory_order_relaxed) == NET_IN)
				fn(i * NET_CHUNK + j, c, arg);
			net_unlock(c);
		}
	}
}

struct net_conn *net_slot(int fd)
{
	if ((unsigned)fd >= FDTAB_MAX)
		return NULL;
	struct net_conn *ch = atomic_load_explicit(&chunks[fd / NET_CHUNK], memory_order_acquire);
	return ch ? &ch[fd % NET_CHUNK] : NULL;
}

static struct net_conn *slot_make(int fd)
{
	struct net_conn *c = net_slot(fd);
	if (c || (unsigned)fd >= FDTAB_MAX)
		return c;
	struct net_conn *ch = aligned_alloc(64, NET_CHUNK * sizeof *ch);
	if (!ch)
		return NULL;
	memset(ch, 0, NET_CHUNK * sizeof *ch);
	struct net_conn *expected = NULL;
	if (!atomic_compare_exchange_strong(&chunks[fd / NET_CHUNK], &expected, ch)) {
		free(ch);
		ch = expected;
	}
	return &ch[fd % NET_CHUNK];
}

static void http_free(struct net_http *h)
{
	if (!h)
		return;
	free(h->q);
	if (h->ring != h->inline_ring)
		free(h->ring);
	free(h);
}

/* With C locked: forget the connection that was there. */
static void slot_clear(struct net_conn *c)
{
	atomic_fetch_add(&c->gen, 1);
	atomic_fetch_add(&c->ver, 1);
	atomic_store(&c->kind, NET_NONE);
	ctx_release(c->ctx);
	ctx_release(c->base);
	c->ctx = c->base = NULL;
	http_free(c->h);
	c->h = NULL;
	c->rx_pass = c->tx_pass = 0;
}

struct net_http *net_http_of(struct net_conn *c)
{
	if (!c->h) {
		c->h = malloc(sizeof *c->h);
		if (!c->h)
			return NULL;
		http_rx_init(&c->h->rx, net_cfg.idname_lc, net_cfg.idname_len);
		http_tx_init(&c->h->tx, c->kind == NET_OUT, net_cfg.idname_lc, net_cfg.idname_len);
		c->h->ring_head = c->h->ring_len = 0;
		c->h->ring = c->h->inline_ring;
		c->h->ring_cap = NET_RING;
		c->h->q = NULL;
		c->h->q_beg = c->h->q_end = c->h->q_cap = 0;
		c->h->ctx_size = 0;
		/* In chain mode a layer over the inherited context: only the
		 * layer is the connection's own. */
		c->h->base_size = ctx_size(c->base);
		c->h->pend_off = c->h->pend_len = 0;
	}
	return c->h;
}

void net_fd_closed(int fd)
{
	struct net_conn *c = net_slot(fd);
	if (!c)
		return;
	ctx_self.in_hook++;
	net_lock(c);
	/* The closing thread stops working for an inbound connection it
	 * served: its next lines are its own again.  An outbound connection
	 * belongs to a request that outlives it (nginx closes its upstream and
	 * then logs the client request's access line): the lease stays. */
	int mine = net_me.cur && atomic_load(&c->kind) == NET_IN &&
		   (net_me.conn == c || net_me.cur == c->ctx || net_me.cur == c->base);
	if (net_me.conn == c)
		net_me.conn = NULL;
	slot_clear(c);
	net_unlock(c);
	if (mine)
		net_lease_end();
	ctx_self.in_hook--;
	ctx_defer_drain();   /* closing frees anyway: a safe point */
}

/* ---- contexts ----------------------------------------------------------- */

/* Reached from read and write hooks, so perhaps from a signal handler that
 * interrupted malloc or the core: it allocates nothing and frees nothing
 * (what it lets go of is deferred; see ctx_defer_room below for the one
 * exception), and leaves the thread's context alone when the handler
 * interrupted a change of it. */
void net_enter(struct net_conn *c)
{
	ctxshim_ctx_t *h = c->ctx ? c->ctx : c->base;
	if (!h)
		return;
	if (ctx_is_current(h)) {
		net_me.cur = h;
		net_me.conn = c;
		net_me.ver = atomic_load(&c->ver);
		return;
	}
	if (ctx_interrupted())
		return;
	if (unlikely(ctx_defer_room() < 2)) {
		/* 63 contexts let go of without a safe point in between (a
		 * thread that only writes responses, never reading, accepting,
		 * closing or setting): free them now rather than leave the
		 * thread in a context that is no longer the connection's. */
		ctx_defer_flush();
		if (ctx_defer_room() < 2)
			return;
	}
	if (!net_me.based || !net_me.cur || !ctx_is_current(net_me.cur)) {
		/* Not (or no longer) in a connection's context: what the thread
		 * has now is its own, the base for connections it accepts. */
		ctxshim_ctx_t *old = net_me.base;
		net_me.base = ctx_capture_held();
		net_me.based = 1;
		if (ctx_release_later(old) < 0)
			ctx_release(old);   /* not reached: room was checked */
		if (!net_me.keyed && pthread_setspecific(net_key, (void *)1) == 0)
			net_me.keyed = 1;
	}
	if (ctx_switch_later(h) < 0)
		return;
	net_me.cur = h;
	net_me.conn = c;
	net_me.ver = atomic_load(&c->ver);
}

int net_already_in(struct net_conn *c)
{
	return net_me.conn == c && net_me.ver == atomic_load_explicit(&c->ver, memory_order_acquire) &&
	       net_me.cur && ctx_is_current(net_me.cur);
}

void net_out_bind(struct net_conn *c)
{
	char id[2];
	/* A reused connection (keep-alive) carries the request current when
	 * its head starts; when none is (the thread is between events), the
	 * last one bound.  Its first head is always the one it was opened for. */
	if (c->heads++ && ctx_lookup("request_id", 10, id, sizeof id) > 0 &&
	    !(c->ctx && ctx_is_current(c->ctx))) {
		ctxshim_ctx_t *now = ctx_capture();
		if (now) {
			ctx_release(c->ctx);
			c->ctx = now;
			atomic_fetch_add(&c->ver, 1);
		}
	}
	if (c->ctx)
		net_enter(c);
}

/* The context a connection accepted now starts from (a new reference). */
static ctxshim_ctx_t *accept_parent(void)
{
	ctxshim_ctx_t *own = ctx_capture();
	if (net_me.based && net_me.cur && ctx_is_current(net_me.cur)) {
		ctx_release(own);
		/* net_me.base stays ours; the caller must not release it. */
		return NULL;
	}
	return own;
}

static void peer_text(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
		snprintf(out, cap, "%s:%u", ip, ntohs(a->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
		snprintf(out, cap, "[%s]:%u", ip, ntohs(a->sin6_port));
	} else {
		snprintf(out, cap, "unix");
	}
}

/* A connection accepted as FD from peer SS: give it its context. */
static void open_inbound(int fd, const struct sockaddr_storage *ss)
{
	char id[33], peer[INET6_ADDRSTRLEN + 16];
	struct net_conn *c = slot_make(fd);
	if (!c)
		return;
	ctx_new_id(id);
	peer_text(ss, peer, sizeof peer);
	struct cmap_entry e[2] = { net_entry("conn_id", id, 16), net_entry("peer", peer, strlen(peer)) };
	ctxshim_ctx_t *parent = accept_parent();
	ctxshim_ctx_t *base = ctx_derive(parent ? parent : net_me.base, e, 2);
	ctx_release(parent);
	if (!base)
		return;
	uint64_t now = net_now_ns();
	net_lock(c);
	slot_clear(c);   /* whatever an unseen close left behind */
	c->base = base;
	c->opened_ns = now;
	atomic_fetch_add(&c->ver, 1);
	atomic_store(&c->kind, NET_IN);
	/* The HTTP state is made here, not on the first write, which may come
	 * from a signal handler (no memory: the connection is not followed). */
	if (net_cfg.http && !net_http_of(c))
		c->rx_pass = c->tx_pass = 1;
	/* The accepting thread works for the new connection from now on: its
	 * own "accepted" line is that connection's. */
	net_enter(c);
	net_unlock(c);
	fdtab_set(fd, FD_CONN);
	ctx_defer_drain();   /* accepting allocates anyway: a safe point */
}

static int watched_family(int fam)
{
	return fam == AF_INET || fam == AF_INET6 || fam == AF_UNIX;
}

static int do_accept(int fd, struct sockaddr *addr, socklen_t *len, int flags, int four)
{
	ctx_waiting();   /* accept is a wait (a forked child's listener: ctl/) */
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int r;

	if (!ctx_should_act() || !net_cfg.conn)
		return four ? REAL(accept4)(fd, addr, len, flags) : REAL(accept)(fd, addr, len);
	/* The kernel writes the caller's buffer as it always would; ours is
	 * used only when the caller passes none. */
	if (addr && !len)
		return four ? REAL(accept4)(fd, addr, len, flags) : REAL(accept)(fd, addr, len);
	/* A blocking accept waits for the next connection: the lease on the
	 * last one ends first (a signal handler run meanwhile is not its). */
	if (net_me.cur && !(fcntl(fd, F_GETFL) & O_NONBLOCK)) {
		KEEP_ERRNO;
		net_lease_end();
		RESTORE_ERRNO;
	}
	int theirs = addr != NULL;
	socklen_t cap = theirs ? *len : 0;
	r = four ? REAL(accept4)(fd, theirs ? addr : (struct sockaddr *)&ss, theirs ? len : &sl, flags)
		 : REAL(accept)(fd, theirs ? addr : (struct sockaddr *)&ss, theirs ? len : &sl);
	if (r < 0 || (unsigned)r >= FDTAB_MAX)
		return r;

	KEEP_ERRNO;
	ctx_self.in_hook++;
	if (theirs) {
		memset(&ss, 0, sizeof ss);
		if (*len <= cap && *len <= sizeof ss) {
			memcpy(&ss, addr, *len);
		} else {
			sl = sizeof ss;
			if (getpeername(r, (struct sockaddr *)&ss, &sl) < 0)
				ss.ss_family = AF_UNSPEC;
		}
	}
	if (watched_family(ss.ss_family))
		open_inbound(r, &ss);
	ctx_self.in_hook--;
	RESTORE_ERRNO;
	return r;
}

CTX_EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
	return do_accept(fd, addr.__sockaddr__, len, 0, 0);
}

CTX_EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *len, int flags)
{
	return do_accept(fd, addr.__sockaddr__, len, flags, 1);
}

CTX_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	int r = REAL(connect)(fd, addr, len);
	if (!net_cfg.propagate || !ctx_should_act() || (unsigned)fd >= FDTAB_MAX)
		return r;
	if (r < 0 && errno != EINPROGRESS)
		return r;
	const struct sockaddr *a = addr.__sockaddr__;
	if (!a || len < sizeof(sa_family_t) || !watched_family(a->sa_family))
		return r;
	KEEP_ERRNO;
	int type = 0;
	socklen_t tl = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM) {
		ctx_self.in_hook++;
		struct net_conn *c = slot_make(fd);
		/* Bound to the request current now (none: the thread is between
		 * events, or not a server): its first head is that request's
		 * even when written later from another event (net_out_bind). */
		ctxshim_ctx_t *bound = NULL;
		char id[2];
		if (c && ctx_lookup("request_id", 10, id, sizeof id) > 0)
			bound = ctx_capture();
		if (c) {
			net_lock(c);
			slot_clear(c);
			c->ctx = bound;
			c->heads = 0;
			atomic_store(&c->kind, NET_OUT);
			if (!net_http_of(c))    /* as for accept: not on a write */
				c->tx_pass = 1;
			net_unlock(c);
			fdtab_set(fd, FD_CONN);
		} else {
			ctx_release(bound);
		}
		ctx_self.in_hook--;
	}
	RESTORE_ERRNO;
	return r;
}

/* ---- calls the shim cannot follow ----------------------------------------
 * Bytes moved by splice, sendmmsg or recvmmsg on a watched connection are
 * not seen: from then on that direction of the stream is left alone (a
 * line is never added to a stream the scanner lost track of). */

static void blind(int fd, int writing)
{
	struct net_conn *c = net_slot(fd);
	if (!c)
		return;
	KEEP_ERRNO;
	ctx_self.in_hook++;
	net_lock(c);
	if (writing)
		c->tx_pass = 1;
	else
		c->rx_pass = 1;
	net_unlock(c);
	ctx_self.in_hook--;
	RESTORE_ERRNO;
}

CTX_EXPORT ssize_t splice(int in, loff_t *in_off, int out, loff_t *out_off, size_t len,
			  unsigned int flags)
{
	if (unlikely(fdtab_get(in) & FD_CONN))
		blind(in, 0);
	if (unlikely(fdtab_get(out) & FD_CONN)) {
		if (net_flush(out) < 0)
			return -1;
		blind(out, 1);
	}
	return REAL(splice)(in, in_off, out, out_off, len, flags);
}

CTX_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	if (unlikely(fdtab_get(fd) & FD_CONN)) {
		if (net_flush(fd) < 0)
			return -1;
		blind(fd, 1);
	}
	return REAL(sendmmsg)(fd, v, n, flags);
}

CTX_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *t)
{
	if (unlikely(fdtab_get(fd) & FD_CONN))
		blind(fd, 0);
	return REAL(recvmmsg)(fd, v, n, flags, t);
}
