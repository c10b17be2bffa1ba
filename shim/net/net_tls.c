/*
 * net_tls.c: HTTPS.  The plaintext a server reads and writes through
 * OpenSSL 3 (libssl.so.3) goes to the same HTTP reader and writer as a
 * plaintext socket's (net_read.c, net_http.c): ids from the header or
 * generated, each request's context, the echo.
 *
 * A TLS connection is keyed by its SSL object (servers with memory or custom
 * BIOs have no fd), in a table of records each holding a struct net_conn of
 * its own, outside the fd table (the table and what GnuTLS shares of it:
 * net_tls.h).  When the SSL sits on an accepted socket the shim watches,
 * the record starts from that socket's context (conn_id, peer), and the
 * socket itself stops being a connection of the shim's: its bytes are
 * neither parsed nor switch the thread's context.
 *
 * libssl is never linked: its functions are found in the loaded library on
 * first use (REAL_LIB: dlopen RTLD_NOLOAD + dlsym on its own handle, which
 * also finds a libssl that Python's _ssl module loaded RTLD_LOCAL).  Without
 * CTXSHIM_HTTP or CTXSHIM_HTTP_PROPAGATE every hook is the real call after
 * two branches.  Servers are followed with the first, clients (SSL_is_server)
 * with the second.
 *
 * Adding a line to what SSL_write sends: net_tls_write.c.
 */
#include "net_tls.h"

#include <openssl/ssl.h>
#define HOOKS_LIB_ssl ~, 1
#define HOOKS_LIB_DEFINE
#include "hooks_lib.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct ptrtab conns = PTRTAB_INIT;

/* Calls libssl makes to its own public functions (SSL_read_early_data to
 * SSL_read_ex...) are its business: only the program's outermost call is
 * followed. */
__thread int net_tls_in CTX_TLS;

/* Functions the shim calls but does not interpose, found like REAL_LIB's. */
static int (*real_get_fd)(const SSL *);
static int (*real_is_server)(const SSL *);

#define SSL_REAL(name) REAL_LIB(name, hooks_libs_ssl)

/* Servers are followed with CTXSHIM_HTTP, clients with
 * CTXSHIM_HTTP_PROPAGATE; without either, nothing of TLS is touched. */
int net_tls_act(void)
{
	return likely(!net_tls_in) && (net_cfg.http || net_cfg.propagate) && ctx_should_act();
}

/* ---- the records ---------------------------------------------------------- */

static struct tls_conn *rec_of(const struct ptrtab_node *n)
{
	return n ? (struct tls_conn *)((char *)n - offsetof(struct tls_conn, node)) : NULL;
}

static void rec_free(struct tls_conn *t)
{
	struct net_conn *c = &t->c;
	ctx_release(c->ctx);
	ctx_release(c->base);
	if (c->h) {
		free(c->h->q);
		if (c->h->ring != c->h->inline_ring)
			free(c->h->ring);
		free(c->h);
	}
	free(t->wbuf);
	free(t->pbuf);
	free(t);
}

/* The context a server connection starts from: the socket's when the shim
 * watches it, else one of its own with a conn_id (never the calling
 * thread's, which may be another request's). */
static ctxshim_ctx_t *conn_base(int fd, uint64_t *opened)
{
	struct net_conn *sc = fd >= 0 ? net_slot(fd) : NULL;
	ctxshim_ctx_t *b = NULL;
	*opened = net_now_ns();
	if (sc) {
		net_lock(sc);
		if (atomic_load(&sc->kind) == NET_IN && sc->base) {
			b = ctx_ref(sc->base);
			*opened = sc->opened_ns;
			/* The connection is followed here from now on.  The
			 * socket's own bytes are the TLS stream: never parsed or
			 * added to, also when kTLS makes them plaintext (the
			 * kernel encrypting what libssl writes with write or
			 * sendfile), so nothing is added twice; and its reads
			 * and writes no longer switch the thread to the socket's
			 * context (the TLS connection's own is the one). */
			sc->rx_pass = sc->tx_pass = 1;
			atomic_store(&sc->kind, NET_NONE);
			atomic_fetch_add(&sc->ver, 1);
		}
		net_unlock(sc);
	}
	if (!b) {
		char id[33];
		ctx_new_id(id);
		struct cmap_entry e = net_entry("conn_id", id, 16);
		b = ctx_derive(NULL, &e, 1);
	}
	return b;
}

