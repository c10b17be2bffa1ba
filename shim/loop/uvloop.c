/*
 * uvloop.c: libuv.  Every callback the program hands libuv runs in the
 * context that was current when it was handed over.
 *
 * libuv's handles and requests are the program's own structs, and the
 * program owns their `data` field, so nothing of ours goes into them: what
 * we keep for one handle or request (the program's callbacks and the
 * captured context) sits in a side table keyed by its address.  libuv gets
 * our trampoline instead of the program's callback; the trampoline finds the
 * record by the handle or request libuv passes it, attaches the context and
 * calls the program's function with exactly the arguments libuv gave.
 *
 * Lifetimes: a request's record goes when its callback runs (libuv calls a
 * request's callback exactly once, also when cancelled) or when libuv
 * refuses the request; a handle's record goes in its close callback, which
 * libuv always calls after uv_close (we always pass one for a handle we
 * know).  Each start on a handle re-captures: the latest registration wins.
 *
 * uv_async_send: libuv folds the sends that come before one callback into
 * it; the callback runs in the context of the first of them.  The send hook
 * allocates nothing in copy mode, since libuv allows sends from signal
 * handlers.
 *
 * This file: handles.  uvloop_req.c: requests (write, connect, fs, work...).
 */
#define HOOKS_LIB_DEFINE /* this file defines the real_uv_* pointers */
#include "uvloop.h"

struct ptrtab uvn_tab = PTRTAB_INIT;

/* ---- the table ------------------------------------------------------- */

/* Our locks are taken with in_hook raised: a signal handler that interrupts
 * the holder and calls uv_async_send then passes straight through instead
 * of waiting on a lock its own thread holds. */
struct ptrtab_shard *uvn_lock(const void *key)
{
	struct ptrtab_shard *s = ptrtab_shard(&uvn_tab, key);
	ctx_self.in_hook++;
	pthread_mutex_lock(&s->lock);
	return s;
}

void uvn_unlock(struct ptrtab_shard *s)
{
	pthread_mutex_unlock(&s->lock);
	ctx_self.in_hook--;
}

void uvn_watch_fork(void)
{
	static atomic_int done;
	if (!atomic_load_explicit(&done, memory_order_acquire) &&
	    !atomic_exchange(&done, 1))
		ctx_fork_watch(&uvn_tab);
}

void uvn_free(struct uvn *n)
{
	if (!n)
		return;
	ctx_release(n->ctx);
	ctx_release(n->sent);
	ctx_release(n->close_ctx);
	free(n);
}

/* The record of KEY, made if missing (shard locked). */
static struct uvn *find_or_make(struct ptrtab_shard *s, const void *key)
{
	struct uvn *n = (struct uvn *)ptrtab_find_locked(s, key);
	struct ptrtab_node *old;
	if (n)
		return n;
	n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->node.key = key;
	if (ptrtab_put_locked(s, &n->node, &old) < 0) {
		free(n);
		return NULL;
	}
	return n;
}

/* The last handle this thread started or ran, and its record.  libuv's
 * handles are used by their loop's thread only (uv_async_send aside, which
 * does not come here), so this pair is used without the table's lock.  A
 * record goes only in close_run, which bumps closes: a pair cached before
 * any close since is still good, wherever the loop has been run meanwhile.
 * A timer started and fired each loop iteration skips both lookups. */
static atomic_uint closes;
static __thread const void *last_key CTX_TLS;
static __thread struct uvn *last_node CTX_TLS;
static __thread unsigned last_gen CTX_TLS;

static inline struct uvn *cached(const void *h)
{
	if (last_key == h && last_gen == atomic_load_explicit(&closes, memory_order_acquire))
		return last_node;
	return NULL;
}

static inline void cache(const void *h, struct uvn *n, unsigned gen)
{
	last_key = h;
	last_node = n;
	last_gen = gen;
}

static void forget(void)
{
	atomic_fetch_add_explicit(&closes, 1, memory_order_acq_rel);
	last_key = NULL;
}

/* A start on handle H: remember the program's callbacks and the context.
 * 0 when out of memory (the caller then hands libuv the program's own). */
