/*
 * uvloop_req.c: libuv requests (see uvloop.c for the scheme).  A request's
 * record is made when it is submitted and taken by its callback, before the
 * program's function runs, so the program may submit the same request struct
 * again from inside its callback.  libuv calls every accepted request's
 * callback exactly once (with UV_ECANCELED when cancelled); a request libuv
 * refuses (a negative return) has its record dropped at once.  A request
 * without a callback is synchronous and passes straight through.
 */
#include "uvloop.h"

static int bind_req(const void *req, uvn_fn cb, uvn_fn cb2)
{
	KEEP_ERRNO;
	struct ptrtab_node *stale = NULL;
	struct uvn *n = calloc(1, sizeof *n);
	if (n) {
		uvn_watch_fork();
		n->node.key = req;
		n->cb = cb;
		n->alloc = cb2;
		n->ctx = ctx_capture();
		struct ptrtab_shard *s = uvn_lock(req);
		int r = ptrtab_put_locked(s, &n->node, &stale);
		uvn_unlock(s);
		if (r < 0) {
			uvn_free(n);
			n = NULL;
		}
	}
	/* A record still there for this address belonged to a request whose
	 * memory the program reused without libuv finishing it: drop it. */
	uvn_free((struct uvn *)stale);
	RESTORE_ERRNO;
	return n != NULL;
}

static struct uvn *req_take(const void *req)
{
	struct ptrtab_shard *s = uvn_lock(req);
	struct uvn *n = (struct uvn *)ptrtab_take_locked(s, req);
	uvn_unlock(s);
	return n;
}

static void drop_req(const void *req)
{
	KEEP_ERRNO;
	uvn_free(req_take(req));
	RESTORE_ERRNO;
}

/* Run a request's (one-shot) callback in its context and end its record. */
#define REQ_RUN(req, type, ...) do { \
	struct uvn *n_ = req_take(req); \
	if (n_) { \
		int e_; \
		ctxshim_ctx_t *t_ = loop_enter(n_->ctx, &e_); \
		((type)n_->cb)(__VA_ARGS__); \
		loop_leave(t_, e_); \
		uvn_free(n_); \
	} \
} while (0)

static void write_run(uv_write_t *r, int st) { REQ_RUN(r, uv_write_cb, r, st); }
static void shutdown_run(uv_shutdown_t *r, int st) { REQ_RUN(r, uv_shutdown_cb, r, st); }
static void connect_run(uv_connect_t *r, int st) { REQ_RUN(r, uv_connect_cb, r, st); }
static void udp_send_run(uv_udp_send_t *r, int st) { REQ_RUN(r, uv_udp_send_cb, r, st); }
static void fs_run(uv_fs_t *r) { REQ_RUN(r, uv_fs_cb, r); }

static void getaddrinfo_run(uv_getaddrinfo_t *r, int st, struct addrinfo *res)
{
	REQ_RUN(r, uv_getaddrinfo_cb, r, st, res);
}

static void getnameinfo_run(uv_getnameinfo_t *r, int st, const char *host, const char *serv)
{
	REQ_RUN(r, uv_getnameinfo_cb, r, st, host, serv);
}

static void random_run(uv_random_t *r, int st, void *buf, size_t len)
{
	REQ_RUN(r, uv_random_cb, r, st, buf, len);
}

/* uv_queue_work: work_cb on a pool thread (the record stays), then
 * after_work_cb on the loop thread (the record ends, also when the program
 * gave none: libuv calls ours regardless). */
static void work_run(uv_work_t *r)
{
	struct uvn_run run;
	if (uvn_begin_req(r, &run)) {
		((uv_work_cb)run.fn)(r);
		uvn_end(&run);
	}
}

static void after_work_run(uv_work_t *r, int st)
{
	struct uvn *n = req_take(r);
	if (!n)
		return;
	if (n->alloc) {
		int e;
		ctxshim_ctx_t *t = loop_enter(n->ctx, &e);
		((uv_after_work_cb)n->alloc)(r, st);
		loop_leave(t, e);
	}
	uvn_free(n);
}