struct tls_conn *net_tls_find(const void *key)
{
	return rec_of(ptrtab_get(&conns, key));
}

/* fork: no shard lock held by another thread goes into the child, and a
 * record another thread had locked is free there. */
static void fork_prepare(void)
{
	ptrtab_lock_all(&conns);
}

static void fork_parent(void)
{
	ptrtab_unlock_all(&conns);
}

static void unlock_rec(struct ptrtab_node *n, void *arg)
{
	(void)arg;
	atomic_store(&rec_of(n)->c.lock, 0);
}

static void fork_child(void)
{
	ptrtab_each_locked(&conns, unlock_rec, NULL);
	ptrtab_unlock_all(&conns);
}

static void arm_fork(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

struct tls_conn *net_tls_make(const void *key, int fd, int server)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, arm_fork);
	struct tls_conn *t = aligned_alloc(64, (sizeof *t + 63) & ~(size_t)63);
	if (!t)
		return NULL;
	memset(t, 0, sizeof *t);
	t->node.key = key;
	t->fd = fd;
	if (server == 1 && net_cfg.http) {
		uint64_t opened;
		t->c.base = conn_base(fd, &opened);
		t->c.opened_ns = opened;
		t->watched = t->c.base != NULL;
		if (t->watched)
			atomic_store(&t->c.kind, NET_IN);
	} else if (server == 0 && net_cfg.propagate) {
		/* A client: its requests get the id of the request it is bound
		 * to (net_out_bind): on a socket the shim watches, the one that
		 * connected it; what it reads is left alone. */
		struct net_conn *sc = fd >= 0 ? net_slot(fd) : NULL;
		if (sc) {
			net_lock(sc);
			if (atomic_load(&sc->kind) == NET_OUT) {
				t->c.ctx = ctx_ref(sc->ctx);
				/* Its bytes are the TLS stream: never added to. */
				sc->tx_pass = 1;
				atomic_store(&sc->kind, NET_NONE);
				atomic_fetch_add(&sc->ver, 1);
			}
			net_unlock(sc);
		}
		t->watched = 1;
		atomic_store(&t->c.kind, NET_OUT);
	}
	struct ptrtab_node *old = NULL;
	if (ptrtab_put(&conns, &t->node, &old) < 0) {
		rec_free(t);
		return NULL;
	}
	if (old)      /* an object freed unseen, its address reused */
		rec_free(rec_of(old));
	return t;
}

void net_tls_forget(const void *key)
{
	/* Taken out before the library frees it: the address may be reused
	 * at once. */
	struct tls_conn *t = rec_of(ptrtab_take(&conns, key));
	if (t) {
		KEEP_ERRNO;
		/* The thread working for it stops, as at a socket's close
		 * (README "Attribution rules"): a line it writes next, before
		 * it touches another connection, carries no request of this
		 * one. */
		if (net_me.conn == &t->c && net_me.cur)
			net_lease_end();
		ctx_self.in_hook++;
		rec_free(t);
		ctx_self.in_hook--;
		RESTORE_ERRNO;
	}
}

/* S's record, made on first use; NULL without memory. */
static struct tls_conn *rec_get(const SSL *s)
{
	struct tls_conn *t = net_tls_find(s);
	if (t)
		return t;
	if (!real_get_fd) {
		real_get_fd = (int (*)(const SSL *))hooks_lib_sym(hooks_libs_ssl, "SSL_get_fd");
		real_is_server = (int (*)(const SSL *))hooks_lib_sym(hooks_libs_ssl, "SSL_is_server");
	}
	int fd = real_get_fd ? real_get_fd(s) : -1;
	return net_tls_make(s, fd, real_is_server ? real_is_server(s) == 1 : -1);
}