int uvn_bind(const void *h, enum uvn_slot slot, uvn_fn cb, uvn_fn alloc)
{
	ctxshim_ctx_t *old = NULL;
	struct uvn *n = cached(h);
	if (!n) {
		KEEP_ERRNO;
		uvn_watch_fork();
		unsigned gen = atomic_load_explicit(&closes, memory_order_acquire);
		struct ptrtab_shard *s = uvn_lock(h);
		n = find_or_make(s, h);
		uvn_unlock(s);
		RESTORE_ERRNO;
		if (!n)
			return 0;
		cache(h, n, gen);
	}
	if (slot == UVN_CONN)
		n->conn = cb;
	else
		n->cb = cb;
	if (alloc)
		n->alloc = alloc;
	/* A restart from the same context (a timer re-armed from its own
	 * callback) keeps the reference it has. */
	if (!n->ctx || !ctx_is_current(n->ctx)) {
		KEEP_ERRNO;
		old = n->ctx;
		n->ctx = ctx_capture();
		ctx_release(old);
		RESTORE_ERRNO;
	}
	return 1;
}

/* A trampoline's first step: the program's function in SLOT, with the
 * handle's context attached.  0 when the handle is unknown. */
int uvn_begin(const void *h, enum uvn_slot slot, struct uvn_run *r)
{
	struct uvn *n = cached(h);
	if (!n) {
		unsigned gen = atomic_load_explicit(&closes, memory_order_acquire);
		struct ptrtab_shard *s = uvn_lock(h);
		n = (struct uvn *)ptrtab_find_locked(s, h);
		uvn_unlock(s);
		if (!n)
			return 0;
		cache(h, n, gen);
	}
	r->fn = slot == UVN_CONN ? n->conn : slot == UVN_ALLOC ? n->alloc : n->cb;
	if (r->fn)
		r->token = loop_enter(n->ctx, &r->entered);
	return r->fn != NULL;
}

/* The same for a request run on another thread (uv_queue_work's work_cb):
 * under the lock, never cached. */
int uvn_begin_req(const void *req, struct uvn_run *r)
{
	struct ptrtab_shard *s = uvn_lock(req);
	struct uvn *n = (struct uvn *)ptrtab_find_locked(s, req);
	r->fn = n ? n->cb : NULL;
	if (r->fn)
		r->token = loop_enter(n->ctx, &r->entered);
	uvn_unlock(s);
	return r->fn != NULL;
}

/* ---- handle trampolines ---------------------------------------------- */

#define RUN(h, slot, type, ...) do { \
	struct uvn_run r_; \
	if (uvn_begin(h, slot, &r_)) { \
		((type)r_.fn)(__VA_ARGS__); \
		uvn_end(&r_); \
	} \
} while (0)

static void timer_run(uv_timer_t *h) { RUN(h, UVN_MAIN, uv_timer_cb, h); }
static void idle_run(uv_idle_t *h) { RUN(h, UVN_MAIN, uv_idle_cb, h); }
static void prepare_run(uv_prepare_t *h) { RUN(h, UVN_MAIN, uv_prepare_cb, h); }
static void check_run(uv_check_t *h) { RUN(h, UVN_MAIN, uv_check_cb, h); }
static void poll_run(uv_poll_t *h, int st, int ev) { RUN(h, UVN_MAIN, uv_poll_cb, h, st, ev); }
static void signal_run(uv_signal_t *h, int sig) { RUN(h, UVN_MAIN, uv_signal_cb, h, sig); }
static void conn_run(uv_stream_t *h, int st) { RUN(h, UVN_CONN, uv_connection_cb, h, st); }

static void alloc_run(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
	RUN(h, UVN_ALLOC, uv_alloc_cb, h, size, buf);
}

static void read_run(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
	RUN(h, UVN_MAIN, uv_read_cb, h, n, buf);
}

static void recv_run(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
		     const struct sockaddr *addr, unsigned flags)
{
	RUN(h, UVN_MAIN, uv_udp_recv_cb, h, n, buf, addr, flags);
}

static void fs_event_run(uv_fs_event_t *h, const char *file, int ev, int st)
{
	RUN(h, UVN_MAIN, uv_fs_event_cb, h, file, ev, st);
}

static void fs_poll_run(uv_fs_poll_t *h, int st, const uv_stat_t *prev, const uv_stat_t *cur)
{
	RUN(h, UVN_MAIN, uv_fs_poll_cb, h, st, prev, cur);
}