/* ---- hooks ------------------------------------------------------------- */

#define UNPAREN(...) __VA_ARGS__

/* MINE: our trampoline coming back through a tail call of libuv's own
 * (uv_write jumps to uv_write2): pass it through (see uvloop.c). */
#define SUBMIT(name, req, cb, cb2, mine, ours, theirs) do { \
	__typeof__(real_##name) real_ = UV_REAL(name); \
	if (unlikely(!real_)) \
		return UV_ENOSYS; \
	if (!cb || (uvn_fn)cb == (uvn_fn)mine || !uvn_act(LOOP_CALLER()) || \
	    !bind_req(req, (uvn_fn)cb, (uvn_fn)cb2)) \
		return real_ theirs; \
	int rc_ = real_ ours; \
	if (rc_ < 0) \
		drop_req(req); \
	return rc_; \
} while (0)

CTX_EXPORT int uv_queue_work(uv_loop_t *loop, uv_work_t *req, uv_work_cb work_cb,
			     uv_after_work_cb after_cb)
{
	SUBMIT(uv_queue_work, req, work_cb, after_cb, work_run, (loop, req, work_run, after_work_run),
	       (loop, req, work_cb, after_cb));
}

CTX_EXPORT int uv_write(uv_write_t *req, uv_stream_t *h, const uv_buf_t bufs[],
			unsigned int nbufs, uv_write_cb cb)
{
	SUBMIT(uv_write, req, cb, NULL, write_run, (req, h, bufs, nbufs, write_run),
	       (req, h, bufs, nbufs, cb));
}

CTX_EXPORT int uv_write2(uv_write_t *req, uv_stream_t *h, const uv_buf_t bufs[],
			 unsigned int nbufs, uv_stream_t *send, uv_write_cb cb)
{
	SUBMIT(uv_write2, req, cb, NULL, write_run, (req, h, bufs, nbufs, send, write_run),
	       (req, h, bufs, nbufs, send, cb));
}

CTX_EXPORT int uv_shutdown(uv_shutdown_t *req, uv_stream_t *h, uv_shutdown_cb cb)
{
	SUBMIT(uv_shutdown, req, cb, NULL, shutdown_run, (req, h, shutdown_run), (req, h, cb));
}

CTX_EXPORT int uv_tcp_connect(uv_connect_t *req, uv_tcp_t *h, const struct sockaddr *addr,
			      uv_connect_cb cb)
{
	SUBMIT(uv_tcp_connect, req, cb, NULL, connect_run, (req, h, addr, connect_run),
	       (req, h, addr, cb));
}

CTX_EXPORT int uv_udp_send(uv_udp_send_t *req, uv_udp_t *h, const uv_buf_t bufs[],
			   unsigned int nbufs, const struct sockaddr *addr, uv_udp_send_cb cb)
{
	SUBMIT(uv_udp_send, req, cb, NULL, udp_send_run, (req, h, bufs, nbufs, addr, udp_send_run),
	       (req, h, bufs, nbufs, addr, cb));
}

CTX_EXPORT int uv_getaddrinfo(uv_loop_t *loop, uv_getaddrinfo_t *req, uv_getaddrinfo_cb cb,
			      const char *node, const char *service, const struct addrinfo *hints)
{
	SUBMIT(uv_getaddrinfo, req, cb, NULL, getaddrinfo_run,
	       (loop, req, getaddrinfo_run, node, service, hints),
	       (loop, req, cb, node, service, hints));
}

CTX_EXPORT int uv_getnameinfo(uv_loop_t *loop, uv_getnameinfo_t *req, uv_getnameinfo_cb cb,
			      const struct sockaddr *addr, int flags)
{
	SUBMIT(uv_getnameinfo, req, cb, NULL, getnameinfo_run, (loop, req, getnameinfo_run, addr, flags),
	       (loop, req, cb, addr, flags));
}