struct each {
	void (*fn)(int fd, struct net_conn *c, void *arg);
	void *arg;
};

static void each_one(struct ptrtab_node *n, void *arg)
{
	struct each *e = arg;
	struct tls_conn *t = rec_of(n);
	if (atomic_load_explicit(&t->c.kind, memory_order_relaxed) != NET_IN)
		return;
	net_lock(&t->c);
	e->fn(t->fd, &t->c, e->arg);
	net_unlock(&t->c);
}

void net_tls_each(void (*fn)(int fd, struct net_conn *c, void *arg), void *arg)
{
	struct each e = { fn, arg };
	/* A record leaves the table before it is freed (SSL_free): none goes
	 * while the table is held. */
	ptrtab_lock_all(&conns);
	ptrtab_each_locked(&conns, each_one, &e);
	ptrtab_unlock_all(&conns);
}

/* ---- reading -------------------------------------------------------------- */

void net_tls_read(struct tls_conn *t, const void *buf, size_t n)
{
	if (t && t->watched && atomic_load(&t->c.kind) == NET_IN) {
		ctx_self.in_hook++;
		net_lock(&t->c);
		net_rx(&t->c, buf, n);
		net_enter(&t->c);
		net_unlock(&t->c);
		ctx_self.in_hook--;
	}
}

void net_tls_enter(struct tls_conn *t)
{
	if (atomic_load(&t->c.kind) != NET_IN)
		return;
	KEEP_ERRNO;
	ctx_self.in_hook++;
	net_lock(&t->c);
	net_enter(&t->c);
	net_unlock(&t->c);
	ctx_self.in_hook--;
	RESTORE_ERRNO;
}

/* The program read N bytes (N may be 0: a failed read) into BUF from S. */
static void after_read(const SSL *s, const void *buf, size_t n)
{
	ctx_self.in_hook++;
	struct tls_conn *t = rec_get(s);
	ctx_self.in_hook--;
	net_tls_read(t, buf, n);
}

CTX_EXPORT int SSL_read(SSL *s, void *buf, int num)
{
	if (!net_tls_act())
		return SSL_REAL(SSL_read)(s, buf, num);
	net_tls_in++;
	int r = SSL_REAL(SSL_read)(s, buf, num);
	net_tls_in--;
	KEEP_ERRNO;
	after_read(s, buf, r > 0 ? (size_t)r : 0);
	RESTORE_ERRNO;
	return r;
}

CTX_EXPORT int SSL_read_ex(SSL *s, void *buf, size_t num, size_t *got)
{
	if (!net_tls_act())
		return SSL_REAL(SSL_read_ex)(s, buf, num, got);
	size_t mine = 0;
	net_tls_in++;
	int r = SSL_REAL(SSL_read_ex)(s, buf, num, got ? got : &mine);
	net_tls_in--;
	KEEP_ERRNO;
	after_read(s, buf, r == 1 ? (got ? *got : mine) : 0);
	RESTORE_ERRNO;
	return r;
}

/* Peeked bytes are read again later: never parsed here. */
CTX_EXPORT int SSL_peek(SSL *s, void *buf, int num)
{
	return SSL_REAL(SSL_peek)(s, buf, num);
}

CTX_EXPORT int SSL_peek_ex(SSL *s, void *buf, size_t num, size_t *got)
{
	return SSL_REAL(SSL_peek_ex)(s, buf, num, got);
}

/* kTLS: the file's bytes go from the kernel, unseen; the scanner would
 * lose its place in the output, so it stops following it (no more echo on
 * this connection; the requests read still get their contexts). */