/* The async callback: the first sender's context, else uv_async_init's. */
static void async_run(uv_async_t *h)
{
	struct uvn_run r = { 0 };
	ctxshim_ctx_t *sent = NULL;
	struct ptrtab_shard *s = uvn_lock(h);
	struct uvn *n = (struct uvn *)ptrtab_find_locked(s, h);
	if (n) {
		sent = n->sent;
		n->sent = NULL;
		r.fn = n->cb;
		r.token = loop_enter(sent ? sent : n->ctx, &r.entered);
	}
	uvn_unlock(s);
	if (r.fn) {
		((uv_async_cb)r.fn)(h);
		uvn_end(&r);
	}
	ctx_release(sent);
}

/* The close callback ends the handle's record. */
static void close_run(uv_handle_t *h)
{
	struct ptrtab_shard *s = uvn_lock(h);
	struct uvn *n = (struct uvn *)ptrtab_take_locked(s, h);
	uvn_unlock(s);
	if (!n)
		return;
	forget();
	if (n->close_cb) {
		struct uvn_run r = { .fn = (uvn_fn)n->close_cb };
		r.token = loop_enter(n->close_ctx, &r.entered);
		n->close_cb(h);   /* may free the handle's memory: h is not used after */
		uvn_end(&r);
	}
	uvn_free(n);
}

/* ---- handle hooks ------------------------------------------------------ */

/* MINE is our trampoline: libuv hands it back to a hook when one of its
 * functions tail-calls another (uv_timer_again jumps to uv_timer_start with
 * the handle's current callback), and then the return address is not
 * libuv's; it passes through like any call of libuv's own. */
#define START(name, h, slot, cb, alloc, mine, tramp, ...) do { \
	__typeof__(real_##name) real_ = UV_REAL(name); \
	if (unlikely(!real_)) \
		return UV_ENOSYS; \
	if (!cb || (uvn_fn)cb == (uvn_fn)mine || !uvn_act(LOOP_CALLER()) || \
	    !uvn_bind(h, slot, (uvn_fn)cb, (uvn_fn)alloc)) \
		return real_(__VA_ARGS__); \
	return real_ tramp; \
} while (0)

CTX_EXPORT int uv_timer_start(uv_timer_t *h, uv_timer_cb cb, uint64_t timeout, uint64_t repeat)
{
	START(uv_timer_start, h, UVN_MAIN, cb, NULL, timer_run, (h, timer_run, timeout, repeat),
	      h, cb, timeout, repeat);
}

CTX_EXPORT int uv_idle_start(uv_idle_t *h, uv_idle_cb cb)
{
	START(uv_idle_start, h, UVN_MAIN, cb, NULL, idle_run, (h, idle_run), h, cb);
}

CTX_EXPORT int uv_prepare_start(uv_prepare_t *h, uv_prepare_cb cb)
{
	START(uv_prepare_start, h, UVN_MAIN, cb, NULL, prepare_run, (h, prepare_run), h, cb);
}

CTX_EXPORT int uv_check_start(uv_check_t *h, uv_check_cb cb)
{
	START(uv_check_start, h, UVN_MAIN, cb, NULL, check_run, (h, check_run), h, cb);
}

CTX_EXPORT int uv_poll_start(uv_poll_t *h, int events, uv_poll_cb cb)
{
	START(uv_poll_start, h, UVN_MAIN, cb, NULL, poll_run, (h, events, poll_run), h, events, cb);
}

CTX_EXPORT int uv_signal_start(uv_signal_t *h, uv_signal_cb cb, int signum)
{
	START(uv_signal_start, h, UVN_MAIN, cb, NULL, signal_run, (h, signal_run, signum), h, cb, signum);
}

CTX_EXPORT int uv_signal_start_oneshot(uv_signal_t *h, uv_signal_cb cb, int signum)
{
	START(uv_signal_start_oneshot, h, UVN_MAIN, cb, NULL, signal_run, (h, signal_run, signum),
	      h, cb, signum);
}

CTX_EXPORT int uv_fs_event_start(uv_fs_event_t *h, uv_fs_event_cb cb, const char *path,
				 unsigned int flags)
{
	START(uv_fs_event_start, h, UVN_MAIN, cb, NULL, fs_event_run, (h, fs_event_run, path, flags),
	      h, cb, path, flags);
}

CTX_EXPORT int uv_fs_poll_start(uv_fs_poll_t *h, uv_fs_poll_cb cb, const char *path,
				unsigned int interval)
{
	START(uv_fs_poll_start, h, UVN_MAIN, cb, NULL, fs_poll_run, (h, fs_poll_run, path, interval),
	      h, cb, path, interval);
}