CTX_EXPORT int uv_random(uv_loop_t *loop, uv_random_t *req, void *buf, size_t len,
			 unsigned int flags, uv_random_cb cb)
{
	SUBMIT(uv_random, req, cb, NULL, random_run, (loop, req, buf, len, flags, random_run),
	       (loop, req, buf, len, flags, cb));
}

/* libuv always calls a pipe connect's callback, errors included. */
CTX_EXPORT void uv_pipe_connect(uv_connect_t *req, uv_pipe_t *h, const char *name,
				uv_connect_cb cb)
{
	__typeof__(real_uv_pipe_connect) real = UV_REAL(uv_pipe_connect);
	if (unlikely(!real))
		return;
	if (!cb || cb == connect_run || !uvn_act(LOOP_CALLER()) ||
	    !bind_req(req, (uvn_fn)cb, NULL))
		real(req, h, name, cb);
	else
		real(req, h, name, connect_run);
}

/* Every uv_fs_* call: (name, its parameters between req and cb, their names). */
#define UV_FS_CALLS(X) \
	X(close, (uv_file f), (f)) \
	X(open, (const char *p, int fl, int m), (p, fl, m)) \
	X(read, (uv_file f, const uv_buf_t b[], unsigned int n, int64_t o), (f, b, n, o)) \
	X(unlink, (const char *p), (p)) \
	X(write, (uv_file f, const uv_buf_t b[], unsigned int n, int64_t o), (f, b, n, o)) \
	X(copyfile, (const char *p, const char *np, int fl), (p, np, fl)) \
	X(mkdir, (const char *p, int m), (p, m)) \
	X(mkdtemp, (const char *t), (t)) \
	X(mkstemp, (const char *t), (t)) \
	X(rmdir, (const char *p), (p)) \
	X(scandir, (const char *p, int fl), (p, fl)) \
	X(opendir, (const char *p), (p)) \
	X(readdir, (uv_dir_t *d), (d)) \
	X(closedir, (uv_dir_t *d), (d)) \
	X(stat, (const char *p), (p)) \
	X(fstat, (uv_file f), (f)) \
	X(lstat, (const char *p), (p)) \
	X(statfs, (const char *p), (p)) \
	X(rename, (const char *p, const char *np), (p, np)) \
	X(fsync, (uv_file f), (f)) \
	X(fdatasync, (uv_file f), (f)) \
	X(ftruncate, (uv_file f, int64_t o), (f, o)) \
	X(sendfile, (uv_file o, uv_file i, int64_t off, size_t len), (o, i, off, len)) \
	X(access, (const char *p, int m), (p, m)) \
	X(chmod, (const char *p, int m), (p, m)) \
	X(fchmod, (uv_file f, int m), (f, m)) \
	X(utime, (const char *p, double a, double m), (p, a, m)) \
	X(futime, (uv_file f, double a, double m), (f, a, m)) \
	X(lutime, (const char *p, double a, double m), (p, a, m)) \
	X(link, (const char *p, const char *np), (p, np)) \
	X(symlink, (const char *p, const char *np, int fl), (p, np, fl)) \
	X(readlink, (const char *p), (p)) \
	X(realpath, (const char *p), (p)) \
	X(chown, (const char *p, uv_uid_t u, uv_gid_t g), (p, u, g)) \
	X(fchown, (uv_file f, uv_uid_t u, uv_gid_t g), (f, u, g)) \
	X(lchown, (const char *p, uv_uid_t u, uv_gid_t g), (p, u, g))

#define UV_FS_HOOK(name, decl, args) \
CTX_EXPORT int uv_fs_##name(uv_loop_t *loop, uv_fs_t *req, UNPAREN decl, uv_fs_cb cb) \
{ \
	SUBMIT(uv_fs_##name, req, cb, NULL, fs_run, (loop, req, UNPAREN args, fs_run), \
	       (loop, req, UNPAREN args, cb)); \
}

UV_FS_CALLS(UV_FS_HOOK)