CTX_EXPORT ossl_ssize_t SSL_sendfile(SSL *s, int fd, off_t off, size_t size, int flags)
{
	if (net_tls_act()) {
		KEEP_ERRNO;
		ctx_self.in_hook++;
		struct tls_conn *t = rec_get(s);
		if (t && t->watched) {
			net_lock(&t->c);
			t->c.tx_pass = 1;
			net_unlock(&t->c);
		}
		ctx_self.in_hook--;
		RESTORE_ERRNO;
	}
	net_tls_in++;
	ossl_ssize_t r = SSL_REAL(SSL_sendfile)(s, fd, off, size, flags);
	net_tls_in--;
	return r;
}

CTX_EXPORT void SSL_free(SSL *s)
{
	if (s && (net_cfg.http || net_cfg.propagate) && !net_tls_in)
		net_tls_forget(s);
	net_tls_in++;
	SSL_REAL(SSL_free)(s);
	net_tls_in--;
}

/* An SSL cleared for another connection, or given another socket, is a
 * new connection: its record goes, and the next read or write makes one
 * that learns the socket (SSL_get_fd). */
static void renew(SSL *s)
{
	if (s && (net_cfg.http || net_cfg.propagate) && !net_tls_in)
		net_tls_forget(s);
}

CTX_EXPORT int SSL_clear(SSL *s)
{
	renew(s);
	net_tls_in++;
	int r = SSL_REAL(SSL_clear)(s);
	net_tls_in--;
	return r;
}

CTX_EXPORT int SSL_set_fd(SSL *s, int fd)
{
	renew(s);
	net_tls_in++;
	int r = SSL_REAL(SSL_set_fd)(s, fd);
	net_tls_in--;
	return r;
}

CTX_EXPORT int SSL_set_rfd(SSL *s, int fd)
{
	renew(s);
	net_tls_in++;
	int r = SSL_REAL(SSL_set_rfd)(s, fd);
	net_tls_in--;
	return r;
}

CTX_EXPORT int SSL_set_wfd(SSL *s, int fd)
{
	renew(s);
	net_tls_in++;
	int r = SSL_REAL(SSL_set_wfd)(s, fd);
	net_tls_in--;
	return r;
}

/* ---- writing -------------------------------------------------------------- */

/* One real write of P[0,LEN) with the program's flavour of the call:
 * returns the real result (> 0: success), *W the bytes taken. */
static int tls_write_once(SSL *s, const void *p, size_t len, int ex, size_t *w)
{
	int r;
	net_tls_in++;
	if (ex) {
		*w = 0;
		r = SSL_REAL(SSL_write_ex)(s, p, len, w);
	} else {
		r = SSL_REAL(SSL_write)(s, p, (int)len);
		*w = r > 0 ? (size_t)r : 0;
	}
	net_tls_in--;
	return r;
}

struct ossl_io {
	SSL *s;
	int ex;
};

static long ossl_once(void *arg, const void *p, size_t len, size_t *w)
{
	struct ossl_io *io = arg;
	return tls_write_once(io->s, p, len, io->ex, w);
}

static int do_write(SSL *s, const void *buf, size_t n, int ex, size_t *total)
{
	ctx_self.in_hook++;
	struct tls_conn *t = rec_get(s);
	ctx_self.in_hook--;
	if (!t || !t->watched || !n || !buf)
		return tls_write_once(s, buf, n, ex, total);
	struct ossl_io io = { s, ex };
	int r = (int)net_tls_out(t, buf, n, total, ossl_once, &io);
	net_tls_enter(t);
	return r;
}

CTX_EXPORT int SSL_write(SSL *s, const void *buf, int num)
{
	if (!net_tls_act() || num <= 0)
		return SSL_REAL(SSL_write)(s, buf, num);
	size_t total;
	int r = do_write(s, buf, (size_t)num, 0, &total);
	return r > 0 ? (int)total : r;
}

CTX_EXPORT int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written)
{
	if (!net_tls_act() || !num)
		return SSL_REAL(SSL_write_ex)(s, buf, num, written);
	size_t total = 0;
	int r = do_write(s, buf, num, 1, &total);
	if (written)
		*written = r > 0 ? total : 0;
	return r;
}