CTX_EXPORT int uv_listen(uv_stream_t *h, int backlog, uv_connection_cb cb)
{
	START(uv_listen, h, UVN_CONN, cb, NULL, conn_run, (h, backlog, conn_run), h, backlog, cb);
}

/* A NULL alloc or read callback is the program's error: libuv's answer. */
CTX_EXPORT int uv_read_start(uv_stream_t *h, uv_alloc_cb alloc, uv_read_cb cb)
{
	uvn_fn cbs = alloc ? (uvn_fn)cb : NULL;
	START(uv_read_start, h, UVN_MAIN, cbs, alloc, read_run, (h, alloc_run, read_run), h, alloc, cb);
}

CTX_EXPORT int uv_udp_recv_start(uv_udp_t *h, uv_alloc_cb alloc, uv_udp_recv_cb cb)
{
	uvn_fn cbs = alloc ? (uvn_fn)cb : NULL;
	START(uv_udp_recv_start, h, UVN_MAIN, cbs, alloc, recv_run, (h, alloc_run, recv_run),
	      h, alloc, cb);
}

CTX_EXPORT int uv_async_init(uv_loop_t *loop, uv_async_t *h, uv_async_cb cb)
{
	__typeof__(real_uv_async_init) real = UV_REAL(uv_async_init);
	if (unlikely(!real))
		return UV_ENOSYS;
	if (!cb || cb == async_run || !uvn_act(LOOP_CALLER()) ||
	    !uvn_bind(h, UVN_MAIN, (uvn_fn)cb, NULL))
		return real(loop, h, cb);
	int rc = real(loop, h, async_run);
	if (rc < 0) {
		struct uvn *n = (struct uvn *)ptrtab_take(&uvn_tab, h);
		if (n)
			forget();
		uvn_free(n);
	}
	return rc;
}

CTX_EXPORT int uv_async_send(uv_async_t *h)
{
	__typeof__(real_uv_async_send) real = UV_REAL(uv_async_send);
	if (unlikely(!real))
		return UV_ENOSYS;
	if (!uvn_act(LOOP_CALLER()))
		return real(h);
	KEEP_ERRNO;
	/* Copy mode: a reference on the sender's map, no allocation; and the
	 * sender still holds its map, so the release below never frees. */
	ctxshim_ctx_t *c = ctx_capture();
	struct ptrtab_shard *s = uvn_lock(h);
	struct uvn *n = (struct uvn *)ptrtab_find_locked(s, h);
	if (n && !n->sent) {
		n->sent = c;
		c = NULL;
	}
	uvn_unlock(s);
	ctx_release(c);
	RESTORE_ERRNO;
	return real(h);
}

/* Record the close callback and its context; 0 when there is nothing to
 * keep (a handle we never saw, closed without a callback). */
static int bind_close(uv_handle_t *h, uv_close_cb cb)
{
	KEEP_ERRNO;
	ctxshim_ctx_t *c = cb ? ctx_capture() : NULL, *old = NULL;
	struct ptrtab_shard *s = uvn_lock(h);
	struct uvn *n = (struct uvn *)ptrtab_find_locked(s, h);
	if (!n && cb) {
		uvn_watch_fork();
		n = find_or_make(s, h);
	}
	if (n) {
		n->close_cb = cb;
		old = n->close_ctx;
		n->close_ctx = c;
		c = NULL;
	}
	uvn_unlock(s);
	ctx_release(old);
	ctx_release(c);
	RESTORE_ERRNO;
	return n != NULL;
}

CTX_EXPORT void uv_close(uv_handle_t *h, uv_close_cb cb)
{
	__typeof__(real_uv_close) real = UV_REAL(uv_close);
	if (unlikely(!real))
		return;
	if (cb == close_run || !uvn_act(LOOP_CALLER()) || !bind_close(h, cb)) {
		real(h, cb);
		return;
	}
	real(h, close_run);
}

CTX_EXPORT int uv_tcp_close_reset(uv_tcp_t *h, uv_close_cb cb)
{
	__typeof__(real_uv_tcp_close_reset) real = UV_REAL(uv_tcp_close_reset);
	if (unlikely(!real))
		return UV_ENOSYS;
	/* On failure the handle stays open; a later uv_close rebinds. */
	if (cb == close_run || !uvn_act(LOOP_CALLER()) || !bind_close((uv_handle_t *)h, cb))
		return real(h, cb);
	return real(h, close_run);
}
